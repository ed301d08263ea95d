"""Sample average approximation, CVaR, worst case and chance constraints against
enumeration, and the value of the stochastic solution and of perfect information.

The instance: the tiny six-subunit basin (tests/data/tiny) with two integer actions only, a
small and a big check dam competing for each subunit's hazard sites, whose trapping is
uncertain (the big dam much more so). Every integer plan within the budget is enumerated.
Each plan's benefit and loads in each scenario come from the Monte Carlo evaluation path
(routed loads before and after, valued as ``H * weight * value * (before - after)``), not
from the optimisation model's coefficients; routing is linear, so a plan's outcome is the
sum of the outcomes of its single dams.
"""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from dss.optimize.components.scenario_data import option_map
from dss.optimize.problem import Problem
from dss.optimize.stochastic_value import value_table
from dss.uncertainty.evaluate import evaluate_plan
from dss.uncertainty.scenarios import drawn_scenarios

TINY = Path(__file__).resolve().parent / "data" / "tiny"
ROOT = Path(__file__).resolve().parents[1]
HEADER = ("action_id,name,name_zh,applies_to,unit,leads_to,usle_c_after,capital_cost,"
          "annual_cost,fixed_cost,integer,agency,sediment_removal,tn_removal,tp_removal,"
          "sediment_trap,habitat_species,habitat_gain,reconnected_km\n")
ACTIONS = HEADER + (
    "dam_small,Small dam,小坝,hazard_sites,dam,,,300000,0,0,true,water,0,0,0,40,,0,0\n"
    "dam_big,Big dam,大坝,hazard_sites,dam,,,700000,0,0,true,water,0,0,0,110,,0,0\n")
UNCERTAINTY = """table,row,column,distribution,apply,low,mode,high,sd,group,source
actions,dam_small,sediment_trap,uniform,scale,0.8,,1.2,,,test
actions,dam_big,sediment_trap,uniform,scale,0.05,,1.9,,,test
subunits,*,usle_r,triangular,scale,0.7,1,1.5,,rain,test
"""
DRAWS, SEED = 8, 4
VALUE = 100.0  # CNY per t of sediment kept out of a point
HORIZON = 10


def make_study(folder: Path, budget: float, extra: dict | None = None,
               uncertainty: str = UNCERTAINTY) -> Path:
    shutil.copytree(TINY, folder)
    (folder / "actions.csv").write_text(ACTIONS, encoding="utf-8")
    (folder / "uncertainty.csv").write_text(uncertainty, encoding="utf-8")
    model = yaml.safe_load((TINY / "model.yaml").read_text(encoding="utf-8"))
    model["solver"] = {"mip_gap": 0.0, "threads": 1}
    model["components"] = {
        "objective": {"type": "max_benefit"},
        "budget": {"type": "budget", "total": budget},
        "land": {"type": "land"},
        "water": {"type": "delivered_reduction", "values": {"sediment": VALUE}},
        **(extra or {})}
    (folder / "model.yaml").write_text(yaml.safe_dump(model, allow_unicode=True),
                                       encoding="utf-8")
    return folder / "model.yaml"


class Enumeration:
    """Every integer plan within the budget and its outcome in every scenario."""

    def __init__(self, problem: Problem, budget: float) -> None:
        from dss.optimize.build import make_context

        ctx = make_context(problem)
        opts = ctx.options
        self.options = opts
        scenarios = drawn_scenarios(problem.study, DRAWS, SEED)
        self.p = scenarios.probabilities
        n = len(opts)
        zero = evaluate_plan(problem, np.zeros(n), scenarios)
        weights = dict(zip(problem.study.control_points["point_id"],
                           problem.study.control_points["weight"], strict=True))
        units = []
        for k in range(n):
            e = np.zeros(n)
            e[k] = 1.0
            units.append(evaluate_plan(problem, e, scenarios))
        key = ("reservoir", "sediment")
        self.before = zero.after[key]
        # per scenario: benefit and reservoir-load reduction of one unit of each option
        self.unit_benefit = np.array([[HORIZON * VALUE * sum(
            weights[t] * (zero.after[(t, "sediment")][s] - u.after[(t, "sediment")][s])
            for t in weights) for s in range(DRAWS)] for u in units])  # (n, S)
        self.unit_cut = np.array([zero.after[key] - u.after[key] for u in units])
        caps = opts["capacity"].to_numpy(float).astype(int)
        cost = opts["unit_cost"].to_numpy(float)
        sites = dict(zip(problem.study.subunits["subunit_id"],
                         problem.study.subunits["hazard_sites"], strict=True))
        plans = []
        for x in itertools.product(*[range(c + 1) for c in caps]):
            x = np.asarray(x, dtype=float)
            if cost @ x > budget + 1e-6:
                continue
            per_site = {}
            for k, amount in enumerate(x):
                s = opts["subunit_id"].iat[k]
                per_site[s] = per_site.get(s, 0) + amount
            if all(v <= sites[s] for s, v in per_site.items()):
                plans.append(x)
        self.plans = np.array(plans)
        self.benefit = self.plans @ self.unit_benefit  # (plans, S)
        self.load = self.before[None, :] - self.plans @ self.unit_cut  # (plans, S)

    def best(self, score: np.ndarray, feasible: np.ndarray | None = None) -> float:
        score = np.where(feasible, score, -np.inf) if feasible is not None else score
        return float(score.max())


