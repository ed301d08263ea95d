"""Differential tests of every built-in model component, in prioritizr's style.

Each test compiles the tiny study (``tests/data/tiny``) with and without one component (or
with it at two settings) and asserts exactly what changed in the Pyomo model: which
constraints were added (names and index sets), their linear coefficients and bounds, and
whether the objective changed (and by exactly which coefficients). It then solves both and
asserts the expected effect on the plan.

The tiny study (budget 500,000 CNY, 10-year horizon) has nine decision options, in this order
(rows sorted by subunit, action)::

    k  subunit  action      capacity  unit cost  township  zone shares
    0  A        scar_reveg  10 ha      30,000    north     core 1
    1  B        check_dam   2 dams    500,000    north     core .5, general .5
    2  B        gfg_forest  20 ha      20,000    north     core .5, general .5
    3  D        check_dam   3 dams    500,000    south     general .5, outside .5
    4  D        gfg_forest  40 ha      20,000    south     general .5, outside .5
    5  D        sewage      200 PE      4,500    south     (fixed cost 100,000)
    6  E        check_dam   1 dam     500,000    south     outside 1
    7  E        gfg_forest  25 ha      20,000    south     outside 1
    8  E        sewage      500 PE      4,500    south     (fixed cost 100,000)

Its base plan is scar_reveg 10 ha in A and gfg_forest 10 ha in D (spend 500,000). River tree:
A -> C, B -> C, C -> E, D -> E, E -> F; the reservoir control point sits at C, the outlet at F.
"""

from __future__ import annotations

import shutil
import sys
import types
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import pyomo.environ as pyo
import pytest
from pyomo.repn import generate_standard_repn

import dss.optimize.components.base as base_mod
from dss.errors import ComponentError, InputError
from dss.optimize.build import Built, compile_problem
from dss.optimize.components import available, get, register
from dss.optimize.components.base import Component, Params, Role, unregister
from dss.optimize.components.benefits import (
    ELASTIC_PENALTY,
    Carbon,
    DeliveredReduction,
    Habitat,
    LoadLimits,
)
from dss.optimize.components.constraints import (
    Budget,
    Equity,
    LandAvailability,
    Locks,
    ZoneRules,
)
from dss.optimize.components.objectives import MaxBenefit, MinCost
from dss.optimize.plan_effects import option_costs
from dss.optimize.problem import Problem
from dss.optimize.results import control_point_table
from dss.optimize.solve import Result

TINY = Path(__file__).parent / "data" / "tiny"
HORIZON = 10.0
BUDGET = 500_000.0
UNIT_COST = {"scar_reveg": 30_000.0, "gfg_forest": 20_000.0, "check_dam": 500_000.0,
             "sewage": 4_000.0 + HORIZON * 50.0}
"""capital + horizon x annual cost, read off tests/data/tiny/actions.csv."""
FIXED_COST = {"sewage": 100_000.0}
TOL = 1e-6


# ------------------------------------------------------------------------------ model reading


@dataclass(frozen=True)
class Lin:
    """A linear constraint ``lower <= sum(coefs[v] * v) <= upper`` (constant moved out)."""

    coefs: dict[str, float]
    lower: float | None
    upper: float | None

    def leq(self) -> tuple[dict[str, float], float]:
        """The constraint as ``coefs . x <= rhs`` (it must be one-sided)."""
        if self.lower is None:
            return self.coefs, self.upper
        assert self.upper is None, "two-sided constraint"
        return {v: -c for v, c in self.coefs.items()}, -self.lower

    def geq(self) -> tuple[dict[str, float], float]:
        """The constraint as ``coefs . x >= rhs`` (it must be one-sided)."""
        coefs, rhs = self.leq()
        return {v: -c for v, c in coefs.items()}, -rhs


def linear(expr) -> tuple[dict[str, float], float]:
    """Coefficients by variable name, and the constant, of a linear expression."""
    repn = generate_standard_repn(expr, compute_values=True)
    assert repn.is_linear()
    coefs: dict[str, float] = {}
    for var, coef in zip(repn.linear_vars, repn.linear_coefs, strict=True):
        coefs[var.name] = coefs.get(var.name, 0.0) + float(coef)
    return {v: c for v, c in coefs.items() if c != 0}, float(repn.constant)


def spend_definitions(built: Built) -> dict[str, dict[str, float]]:
    """spend[g] -> its definition in amounts (the core splits the cost by township)."""
    out = {}
    for g, con in built.model.spend_def.items():
        coefs, _ = linear(con.body)  # +-(spend[g] - sum_k c_k x_k) == 0
        name = built.model.spend[g].name
        out[name] = {v: -c / coefs[name] for v, c in coefs.items() if v != name}
    return out


def in_amounts(built: Built, coefs: dict[str, float]) -> dict[str, float]:
    """Coefficients with every township spend variable replaced by its definition."""
    spend = spend_definitions(built)
    out: dict[str, float] = {}
    for v, c in coefs.items():
        for w, d in (spend[v].items() if v in spend else [(v, 1.0)]):
            out[w] = out.get(w, 0.0) + c * d
    return {v: c for v, c in out.items() if abs(c) > 1e-12}


def constraints(built: Built) -> dict[str, Lin]:
    """Every active constraint of a compiled model, by its full name, in amount variables
    (township spend variables substituted; their definitions are left out)."""
    out = {}
    for con in built.model.component_data_objects(pyo.Constraint, active=True):
        if con.parent_component() is built.model.spend_def:
            continue
        coefs, const = linear(con.body)
        coefs = in_amounts(built, coefs)
        lower = None if con.lower is None else float(pyo.value(con.lower)) - const
        upper = None if con.upper is None else float(pyo.value(con.upper)) - const
        out[con.name] = Lin(coefs, lower, upper)
    return out


def objective(built: Built) -> tuple[dict[str, float], float, int]:
    """(coefficients, constant, sense) of the objective."""
    obj = built.model.objective_function
    coefs, const = linear(obj.expr)
    return in_amounts(built, coefs), const, obj.sense


def variables(built: Built) -> dict[str, tuple[float | None, float | None]]:
    """Every variable's bounds, by name."""
    return {v.name: (v.lb, v.ub) for v in built.model.component_data_objects(pyo.Var)}


