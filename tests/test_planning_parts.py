"""Every planning objective, constraint and penalty on small problems with a unique optimum
that can be checked by hand (the arithmetic is in each test's docstring)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from dss.errors import InputError
from dss.planning.evaluate import (
    asym_connectivity,
    components,
    connectivity,
    evaluate,
    objective_value,
    replacement_cost,
    target_coverage,
)
from dss.planning.penalties import river_dependence
from dss.planning.portfolio import portfolio
from dss.planning.problem import PlanningProblem
from dss.planning.solve import SolverOptions

EXACT = SolverOptions(gap=0.0, abs_gap=1e-9, time_limit=30)


def line(costs: list[float], amounts: dict[str, list[float]], external: dict[int, float] | None
         = None) -> PlanningProblem:
    """Units 1..n in a line, shared boundaries of length 1 between neighbours."""
    n = len(costs)
    units = pd.DataFrame({"id": list(range(1, n + 1)), "cost": costs})
    rows = [{"feature": f, "unit": i + 1, "amount": a}
            for f, values in amounts.items() for i, a in enumerate(values) if a]
    bound = [{"id1": i, "id2": i + 1, "boundary": 1.0} for i in range(1, n)]
    bound += [{"id1": i, "id2": i, "boundary": b} for i, b in (external or {}).items()]
    return PlanningProblem.from_tables(units, list(amounts), pd.DataFrame(rows),
                                       boundary=pd.DataFrame(bound, columns=["id1", "id2",
                                                                             "boundary"]))


def chosen(result) -> list[str]:
    return [u for u, v in zip(result.problem.data.unit_ids, result.selected(), strict=True)
            if v > 0.5]


@pytest.fixture
def base() -> PlanningProblem:
    """a in units 1-2, b in units 3-4; costs 1, 2, 3, 4.5; one of each needed."""
    return line([1, 2, 3, 4.5], {"a": [1, 1, 0, 0], "b": [0, 0, 1, 1]}) \
        .add_absolute_targets(1.0).add_min_set_objective()


def solve(problem: PlanningProblem):
    result = problem.solve(EXACT)
    assert result.status == "optimal", result.log[-2000:]
    return result


# ------------------------------------------------------------------------------- objectives


def test_min_set(base: PlanningProblem) -> None:
    """Cheapest a (unit 1, cost 1) plus cheapest b (unit 3, cost 3) = 4."""
    result = solve(base)
    assert chosen(result) == ["1", "3"]
    assert result.objective == pytest.approx(4.0)
    assert result.gap == 0.0


def test_relative_targets_are_shares_of_the_total() -> None:
    """a totals 4 (1 + 3); 50 % is 2: unit 2 (3 of a, cost 2) beats unit 1 (1 of a)."""
    p = line([1, 2], {"a": [1, 3]}).add_relative_targets(0.5).add_min_set_objective()
    assert p.targets[0].amount == pytest.approx(2.0)
    result = solve(p)
    assert chosen(result) == ["2"] and result.objective == pytest.approx(2.0)


def _utility_problem() -> PlanningProblem:
    """Utility per unit 1, 3, 2, 4.8 at costs 1, 2, 3, 4.5."""
    return line([1, 2, 3, 4.5], {"a": [1, 3, 0, 0], "b": [0, 0, 2, 4.8]})


def test_max_utility() -> None:
    """Budget 5: {2,3} holds 5 > {4} 4.8 > {1,2} 4 > {1,3} 3."""
    result = solve(_utility_problem().add_max_utility_objective(5.0))
    assert chosen(result) == ["2", "3"] and result.objective == pytest.approx(5.0)


def test_max_utility_weights() -> None:
    """Weight 2 on b: {4} is worth 9.6 > {2,3} 3 + 4 = 7."""
    result = solve(_utility_problem().add_feature_weights({"b": 2.0})
                   .add_max_utility_objective(5.0))
    assert chosen(result) == ["4"] and result.objective == pytest.approx(9.6)


def test_max_features() -> None:
    """Targets a >= 3 (unit 2, cost 2) and b >= 4.8 (unit 4, cost 4.5) cannot both fit in a
    budget of 5; b weighs 2, so {4} (score 2) beats {2} (score 1)."""
    p = _utility_problem().add_absolute_targets({"a": 3.0, "b": 4.8}) \
        .add_feature_weights({"a": 1.0, "b": 2.0}).add_max_features_objective(5.0)
    result = solve(p)
    assert chosen(result) == ["4"] and result.objective == pytest.approx(2.0)


def _shortfall_problem() -> PlanningProblem:
    """a >= 4 (units 1 + 2 hold 1 + 3), b >= 4.8 (unit 3 holds 2, unit 4 4.8)."""
    return _utility_problem().add_absolute_targets({"a": 4.0, "b": 4.8})


def test_min_shortfall() -> None:
    """Budget 5. {2,3}: a short 1/4, b short 2.8/4.8: 0.25 + 0.5833 = 0.8333; {1,2}: 0 + 1;
    {4}: 1 + 0; {1,3}: 0.75 + 0.5833."""
    result = solve(_shortfall_problem().add_min_shortfall_objective(5.0))
    assert chosen(result) == ["2", "3"]
    assert result.objective == pytest.approx(0.25 + 2.8 / 4.8)


def test_min_largest_shortfall() -> None:
    """Budget 5. Largest shortfall: {2,3} 0.5833, {1,3} 0.75, {1,2} 1, {4} 1."""
    result = solve(_shortfall_problem().add_min_largest_shortfall_objective(5.0))
    assert chosen(result) == ["2", "3"]
    assert result.objective == pytest.approx(2.8 / 4.8)


# ------------------------------------------------------------------------------ penalties


def test_boundary_penalty_small(base: PlanningProblem) -> None:
    """BLM 0.5: {1,3} 4 + 3 x 0.5 = 5.5 < {2,3} 5 + 2 x 0.5 = 6 < {1,2,3} 6 + 0.5."""
    result = solve(base.add_boundary_penalties(0.5))
    assert chosen(result) == ["1", "3"] and result.objective == pytest.approx(5.5)
    assert result.terms["boundary"] == pytest.approx(1.5)


def test_boundary_penalty_large(base: PlanningProblem) -> None:
    """BLM 2: {1,2,3} 6 + 1 x 2 = 8 < {2,3} 5 + 2 x 2 = 9 < {1,3} 4 + 3 x 2 = 10."""
    result = solve(base.add_boundary_penalties(2.0))
    assert chosen(result) == ["1", "2", "3"] and result.objective == pytest.approx(8.0)


def test_boundary_penalty_external_edges() -> None:
    """Units 1 and 4 have an outer boundary of 1. BLM 2, edge factor 1: {2,3} 5 + 2 x 2 = 9;
    {1,2,3} 6 + 2 x (1 + 1) = 10; {1,3} 4 + 2 x (3 + 1) = 12."""
    p = line([1, 2, 3, 4.5], {"a": [1, 1, 0, 0], "b": [0, 0, 1, 1]}, {1: 1.0, 4: 1.0}) \
        .add_absolute_targets(1.0).add_min_set_objective()
    result = solve(p.add_boundary_penalties(2.0, edge_factor=1.0))
    assert chosen(result) == ["2", "3"] and result.objective == pytest.approx(9.0)
    # edge factor 0 ignores the outer boundary: back to {1,2,3} at 8
    result = solve(p.add_boundary_penalties(2.0, edge_factor=0.0))
    assert chosen(result) == ["1", "2", "3"] and result.objective == pytest.approx(8.0)


def test_symmetric_connectivity_bonus() -> None:
    """Utility 1, 0.5, 1.2, budget 2 (costs 1). Without a bonus {1,3} = 2.2; with a bonus
    of 1 per connected pair (1-2, 2-3): {2,3} = 1.7 + 1 = 2.7 > {1,2} 2.5 > {1,3} 2.2."""
    p = line([1, 1, 1], {"a": [1.0, 0.5, 1.2]}).add_max_utility_objective(2.0)
    assert chosen(solve(p)) == ["1", "3"]
    result = solve(p.add_connectivity_penalties(1.0))
    assert chosen(result) == ["2", "3"] and result.objective == pytest.approx(2.7)


def test_asymmetric_connectivity_from_the_river() -> None:
    """Unit 2 lies downstream of unit 1 (D[2,1] = 1). Protecting 2 alone costs 1 + p; unit 1
    alone costs 2. p = 1.5: {1} (2) beats {2} (2.5); p = 0.5: {2} (1.5) wins."""
    river = nx.DiGraph([("1", "2")])
    data = river_dependence(river, ["1", "2"])
    assert data.to_dict("records") == [{"id1": "2", "id2": "1", "value": 1.0, "hops": 1}]
    p = line([2, 1], {"a": [1, 1]}).add_absolute_targets(1.0).add_min_set_objective()
    strong = solve(p.add_asym_connectivity_penalties(1.5, data))
    assert chosen(strong) == ["1"] and strong.objective == pytest.approx(2.0)
    weak = solve(p.add_asym_connectivity_penalties(0.5, data))
    assert chosen(weak) == ["2"] and weak.objective == pytest.approx(1.5)


def test_river_dependence_hops_and_decay() -> None:
    """A chain 1 -> 2 -> 3: with two hops, 3 depends on 2 (1) and on 1 (decay 0.5)."""
    river = nx.DiGraph([("1", "2"), ("2", "3")])
    table = river_dependence(river, ["1", "2", "3"], hops=2, decay=0.5)
    got = {(r.id1, r.id2): r.value for r in table.itertuples(index=False)}
    assert got == {("2", "1"): 1.0, ("3", "2"): 1.0, ("3", "1"): 0.5}


def test_linear_penalty() -> None:
    """Pressure 5 on unit 1 (cost 1), 0 on unit 2 (cost 2): 1 + 5 > 2."""
    p = line([1, 2], {"a": [1, 1]}).add_absolute_targets(1.0).add_min_set_objective()
    result = solve(p.add_linear_penalties(1.0, [5.0, 0.0]))
    assert chosen(result) == ["2"] and result.objective == pytest.approx(2.0)


# ----------------------------------------------------------------------------- constraints


def test_locked_out(base: PlanningProblem) -> None:
    """Unit 1 out: a from unit 2: {2,3} = 5."""
    result = solve(base.add_locked_out_constraints([1]))
    assert chosen(result) == ["2", "3"] and result.objective == pytest.approx(5.0)


def test_locked_in(base: PlanningProblem) -> None:
    """Unit 4 in: b is met; a from unit 1: {1,4} = 5.5."""
    result = solve(base.add_locked_in_constraints(["4"]))
    assert chosen(result) == ["1", "4"] and result.objective == pytest.approx(5.5)


def test_linear_constraint(base: PlanningProblem) -> None:
    """At most 1 'road km' (3 on unit 1): unit 1 is excluded, {2,3} = 5."""
    result = solve(base.add_linear_constraints(1.0, "<=", [3.0, 0.0, 0.0, 0.0], name="roads"))
    assert chosen(result) == ["2", "3"]


def test_linear_constraint_by_column() -> None:
    """A units column named as the data: at least 2 units (ones) must be chosen."""
    units = pd.DataFrame({"id": [1, 2, 3], "cost": [1.0, 2.0, 3.0], "one": [1, 1, 1]})
    amounts = pd.DataFrame({"feature": ["a"], "unit": [3], "amount": [1.0]})
    p = PlanningProblem.from_tables(units, ["a"], amounts).add_absolute_targets(1.0) \
        .add_min_set_objective().add_linear_constraints(2, ">=", "one")
    result = solve(p)
    assert chosen(result) == ["1", "3"] and result.objective == pytest.approx(4.0)


def test_neighbour_constraint(base: PlanningProblem) -> None:
    """Each chosen unit needs a chosen neighbour: {1,3} fails; {2,3} = 5 is the cheapest."""
    result = solve(base.add_neighbor_constraints(1))
    assert chosen(result) == ["2", "3"] and result.objective == pytest.approx(5.0)


def grid() -> PlanningProblem:
    """2 x 3 grid: 1 2 3 / 4 5 6; a in unit 1, b in unit 3; unit 2 costs 10."""
    units = pd.DataFrame({"id": [1, 2, 3, 4, 5, 6], "cost": [1, 10, 1, 2, 2, 2.0]})
    amounts = pd.DataFrame({"feature": ["a", "b"], "unit": [1, 3], "amount": [1.0, 1.0]})
    pairs = [(1, 2), (2, 3), (4, 5), (5, 6), (1, 4), (2, 5), (3, 6)]
    bound = pd.DataFrame([{"id1": a, "id2": b, "boundary": 1.0} for a, b in pairs])
    return PlanningProblem.from_tables(units, ["a", "b"], amounts, boundary=bound) \
        .add_absolute_targets(1.0).add_min_set_objective()


def test_contiguity_takes_the_cheap_detour() -> None:
    """{1,3} costs 2 but is split; through unit 2 it costs 12; round by 4-5-6 it costs 8."""
    assert chosen(solve(grid())) == ["1", "3"]
    result = solve(grid().add_contiguity_constraints())
    assert chosen(result) == ["1", "3", "4", "5", "6"]
    assert result.objective == pytest.approx(8.0)
    assert len(components(result.problem, result.solution)) == 1


def test_contiguity_with_a_locked_in_root() -> None:
    """Unit 5 locked in (the flow's root): 1-4-5-6-3 still the cheapest, 8."""
    result = solve(grid().add_locked_in_constraints([5]).add_contiguity_constraints())
    assert chosen(result) == ["1", "3", "4", "5", "6"]


def test_contiguity_infeasible_when_locks_split() -> None:
    """Units 2 and 5 locked out, 1 and 3 must be joined: no connected plan."""
    p = grid().add_locked_out_constraints([2, 5]).add_contiguity_constraints()
    result = p.solve(EXACT)
    assert result.status == "infeasible" and result.exit_code == 3


def zoned() -> PlanningProblem:
    """Three units, zones core / general / outside; h = 5, 3, 2 (total 10); core costs 3,
    general 1, outside 0; population 100, 0, 50."""
    units = pd.DataFrame({"id": ["u1", "u2", "u3"], "core": 3.0, "general": 1.0,
                          "population": [100.0, 0.0, 50.0]})
    amounts = pd.DataFrame({"feature": "h", "unit": ["u1", "u2", "u3"],
                            "amount": [5.0, 3.0, 2.0]})
    return (PlanningProblem.from_tables(units, ["h"], amounts,
                                        cost={"core": "core", "general": "general",
                                              "outside": 0.0},
                                        zones=["core", "general", "outside"])
            .add_mandatory_allocation_constraints()
            .add_relative_targets(0.8, zones=["core", "general"])
            .add_relative_targets(0.5, zones=["core"])
            .add_min_set_objective())


def test_zones_targets_per_zone_group() -> None:
    """Core >= 5 and park >= 8: u1 core (3) + u2 general (1) = 4 (u2 core: 6; u1 general
    misses the core target)."""
    result = solve(zoned())
    assert result.zone_of() == ["core", "general", "outside"]
    assert result.objective == pytest.approx(4.0)


def test_zone_rule_people_in_the_core() -> None:
    """At most 60 people in the core: u1 (100) cannot be core; core from u2 + u3 (5, 50
    people, cost 6) and u1 general for the park (cost 1): 7."""
    result = solve(zoned().add_linear_constraints(60, "<=", "population", zones=["core"]))
    assert result.zone_of() == ["general", "core", "core"]
    assert result.objective == pytest.approx(7.0)


def test_zone_contributions() -> None:
    """General holds half its habitat: u1 core 5 + u2 core 3 = 8 (cost 6) beats u1 core +
    u2 general + u3 core (5 + 1.5 + 2 = 8.5, cost 7); u2, u3 general give only 7.5."""
    units = pd.DataFrame({"id": ["u1", "u2", "u3"], "core": 3.0, "general": 1.0})
    amounts = pd.DataFrame({"feature": "h", "unit": ["u1", "u2", "u3"],
                            "amount": [5.0, 3.0, 2.0]})
    p = (PlanningProblem.from_tables(units, ["h"], amounts,
                                     cost={"core": "core", "general": "general", "outside": 0.0},
                                     zones=["core", "general", "outside"],
                                     contributions={"h": {"general": 0.5, "outside": 0.0}})
         .add_mandatory_allocation_constraints()
         .add_absolute_targets(8.0, zones=["core", "general"])
         .add_absolute_targets(5.0, zones=["core"]).add_min_set_objective())
    result = solve(p)
    assert result.zone_of() == ["core", "core", "outside"]
    assert result.objective == pytest.approx(6.0)


def test_locked_into_a_zone_group() -> None:
    """u3 locked in the park (core or general): cheapest is general (1): 4 + 1 = 5."""
    result = solve(zoned().add_locked_in_constraints(["u3"], ["core", "general"]))
    assert result.zone_of() == ["core", "general", "general"]
    assert result.objective == pytest.approx(5.0)


def test_proportion_decisions() -> None:
    """Target 2 of a; unit 2 holds 4 at cost 3 (0.75 per unit of a) against unit 1's 1 per
    unit: half of unit 2, cost 1.5 (binary: unit 2 alone, 3)."""
    p = line([1, 3], {"a": [1, 4]}).add_absolute_targets(2.0).add_min_set_objective()
    assert solve(p).objective == pytest.approx(3.0)
    result = solve(p.add_proportion_decisions())
    assert result.solution[:, 0] == pytest.approx([0.0, 0.5])
    assert result.objective == pytest.approx(1.5)


# ------------------------------------------------------------------------ evaluation & co


def test_evaluate_a_plan(base: PlanningProblem) -> None:
    """{1,3}: cost 4, perimeter 3 (three cut pairs), two pieces, both targets met."""
    p = base.add_boundary_penalties(1.0)
    ev = evaluate(p, np.array([1, 0, 1, 0]))
    summary = ev.summary.set_index("metric")["value"]
    assert summary["cost"] == 4 and summary["boundary selected"] == 3
    assert summary["pieces selected"] == 2 and summary["targets met"] == 2
    assert summary["objective"] == pytest.approx(7.0)
    assert objective_value(p, np.array([0, 1, 1, 0])) == pytest.approx(7.0)
    cov = target_coverage(p, np.array([1, 0, 0, 0]))
    assert cov["met"].tolist() == [True, False] and cov["shortfall"].tolist() == [0, 1]


def test_connectivity_summaries(base: PlanningProblem) -> None:
    """{1,2,3} shares boundaries 1-2 and 2-3 inside (2); unit 2 alone depends on unit 1,
    outside (1); with unit 1 in, nothing is left unprotected (0)."""
    assert connectivity(base, np.array([1, 1, 1, 0])) == pytest.approx(2.0)
    river = pd.DataFrame({"id1": ["2"], "id2": ["1"], "value": [1.0]})
    assert asym_connectivity(base, np.array([0, 1, 0, 0]), river) == pytest.approx(1.0)
    assert asym_connectivity(base, np.array([1, 1, 0, 0]), river) == pytest.approx(0.0)


def test_replacement_cost(base: PlanningProblem) -> None:
    """Optimum {1,3} = 4. Without unit 1: {2,3} = 5 (+1); without unit 3: {1,4} = 5.5
    (+1.5)."""
    result = solve(base)
    table = replacement_cost(base, result, EXACT).set_index("unit")
    assert table.loc["1", "replacement_cost"] == pytest.approx(1.0)
    assert table.loc["3", "replacement_cost"] == pytest.approx(1.5)


def test_replacement_cost_irreplaceable_and_locked() -> None:
    """Only unit 1 holds a: infinite; a locked-in unit: NaN."""
    p = line([1, 2], {"a": [1, 0], "b": [0, 1]}).add_absolute_targets(1.0) \
        .add_min_set_objective().add_locked_in_constraints([2])
    table = replacement_cost(p, solve(p), EXACT).set_index("unit")
    assert table.loc["1", "replacement_cost"] == np.inf
    assert table.loc["2", "status"] == "locked"


def test_cuts_portfolio(base: PlanningProblem) -> None:
    """Plans in order: {1,3} 4, {2,3} 5, {1,4} 5.5, {1,2,3} 6; unit 1 in 3 of 4."""
    pf = portfolio(base, 4, options=EXACT)
    assert pf.plans()["objective"].tolist() == pytest.approx([4.0, 5.0, 5.5, 6.0])
    freq = pf.frequency().set_index("unit")["frequency"]
    assert freq["1"] == pytest.approx(0.75) and freq["4"] == pytest.approx(0.25)
    gap = portfolio(base, 10, gap=0.3, options=EXACT)
    assert gap.plans()["objective"].max() <= 4 * 1.3 + 1e-9 and len(gap.results) == 2


def test_infeasible_targets_are_explained() -> None:
    """a totals 2; a target of 3 cannot be met: status infeasible, shortfall 1."""
    p = line([1, 1], {"a": [1, 1]}).add_absolute_targets(3.0).add_min_set_objective()
    result = p.solve(EXACT)
    assert result.status == "infeasible"
    assert result.shortfalls["shortfall"].tolist() == pytest.approx([1.0])
    assert result.shortfalls["in_conflict"].tolist() == [True]


def test_conflicting_targets_are_named() -> None:
    """Units 1-4 each hold one unit of a, b, c, c; at most one unit may be selected (a linear
    constraint), unit 4 is locked out. a, b and c each need a unit of their own: the least
    shortfalls miss two of them by 1, and any two of them conflict, so the deletion filter
    (the elastic mechanism both problem families share) names exactly two, both short."""
    p = (line([1, 1, 1, 1], {"a": [1, 0, 0, 0], "b": [0, 1, 0, 0], "c": [0, 0, 1, 1]})
         .add_absolute_targets(1.0).add_min_set_objective()
         .add_linear_constraints(1.0, "<=", [1.0, 1.0, 1.0, 1.0])
         .add_locked_out_constraints([4]))
    result = p.solve(EXACT)
    assert result.status == "infeasible"
    short = result.shortfalls.set_index("target")
    assert sorted(short["shortfall"].tolist()) == pytest.approx([0.0, 1.0, 1.0])
    assert short["in_conflict"].sum() == 2
    assert short.loc[short["in_conflict"], "shortfall"].tolist() == pytest.approx([1.0, 1.0])


# ------------------------------------------------------------------------------ bad input


def test_bad_input_is_located() -> None:
    units = pd.DataFrame({"id": [1, 2, 2], "cost": [1, -1, "x"]})
    # negative amounts are valid (a feature that a unit harms); text is not
    amounts = pd.DataFrame({"feature": ["a", "zz"], "unit": [9, 1], "amount": [1, "y"]})
    with pytest.raises(InputError) as err:
        PlanningProblem.from_tables(units, ["a"], amounts)
    text = str(err.value)
    for needle in ("units, row 4, column id: duplicate id", "column cost: -1 is below 0",
                   "not a number: 'x'", "amounts, row 3, column feature: unknown feature 'zz'",
                   "amounts, row 2, column unit: unknown planning unit '9'",
                   "amounts, row 3, column amount: not a number: 'y'"):
        assert needle in text, text


def test_api_errors_are_located(base: PlanningProblem) -> None:
    with pytest.raises(InputError, match="unknown planning unit '7'"):
        base.add_locked_in_constraints([7])
    with pytest.raises(InputError, match="column budget: budget must be"):
        base.add_max_utility_objective(-1)
    with pytest.raises(InputError, match="unknown zone 'core'"):
        base.add_contiguity_constraints(["core"])
    with pytest.raises(InputError, match="is locked in to selected and locked out"):
        base.add_locked_in_constraints([1]).add_locked_out_constraints([1]).solve(EXACT)
    with pytest.raises(InputError, match="contiguity constraints need binary decisions"):
        base.add_contiguity_constraints().add_proportion_decisions().solve(EXACT)
    with pytest.raises(InputError, match="needs targets"):
        line([1], {"a": [1]}).add_min_set_objective().solve(EXACT)
    with pytest.raises(InputError, match="no objective"):
        line([1], {"a": [1]}).solve(EXACT)
    plain = PlanningProblem.from_tables(pd.DataFrame({"id": [1], "cost": [1]}), ["a"],
                                        pd.DataFrame({"feature": ["a"], "unit": [1],
                                                      "amount": [1]}))
    with pytest.raises(InputError, match="boundary penalties need a boundary table"):
        plain.add_boundary_penalties(1.0)


def test_problems_are_immutable(base: PlanningProblem) -> None:
    richer = base.add_boundary_penalties(2.0)
    assert base.penalties == () and len(richer.penalties) == 1
    assert "Boundary-length penalty" in richer.describe()
