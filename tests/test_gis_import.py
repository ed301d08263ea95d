"""``dss import`` on real data (Nytorp HYPE, Ebro HydroRIVERS) and on broken layers.

The data are copies in tests/data/gis (see its README for source and licence). Expected
values are recomputed here from the source files, independently of dss.gis.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

gpd = pytest.importorskip("geopandas")

from dss.cli import app  # noqa: E402
from dss.data.study import load_study  # noqa: E402

DATA = Path(__file__).resolve().parent / "data" / "gis"
NYTORP = DATA / "nytorp_hype"
EBRO = DATA / "ebro_hydrorivers" / "Ebro_rivers.shp"
RUNNER = CliRunner()


def run(*args: object):
    return RUNNER.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def nytorp(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("nytorp") / "nytorp"
    result = run("import", "hype", NYTORP / "GeoData.txt", out, "--geoclass",
                 NYTORP / "GeoClass.txt", "--polygons", NYTORP / "Nytorp_map.gpkg",
                 "--polygon-id", "SUBID2016")
    assert result.exit_code == 0, result.output
    return out


def test_nytorp_tree_areas_and_land_cover(nytorp: Path) -> None:
    study = load_study(nytorp)
    geodata = pd.read_csv(NYTORP / "GeoData.txt", sep="\t")
    sub = study.subunits.set_index("subunit_id")
    assert len(sub) == 25
    outlets = sub.index[sub["downstream_id"].isna()].tolist()
    assert outlets == ["3587"]
    assert nx.ancestors(study.graph, "3587") == set(sub.index) - {"3587"}
    area = geodata.set_index(geodata["SUBID"].astype(str))["AREA"] / 1e4
    np.testing.assert_allclose(sub.loc[area.index, "area_ha"], area, rtol=1e-12)
    # Land cover: SLC fractions x AREA summed per land use (GeoClass: SLC 1-2 water, 3 and 6
    # agricultural land, 4-5 coniferous forest), the fractions scaled to sum to exactly 1.
    uses = {"water": [1, 2], "agricultural_land": [3, 6], "coniferous_forest": [4, 5]}
    cover = study.land_cover.set_index(["subunit_id", "land_class"])["area_ha"]
    for _, row in geodata.iterrows():
        for klass, slcs in uses.items():
            total = sum(row[f"SLC_{s}"] for s in range(1, 7))
            expected = row["AREA"] / 1e4 * sum(row[f"SLC_{s}"] for s in slcs) / total
            got = cover.get((str(int(row["SUBID"])), klass), 0.0)
            assert got == pytest.approx(expected, rel=1e-9, abs=1e-9)
    layers = gpd.list_layers(nytorp / "subunits.gpkg")
    assert "subunits" in set(layers["name"])
    polygons = gpd.read_file(nytorp / "subunits.gpkg", layer="subunits")
    assert polygons.crs.to_epsg() == 3006
    assert sorted(polygons["subunit_id"]) == sorted(sub.index)
    report = (nytorp / "IMPORT_REPORT.md").read_text(encoding="utf-8")
    assert "## Assumed" in report and "usle_r" in report and "SUBID 3587 drains to" in report


def test_nytorp_validates_solves_and_writes_plan_gpkg(nytorp: Path, tmp_path: Path) -> None:
    import pyogrio

    assert run("validate", nytorp).exit_code == 0
    result = run("solve", nytorp, "--out", tmp_path)
    assert result.exit_code == 0, result.output
    folder = tmp_path / "nytorp" / "base"
    table = pd.read_csv(folder / "subunits.csv", dtype={"subunit_id": str})
    plan = pyogrio.read_dataframe(folder / "plan.gpkg", layer="subunits")
    assert plan.crs.to_epsg() == 3006 and len(plan) == 25
    plan = plan.set_index("subunit_id")
    for rec in table.itertuples(index=False):
        for part in ("before", "after", "change"):
            assert plan.loc[rec.subunit_id, f"{rec.metric}_{part}"] == \
                pytest.approx(getattr(rec, part), rel=1e-12, abs=1e-12)
        assert plan.loc[rec.subunit_id, "zone"] == rec.zone
    allocation = pd.read_csv(folder / "allocation.csv", dtype={"subunit_id": str})
    funded = pyogrio.read_dataframe(folder / "plan.gpkg", layer="allocation")
    assert funded["cost_cny"].sum() == pytest.approx(allocation["cost_cny"].sum())
    points = pyogrio.read_dataframe(folder / "plan.gpkg", layer="control_points")
    cps = pd.read_csv(folder / "control_points.csv")
    assert points.loc[0, "sediment_after"] == pytest.approx(
        cps.loc[cps["pollutant"] == "sediment", "after"].iloc[0])
    manifest = (folder / "manifest.yaml").read_text(encoding="utf-8")
    assert "plan.gpkg" in manifest  # hashed with the other outputs
    assert not [p for p in folder.iterdir() if "scratch" in p.name]
    # The baseline: one column per indicator.
    assert run("baseline", nytorp, "--out", tmp_path).exit_code == 0
    base = tmp_path / "nytorp" / "baseline"
    indicators = pd.read_csv(base / "subunits.csv", dtype={"subunit_id": str})
    layer = pyogrio.read_dataframe(base / "plan.gpkg", layer="subunits").set_index("subunit_id")
    erosion = indicators[indicators["metric"] == "gross_erosion"].set_index("subunit_id")
    np.testing.assert_allclose(layer.loc[erosion.index, "gross_erosion"], erosion["value"],
                               rtol=1e-12)
    # A second scenario and dss compare: spend per scenario on the same polygons.
    assert run("solve", nytorp, "--out", tmp_path, "--set", "components.budget.total=2e6",
               "--run-name", "more").exit_code == 0
    out = tmp_path / "cmp"
    result = run("compare", folder, tmp_path / "nytorp" / "more", "--out", out)
    assert result.exit_code == 0, result.output
    both = pyogrio.read_dataframe(out / "plan.gpkg", layer="subunits").set_index("subunit_id")
    spend = table[table["metric"] == "spend"].set_index("subunit_id")["after"]
    np.testing.assert_allclose(both.loc[spend.index, "spend_base"], spend, rtol=1e-9)
    np.testing.assert_allclose(both["delta_more"], both["spend_more"] - both["spend_base"])


def test_nytorp_duplicate_polygon_ids_are_located(tmp_path: Path) -> None:
    out = tmp_path / "bad"
    result = run("import", "hype", NYTORP / "GeoData.txt", out, "--polygons",
                 NYTORP / "Nytorp_map.gpkg")  # default --polygon-id SUBID: 0 five times
    assert result.exit_code == 2
    assert "Nytorp_map.gpkg (layer Nytorp_map), feature 16, column SUBID" in result.output
    assert "used by 5 features" in result.output
    assert not out.exists()


@pytest.fixture(scope="module")
def ebro(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ebro") / "ebro"
    result = run("import", "hydrorivers", EBRO, out, "--by", "HYBAS_L12")
    assert result.exit_code == 0, result.output
    return out


def test_ebro_by_level12_matches_upland_area(ebro: Path) -> None:
    study = load_study(ebro)
    reaches = gpd.read_file(EBRO)
    assert len(study.subunits) == reaches["HYBAS_L12"].nunique() == 637
    assert nx.is_directed_acyclic_graph(study.graph)
    outlet_reach = reaches.loc[reaches["HYRIV_ID"] == 20598415].iloc[0]
    group = str(outlet_reach["HYBAS_L12"])
    area = study.subunits.set_index("subunit_id")["area_ha"]
    upstream = nx.ancestors(study.graph, group) | {group}
    draining_km2 = area[list(upstream)].sum() / 100.0
    assert outlet_reach["UPLAND_SKM"] == pytest.approx(84762.1)
    assert draining_km2 == pytest.approx(84762.1, rel=0.01)


def test_ebro_upstream_sets_match_a_walk_of_next_down(ebro: Path) -> None:
    """Group A is upstream of group B iff a reach of A flows, following NEXT_DOWN, through a
    reach of B: recomputed here by walking every reach to its outlet."""
    study = load_study(ebro)
    reaches = gpd.read_file(EBRO)
    down = dict(zip(reaches["HYRIV_ID"], reaches["NEXT_DOWN"], strict=True))
    group = {r: str(g) for r, g in zip(reaches["HYRIV_ID"], reaches["HYBAS_L12"], strict=True)}
    walked: dict[str, set[str]] = {g: {g} for g in group.values()}
    for reach in down:
        node, seen = reach, set()
        while node in down:
            seen.add(group[node])
            node = down[node]
        for g in seen:
            walked[g].add(group[reach])
    for g in walked:
        assert nx.ancestors(study.graph, g) | {g} == walked[g], g


def test_ebro_reaches_as_subunits(tmp_path: Path) -> None:
    out = tmp_path / "reaches"
    assert run("import", "hydrorivers", EBRO, out).exit_code == 0
    study = load_study(out)
    assert len(study.subunits) == 4985
    assert sorted(study.subunits.loc[study.subunits["downstream_id"].isna(), "subunit_id"]) == \
        sorted(["20551541", "20551654", "20551747", "20552152", "20598415"])
    rivers = gpd.read_file(out / "subunits.gpkg", layer="rivers")
    assert len(rivers) == 4985 and rivers["order"].max() >= 5


def test_plot_draws_a_map_when_the_study_has_geometry(nytorp: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from dss.results.maps import nice_length

    assert run("solve", nytorp, "--out", tmp_path).exit_code == 0
    folder = tmp_path / "nytorp" / "base"
    result = run("plot", folder, "--color-by", "sediment_local:change", "--format", "png,svg")
    assert result.exit_code == 0, result.output
    assert (folder / "map_sediment_local_change.png").stat().st_size > 10_000
    svg = (folder / "map_sediment_local_change.svg").read_text(encoding="utf-8")
    assert "km" in svg and "t/yr" in svg  # scale bar and the legend's unit
    assert not list(folder.glob("network*"))  # the schematic is for studies without geometry
    assert [nice_length(w) for w in (9_000.0, 120_000.0, 4.0)] == [1000.0, 20000.0, 1.0]


def test_hype_errors_are_located_by_file_line(tmp_path: Path) -> None:
    text = (NYTORP / "GeoData.txt").read_text(encoding="utf-8").splitlines()
    header, rows = text[0], text[1:]
    cols = header.split("\t")
    bad = [r.split("\t") for r in rows]
    bad[0][cols.index("AREA")] = "lots"           # file line 3 (a comment line comes first)
    bad[1][cols.index("SLC_1")] = "0.5"           # fractions no longer sum to 1: line 4
    bad[2][cols.index("MAINDOWN")] = bad[2][0]    # drains into itself: line 5
    lines = ["!! Nytorp GeoData, edited to be wrong", header, *("\t".join(r) for r in bad)]
    geodata = tmp_path / "GeoData.txt"
    geodata.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "o"
    result = run("import", "hype", geodata, out)
    assert result.exit_code == 2, result.output
    assert "GeoData.txt, row 3, column AREA: 'lots' is not a number" in result.output
    assert "GeoData.txt, row 4, column SLC_1: SLC fractions of SUBID 3396" in result.output
    assert "GeoData.txt, row 5 (SUBID 3407), column MAINDOWN: the feature drains into itself" \
        in result.output
    assert not out.exists()


def test_hype_polygon_id_hint(tmp_path: Path) -> None:
    result = run("import", "hype", NYTORP / "GeoData.txt", tmp_path / "o", "--polygons",
                 NYTORP / "Nytorp_map.gpkg")
    assert result.exit_code == 2
    assert "pass --polygon-id SUBID2016" in result.output


def test_ebro_run_map_and_plan_on_river_lines(ebro: Path, tmp_path: Path) -> None:
    """A study whose subunits are lines (grouped reaches): the plan and map still work."""
    import pyogrio

    pytest.importorskip("matplotlib")
    assert run("solve", ebro, "--out", tmp_path).exit_code == 0
    folder = tmp_path / "ebro" / "base"
    layers = dict(pyogrio.list_layers(folder / "plan.gpkg"))
    assert layers["subunits"] == "MultiLineString" and layers["rivers"] == "LineString"
    result = run("plot", folder, "--color-by", "sediment_outflow:before")
    assert result.exit_code == 0, result.output
    assert (folder / "map_sediment_outflow_before.png").stat().st_size > 10_000