def same_lin(a: Lin, b: Lin) -> bool:
    return (a.coefs.keys() == b.coefs.keys()
            and all(a.coefs[k] == pytest.approx(b.coefs[k]) for k in a.coefs)
            and a.lower == pytest.approx(b.lower) and a.upper == pytest.approx(b.upper))


def added_constraints(before: Built, after: Built) -> dict[str, Lin]:
    """Constraints in ``after`` but not in ``before``; every shared one must be unchanged."""
    cb, ca = constraints(before), constraints(after)
    assert set(cb) <= set(ca), f"constraints removed: {sorted(set(cb) - set(ca))}"
    changed = [n for n in cb if not same_lin(cb[n], ca[n])]
    assert not changed, f"existing constraints changed: {changed}"
    return {n: ca[n] for n in sorted(set(ca) - set(cb))}


def objective_delta(before: Built, after: Built) -> dict[str, float]:
    """Coefficients the objective gained (same sense and constant required)."""
    cb, kb, sb = objective(before)
    ca, ka, sa = objective(after)
    assert sb == sa and kb == pytest.approx(ka)
    delta = {v: ca.get(v, 0.0) - cb.get(v, 0.0) for v in set(ca) | set(cb)}
    return {v: d for v, d in delta.items() if abs(d) > 1e-9}


def assert_objective_unchanged(before: Built, after: Built) -> None:
    assert objective_delta(before, after) == {}


# ------------------------------------------------------------------------------ tiny helpers


@pytest.fixture(scope="module")
def tiny() -> Problem:
    return Problem.from_model(TINY / "model.yaml")


def copy_tiny(tmp_path: Path) -> Path:
    """A writable copy of the tiny study; returns its folder."""
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    return folder


def append_row(folder: Path, table: str, row: str) -> None:
    with open(folder / f"{table}.csv", "a", encoding="utf-8") as fh:
        fh.write(row.rstrip("\n") + "\n")


def set_cells(folder: Path, table: str, key: str, key_value: str, **values) -> None:
    """Set cells of the row whose ``key`` column equals ``key_value`` (text preserved)."""
    frame = pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)
    for column, value in values.items():
        frame.loc[frame[key] == key_value, column] = str(value)
    frame.to_csv(folder / f"{table}.csv", index=False, lineterminator="\n")


def k_of(built: Built, subunit: str, action: str) -> int:
    """Option index of (subunit, action)."""
    opts = built.ctx.options
    hit = np.flatnonzero((opts["subunit_id"] == subunit) & (opts["action_id"] == action))
    assert len(hit) == 1, (subunit, action)
    return int(hit[0])


def amt(k: int) -> str:
    return f"amount[{k}]"


def solve(built: Built) -> Result:
    from dss.optimize.solve import solve_built

    result = solve_built(built)
    assert result.status == "optimal", result.status
    return result


def spend(result: Result, mask=None) -> float:
    costs = option_costs(result)
    return float(costs.sum() if mask is None else costs[np.asarray(mask)].sum())


def cost_coefs(built: Built, mask=None, scale: float = 1.0) -> dict[str, float]:
    """Expected cost coefficients (independent of the options' unit_cost column)."""
    opts = built.ctx.options
    out = {}
    for k, a in enumerate(opts["action_id"]):
        if mask is None or mask[k]:
            out[amt(k)] = scale * UNIT_COST[a]
            if a in FIXED_COST:
                out[f"used[{k}]"] = scale * FIXED_COST[a]
    return out


# ---------------------------------------------------------------------------------- budget


def test_budget_total_adds_one_cost_constraint(tiny: Problem) -> None:
    exact = tiny.with_solver(mip_gap=0.0)
    without, with_ = compile_problem(exact.without("budget")), compile_problem(exact)
    added = added_constraints(without, with_)
    assert list(added) == ["budget.total"]
    total = added["budget.total"]
    assert total.coefs == pytest.approx(cost_coefs(with_))
    assert total.lower is None and total.upper == pytest.approx(BUDGET)
    assert_objective_unchanged(without, with_)

    free, capped = solve(without), solve(with_)
    # every option has a positive benefit, so without a budget each goes to full capacity,
    # unless raising it would break the core local mass balance (no subunit loses more than
    # it produces)
    free_x = free.amounts
    opts = without.ctx.options
    capacity = opts["capacity"].to_numpy()
    pos = without.ctx.option_subunit_pos
    balance = without.model.local_balance
    for k in range(len(free_x)):
        if free_x[k] == pytest.approx(capacity[k]):
            continue
        room = capacity[k] - free_x[k]
        assert any(pyo.value(balance[p, pos[k]].body) + opts[f"d_{p}"].iat[k] * room
                   > balance[p, pos[k]].upper + 1e-6
                   for p in ("sediment", "tn", "tp") if (p, pos[k]) in balance)
    assert spend(free) > BUDGET
    assert spend(capped) == pytest.approx(BUDGET)  # the budget binds
    assert capped.objective < free.objective


def test_budget_per_agency_and_township(tiny: Problem) -> None:
    comp = Budget("budget", total=BUDGET, per_agency={"forestry": 100_000.0},
                  per_township={"north": 100_000.0})
    before, after = compile_problem(tiny), compile_problem(tiny.add(comp))
    added = added_constraints(before, after)
    assert sorted(added) == ["budget.agency[forestry]", "budget.township[north]"]
    opts = after.ctx.options
    forestry = (opts["agency"] == "forestry").to_numpy()
    north = opts["subunit_id"].isin(["A", "B", "C"]).to_numpy()
    agency = added["budget.agency[forestry]"]
    assert agency.coefs == pytest.approx(cost_coefs(after, forestry))
    assert set(agency.coefs) == {amt(k_of(after, s, "gfg_forest")) for s in "BDE"}
    assert (agency.lower, agency.upper) == (None, pytest.approx(100_000.0))
    town = added["budget.township[north]"]
    assert town.coefs == pytest.approx(cost_coefs(after, north))
    assert (town.lower, town.upper) == (None, pytest.approx(100_000.0))
    assert_objective_unchanged(before, after)
    assert list(after.blocks["budget"].agency.keys()) == ["forestry"]

    plain, split = solve(before), solve(after)
    assert spend(plain, forestry) == pytest.approx(200_000.0)
    assert spend(plain, north) == pytest.approx(300_000.0)
    assert spend(split, forestry) <= 100_000.0 + TOL
    assert spend(split, north) <= 100_000.0 + TOL
    assert split.objective < plain.objective


