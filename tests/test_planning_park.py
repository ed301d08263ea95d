"""The Baoxing park design (``models/baoxing_park.yaml``) through ``dss solve``: a connected
park that meets its targets and rules, checked from the input tables themselves, and its
contrast with the current zoning (``zoning.csv``, ``comparison.md``, ``dss compare``)."""

from __future__ import annotations

import shutil
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from dss.cli import app

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "baoxing_park.yaml"
INPUTS = ROOT / "inputs" / "baoxing"
RUNNER = CliRunner()
ZONES = ("core", "general", "outside")


@pytest.fixture(scope="module")
def spec() -> dict:
    return yaml.safe_load(MODEL.read_text(encoding="utf-8"))["planning"]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("park")
    result = RUNNER.invoke(app, ["solve", str(MODEL), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "baoxing_park [base]: optimal" in result.output
    return out / "baoxing_park" / "base"


@pytest.fixture(scope="module")
def zoning(run: Path) -> pd.DataFrame:
    return pd.read_csv(run / "zoning.csv", keep_default_na=False)


def attributes() -> pd.DataFrame:
    """Unit attributes recomputed here from the input tables (not from dss.planning)."""
    su = pd.read_csv(INPUTS / "subunits.csv").set_index("subunit_id")
    lc = pd.read_csv(INPUTS / "land_cover.csv")
    classes = pd.read_csv(INPUTS / "land_classes.csv").set_index("land_class")
    lc["farm"] = lc["land_class"].map(classes["agricultural"]).astype(bool)
    out = pd.DataFrame({"area_ha": su["area_ha"], "population": su["population"]})
    out["farmland_ha"] = lc[lc["farm"]].groupby("subunit_id")["area_ha"].sum()
    bar = pd.read_csv(INPUTS / "barriers.csv")
    out["hydropower_mw"] = bar[bar["status"] == "active"].groupby("subunit_id")[
        "capacity_mw"].sum()
    sh = pd.read_csv(INPUTS / "species_habitat.csv")
    for species, rows in sh.groupby("species"):
        out[f"habitat:{species}"] = rows.set_index("subunit_id")["habitat_ha"]
    return out.fillna(0.0)


def test_park_is_connected(zoning: pd.DataFrame) -> None:
    bound = pd.read_csv(INPUTS / "boundaries.csv")
    adjacency = nx.Graph()
    adjacency.add_nodes_from(zoning["unit"])
    shared = bound[(bound["subunit_a"] != bound["subunit_b"]) & (bound["length_km"] > 0)]
    adjacency.add_edges_from(zip(shared["subunit_a"], shared["subunit_b"], strict=True))
    park = zoning.loc[zoning["zone"].isin(["core", "general"]), "unit"].tolist()
    assert len(park) >= 2
    assert nx.is_connected(adjacency.subgraph(park))
    assert set(zoning["zone"]) <= set(ZONES)  # every unit has a zone


def test_targets_and_rules_hold(zoning: pd.DataFrame, spec: dict) -> None:
    attrs = attributes()
    zone = zoning.set_index("unit")["zone"]
    for name, target in spec["targets"].items():
        column = spec["features"][target["feature"]]["attribute"]
        values = attrs[column]
        inside = values[zone.reindex(values.index).isin(target["zones"]).to_numpy()].sum()
        assert inside >= target["relative"] * values.sum() - 1e-6, name
    panda = attrs["habitat:giant_panda"]
    assert panda[zone.isin(["core", "general"]).reindex(panda.index).to_numpy()].sum() \
        >= 0.8 * panda.sum()
    assert panda[(zone == "core").reindex(panda.index).to_numpy()].sum() >= 0.6 * panda.sum()
    core_people = attrs.loc[zone[zone == "core"].index, "population"].sum()
    assert core_people <= spec["rules"]["core_population"]["max"]
    for unit, zones in spec["locked_in"].items():
        assert zone[unit] in zones


def test_objective_recomputed_from_the_tables(run: Path, zoning: pd.DataFrame,
                                              spec: dict) -> None:
    """Opportunity cost (rates x attributes) + BLM x internal park boundary."""
    attrs = attributes()
    zone = zoning.set_index("unit")["zone"]
    cost = 0.0
    for unit, z in zone.items():
        for attribute, rate in (spec["costs"].get(z) or {}).items():
            cost += rate * attrs.loc[unit, attribute]
    bound = pd.read_csv(INPUTS / "boundaries.csv")
    park = set(zone[zone.isin(["core", "general"])].index)
    perimeter = 0.0
    for r in bound.itertuples(index=False):
        if r.subunit_a == r.subunit_b:
            perimeter += spec["boundary"]["edge_factor"] * r.length_km * (r.subunit_a in park)
        else:
            perimeter += r.length_km * ((r.subunit_a in park) != (r.subunit_b in park))
    summary = pd.read_csv(run / "summary.csv").set_index("metric")["value"]
    assert float(summary["spend"]) == pytest.approx(cost)
    assert float(summary["objective"]) == pytest.approx(
        cost + spec["boundary"]["penalty"] * perimeter)
    assert summary["status"] == "optimal" and float(summary["gap"]) == 0.0


def test_contrast_with_the_current_zoning(run: Path, zoning: pd.DataFrame) -> None:
    su = pd.read_csv(INPUTS / "subunits.csv").set_index("subunit_id")
    shares = su[[f"share_{z}" for z in ZONES]].to_numpy()
    dominant = pd.Series([ZONES[k] for k in shares.argmax(axis=1)], index=su.index)
    assert zoning.set_index("unit")["previous_zone"].to_dict() == dominant.to_dict()
    assert (zoning["changed"] == (zoning["zone"] != zoning["previous_zone"])).all()
    changes = pd.read_csv(run / "zone_changes.csv")
    assert len(changes) == int(zoning["changed"].sum())
    comparison = pd.read_csv(run / "zone_comparison.csv")
    people = comparison[(comparison["metric"] == "population")].set_index("zone")
    assert people.loc["core", "current"] == su.loc[dominant == "core", "population"].sum()
    assert people.loc["core", "proposed"] == zoning.loc[zoning["zone"] == "core",
                                                        "population"].sum()
    text = (run / "comparison.md").read_text(encoding="utf-8")
    assert "## Totals per zone" in text and "## Units that change zone" in text
    for name in ("targets.csv", "rules.csv", "features.csv", "irreplaceability.csv",
                 "portfolio.csv", "selection_frequency.csv", "report.md", "solver.log",
                 "manifest.yaml", "zone_transitions.csv"):
        assert (run / name).is_file(), name
    irr = pd.read_csv(run / "irreplaceability.csv")
    assert set(irr["unit"]) == set(zoning.loc[zoning["zone"] != "outside", "unit"])
    assert (irr["replacement_cost"].dropna() >= -1e-6).all()
    plans = pd.read_csv(run / "portfolio.csv")
    assert plans["objective"].is_monotonic_increasing and len(plans) == 5


def test_dss_compare_current_against_proposed(run: Path, tmp_path: Path) -> None:
    results = tmp_path / "results"
    shutil.copytree(run.parent, results / "baoxing_park")
    result = RUNNER.invoke(app, ["compare", "-m", str(MODEL), "-s", "current", "-s", "base",
                                 "--results", str(results)])
    assert result.exit_code == 0, result.output
    summary = pd.read_csv(results / "baoxing_park" / "compare" / "summary.csv")
    spend = summary[summary["metric"] == "spend"].set_index("scenario")["value"].astype(float)
    assert spend["base"] < spend["current"]
    status = summary[summary["metric"] == "status"].set_index("scenario")["value"]
    assert status.to_dict() == {"current": "evaluated", "base": "optimal"}


def test_bad_planning_section_is_located(tmp_path: Path) -> None:
    text = MODEL.read_text(encoding="utf-8").replace(
        "panda_core: {feature: giant_panda, zones: [core]",
        "panda_core: {feature: giant_pnda, zones: [kore]")
    text = text.replace("inputs: ../inputs/baoxing", f"inputs: {INPUTS}")
    model = tmp_path / "bad.yaml"
    model.write_text(text, encoding="utf-8")
    result = RUNNER.invoke(app, ["solve", str(model), "--out", str(tmp_path)])
    assert result.exit_code == 2, result.output
    line = next(k for k, t in enumerate(text.splitlines(), start=1) if "panda_core" in t)
    assert f"bad.yaml, line {line}, key planning.targets.panda_core.feature: unknown " \
           "feature 'giant_pnda' (did you mean 'giant_panda'?" in result.output
    assert "key planning.targets.panda_core.zones: unknown zone 'kore' (did you mean " \
           "'core'?" in result.output


def test_bad_boundary_table_is_located(tmp_path: Path) -> None:
    inputs = tmp_path / "inputs"
    shutil.copytree(INPUTS, inputs)
    table = (inputs / "boundaries.csv").read_text(encoding="utf-8").splitlines()
    table[2] = "E1,E99,3.0,ridge"
    table.append("E4,E1,1.0,ridge")
    (inputs / "boundaries.csv").write_text("\n".join(table) + "\n", encoding="utf-8")
    text = MODEL.read_text(encoding="utf-8").replace("inputs: ../inputs/baoxing",
                                                     f"inputs: {inputs}")
    model = tmp_path / "park.yaml"
    model.write_text(text, encoding="utf-8")
    result = RUNNER.invoke(app, ["solve", str(model), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "boundaries.csv, row 3, column subunit_b: unknown subunit 'E99'" in result.output
    assert "the pair E1-E4 is given twice (first in row 2)" in result.output


def test_kind_planning_needs_a_planning_section(tmp_path: Path) -> None:
    model = tmp_path / "empty.yaml"
    model.write_text(f"name: x\nkind: planning\ninputs: {INPUTS}\n", encoding="utf-8")
    result = RUNNER.invoke(app, ["solve", str(model), "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "kind: planning needs a planning section" in result.output
