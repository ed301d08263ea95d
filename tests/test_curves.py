"""Concave piecewise-linear benefit curves: exact as an LP, hand-solved and re-checked."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from dss.cli import app
from dss.optimize.components.curves import concave_value, curve_problem, fill
from dss.optimize.problem import Problem

TINY = Path(__file__).parent / "data" / "tiny"
RUNNER = CliRunner()
CURVE = [[0.1, 1.0], [None, 0.25]]


def _study(tmp_path: Path, components: dict) -> Path:
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    model = yaml.safe_load((folder / "model.yaml").read_text(encoding="utf-8"))
    model["components"] = components
    model["solver"] = {"mip_gap": 0.0}
    path = folder / "model.yaml"
    path.write_text(yaml.safe_dump(model), encoding="utf-8")
    return path


def test_curve_arithmetic() -> None:
    curve = [(0.1, 1.0), (0.3, 0.5), (None, 0.1)]
    # baseline 100: 10 at full value, 20 at half, the rest at a tenth
    assert concave_value(curve, 100.0, 5.0) == pytest.approx(5.0)
    assert concave_value(curve, 100.0, 25.0) == pytest.approx(10 + 7.5)
    assert concave_value(curve, 100.0, 50.0) == pytest.approx(10 + 10 + 2)
    assert concave_value(curve, 100.0, -4.0) == pytest.approx(-4.0)
    assert fill(curve, 100.0, 25.0) == ([10.0, 15.0, 0.0], 0.0)
    assert concave_value([(0.1, 1.0)], 100.0, 50.0) == pytest.approx(10.0)  # capped
    assert curve_problem(curve) is None
    assert "may only fall" in curve_problem([(0.1, 0.5), (None, 0.8)])
    assert "must exceed" in curve_problem([(0.2, 1.0), (0.1, 0.5)])
    assert "only the last" in curve_problem([(None, 1.0), (0.5, 0.5)])


def test_hand_solved_habitat_curve_stops_at_the_breakpoint(tmp_path: Path) -> None:
    """Panda habitat in the tiny basin: baseline 80*0.9 + 60*0.5 + 30*0.5 = 117 ha. Grain
    for Green gains 0.5 ha/ha at 20,000 CNY/ha; with 100,000 CNY/ha of habitat and net
    benefit (cost_weight 1), a hectare planted is worth 0.5 * 100,000 - 20,000 = 30,000 up
    to the breakpoint 0.1 * 117 = 11.7 ha of gain (23.4 ha planted) and 0.5 * 25,000 -
    20,000 = -7,500 after it. So 23.4 ha are planted and the objective is
    100,000 * 11.7 - 20,000 * 23.4 = 702,000 CNY. Without the curve every hectare pays and
    all 85 ha of cropland are planted."""
    components = {
        "objective": {"type": "max_benefit", "cost_weight": 1.0},
        "budget": {"type": "budget", "total": 1.0e7},
        "land": {"type": "land"},
        "habitat": {"type": "habitat",
                    "species": {"panda": {"value": 100000, "curve": CURVE}}},
    }
    result = Problem.from_model(_study(tmp_path, components)).solve()
    assert result.status == "optimal"
    opts = result.built.ctx.options
    planted = result.amounts[(opts["action_id"] == "gfg_forest").to_numpy()].sum()
    assert planted == pytest.approx(23.4, abs=1e-6)
    assert result.objective == pytest.approx(702_000, rel=1e-9)
    linear = {**components, "habitat": {"type": "habitat",
                                        "species": {"panda": {"value": 100000}}}}
    result = Problem.from_model(_study(tmp_path / "lin", linear)).solve()
    planted = result.amounts[(result.built.ctx.options["action_id"] == "gfg_forest")
                             .to_numpy()].sum()
    assert planted == pytest.approx(85.0, abs=1e-6)


def test_water_curve_lp_value_equals_the_curve_at_the_plan(tmp_path: Path) -> None:
    """The LP's objective equals the benefit recomputed from the routed plan through the
    curve (so the segments fill in order), dss verify accepts the run, the allocation's
    benefits add up to it, and the curve never pays more than linear values."""
    curve = {"*": {"sediment": [[0.02, 1.0], [0.1, 0.5], [None, 0.0]],
                   "tn": [[0.01, 1.0], [None, 0.2]]}}
    components = {
        "objective": {"type": "max_benefit"},
        "budget": {"type": "budget", "total": 800000},
        "land": {"type": "land"},
        "water": {"type": "delivered_reduction", "values": {"sediment": 100, "tn": 10,
                                                            "tp": 100}, "curves": curve},
    }
    path = _study(tmp_path, components)
    out = tmp_path / "results"
    result = RUNNER.invoke(app, ["solve", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    run = out / "tiny" / "base"
    summary = pd.read_csv(run / "summary.csv").set_index("metric")["value"]
    objective = float(summary["objective"])
    cps = pd.read_csv(run / "control_points.csv")
    horizon = 10.0
    expected = 0.0
    weights = {"reservoir": 2.0, "outlet": 1.0}
    cares = {("reservoir", "sediment"), ("outlet", "sediment"), ("outlet", "tn"),
             ("outlet", "tp")}
    values = {"sediment": 100, "tn": 10, "tp": 100}
    for rec in cps.itertuples(index=False):
        if (rec.point_id, rec.pollutant) not in cares:
            continue
        own = curve["*"].get(rec.pollutant)
        units = rec.reduction if own is None else concave_value(
            [tuple(s) for s in own], rec.before, rec.reduction)
        expected += horizon * weights[rec.point_id] * values[rec.pollutant] * units
    assert objective == pytest.approx(expected, rel=1e-7)
    alloc = pd.read_csv(run / "allocation.csv")
    assert alloc["benefit_cny"].sum() == pytest.approx(objective, rel=1e-7)
    verified = RUNNER.invoke(app, ["verify", str(run)])
    assert verified.exit_code == 0, verified.output
    linear = {**components, "water": {k: v for k, v in components["water"].items()
                                      if k != "curves"}}
    plain = Problem.from_model(_study(tmp_path / "lin", linear)).solve()
    assert plain.objective > 1.5 * objective  # the curves bind: diminishing returns
    assert np.isfinite(objective) and objective > 0


def test_a_convex_curve_is_refused_with_its_key(tmp_path: Path) -> None:
    components = {
        "objective": {"type": "max_benefit"},
        "budget": {"type": "budget", "total": 500000},
        "habitat": {"type": "habitat", "species": {"panda": {
            "value": 1000, "curve": [[0.1, 0.5], [None, 1.0]]}}},
    }
    result = RUNNER.invoke(app, ["solve", str(_study(tmp_path, components)), "--out",
                                 str(tmp_path / "results")])
    assert result.exit_code == 2
    assert "key components.habitat.species.panda.curve: segment 2: factor 1" in result.output
    assert "Traceback" not in result.output
