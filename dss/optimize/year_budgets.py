"""Budgets per planning year (with optional carry-over), built from sparse rows.

The money of the starts of year :math:`y` in township :math:`h` within a budget's group
:math:`K_g` (all options, an agency's, a township's) is gathered in two variables, each
option in one of each:

.. math:: c_{g,y,h} = \\sum_{k \\in K_{g,y,h}} c^{cap}_k x_k + f_k u_k, \\qquad
          a_{g,y,h} = \\sum_{k \\in K_{g,y,h}} c^{ann}_k x_k

(capital and fixed cost, paid in :math:`y`; the annual cost, paid every year from
:math:`y`). The spend of year :math:`t` is :math:`\\sum_h c_{g,t,h} + \\sum_{y \\le t} a_{g,y,h}`
and must stay within :math:`B_{g,t}`; with carry-over, the spend up to :math:`t`,
:math:`\\sum_h \\sum_{y \\le t} c_{g,y,h} + (t - y + 1)\\, a_{g,y,h}`, within
:math:`\\sum_{s \\le t} B_{g,s}`. No row runs over every option: a dense row makes HiGHS
many times slower on large basins (see :func:`dss.optimize.build._spend`). Pyomo (on the
budget's block): ``year_spend[kind, g, y, h, stream]``, ``year_spend_def[...]``, and
``year[t]``, ``agency_year[g, t]``, ``township_year[g, t]`` and the total budget ``total``
(see :func:`build_year_budgets`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from dss.optimize.context import BuildContext


def _members(groups: np.ndarray) -> dict[int, np.ndarray]:
    """Group number -> indices in it (-1: in none), in index order."""
    order = np.argsort(groups, kind="stable")
    order = order[groups[order] >= 0]
    uniq, starts = np.unique(groups[order], return_index=True)
    ends = np.append(starts[1:], len(order)) if len(starts) else starts
    return {int(g): order[a:b] for g, a, b in zip(uniq, starts, ends, strict=True)}


def build_year_budgets(block: pyo.Block, ctx: BuildContext,
                       budgets: dict[tuple[str, str], dict[int, float]], carry: bool,
                       total: float | None = None) -> None:
    """Add the rows of ``budgets`` ((kind, group) -> year -> budget; kind ``year`` with
    group "", ``agency_year`` or ``township_year``) to ``block``; the spend parts are kept as
    ``block.year_spend_parts`` for :func:`assign_year_spend`.

    With ``total``, the total budget row ``total`` is written on the study-wide parts
    (kind ``year``): :math:`\\sum_{y,h} c_{y,h} + (E - y + 1)\\, a_{y,h} \\le B`, the whole
    cost of the plan (each start's annual cost to the benefit horizon :math:`E`). Written
    on the township spend instead, HiGHS's presolve substitutes the township spend into
    it and makes one row over every option and fixed-cost flag, whose clique extraction
    then takes a minute at 10,000 subunits (``benchmarks/bench_years.py``)."""
    if total is not None:
        budgets = {("year", ""): {}, **budgets}
    phasing = ctx.phasing
    opts = ctx.options
    fixed = opts["fixed_cost"].to_numpy(float)
    town_code, towns = pd.factorize(opts["township"].astype(str))
    column = {"year": None, "agency_year": opts["agency"].to_numpy(),
              "township_year": opts["township"].to_numpy()}
    streams = {"capital": (phasing.capital, fixed > 0),
               "annual": (phasing.annual, np.zeros(len(opts), bool))}
    parts: dict[tuple, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    rows: dict[str, dict[object, tuple[float, list[tuple[tuple, float]]]]] = {}
    n_towns = max(len(towns), 1)
    cell = (phasing.option_year - phasing.years[0]) * n_towns + town_code  # (year, township)
    for (kind, g), by_year in budgets.items():
        mine = np.ones(len(opts), bool) if column[kind] is None else column[kind] == g
        groups = {stream: _members(np.where(mine & ((coef != 0) | pays), cell, -1))
                  for stream, (coef, pays) in streams.items()}
        keys = []
        for i, y in enumerate(phasing.years):
            for stream, (coef, pays) in streams.items():
                for c in sorted(c for c in groups[stream] if c // n_towns == i):
                    idx = groups[stream][c]
                    key = (kind, g, int(y), str(towns[c % n_towns]), stream)
                    parts[key] = (idx, coef[idx], idx[pays[idx]])
                    keys.append(key)
        if (kind, g) == ("year", "") and total is not None:
            rows["total"] = {None: (float(total), [
                (key, 1.0 if key[4] == "capital" else float(phasing.end - key[2] + 1))
                for key in keys])}
        if not by_year:  # only the parts, for the total row
            continue
        for t in phasing.years:
            terms = [(key, _paid_by(key[2], key[4], int(t), carry)) for key in keys]
            limit = sum(b for y, b in by_year.items() if y <= t) if carry else by_year[t]
            rows.setdefault(kind, {})[(g, int(t)) if g else int(t)] = (
                float(limit), [(key, m) for key, m in terms if m])
    block.year_spend_parts = parts
    block.year_spend = pyo.Var(list(parts), within=pyo.NonNegativeReals)

    keys = list(parts)
    other_vars: list = []
    other_coefs: list[float] = []
    other_starts = [0]
    for key in keys:  # the fixed costs paid, and the part's own spend variable
        flags = [int(k) for k in parts[key][2] if int(k) in ctx.used_vars]
        other_vars += [ctx.used_vars[k] for k in flags] + [block.year_spend[key]]
        other_coefs += fixed[flags].tolist() + [-1.0]
        other_starts.append(len(other_vars))
    sizes = [len(parts[key][0]) for key in keys]
    ctx.array_rows(block, "year_spend_def", keys,
                   np.concatenate([parts[key][0] for key in keys]) if keys else [],
                   np.concatenate([parts[key][1] for key in keys]) if keys else [],
                   np.concatenate([[0], np.cumsum(sizes)]), np.zeros(len(keys)),
                   np.zeros(len(keys)), others=(other_vars, np.asarray(other_coefs),
                                                np.asarray(other_starts)))
    total_row = rows.pop("total", {}).get(None)
    if total_row is not None:
        block.total = pyo.Constraint(rule=lambda _b: _row(block, total_row))
    for kind, by_key in rows.items():
        block.add_component(kind, pyo.Constraint(
            list(by_key), rule=lambda _b, *key, by_key=by_key: _row(
                block, by_key[key[0] if len(key) == 1 else key])))


def _paid_by(start: int, stream: str, year: int, carry: bool) -> float:
    """How many times a start year's capital or annual stream counts in the spend of
    ``year`` (up to ``year`` with carry-over)."""
    if stream == "capital":
        return 1.0 if start == year or (carry and start <= year) else 0.0
    if start > year:
        return 0.0
    return float(year - start + 1) if carry else 1.0


def _row(block: pyo.Block, row: tuple[float, list[tuple[tuple, float]]]) -> object:
    limit, terms = row
    if not terms:
        return pyo.Constraint.Feasible if limit >= 0 else pyo.Constraint.Infeasible
    return pyo.quicksum(m * block.year_spend[k] for k, m in terms) <= limit


def assign_year_spend(block: pyo.Block, ctx: BuildContext, amounts: np.ndarray) -> None:
    """Set the spend variables of :func:`build_year_budgets` to what a plan spends."""
    fixed = ctx.options["fixed_cost"].to_numpy(float)
    for key, (idx, coef, pays) in getattr(block, "year_spend_parts", {}).items():
        paid = float(coef @ amounts[idx]) + float(fixed[pays][ctx.fixed_paid(amounts)[pays]].sum())
        block.year_spend[key].set_value(paid, skip_validation=True)