def test_budget_unknown_agency_is_located(tiny: Problem) -> None:
    with pytest.raises(InputError) as err:
        compile_problem(tiny.add(Budget("budget", total=1.0, per_agency={"police": 1.0})))
    assert [i.column for i in err.value.issues] == ["components.budget.per_agency.police"]
    assert ("model.yaml, key components.budget.per_agency.police: unknown agency 'police'"
            in str(err.value))


# ------------------------------------------------------------------------------------ land


TERRACE = ("terrace,Terracing,梯田,cropland,ha,,0.02,5000,0,0,false,forestry,0,0.2,0.2,0,,0,0")
"""A second action on cropland: it competes with gfg_forest for the same hectares."""


def test_land_without_competition_adds_nothing(tiny: Problem) -> None:
    # in the tiny study every (subunit, resource) has one action: its bound suffices
    without, with_ = compile_problem(tiny.without("land")), compile_problem(tiny)
    assert added_constraints(without, with_) == {}
    assert_objective_unchanged(without, with_)


def test_land_sharing_caps_competing_actions(tmp_path: Path) -> None:
    folder = copy_tiny(tmp_path)
    append_row(folder, "actions", TERRACE)
    problem = Problem.from_model(folder / "model.yaml").without("budget")
    without, with_ = compile_problem(problem.without("land")), compile_problem(problem)
    added = added_constraints(without, with_)
    land: LandAvailability = with_.problem.component("land")
    assert sorted(land.labels.values()) == [("B", "cropland"), ("D", "cropland"),
                                           ("E", "cropland")]
    assert sorted(added) == sorted(f"land.share[{g}]" for g in land.labels)
    cropland = {"B": 20.0, "D": 40.0, "E": 25.0}
    for g, (sub, _resource) in land.labels.items():
        share = added[f"land.share[{g}]"]
        assert share.coefs == {amt(k_of(with_, sub, "gfg_forest")): 1.0,
                               amt(k_of(with_, sub, "terrace")): 1.0}
        assert share.lower is None and share.upper == pytest.approx(cropland[sub])
    assert_objective_unchanged(without, with_)

    free, shared = solve(without), solve(with_)
    for sub, area in cropland.items():
        pair = [k_of(with_, sub, "gfg_forest"), k_of(with_, sub, "terrace")]
        # without the land component the same hectares are used twice (capped only by the
        # core rule that no subunit loses more than it produces)
        assert free.amounts[pair].sum() > area + 1.0
        assert shared.amounts[pair].sum() <= area + TOL  # shared
        assert shared.amounts[pair].sum() < free.amounts[pair].sum()


# ------------------------------------------------------------------------------ zone rules


def test_zone_rules_forbid_and_round_integer_limits(tiny: Problem) -> None:
    zones = ZoneRules("zones", core={"forbidden": ["scar_reveg", "gfg_forest"]},
                      general={"forbidden": ["check_dam"]})
    before, after = compile_problem(tiny), compile_problem(tiny.add(zones))
    added = added_constraints(before, after)
    a_scar, b_dam, b_gfg, d_dam = (k_of(after, "A", "scar_reveg"), k_of(after, "B", "check_dam"),
                                   k_of(after, "B", "gfg_forest"), k_of(after, "D", "check_dam"))
    # permitted share x capacity: A is 100 % core -> 0; B half core -> 10 ha of 20 and
    # floor(0.5 x 2) = 1 dam; D half general -> floor(0.5 x 3) = 1 dam (dams are integer)
    expected = {a_scar: 0.0, b_dam: 1.0, b_gfg: 10.0, d_dam: 1.0}
    assert sorted(added) == sorted(f"zones.permitted[{k}]" for k in expected)
    for k, upper in expected.items():
        con = added[f"zones.permitted[{k}]"]
        assert con.coefs == {amt(k): 1.0}
        assert con.lower is None and con.upper == pytest.approx(upper)
    assert list(after.blocks["zones"].required.keys()) == []
    assert_objective_unchanged(before, after)

    plain, zoned = solve(before), solve(after)
    assert plain.amounts[a_scar] == pytest.approx(10.0)
    assert zoned.amounts[a_scar] == 0.0  # forbidden in a 100 %-core subunit
    assert zoned.amounts[b_gfg] <= 10.0 + TOL


def test_zone_rules_allowed_and_required(tiny: Problem) -> None:
    zones = ZoneRules("zones", general={"required": {"gfg_forest": 0.5}},
                      outside={"allowed": ["gfg_forest"]})
    before, after = compile_problem(tiny), compile_problem(tiny.add(zones))
    added = added_constraints(before, after)
    b_gfg, d_gfg = k_of(after, "B", "gfg_forest"), k_of(after, "D", "gfg_forest")
    # required: share_general x 0.5 x capacity: B 0.5 x 0.5 x 20 = 5, D 0.5 x 0.5 x 40 = 10
    required = {b_gfg: 5.0, d_gfg: 10.0}
    # outside allows only gfg_forest: D (half outside) keeps half its dams and sewage, E none
    permitted = {k_of(after, "D", "check_dam"): 1.0, k_of(after, "D", "sewage"): 100.0,
                 k_of(after, "E", "check_dam"): 0.0, k_of(after, "E", "sewage"): 0.0}
    assert sorted(added) == sorted([f"zones.required[{k}]" for k in required]
                                   + [f"zones.permitted[{k}]" for k in permitted])
    for k, lower in required.items():
        con = added[f"zones.required[{k}]"]
        assert con.coefs == {amt(k): 1.0}
        assert con.lower == pytest.approx(lower) and con.upper is None
    for k, upper in permitted.items():
        assert added[f"zones.permitted[{k}]"].upper == pytest.approx(upper)
    assert_objective_unchanged(before, after)

    plain, zoned = solve(before), solve(after)
    assert plain.amounts[b_gfg] == 0.0
    assert zoned.amounts[b_gfg] >= 5.0 - TOL and zoned.amounts[d_gfg] >= 10.0 - TOL


def test_zone_rules_unknown_action_is_located(tiny: Problem) -> None:
    with pytest.raises(InputError) as err:
        compile_problem(tiny.add(ZoneRules("zones", core={"forbidden": ["bulldozing"]})))
    assert [i.column for i in err.value.issues] == ["components.zones.core.forbidden"]


# ----------------------------------------------------------------------------------- locks


