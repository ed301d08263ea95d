"""Turn a solve into tidy result tables (with units) for planners and policymakers.

The "after" state (:mod:`dss.optimize.plan_effects`) is recomputed with the foundation's
own routing (:mod:`dss.network.routing`) from the reduced local loads, independently of the
optimizer's reduction expressions, so the two can be checked against each other.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dss.data.schema import POLLUTANT_UNITS, POLLUTANTS
from dss.network.routing import RoutingResult
from dss.optimize.components.base import Role
from dss.optimize.components.benefits import Habitat, LoadLimits
from dss.optimize.components.coefficients import objective_coefficients
from dss.optimize.phasing import Phasing
from dss.optimize.plan_effects import (
    after_local_loads,
    amounts_in_year,
    option_costs,
    routed_after_plan,
    spend_in_year,
)
from dss.optimize.solve import Result


def allocation_table(result: Result) -> pd.DataFrame:
    """One row per (subunit, action) with a positive amount."""
    ctx = result.built.ctx
    opts = ctx.options
    x = result.amounts if result.amounts is not None else np.zeros(len(opts))
    cost = option_costs(result)
    keep = x > 1e-9
    names = ctx.study.subunits.set_index("subunit_id")
    acts = ctx.study.actions.set_index("action_id")
    sel = opts[keep]
    amount = x[keep]
    table = pd.DataFrame({
        "subunit_id": sel["subunit_id"].to_numpy(),
        "subunit": names["name"].reindex(sel["subunit_id"]).to_numpy(),
        "action_id": sel["action_id"].to_numpy(),
        "action": acts["name"].reindex(sel["action_id"]).to_numpy(),
        "amount": amount,
        "unit": sel["unit"].to_numpy(),
        "capacity": sel["capacity"].to_numpy(),
        "cost_cny": cost[keep],
        "agency": sel["agency"].to_numpy(),
        "township": sel["township"].to_numpy(),
        "zone": sel["zone"].to_numpy(),
        "sediment_reduction_local_t_yr": sel["d_sediment"].to_numpy() * amount,
        "tn_reduction_local_kg_yr": sel["d_tn"].to_numpy() * amount,
        "tp_reduction_local_kg_yr": sel["d_tp"].to_numpy() * amount,
        "habitat_species": sel["habitat_species"].to_numpy(),
        "habitat_gain_ha": sel["habitat_gain"].to_numpy() * amount,
        "carbon_gain_t": sel["d_carbon"].to_numpy() * amount,
    })
    table["benefit_cny"] = _option_benefit(result)[keep]
    with np.errstate(divide="ignore", invalid="ignore"):
        table["benefit_per_cny"] = np.where(table["cost_cny"] > 0,
                                            table["benefit_cny"] / table["cost_cny"], np.nan)
    if ctx.phasing is not None:
        _phase_allocation(table, ctx.phasing, keep, amount)
        return table.sort_values(["year", "cost_cny", "subunit_id", "action_id"],
                                 ascending=[True, False, True, True],
                                 kind="stable").reset_index(drop=True)
    return table.sort_values(["cost_cny", "subunit_id", "action_id"],
                             ascending=[False, True, True], kind="stable").reset_index(drop=True)


_FULL_EFFECTS = {"sediment_reduction_local_t_yr": "d_sediment",
                 "tn_reduction_local_kg_yr": "d_tn", "tp_reduction_local_kg_yr": "d_tp",
                 "habitat_gain_ha": "habitat_gain", "carbon_gain_t": "d_carbon"}


def _phase_allocation(table: pd.DataFrame, phasing: Phasing, keep: np.ndarray,
                      amount: np.ndarray) -> None:
    """With planning years: the start year after the action, the effects at full strength
    (after maturation; the option columns hold the discounted, maturity-weighted ones), and
    the benefit weight :math:`w_k` (see :mod:`dss.optimize.phasing`)."""
    table.insert(table.columns.get_loc("action") + 1, "year", phasing.option_year[keep])
    for column, effect in _FULL_EFFECTS.items():
        table[column] = phasing.full[effect][keep] * amount
    table["maturity_years"] = phasing.maturity_years[keep]
    table["benefit_weight"] = phasing.weight[keep]


def _option_benefit(result: Result) -> np.ndarray:
    """Currency-valued benefit each option contributes (the built-in benefit components'
    objective coefficients,
    :func:`~dss.optimize.components.coefficients.objective_coefficients`, times the
    amounts, plus each option's pro-rata share of the benefits valued by a curve)."""

    built = result.built
    ctx = built.ctx
    n = ctx.n_options
    x = result.amounts if result.amounts is not None else np.zeros(n)
    roles = {c.name: c.role for c in built.problem.components}
    per_unit = np.zeros(n)
    for name, coef in objective_coefficients(built.problem, ctx).items():
        if roles.get(name) is Role.BENEFIT:
            per_unit += coef
    out = per_unit * x
    for comp in built.problem.components:  # benefits valued by a curve, shared pro rata
        share = getattr(comp, "curved_option_benefit", None)
        if share is not None and getattr(comp, "curves", None) is not None:
            out = out + share(ctx, x)
    return out


def _by_year(result: Result, table) -> pd.DataFrame:
    """One table per year of the trajectory (planning years and benefit horizon), stacked
    with a leading ``year`` column; ``table(x, costs, year)`` makes one."""
    parts = []
    for year in result.built.ctx.phasing.state_years:
        part = table(amounts_in_year(result, year), spend_in_year(result, year), year)
        part.insert(0, "year", year)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def subunit_table(result: Result, routed: dict[str, RoutingResult] | None = None
                  ) -> pd.DataFrame:
    """Indicators per subunit before and after the plan (long format); ``routed``: the
    plan's :func:`~dss.optimize.plan_effects.routed_after_plan`, if already made. With
    planning years, one block per year of the trajectory (``year`` column): the state in
    that year, and the spend of that year."""
    if result.built.ctx.phasing is not None:
        return _by_year(result, lambda x, costs, _year: _subunit_rows(result, x, costs))
    return _subunit_rows(result, None, None, routed)


def _subunit_rows(result: Result, x: np.ndarray | None, costs: np.ndarray | None,
                  routed: dict[str, RoutingResult] | None = None) -> pd.DataFrame:
    """:func:`subunit_table` for amounts ``x`` and option costs (the plan's when None)."""
    ctx = result.built.ctx
    study = ctx.study
    after_local = after_local_loads(result, x)
    routed = routed if routed is not None else routed_after_plan(result, x)
    ids = study.subunits["subunit_id"].to_numpy()
    zone = study.zone().to_numpy()
    town = study.subunits["township"].to_numpy()
    if x is None:
        x = result.amounts if result.amounts is not None else np.zeros(ctx.n_options)
    costs = option_costs(result) if costs is None else costs
    pos = ctx.option_subunit_pos
    parts = []

    def add(metric, before, after, unit):
        parts.append(pd.DataFrame({"subunit_id": ids, "zone": zone, "township": town,
                                   "metric": metric, "before": before, "after": after,
                                   "change": np.asarray(after) - np.asarray(before),
                                   "unit": unit}))

    for p in POLLUTANTS:
        unit = POLLUTANT_UNITS[p]
        add(f"{p}_local", ctx.local[p].to_numpy(), after_local[p], unit)
        add(f"{p}_outflow", ctx.routed[p].outflow, routed[p].outflow, unit)
    def per_subunit(values: np.ndarray) -> np.ndarray:
        return np.bincount(pos, weights=values, minlength=len(ids))

    add("spend", np.zeros(len(ids)), per_subunit(costs), "CNY")
    add("carbon_stock", ctx.local["carbon_t"].to_numpy(),
        ctx.local["carbon_t"].to_numpy()
        + per_subunit(ctx.options["d_carbon"].to_numpy(float) * x), "t C")
    add("habitat_gain", np.zeros(len(ids)),
        per_subunit(ctx.options["habitat_gain"].to_numpy(float) * x), "ha")
    return pd.concat(parts, ignore_index=True)


def control_point_table(result: Result, routed: dict[str, RoutingResult] | None = None
                        ) -> pd.DataFrame:
    """Routed loads at control points before and after, with limits and slack (with
    planning years: in each year of the trajectory, ``year`` column)."""
    if result.built.ctx.phasing is not None:
        return _by_year(result, lambda x, _costs, _year: _control_point_rows(
            result, routed_after_plan(result, x)))
    return _control_point_rows(result, routed)


def _control_point_rows(result: Result, routed: dict[str, RoutingResult] | None
                        ) -> pd.DataFrame:
    """:func:`control_point_table` after the routing ``routed`` (the plan's when None)."""
    ctx = result.built.ctx
    study = ctx.study
    limits: dict[tuple[str, str], float] = {}
    for comp in result.built.problem.components:
        if isinstance(comp, LoadLimits):
            for key, value in comp.targets(ctx).items():
                limits[key] = min(limits.get(key, np.inf), value)
    rows = []
    routed_after = routed if routed is not None else routed_after_plan(result)
    for cp in study.control_points.itertuples(index=False):
        target = int(study.routing.index([cp.subunit_id])[0])
        for p in POLLUTANTS:
            inflow = getattr(cp, "measures", "outflow") == "inflow"
            before = study.routing.load_at(ctx.routed[p], target, inflow)
            after = study.routing.load_at(routed_after[p], target, inflow)
            limit = limits.get((cp.point_id, p), np.nan)
            rows.append({"point_id": cp.point_id, "name": cp.name, "kind": cp.kind,
                         "pollutant": p, "before": before, "after": after,
                         "reduction": before - after,
                         "reduction_pct": 100 * (before - after) / before if before else 0.0,
                         "limit": limit, "slack": limit - after if np.isfinite(limit) else
                         np.nan, "unit": POLLUTANT_UNITS[p]})
    return pd.DataFrame(rows, columns=["point_id", "name", "kind", "pollutant", "before",
                                       "after", "reduction", "reduction_pct", "limit", "slack",
                                       "unit"])


def species_table(result: Result) -> pd.DataFrame:
    """Quality-weighted habitat per species before and after, with targets (with planning
    years: in each year of the trajectory, ``year`` column)."""
    if result.built.ctx.phasing is not None:
        return _by_year(result, lambda x, _costs, _year: _species_rows(result, x))
    return _species_rows(result, None)


def _species_rows(result: Result, x: np.ndarray | None) -> pd.DataFrame:
    """:func:`species_table` for amounts ``x`` (the plan's when None)."""
    ctx = result.built.ctx
    if x is None:
        x = result.amounts if result.amounts is not None else np.zeros(ctx.n_options)
    hab = ctx.study.species_habitat
    targets: dict[str, float] = {}
    for comp in result.built.problem.components:
        if isinstance(comp, Habitat):
            for s in comp.params.species:
                need = comp.required(ctx, s)
                if need is not None:
                    targets[s] = max(targets.get(s, -np.inf), need)
    species = ctx.options["habitat_species"].to_numpy()
    gain = ctx.options["habitat_gain"].to_numpy(float) * x
    rows = []
    for s in ctx.study.species["species"]:
        mine = hab[hab["species"] == s]
        before = float((mine["habitat_ha"] * mine["quality"]).sum())
        g = float(gain[species == s].sum())
        need = targets.get(s, np.nan)
        rows.append({"species": s, "before": before, "gain": g, "after": before + g,
                     "required_gain": need,
                     "target_met": bool(g >= need - 1e-6) if np.isfinite(need) else None,
                     "unit": "ha (quality-weighted)"})
    return pd.DataFrame(rows, columns=["species", "before", "gain", "after", "required_gain",
                                       "target_met", "unit"])


def summary_table(result: Result) -> pd.DataFrame:
    """Headline metrics: objective, spend, benefits and solver status (timings are in
    :func:`timings_table`, so that the summary is the same for the same inputs)."""
    built = result.built
    ctx = built.ctx
    costs = option_costs(result)
    rows: list[tuple[str, object, str]] = [
        ("status", result.status, "-"),
        ("termination", result.termination, "-"),
        ("objective", result.objective, "CNY" if built.objective.type_name else "-"),
        ("objective_sense", built.objective.type_name, "-"),
        ("bound", result.bound, "CNY"),
        ("gap", result.gap, "fraction"),
        ("spend", float(costs.sum()), "CNY"),
        ("options", ctx.n_options, "count"),
        ("options_used", int((result.amounts > 1e-9).sum()) if result.has_plan else 0,
         "count"),
    ]
    for comp in built.problem.components:
        if comp.type_name == "budget" and comp.params.total is not None:
            rows.append(("budget", comp.params.total, "CNY"))
    if result.has_plan:
        for label, v in sorted(built.benefit_values(result.amounts).items()):
            rows.append((f"benefit {label}", v, "CNY"))
    by_agency = pd.Series(costs).groupby(ctx.options["agency"].to_numpy()).sum()
    for agency, v in by_agency.items():
        rows.append((f"spend agency {agency}", float(v), "CNY"))
    if ctx.phasing is not None:
        for year in ctx.phasing.years:
            rows.append((f"spend year {year}", float(spend_in_year(result, year).sum()), "CNY"))
    duals = result.duals
    named = duals[duals["constraint"].isin(["total", "limit", "target"])
                  & (duals["dual"].astype(float).abs() > 0)]
    for comp, con, index, dual in zip(named["component"], named["constraint"],
                                      named["index"], named["dual"], strict=True):
        idx = f"[{index}]" if index else ""
        rows.append((f"marginal {comp}.{con}{idx}", dual,
                     "objective units per unit of the constraint"))
    return pd.DataFrame(rows, columns=["metric", "value", "unit"])


def timings_table(result: Result) -> pd.DataFrame:
    """Build and solve times: kept out of the summary, which is byte-identical run to run."""
    return pd.DataFrame([("build_time", result.build_seconds, "s"),
                         ("solve_time", result.solve_seconds, "s")],
                        columns=["metric", "value", "unit"])


def warnings_table(result: Result) -> pd.DataFrame:
    """Presolve warnings (numerically risky data), located by file, row and column."""
    return pd.DataFrame([{"file": w.file, "row": w.row, "column": w.column,
                          "message": w.message, "text": str(w)}
                         for w in result.warnings],
                        columns=["file", "row", "column", "message", "text"]).astype(
                            {"row": "Int64"})


def plan_tables(result: Result) -> dict[str, pd.DataFrame]:
    """The tables of a plan that do not need the duals (none without a plan): allocation,
    subunits, control points and species, keyed by file stem."""
    if not result.has_plan:
        return {}
    # with planning years every table routes each year of its own trajectory
    routed = routed_after_plan(result) if result.built.ctx.phasing is None else None
    tables = {
        "allocation": allocation_table(result),
        "subunits": subunit_table(result, routed),
        "control_points": control_point_table(result, routed),
        "species": species_table(result),
    }
    built = result.built
    for comp in built.problem.components:  # components' own plan tables (barriers, scenarios)
        tables.update(comp.plan_tables(built, result))
    return tables


def result_tables(result: Result, plan: dict[str, pd.DataFrame] | None = None
                  ) -> dict[str, pd.DataFrame]:
    """Every result table of a solve, keyed by file stem.

    All are identical, byte for byte, for the same inputs and options, except ``timings``.

    Args:
        result: The solve.
        plan: Its :func:`plan_tables`, if already made (they are made first otherwise: the
            duals may still be solving in the background).
    """
    plan = plan_tables(result) if plan is None else plan
    tables = {"summary": summary_table(result), "timings": timings_table(result)}
    if result.warnings:
        tables["warnings"] = warnings_table(result)
    tables.update(plan)
    if len(result.duals):
        tables["duals"] = result.duals
    if len(result.shortfalls):
        tables["shortfalls"] = result.shortfalls
    return tables
