"""Stochastic components: optimisation over scenarios of the uncertain inputs by sample
average approximation (drawn scenarios, :math:`p_s = 1/N`, or named ones with their
probabilities; :mod:`dss.optimize.components.scenario_data`).

The decisions :math:`x` are the same in every scenario; only the outcomes differ. The
scenario dimension adds one or two variables and one row per scenario, never a copy of the
decisions: the benefit of scenario :math:`s` is :math:`B_s(x) = \\sum_k b_{sk} x_k` and the
load at point :math:`t` is :math:`L_{s,tp}(x) = L^0_{s,tp} - \\sum_k a^{tp}_{sk} x_k`.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pydantic import Field

from dss.data.schema import POLLUTANT_UNITS
from dss.errors import InputError, Issue
from dss.optimize.components.base import Component, Params, Role, register
from dss.optimize.components.benefits import Pollutant, check_limits, tightest_limits
from dss.optimize.components.scenario_data import factorised, scenario_data
from dss.optimize.context import BuildContext
from dss.uncertainty.scenarios import scenario_set

TOLERANCE = 1e-9


class ScenarioParams(Params):
    """Which scenarios a stochastic component optimises over."""

    scenarios: Literal["drawn", "named"] = "drawn"
    """drawn: ``draws`` equally likely draws from uncertainty.csv; named: the scenarios of
    uncertainty_scenarios.csv with their probabilities."""
    draws: int = Field(50, ge=1, le=100_000)
    """Number of draws (drawn scenarios)."""
    seed: int = Field(1, ge=0)
    """Seed of the draws: every stochastic component with the same scenarios, draws and seed
    sees the same scenarios."""
    only: int | None = Field(None, ge=0)
    """Use only the scenario with this number (from 0): the wait-and-see problem of one
    scenario (used to compute the expected value of perfect information)."""


def _scenarios(params: ScenarioParams, ctx: BuildContext):
    return scenario_data(ctx, params.scenarios, params.draws, params.seed, params.only)


def _check_scenarios(component: Component, ctx: BuildContext) -> list[Issue]:
    """The study must declare its uncertainty; ``only`` must name a scenario."""
    p = component.params
    try:
        found = scenario_set(ctx.study, p.scenarios, p.draws, p.seed)
    except InputError as err:
        return list(err.issues)
    if p.only is not None and p.only >= len(found):
        return [Issue("model", f"there are {len(found)} scenarios (numbered from 0)", None,
                      f"components.{component.name}.only")]
    return []


class StochasticBenefitParams(ScenarioParams):
    """Parameters of :class:`StochasticBenefit`."""

    measure: Literal["expected", "cvar", "worst"] = "expected"
    """expected: the mean benefit over the scenarios; cvar: the mean over the worst
    (1 - level) share of them; worst: the benefit in the worst scenario."""
    level: float = Field(0.9, ge=0, lt=1)
    """CVaR level :math:`\\alpha`: 0.9 maximises the mean of the worst 10 % (0 is the
    expectation)."""
    cost_weight: float = Field(0.0, ge=0)
    """Weight on spending subtracted from the benefit (as for max_benefit)."""
    value_of_information: bool = False
    """Also write stochastic_value.csv: the value of the stochastic solution and the
    expected value of perfect information (one more solve per scenario, two others)."""


@register
class StochasticBenefit(Component):
    """Maximise a risk measure of the benefit over scenarios (instead of its value at the
    nominal inputs); the benefit components' own objective terms are replaced by it.

    .. math::
        \\text{expected: } \\max \\sum_s p_s B_s(x) - \\lambda C
        \\qquad
        \\text{worst: } \\max w - \\lambda C \\;\\text{ s.t. } w \\le B_s(x)\\ \\forall s

    .. math::
        \\text{CVaR}_\\alpha\\text{: } \\max\\ \\eta - \\frac{1}{1 - \\alpha} \\sum_s p_s z_s
        - \\lambda C \\;\\text{ s.t. } z_s \\ge \\eta - B_s(x),\\ z_s \\ge 0

    (Rockafellar and Uryasev: at the optimum :math:`\\eta` is the :math:`(1-\\alpha)`
    quantile of the benefit and the objective the mean of the worst :math:`(1-\\alpha)`
    share.) The scenarios' rows :math:`B_s(x)` go through shared factor rows when they have
    a low rank (:func:`scenario_rows`). Pyomo: ``worst`` (w), ``eta``, ``shortfall[s]``
    (:math:`z_s`), ``floor[s]``, ``benefit_factor[j]``.
    """

    type_name = "stochastic_benefit"
    role = Role.OBJECTIVE
    Params = StochasticBenefitParams
    sense = pyo.maximize
    replaces_benefits = True

    def check(self, ctx: BuildContext) -> list[Issue]:
        return _check_scenarios(self, ctx) + [
            Issue("model", f"{self.type_name} values every benefit linearly in each scenario "
                           "and would leave out a benefit valued by a curve (diminishing "
                           "returns); remove the curve for this model (set it to null)",
                  None, key)
            for key in curved_benefits(ctx.components)]

    def scenario_benefit(self, ctx: BuildContext, s: int) -> Any:
        """:math:`B_s(x)` as one linear expression."""
        row = _scenarios(self.params, ctx).benefit[s]
        idx = np.flatnonzero(row)
        return ctx.linear(idx, row[idx])

    def build(self, block: pyo.Block, ctx: BuildContext) -> None:
        data = _scenarios(self.params, ctx)
        n = len(data.names)
        measure = self.params.measure
        if measure == "expected":
            return
        rows = scenario_rows(block, "benefit", ctx, data.benefit)
        if measure == "worst":
            block.worst = pyo.Var()
            block.floor = pyo.Constraint(range(n), rule=lambda _b, s: ctx.linear(
                rows[s][0], rows[s][1], others=rows[s][2] + [(block.worst, -1.0)]) >= 0.0)
        else:
            block.eta = pyo.Var()
            block.shortfall = pyo.Var(range(n), within=pyo.NonNegativeReals)
            block.floor = pyo.Constraint(range(n), rule=lambda _b, s: ctx.linear(
                rows[s][0], rows[s][1], others=rows[s][2] + [(block.shortfall[s], 1.0),
                                                             (block.eta, -1.0)]) >= 0.0)

    def benefit_objective(self, block: pyo.Block, ctx: BuildContext) -> Any:
        data = _scenarios(self.params, ctx)
        measure = self.params.measure
        if measure == "expected":
            mean = data.probabilities @ data.benefit
            return ctx.linear(*_nonzero(mean))
        if measure == "worst":
            return ctx.linear([], [], others=[(block.worst, 1.0)])
        share = 1.0 / (1.0 - self.params.level)
        return ctx.linear([], [], others=[(block.eta, 1.0)] + [
            (block.shortfall[s], -share * float(p)) for s, p in enumerate(data.probabilities)])

    def measure_of(self, values: np.ndarray, probabilities: np.ndarray) -> float:
        """The risk measure of benefits ``values`` (one per scenario) with these
        probabilities: the mean, the CVaR at ``level`` or the minimum."""
        return risk_measure(values, probabilities, self.params.measure, self.params.level)

    def plan_tables(self, built: Any, result: Any) -> dict[str, pd.DataFrame]:
        """``scenario_benefit.csv``: the plan's benefit in each scenario. (With
        ``value_of_information``, :func:`dss.optimize.stochastic_value.value_tables` adds
        ``stochastic_value.csv``: it solves further problems, which a component does not.)"""
        ctx = built.ctx
        data = _scenarios(self.params, ctx)
        values = data.benefit @ np.asarray(result.amounts, dtype=float)
        tables = {"scenario_benefit": pd.DataFrame({
            "scenario": data.names, "probability": data.probabilities,
            "benefit": values, "unit": ctx.config.settings.currency})}
        return tables


def risk_measure(values: np.ndarray, probabilities: np.ndarray, measure: str,
                 level: float) -> float:
    """Mean, CVaR (mean of the worst ``1 - level`` probability mass) or minimum."""
    values = np.asarray(values, dtype=float)
    p = np.asarray(probabilities, dtype=float)
    if measure == "expected":
        return float(p @ values)
    if measure == "worst":
        return float(values.min())
    tail = 1.0 - level
    order = np.argsort(values, kind="stable")
    taken, total = 0.0, 0.0
    for k in order:
        part = min(p[k], tail - taken)
        if part <= 0:
            break
        total += part * values[k]
        taken += part
    return total / tail


def _nonzero(row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    idx = np.flatnonzero(row)
    return idx, row[idx]


RowSpec = tuple[np.ndarray, np.ndarray, list[tuple[Any, float]]]
"""A row's option indices, their coefficients and other (variable, coefficient) terms."""