def test_locks_out_and_in(tiny: Problem) -> None:
    locks = Locks("locks", locked_out={"A": ["scar_reveg"], "E": "all"},
                  locked_in={"D": {"gfg_forest": 15}})
    before, after = compile_problem(tiny), compile_problem(tiny.add(locks))
    added = added_constraints(before, after)
    out = [k_of(after, "A", "scar_reveg")] + [k_of(after, "E", a)
                                              for a in ("check_dam", "gfg_forest", "sewage")]
    d_gfg = k_of(after, "D", "gfg_forest")
    assert sorted(added) == sorted([f"locks.out[{k}]" for k in out] + [f"locks.in_[{d_gfg}]"])
    for k in out:
        con = added[f"locks.out[{k}]"]
        assert con.coefs == {amt(k): 1.0} and con.lower == 0.0 and con.upper == 0.0
    lock_in = added[f"locks.in_[{d_gfg}]"]
    assert lock_in.coefs == {amt(d_gfg): 1.0}
    assert lock_in.lower == pytest.approx(15.0) and lock_in.upper is None
    assert_objective_unchanged(before, after)

    plain, locked = solve(before), solve(after)
    assert plain.amounts[out[0]] == pytest.approx(10.0)
    assert locked.amounts[out] == pytest.approx(np.zeros(len(out)))
    assert plain.amounts[d_gfg] == pytest.approx(10.0)
    assert locked.amounts[d_gfg] >= 15.0 - TOL


def test_locks_in_all_means_full_capacity(tiny: Problem) -> None:
    locks = Locks("locks", locked_in={"B": "all", "D": {"gfg_forest": "all"}})
    after = compile_problem(tiny.without("budget").add(locks))  # 2,200,000 CNY locked in
    cons = {n: c for n, c in constraints(after).items() if n.startswith("locks.")}
    expected = {k_of(after, "B", "check_dam"): 2.0, k_of(after, "B", "gfg_forest"): 20.0,
                k_of(after, "D", "gfg_forest"): 40.0}
    assert sorted(cons) == sorted(f"locks.in_[{k}]" for k in expected)
    for k, lower in expected.items():
        assert cons[f"locks.in_[{k}]"].lower == pytest.approx(lower)


def test_locks_bad_pairs_are_located(tiny: Problem) -> None:
    locks = Locks("locks", locked_out={"Z": "all", "C": ["sewage"]})
    with pytest.raises(InputError) as err:
        compile_problem(tiny.add(locks))
    issues = {i.column: i.message for i in err.value.issues}
    assert set(issues) == {"components.locks.locked_out.Z", "components.locks.locked_out.C"}
    assert "unknown subunit 'Z'" in issues["components.locks.locked_out.Z"]
    assert "cannot be done in 'C'" in issues["components.locks.locked_out.C"]


# ---------------------------------------------------------------------------------- equity


def test_equity_max_share_caps_township_spend(tiny: Problem) -> None:
    before, after = compile_problem(tiny), compile_problem(tiny.add(Equity("equity",
                                                                           max_share=0.5)))
    added = added_constraints(before, after)
    assert sorted(added) == ["equity.cap[north]", "equity.cap[south]"]
    towns = after.ctx.options["township"].to_numpy()
    for town in ("north", "south"):
        # C_t <= 0.5 C  <=>  sum_k c_k (1[k in t] - 0.5) x_k <= 0
        coefs, rhs = added[f"equity.cap[{town}]"].leq()
        expected = {}
        for name, c in cost_coefs(after).items():
            k = int(name.split("[")[1].rstrip("]"))
            expected[name] = c * ((towns[k] == town) - 0.5)
        assert coefs == pytest.approx(expected)
        assert rhs == pytest.approx(0.0)
    assert_objective_unchanged(before, after)

    plain, fair = solve(before), solve(after)
    north = towns == "north"
    assert spend(plain, north) / spend(plain) == pytest.approx(0.6)
    assert spend(fair, north) / spend(fair) == pytest.approx(0.5)  # capped and binding
    assert spend(fair) == pytest.approx(BUDGET)


def test_equity_township_min_share_override(tiny: Problem) -> None:
    equity = Equity("equity", townships={"south": {"min_share": 0.8}})
    before, after = compile_problem(tiny), compile_problem(tiny.add(equity))
    added = added_constraints(before, after)
    assert list(added) == ["equity.floor[south]"]
    towns = after.ctx.options["township"].to_numpy()
    coefs, rhs = added["equity.floor[south]"].geq()
    expected = {name: c * ((towns[int(name.split("[")[1].rstrip("]"))] == "south") - 0.8)
                for name, c in cost_coefs(after).items()}
    assert coefs == pytest.approx(expected) and rhs == pytest.approx(0.0)

    plain, fair = solve(before), solve(after)
    south = towns == "south"
    assert spend(plain, south) / spend(plain) == pytest.approx(0.4)
    assert spend(fair, south) / spend(fair) >= 0.8 - TOL


def test_equity_shares_that_force_a_zero_plan_are_rejected(tmp_path: Path,
                                                           tiny: Problem) -> None:
    # max shares of the townships with actions adding up below 100 % allow only C = 0
    with pytest.raises(InputError) as err:
        compile_problem(tiny.add(Equity("equity", max_share=0.4)))
    assert [i.column for i in err.value.issues] == ["components.equity.max_share"]
    assert "80 % < 100 %" in err.value.issues[0].message
    # a township where nothing can be done cannot take a minimum share of the spend
    folder = copy_tiny(tmp_path)
    set_cells(folder, "subunits", "subunit_id", "F", township="west")  # F has no options
    problem = Problem.from_model(folder / "model.yaml")
    with pytest.raises(InputError) as err:
        compile_problem(problem.add(Equity("equity", min_share=0.1)))
    assert [i.column for i in err.value.issues] == ["components.equity.townships.west"]
    exempt = Equity("equity", min_share=0.1, townships={"west": {"min_share": 0.0}})
    result = solve(compile_problem(problem.add(exempt)))
    assert spend(result) == pytest.approx(BUDGET)


# ---------------------------------------------------------------------- delivered reduction


