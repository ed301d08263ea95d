"""Budgets per planning year (with optional carry-over), built from sparse rows.

For each budget :math:`(g, t)` (all options, an agency's or a township's, in planning year
:math:`t`) the spend is split by township :math:`h`, one variable each, so that no row runs
over every option (a dense row makes HiGHS's presolve many times slower on large basins,
see :func:`dss.optimize.build._spend`):

.. math:: s_{g,t,h} = \\sum_{k \\in K_g \\cap K_h} a_{k,t} x_k + \\sum_{k \\in K_g \\cap K_h}
          b_{k,t} f_k u_k, \\qquad \\sum_h s_{g,t,h} \\le \\bar B_{g,t}

with :math:`a_{k,t}, b_{k,t}` from :meth:`dss.optimize.phasing.Phasing.spend_coefficients`
(the year's spend, or with carry-over the spend up to :math:`t`, against
:math:`\\bar B_{g,t} = \\sum_{s \\le t} B_{g,s}`). Pyomo (on the budget's block):
``year_spend[kind, g, t, h]``, ``year_spend_def[...]``, and ``year[t]``,
``agency_year[g, t]``, ``township_year[g, t]``.
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
                       budgets: dict[tuple[str, str], dict[int, float]], carry: bool) -> None:
    """Add the rows of ``budgets`` ((kind, group) -> year -> budget; kind ``year`` with
    group "", ``agency_year`` or ``township_year``) to ``block``; the spend parts are kept as
    ``block.year_spend_parts`` for :func:`assign_year_spend`."""
    phasing = ctx.phasing
    opts = ctx.options
    fixed = opts["fixed_cost"].to_numpy(float)
    town_code, towns = pd.factorize(opts["township"].astype(str))
    column = {"year": None, "agency_year": opts["agency"].to_numpy(),
              "township_year": opts["township"].to_numpy()}
    parts: dict[tuple, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    rows: dict[str, dict[object, tuple[float, list[tuple]]]] = {}
    for (kind, g), by_year in budgets.items():
        mine = np.ones(len(opts), bool) if column[kind] is None else column[kind] == g
        for t in phasing.years:
            coef, fixed_now = phasing.spend_coefficients(t, cumulative=carry)
            pays_fixed = fixed_now & (fixed > 0)
            keys = []
            for h, idx in _members(np.where(mine & ((coef != 0) | pays_fixed),
                                             town_code, -1)).items():
                key = (kind, g, int(t), str(towns[h]))
                parts[key] = (idx, coef[idx], idx[pays_fixed[idx]])
                keys.append(key)
            limit = sum(b for y, b in by_year.items() if y <= t) if carry else by_year[t]
            rows.setdefault(kind, {})[(g, int(t)) if g else int(t)] = (float(limit), keys)
    block.year_spend_parts = parts
    block.year_spend = pyo.Var(list(parts), within=pyo.NonNegativeReals)

    def define(_b, *key):
        idx, coef, pays = parts[key]
        used = [(ctx.used_vars[int(k)], float(fixed[k])) for k in pays
                if int(k) in ctx.used_vars]
        return ctx.linear(idx, coef, others=[*used, (block.year_spend[key], -1.0)]) == 0.0

    block.year_spend_def = pyo.Constraint(list(parts), rule=define)
    for kind, by_key in rows.items():
        block.add_component(kind, pyo.Constraint(
            list(by_key), rule=lambda _b, *key, by_key=by_key: _row(
                block, by_key[key[0] if len(key) == 1 else key])))


def _row(block: pyo.Block, row: tuple[float, list[tuple]]) -> object:
    limit, keys = row
    if not keys:
        return pyo.Constraint.Feasible if limit >= 0 else pyo.Constraint.Infeasible
    return pyo.quicksum(block.year_spend[k] for k in keys) <= limit


def assign_year_spend(block: pyo.Block, ctx: BuildContext, amounts: np.ndarray) -> None:
    """Set the spend variables of :func:`build_year_budgets` to what a plan spends."""
    fixed = ctx.options["fixed_cost"].to_numpy(float)
    for key, (idx, coef, pays) in getattr(block, "year_spend_parts", {}).items():
        paid = float(coef @ amounts[idx]) + float(fixed[pays][ctx.fixed_paid(amounts)[pays]].sum())
        block.year_spend[key].set_value(paid, skip_validation=True)