def scenario_rows(block: pyo.Block, name: str, ctx: BuildContext, matrix: np.ndarray
                  ) -> list[RowSpec]:
    """The value :math:`M_s x` of every scenario ``s`` as row terms: directly, or through
    shared factor rows when :math:`M` has a low rank (:func:`factorised`; Pyomo:
    ``<name>_factor[j]`` and ``<name>_factor_def[j]``: :math:`y_j = V_j x`)."""

    found = factorised(matrix)
    if found is None:
        return [(*_nonzero(row), []) for row in matrix]
    weights, basis = found
    rank = range(basis.shape[0])
    factor = pyo.Var(rank)
    block.add_component(f"{name}_factor", factor)
    block.add_component(f"{name}_factor_def", pyo.Constraint(rank, rule=lambda _b, j: ctx.linear(
        *_nonzero(basis[j]), others=[(factor[j], -1.0)]) == 0.0))
    empty = (np.zeros(0, dtype=np.int64), np.zeros(0))
    return [(*empty, [(factor[j], float(w[j])) for j in rank if w[j] != 0.0])
            for w in weights]


def curved_benefits(components: Any) -> list[str]:
    """Model keys of the benefits valued by a curve (``curves`` of a delivered reduction,
    ``curve`` of a species), which scenario coefficients do not cover."""
    keys = []
    for comp in components or ():
        if comp.role is not Role.BENEFIT:
            continue
        if getattr(comp.params, "curves", None):
            keys.append(f"components.{comp.name}.curves")
        species = getattr(comp.params, "species", None)
        if isinstance(species, dict):
            keys += [f"components.{comp.name}.species.{name}.curve"
                     for name, spec in species.items() if getattr(spec, "curve", None)]
    return keys