def transfer(subunits: pd.DataFrame, source: str, target: str, pollutant: str) -> float:
    """Share of a load entering ``source``'s reach that leaves ``target``'s outlet (0 if
    ``target`` is not downstream): product of (1 - retention) along the path, both ends
    included. Written independently of dss.network.routing."""
    table = subunits.set_index("subunit_id")
    node, share = source, 1.0
    while True:
        share *= 1 - float(table.loc[node, f"retention_{pollutant}"])
        if node == target:
            return share
        node = table.loc[node, "downstream_id"]
        if not isinstance(node, str) or not node:
            return 0.0


def expected_water_coefs(built: Built, values: dict[str, float],
                         weights: dict[str, float] | None = None) -> dict[str, float]:
    """H * sum_t w_t sum_{p cared for at t} v_p T_{i(k) t p} d_{k p}, per option."""
    subunits = pd.read_csv(TINY / "subunits.csv", keep_default_na=False)
    points = pd.read_csv(TINY / "control_points.csv")
    opts = built.ctx.options
    out: dict[str, float] = {}
    for cp in points.itertuples(index=False):
        if weights is not None and cp.point_id not in weights:
            continue
        w = float(cp.weight) if weights is None else weights[cp.point_id]
        for p, v in values.items():
            if not getattr(cp, f"cares_{p}"):
                continue
            for k, (sub, d) in enumerate(zip(opts["subunit_id"], opts[f"d_{p}"], strict=True)):
                c = HORIZON * w * v * transfer(subunits, sub, cp.subunit_id, p) * d
                if c:
                    out[amt(k)] = out.get(amt(k), 0.0) + c
    return out


def test_transfer_helper_matches_hand_values() -> None:
    subunits = pd.read_csv(TINY / "subunits.csv", keep_default_na=False)
    assert transfer(subunits, "A", "C", "sediment") == pytest.approx(0.2)
    assert transfer(subunits, "B", "C", "sediment") == pytest.approx(0.9 * 0.2)
    assert transfer(subunits, "B", "F", "tp") == pytest.approx(0.9 * 0.7 * 0.95)
    assert transfer(subunits, "D", "C", "tn") == 0.0


def test_delivered_reduction_adds_exact_objective_terms(tiny: Problem) -> None:
    without, with_ = compile_problem(tiny.without("water")), compile_problem(tiny)
    assert added_constraints(without, with_) == {}
    assert objective(without)[0] == {}
    values = {"sediment": 100.0, "tn": 10.0, "tp": 100.0}
    assert objective_delta(without, with_) == pytest.approx(expected_water_coefs(with_, values))
    # the reservoir cares for sediment only
    assert sorted(with_.benefit_terms) == ["water: sediment@outlet", "water: sediment@reservoir",
                                           "water: tn@outlet", "water: tp@outlet"]


def test_delivered_reduction_value_scales_linearly(tiny: Problem) -> None:
    one = compile_problem(tiny.add(DeliveredReduction("water", values={"tp": 100.0})))
    two = compile_problem(tiny.add(DeliveredReduction("water", values={"tp": 200.0})))
    assert added_constraints(one, two) == {}
    c1, c2 = objective(one)[0], objective(two)[0]
    assert c1 == pytest.approx(expected_water_coefs(one, {"tp": 100.0}))
    assert c2 == pytest.approx({v: 2 * c for v, c in c1.items()})


def test_delivered_reduction_points_select_upstream_effort(tiny: Problem) -> None:
    water = DeliveredReduction("water", values={"sediment": 100.0}, points={"reservoir": 1.0})
    built = compile_problem(tiny.add(water))
    coefs = objective(built)[0]
    # only A and B drain to the reservoir: 10 y x 100 CNY/t x T x d per unit
    assert coefs == pytest.approx({
        amt(k_of(built, "A", "scar_reveg")): HORIZON * 100 * 0.2 * 99.5,
        amt(k_of(built, "B", "check_dam")): HORIZON * 100 * 0.18 * 70.0,
        amt(k_of(built, "B", "gfg_forest")): HORIZON * 100 * 0.18 * 4.5})
    assert coefs == pytest.approx(expected_water_coefs(built, {"sediment": 100.0},
                                                       {"reservoir": 1.0}))
    plan = solve(built)
    used = set(built.ctx.options.loc[plan.amounts > TOL, "subunit_id"])
    assert used == {"A", "B"}
    assert plan.amounts[k_of(built, "A", "scar_reveg")] == pytest.approx(10.0)


def test_delivered_reduction_unknown_point_is_located(tiny: Problem) -> None:
    with pytest.raises(InputError) as err:
        compile_problem(tiny.add(DeliveredReduction("water", values={"tn": 1.0},
                                                    points={"dam": 1.0})))
    assert [i.column for i in err.value.issues] == ["components.water.points.dam"]


# ----------------------------------------------------------------------------- load limits

RESERVOIR_SEDIMENT = 0.2 * (1045.0 + 0.9 * 140.0 + 25.0)
"""Routed baseline sediment at the reservoir (C): A 1045 t, B 140 t (10 % retained), C's own
25 t, and the reservoir keeps 80 %."""


def test_load_limit_reduction_constraint(tiny: Problem) -> None:
    limits = LoadLimits("limits", reductions={"reservoir": {"sediment": 0.85}})
    before, after = compile_problem(tiny), compile_problem(tiny.add(limits))
    added = added_constraints(before, after)
    assert list(added) == ["limits.limit[reservoir,sediment]"]
    # L0 - dL - s <= 0.15 L0   <=>   -dL - s <= -0.85 L0
    coefs, rhs = added["limits.limit[reservoir,sediment]"].leq()
    slack = "limits.slack[reservoir,sediment]"
    assert coefs == pytest.approx({amt(k_of(after, "A", "scar_reveg")): -0.2 * 99.5,
                                   amt(k_of(after, "B", "check_dam")): -0.18 * 70.0,
                                   amt(k_of(after, "B", "gfg_forest")): -0.18 * 4.5,
                                   slack: -1.0})
    assert rhs == pytest.approx(-0.85 * RESERVOIR_SEDIMENT)
    new_vars = set(variables(after)) - set(variables(before))
    assert new_vars == {slack}
    assert variables(after)[slack] == (0, 0)  # no slack outside elastic mode
    assert_objective_unchanged(before, after)

    plain, limited = solve(before), solve(after)

    def reservoir_after(result: Result) -> float:
        table = control_point_table(result).set_index(["point_id", "pollutant"])
        return float(table.loc[("reservoir", "sediment"), "after"])

    limit = 0.15 * RESERVOIR_SEDIMENT
    assert reservoir_after(plain) > limit + 1.0
    assert reservoir_after(limited) == pytest.approx(limit)  # met (and binding)
    assert limited.objective < plain.objective


