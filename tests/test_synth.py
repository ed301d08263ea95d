"""Tests of the synthetic study generator :mod:`dss.synth`."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import yaml

from dss.data.schema import ACTION_TARGETS, TABLES, ZONES, Table
from dss.errors import DssError
from dss.synth import (
    ACTION_TEMPLATES,
    StudyExistsError,
    SynthError,
    generate_study,
    synthetic_model_config,
    write_study,
)
from dss.synth.tree import _path_reduce, _preorder, _random_tree, _subtree_sizes

N = 600
SEED = 3
AGENCIES = {"forestry", "environment", "water", "natural_resources"}


@pytest.fixture(scope="module")
def study() -> dict[str, pd.DataFrame]:
    return generate_study(N, SEED)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "study"
    write_study(out, N, SEED)
    return out


def _read_text(folder: Path, table: Table) -> pd.DataFrame:
    """A written table as raw strings (empty cells stay empty strings)."""
    return pd.read_csv(folder / table.file, dtype=str, keep_default_na=False, encoding="utf-8")


def _parse(text: pd.DataFrame, table: Table) -> pd.DataFrame:
    """Raw CSV strings converted to the declared types (empty -> missing)."""
    out = {}
    for col in table.columns:
        cells = text[col.name]
        if col.dtype == "float":
            out[col.name] = pd.to_numeric(cells.replace("", np.nan)).astype(float)
        elif col.dtype == "int":
            out[col.name] = cells.astype(np.int64)
        elif col.dtype == "bool":
            assert set(cells) <= {"true", "false"}, col.name
            out[col.name] = cells == "true"
        else:
            out[col.name] = cells.where(cells != "", None).astype(object)
    return pd.DataFrame(out)


def _check_conforms(table: Table, df: pd.DataFrame) -> None:
    """Assert that a generated frame satisfies every declaration of ``table``."""
    assert list(df.columns) == table.names
    for col in table.columns:
        values = df[col.name]
        missing = values.isna()
        if not col.nullable:
            assert not missing.any(), f"{table.name}.{col.name} has empty cells"
        present = values[~missing]
        if col.dtype == "float":
            assert values.dtype.kind == "f", (table.name, col.name, values.dtype)
            assert np.isfinite(present.to_numpy()).all()
        elif col.dtype == "int":
            assert values.dtype.kind == "i", (table.name, col.name, values.dtype)
        elif col.dtype == "bool":
            assert values.dtype.kind == "b", (table.name, col.name, values.dtype)
        else:
            assert all(isinstance(v, str) for v in present), (table.name, col.name)
        if col.minimum is not None:
            assert (present >= col.minimum).all(), (table.name, col.name, present.min())
        if col.maximum is not None:
            assert (present <= col.maximum).all(), (table.name, col.name, present.max())
        if col.allowed is not None:
            assert set(present) <= set(col.allowed), (table.name, col.name, set(present))
    assert not df.duplicated(list(table.key)).any(), f"duplicate keys in {table.name}"


def _graph(subunits: pd.DataFrame) -> nx.DiGraph:
    graph = nx.DiGraph()
    graph.add_nodes_from(subunits["subunit_id"])
    links = subunits.dropna(subset=["downstream_id"])
    graph.add_edges_from(zip(links["subunit_id"], links["downstream_id"], strict=True))
    return graph


def test_every_table_with_exactly_the_declared_columns(study):
    assert list(study) == list(TABLES)
    for name, table in TABLES.items():
        assert list(study[name].columns) == table.names


@pytest.mark.parametrize("name", list(TABLES))
@pytest.mark.parametrize(("n", "seed"), [(N, SEED), (1, 0), (2, 5), (137, 11)])
def test_tables_conform_to_schema(name, n, seed, study):
    tables = study if (n, seed) == (N, SEED) else generate_study(n, seed)
    _check_conforms(TABLES[name], tables[name])
    assert len(tables[name]) > 0 or name in ("species_habitat", "barriers", "barrier_options")


def test_written_csv_round_trips_exactly(study, folder):
    for name, table in TABLES.items():
        parsed = _parse(_read_text(folder, table), table)
        pd.testing.assert_frame_equal(parsed, study[name], check_dtype=False, obj=name)


def test_cross_references(study):
    ids = set(study["subunits"]["subunit_id"])
    classes = set(study["land_classes"]["land_class"])
    species = set(study["species"]["species"])
    downstream = study["subunits"]["downstream_id"].dropna()
    assert set(downstream) <= ids
    for name in ("land_cover", "point_sources", "species_habitat", "control_points",
                 "barriers"):
        assert set(study[name]["subunit_id"]) <= ids, name
    assert set(study["land_cover"]["land_class"]) <= classes
    assert set(study["species_habitat"]["species"]) <= species
    actions = study["actions"]
    assert set(actions["applies_to"]) <= classes | set(ACTION_TARGETS)
    assert set(actions["leads_to"].dropna()) <= classes
    assert set(actions["habitat_species"].dropna()) <= species
    assert set(actions["agency"]) <= AGENCIES
    on_land = actions["applies_to"].isin(classes)
    assert (actions.loc[on_land, "unit"] == "ha").all()


def test_tree_is_a_single_arborescence_towards_the_outlet(study):
    subunits = study["subunits"]
    graph = _graph(subunits)
    assert nx.is_directed_acyclic_graph(graph)
    assert max(d for _, d in graph.out_degree()) <= 1
    outlets = [u for u, d in graph.out_degree() if d == 0]
    assert outlets == [subunits["subunit_id"].iloc[0]] == ["S001"]
    assert len(nx.ancestors(graph, outlets[0])) == N - 1
    assert nx.is_arborescence(graph.reverse(copy=False))
    # Edges point to a smaller index, and the tree has long chains, not a star.
    index = {sid: i for i, sid in enumerate(subunits["subunit_id"])}
    assert all(index[v] < index[u] for u, v in graph.edges)
    depth = nx.shortest_path_length(graph.reverse(copy=False), outlets[0])
    assert 20 <= max(depth.values()) <= N // 2


def test_tree_helpers_match_networkx():
    n = 300
    parent = _random_tree(np.random.default_rng(7), n)
    depth = _path_reduce(parent, (np.arange(n) > 0).astype(np.int64), np.add)
    size = _subtree_sizes(parent, depth)
    pre = _preorder(parent, size)
    down = nx.DiGraph()  # edges from the outlet upstream, children in index order
    down.add_nodes_from(range(n))
    down.add_edges_from((int(p), i) for i, p in enumerate(parent) if p >= 0)
    assert depth.tolist() == [nx.shortest_path_length(down, 0, i) for i in range(n)]
    assert size.tolist() == [1 + len(nx.descendants(down, i)) for i in range(n)]
    assert np.argsort(pre).tolist() == list(nx.dfs_preorder_nodes(down, 0))


def test_land_cover_sums_to_area_exactly_as_written(folder):
    subunits = _read_text(folder, TABLES["subunits"])
    cover = _read_text(folder, TABLES["land_cover"])
    assert (cover["area_ha"].map(Decimal) > 0).all()
    totals = cover.assign(a=cover["area_ha"].map(Decimal)).groupby("subunit_id")["a"].sum()
    area = subunits.set_index("subunit_id")["area_ha"].map(Decimal)
    assert totals.index.sort_values().equals(area.index.sort_values())
    assert (totals.reindex(area.index) == area).all()
    per_subunit = cover.groupby("subunit_id").size()
    assert per_subunit.between(3, 6).all()


def test_zone_shares_sum_to_one_exactly_as_written(folder):
    subunits = _read_text(folder, TABLES["subunits"])
    total = sum(subunits[f"share_{z}"].map(Decimal) for z in ZONES)
    assert (total == Decimal(1)).all()


def test_habitat_fits_in_natural_land(study):
    cover = study["land_cover"]
    natural = (cover[cover["land_class"].isin(["forest", "shrub", "grassland"])]
               .groupby("subunit_id")["area_ha"].sum())
    habitat = study["species_habitat"]
    assert len(habitat) > 0
    assert (habitat["habitat_ha"] > 0).all()
    assert (habitat["habitat_ha"].to_numpy()
            <= natural.reindex(habitat["subunit_id"]).to_numpy() + 1e-9).all()


def test_plausible_contents(study):
    subunits = study["subunits"]
    assert 3 <= len(study["species"]) <= 5
    assert subunits["township"].nunique() == round(N / 50)
    assert 500 <= subunits["area_ha"].median() <= 2000
    assert (subunits["population"] == 0).mean() > 0.3
    assert subunits["usle_r"].between(2000, 6000).all()
    assert subunits["usle_k"].between(0.02, 0.04).all()
    assert subunits["usle_ls"].between(2, 20).all()
    assert subunits["sdr"].between(0.05, 0.4).all()
    reservoirs = subunits["retention_sediment"] >= 0.5
    assert reservoirs.sum() == round(0.01 * N)
    assert (subunits.loc[~reservoirs, "retention_sediment"] <= 0.05).all()
    assert (subunits[["retention_tn", "retention_tp"]] <= 0.1).all().all()
    points = study["control_points"]
    outlet = points[points["kind"] == "outlet"]
    assert outlet["subunit_id"].tolist() == [subunits["subunit_id"].iloc[0]]
    assert set(points.loc[points["kind"] == "reservoir", "subunit_id"]) == set(
        subunits.loc[reservoirs, "subunit_id"])
    assert points[["limit_sediment", "limit_tn", "limit_tp"]].isna().all().all()
    inhabited = set(subunits.loc[subunits["population"] > 0, "subunit_id"])
    sources = study["point_sources"]
    resident = sources[sources["kind"] == "resident"]
    assert set(resident["subunit_id"]) == inhabited
    assert resident["subunit_id"].is_unique
    assert len(study["barriers"]) == round(0.05 * N)
    assert len(study["land_classes"]) == 8


def test_default_actions_cover_every_kind(study):
    actions = study["actions"]
    assert len(actions) == 8
    assert set(ACTION_TARGETS) <= set(actions["applies_to"])
    assert {"cropland", "landslide_scar", "shrub", "forest"} <= set(actions["applies_to"])
    patrol = actions[actions["habitat_gain"] > 0]
    assert patrol["habitat_species"].tolist() == [study["species"]["species"].iloc[0]]
    assert actions.loc[actions["applies_to"].isin(["barriers", "hazard_sites"]),
                       "integer"].all()
    assert actions.loc[actions["applies_to"] == "point_sources", "fixed_cost"].gt(0).all()
    assert actions["usle_c_after"].notna().any()


def test_many_actions_cycle_with_suffixed_ids():
    n = 2 * len(ACTION_TEMPLATES) + 3
    tables = generate_study(40, 1, n_actions=n)
    actions = tables["actions"]
    _check_conforms(TABLES["actions"], actions)
    assert len(actions) == n
    assert actions["action_id"].iloc[len(ACTION_TEMPLATES)] == (
        ACTION_TEMPLATES[0]["action_id"] + "_2")
    assert actions["action_id"].iloc[-1] == ACTION_TEMPLATES[2]["action_id"] + "_3"
    one = generate_study(40, 1, n_actions=1)["actions"]
    assert one["action_id"].tolist() == [ACTION_TEMPLATES[0]["action_id"]]


def test_same_seed_gives_identical_frames_and_bytes(study, folder, tmp_path):
    again = generate_study(N, SEED)
    for name in TABLES:
        pd.testing.assert_frame_equal(again[name], study[name])
    write_study(tmp_path / "again", N, SEED)
    for table in TABLES.values():
        assert (tmp_path / "again" / table.file).read_bytes() == (
            folder / table.file).read_bytes(), table.file
    assert (tmp_path / "again" / "model.yaml").read_bytes() == (
        folder / "model.yaml").read_bytes()


def test_different_seed_gives_different_study(study):
    other = generate_study(N, SEED + 1)
    for name in ("subunits", "land_cover", "species_habitat", "barriers"):
        assert not other[name].equals(study[name]), name
    assert not other["subunits"]["downstream_id"].equals(study["subunits"]["downstream_id"])


def test_write_study_model_yaml(folder):
    config = yaml.safe_load((folder / "model.yaml").read_text(encoding="utf-8"))
    assert config == synthetic_model_config(None, N, SEED)
    assert config["name"] == f"synth_{N}_s{SEED}"
    assert config["inputs"] == "."
    assert config["description"]
    assert {p.name for p in folder.iterdir()} == {t.file for t in TABLES.values()} | {
        "model.yaml"}


def test_write_study_refuses_existing_study_unless_overwrite(tmp_path):
    path = write_study(tmp_path / "s", 20, 0, name="tiny")
    assert path == tmp_path / "s" / "model.yaml"
    assert yaml.safe_load(path.read_text(encoding="utf-8"))["name"] == "tiny"
    with pytest.raises(StudyExistsError) as err:
        write_study(tmp_path / "s", 30, 1)
    assert isinstance(err.value, DssError) and isinstance(err.value, FileExistsError)
    assert "subunits.csv" in str(err.value)
    assert len(pd.read_csv(tmp_path / "s" / "subunits.csv")) == 20
    write_study(tmp_path / "s", 30, 1, overwrite=True)
    assert len(pd.read_csv(tmp_path / "s" / "subunits.csv")) == 30
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(SynthError):
        write_study(tmp_path / "file", 5)


@pytest.mark.parametrize(("kwargs"), [dict(n_subunits=0), dict(n_subunits=-3),
                                      dict(n_subunits=10, seed=-1),
                                      dict(n_subunits=10, n_actions=0),
                                      dict(n_subunits=2.5)])
def test_bad_arguments_are_reported(kwargs):
    with pytest.raises(SynthError):
        generate_study(**kwargs)


def test_ids_are_padded_to_the_needed_width():
    assert generate_study(9)["subunits"]["subunit_id"].tolist()[:2] == ["S1", "S2"]
    ids = generate_study(10)["subunits"]["subunit_id"]
    assert ids.iloc[0] == "S01" and ids.iloc[-1] == "S10"


def test_one_hundred_thousand_subunits():
    tables = generate_study(100_000, 0)
    subunits = tables["subunits"]
    assert len(subunits) == 100_000
    assert subunits["subunit_id"].iloc[-1] == "S100000"
    assert subunits["downstream_id"].isna().sum() == 1
    assert subunits["subunit_id"].is_unique
    assert len(tables["land_cover"]) >= 3 * 100_000


def test_written_study_passes_the_study_loader(folder):
    study_module = pytest.importorskip("dss.data.study")
    loaded = study_module.load_study(folder)
    assert len(loaded.subunits) == N
