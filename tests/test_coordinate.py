"""dss coordinate: siloed, integrated and pooled plans, and their invariants.

Property tests on random synthetic studies: the integrated plan is never worse than the
siloed one on the total benefit, the pooled plan never worse than the integrated one, and
each siloed plan is optimal for its own agency: the agency's problem is rebuilt here by hand
(its mandate as benefit components, its budget, equity on its own spend, the plans of the
agencies before it fixed) and re-solved independently.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from dss.cli import app
from dss.data.study import load_study
from dss.optimize.components.benefits import Carbon, DeliveredReduction, Habitat
from dss.optimize.components.constraints import Budget, Equity
from dss.optimize.components.scope import AgencyScope
from dss.optimize.coordinate import coordinate, siloed_problem
from dss.optimize.problem import Problem
from dss.results.coordination import cross_table, metrics_table, steps_table
from dss.synth import write_study

ROOT = Path(__file__).resolve().parents[1]
RUNNER = CliRunner()
TOL = 1e-6


def _synthetic(tmp_path: Path, seed: int, years: bool = False) -> Problem:
    """A random 40-subunit study in four townships, with random budgets per agency (and
    sometimes equity); with ``years``, two planning years, random maturation, each agency's
    budget split over them at random, and carry-over in half of the studies."""
    rng = np.random.default_rng(seed)
    model_path = write_study(tmp_path / f"s{seed}", 40, seed=seed)
    subunits = pd.read_csv(model_path.parent / "subunits.csv", keep_default_na=False)
    subunits["township"] = rng.choice(["T1", "T2", "T3", "T4"], len(subunits))
    subunits.to_csv(model_path.parent / "subunits.csv", index=False)
    model = yaml.safe_load(model_path.read_text(encoding="utf-8"))
    total = float(model["components"]["budget"]["total"])
    shares = rng.dirichlet(np.ones(4))
    agencies = ["forestry", "water", "environment", "natural_resources"]
    model["components"]["budget"]["per_agency"] = {
        a: round(float(s) * total, 2) for a, s in zip(agencies, shares, strict=True)}
    if rng.random() < 0.5:
        model["components"]["equity"] = {"type": "equity",
                                         "max_share": float(rng.uniform(0.3, 0.9))}
    model["solver"] = {"mip_gap": 0.0, "time_limit": 120, "threads": 1}
    if years:
        actions = pd.read_csv(model_path.parent / "actions.csv", keep_default_na=False)
        actions["maturity_years"] = rng.integers(0, 4, len(actions)).astype(float)
        actions.to_csv(model_path.parent / "actions.csv", index=False)
        model["settings"] = {"horizon_years": 6, "years": [2020, 2021],
                             "discount_rate": 0.03}
        first = rng.uniform(0.2, 0.8, 4)
        model["components"]["budget"].update({
            "per_agency_year": {a: {2020: round(float(b * f), 2),
                                    2021: round(float(b * (1 - f)), 2)}
                                for (a, b), f in zip(model["components"]["budget"][
                                    "per_agency"].items(), first, strict=True)},
            "carry_over": bool(rng.integers(0, 2))})
    model_path.write_text(yaml.safe_dump(model), encoding="utf-8")
    return Problem.from_model(model_path)


def _by_hand(problem: Problem, agency: str, fixed: dict) -> Problem:
    """The siloed problem of one synthetic agency, written out from its mandate."""
    base = {c.name: c for c in problem.components}
    values = base["water"].params.values
    cps = problem.study.control_points
    weights = dict(zip(cps["point_id"], cps["weight"].astype(float), strict=True))
    kinds = dict(zip(cps["point_id"], cps["kind"], strict=True))
    benefits = {
        "forestry": [Habitat("habitat", species={s: {"value": v.value} for s, v in
                                                 base["habitat"].params.species.items()}),
                     Carbon("carbon", value=base["carbon"].params.value)],
        "water": [DeliveredReduction("w", values={"sediment": values["sediment"]},
                                     points={t: w for t, w in weights.items()
                                             if kinds[t] in ("reservoir", "intake")})],
        "environment": [DeliveredReduction("w", values={"tn": values["tn"],
                                                        "tp": values["tp"]})],
        "natural_resources": [DeliveredReduction("w", values={"sediment":
                                                              values["sediment"]})],
    }[agency]
    budget = base["budget"].params
    yearly = {agency: budget.per_agency_year[agency]} if budget.per_agency_year else {}
    parts = [base["objective"], base["land"], base["zones"],
             Budget("budget", total=budget.total,
                    per_agency={agency: budget.per_agency[agency]},
                    per_agency_year=yearly, carry_over=budget.carry_over),
             AgencyScope("scope", agencies=[agency], fixed=fixed), *benefits]
    if "equity" in base:
        parts.append(Equity("equity", max_share=base["equity"].params.max_share,
                            agency=agency))
    return Problem(problem.study, problem.config, tuple(parts), problem.model)


@pytest.mark.parametrize(("seed", "years"), [(s, False) for s in range(6)]
                         + [(s, True) for s in range(6, 10)])
def test_integrated_beats_siloed_and_pooled_beats_integrated(tmp_path: Path, seed: int,
                                                             years: bool) -> None:
    problem = _synthetic(tmp_path, seed, years)
    coord = coordinate(problem)
    table = metrics_table(coord)
    benefit = table[table["metric"] == "benefit"].set_index("plan")["value"]
    scale = max(1.0, abs(benefit["pooled"]))
    assert benefit["integrated"] >= benefit["siloed"] - TOL * scale
    assert benefit["pooled"] >= benefit["integrated"] - TOL * scale
    # the union of the siloed plans keeps every agency inside its budget and the land
    spend = table[table["plan"] == "siloed"].set_index("metric")["value"]
    for agency in coord.agencies:
        assert spend[f"spend agency {agency.agency_id}"] <= agency.budget * (1 + TOL) + TOL
    # each siloed plan is optimal for its agency, re-solved independently
    fixed: dict[str, dict[str, float]] = {}
    union = coord.results["siloed"]
    opts = union.built.ctx.options
    for agency in coord.agencies:
        step = coord.steps[agency.agency_id]
        again = _by_hand(problem, agency.agency_id, fixed).solve()
        assert again.status == "optimal"
        assert again.objective == pytest.approx(step.objective, rel=1e-6, abs=1e-3)
        mine = np.flatnonzero((opts["agency"] == agency.agency_id).to_numpy()
                              & (union.amounts > 0))
        for k in mine:
            by_action = fixed.setdefault(str(opts["subunit_id"].iat[k]), {})
            if years:  # start year -> amount
                by_action.setdefault(str(opts["action_id"].iat[k]), {})[
                    int(opts["year"].iat[k])] = float(union.amounts[k])
            else:
                by_action[str(opts["action_id"].iat[k])] = float(union.amounts[k])
    if years:  # the siloed union keeps every agency within its budget in every year
        budget = {c.name: c for c in problem.components}["budget"].params
        spend = table[table["plan"] == "siloed"].set_index("metric")["value"]
        capital = union.built.ctx.phasing.capital
        annual = union.built.ctx.phasing.annual
        fixed_cost = opts["fixed_cost"].to_numpy(float)
        start, x = opts["year"].to_numpy(), union.amounts
        total_paid = 0.0
        for agency in coord.agencies:
            mine = (opts["agency"] == agency.agency_id).to_numpy()
            so_far = 0.0
            for t in (2020, 2021):
                paid = float(((capital * (start == t) + annual * (start <= t)) * x
                              + fixed_cost * (start == t) * (x > 1e-9))[mine].sum())
                so_far = so_far + paid if budget.carry_over else paid
                limit = sum(b for y, b in budget.per_agency_year[agency.agency_id].items()
                            if y <= t and (budget.carry_over or y == t))
                assert so_far <= limit * (1 + TOL) + TOL
                total_paid += paid
        assert spend["spend year 2020"] + spend["spend year 2021"] == pytest.approx(
            total_paid, rel=1e-9, abs=1e-6)


def test_cross_benefits_add_up_to_each_mandate(tmp_path: Path) -> None:
    """Benefits are linear: what every agency's spending did for a mandate adds up to the
    mandate's benefit of the whole plan (computed from the whole plan)."""
    coord = coordinate(_synthetic(tmp_path, 11))
    table = metrics_table(coord)
    cross = cross_table(coord)
    for plan in ("siloed", "integrated", "pooled"):
        metrics = table[table["plan"] == plan].set_index("metric")["value"]
        mine = cross[cross["plan"] == plan]
        for owner, part in mine.groupby("mandate_of"):
            if owner == "(none)":
                continue
            assert part["benefit"].sum() == pytest.approx(
                metrics[f"mandate benefit {owner}"], rel=1e-9, abs=1e-6)
    steps = steps_table(coord)
    assert list(steps["order"]) == [1, 2, 3, 4]
    assert (steps["spend"] <= steps["budget"] * (1 + TOL) + TOL).all()


