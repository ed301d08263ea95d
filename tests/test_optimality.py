"""Optimality of the optimizer, proven against answers computed independently of its code.

Three kinds of evidence:

1. hand-solved studies (the derivation is written next to each case);
2. exhaustive enumeration of small random integer studies, with this file's own per-option
   effects (from the CSV values), its own routing and its own cost arithmetic;
3. invariants recomputed from the result tables of the Baoxing study and a synthetic basin
   (budget, land, zone rules, routed loads, objective, monotonicity in the budget).

Expected values come from this file's own arithmetic on the input CSVs (per-hectare USLE
loads, per-option effects, costs, a recursive routing of the drainage tree); nothing here uses
:mod:`dss.network.routing`, :mod:`dss.indicators.loads` or :mod:`dss.optimize.options` to
produce one.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pyomo.environ as pyo
import pytest
import yaml

from dss.errors import InputError
from dss.optimize.components.constraints import Budget
from dss.optimize.problem import Problem
from dss.optimize.results import result_tables, summary_table
from dss.synth import write_study as write_synthetic_study

ROOT = Path(__file__).resolve().parents[1]
BAOXING = ROOT / "models" / "baoxing.yaml"
POLLUTANTS = ("sediment", "tn", "tp")
REL = 1e-6


# ---------------------------------------------------------------------------------------------
# Writing small studies
# ---------------------------------------------------------------------------------------------


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating):
        return repr(float(value))
    return str(value)


def _write_table(folder: Path, name: str, rows: list[dict]) -> None:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    lines = [",".join(columns)]
    lines += [",".join(_cell(row.get(c)) for c in columns) for row in rows]
    (folder / f"{name}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_study(folder: Path, tables: dict[str, list[dict]], components: dict,
                horizon: float = 1.0) -> Path:
    """Write a study folder (one CSV per non-empty table) and its model.yaml."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        if rows:
            _write_table(folder, name, rows)
    model = {"name": "handmade", "inputs": ".", "settings": {"horizon_years": horizon},
             "solver": {"mip_gap": 0.0, "threads": 1, "time_limit": 60},
             "components": components}
    path = folder / "model.yaml"
    path.write_text(yaml.safe_dump(model, sort_keys=False), encoding="utf-8")
    return path


def subunit_row(sid: str, down: str | None, area: float, *, r: float = 100.0, k: float = 1.0,
                ls: float = 1.0, sdr: float = 1.0, ret_sed: float = 0.0, ret_tn: float = 0.0,
                ret_tp: float = 0.0, sites: int = 0, core: float = 0.0) -> dict:
    return {"subunit_id": sid, "name": sid, "downstream_id": down, "area_ha": float(area),
            "township": "t1", "share_core": core, "share_general": 0.0,
            "share_outside": 1.0 - core, "usle_r": r, "usle_k": k, "usle_ls": ls, "sdr": sdr,
            "retention_sediment": ret_sed, "retention_tn": ret_tn, "retention_tp": ret_tp,
            "hazard_sites": sites}


def class_row(cid: str, c: float, *, p: float = 1.0, tn: float = 2.0, tp: float = 0.1,
              mass: float = 0.0) -> dict:
    return {"land_class": cid, "name": cid, "usle_c": c, "usle_p": p, "tn_export": tn,
            "tp_export": tp, "mass_yield": mass}


def action_row(aid: str, applies_to: str, *, unit: str = "ha", leads_to: str | None = None,
               capital: float = 0.0, annual: float = 0.0, fixed: float = 0.0,
               integer: bool = False, sediment_removal: float = 0.0, tn_removal: float = 0.0,
               tp_removal: float = 0.0, trap: float = 0.0,
               c_after: float | None = None) -> dict:
    return {"action_id": aid, "name": aid, "applies_to": applies_to, "unit": unit,
            "leads_to": leads_to, "usle_c_after": c_after, "capital_cost": capital,
            "annual_cost": annual, "fixed_cost": fixed, "integer": integer,
            "agency": "agency", "sediment_removal": sediment_removal,
            "tn_removal": tn_removal, "tp_removal": tp_removal, "sediment_trap": trap}


def point_row(pid: str, sid: str, *, weight: float = 1.0, tn: bool = False,
              tp: bool = False, kind: str = "outlet") -> dict:
    return {"point_id": pid, "name": pid, "subunit_id": sid, "kind": kind,
            "cares_sediment": True, "cares_tn": tn, "cares_tp": tp, "weight": weight}


def plan(result) -> dict[tuple[str, str], float]:
    """(subunit, action) -> amount of the solver's plan."""
    opts = result.built.ctx.options
    return {(s, a): float(x) for s, a, x in
            zip(opts["subunit_id"], opts["action_id"], result.amounts, strict=True)}


# ---------------------------------------------------------------------------------------------
# 1. Hand-solved cases
# ---------------------------------------------------------------------------------------------
#
# Chain U -> M -> D (D is the outlet). Every subunit has R K LS SDR = 100 * 1 * 1 * 1 = 100, so
# a hectare of a class with cover factor C delivers s = 100 C t/yr (P = 1, no mass wasting):
#   crop   C = 0.5 -> s = 50 t/ha/yr,     forest C = 0.1 -> s = 10 t/ha/yr.
# Land cover: U 100 ha crop; M 50 ha forest (reservoir reach, retention_sediment 0.8);
# D 10 ha crop + 40 ha forest. Retention is 0 in U and D.
# Action `reforest` (crop -> forest, continuous, 1000 CNY/ha, no annual cost) removes
# d = 50 - 10 = 40 t/yr per ha locally; TN export is equal in both classes, so d_TN = 0.
# Transfer to the outlet point at D (each reach on the path passes 1 - r, source included):
#   T(D -> D) = 1,   T(U -> D) = (1 - 0)(1 - 0.8)(1 - 0) = 0.2.
# Sediment valued at v = 10 CNY/t at the outlet, weight 1, horizon H = 1 year:
#   benefit per ha in D = 1 * 1 * 10 * 40 * 1   = 400 CNY (0.40 CNY per CNY spent)
#   benefit per ha in U = 1 * 1 * 10 * 40 * 0.2 =  80 CNY (0.08 CNY per CNY spent)
# The LP is a fractional knapsack: fill D (10 ha, 10 000 CNY) first, then U (100 ha).
#   B =      0: x_D =  0,  x_U =   0, objective =     0
#   B =   5000: x_D =  5,  x_U =   0, objective =  2000
#   B =  10000: x_D = 10,  x_U =   0, objective =  4000
#   B =  30000: x_D = 10,  x_U =  20, objective =  4000 + 20 * 80  =  5600
#   B = 110000: x_D = 10,  x_U = 100, objective =  4000 + 100 * 80 = 12000 (all land used)
#   B = 200000: same as 110000 (nothing left to buy), spend 110000
# The budget's marginal value is the benefit per CNY of the marginal hectare: 0.4 while D is
# being filled, 0.08 while U is, and 0 once all land is used.
# Baseline routed sediment: U local 100*50 = 5000 -> out 5000; M local 50*10 = 500 ->
# out 0.2 * (500 + 5000) = 1100; D local 10*50 + 40*10 = 900 -> out 900 + 1100 = 2000 t/yr.


def chain_tables() -> dict[str, list[dict]]:
    return {
        "subunits": [subunit_row("U", "M", 100), subunit_row("M", "D", 50, ret_sed=0.8),
                     subunit_row("D", None, 50)],
        "land_classes": [class_row("crop", 0.5), class_row("forest", 0.1)],
        "land_cover": [{"subunit_id": "U", "land_class": "crop", "area_ha": 100.0},
                       {"subunit_id": "M", "land_class": "forest", "area_ha": 50.0},
                       {"subunit_id": "D", "land_class": "crop", "area_ha": 10.0},
                       {"subunit_id": "D", "land_class": "forest", "area_ha": 40.0}],
        "actions": [action_row("reforest", "crop", leads_to="forest", capital=1000.0)],
        "control_points": [point_row("outlet", "D")],
    }


CHAIN_BASELINE = 2000.0