def test_load_limits_from_table_and_switch(tmp_path: Path) -> None:
    folder = copy_tiny(tmp_path)
    set_cells(folder, "control_points", "point_id", "outlet", limit_tn=3000)
    problem = Problem.from_model(folder / "model.yaml")
    before = compile_problem(problem)
    table = compile_problem(problem.add(LoadLimits("limits")))
    added = added_constraints(before, table)
    assert list(added) == ["limits.limit[outlet,tn]"]
    coefs, rhs = added["limits.limit[outlet,tn]"].leq()
    baseline = table.ctx.baseline_load("outlet", "tn")
    assert rhs == pytest.approx(3000.0 - baseline)
    # the tightest source wins: an explicit limit below the table's replaces it
    tight = compile_problem(problem.add(LoadLimits("limits", limits={"outlet": {"tn": 2900}})))
    assert constraints(tight)["limits.limit[outlet,tn]"].leq()[1] == pytest.approx(
        2900.0 - baseline)
    off = compile_problem(problem.add(LoadLimits("limits", use_table_limits=False)))
    assert added_constraints(before, off) == {}


def test_load_limit_infeasible_is_explained_with_least_shortfall(tiny: Problem) -> None:
    # 90 % is within reach of all the actions (presolve lets it through), not of the budget
    problem = tiny.add(LoadLimits("limits", reductions={"reservoir": {"sediment": 0.9}}))
    elastic = compile_problem(problem, elastic=True)
    slack = "limits.slack[reservoir,sediment]"
    assert variables(elastic)[slack] == (0, None)
    coefs, _const, sense = objective(elastic)
    limit = 0.1 * RESERVOIR_SEDIMENT
    assert sense == pyo.minimize
    assert coefs == pytest.approx({slack: ELASTIC_PENALTY / max(limit, 1.0)})

    result = problem.solve()
    assert result.status == "infeasible" and not result.has_plan
    row = result.shortfalls.set_index("requirement").loc["sediment at reservoir"]
    # best within budget: scar_reveg in A (10 ha, 199 t) + 10 ha gfg_forest in B (8.1 t)
    best = 0.2 * 99.5 * 10 + 0.18 * 4.5 * 10
    assert row["shortfall"] == pytest.approx(0.9 * RESERVOIR_SEDIMENT - best)
    assert row["target"] == pytest.approx(limit)


# --------------------------------------------------------------------------------- habitat

PANDA_BASELINE = 80 * 0.9 + 60 * 0.5 + 30 * 0.5
"""Quality-weighted panda habitat in species_habitat.csv (ha)."""


def test_habitat_target_forces_gain(tiny: Problem) -> None:
    habitat = Habitat("habitat", species={"panda": {"target_absolute": PANDA_BASELINE + 8}})
    before, after = compile_problem(tiny), compile_problem(tiny.add(habitat))
    added = added_constraints(before, after)
    assert list(added) == ["habitat.target[panda]"]
    coefs, rhs = added["habitat.target[panda]"].geq()
    gfg = {amt(k_of(after, s, "gfg_forest")): 0.5 for s in "BDE"}  # 0.5 ha per ha
    assert coefs == pytest.approx({**gfg, "habitat.slack[panda]": 1.0})
    assert rhs == pytest.approx(8.0)
    assert_objective_unchanged(before, after)  # value 0: a pure requirement

    plain, targeted = solve(before), solve(after)
    gain = after.ctx.options["habitat_gain"].to_numpy()
    assert float(gain @ plain.amounts) == pytest.approx(5.0)
    assert float(gain @ targeted.amounts) == pytest.approx(8.0)  # met, binding


def test_habitat_relative_target_and_value(tiny: Problem) -> None:
    habitat = Habitat("habitat", species={"panda": {"value": 1000.0, "target_relative": 0.1}})
    before, after = compile_problem(tiny), compile_problem(tiny.add(habitat))
    coefs, rhs = added_constraints(before, after)["habitat.target[panda]"].geq()
    assert rhs == pytest.approx(0.1 * PANDA_BASELINE)
    assert objective_delta(before, after) == pytest.approx(
        {amt(k_of(after, s, "gfg_forest")): 1000.0 * 0.5 for s in "BDE"})
    assert "habitat: habitat panda" in after.benefit_terms


def test_habitat_value_only_adds_objective_terms(tiny: Problem) -> None:
    habitat = Habitat("habitat", species={"panda": {"value": 1000.0}})
    before, after = compile_problem(tiny), compile_problem(tiny.add(habitat))
    assert added_constraints(before, after) == {}
    assert objective_delta(before, after) == pytest.approx(
        {amt(k_of(after, s, "gfg_forest")): 500.0 for s in "BDE"})


# ---------------------------------------------------------------------------------- carbon


def test_carbon_minimum(tiny: Problem) -> None:
    before, after = compile_problem(tiny), compile_problem(tiny.add(Carbon("carbon",
                                                                           minimum=2200.0)))
    added = added_constraints(before, after)
    assert list(added) == ["carbon.floor"]
    coefs, rhs = added["carbon.floor"].geq()
    # forest 100 t C/ha minus scar 0 or cropland 5
    expected = {amt(k_of(after, "A", "scar_reveg")): 100.0}
    expected.update({amt(k_of(after, s, "gfg_forest")): 95.0 for s in "BDE"})
    assert coefs == pytest.approx({**expected, "carbon.slack": 1.0})
    assert rhs == pytest.approx(2200.0)
    assert set(variables(after)) - set(variables(before)) == {"carbon.slack"}
    assert variables(after)["carbon.slack"] == (0, 0)  # no slack outside elastic mode
    assert_objective_unchanged(before, after)

    plain, floored = solve(before), solve(after)
    d_carbon = after.ctx.options["d_carbon"].to_numpy()
    assert float(d_carbon @ plain.amounts) == pytest.approx(1950.0)
    assert float(d_carbon @ floored.amounts) == pytest.approx(2200.0)