class ChanceLimitsParams(ScenarioParams):
    """Parameters of :class:`ChanceLimits`."""

    limits: dict[str, dict[Pollutant, float]] = Field(default_factory=dict)
    """Control point -> pollutant -> upper limit on the routed load (t/yr or kg/yr)."""
    reductions: dict[str, dict[Pollutant, float]] = Field(default_factory=dict)
    """Control point -> pollutant -> required reduction as a share of each scenario's
    baseline load (a target)."""
    use_table_limits: bool = False
    """Also apply the limit_* columns of control_points.csv."""
    share: float = Field(1.0, gt=0, le=1)
    """Share of the probability in which every limit must hold: 1 = in every scenario
    (robust, no binaries); below 1, a chance constraint with one binary per scenario."""


@register
class ChanceLimits(Component):
    """Load limits and reduction targets that hold in every scenario, or jointly with at
    least a given probability (chance constraint, exact for the scenarios).

    With :math:`\\bar L_{s,tp}` the limit (a relative target :math:`r` gives
    :math:`(1 - r) L^0_{s,tp}`):

    .. math::
        L^0_{s,tp} - \\sum_k a^{tp}_{sk} x_k \\le \\bar L_{s,tp} + M_{s,tp} (1 - y_s),
        \\qquad \\sum_s p_s y_s \\ge \\pi, \\qquad y_s \\in \\{0, 1\\}

    where :math:`y_s = 1` means every limit holds in scenario :math:`s` (one binary per
    scenario, joint over the limits) and :math:`M_{s,tp} = L^0_{s,tp} - \\bar L_{s,tp} +
    \\sum_k \\max(-a^{tp}_{sk}, 0)\\,\\bar x_k` is the largest violation any plan can have.
    With :math:`\\pi = 1` (``share: 1``) every :math:`y_s` is 1 and there are no binaries
    (robust limits). Rows that hold for every plan are left out. When the scenarios'
    reduction rows of one limit have a low rank they go through shared factor rows
    (:func:`scenario_rows`). Pyomo: ``limit[s, t, p]``, ``met[s]``, ``enough``,
    ``reduction_<i>_factor[j]``.
    """

    type_name = "chance_limits"
    role = Role.CONSTRAINT
    Params = ChanceLimitsParams

    def check(self, ctx: BuildContext) -> list[Issue]:
        return check_limits(self, ctx) + _check_scenarios(self, ctx)

    def targets(self, ctx: BuildContext, s: int) -> dict[tuple[str, str], float]:
        """(point, pollutant) -> limit in scenario ``s``, the tightest of all sources."""
        data = _scenarios(self.params, ctx)
        return tightest_limits(self.params, data.contexts[s].study.control_points,
                               lambda point, p: data.baseline_load(s, point, p))

    def build(self, block: pyo.Block, ctx: BuildContext) -> None:
        data = _scenarios(self.params, ctx)
        cap = ctx.options["capacity"].to_numpy(float)
        n = ctx.n_options
        robust = self.params.share >= 1.0 - TOLERANCE
        bounds: dict[tuple[int, str, str], tuple[float, float]] = {}
        by_key: dict[tuple[str, str], dict[int, np.ndarray]] = {}
        for s in range(len(data.names)):
            for (t, p), limit in self.targets(ctx, s).items():
                idx, coef = data.reduction(s, t, p)
                excess = data.baseline_load(s, t, p) - limit  # violation at x = 0
                worst = excess + float(np.clip(-coef, 0.0, None) @ cap[idx])
                if worst <= TOLERANCE * max(1.0, abs(limit)):
                    continue  # holds for every plan
                bounds[(s, t, p)] = (excess, worst)
                row = np.zeros(n)
                row[idx] = coef
                by_key.setdefault((t, p), {})[s] = row
        terms: dict[tuple[int, str, str], RowSpec] = {}
        for number, ((t, p), rows) in enumerate(sorted(by_key.items())):
            scen = sorted(rows)
            specs = scenario_rows(block, f"reduction_{number}", ctx,
                                  np.array([rows[s] for s in scen]))
            terms.update({(s, t, p): spec for s, spec in zip(scen, specs, strict=True)})
        keys = sorted(bounds)
        if robust:
            block.limit = pyo.Constraint(keys, rule=lambda _b, s, t, p: ctx.linear(
                terms[s, t, p][0], terms[s, t, p][1], others=terms[s, t, p][2])
                >= bounds[s, t, p][0])
            return
        block.met = pyo.Var(range(len(data.names)), within=pyo.Binary)
        block.limit = pyo.Constraint(keys, rule=lambda _b, s, t, p: ctx.linear(
            terms[s, t, p][0], terms[s, t, p][1],
            others=terms[s, t, p][2] + [(block.met[s], -bounds[s, t, p][1])])
            >= bounds[s, t, p][0] - bounds[s, t, p][1])
        block.enough = pyo.Constraint(expr=ctx.linear([], [], others=[
            (block.met[s], float(p)) for s, p in enumerate(data.probabilities)])
            >= self.params.share - TOLERANCE)

    def loads(self, ctx: BuildContext, amounts: np.ndarray
              ) -> dict[tuple[int, str, str], tuple[float, float]]:
        """(scenario, point, pollutant) -> (load after the plan, limit), for every limit."""
        data = _scenarios(self.params, ctx)
        out = {}
        for s in range(len(data.names)):
            for (t, p), limit in self.targets(ctx, s).items():
                idx, coef = data.reduction(s, t, p)
                out[(s, t, p)] = (data.baseline_load(s, t, p) - float(coef @ amounts[idx]),
                                  limit)
        return out

    def plan_tables(self, built: Any, result: Any) -> dict[str, pd.DataFrame]:
        """``scenario_limits.csv``: the plan's load and the limit at each point in each
        scenario, and whether it is met."""
        ctx = built.ctx
        data = _scenarios(self.params, ctx)
        rows = [{"component": self.name, "scenario": data.names[s],
                 "probability": float(data.probabilities[s]), "point_id": t, "pollutant": p,
                 "load": load, "limit": limit, "met": bool(load <= limit * (1 + 1e-7) + 1e-6),
                 "unit": POLLUTANT_UNITS[p]}
                for (s, t, p), (load, limit) in self.loads(
                    ctx, np.asarray(result.amounts, float)).items()]
        return {"scenario_limits": pd.DataFrame(rows, columns=[
            "component", "scenario", "probability", "point_id", "pollutant", "load", "limit",
            "met", "unit"])}