@pytest.mark.parametrize(("budget", "x_u", "x_d", "objective", "marginal"), [
    (0.0, 0.0, 0.0, 0.0, None),
    (5000.0, 0.0, 5.0, 2000.0, 0.4),
    (10000.0, 0.0, 10.0, 4000.0, None),  # degenerate: both 0.4 and 0.08 are valid duals
    (30000.0, 20.0, 10.0, 5600.0, 0.08),
    (110000.0, 100.0, 10.0, 12000.0, None),
    (200000.0, 100.0, 10.0, 12000.0, 0.0),
])
def test_chain_max_benefit_by_hand(tmp_path, budget, x_u, x_d, objective, marginal):
    path = write_study(tmp_path, chain_tables(), {
        "objective": {"type": "max_benefit"},
        "budget": {"type": "budget", "total": budget},
        "land": {"type": "land"},
        "water": {"type": "delivered_reduction", "values": {"sediment": 10.0}},
    })
    result = Problem.from_model(path).solve()
    assert result.status == "optimal"
    assert result.objective == pytest.approx(objective, rel=REL, abs=1e-6)
    amounts = plan(result)
    assert set(amounts) == {("U", "reforest"), ("D", "reforest")}
    assert amounts["U", "reforest"] == pytest.approx(x_u, abs=1e-6)
    assert amounts["D", "reforest"] == pytest.approx(x_d, abs=1e-6)
    tables = result_tables(result)
    summary = tables["summary"].set_index("metric")["value"]
    assert float(summary["spend"]) == pytest.approx(1000.0 * (x_u + x_d), abs=1e-6)
    cps = tables["control_points"].set_index(["point_id", "pollutant"])
    delivered = 40.0 * x_d + 0.2 * 40.0 * x_u
    assert cps.loc[("outlet", "sediment"), "before"] == pytest.approx(CHAIN_BASELINE, rel=REL)
    assert cps.loc[("outlet", "sediment"), "after"] == pytest.approx(
        CHAIN_BASELINE - delivered, rel=REL)
    if marginal is not None:
        duals = result.duals.set_index(["component", "constraint"])["dual"]
        assert abs(float(duals["budget", "total"])) == pytest.approx(marginal, rel=REL,
                                                                        abs=1e-9)


def test_chain_net_benefit_by_hand(tmp_path):
    """cost_weight 1: spend only where the benefit exceeds the cost.

    With v = 100 CNY/t: benefit per ha is 100 * 40 = 4000 in D and 4000 * 0.2 = 800 in U,
    against a cost of 1000 per ha. Net: +3000/ha in D, -200/ha in U. So x_D = 10, x_U = 0,
    objective = 10 * 3000 = 30000, even though the budget (200000) would allow more.
    """
    path = write_study(tmp_path, chain_tables(), {
        "objective": {"type": "max_benefit", "cost_weight": 1.0},
        "budget": {"type": "budget", "total": 200000.0},
        "water": {"type": "delivered_reduction", "values": {"sediment": 100.0}},
    })
    result = Problem.from_model(path).solve()
    assert result.status == "optimal"
    assert result.objective == pytest.approx(30000.0, rel=REL)
    amounts = plan(result)
    assert amounts["D", "reforest"] == pytest.approx(10.0, abs=1e-6)
    assert amounts["U", "reforest"] == pytest.approx(0.0, abs=1e-6)


def test_chain_horizon_scales_costs_and_benefits(tmp_path):
    """H = 4 years, annual cost 250 CNY/ha/yr, no capital cost.

    Cost per ha = 0 + 4 * 250 = 1000 CNY (as before); benefit per ha = H * 400 = 1600 in D,
    H * 80 = 320 in U. B = 30000: x_D = 10, x_U = 20, objective = 16000 + 6400 = 22400.
    """
    tables = chain_tables()
    tables["actions"] = [action_row("reforest", "crop", leads_to="forest", annual=250.0)]
    path = write_study(tmp_path, tables, {
        "objective": {"type": "max_benefit"},
        "budget": {"type": "budget", "total": 30000.0},
        "water": {"type": "delivered_reduction", "values": {"sediment": 10.0}},
    }, horizon=4.0)
    result = Problem.from_model(path).solve()
    assert result.status == "optimal"
    assert result.objective == pytest.approx(22400.0, rel=REL)
    amounts = plan(result)
    assert amounts["D", "reforest"] == pytest.approx(10.0, abs=1e-6)
    assert amounts["U", "reforest"] == pytest.approx(20.0, abs=1e-6)


# Least cost to bring the routed outlet load from 2000 t/yr down to a limit L.
# Delivered reduction per 1000 CNY: 40 t in D, 8 t in U; D holds at most 400 t (10 ha), U at
# most 800 t (100 ha), so at most 1200 t can be cut.
#   L = 1800 (cut 200):  x_D = 5                                   cost  5000
#   L = 1600 (cut 400):  x_D = 10                                  cost 10000
#   L = 1500 (cut 500):  x_D = 10, x_U = 100 / 8 = 12.5            cost 22500
#   L = 1200 (cut 800):  x_D = 10, x_U = 400 / 8 = 50              cost 60000
#   L =  800 (cut 1200): x_D = 10, x_U = 100 (everything)          cost 110000
# The limit's marginal cost is 1000 / 40 = 25 CNY per t while D is used, 125 once U is.


@pytest.mark.parametrize(("limit", "x_u", "x_d", "cost", "marginal"), [
    (1800.0, 0.0, 5.0, 5000.0, 25.0),
    (1600.0, 0.0, 10.0, 10000.0, None),  # degenerate
    (1500.0, 12.5, 10.0, 22500.0, 125.0),
    (1200.0, 50.0, 10.0, 60000.0, 125.0),
    (800.0, 100.0, 10.0, 110000.0, None),
])
@pytest.mark.parametrize("source", ["component", "table"])
def test_chain_min_cost_by_hand(tmp_path, limit, x_u, x_d, cost, marginal, source):
    tables = chain_tables()
    limits = {"type": "load_limits"}
    if source == "table":
        tables["control_points"][0]["limit_sediment"] = limit
    else:
        limits["limits"] = {"outlet": {"sediment": limit}}
    path = write_study(tmp_path, tables, {
        "objective": {"type": "min_cost"}, "land": {"type": "land"}, "limits": limits})
    result = Problem.from_model(path).solve()
    assert result.status == "optimal"
    assert result.objective == pytest.approx(cost, rel=REL)
    amounts = plan(result)
    assert amounts["U", "reforest"] == pytest.approx(x_u, abs=1e-6)
    assert amounts["D", "reforest"] == pytest.approx(x_d, abs=1e-6)
    cps = result_tables(result)["control_points"].set_index(["point_id", "pollutant"])
    assert cps.loc[("outlet", "sediment"), "after"] == pytest.approx(limit, rel=REL)
    if marginal is not None:
        duals = result.duals.set_index(["component", "constraint"])["dual"]
        assert abs(float(duals["limits", "limit"])) == pytest.approx(marginal, rel=REL)


def test_chain_min_cost_infeasible_shortfall_by_hand(tmp_path):
    """A limit of 700 t/yr needs a 1300 t cut; at most 1200 t is possible: presolve rejects
    it (exit 2) before solving, with both numbers, since no budget suffices."""
    path = write_study(tmp_path, chain_tables(), {
        "objective": {"type": "min_cost"}, "land": {"type": "land"},
        "limits": {"type": "load_limits", "limits": {"outlet": {"sediment": 700.0}}}})
    with pytest.raises(InputError) as err:
        Problem.from_model(path).solve()
    (issue,) = err.value.issues
    assert issue.column == "components.limits.limits.outlet.sediment"
    assert "needs a reduction of 1,300 t/yr from its baseline of 2,000 t/yr" in issue.message
    assert "can remove at most 1,200 t/yr there: no budget suffices" in issue.message