def cvar(values: np.ndarray, p: np.ndarray, level: float) -> float:
    """Mean of the worst (1 - level) probability mass (brute force over equal weights)."""
    tail = 1 - level
    order = np.sort(values)
    mass, total = 0.0, 0.0
    for v, q in zip(order, p[np.argsort(values)], strict=True):
        part = min(q, tail - mass)
        if part <= 0:
            break
        total += part * v
        mass += part
    return total / tail


BUDGET = 1.7e6


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("saa") / "study"
    model = make_study(folder, BUDGET)
    problem = Problem.from_model(model)
    return model, Enumeration(problem, BUDGET)


def solve(model: Path, objective: dict, extra: dict | None = None) -> tuple[float, object]:
    problem = Problem.from_model(model)
    from dss.optimize.problem import components_from_config

    spec = {"objective": objective, **(extra or {})}
    comps = {c.name: c for c in components_from_config(spec)}
    for comp in comps.values():
        problem = problem.add(comp)
    result = problem.solve()
    assert result.status == "optimal", result.status
    return float(result.objective), result


SCENARIOS = {"scenarios": "drawn", "draws": DRAWS, "seed": SEED}


def test_expected_benefit_equals_enumeration(instance) -> None:
    model, enum = instance
    value, _ = solve(model, {"type": "stochastic_benefit", "measure": "expected", **SCENARIOS})
    assert value == pytest.approx(enum.best(enum.benefit @ enum.p), rel=1e-7)


@pytest.mark.parametrize("level", [0.5, 0.75, 0.9])
def test_cvar_equals_enumeration(instance, level: float) -> None:
    model, enum = instance
    value, _ = solve(model, {"type": "stochastic_benefit", "measure": "cvar", "level": level,
                             **SCENARIOS})
    best = max(cvar(b, enum.p, level) for b in enum.benefit)
    assert value == pytest.approx(best, rel=1e-7)


def test_worst_case_equals_enumeration(instance) -> None:
    model, enum = instance
    value, result = solve(model, {"type": "stochastic_benefit", "measure": "worst",
                                  **SCENARIOS})
    assert value == pytest.approx(enum.best(enum.benefit.min(axis=1)), rel=1e-7)
    expected, _ = solve(model, {"type": "stochastic_benefit", **SCENARIOS})
    assert value <= expected + 1e-6  # the worst case never beats the mean


@pytest.mark.parametrize("share", [0.5, 0.75, 1.0])
def test_chance_and_robust_limits_equal_enumeration(instance, share: float) -> None:
    model, enum = instance
    # the load each plan keeps to with probability `share`; half the plans do better
    held = [np.sort(load)[int(np.ceil(share * DRAWS - 1e-9)) - 1] for load in enum.load]
    limit = float(np.median(held))
    objective = {"type": "stochastic_benefit", "measure": "expected", **SCENARIOS}
    extra = {"reservoir_cap": {"type": "chance_limits", "limits": {
        "reservoir": {"sediment": limit}}, "share": share, **SCENARIOS}}
    met = enum.load <= limit * (1 + 1e-9) + 1e-9
    feasible = (met.astype(float) @ enum.p) >= share - 1e-9
    assert feasible.any() and not feasible.all()  # the limit matters
    value, result = solve(model, objective, extra)
    assert value == pytest.approx(enum.best(enum.benefit @ enum.p, feasible), rel=1e-7)
    table = result.built.problem.component("reservoir_cap").plan_tables(result.built, result)[
        "scenario_limits"]
    assert table["probability"][table["met"]].sum() >= share - 1e-9


def test_scenario_benefit_table_matches_the_evaluation(instance) -> None:
    model, enum = instance
    _value, result = solve(model, {"type": "stochastic_benefit", **SCENARIOS})
    table = result.built.problem.objective().plan_tables(result.built, result)[
        "scenario_benefit"]
    x = result.amounts[option_map(enum.options, result.built.ctx.options)]
    np.testing.assert_allclose(table["benefit"], x @ enum.unit_benefit, rtol=1e-9)


