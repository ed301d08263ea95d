"""Benefit and target components: delivered reductions and load limits (habitat and carbon:
:mod:`dss.optimize.components.habitat`, re-exported here)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pydantic import Field
from pyomo.core.expr.numeric_expr import SumExpression

from dss.data.schema import POLLUTANT_UNITS, POLLUTANTS
from dss.errors import Issue
from dss.indicators.loads import retention
from dss.optimize.components.base import ELASTIC_PENALTY, Component, Params, Role, register
from dss.optimize.components.curves import (
    Curve,
    CurveBlock,
    concave_value,
    curve_problem,
    pro_rata,
)
from dss.optimize.components.habitat import (  # re-exported: they lived here before
    Carbon,
    CarbonParams,
    Habitat,
    HabitatParams,
    SpeciesSpec,
)
from dss.optimize.context import BuildContext
from dss.optimize.phasing import year_problems

Pollutant = Literal["sediment", "tn", "tp"]


def tightest_limits(params: Any, control_points: pd.DataFrame,
                    baseline_load: Callable[[str, str], float]) -> dict[tuple[str, str], float]:
    """(point, pollutant) -> the tightest limit of all sources: the table's ``limit_<p>``
    columns (with ``use_table_limits``), the model file's ``limits``, and its ``reductions``
    :math:`r` as :math:`(1 - r) L^0` of the baseline load :math:`L^0` (shared by load limits
    and chance limits, which give the baseline of their own scenario)."""
    out: dict[tuple[str, str], float] = {}

    def put(key: tuple[str, str], value: float) -> None:
        out[key] = min(out.get(key, np.inf), float(value))

    if params.use_table_limits:
        for cp in control_points.itertuples(index=False):
            for p in POLLUTANTS:
                v = getattr(cp, f"limit_{p}")
                if v is not None and not pd.isna(v):
                    put((cp.point_id, p), v)
    for point, by_p in params.limits.items():
        for p, v in by_p.items():
            put((point, p), v)
    for point, by_p in params.reductions.items():
        for p, r in by_p.items():
            put((point, p), (1 - r) * baseline_load(point, p))
    return dict(sorted(out.items()))


def check_limits(component: Component, ctx: BuildContext) -> list[Issue]:
    """Problems with a component's ``limits`` and ``reductions`` (known control points and
    pollutants; reductions are shares in [0, 1]); shared by the load-limit components."""
    params = component.params
    issues = _check_points(component, ctx, params.limits, "limits")
    issues += _check_points(component, ctx, params.reductions, "reductions")
    for point, by_p in params.reductions.items():
        for p, share in by_p.items():
            if not 0 <= share <= 1:
                issues.append(Issue("model", "a required reduction is a share in [0, 1]", None,
                                    f"components.{component.name}.reductions.{point}.{p}"))
    return issues


def _check_points(component: Component, ctx: BuildContext, points, field_name: str
                  ) -> list[Issue]:
    known = set(ctx.study.control_points["point_id"])
    return [Issue("model", f"unknown control point {p!r} (known: {', '.join(sorted(known))})",
                  None, f"components.{component.name}.{field_name}.{p}")
            for p in points if p not in known]


class DeliveredReductionParams(Params):
    """Parameters of :class:`DeliveredReduction`."""

    values: dict[Pollutant, float] = Field(default_factory=dict)
    """Value of one unit kept out of a control point, in currency per t (sediment) or per kg
    (TN, TP), e.g. the avoided dredging or treatment cost."""
    points: dict[str, float] | None = None
    """Control point -> beneficiary weight; default: every point with its table weight."""
    curves: dict[str, dict[Pollutant, Curve]] = Field(default_factory=dict)
    """Diminishing returns: control point (or ``*`` for every point) -> pollutant -> concave
    curve ``[[up_to, factor], ...]`` over the reduction as a share of the baseline load
    (see :mod:`dss.optimize.components.curves`), e.g. ``[[0.05, 1], [0.2, 0.5], [null,
    0.1]]``; pairs without a curve are valued linearly."""


@register
class DeliveredReduction(Component):
    """Value of the sediment, TN and TP reductions delivered to control points.

    Upstream effort counts only for what reaches the point: with transfer coefficients
    :math:`T_{it}` (:mod:`dss.network.routing`) and local reductions :math:`\\Delta_{kp}`,

    .. math::
        \\Delta L_{tp} = \\sum_k T_{i(k)t}\\,\\Delta_{kp}\\,x_k, \\qquad
        \\text{benefit} = H \\sum_t w_t \\sum_{p \\in P_t} v_p\\,\\Delta L_{tp}

    where :math:`P_t` are the pollutants point :math:`t` cares about, :math:`w_t` its weight,
    :math:`v_p` the value per unit and :math:`H` the planning horizon (years): reductions are
    annual flows, so, like annual costs, they are counted over the horizon and the benefit is
    in currency over the horizon. The objective takes one aggregated coefficient per option
    (:meth:`coefficients`); the expression :math:`\\Delta L_{tp}` of one point is
    ``ctx.reduction(t, p)`` (built on demand and shared with load limits, per year).

    A pair with a curve is valued by the concave curve of
    :mod:`dss.optimize.components.curves` instead, with the routed baseline load
    :math:`L^0_{tp}` as its baseline: :math:`H w_t v_p \\sum_j \\varphi_j z_{tpj}`.
    Pyomo: ``curve_seg``, ``curve_neg``, ``curve_split`` (curved pairs only).
    """

    type_name = "delivered_reduction"
    role = Role.BENEFIT
    Params = DeliveredReductionParams
    curves: CurveBlock | None = None

    def check(self, ctx: BuildContext) -> list[Issue]:
        issues = _check_points(self, ctx, self.params.points or {}, "points")
        issues += _check_points(self, ctx, [t for t in self.params.curves if t != "*"],
                                "curves")
        for point, by_p in self.params.curves.items():
            for p, curve in by_p.items():
                problem = curve_problem(curve)
                if problem:
                    issues.append(Issue("model", problem, None,
                                        f"components.{self.name}.curves.{point}.{p}"))
        return issues

    def curve(self, point: str, pollutant: str) -> Curve | None:
        """The curve of one (point, pollutant) pair, or None (linear)."""
        own = self.params.curves.get(point, {})
        return own.get(pollutant) or self.params.curves.get("*", {}).get(pollutant)

    def curved(self, ctx: BuildContext) -> list[tuple[str, str]]:
        """(point, pollutant) pairs valued by a curve."""
        return [(t, p) for t, p in self.pairs(ctx) if self.curve(t, p)]

    def weights(self, ctx: BuildContext) -> dict[str, float]:
        """Control point -> weight used."""
        if self.params.points is not None:
            return dict(self.params.points)
        cps = ctx.study.control_points
        return dict(zip(cps["point_id"], cps["weight"].astype(float), strict=True))

    def pairs(self, ctx: BuildContext) -> list[tuple[str, str]]:
        """(point, pollutant) pairs that carry value."""
        cps = ctx.study.control_points.set_index("point_id")
        out = []
        for point in sorted(self.weights(ctx)):
            for p in POLLUTANTS:
                if self.params.values.get(p, 0.0) and bool(cps.loc[point, f"cares_{p}"]):
                    out.append((point, p))
        return out

    def build(self, block: pyo.Block, ctx: BuildContext) -> None:
        # Linear pairs add nothing here: their benefit enters the objective through
        # benefit_objective, and one expression per point would cost more to build than the
        # solve on large basins. Curved pairs get their segment variables.
        curved = self.curved(ctx)
        self.curves = CurveBlock(block, "curve", [
            ((t, p), self.curve(t, p), ctx.baseline_load(t, p), ctx.reduction(t, p))
            for t, p in curved]) if curved else None

    def _scale(self, ctx: BuildContext, t: str, p: str) -> float:
        """Currency per full-value unit of the pair (t, p)."""
        return (ctx.config.settings.horizon_years * self.weights(ctx)[t]
                * self.params.values[p])

    def benefit_terms(self, block: pyo.Block, ctx: BuildContext) -> dict[str, object]:
        curved = self.curves.values() if self.curves is not None else {}
        return {f"{p}@{t}": self._scale(ctx, t, p) * (curved[t, p] if (t, p) in curved
                                                      else ctx.reduction(t, p))
                for t, p in self.pairs(ctx)}

    def assign_auxiliary(self, block: pyo.Block, ctx: BuildContext, amounts: np.ndarray
                         ) -> None:
        if self.curves is not None:
            self.curves.assign(self._delivered(ctx, amounts, self.curved(ctx)))

    def _delivered(self, ctx: BuildContext, amounts: np.ndarray,
                   pairs: list[tuple[str, str]]) -> dict[tuple[str, str], float]:
        """:math:`\\Delta L_{tp}` of a plan for the given pairs, one routing per
        pollutant."""
        routing = ctx.study.routing
        pos = ctx.option_subunit_pos
        routed = {}
        for p in sorted({p for _t, p in pairs}):
            local = np.bincount(pos, weights=ctx.options[f"d_{p}"].to_numpy(float) * amounts,
                                minlength=routing.n)
            routed[p] = routing.route(local, retention(ctx.study, p))
        return {(t, p): float(routing.load_at(routed[p], ctx.point_position(t),
                                              ctx.point_inflow(t))) for t, p in pairs}

    def curved_option_benefit(self, ctx: BuildContext, amounts: np.ndarray) -> np.ndarray:
        """Each option's share of the curved pairs' value, in proportion to the reduction it
        delivers (the linear pairs are in :meth:`coefficients`)."""
        out = np.zeros(ctx.n_options)
        curved = self.curved(ctx)
        delivered = self._delivered(ctx, amounts, curved)
        for t, p in curved:
            idx, coef = ctx.transfer(t, p)
            value = self._scale(ctx, t, p) * concave_value(
                self.curve(t, p), ctx.baseline_load(t, p), delivered[t, p])
            out[idx] += pro_rata(value, delivered[t, p], np.asarray(coef) * amounts[idx])
        return out

    def benefit_values(self, block: pyo.Block, ctx: BuildContext, amounts: np.ndarray
                       ) -> dict[str, float]:
        """Benefit per (point, pollutant): the plan's local reductions routed once per
        pollutant (routing is linear, so the load that arrives at :math:`t` is
        :math:`\\Delta L_{tp}`), instead of one dot product per point."""
        delivered = self._delivered(ctx, amounts, self.pairs(ctx))
        out = {}
        for (t, p), reduction in delivered.items():
            curve = self.curve(t, p)
            units = reduction if curve is None else concave_value(
                curve, ctx.baseline_load(t, p), reduction)
            out[f"{p}@{t}"] = float(self._scale(ctx, t, p) * units)
        return out

    def coefficients(self, ctx: BuildContext) -> np.ndarray:
        """Benefit per unit of each option (currency), summed over points and pollutants:

        .. math:: b_k = H \\sum_p v_p \\Delta_{kp} V_{i(k),p}, \\qquad
                  V_{sp} = \\sum_{t: p \\in P_t} w_t T_{st}

        with :math:`V` from one upstream pass per pollutant
        (:meth:`dss.network.routing.Routing.delivery_value`), not one transfer per point.
        """
        return ctx.memo(("delivered_reduction.coefficients", self.name),
                        lambda: self._coefficients(ctx))

    def _coefficients(self, ctx: BuildContext) -> np.ndarray:
        weights = self.weights(ctx)
        horizon = ctx.config.settings.horizon_years
        routing = ctx.study.routing
        coef = np.zeros(ctx.n_options)
        by_pollutant: dict[str, list[str]] = {}
        for t, p in self.pairs(ctx):
            if not self.curve(t, p):  # curved pairs are valued by their segments
                by_pollutant.setdefault(p, []).append(t)
        for p, points in by_pollutant.items():
            at_outlet, at_inflow = np.zeros(routing.n), np.zeros(routing.n)
            for t in points:
                (at_inflow if ctx.point_inflow(t) else at_outlet)[ctx.point_position(t)] += \
                    weights[t]
            value = routing.delivery_value(retention(ctx.study, p), at_outlet, at_inflow)
            coef += (horizon * self.params.values[p] * value[ctx.option_subunit_pos]
                     * ctx.options[f"d_{p}"].to_numpy(float))
        return coef

    def benefit_objective(self, block: pyo.Block, ctx: BuildContext) -> object:
        coef = self.coefficients(ctx)
        idx = np.flatnonzero(coef)
        parts = [ctx.linear(idx, coef[idx])] if len(idx) else []
        if self.curves is not None:
            parts += [self._scale(ctx, t, p) * value
                      for (t, p), value in self.curves.values().items()]
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else SumExpression(parts)


class LoadLimitsParams(Params):
    """Parameters of :class:`LoadLimits`."""

    limits: dict[str, dict[Pollutant, float]] = Field(default_factory=dict)
    """Control point -> pollutant -> upper limit on the routed load (t/yr or kg/yr)."""
    reductions: dict[str, dict[Pollutant, float]] = Field(default_factory=dict)
    """Control point -> pollutant -> required reduction as a share of the baseline load."""
    use_table_limits: bool = True
    """Also apply the limit_* columns of control_points.csv."""
    year: int | None = None
    """With planning years: the year by which the limits must hold (the effects of that year,
    after maturation); default: the benefit horizon."""


@register
class LoadLimits(Component):
    """Upper limits on routed loads at control points.

    .. math:: L^0_{tp} - \\Delta L_{tp} - s_{tp} \\le \\overline{L}_{tp}

    where :math:`L^0` is the routed baseline load and :math:`\\Delta L` the delivered
    reduction (see :class:`DeliveredReduction`). A relative requirement :math:`r` sets
    :math:`\\overline{L} = (1 - r) L^0`. The slack :math:`s \\ge 0` exists only in elastic
    mode (explaining infeasibility), penalised by
    :math:`M s / \\max(\\overline{L}, 1)`. Pyomo: ``limit[t, p]`` (dual: value of relaxing
    the limit by one unit), ``slack[t, p]``.

    With planning years, :math:`\\Delta L` is the reduction delivered in the year ``year``
    (default: the benefit horizon), each start counted at its maturity then
    (:meth:`~dss.optimize.context.BuildContext.reduction_in`).
    """

    type_name = "load_limits"
    role = Role.CONSTRAINT
    Params = LoadLimitsParams
    elastic_capable = True

    def check(self, ctx: BuildContext) -> list[Issue]:
        return check_limits(self, ctx) + year_problems(self, ctx)

    def targets(self, ctx: BuildContext) -> dict[tuple[str, str], float]:
        """(point, pollutant) -> limit, the tightest of all sources."""
        return tightest_limits(self.params, ctx.study.control_points, ctx.baseline_load)

    def build(self, block: pyo.Block, ctx: BuildContext) -> None:
        self.limits = self.targets(ctx)
        keys = list(self.limits)
        block.slack = pyo.Var(keys, bounds=(0, 0 if not self.elastic else None))

        def rule(_b, t, p):
            return (ctx.baseline_load(t, p) - ctx.reduction_in(t, p, self.params.year)
                    - block.slack[t, p] <= self.limits[t, p])

        block.limit = pyo.Constraint(keys, rule=rule)

    def penalty_terms(self, block: pyo.Block, ctx: BuildContext) -> dict[str, object]:
        if not self.elastic:
            return {}
        return {f"shortfall {t} {p}": ELASTIC_PENALTY * block.slack[t, p]
                / max(self.limits[t, p], 1.0) for t, p in self.limits}

    def report(self, block: pyo.Block, ctx: BuildContext, amounts) -> dict[str, pd.DataFrame]:
        rows = [{"component": self.name, "requirement": f"{p} at {t}",
                 "target": v, "unit": POLLUTANT_UNITS[p],
                 "shortfall": float(pyo.value(block.slack[t, p]))}
                for (t, p), v in self.limits.items()]
        return {"requirements": pd.DataFrame(rows)}


__all__ = ["ELASTIC_PENALTY", "Carbon", "CarbonParams", "DeliveredReduction",
           "DeliveredReductionParams", "Habitat", "HabitatParams", "LoadLimits",
           "LoadLimitsParams", "Pollutant", "SpeciesSpec"]