def test_chain_budget_shortfall_and_least_budget_by_hand(tmp_path):
    """A limit of 1500 t/yr needs a 500 t cut. 10,000 CNY buys x_D = 10 (400 t): 100 t short.
    The least budget is the cost of the cut, 22,500 CNY (see the table above)."""
    path = write_study(tmp_path, chain_tables(), {
        "objective": {"type": "max_benefit"}, "land": {"type": "land"},
        "budget": {"type": "budget", "total": 10000.0},
        "limits": {"type": "load_limits", "limits": {"outlet": {"sediment": 1500.0}}}})
    result = Problem.from_model(path).solve()
    assert result.status == "infeasible"
    assert not result.has_plan
    short = result.shortfalls.set_index("requirement")
    row = short.loc["sediment at outlet"]
    assert float(row["shortfall"]) == pytest.approx(100.0, rel=REL)
    assert float(row["target"]) == pytest.approx(1500.0)
    assert bool(row["in_conflict"])
    budget = short[short["kind"] == "budget"].iloc[0]
    assert float(budget["target"]) == pytest.approx(10000.0)
    assert float(budget["shortfall"]) == pytest.approx(22500.0 - 10000.0, rel=REL)
    assert "a budget of at least 22,500 CNY meets every requirement" in budget["note"]


# Two control points and a fork. Subunits: A -> R (reservoir, retention 0.5) -> O (outlet);
# B -> O directly. Every subunit: 10 ha crop (50 t/ha) + 10 ha forest (10 t/ha), reforest
# removes 40 t/ha at 1000 CNY/ha. Points: `res` at R (weight 2), `out` at O (weight 1),
# sediment valued at 1 CNY/t, H = 1. Per ha:
#   A: res 2 * 40 * (1)(0.5)       = 40;  out 1 * 40 * (1)(0.5)(1) = 20  -> 60
#   R: res 2 * 40 * 0.5            = 40;  out 40 * 0.5             = 20  -> 60
#   B: res 0 (not upstream of R);         out 40                   = 40  -> 40
#   O: res 0;                             out 40                   = 40  -> 40
# Budget 25000 -> 25 ha: fill A and R (20 ha, value 60 each) then 5 ha of B or O (40 each):
# objective = 20 * 60 + 5 * 40 = 1400.


def test_two_points_fork_by_hand(tmp_path):
    subs = [subunit_row("A", "R", 20), subunit_row("R", "O", 20, ret_sed=0.5),
            subunit_row("B", "O", 20), subunit_row("O", None, 20)]
    cover = [row for s in "ARBO" for row in (
        {"subunit_id": s, "land_class": "crop", "area_ha": 10.0},
        {"subunit_id": s, "land_class": "forest", "area_ha": 10.0})]
    path = write_study(tmp_path, {
        "subunits": subs, "land_classes": [class_row("crop", 0.5), class_row("forest", 0.1)],
        "land_cover": cover,
        "actions": [action_row("reforest", "crop", leads_to="forest", capital=1000.0)],
        "control_points": [point_row("res", "R", weight=2.0, kind="reservoir"),
                           point_row("out", "O")],
    }, {"objective": {"type": "max_benefit"}, "budget": {"type": "budget", "total": 25000.0},
        "water": {"type": "delivered_reduction", "values": {"sediment": 1.0}}})
    result = Problem.from_model(path).solve()
    assert result.status == "optimal"
    assert result.objective == pytest.approx(1400.0, rel=REL)
    amounts = plan(result)
    assert amounts["A", "reforest"] == pytest.approx(10.0, abs=1e-6)
    assert amounts["R", "reforest"] == pytest.approx(10.0, abs=1e-6)
    assert amounts["B", "reforest"] + amounts["O", "reforest"] == pytest.approx(5.0, abs=1e-6)


# Land shared by a continuous and an integer action on a fractional area. One subunit D
# (outlet): 2.5 ha crop (50 t/ha) and 7.5 ha forest; grass C = 0.2 -> 20 t/ha. Actions:
# crop -> forest removes 40 t/ha, crop -> grass removes 30 t/ha, both 1 CNY/ha (budget not
# binding), sediment 10 CNY/t: 400 CNY/ha to forest, 300 CNY/ha to grass. The two share the
# 2.5 ha: x_f + x_g <= 2.5.
#   `a_forest` continuous, `b_grass` integer: x_f = 2.5 -> 1000.
#   `a_grass` continuous, `b_forest` integer (<= 2 ha): x_f = 2, x_g = 0.5 -> 800 + 150 = 950.


@pytest.mark.parametrize(("forest_id", "grass_id", "forest_int", "objective", "x_f", "x_g"), [
    ("a_forest", "b_grass", False, 1000.0, 2.5, 0.0),
    ("b_forest", "a_grass", True, 950.0, 2.0, 0.5),
])
def test_shared_land_mixed_integer_by_hand(tmp_path, forest_id, grass_id, forest_int,
                                           objective, x_f, x_g):
    path = write_study(tmp_path, {
        "subunits": [subunit_row("D", None, 10)],
        "land_classes": [class_row("crop", 0.5), class_row("forest", 0.1),
                         class_row("grass", 0.2)],
        "land_cover": [{"subunit_id": "D", "land_class": "crop", "area_ha": 2.5},
                       {"subunit_id": "D", "land_class": "forest", "area_ha": 7.5}],
        "actions": [action_row(forest_id, "crop", leads_to="forest", capital=1.0,
                               integer=forest_int),
                    action_row(grass_id, "crop", leads_to="grass", capital=1.0,
                               integer=not forest_int)],
        "control_points": [point_row("outlet", "D")],
    }, {"objective": {"type": "max_benefit"}, "budget": {"type": "budget", "total": 1e6},
        "land": {"type": "land"},
        "water": {"type": "delivered_reduction", "values": {"sediment": 10.0}}})
    result = Problem.from_model(path).solve()
    assert result.status == "optimal"
    assert result.objective == pytest.approx(objective, rel=REL)
    amounts = plan(result)
    assert amounts["D", forest_id] == pytest.approx(x_f, abs=1e-6)
    assert amounts["D", grass_id] == pytest.approx(x_g, abs=1e-6)


# Zone rule on an integer land action over a fractional area: 2.5 ha crop, 20 % of the subunit
# in the core zone where the action is forbidden. Land is spread evenly over zones, so
# 0.8 * 2.5 = 2.0 ha of crop lie outside the core: two whole hectares may be treated
# (400 CNY each at 10 CNY/t * 40 t/ha): objective 800.


def test_zone_rule_integer_fractional_area_by_hand(tmp_path):
    path = write_study(tmp_path, {
        "subunits": [subunit_row("D", None, 10, core=0.2)],
        "land_classes": [class_row("crop", 0.5), class_row("forest", 0.1)],
        "land_cover": [{"subunit_id": "D", "land_class": "crop", "area_ha": 2.5},
                       {"subunit_id": "D", "land_class": "forest", "area_ha": 7.5}],
        "actions": [action_row("reforest", "crop", leads_to="forest", capital=1.0,
                               integer=True)],
        "control_points": [point_row("outlet", "D")],
    }, {"objective": {"type": "max_benefit"}, "budget": {"type": "budget", "total": 1e6},
        "zones": {"type": "zone_rules", "core": {"forbidden": ["reforest"]}},
        "water": {"type": "delivered_reduction", "values": {"sediment": 10.0}}})
    result = Problem.from_model(path).solve()
    assert result.status == "optimal"
    assert plan(result)["D", "reforest"] == pytest.approx(2.0, abs=1e-9)
    assert result.objective == pytest.approx(800.0, rel=REL)


# Sewage treatment where treated and untreated sources differ. One subunit D (outlet), 10 ha
# forest (2 kg TN/ha -> 20 kg). Sources: a hotel, 100 PE at 10 kg TN/PE, untreated (discharge
# 1000 kg); a village, 900 PE at 2 kg TN/PE, fully treated at 50 % removal (discharge 900 kg).
# Baseline TN at the outlet: 20 + 1000 + 900 = 1920 kg/yr. Action `sewage` treats untreated
# PE (capacity: the hotel's 100 PE) removing 50 % of their raw TN: 0.5 * 10 = 5 kg per PE.
# With TN valued at 1 CNY/kg and an ample budget, all 100 PE are treated: objective
# 100 * 5 = 500, outlet TN after = 1920 - 500 = 1420. (Averaging the per-PE load over all
# 1000 PE, treated ones included, would give 0.5 * 2.8 = 1.4 kg per PE and 140 instead.)


