"""Bounds of the decision options before the model is built: the least and largest amount of
each option that locks and zone rules alone allow, and the most reduction of a pollutant all
options together can deliver to a point. :mod:`dss.optimize.presolve` tests budgets and
targets against them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dss.indicators.loads import retention
from dss.optimize.components.constraints import Locks, ZoneRules
from dss.optimize.context import BuildContext
from dss.optimize.problem import Problem


@dataclass
class OptionBounds:
    """Least and largest amount of each option allowed by locks and zone rules alone.

    Attributes:
        lower: Least amount (locked in, or required in a zone).
        upper: Largest amount (capacity, zone permission, locked out).
        lower_by: Component that set each positive lower bound ("" if none).
        upper_by: Component that cut each upper bound below capacity ("" if none).
    """

    lower: np.ndarray
    upper: np.ndarray
    lower_by: np.ndarray
    upper_by: np.ndarray


def option_bounds(problem: Problem, ctx: BuildContext) -> OptionBounds:
    """Bounds of every option from the locks and zone rules (see :class:`OptionBounds`)."""
    opts = ctx.options
    n = len(opts)
    cap = opts["capacity"].to_numpy(float)
    lower, upper = np.zeros(n), cap.copy()
    lower_by = np.full(n, "", dtype=object)
    upper_by = np.full(n, "", dtype=object)
    integer = opts["integer"].to_numpy(bool)
    resource = opts["resource_capacity"].to_numpy(float)
    def cut(k: np.ndarray | list[int], value: np.ndarray | float, who: str) -> None:
        k = np.asarray(k, dtype=np.int64)
        new = np.minimum(upper[k], value)
        upper_by[k[new < upper[k] - 1e-12]] = who
        upper[k] = new

    def need(k: np.ndarray | list[int], value: np.ndarray | float, who: str) -> None:
        k = np.asarray(k, dtype=np.int64)
        new = np.maximum(lower[k], value)
        lower_by[k[new > lower[k] + 1e-12]] = who
        lower[k] = new

    for comp in problem.components:
        if isinstance(comp, ZoneRules):
            permitted, required = comp.shares(ctx)
            everything = np.arange(n)
            cut(everything, np.where(integer, np.floor(resource * permitted + 1e-9),
                                     cap * permitted), comp.name)
            if ctx.phasing is None:  # with years a requirement binds the sum over years
                need(everything, np.where(integer, np.ceil(cap * required - 1e-9),
                                          cap * required), comp.name)
        elif isinstance(comp, Locks):
            key, by_sub = ctx.option_index()
            pairs = ctx.pairs()
            for s, what in comp.params.locked_out.items():
                ks = by_sub.get(s, []) if what == "all" else \
                    [key[(s, a)] for a in what if (s, a) in key]
                cut(np.flatnonzero(np.isin(pairs, pairs[np.asarray(ks, dtype=np.int64)])),
                    0.0, comp.name)
            if ctx.phasing is not None:
                continue
            for s, what in comp.params.locked_in.items():
                pairs = ({a: "all" for a in opts.loc[by_sub.get(s, []), "action_id"]}
                         if what == "all" else what)
                for a, amount in pairs.items():
                    if (s, a) in key:
                        k = key[(s, a)]
                        need([k], cap[k] if amount == "all" else float(amount), comp.name)
    return OptionBounds(lower, upper, lower_by, upper_by)


def most_reduction(ctx: BuildContext, bounds: OptionBounds, point: str, pollutant: str
                   ) -> float:
    """An upper bound on the reduction of ``pollutant`` that all actions together can
    deliver to ``point``: every option at its largest allowed amount, each subunit's local
    reduction capped at its local load (the model's mass balance), times the transfer
    coefficient to the point."""
    opts = ctx.options
    pos = ctx.option_subunit_pos
    d = opts[f"d_{pollutant}"].to_numpy(float)
    local_most = np.zeros(ctx.study.routing.n)
    np.add.at(local_most, pos, np.clip(d, 0, None) * bounds.upper)
    local_most = np.minimum(local_most, np.clip(ctx.local[pollutant].to_numpy(float), 0, None))
    target = ctx.point_position(point)
    sources, coef = ctx.study.routing.transfer(target, retention(ctx.study, pollutant),
                                               ctx.point_inflow(point))
    return float((coef * local_most[sources]).sum())
