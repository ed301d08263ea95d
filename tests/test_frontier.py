"""Trade-off frontiers: non-dominated points, exact endpoints, no-regret actions."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import highspy
import numpy as np
import pandas as pd
import pyomo.environ as pyo
import pytest
from typer.testing import CliRunner

from dss.cli import app
from dss.errors import InputError
from dss.optimize.build import compile_problem
from dss.optimize.frontier import dominated, frontier
from dss.optimize.metrics import Metric, parse_metric
from dss.optimize.problem import Problem
from dss.synth import write_study

TINY = Path(__file__).parent / "data" / "tiny" / "model.yaml"
PAIRS = {
    "tiny": [("cost", "benefit"), ("reduction:reservoir:sediment", "benefit")],
    "synth": [("reduction:outlet:sediment", "habitat:giant_panda"),
              ("carbon", "reduction:RES001:tp")],
}


@pytest.fixture(scope="module")
def studies(tmp_path_factory) -> dict[str, Path]:
    synth = write_study(tmp_path_factory.mktemp("synth") / "s200", 200, seed=1)
    return {"tiny": TINY, "synth": synth}


@pytest.fixture(scope="module")
def fronts(studies):
    """Frontiers of every pair (mip_gap 0, 7 points), computed once."""
    out = {}
    for study, pairs in PAIRS.items():
        problem = Problem.from_model(studies[study]).with_solver(mip_gap=0.0)
        for xm, ym in pairs:
            out[(study, xm, ym)] = (problem, frontier(problem, parse_metric(xm),
                                                      parse_metric(ym), points=7))
    return out


def single_optimum(problem: Problem, metric: Metric) -> float:
    """The best value of one metric alone, from a model built and solved from scratch by an
    independent path: Pyomo's own LP writer, then HiGHS reading that file."""
    built = compile_problem(problem)
    built.model.objective_function.deactivate()
    built.model.single = pyo.Objective(expr=metric.expression(built),
                                       sense=pyo.maximize if metric.maximize else pyo.minimize)
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "single.lp")
        built.model.write(path, io_options={"symbolic_solver_labels": False})
        highs = highspy.Highs()
        highs.setOptionValue("output_flag", False)
        highs.setOptionValue("mip_rel_gap", 0.0)
        highs.readModel(path)
        highs.run()
    assert "kOptimal" in str(highs.getModelStatus())
    return float(highs.getInfo().objective_function_value)


CASES = [(s, x, y) for s, pairs in PAIRS.items() for x, y in pairs]


@pytest.mark.parametrize(("study", "xm", "ym"), CASES)
def test_frontier_points_are_non_dominated(fronts, study, xm, ym):
    _, result = fronts[(study, xm, ym)]
    front = result.frontier
    assert len(front) >= 2
    assert (front["status"] == "optimal").all()
    gx = result.x.sign * front["x"].to_numpy()
    gy = result.y.sign * front["y"].to_numpy()
    tol_x = 1e-6 * max(1.0, np.abs(gx).max())
    tol_y = 1e-6 * max(1.0, np.abs(gy).max())
    for p in range(len(front)):
        for q in range(len(front)):
            if p != q:
                dominates = (gx[q] >= gx[p] - tol_x and gy[q] >= gy[p] - tol_y
                             and (gx[q] > gx[p] + tol_x or gy[q] > gy[p] + tol_y))
                assert not dominates, (front.iloc[q], front.iloc[p])
    # along the frontier, x improves exactly as y worsens
    assert np.all(np.diff(gx) > 0) and np.all(np.diff(gy) < 0)


@pytest.mark.parametrize(("study", "xm", "ym"), CASES)
def test_endpoints_equal_single_objective_optima(fronts, study, xm, ym):
    problem, result = fronts[(study, xm, ym)]
    front = result.frontier
    best_x = single_optimum(problem, result.x)
    best_y = single_optimum(problem, result.y)
    end_x = front[front["role"] == "endpoint_x"].iloc[0]
    end_y = front[front["role"] == "endpoint_y"].iloc[0]
    assert math.isclose(end_x["x"], best_x, rel_tol=1e-6, abs_tol=1e-6)
    assert math.isclose(end_y["y"], best_y, rel_tol=1e-6, abs_tol=1e-6)
    # the endpoints are the extremes of the frontier
    assert end_x["x"] * result.x.sign >= (front["x"] * result.x.sign).max() - 1e-6
    assert end_y["y"] * result.y.sign >= (front["y"] * result.y.sign).max() - 1e-6
    assert front["role"].iloc[0] == "endpoint_y" and front["role"].iloc[-1] == "endpoint_x"


