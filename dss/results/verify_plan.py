"""The plan checks of ``dss verify``: a saved plan against the model rebuilt from its
recorded configuration (allocation, constraints, spend, routed loads, habitat, objective;
see :mod:`dss.results.verify`)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pyomo.repn import generate_standard_repn

from dss.data.schema import POLLUTANTS
from dss.indicators.loads import retention
from dss.optimize.components.benefits import LoadLimits
from dss.optimize.components.constraints import Budget
from dss.results.saved_decisions import load_saved_decisions
from dss.results.verify_report import REL_TOL, Verification
from dss.results.verify_report import as_number as _num
from dss.results.verify_report import close_enough as _close
from dss.results.verify_report import fmt10 as _g


def check_plan(report: Verification, built, alloc_path: Path, summary: dict[str, str],
               manifest: dict[str, Any]) -> None:
    """Check the plan in ``allocation.csv`` against the rebuilt model ``built``: the
    allocation itself, every constraint, the spend, the routed loads, the habitat, each
    component's own re-check and the objective (see :mod:`dss.results.verify`)."""
    x = _read_allocation(report, built, alloc_path)
    if x is None:
        return
    load_saved_decisions(report, built, x)  # e.g. the zones of park_zoning
    _check_constraints(report, built, x)
    _check_spend(report, built, x, summary)
    _check_loads(report, built, x)
    _check_habitat(report, built, x)
    for comp in built.problem.components:  # a component's own independent re-check
        check = getattr(comp, "verify_plan", None)
        if check is not None:
            report.add(comp.name, *check(built.blocks[comp.name], built.ctx, x, report.folder))
    _check_objective(report, built, x, summary, manifest)


def _read_allocation(report: Verification, built, path: Path) -> np.ndarray | None:
    opts = built.ctx.options
    try:
        alloc = pd.read_csv(path, dtype={"subunit_id": str, "action_id": str},
                            keep_default_na=False, na_values=[""])
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as err:
        report.add("allocation", [f"allocation.csv cannot be read ({err})"], "")
        return None
    missing = [c for c in ("subunit_id", "action_id", "amount") if c not in alloc]
    if missing:
        report.add("allocation", [f"allocation.csv has no column {', '.join(missing)}"], "")
        return None
    phased = built.ctx.phasing is not None  # with planning years, options are per year too
    if phased and "year" not in alloc:
        report.add("allocation", ["allocation.csv has no column year (the model has planning "
                                  "years)"], "")
        return None
    years = opts["year"].tolist() if phased else [None] * len(opts)
    key = {(s, a, y): k for k, (s, a, y) in enumerate(zip(
        opts["subunit_id"], opts["action_id"], years, strict=True))}
    cap = opts["capacity"].to_numpy(float)
    integer = opts["integer"].to_numpy(bool)
    unit_cost = opts["unit_cost"].to_numpy(float)
    fixed = opts["fixed_cost"].to_numpy(float)
    x = np.zeros(len(opts))
    problems = []
    seen: set[int] = set()
    listed_costs: list[tuple[str, int, object]] = []
    for row, rec in enumerate(alloc.itertuples(index=False), start=2):
        year = _num(rec.year) if phased else None
        k = key.get((rec.subunit_id, rec.action_id,
                     int(year) if year is not None and math.isfinite(year) else year))
        amount = _num(rec.amount)
        where = (f"allocation.csv row {row} ({rec.subunit_id} {rec.action_id}"
                 + (f" {rec.year})" if phased else ")"))
        if k is None:
            problems.append(f"{where}: not a possible option of the model")
            continue
        if k in seen:
            problems.append(f"{where}: listed twice")
            continue
        seen.add(k)
        if amount is None or not math.isfinite(amount) or amount < 0:
            problems.append(f"{where}: amount {rec.amount!r} is not a number >= 0")
            continue
        x[k] = amount
        if amount > cap[k] * (1 + REL_TOL) + 1e-9:
            problems.append(f"{where}: amount {_g(amount)} exceeds the capacity {_g(cap[k])}")
        if integer[k] and abs(amount - round(amount)) > 1e-6:
            problems.append(f"{where}: amount {_g(amount)} is not a whole number")
        if "cost_cny" in alloc:
            listed_costs.append((where, k, rec.cost_cny))
    paid = built.ctx.fixed_paid(x)  # with years, the first start of a pair pays it
    for where, k, text in listed_costs:
        cost = unit_cost[k] * x[k] + (fixed[k] if paid[k] else 0.0)
        listed = _num(text)
        if listed is None or not _close(listed, cost):
            problems.append(f"{where}: cost_cny {text} but the amount costs {_g(cost)}")
    report.add("allocation", problems, f"{len(alloc)} rows name possible options, within "
                                       "capacity, with their costs")
    return x