def test_carbon_minimum_out_of_reach_is_explained(tiny: Problem) -> None:
    result = tiny.add(Carbon("carbon", minimum=5000.0)).solve()
    assert result.status == "infeasible"
    short = result.shortfalls
    (row,) = short[short["kind"] == "requirement"].to_dict("records")
    # most carbon for 500,000 CNY: 25 ha of gfg_forest (95 t C per 20,000 CNY)
    assert row == {"kind": "requirement", "component": "carbon",
                   "requirement": "carbon stock gain", "target": 5000.0, "unit": "t C",
                   "shortfall": pytest.approx(5000.0 - 25 * 95.0), "in_conflict": True,
                   "note": ""}


def test_carbon_value_adds_objective_terms(tiny: Problem) -> None:
    before, after = compile_problem(tiny), compile_problem(tiny.add(Carbon("carbon",
                                                                           value=10.0)))
    assert added_constraints(before, after) == {}
    expected = {amt(k_of(after, "A", "scar_reveg")): 1000.0}
    expected.update({amt(k_of(after, s, "gfg_forest")): 950.0 for s in "BDE"})
    assert objective_delta(before, after) == pytest.approx(expected)


# ------------------------------------------------------------------------------ objectives


def test_max_benefit_cost_weight(tiny: Problem) -> None:
    before = compile_problem(tiny)
    after = compile_problem(tiny.add(MaxBenefit("objective", cost_weight=0.5)))
    assert added_constraints(before, after) == {}
    assert objective(after)[2] == pyo.maximize
    assert objective_delta(before, after) == pytest.approx(cost_coefs(after, scale=-0.5))

    plain, net = solve(before), solve(after)
    assert spend(plain) == pytest.approx(BUDGET)
    # with lambda = 0.5 only options returning more than 0.5 CNY of benefit per CNY stay:
    # scar_reveg in A (1.95 per CNY); gfg_forest in D (0.30 per CNY) is dropped
    expected = np.zeros(after.ctx.n_options)
    expected[k_of(after, "A", "scar_reveg")] = 10.0
    assert net.amounts == pytest.approx(expected)
    assert spend(net) == pytest.approx(300_000.0)


def test_min_cost_objective(tiny: Problem) -> None:
    before = compile_problem(tiny)
    after = compile_problem(tiny.add(MinCost("objective")))
    assert added_constraints(before, after) == {}
    coefs, const, sense = objective(after)
    assert sense == pyo.minimize and const == 0.0
    assert coefs == pytest.approx(cost_coefs(after))

    idle = solve(after)
    assert idle.objective == pytest.approx(0.0) and spend(idle) == pytest.approx(0.0)
    # with a requirement it buys the cheapest way to meet it: scar_reveg in A
    limits = LoadLimits("limits", reductions={"reservoir": {"sediment": 0.3}})
    target = solve(compile_problem(tiny.add(MinCost("objective")).add(limits)))
    hectares = 0.3 * RESERVOIR_SEDIMENT / (0.2 * 99.5)
    assert target.objective == pytest.approx(hectares * 30_000.0)
    assert target.amounts[k_of(after, "A", "scar_reveg")] == pytest.approx(hectares)


def test_exactly_one_objective(tiny: Problem) -> None:
    with pytest.raises(InputError, match="exactly one objective.*found: none"):
        compile_problem(tiny.without("objective"))
    with pytest.raises(InputError, match="exactly one objective.*found: objective, second"):
        compile_problem(tiny.add(MinCost("second")))


# -------------------------------------------------------------------------------- registry


class _Dummy(Component):
    """A component that adds nothing."""

    type_name = "budget"
    role = Role.CONSTRAINT

    def build(self, block, ctx) -> None:  # pragma: no cover - never built
        pass


def test_register_duplicate_type_name_raises() -> None:
    with pytest.raises(ComponentError, match="'budget' is already registered"):
        register(_Dummy)
    assert get("budget") is Budget


def test_register_replace_overrides_and_restores() -> None:
    try:
        assert register(_Dummy, replace=True) is _Dummy
        assert get("budget") is _Dummy
        assert available()["budget"] is _Dummy
    finally:
        register(Budget, replace=True)
    assert get("budget") is Budget


def test_register_rejects_non_components() -> None:
    class NoName(Component):
        role = Role.CONSTRAINT

        def build(self, block, ctx) -> None:  # pragma: no cover
            pass

    with pytest.raises(ComponentError, match="has no type_name"):
        register(NoName)
    with pytest.raises(ComponentError, match="not a dss Component"):
        register(type("Plain", (), {"type_name": "plain"}))


def test_builtin_types_are_registered() -> None:
    types_ = available()
    builtin = {"budget": Role.CONSTRAINT, "land": Role.CONSTRAINT, "zone_rules": Role.CONSTRAINT,
               "locks": Role.CONSTRAINT, "equity": Role.CONSTRAINT,
               "delivered_reduction": Role.BENEFIT, "load_limits": Role.CONSTRAINT,
               "habitat": Role.BENEFIT, "carbon": Role.BENEFIT,
               "max_benefit": Role.OBJECTIVE, "min_cost": Role.OBJECTIVE}
    assert {n: types_[n].role for n in builtin} == builtin
    with pytest.raises(ComponentError, match="unknown component type 'nope'"):
        get("nope")


def write_model(tmp_path: Path, components: str) -> Path:
    path = tmp_path / "model.yaml"
    path.write_text(f"name: tiny\ninputs: {TINY.as_posix()}\ncomponents:\n{components}",
                    encoding="utf-8")
    return path


def test_unknown_type_in_yaml_is_located(tmp_path: Path) -> None:
    path = write_model(tmp_path, "  objective: {type: max_benefit}\n"
                                 "  mystery: {type: no_such_type, x: 1}\n")
    with pytest.raises(InputError) as err:
        Problem.from_model(path)
    (issue,) = err.value.issues
    assert (issue.file, issue.column) == ("model.yaml", "components.mystery.type")
    assert "unknown component type 'no_such_type'" in issue.message
    assert "budget" in issue.message  # lists what is available
    assert "model.yaml, key components.mystery.type: unknown component type" in str(err.value)


def test_misspelt_type_gets_a_suggestion(tmp_path: Path) -> None:
    path = write_model(tmp_path, "  objective: {type: max_benefit}\n  land: {type: lnd}\n")
    with pytest.raises(InputError, match="unknown component type 'lnd' "
                                         r"\(did you mean 'land'\? available: "
                                         "agency_scope, budget"):
        Problem.from_model(path)