def test_sewage_on_untreated_sources_by_hand(tmp_path):
    sources = [
        {"source_id": "hotel", "subunit_id": "D", "kind": "tourist",
         "person_equivalents": 100.0, "tn_per_pe": 10.0, "tp_per_pe": 0.0,
         "treated_share": 0.0, "removal_tn": 0.5, "removal_tp": 0.5},
        {"source_id": "village", "subunit_id": "D", "kind": "resident",
         "person_equivalents": 900.0, "tn_per_pe": 2.0, "tp_per_pe": 0.0,
         "treated_share": 1.0, "removal_tn": 0.5, "removal_tp": 0.5},
    ]
    sewage = action_row("sewage", "point_sources", unit="PE", capital=1.0, tn_removal=0.5)
    path = write_study(tmp_path, {
        "subunits": [subunit_row("D", None, 10)],
        "land_classes": [class_row("forest", 0.1)],
        "land_cover": [{"subunit_id": "D", "land_class": "forest", "area_ha": 10.0}],
        "point_sources": sources, "actions": [sewage],
        "control_points": [point_row("outlet", "D", tn=True)],
    }, {"objective": {"type": "max_benefit"}, "budget": {"type": "budget", "total": 1e6},
        "water": {"type": "delivered_reduction", "values": {"tn": 1.0}}})
    result = Problem.from_model(path).solve()
    assert result.status == "optimal"
    assert plan(result)["D", "sewage"] == pytest.approx(100.0, rel=REL)
    assert result.objective == pytest.approx(500.0, rel=REL)
    cps = result_tables(result)["control_points"].set_index(["point_id", "pollutant"])
    assert cps.loc[("outlet", "tn"), "before"] == pytest.approx(1920.0, rel=REL)
    assert cps.loc[("outlet", "tn"), "after"] == pytest.approx(1420.0, rel=REL)


# Mass balance: reductions in one subunit cannot exceed the load it has. One subunit D
# (outlet): 1 ha crop (50 t/yr) + 9 ha forest (90 t/yr), local load S = 140 t/yr, one hazard
# site. A check dam traps min(1000, 140 / 1) = 140 t/yr, i.e. everything; reforesting the crop
# hectare would remove 40 t/yr more, but nothing is left to remove once the dam is in. With
# sediment at 10 CNY/t and an ample budget the best plan is worth 10 * 140 = 1400 CNY, and no
# local load may go negative.
MASS_BALANCE_NOTE = (
    "reductions of different options in one subunit are added without a cap, so a check dam "
    "trapping the whole local load plus land actions removes more sediment than exists "
    "(negative local load, phantom benefit); proposed fix: per (subunit, pollutant) "
    "sum_k d_kp x_k <= local load L_ip in the core model"
)


def test_reductions_respect_mass_balance_by_hand(tmp_path):
    path = write_study(tmp_path, {
        "subunits": [subunit_row("D", None, 10, sites=1)],
        "land_classes": [class_row("crop", 0.5), class_row("forest", 0.1)],
        "land_cover": [{"subunit_id": "D", "land_class": "crop", "area_ha": 1.0},
                       {"subunit_id": "D", "land_class": "forest", "area_ha": 9.0}],
        "actions": [action_row("reforest", "crop", leads_to="forest", capital=1.0),
                    action_row("dam", "hazard_sites", unit="dam", capital=1.0, integer=True,
                               trap=1000.0)],
        "control_points": [point_row("outlet", "D")],
    }, {"objective": {"type": "max_benefit"}, "budget": {"type": "budget", "total": 1e6},
        "water": {"type": "delivered_reduction", "values": {"sediment": 10.0}}})
    result = Problem.from_model(path).solve()
    assert result.status == "optimal"
    local = result_tables(result)["subunits"].set_index(["metric", "subunit_id"])
    assert local.loc[("sediment_local", "D"), "after"] >= -1e-9
    assert result.objective == pytest.approx(1400.0, rel=REL)


def test_no_negative_local_loads_baoxing_double_budget():
    """E11 (marble quarries): 10 gabion dams trap its whole 17 264 t/yr, and 100 ha of Grain
    for Green plus 20 ha of landslide revegetation are credited with 3 034 t/yr more."""
    result = Problem.from_model(BAOXING, ["double_budget"]).solve()
    assert result.status == "optimal"
    local = result_tables(result)["subunits"]
    local = local[local["metric"].str.endswith("_local")]
    assert (local["after"] >= -1e-6).all()


# ---------------------------------------------------------------------------------------------
# 2. Exhaustive enumeration of small random integer studies
# ---------------------------------------------------------------------------------------------

MAX_COMBOS = 30_000
N_RANDOM = 60
WATER = ("sediment", "tn", "tp")
RETENTION_KEY = {"sediment": "ret_sed", "tn": "ret_tn", "tp": "ret_tp"}


def _random_instance(seed: int) -> dict:
    """A small random integer study, as plain Python data (everything the CSVs say)."""
    rng = np.random.default_rng(1000 + seed)
    while True:
        n = int(rng.integers(3, 6))
        ids = [f"S{j}" for j in range(n)]
        parent: dict[str, str | None] = {"S0": None}
        for j in range(1, n):
            parent[ids[j]] = ids[int(rng.integers(0, j))]
        classes = {
            "forest": dict(c=float(rng.uniform(0.005, 0.05)), p=1.0, tn=float(rng.uniform(1, 3)),
                           tp=float(rng.uniform(0.05, 0.2)), mass=0.0),
            "grass": dict(c=float(rng.uniform(0.05, 0.2)), p=1.0, tn=float(rng.uniform(3, 6)),
                          tp=float(rng.uniform(0.1, 0.4)), mass=0.0),
            "crop": dict(c=float(rng.uniform(0.2, 0.5)), p=float(rng.uniform(0.6, 1.0)),
                         tn=float(rng.uniform(10, 25)), tp=float(rng.uniform(0.5, 2)),
                         mass=0.0),
            "scar": dict(c=1.0, p=1.0, tn=float(rng.uniform(0, 3)), tp=float(rng.uniform(0, 1)),
                         mass=float(rng.uniform(5, 30))),
        }
        subs = {}
        for s in ids:
            # 0-2 sewage sources of 2 or 3 PE, untreated, half or fully treated
            sources = [dict(pe=float(rng.choice([2.0, 3.0])), tn=float(rng.uniform(2, 12)),
                            tp=float(rng.uniform(0.2, 2)),
                            treated=float(rng.choice([0.0, 0.5, 1.0])),
                            removal_tn=float(rng.uniform(0.3, 0.9)),
                            removal_tp=float(rng.uniform(0.3, 0.9)))
                       for _ in range(int(rng.integers(0, 3)))]
            subs[s] = dict(
                r=float(rng.uniform(500, 3000)), k=float(rng.uniform(0.01, 0.04)),
                ls=float(rng.uniform(1, 15)), sdr=float(rng.uniform(0.1, 0.5)),
                ret_sed=float(rng.choice([0.0, 0.0, 0.1, 0.3, 0.5, 0.8])),
                ret_tn=float(rng.choice([0.0, 0.05, 0.2, 0.4])),
                ret_tp=float(rng.choice([0.0, 0.1, 0.3, 0.6])),
                sites=int(rng.integers(0, 3)), core=float(rng.choice([0.0, 0.0, 0.25, 0.5, 1.0])),
                cover={"forest": float(rng.integers(3, 8)), "crop": float(rng.integers(0, 4)),
                       "scar": float(rng.integers(0, 3))},
                sources=sources)
        pool = {
            "c2f": dict(applies_to="crop", unit="ha", leads_to="forest"),
            "c2g": dict(applies_to="crop", unit="ha", leads_to="grass",
                        removal=float(rng.choice([0.0, 0.3]))),
            "till": dict(applies_to="crop", unit="ha", c_after=float(rng.uniform(0.05, 0.15)),
                         removal_tn=float(rng.choice([0.0, 0.2])),
                         removal_tp=float(rng.choice([0.0, 0.4]))),
            "scar": dict(applies_to="scar", unit="ha", leads_to="grass",
                         removal=float(rng.uniform(0.0, 0.6))),
            "dam": dict(applies_to="hazard_sites", unit="dam", trap=float(rng.uniform(5, 300))),
            "sewage": dict(applies_to="point_sources", unit="PE",
                           removal_tn=float(rng.uniform(0.3, 0.9)),
                           removal_tp=float(rng.uniform(0.3, 0.9))),
        }
        chosen = sorted(str(a) for a in rng.choice(sorted(pool), size=int(rng.integers(2, 4)),
                                                    replace=False))
        actions = {}
        for a in chosen:
            actions[a] = dict({"leads_to": None, "c_after": None, "trap": 0.0, "removal": 0.0,
                               "removal_tn": 0.0, "removal_tp": 0.0}, **pool[a],
                              capital=float(rng.integers(1, 40)) * 500.0,
                              annual=float(rng.choice([0.0, 0.0, 100.0, 350.0])),
                              fixed=float(rng.choice([0.0, 0.0, 2000.0, 7500.0])))
        forbidden_core = [a for a in chosen if rng.random() < 0.4]
        points = [dict(pid="out", sid="S0", weight=float(rng.uniform(0.5, 2.0)),
                       tn=bool(rng.random() < 0.6), tp=bool(rng.random() < 0.5), kind="outlet")]
        if rng.random() < 0.6:
            points.append(dict(pid="res", sid=ids[int(rng.integers(1, n))],
                               weight=float(rng.uniform(0.5, 3.0)), tn=bool(rng.random() < 0.5),
                               tp=bool(rng.random() < 0.5), kind="reservoir"))
        inst = dict(ids=ids, parent=parent, classes=classes, subs=subs, actions=actions,
                    forbidden_core=forbidden_core, points=points,
                    values={p: float(rng.uniform(1, 50)) for p in WATER},
                    horizon=float(rng.choice([1.0, 2.0, 5.0])),
                    order=[ids[j] for j in rng.permutation(n)])
        opts = _own_options(inst)
        combos = math.prod(int(o["cap"]) + 1 for o in opts)
        if 1 < combos <= MAX_COMBOS:
            full = sum(o["unit_cost"] * o["cap"] + o["fixed"] for o in opts)
            inst["budget"] = float(np.round(rng.uniform(0.15, 0.7) * full, 2))
            inst["options"] = opts
            return inst


