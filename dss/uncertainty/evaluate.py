"""A plan, and the options' coefficients, on every scenario of the uncertain inputs.

Nothing here repeats the load or routing mathematics. Each scenario's study (the nominal
one with its changes, :mod:`dss.uncertainty.scenarios`) goes through the same path as a
solve: :func:`dss.optimize.build.make_context` (options, local loads, baseline routing),
:func:`dss.optimize.plan_effects.local_loads_after` (loads after a plan),
:meth:`dss.network.routing.Routing.route` (all scenarios at once, one column each),
:func:`~dss.optimize.components.coefficients.objective_coefficients` (benefit per unit of
each option),
:meth:`LoadLimits.targets` and :meth:`Habitat.required` (limits and targets, which may
depend on the scenario's baseline).

The decisions are the options of the nominal study, keyed by (subunit, action). In a
scenario an option takes the plan's amount, capped at the scenario's capacity (a plan
cannot treat more cropland than a scenario has); an option a scenario does not have
(capacity 0) takes nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from dss.data.schema import POLLUTANTS
from dss.indicators.loads import retention
from dss.optimize.build import make_context
from dss.optimize.components.base import Role
from dss.optimize.components.benefits import Habitat, LoadLimits
from dss.optimize.components.coefficients import objective_coefficients
from dss.optimize.components.scenario_data import option_map
from dss.optimize.components.stochastic import ChanceLimits, curved_benefits
from dss.optimize.context import BuildContext
from dss.optimize.plan_effects import costs_at, local_loads_after
from dss.optimize.problem import Problem
from dss.uncertainty.scenarios import ScenarioSet

Key = tuple[str, str]
"""(control point, pollutant)."""


def scenario_context(problem: Problem, study) -> BuildContext:
    """The build context of ``problem`` on another study (a scenario's)."""
    return make_context(dataclasses.replace(problem, study=study))


def moved(values: np.ndarray, where: np.ndarray) -> np.ndarray:
    """``values[where]``, 0 where ``where`` is -1 (per-option values carried between two
    option tables through :func:`option_map`)."""
    return np.where(where >= 0, np.append(values, 0.0)[where], 0.0)


def benefit_coefficients(problem: Problem, ctx: BuildContext) -> dict[str, np.ndarray]:
    """Currency benefit per unit of each option of ``ctx``, per benefit component (the
    objective's coefficients, :func:`objective_coefficients`, of the benefit components)."""
    roles = {c.name: c.role for c in problem.components}
    return {name: coef for name, coef in objective_coefficients(problem, ctx).items()
            if roles.get(name) is Role.BENEFIT}


def benefit_at(problem: Problem, ctx: BuildContext, amounts: np.ndarray) -> dict[str, float]:
    """Benefit of a plan per benefit component (currency) in the scenario of ``ctx``: the
    objective's coefficients for linear benefits, and the component's own evaluation
    (:meth:`~dss.optimize.components.base.Component.benefit_values`) for one valued by a
    curve, whose value is not linear in the plan."""

    out = {name: float(coef @ amounts)
           for name, coef in benefit_coefficients(problem, ctx).items()}
    curved = {key.split(".")[1] for key in curved_benefits(problem.components)}
    for comp in problem.components:
        if comp.name in curved:
            out[comp.name] = float(sum(comp.benefit_values(None, ctx, amounts).values()))
    return out


def limit_targets(problem: Problem, ctx: BuildContext) -> dict[Key, float]:
    """The tightest load limit per (point, pollutant) over the load-limit components and the
    stochastic ones (``chance_limits``: their limits as they stand in this scenario)."""
    out: dict[Key, float] = {}
    for comp in problem.components:
        if isinstance(comp, ChanceLimits):
            q = comp.params
            comp = LoadLimits(comp.name, limits=q.limits, reductions=q.reductions,
                              use_table_limits=q.use_table_limits)
        if isinstance(comp, LoadLimits):
            for key, value in comp.targets(ctx).items():
                out[key] = min(out.get(key, np.inf), value)
    return out


def habitat_targets(problem: Problem, ctx: BuildContext) -> dict[str, float]:
    """The largest required habitat gain per species over the habitat components."""
    out: dict[str, float] = {}
    for comp in problem.components:
        if isinstance(comp, Habitat):
            for s in comp.params.species:
                need = comp.required(ctx, s)
                if need is not None:
                    out[s] = max(out.get(s, -np.inf), need)
    return out


@dataclass
class Outcomes:
    """A plan's outcomes per scenario (arrays of one value per scenario, in order).

    Attributes:
        before, after: Routed load at each (point, pollutant) without and with the plan.
        limits: Load limit per (point, pollutant), per scenario.
        benefit: Benefit of the plan per benefit component (currency).
        habitat_gain, habitat_required: Quality-weighted habitat gained and required, per
            species with a target (ha).
        spend: Cost of the plan at the scenario's unit costs (currency).
        dropped: Amount of the plan each scenario could not place (options it lacks or
            smaller capacities), summed over options.
    """

    before: dict[Key, np.ndarray] = field(default_factory=dict)
    after: dict[Key, np.ndarray] = field(default_factory=dict)
    limits: dict[Key, np.ndarray] = field(default_factory=dict)
    benefit: dict[str, np.ndarray] = field(default_factory=dict)
    habitat_gain: dict[str, np.ndarray] = field(default_factory=dict)
    habitat_required: dict[str, np.ndarray] = field(default_factory=dict)
    spend: np.ndarray = field(default_factory=lambda: np.zeros(0))
    dropped: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def total_benefit(self) -> np.ndarray:
        """Benefit summed over the components, per scenario."""
        if not self.benefit:
            return np.zeros(len(self.dropped))
        return np.sum(list(self.benefit.values()), axis=0)

    @staticmethod
    def join(parts: Sequence[Outcomes]) -> Outcomes:
        """The outcomes of consecutive scenario chunks, in order."""
        out = Outcomes()
        for name in ("before", "after", "limits", "benefit", "habitat_gain",
                     "habitat_required"):
            keys = list(getattr(parts[0], name))
            setattr(out, name, {k: np.concatenate([getattr(p, name)[k] for p in parts])
                                for k in keys})
        out.spend = np.concatenate([p.spend for p in parts])
        out.dropped = np.concatenate([p.dropped for p in parts])
        return out


def evaluate_plan(problem: Problem, amounts: np.ndarray, scenarios: ScenarioSet,
                  which: Sequence[int] | None = None,
                  progress: Callable[[int], None] | None = None) -> Outcomes:
    """The outcomes of a plan (amounts of the nominal options) on scenarios.

    Args:
        problem: The problem the plan was made for (its study is the nominal one).
        amounts: Amount of every option of the nominal study.
        scenarios: The scenarios.
        which: Indices of the scenarios to evaluate (default: all), in this order.
        progress: Called with 1 after each scenario.
    """
    nominal = make_context(problem)
    which = list(range(len(scenarios))) if which is None else list(which)
    routing = problem.study.routing
    points = problem.study.control_points
    targets = routing.index(points["subunit_id"]) if len(points) else np.zeros(0, int)
    inflow = (points["measures"] == "inflow").to_numpy() if len(points) else np.zeros(0, bool)
    locals_after = {p: [] for p in POLLUTANTS}
    retentions = {p: [] for p in POLLUTANTS}
    out = Outcomes()
    records: dict[str, list] = {"before": [], "limits": [], "benefit": [], "gain": [],
                                "need": [], "spend": [], "dropped": []}
    for s in which:
        ctx = scenario_context(problem, scenarios.study(problem.study, s))
        x = moved(amounts, option_map(ctx.options, nominal.options))
        capped = np.minimum(x, ctx.options["capacity"].to_numpy(float))
        placed = capped.sum()
        records["dropped"].append(float(amounts.sum() - placed))
        records["spend"].append(float(costs_at(ctx.options, capped).sum()))
        after = local_loads_after(ctx, capped)
        for p in POLLUTANTS:
            locals_after[p].append(after[p])
            retentions[p].append(retention(ctx.study, p))
        before = {}
        for j, point in enumerate(points["point_id"]):
            for p in POLLUTANTS:
                res = ctx.routed[p]
                t = targets[j]
                before[(point, p)] = (res.local[t] + res.inflow[t]) if inflow[j] \
                    else res.outflow[t]
        records["before"].append(before)
        records["limits"].append(limit_targets(problem, ctx))
        records["benefit"].append(benefit_at(problem, ctx, capped))
        sp = ctx.options["habitat_species"].to_numpy()
        gain = ctx.options["habitat_gain"].to_numpy(float) * capped
        need = habitat_targets(problem, ctx)
        records["need"].append(need)
        records["gain"].append({k: float(gain[sp == k].sum()) for k in need})
        if progress is not None:
            progress(1)
    for p in POLLUTANTS:
        if not which:
            break
        routed = routing.route(np.stack(locals_after[p], axis=1),
                               np.stack(retentions[p], axis=1))
        for j, point in enumerate(points["point_id"]):
            t = targets[j]
            load = (routed.local[t] + routed.inflow[t]) if inflow[j] else routed.outflow[t]
            out.after[(point, p)] = np.asarray(load, dtype=float)
    keys = list(records["before"][0]) if which else []
    out.before = {k: np.array([r[k] for r in records["before"]]) for k in keys}
    limit_keys = list(records["limits"][0]) if which else []
    out.limits = {k: np.array([r[k] for r in records["limits"]]) for k in limit_keys}
    names = list(records["benefit"][0]) if which else []
    out.benefit = {k: np.array([r[k] for r in records["benefit"]]) for k in names}
    kinds = list(records["need"][0]) if which else []
    out.habitat_required = {k: np.array([r[k] for r in records["need"]]) for k in kinds}
    out.habitat_gain = {k: np.array([r[k] for r in records["gain"]]) for k in kinds}
    out.spend = np.asarray(records["spend"], dtype=float)
    out.dropped = np.asarray(records["dropped"], dtype=float)
    return out