def _assign(built, x: np.ndarray) -> None:
    """Set the model's variables to the plan ``x`` (the decisions and what follows)."""

    ctx = built.ctx
    for var, value in zip(ctx.amount_vars, x, strict=True):
        var.set_value(float(value), skip_validation=True)
    paid = ctx.fixed_paid(x)  # with years: the first start year of a pair
    for k, var in ctx.used_vars.items():
        var.set_value(1.0 if paid[k] else 0.0, skip_validation=True)
    costs = _costs(built, x)
    towns = ctx.options["township"].to_numpy()
    for g, var in ctx.township_spend.items():
        var.set_value(float(costs[towns == g].sum()), skip_validation=True)
    for comp in built.problem.components:  # e.g. the segments of benefit curves
        comp.assign_auxiliary(built.blocks[comp.name], ctx, x)
    for block in built.blocks.values():
        for var in block.component_data_objects(pyo.Var, descend_into=True):
            if var.value is None and not var.fixed:
                lb = var.lb
                var.set_value(0.0 if lb is None or lb <= 0 else lb, skip_validation=True)


def _costs(built, x: np.ndarray) -> np.ndarray:
    opts = built.ctx.options
    return opts["unit_cost"].to_numpy(float) * x + np.where(
        built.ctx.fixed_paid(x), opts["fixed_cost"].to_numpy(float), 0.0)


def _check_constraints(report: Verification, built, x: np.ndarray) -> None:
    """Every constraint of the rebuilt model holds for the plan."""

    _assign(built, x)
    problems = []
    count = 0
    for con in built.model.component_data_objects(pyo.Constraint, active=True,
                                                  descend_into=True):
        if con.parent_component().local_name == "spend_def":
            continue  # the spend variables are set from the plan itself
        count += 1
        body = pyo.value(con.body, exception=False)
        if body is None:
            continue
        lower, upper = con.lb, con.ub
        low = lower is not None and body < lower - 1e-9 * max(1.0, abs(lower))
        high = upper is not None and body > upper + 1e-9 * max(1.0, abs(upper))
        if not (low or high):
            continue
        # amounts are saved with 10 significant digits: allow for that, relative to the
        # size of the terms that make up the row, not only to its bound
        tol = 1e-6 * max(1.0, abs(lower or 0.0), abs(upper or 0.0), _scale(con.body))
        if low and body < lower - tol:
            problems.append(f"{con.name}: {_g(body)} is below its lower bound {_g(lower)}")
        if high and body > upper + tol:
            problems.append(f"{con.name}: {_g(body)} is above its upper bound {_g(upper)}")
    report.add("constraints", problems, f"all {count} constraints of the model hold for the "
                                        "plan (budget, land, zone rules, locks, equity, limits, "
                                        "targets)")


def _scale(expr) -> float:
    """Largest magnitude of the terms of a linear expression at the current values."""

    repn = generate_standard_repn(expr, compute_values=True)
    terms = [abs(c * (v.value or 0.0)) for c, v in zip(repn.linear_coefs, repn.linear_vars,
                                                        strict=True)]
    return max([abs(repn.constant or 0.0), *terms])


def _check_spend(report: Verification, built, x: np.ndarray, summary: dict[str, str]) -> None:

    costs = _costs(built, x)
    spend = float(costs.sum())
    problems = []
    listed = _num(summary.get("spend"))
    if listed is None or not _close(listed, spend):
        problems.append(f"summary.csv spend is {summary.get('spend')} but the plan costs "
                        f"{_g(spend)}")
    for comp in built.problem.components:
        if isinstance(comp, Budget) and comp.params.total is not None and \
                spend > comp.params.total * (1 + REL_TOL) + 1e-6:
            problems.append(f"the plan costs {_g(spend)}, above the budget "
                            f"{_g(comp.params.total)} ({comp.name}.total)")
    phasing = built.ctx.phasing
    for year in phasing.years if phasing is not None else ():
        coef, fixed_now = phasing.spend_coefficients(year)
        paid = float((coef * x).sum() + np.where(built.ctx.fixed_paid(x) & fixed_now,
                                                  built.ctx.options["fixed_cost"].to_numpy(
                                                      float), 0.0).sum())
        listed = _num(summary.get(f"spend year {year}"))
        if listed is None or not _close(listed, paid):
            problems.append(f"summary.csv spend year {year} is {summary.get(f'spend year {year}')}"
                            f" but the plan spends {_g(paid)} that year")
    agencies = pd.Series(costs).groupby(built.ctx.options["agency"].to_numpy()).sum()
    for agency, value in agencies.items():
        listed = _num(summary.get(f"spend agency {agency}"))
        if listed is not None and not _close(listed, float(value)):
            problems.append(f"summary.csv spend agency {agency} is {_g(listed)} but the plan "
                            f"spends {_g(float(value))}")
    report.add("spend", problems, f"the plan costs {_g(spend)} CNY, as reported, within the "
                                  "budget")