def test_siloed_steps_see_only_their_mandate(tmp_path: Path) -> None:
    problem = _synthetic(tmp_path, 3)
    from dss.optimize.coordinate import agencies_of

    agencies, _ = agencies_of(problem)
    water = next(a for a in agencies if a.agency_id == "water")
    names = {c.type_name for c in siloed_problem(problem, water, {}).components}
    assert "habitat" not in names and "carbon" not in names
    step = siloed_problem(problem, water, {})
    reductions = [c for c in step.components if c.type_name == "delivered_reduction"]
    kinds = set(problem.study.control_points.set_index("point_id")["kind"])
    assert reductions and all(set(c.params.values) == {"sediment"} for c in reductions)
    for comp in reductions:
        for point in comp.params.points:
            kind = problem.study.control_points.set_index("point_id").loc[point, "kind"]
            assert kind in ("reservoir", "intake") and kind in kinds


def test_bundled_study_cli_writes_the_value_of_coordination(tmp_path: Path) -> None:
    result = RUNNER.invoke(app, ["coordinate", str(ROOT / "models" / "baoxing.yaml"),
                                 "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "baoxing" / "coordination"
    assert {p.name for p in folder.iterdir()} == {
        "coordination.csv", "cross_benefits.csv", "siloed_steps.csv", "allocations.csv",
        "coordination.md", "coordination.png", "manifest.yaml"}
    table = pd.read_csv(folder / "coordination.csv")
    benefit = table[table["metric"] == "benefit"].set_index("plan")["value"]
    gain = benefit["integrated"] - benefit["siloed"]
    assert gain >= 0 and benefit["pooled"] >= benefit["integrated"] - 1e-3
    assert f"value of coordination (integrated - siloed): {gain:,.0f} CNY" in result.output
    cross = pd.read_csv(folder / "cross_benefits.csv")
    assert "大熊猫国家公园雅安管理分局" in set(cross["mandate_of_zh"])
    # the bundled benefits have diminishing returns: the shares of each curved term still
    # add up to the mandate benefits of the whole plan
    for plan in ("siloed", "integrated", "pooled"):
        metrics = table[table["plan"] == plan].set_index("metric")["value"]
        mine = cross[(cross["plan"] == plan) & (cross["mandate_of"] != "(none)")]
        for owner, part in mine.groupby("mandate_of"):
            assert part["benefit"].sum() == pytest.approx(
                metrics[f"mandate benefit {owner}"], rel=1e-9, abs=1e-3), (plan, owner)
    manifest = yaml.safe_load((folder / "manifest.yaml").read_text(encoding="utf-8"))
    assert manifest["kind"] == "coordination" and manifest["scenario"] == "base"
    study = load_study(ROOT / "inputs" / "baoxing")
    assert manifest["siloed_order"] == [a for a in study.agencies["agency_id"]
                                        if a in set(study.actions["agency"])]


def test_coordinate_needs_agency_budgets(tmp_path: Path) -> None:
    result = RUNNER.invoke(app, ["coordinate", str(ROOT / "models" / "baoxing.yaml"),
                                 "--set", "components.budget.per_agency={}",
                                 "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "budget per agency" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "baoxing").exists()


def test_an_infeasible_plan_exits_with_the_infeasible_code(tmp_path: Path) -> None:
    result = RUNNER.invoke(app, ["coordinate", str(ROOT / "models" / "baoxing.yaml"), "--set",
                                 "components.load_limits.reductions.qiaoqi_reservoir.sediment=0.9",
                                 "--out", str(tmp_path)])
    assert result.exit_code == 3, result.output
    assert "the integrated plan of baoxing.yaml has no solution (status infeasible)" in \
        result.output
    assert "Traceback" not in result.output and not (tmp_path / "baoxing").exists()