def _per_ha_sediment(inst: dict, s: str, c: float, p: float, mass: float) -> float:
    """s = SDR R K LS C P + mass_yield (t/ha/yr)."""
    sub = inst["subs"][s]
    return sub["sdr"] * sub["r"] * sub["k"] * sub["ls"] * c * p + mass


def _class_sediment(inst: dict, s: str, cls: str) -> float:
    v = inst["classes"][cls]
    return _per_ha_sediment(inst, s, v["c"], v["p"], v["mass"])


def _own_options(inst: dict) -> list[dict]:
    """Every (subunit, action) with a positive capacity and its per-unit effects and costs."""
    out = []
    for s in inst["ids"]:
        sub = inst["subs"][s]
        local_sed = sum(area * _class_sediment(inst, s, c) for c, area in sub["cover"].items())
        # local loads (for the rule that no subunit loses more than it produces)
        local = {"sediment": local_sed}
        for p in ("tn", "tp"):
            land = sum(area * inst["classes"][c][p] for c, area in sub["cover"].items())
            sewage = sum(src["pe"] * src[p] * (1 - src["treated"] * src[f"removal_{p}"])
                         for src in sub["sources"])
            local[p] = land + sewage
        for a, act in inst["actions"].items():
            kind = act["applies_to"]
            d = dict.fromkeys(WATER, 0.0)
            if kind == "hazard_sites":
                cap = float(sub["sites"])
                d["sediment"] = min(act["trap"], local_sed / cap) if cap else 0.0
            elif kind == "point_sources":
                # treat untreated PE: remove a share of their raw load
                untreated = [(src["pe"] * (1 - src["treated"]), src) for src in sub["sources"]]
                cap = sum(u for u, _ in untreated)
                for p in ("tn", "tp"):
                    raw = sum(u * src[p] for u, src in untreated)
                    d[p] = act[f"removal_{p}"] * raw / cap if cap else 0.0
            else:
                cap = sub["cover"][kind]
                before = inst["classes"][kind]
                after = inst["classes"][act["leads_to"] or kind]
                c_after = act["c_after"] if act["c_after"] is not None else after["c"]
                s_before = _class_sediment(inst, s, kind)
                s_after = _per_ha_sediment(inst, s, c_after, after["p"], after["mass"])
                d["sediment"] = s_before - s_after + act["removal"] * s_after
                for p in ("tn", "tp"):
                    d[p] = before[p] - after[p] + act[f"removal_{p}"] * after[p]
            resource = kind
            whole = math.floor(cap + 1e-9)  # every action here is integer
            if whole <= 0:
                continue
            upper = whole
            if a in inst["forbidden_core"]:
                upper = math.floor(cap * (1.0 - sub["core"]) + 1e-9)
            out.append(dict(sid=s, aid=a, cap=whole, resource_cap=cap, upper=int(upper),
                            resource=resource, d=d, fixed=act["fixed"], local=local,
                            unit_cost=act["capital"] + inst["horizon"] * act["annual"]))
    return out


def _transfer(inst: dict, source: str, target: str, pollutant: str) -> float:
    """Share of a unit entering ``source``'s reach that leaves ``target``'s outlet."""
    key = RETENTION_KEY[pollutant]
    node, coef = source, 1.0
    while node is not None:
        coef *= 1.0 - inst["subs"][node][key]
        if node == target:
            return coef
        node = inst["parent"][node]
    return 0.0


def _value_per_unit(inst: dict) -> np.ndarray:
    """Objective contribution of one unit of each option: H sum_t w_t sum_p v_p T d."""
    values = np.zeros(len(inst["options"]))
    for j, o in enumerate(inst["options"]):
        for pt in inst["points"]:
            cares = {"sediment": True, "tn": pt["tn"], "tp": pt["tp"]}
            total = sum(inst["values"][p] * _transfer(inst, o["sid"], pt["sid"], p) * o["d"][p]
                        for p in WATER if cares[p])
            values[j] += inst["horizon"] * pt["weight"] * total
    return values


