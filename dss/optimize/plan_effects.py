"""What a plan does, recomputed from its amounts: the cost of each option, the local loads
after the plan and their routing through the river network, and, with planning years, the
amounts in effect and the spend of each year. :mod:`dss.optimize.results` tabulates them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dss.data.schema import POLLUTANTS
from dss.indicators.loads import retention
from dss.network.routing import RoutingResult
from dss.optimize.context import BuildContext
from dss.optimize.solve import Result


def option_costs(result: Result) -> np.ndarray:
    """Cost of each option in the plan (variable plus fixed cost where used)."""
    opts = result.built.ctx.options
    x = result.amounts if result.amounts is not None else np.zeros(len(opts))
    return opts["unit_cost"].to_numpy(float) * x + np.where(
        result.built.ctx.fixed_paid(x), opts["fixed_cost"].to_numpy(float), 0.0)


def costs_at(options: pd.DataFrame, x: np.ndarray) -> np.ndarray:
    """Cost of each option at the amounts ``x`` (one plan, no planning years):
    :math:`c_k x_k + f_k [x_k > 0]`."""
    return options["unit_cost"].to_numpy(float) * x + np.where(
        x > 1e-9, options["fixed_cost"].to_numpy(float), 0.0)


def after_local_loads(result: Result, x: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Local loads per subunit after the plan (subunits row order); ``x``: the amounts, if
    not the plan's (see :func:`amounts_in_year`)."""
    ctx = result.built.ctx
    if x is None:
        x = result.amounts if result.amounts is not None else np.zeros(ctx.n_options)
    return local_loads_after(ctx, x)


def local_loads_after(ctx: BuildContext, x: np.ndarray) -> dict[str, np.ndarray]:
    """Local loads per subunit (subunits row order) when the options of ``ctx`` take the
    amounts ``x``: :math:`L_{ip} - \\sum_{k \\in K(i)} \\Delta_{kp} x_k`."""
    pos = ctx.option_subunit_pos
    after = {}
    for p in POLLUTANTS:
        reduction = np.bincount(pos, weights=ctx.options[f"d_{p}"].to_numpy(float) * x,
                                minlength=ctx.study.routing.n)
        after[p] = ctx.local[p].to_numpy() - reduction
    return after


def routed_after_plan(result: Result, x: np.ndarray | None = None
                      ) -> dict[str, RoutingResult]:
    """Each pollutant routed through the network from the local loads after the plan (or
    after the amounts ``x``)."""
    study = result.built.ctx.study
    after_local = after_local_loads(result, x)
    return {p: study.routing.route(after_local[p], retention(study, p)) for p in POLLUTANTS}


def amounts_in_year(result: Result, year: int) -> np.ndarray:
    """With planning years: amounts that, times the options' (weighted) effects, give each
    option's effect in ``year``: :math:`x_k m_{a(k)}(t - y_k) / w_k` (0 where
    :math:`w_k = 0`, whose effect is 0 in every year up to the benefit horizon)."""
    phasing = result.built.ctx.phasing
    x = result.amounts if result.amounts is not None else np.zeros(len(phasing.weight))
    w = phasing.weight
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(w > 0, x * phasing.share_at(year) / np.where(w > 0, w, 1.0), 0.0)


def spend_in_year(result: Result, year: int) -> np.ndarray:
    """With planning years: what each option of the plan spends in ``year`` (capital and
    fixed cost in its start year, annual cost from then on)."""
    phasing = result.built.ctx.phasing
    opts = result.built.ctx.options
    x = result.amounts if result.amounts is not None else np.zeros(len(opts))
    coef, fixed_now = phasing.spend_coefficients(year)
    paid = result.built.ctx.fixed_paid(x) & fixed_now
    return coef * x + np.where(paid, opts["fixed_cost"].to_numpy(float), 0.0)