@pytest.mark.parametrize("seed", range(5))
def test_value_of_stochastic_solution_and_perfect_information_are_never_negative(
        tmp_path: Path, seed: int) -> None:
    """Random studies: random budget, uncertainty ranges, measure and limit."""
    rng = np.random.default_rng(seed)
    lo = rng.uniform(0.05, 0.9)
    uncertainty = ("table,row,column,distribution,apply,low,mode,high,sd,group,source\n"
                   f"actions,dam_big,sediment_trap,uniform,scale,{lo},,{lo + rng.uniform(0.2, 2)}"
                   ",,,random\n"
                   f"actions,dam_small,sediment_trap,triangular,scale,0.5,1,{rng.uniform(1, 2)}"
                   ",,,random\n"
                   f"subunits,*,usle_r,triangular,scale,{rng.uniform(0.5, 1)},1,"
                   f"{rng.uniform(1, 2)},,rain,random\n")
    budget = float(rng.choice([6e5, 1e6, 1.7e6, 2.5e6]))
    measure = str(rng.choice(["expected", "cvar", "worst"]))
    scen = {"scenarios": "drawn", "draws": 5, "seed": int(seed)}
    extra = {}
    if seed % 2:
        extra["cap"] = {"type": "chance_limits", "reductions": {"outlet": {"sediment": 0.01}},
                        "share": float(rng.choice([0.6, 1.0])), **scen}
    model = make_study(tmp_path / "s", budget, extra, uncertainty)
    problem = Problem.from_model(model)
    from dss.optimize.problem import components_from_config

    problem = problem.add(components_from_config({"objective": {
        "type": "stochastic_benefit", "measure": measure, "level": 0.6, **scen}})[0])
    result = problem.solve()
    assert result.status == "optimal"
    table = value_table(problem, float(result.objective)).set_index("metric")["value"]
    scale = max(1.0, abs(float(result.objective)))
    assert table["expected_value_of_perfect_information"] >= -1e-7 * scale
    vss = table.get("value_of_stochastic_solution")
    if vss is not None and np.isfinite(vss):
        assert vss >= -1e-7 * scale


def test_factor_rows_give_the_same_optimum_as_one_row_per_scenario(instance, monkeypatch
                                                                   ) -> None:
    """The scenarios' benefit rows have a low rank here (three uncertain numbers, eight
    draws): they go through shared factor rows; without them the optimum is the same."""
    from dss.optimize.components import stochastic

    model, enum = instance
    limit = float(np.median([np.sort(load)[5] for load in enum.load]))
    objective = {"type": "stochastic_benefit", "measure": "cvar", "level": 0.7, **SCENARIOS}
    extra = {"cap": {"type": "chance_limits", "limits": {"reservoir": {"sediment": limit}},
                     "share": 0.75, **SCENARIOS}}
    value, result = solve(model, objective, extra)
    assert hasattr(result.built.blocks["objective"], "benefit_factor")
    monkeypatch.setattr(stochastic, "factorised", lambda matrix: None)
    plain, result = solve(model, objective, extra)
    assert not hasattr(result.built.blocks["objective"], "benefit_factor")
    assert value == pytest.approx(plain, rel=1e-8)


def test_baoxing_chance_limit_through_factor_rows(monkeypatch) -> None:
    from dss.optimize.components import stochastic
    from dss.optimize.problem import components_from_config

    scen = {"scenarios": "drawn", "draws": 16, "seed": 2}
    spec = {"objective": {"type": "stochastic_benefit", **scen},
            "cap": {"type": "chance_limits", "limits": {
                "qiaoqi_reservoir": {"sediment": 42000}}, "share": 0.8, **scen}}
    problem = Problem.from_model(ROOT / "models" / "baoxing.yaml",  # as robust_sediment
                                 scenarios=["robust_sediment"])
    for comp in components_from_config(spec):
        problem = problem.add(comp)
    result = problem.solve()
    assert result.status == "optimal"
    assert hasattr(result.built.blocks["cap"], "reduction_0_factor")
    table = result.built.problem.component("cap").plan_tables(result.built, result)[
        "scenario_limits"]
    assert table["probability"][table["met"]].sum() >= 0.8 - 1e-9
    monkeypatch.setattr(stochastic, "factorised", lambda matrix: None)
    plain = problem.solve()
    assert not hasattr(plain.built.blocks["cap"], "reduction_0_factor")
    assert result.objective == pytest.approx(plain.objective, rel=1e-7)


def test_factorised_is_exact_or_declines() -> None:
    from dss.optimize.components.scenario_data import factorised

    rng = np.random.default_rng(1)
    low = rng.normal(size=(30, 3)) @ rng.normal(size=(3, 200))
    weights, basis = factorised(low)
    assert basis.shape[0] == 3
    np.testing.assert_allclose(weights @ basis, low, atol=1e-10)
    assert factorised(rng.normal(size=(30, 200))) is None
