"""The livelihoods component: township figures recomputed from allocation.csv and the input
tables, limits held in the plan, a hand-solved case, and the frontier metrics."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from dss.api import run_solve
from dss.optimize.metrics import parse_metric
from dss.optimize.problem import Problem

ROOT = Path(__file__).resolve().parents[1]
BAOXING = ROOT / "models" / "baoxing.yaml"
INPUTS = ROOT / "inputs" / "baoxing"
TINY = Path(__file__).resolve().parent / "data" / "tiny"


def recompute(allocation: pd.DataFrame, horizon: float) -> pd.DataFrame:
    """Township figures from the plan and the input tables, with pandas only."""
    table = pd.read_csv(INPUTS / "action_livelihoods.csv")
    subunits = pd.read_csv(INPUTS / "subunits.csv")
    plan = allocation.merge(table, on="action_id", how="left").fillna(0.0).merge(
        subunits[["subunit_id", "share_core"]], on="subunit_id")
    years = np.where(plan["compensation_years"] > 0,
                     np.minimum(plan["compensation_years"], horizon), horizon)
    # an empty compensation_years reads as 0 after fillna: the whole horizon
    years = np.where(pd.read_csv(INPUTS / "action_livelihoods.csv").set_index("action_id")[
        "compensation_years"].reindex(plan["action_id"]).isna().to_numpy(), horizon, years)
    x = plan["amount"]
    plan["income_lost"] = x * horizon * (plan["income_lost"]
                                         + plan["share_core"] * plan["income_lost_core"])
    plan["compensation"] = x * years * plan["compensation"]
    plan["wages"] = x * (horizon * plan["wages"] + plan["works_wages"])
    plan["tourism"] = x * horizon * plan["tourism"]
    plan["job_years"] = x * (horizon * plan["jobs"] + plan["works_job_years"])
    plan["net"] = plan["compensation"] + plan["wages"] + plan["tourism"] - plan["income_lost"]
    parts = ["income_lost", "compensation", "wages", "tourism", "net", "job_years"]
    out = plan.groupby("township")[parts].sum()
    people = subunits.groupby("township")["population"].sum()
    out = out.reindex(people.index).fillna(0.0)
    out["residents"] = people
    out["net_per_resident_year"] = out["net"] / (horizon * people)
    return out


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = run_solve(BAOXING, ["livelihoods"], None, tmp_path_factory.mktemp("lv"))
    assert run.result.status == "optimal"
    return run.folder


def test_township_figures_equal_an_independent_recomputation(solved: Path) -> None:
    horizon = yaml.safe_load(BAOXING.read_text(encoding="utf-8"))["settings"]["horizon_years"]
    table = pd.read_csv(solved / "livelihoods.csv")
    wide = table.pivot(index="township", columns="metric", values="value")
    expected = recompute(pd.read_csv(solved / "allocation.csv"), float(horizon))
    assert set(wide.index) == set(expected.index)
    for column in expected.columns:
        np.testing.assert_allclose(wide.loc[expected.index, column], expected[column],
                                   rtol=1e-9, atol=1e-6, err_msg=column)
    assert (expected["income_lost"] > 0).any() and (expected["job_years"] > 0).any()


def test_the_loss_limit_holds_and_matters(solved: Path, tmp_path: Path) -> None:
    table = pd.read_csv(solved / "livelihoods.csv")
    per_resident = table[table["metric"] == "net_per_resident_year"]["value"]
    assert per_resident.min() >= -300 - 1e-6
    assert per_resident.min() == pytest.approx(-300, abs=1e-3)  # binding somewhere
    free = run_solve(BAOXING, ["livelihoods"],
                     ["components.livelihoods.max_loss_per_resident=null"], tmp_path)
    loose = pd.read_csv(free.folder / "livelihoods.csv")
    assert loose[loose["metric"] == "net_per_resident_year"]["value"].min() < -300
    assert free.result.objective >= float(pd.read_csv(solved / "summary.csv").set_index(
        "metric").loc["objective", "value"]) - 1e-6


def test_coverage_and_compensation_budget_hold(tmp_path: Path) -> None:
    run = run_solve(BAOXING, ["livelihoods"], [
        "components.livelihoods.min_coverage=0.5",
        "components.livelihoods.compensation_budget=2e6"], tmp_path)
    assert run.result.status == "optimal"
    wide = pd.read_csv(run.folder / "livelihoods.csv").pivot(
        index="township", columns="metric", values="value")
    assert (wide["compensation"] >= 0.5 * wide["income_lost"] - 1e-6).all()
    assert wide["compensation"].sum() <= 2e6 + 1e-6


def tiny_study(folder: Path) -> Path:
    shutil.copytree(TINY, folder)
    (folder / "action_livelihoods.csv").write_text(
        "action_id,income_lost,compensation\ngfg_forest,1000,0\n", encoding="utf-8")
    model = yaml.safe_load((TINY / "model.yaml").read_text(encoding="utf-8"))
    model["components"]["budget"]["total"] = 1e9
    actions = (TINY / "actions.csv").read_text(encoding="utf-8").splitlines()
    (folder / "actions.csv").write_text("\n".join(
        [actions[0]] + [a for a in actions[1:] if a.startswith("gfg_forest,")]) + "\n",
        encoding="utf-8")
    model["components"]["people"] = {"type": "livelihoods", "max_loss_per_resident": 100}
    (folder / "model.yaml").write_text(yaml.safe_dump(model, allow_unicode=True),
                                       encoding="utf-8")
    return folder / "model.yaml"


def test_hand_solved_limit_on_a_townships_loss(tmp_path: Path) -> None:
    """Cropland to forest loses 1,000 CNY/ha/yr, over 10 years 10,000 CNY/ha. The north
    township (A, B, C: 150 residents) may lose at most 100 * 10 * 150 = 150,000 CNY, so at
    most 15 of B's 20 ha are converted; the south (1,200 residents) may lose 1.2 M CNY,
    more than its 65 ha of cropland cost; with no budget limit every other hectare is
    converted (each has a positive value)."""
    result = Problem.from_model(tiny_study(tmp_path / "t")).solve()
    assert result.status == "optimal"
    opts = result.built.ctx.options
    plan = dict(zip(zip(opts["subunit_id"], opts["action_id"], strict=True),
                    result.amounts, strict=True))
    assert plan[("B", "gfg_forest")] == pytest.approx(15.0)
    assert plan[("D", "gfg_forest")] == pytest.approx(40.0)
    assert plan[("E", "gfg_forest")] == pytest.approx(25.0)
    jobs = parse_metric("livelihood")
    assert jobs.unit() == "CNY"


def test_jobs_and_livelihood_are_frontier_metrics(tmp_path: Path) -> None:
    from dss.optimize.build import compile_problem
    from dss.optimize.evaluate import value_at

    problem = Problem.from_model(BAOXING, ["livelihoods"])
    result = problem.solve()
    built = compile_problem(problem)
    table = pd.read_csv(run_solve(BAOXING, ["livelihoods"], None, tmp_path).folder
                        / "livelihoods.csv")
    totals = table.groupby("metric")["value"].sum()
    for name, column in (("jobs", "job_years"), ("livelihood", "net")):
        metric = parse_metric(name)
        assert value_at(metric.expression(built), built.ctx, result.amounts) == \
            pytest.approx(totals[column], rel=1e-9)