def _check_loads(report: Verification, built, x: np.ndarray) -> None:
    """Routed loads at control points, recomputed from the plan with the routing module."""

    ctx = built.ctx
    study = ctx.study
    pos = ctx.option_subunit_pos
    phasing = ctx.phasing
    years = [None] if phasing is None else phasing.state_years
    limits: dict[tuple[str, str, int | None], float] = {}
    for comp in built.problem.components:
        if isinstance(comp, LoadLimits):
            when = None if phasing is None else (comp.params.year or phasing.end)
            for (t, p), value in comp.targets(ctx).items():
                limits[t, p, when] = min(limits.get((t, p, when), np.inf), value)
    path = report.folder / "control_points.csv"
    reported = {}
    if path.is_file():
        table = pd.read_csv(path, dtype={"point_id": str}, keep_default_na=False,
                            na_values=[""])
        if {"point_id", "pollutant", "after"} <= set(table.columns):
            when = table["year"] if "year" in table and phasing is not None else [None] * len(
                table)
            reported = {(r.point_id, r.pollutant, None if y is None else int(y)): _num(r.after)
                        for r, y in zip(table.itertuples(index=False), when, strict=True)}
    problems = []
    count = 0
    for year in years:
        routed = {}
        for p in POLLUTANTS:
            effect = ctx.options[f"d_{p}"].to_numpy(float) if phasing is None else \
                phasing.effect_at(f"d_{p}", year)  # with years: effects in that year
            reduction = np.zeros(study.routing.n)
            np.add.at(reduction, pos, effect * x)
            routed[p] = study.routing.route(ctx.local[p].to_numpy(float) - reduction,
                                            retention(study, p))
        in_year = "" if year is None else f" in {year}"
        for cp in study.control_points.itertuples(index=False):
            target = int(study.routing.index([cp.subunit_id])[0])
            inflow = getattr(cp, "measures", "outflow") == "inflow"
            for p in POLLUTANTS:
                count += 1
                after = study.routing.load_at(routed[p], target, inflow)
                limit = limits.get((cp.point_id, p, year))
                if limit is not None and after > limit + 1e-6 * max(1.0, abs(limit)):
                    problems.append(f"{p} at {cp.point_id}{in_year}: routed load {_g(after)} "
                                    f"is above its limit {_g(limit)}")
                listed = reported.get((cp.point_id, p, year))
                if reported and (listed is None or not _close(listed, after)):
                    problems.append(f"control_points.csv {p} at {cp.point_id}{in_year}: after "
                                    f"is {listed} but routing the plan gives {_g(after)}")
    report.add("routed loads", problems, f"{count} loads at control points, routed from the "
                                         "plan, match the table and the limits")


def _check_habitat(report: Verification, built, x: np.ndarray) -> None:
    path = report.folder / "species.csv"
    if not path.is_file():
        return
    table = pd.read_csv(path, dtype={"species": str}, keep_default_na=False, na_values=[""])
    if not {"species", "gain"} <= set(table.columns):
        report.add("habitat", ["species.csv has no species/gain columns"], "")
        return
    opts = built.ctx.options
    phasing = built.ctx.phasing
    species = opts["habitat_species"].to_numpy()
    if phasing is not None and "year" not in table:
        report.add("habitat", ["species.csv has no year column (the model has planning "
                               "years)"], "")
        return
    problems = []
    for rec in table.itertuples(index=False):
        gain = (opts["habitat_gain"].to_numpy(float) if phasing is None else
                phasing.effect_at("habitat_gain", int(rec.year))) * x  # with years: that year's
        expected = float(gain[species == rec.species].sum())
        listed = _num(rec.gain)
        if listed is None or not _close(listed, expected):
            problems.append(f"species.csv {rec.species}: gain {rec.gain} but the plan gains "
                            f"{_g(expected)} ha")
    report.add("habitat", problems, f"habitat gains of {len(table)} species match the plan")


def _check_objective(report: Verification, built, x: np.ndarray, summary: dict[str, str],
                     manifest: dict[str, Any]) -> None:

    _assign(built, x)
    value = float(pyo.value(built.model.objective_function))
    problems = []
    listed = _num(summary.get("objective"))
    if listed is None or not _close(listed, value):
        problems.append(f"summary.csv objective is {summary.get('objective')} but the plan's "
                        f"objective is {_g(value)}")
    recorded = _num((manifest.get("solver") or {}).get("objective"))
    if recorded is not None and not _close(recorded, value):
        problems.append(f"the manifest's objective is {_g(recorded)} but the plan's is "
                        f"{_g(value)}")
    report.add("objective", problems, f"the objective recomputed from the plan, {_g(value)}, "
                                      "is the one reported")