@pytest.mark.parametrize(("study", "xm", "ym"), CASES)
def test_no_regret_pairs_are_in_every_plan(fronts, study, xm, ym):
    _, result = fronts[(study, xm, ym)]
    assert result.plans.shape == (len(result.frontier), len(result.options))
    key = {(s, a): k for k, (s, a) in enumerate(zip(result.options["subunit_id"],
                                                    result.options["action_id"], strict=True))}
    for row in result.no_regret.itertuples(index=False):
        amounts = result.plans[:, key[(row.subunit_id, row.action_id)]]
        assert (amounts > 0).all()
        assert math.isclose(amounts.min(), row.min_amount)
        assert math.isclose(amounts.max(), row.max_amount)
        assert row.plans == len(result.frontier)
    # and nothing else is positive in every plan
    cap = np.maximum(1.0, result.options["capacity"].to_numpy(float))
    always = (result.plans > 1e-6 * cap).all(axis=0)
    assert always.sum() == len(result.no_regret)


def test_some_frontier_has_no_regret_actions(fronts):
    assert any(len(r.no_regret) for _, r in fronts.values())


def test_dominance_filter():
    x, y = parse_metric("carbon"), parse_metric("cost")
    table = pd.DataFrame({"x": [1.0, 2.0, 2.0, 3.0, 1.0], "y": [5.0, 6.0, 7.0, 9.0, 5.0]})
    # cost is minimised: (2, 6) beats (2, 7); (1, 5) repeats an earlier point
    assert dominated(table, x, y).tolist() == [False, False, True, False, True]


def test_metric_parsing():
    assert parse_metric("reduction:RES001:TP") == Metric("reduction", ("RES001", "tp"))
    assert parse_metric("habitat:giant_panda").unit() == "ha"
    assert parse_metric("cost").maximize is False
    for bad in ("reduction:RES001", "habitat", "carbn", "reduction::tp"):
        with pytest.raises(InputError):
            parse_metric(bad)


def test_cli_frontier_writes_tables_and_plot(tmp_path):
    result = CliRunner().invoke(app, ["frontier", str(TINY), "--x",
                                      "reduction:reservoir:sediment", "--y", "benefit",
                                      "--points", "4", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "tiny" / "frontier-reduction-reservoir-sediment-vs-benefit"
    assert {p.name for p in folder.iterdir()} == {
        "frontier.csv", "points.csv", "plans.csv", "no_regret.csv", "frontier.png",
        "manifest.yaml"}
    table = pd.read_csv(folder / "frontier.csv")
    assert {"x", "y", "spend", "status", "x_metric", "y_metric"} <= set(table.columns)
    assert (table["x_metric"] == "reduction:reservoir:sediment").all()
    assert "No-regret actions" in result.output


def test_cli_frontier_reports_unknown_ids(tmp_path):
    result = CliRunner().invoke(app, ["frontier", str(TINY), "--x", "reduction:resevoir:tp",
                                      "--y", "habitat:panda", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "unknown control point 'resevoir'" in result.output
    assert "did you mean 'reservoir'" in result.output
    same = CliRunner().invoke(app, ["frontier", str(TINY), "--x", "cost", "--y", "cost",
                                    "--out", str(tmp_path)])
    assert same.exit_code == 2


def test_frontier_reports_progress():
    events = []
    frontier(Problem.from_model(TINY), parse_metric("cost"), parse_metric("benefit"),
             points=4, progress=lambda *e: events.append(e))
    solves = [e for e in events if e[0] == "solve"]
    assert solves[-1] == ("solve", 6, 6) and len(solves) == 6
    assert any(e[0] == "build" for e in events)