def _evaluate(inst: dict, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(cost, objective, feasible) of amount vectors ``x`` (rows)."""
    opts = inst["options"]
    unit = np.array([o["unit_cost"] for o in opts])
    fixed = np.array([o["fixed"] for o in opts])
    cost = x @ unit + (x > 0) @ fixed
    objective = x @ _value_per_unit(inst)
    feasible = cost <= inst["budget"] * (1 + 1e-9) + 1e-9
    feasible &= (x <= np.array([o["upper"] for o in opts])).all(axis=1)
    groups = defaultdict(list)
    for j, o in enumerate(opts):
        groups[o["sid"], o["resource"]].append(j)
    for members in groups.values():
        feasible &= x[:, members].sum(axis=1) <= opts[members[0]]["resource_cap"] + 1e-9
    # no subunit loses more of a pollutant than it produces
    by_sub = defaultdict(list)
    for j, o in enumerate(opts):
        by_sub[o["sid"]].append(j)
    for members in by_sub.values():
        for p in WATER:
            d = np.array([opts[j]["d"][p] for j in members])
            load = opts[members[0]]["local"][p]
            feasible &= x[:, members] @ d <= load * (1 + 1e-9) + 1e-9
    return cost, objective, feasible


def _write_instance(folder: Path, inst: dict) -> Path:
    subs, sources = [], []
    for s in inst["order"]:
        sub = inst["subs"][s]
        subs.append(subunit_row(s, inst["parent"][s], sum(sub["cover"].values()), r=sub["r"],
                                k=sub["k"], ls=sub["ls"], sdr=sub["sdr"],
                                ret_sed=sub["ret_sed"], ret_tn=sub["ret_tn"],
                                ret_tp=sub["ret_tp"], sites=sub["sites"], core=sub["core"]))
        sources += [{"source_id": f"{s}_{j}", "subunit_id": s, "kind": "resident",
                     "person_equivalents": src["pe"], "tn_per_pe": src["tn"],
                     "tp_per_pe": src["tp"], "treated_share": src["treated"],
                     "removal_tn": src["removal_tn"], "removal_tp": src["removal_tp"]}
                    for j, src in enumerate(sub["sources"])]
    classes = [class_row(c, v["c"], p=v["p"], tn=v["tn"], tp=v["tp"], mass=v["mass"])
               for c, v in inst["classes"].items()]
    cover = [{"subunit_id": s, "land_class": c, "area_ha": area}
             for s in inst["ids"] for c, area in inst["subs"][s]["cover"].items() if area > 0]
    actions = [action_row(a, v["applies_to"], unit=v["unit"], leads_to=v["leads_to"],
                          capital=v["capital"], annual=v["annual"], fixed=v["fixed"],
                          integer=True, sediment_removal=v["removal"],
                          tn_removal=v["removal_tn"], tp_removal=v["removal_tp"],
                          trap=v["trap"], c_after=v["c_after"])
               for a, v in inst["actions"].items()]
    points = [point_row(p["pid"], p["sid"], weight=p["weight"], tn=p["tn"], tp=p["tp"],
                        kind=p["kind"]) for p in inst["points"]]
    components = {
        "objective": {"type": "max_benefit"},
        "budget": {"type": "budget", "total": inst["budget"]},
        "land": {"type": "land"},
        "water": {"type": "delivered_reduction", "values": inst["values"]},
    }
    if inst["forbidden_core"]:
        components["zones"] = {"type": "zone_rules",
                               "core": {"forbidden": list(inst["forbidden_core"])}}
    return write_study(folder, {"subunits": subs, "land_classes": classes,
                                "land_cover": cover, "point_sources": sources,
                                "actions": actions, "control_points": points},
                       components, inst["horizon"])


@pytest.mark.parametrize("seed", range(N_RANDOM))
def test_random_integer_instance_matches_enumeration(tmp_path, seed):
    inst = _random_instance(seed)
    opts = inst["options"]
    grid = np.array(list(itertools.product(*[range(o["cap"] + 1) for o in opts])), dtype=float)
    cost, objective, feasible = _evaluate(inst, grid)
    best = float(objective[feasible].max())

    result = Problem.from_model(_write_instance(tmp_path, inst)).solve()
    assert result.status == "optimal"
    assert result.objective == pytest.approx(best, rel=REL, abs=1e-7)

    # The solver's options are exactly ours, and its plan is feasible and as good by our count.
    amounts = plan(result)
    assert set(amounts) == {(o["sid"], o["aid"]) for o in opts}
    x = np.array([[amounts[o["sid"], o["aid"]] for o in opts]])
    assert np.allclose(x, np.round(x), atol=1e-9)
    plan_cost, plan_objective, plan_feasible = _evaluate(inst, np.round(x))
    assert bool(plan_feasible[0])
    assert float(plan_objective[0]) == pytest.approx(best, rel=REL, abs=1e-7)
    spend = summary_table(result).set_index("metric")["value"]["spend"]
    assert float(spend) == pytest.approx(float(plan_cost[0]), rel=1e-9, abs=1e-9)


def test_random_instances_exercise_every_feature():
    """The enumerated family covers sharing, fixed costs, zones, dams, two points, budgets."""
    instances = [_random_instance(seed) for seed in range(N_RANDOM)]
    assert any({"c2f", "c2g"} <= set(i["actions"]) for i in instances)
    assert sum(any(a["fixed"] > 0 for a in i["actions"].values()) for i in instances) >= 10
    assert sum(bool(i["forbidden_core"]) for i in instances) >= 10
    assert sum("dam" in i["actions"] for i in instances) >= 10
    assert sum(any(o["aid"] == "sewage" for o in i["options"]) for i in instances) >= 5
    assert sum(any(o["aid"] == "till" for o in i["options"]) for i in instances) >= 5
    assert sum(len(i["points"]) == 2 for i in instances) >= 10
    assert sum(i["horizon"] > 1 for i in instances) >= 10
    assert all(3 <= len(i["ids"]) <= 5 for i in instances)


# ---------------------------------------------------------------------------------------------
# 3. Invariants recomputed from result tables (Baoxing and a synthetic basin)
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def synthetic_model(tmp_path_factory) -> Path:
    return write_synthetic_study(tmp_path_factory.mktemp("synth300"), 300, seed=1)


CASES = ["baoxing-base", "baoxing-core_strict", "synth300"]


@pytest.fixture(scope="module")
def solved(synthetic_model):
    cache: dict[str, tuple] = {}

    def get(case: str):
        if case not in cache:
            if case == "synth300":
                problem = Problem.from_model(synthetic_model)
            else:
                scenario = case.split("-", 1)[1]
                problem = Problem.from_model(BAOXING, [scenario])
            result = problem.solve()
            assert result.status == "optimal"
            cache[case] = (problem, result, result_tables(result))
        return cache[case]

    return get


def _own_route(subunits: pd.DataFrame, local: dict[str, float], pollutant: str
               ) -> dict[str, float]:
    """Outflow of every subunit: O_i = (1 - r_i)(L_i + sum of children's O), recursively."""
    children: dict[str, list[str]] = defaultdict(list)
    retention = {}
    for row in subunits.itertuples(index=False):
        retention[row.subunit_id] = float(getattr(row, f"retention_{pollutant}"))
        if isinstance(row.downstream_id, str) and row.downstream_id:
            children[row.downstream_id].append(row.subunit_id)
    out: dict[str, float] = {}

    def outflow(s: str) -> float:
        if s not in out:
            out[s] = (1.0 - retention[s]) * (local[s] + sum(outflow(c) for c in children[s]))
        return out[s]

    for s in retention:
        outflow(s)
    return out


def _own_at_point(subunits: pd.DataFrame, local: dict[str, float], pollutant: str,
                  routed: dict[str, float], point) -> float:
    """Load a control point sees: its subunit's outflow, or (``measures: inflow``, e.g. a
    reservoir) what enters the subunit's reach: local load plus the children's outflows."""
    sid = point.subunit_id
    if getattr(point, "measures", "outflow") != "inflow":
        return routed[sid]
    children = subunits.loc[subunits["downstream_id"] == sid, "subunit_id"]
    return local[sid] + sum(routed[c] for c in children)


def _own_local_loads(study) -> dict[str, dict[str, float]]:
    """Baseline local loads from the input tables: land cover rows plus point sources."""
    subs = study.subunits.set_index("subunit_id")
    classes = study.land_classes.set_index("land_class")
    loads = {p: dict.fromkeys(subs.index, 0.0) for p in POLLUTANTS}
    for row in study.land_cover.itertuples(index=False):
        sub, cls = subs.loc[row.subunit_id], classes.loc[row.land_class]
        per_ha = (sub["sdr"] * sub["usle_r"] * sub["usle_k"] * sub["usle_ls"] * cls["usle_c"]
                  * cls["usle_p"] + cls["mass_yield"])
        loads["sediment"][row.subunit_id] += row.area_ha * per_ha
        loads["tn"][row.subunit_id] += row.area_ha * cls["tn_export"]
        loads["tp"][row.subunit_id] += row.area_ha * cls["tp_export"]
    for src in study.point_sources.itertuples(index=False):
        pe, treated = src.person_equivalents, src.treated_share
        loads["tn"][src.subunit_id] += pe * src.tn_per_pe * (1 - treated * src.removal_tn)
        loads["tp"][src.subunit_id] += pe * src.tp_per_pe * (1 - treated * src.removal_tp)
    return loads


def _own_effects(study, own_local: dict[str, dict[str, float]], sid: str, aid: str
                 ) -> dict[str, float]:
    """Local reduction per unit of action ``aid`` in subunit ``sid``, from the input tables."""
    act = study.actions.set_index("action_id").loc[aid]
    sub = study.subunits.set_index("subunit_id").loc[sid]
    classes = study.land_classes.set_index("land_class")
    cover = study.land_cover[study.land_cover["subunit_id"] == sid]
    kind = act["applies_to"]
    effect = dict.fromkeys(POLLUTANTS, 0.0)
    if kind == "hazard_sites":
        effect["sediment"] = min(act["sediment_trap"],
                                 own_local["sediment"][sid] / sub["hazard_sites"])
    elif kind == "point_sources":
        mine = study.point_sources[study.point_sources["subunit_id"] == sid]
        untreated = mine["person_equivalents"] * (1 - mine["treated_share"])
        for p in ("tn", "tp"):
            raw = (untreated * mine[f"{p}_per_pe"]).sum()
            effect[p] = act[f"{p}_removal"] * raw / untreated.sum()
    elif kind == "stream":
        agri = cover[classes["agricultural"].reindex(cover["land_class"]).to_numpy(bool)]
        rkls = sub["sdr"] * sub["usle_r"] * sub["usle_k"] * sub["usle_ls"]
        c = classes.reindex(agri["land_class"])
        load = {"sediment": (agri["area_ha"].to_numpy() * (
                    rkls * c["usle_c"] * c["usle_p"] + c["mass_yield"]).to_numpy()).sum(),
                "tn": (agri["area_ha"].to_numpy() * c["tn_export"].to_numpy()).sum(),
                "tp": (agri["area_ha"].to_numpy() * c["tp_export"].to_numpy()).sum()}
        for p in POLLUTANTS:
            effect[p] = act[f"{p}_removal"] * load[p] / sub["stream_km"]
    elif kind in classes.index:
        before = classes.loc[kind]
        target = act["leads_to"] if isinstance(act["leads_to"], str) and act["leads_to"] \
            else kind
        after = classes.loc[target]
        c_after = after["usle_c"] if pd.isna(act["usle_c_after"]) else act["usle_c_after"]
        rkls = sub["sdr"] * sub["usle_r"] * sub["usle_k"] * sub["usle_ls"]
        s_before = rkls * before["usle_c"] * before["usle_p"] + before["mass_yield"]
        s_after = rkls * c_after * after["usle_p"] + after["mass_yield"]
        effect["sediment"] = s_before - s_after + act["sediment_removal"] * s_after
        for p in ("tn", "tp"):
            n_before, n_after = before[f"{p}_export"], after[f"{p}_export"]
            effect[p] = n_before - n_after + act[f"{p}_removal"] * n_after
    return effect


def _own_capacities(study) -> dict[tuple[str, str], float]:
    """(subunit, resource) -> amount available, straight from the input tables."""
    cap: dict[tuple[str, str], float] = {}
    for row in study.land_cover.itertuples(index=False):
        cap[row.subunit_id, row.land_class] = cap.get((row.subunit_id, row.land_class), 0.0) \
            + float(row.area_ha)
    for row in study.subunits.itertuples(index=False):
        cap[row.subunit_id, "hazard_sites"] = float(row.hazard_sites)
        cap[row.subunit_id, "stream"] = float(row.stream_km)
        cap[row.subunit_id, "barriers"] = 0.0
        cap[row.subunit_id, "point_sources"] = 0.0
    for row in study.barriers.itertuples(index=False):
        if row.status == "active":
            cap[row.subunit_id, "barriers"] += 1.0
    for row in study.point_sources.itertuples(index=False):
        cap[row.subunit_id, "point_sources"] += row.person_equivalents * (1 - row.treated_share)
    return cap


def _allocation_with_resource(problem, result, tables) -> pd.DataFrame:
    alloc = tables["allocation"]
    resource = problem.study.actions.set_index("action_id")["applies_to"]
    return alloc.assign(resource=resource.reindex(alloc["action_id"]).to_numpy())


@pytest.mark.parametrize("case", CASES)
def test_budget_held_and_costs_recomputed(solved, case):
    problem, result, tables = solved(case)
    alloc = tables["allocation"]
    summary = tables["summary"].set_index("metric")["value"]
    budget = problem.component("budget").params.total
    spend = float(alloc["cost_cny"].sum())
    assert spend <= budget * (1 + REL)
    assert float(summary["spend"]) == pytest.approx(spend, rel=1e-9)
    # Cost from the actions table: (capital + H annual) x + fixed, per allocated option.
    horizon = problem.config.settings.horizon_years
    acts = problem.study.actions.set_index("action_id").reindex(alloc["action_id"])
    own = ((acts["capital_cost"].to_numpy() + horizon * acts["annual_cost"].to_numpy())
           * alloc["amount"].to_numpy() + acts["fixed_cost"].to_numpy())
    np.testing.assert_allclose(alloc["cost_cny"].to_numpy(), own, rtol=1e-9, atol=1e-6)
    integer = acts["integer"].to_numpy(bool)
    amounts = alloc["amount"].to_numpy()
    assert np.allclose(amounts[integer], np.round(amounts[integer]))


@pytest.mark.parametrize("case", CASES)
def test_land_and_resources_not_over_allocated(solved, case):
    problem, result, tables = solved(case)
    alloc = _allocation_with_resource(problem, result, tables)
    own = _own_capacities(problem.study)
    used = alloc.groupby(["subunit_id", "resource"])["amount"].sum()
    for (sid, resource), amount in used.items():
        assert amount <= own[sid, resource] * (1 + 1e-9) + 1e-9, (sid, resource)
    # Each allocation row's capacity is its resource's amount (whole units for integers).
    for row in alloc.itertuples(index=False):
        available = own[row.subunit_id, row.resource]
        acts = problem.study.actions.set_index("action_id")
        expected = math.floor(available + 1e-9) if acts.loc[row.action_id, "integer"] \
            else available
        assert row.capacity == pytest.approx(expected, rel=1e-9)
        assert row.amount <= row.capacity * (1 + 1e-9) + 1e-9


def _zone_shares(problem, alloc: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Permitted and required share of each allocation row, from the zone_rules params."""
    params = problem.component("zones").params
    subs = problem.study.subunits.set_index("subunit_id").reindex(alloc["subunit_id"])
    permitted = np.zeros(len(alloc))
    required = np.zeros(len(alloc))
    for zone in ("core", "general", "outside"):
        rule = getattr(params, zone)
        share = subs[f"share_{zone}"].to_numpy(float)
        ok = np.array([a not in rule.forbidden and (rule.allowed is None or a in rule.allowed)
                       for a in alloc["action_id"]])
        permitted += share * ok
        required += share * np.array([rule.required.get(a, 0.0) for a in alloc["action_id"]])
    return permitted, required


@pytest.mark.parametrize("case", CASES)
def test_zone_rules_held(solved, case):
    """x <= A sigma_permitted (whole units for integers) and x >= cap rho sigma, with the
    resource amount A from the input tables and the shares from subunits.csv."""
    problem, result, tables = solved(case)
    own = _own_capacities(problem.study)
    acts = problem.study.actions.set_index("action_id")
    alloc = _allocation_with_resource(problem, result, tables)
    permitted, _ = _zone_shares(problem, alloc)
    available = np.array([own[s, r] for s, r in zip(alloc["subunit_id"], alloc["resource"],
                                                    strict=True)])
    integer = acts["integer"].reindex(alloc["action_id"]).to_numpy(bool)
    upper = np.where(integer, np.floor(available * permitted + 1e-9), available * permitted)
    assert (alloc["amount"].to_numpy() <= upper + 1e-6).all()
    # Forbidden actions are absent where a subunit lies entirely in the forbidding zone.
    params = problem.component("zones").params
    subs = problem.study.subunits.set_index("subunit_id")
    for zone in ("core", "general", "outside"):
        rule = getattr(params, zone)
        whole = set(subs.index[subs[f"share_{zone}"] >= 1.0])
        for row in alloc.itertuples(index=False):
            if row.subunit_id in whole:
                assert row.action_id not in rule.forbidden
                assert rule.allowed is None or row.action_id in rule.allowed
    # Required shares: every option with a requirement gets at least that much.
    opts = result.built.ctx.options
    _, required = _zone_shares(problem, opts)
    resource = acts["applies_to"].reindex(opts["action_id"]).to_numpy()
    available = np.array([own[s, r] for s, r in zip(opts["subunit_id"], resource, strict=True)])
    integer = opts["integer"].to_numpy(bool)
    need = np.where(integer, np.floor(available + 1e-9), available) * required
    need = np.where(integer, np.ceil(need - 1e-9), need)
    assert (result.amounts >= need - 1e-6).all()
    if case == "baoxing-core_strict":
        patrol = (opts["action_id"] == "ranger_patrol").to_numpy() & (required > 0)
        assert patrol.sum() >= 5
        assert (result.amounts[patrol] >= need[patrol] - 1e-6).all()
        assert (need[patrol] > 0).all()


@pytest.mark.parametrize("case", CASES)
def test_routed_loads_recomputed(solved, case):
    problem, result, tables = solved(case)
    study = problem.study
    ctx = result.built.ctx
    alloc = tables["allocation"]
    subunit_tab = tables["subunits"].set_index(["metric", "subunit_id"])
    cps = tables["control_points"].set_index(["point_id", "pollutant"])
    columns = {"sediment": "sediment_reduction_local_t_yr", "tn": "tn_reduction_local_kg_yr",
               "tp": "tp_reduction_local_kg_yr"}
    ids = list(study.subunits["subunit_id"])
    own_local = _own_local_loads(study)
    # per-row local reductions = own per-unit effect x amount
    effects = [_own_effects(study, own_local, row.subunit_id, row.action_id)
               for row in alloc.itertuples(index=False)]
    for p in POLLUTANTS:
        own_cut = np.array([e[p] for e in effects]) * alloc["amount"].to_numpy()
        np.testing.assert_allclose(alloc[columns[p]].to_numpy(), own_cut, rtol=REL, atol=1e-6)
    for p in POLLUTANTS:
        before = own_local[p]
        for s in ids:
            assert subunit_tab.loc[(f"{p}_local", s), "before"] == pytest.approx(
                before[s], rel=REL, abs=1e-6)
        cut = alloc.groupby("subunit_id")[columns[p]].sum()
        after = {s: before[s] - float(cut.get(s, 0.0)) for s in ids}
        for s in ids:
            assert subunit_tab.loc[(f"{p}_local", s), "after"] == pytest.approx(
                after[s], rel=REL, abs=1e-6)
        routed_before = _own_route(study.subunits, before, p)
        routed_after = _own_route(study.subunits, after, p)
        for s in ids:
            assert subunit_tab.loc[(f"{p}_outflow", s), "before"] == pytest.approx(
                routed_before[s], rel=REL, abs=1e-6)
            assert subunit_tab.loc[(f"{p}_outflow", s), "after"] == pytest.approx(
                routed_after[s], rel=REL, abs=1e-6)
        for cp in study.control_points.itertuples(index=False):
            row = cps.loc[(cp.point_id, p)]
            own_after = _own_at_point(study.subunits, after, p, routed_after, cp)
            own_before = _own_at_point(study.subunits, before, p, routed_before, cp)
            assert row["before"] == pytest.approx(own_before, rel=REL)
            assert row["after"] == pytest.approx(own_after, rel=REL, abs=1e-6)
            # ... and the optimizer's own delivered-reduction expression agrees.
            model_after = ctx.baseline_load(cp.point_id, p) - pyo.value(
                ctx.reduction(cp.point_id, p))
            assert model_after == pytest.approx(own_after, rel=REL, abs=1e-6)
            limit = row["limit"]
            if np.isfinite(limit):
                assert own_after <= limit * (1 + REL) + 1e-6


def _concave(curve, base: float, gain: float) -> float:
    """A diminishing-returns curve at ``gain`` (linear without a curve), written out here:
    segment j spans (u_{j-1} .. u_j) * base and pays factor_j per unit."""
    if not curve:
        return gain
    if gain < 0:
        return curve[0][1] * gain
    total, start = 0.0, 0.0
    for up_to, factor in curve:
        end = np.inf if up_to is None else up_to * base
        total += factor * max(0.0, min(gain, end) - start)
        start = end
    return total


@pytest.mark.parametrize("case", CASES)
def test_objective_recomputed_from_tables(solved, case):
    """Objective = H sum_t w_t sum_p v_p f_tp(before - after, own routing) + habitat +
    carbon, with f the pair's diminishing-returns curve (identity without one)."""
    problem, result, tables = solved(case)
    study = problem.study
    horizon = problem.config.settings.horizon_years
    alloc = tables["allocation"]
    cps = study.control_points.set_index("point_id")
    ids = list(study.subunits["subunit_id"])
    subunit_tab = tables["subunits"].set_index(["metric", "subunit_id"])
    acts = study.actions.set_index("action_id").reindex(alloc["action_id"])
    amount = alloc["amount"].to_numpy()
    total = 0.0
    for comp in problem.components:
        if comp.type_name == "delivered_reduction":
            weights = comp.params.points or dict(zip(cps.index, cps["weight"], strict=True))
            for p, v in comp.params.values.items():
                before = {s: float(subunit_tab.loc[(f"{p}_local", s), "before"]) for s in ids}
                after = {s: float(subunit_tab.loc[(f"{p}_local", s), "after"]) for s in ids}
                rb = _own_route(study.subunits, before, p)
                ra = _own_route(study.subunits, after, p)
                for point, w in weights.items():
                    if cps.loc[point, f"cares_{p}"]:
                        cp = study.control_points.set_index("point_id").loc[point]
                        cp = cp.rename({"subunit_id": "subunit_id"})
                        at = pd.Series({"subunit_id": cp["subunit_id"],
                                        "measures": cp["measures"]})
                        base = _own_at_point(study.subunits, before, p, rb, at)
                        cut = base - _own_at_point(study.subunits, after, p, ra, at)
                        curve = (comp.params.curves.get(point, {}).get(p)
                                 or comp.params.curves.get("*", {}).get(p))
                        total += horizon * w * v * _concave(curve, base, cut)
        elif comp.type_name == "habitat":  # habitat_gain ha per unit, from actions.csv
            gain = (acts["habitat_gain"].to_numpy() * amount)
            species = acts["habitat_species"].to_numpy()
            hab = study.species_habitat
            for s, spec in comp.params.species.items():
                mine = hab[hab["species"] == s]
                base = float((mine["habitat_ha"] * mine["quality"]).sum())
                total += spec.value * _concave(spec.curve, base,
                                               float(gain[species == s].sum()))
        elif comp.type_name == "carbon":  # stock after - before per ha, from land_classes.csv
            stock = study.land_classes.set_index("land_class")["carbon_stock"]
            per_unit = [stock[to if isinstance(to, str) and to else on] - stock[on]
                        if on in stock.index else 0.0
                        for on, to in zip(acts["applies_to"], acts["leads_to"], strict=True)]
            total += comp.params.value * float(np.dot(per_unit, amount))
        elif comp.type_name == "max_benefit":
            total -= comp.params.cost_weight * float(alloc["cost_cny"].sum())
    assert result.objective == pytest.approx(total, rel=REL)
    assert float(alloc["benefit_cny"].sum()) == pytest.approx(total, rel=REL)


def test_equity_held_on_baoxing(solved):
    problem, result, tables = solved("baoxing-base")
    alloc = tables["allocation"]
    max_share = problem.component("equity").params.max_share
    by_town = alloc.groupby("township")["cost_cny"].sum()
    assert (by_town <= max_share * alloc["cost_cny"].sum() * (1 + REL) + 1e-6).all()


@pytest.mark.parametrize("case", ["baoxing-base", "synth300"])
def test_objective_never_decreases_with_budget(solved, case):
    problem, _, _ = solved(case)
    problem = problem.with_solver(mip_gap=0.0)
    base = problem.component("budget").params.total
    objectives = []
    for factor in (0.0, 0.2, 0.5, 1.0, 1.5):
        result = problem.add(Budget("budget", total=factor * base)).solve()
        assert result.status == "optimal"
        spend = summary_table(result).set_index("metric")["value"]["spend"]
        assert float(spend) <= factor * base * (1 + REL) + 1e-6
        objectives.append(result.objective)
    assert objectives[0] == pytest.approx(0.0, abs=1e-6)
    for lower, higher in itertools.pairwise(objectives):
        assert higher >= lower - REL * abs(lower)
    assert objectives[-1] > objectives[0]