def test_missing_type_in_yaml_is_located(tmp_path: Path) -> None:
    path = write_model(tmp_path, "  objective: {type: max_benefit}\n  budget: {total: 1}\n")
    with pytest.raises(InputError) as err:
        Problem.from_model(path)
    assert [i.column for i in err.value.issues] == ["components.budget"]


def test_unknown_and_invalid_parameters_are_located(tmp_path: Path) -> None:
    path = write_model(tmp_path, "  objective: {type: max_benefit}\n"
                                 "  budget: {type: budget, totl: 5}\n"
                                 "  equity: {type: equity, max_share: 2}\n")
    with pytest.raises(InputError) as err:
        Problem.from_model(path)
    issues = {i.column: i.message for i in err.value.issues}
    assert {i.file for i in err.value.issues} == {"model.yaml"}
    assert set(issues) == {"components.budget.totl", "components.equity.max_share"}
    assert "unknown parameter" in issues["components.budget.totl"]
    assert "dss components budget" in issues["components.budget.totl"]
    assert "less than or equal to 1" in issues["components.equity.max_share"]


@pytest.mark.parametrize("name", ["cost", "amount", "objective_function"])
def test_reserved_component_names_are_rejected(tiny: Problem, name: str) -> None:
    with pytest.raises(InputError, match=f"component name '{name}' is reserved") as err:
        compile_problem(tiny.add(Carbon(name, value=1.0)))
    assert [i.column for i in err.value.issues] == [f"components.{name}"]


# ---------------------------------------------------------------------------- entry points


class FloorParams(Params):
    """Parameters of :class:`PluginFloor`."""

    minimum: float = 0.0


class PluginFloor(Component):
    """A plugin component: at least ``minimum`` units of gfg_forest in total."""

    type_name = "test_plugin_floor"
    role = Role.CONSTRAINT
    Params = FloorParams

    def build(self, block, ctx) -> None:
        idx = np.flatnonzero(ctx.options["action_id"] == "gfg_forest")
        block.floor = pyo.Constraint(expr=ctx.linear(idx, np.ones(len(idx)))
                                     >= self.params.minimum)


@pytest.fixture()
def plugin_entry_points(monkeypatch: pytest.MonkeyPatch):
    """Pretend an installed package declares two ``dss.components`` entry points."""
    module = types.ModuleType("dss_fake_plugin")
    module.PluginFloor = PluginFloor
    monkeypatch.setitem(sys.modules, "dss_fake_plugin", module)
    eps = [metadata.EntryPoint("floor", "dss_fake_plugin:PluginFloor", "dss.components"),
           metadata.EntryPoint("broken", "dss_missing_module:Nothing", "dss.components"),
           metadata.EntryPoint("clash", "dss_fake_plugin:Clash", "dss.components")]
    module.Clash = type("Clash", (PluginFloor,), {"type_name": "budget"})
    calls = []

    def entry_points(**kwargs):
        calls.append(kwargs)
        return [ep for ep in eps if ep.group == kwargs.get("group")]

    monkeypatch.setattr(metadata, "entry_points", entry_points)
    monkeypatch.setattr(base_mod, "_ENTRY_POINTS_LOADED", False)
    yield calls
    unregister(PluginFloor.type_name)


def test_entry_point_plugin_loads(plugin_entry_points, tmp_path: Path,
                                  caplog: pytest.LogCaptureFixture) -> None:
    path = write_model(tmp_path, "  objective: {type: max_benefit}\n"
                                 "  budget: {type: budget, total: 500000}\n"
                                 "  water: {type: delivered_reduction, values: {tp: 100}}\n"
                                 "  floor: {type: test_plugin_floor, minimum: 20}\n")
    problem = Problem.from_model(path)
    assert plugin_entry_points == [{"group": "dss.components"}]
    assert type(problem.component("floor")) is PluginFloor
    assert "could not load component plugin broken" in caplog.text
    assert get("budget") is Budget  # a plugin never replaces a registered type
    built = compile_problem(problem)
    coefs, rhs = constraints(built)["floor.floor"].geq()
    assert coefs == {amt(k_of(built, s, "gfg_forest")): 1.0 for s in "BDE"}
    assert rhs == 20.0
    result = solve(built)
    gfg = (built.ctx.options["action_id"] == "gfg_forest").to_numpy()
    assert result.amounts[gfg].sum() >= 20.0 - TOL
    # loaded once: a second unknown lookup does not rescan
    with pytest.raises(ComponentError):
        get("still_unknown")
    assert len(plugin_entry_points) == 1


@pytest.mark.parametrize("seed", range(3))
def test_benefit_values_equal_the_benefit_expressions(seed: int) -> None:
    """The array shortcuts (one routing pass per pollutant, remembered linear expressions)
    give the same numbers as evaluating the Pyomo expressions term by term."""
    problem = Problem.from_model(Path(__file__).parents[1] / "models" / "baoxing.yaml")
    built = compile_problem(problem)
    rng = np.random.default_rng(seed)
    cap = built.ctx.options["capacity"].to_numpy(float)
    amounts = np.where(rng.random(len(cap)) < 0.5, rng.uniform(0, 1, len(cap)) * cap, 0.0)
    for var, value in zip(built.ctx.amount_vars, amounts, strict=True):
        var.set_value(float(value), skip_validation=True)
    for comp in problem.components:  # the segments of the bundled benefit curves
        comp.assign_auxiliary(built.blocks[comp.name], built.ctx, amounts)
    fast = built.benefit_values(amounts)
    slow = {label: pyo.value(term) for label, term in built.benefit_terms.items()}
    assert set(fast) == set(slow) and len(fast) >= 10
    for label, value in slow.items():
        assert fast[label] == pytest.approx(value, rel=1e-9, abs=1e-6), label
    # the aggregated objective coefficients are the sum of the per-point transfer products
    # (of the pairs valued linearly: here all of them, without the bundled curves)
    problem = Problem.from_model(Path(__file__).parents[1] / "models" / "baoxing.yaml",
                                 sets=["components.water.curves={}"])
    built = compile_problem(problem)
    water = next(c for c in problem.components if c.type_name == "delivered_reduction")
    expected = np.zeros(len(cap))
    for t, p in water.pairs(built.ctx):
        idx, coef = built.ctx.transfer(t, p)
        np.add.at(expected, idx, problem.config.settings.horizon_years * water.weights(
            built.ctx)[t] * water.params.values[p] * coef)
    np.testing.assert_allclose(water.coefficients(built.ctx), expected, rtol=1e-10)
