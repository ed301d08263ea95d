"""The park and the watershed in one model: zoning chosen together with restoration actions.

:class:`ParkZoning` is an allocation-model component (``type: park_zoning``) that carries a
whole park design: the same ``planning:`` keys as a ``kind: planning`` model (zones, costs,
features and targets, rules, locks, boundary penalty, contiguity), compiled by the
park-design parts themselves (:mod:`dss.planning.parts`) on the component's own block. The
restoration amounts then depend on the zone each subunit is given.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pydantic import Field

from dss.config.planning import PlanningSpec
from dss.errors import InputError, Issue, SolveError
from dss.optimize.components.base import Component, Params, Role, register
from dss.optimize.components.constraints import ZoneRule
from dss.optimize.context import BuildContext
from dss.optimize.results import allocation_table
from dss.planning.compile import Model, compile_parts
from dss.planning.park_zoning_check import check_zoning, design_table, load_zoning
from dss.planning.solve import SolverOptions, solve
from dss.planning.study import StudyPlanning, build_study_problem
from dss.planning.zoning_tables import zoning_table

LOGGER = logging.getLogger(__name__)


class ParkZoningParams(Params):
    """Parameters of :class:`ParkZoning`."""

    design: PlanningSpec
    """The park design, with the keys of a ``kind: planning`` model's ``planning:`` section
    (zones, costs, features, targets, rules, locked_in/out, boundary, contiguity, ...); its
    objective must be ``min_set`` (the park's cost, counted in the allocation objective),
    with binary decisions and every subunit in exactly one zone."""
    rules: dict[str, ZoneRule] = Field(default_factory=dict)
    """Zone -> actions forbidden there, the only actions allowed there, or actions required
    on a share of their capacity there (as ``zone_rules``, but for the zone chosen)."""
    restored_habitat_counts: bool = True
    """Habitat the restoration gains counts toward the design's ``>=`` targets on a
    species' quality-weighted habitat (a feature with attribute ``habitat_q:<species>``),
    in the zone where it is restored."""
    sequential: bool = False
    """Design the park alone first (least park cost, the design's own objective), fix that
    zoning, then plan the restoration inside it: the sequential way, to compare with."""


@dataclass
class _DesignModel(Model):
    """A planning :class:`~dss.planning.compile.Model` whose decisions :math:`z_{iz}` live
    on the park-zoning block of the allocation model instead of a model of their own."""

    block: Any = None
    restored: Any = None
    """Target -> (coefficients, variables) of the restored habitat it counts, or None."""

    def __post_init__(self) -> None:
        data = self.problem.data
        self.n, self.nz = data.n_units, data.n_zones
        self.m = self.block
        self.block.zone = pyo.Var(range(self.n * self.nz), domain=pyo.Binary, bounds=(0, 1))
        self.decisions = [self.block.zone[k] for k in range(self.n * self.nz)]

    def held(self, target: Any) -> Any:
        """:math:`h_t` of the design plus the restored habitat the target counts."""
        base = super().held(target)
        extra = self.restored(target) if self.restored is not None else None
        if extra is None:
            return base
        coefs, variables = extra
        return self.linear([*base.linear_coefs, *coefs],
                           [*base.linear_vars, *variables], base.constant)


@register
class ParkZoning(Component):
    """The national park's zoning, chosen together with the restoration actions.

    Decisions :math:`z_{iz} \\in \\{0,1\\}`: subunit :math:`i` is in zone :math:`z` (core,
    general, outside), one zone each, :math:`\\sum_z z_{iz} = 1`. The park-design parts of
    ``design`` act on :math:`z` exactly as in a ``kind: planning`` model
    (``dss components min_set``, ``contiguity``, ``boundary_penalty``, ...): feature targets
    :math:`\\sum_i \\sum_{z \\in Z_t} a_{fiz} z_{iz} \\ge T_t`, linear rules, locks, a
    connected park, and the park's cost

    .. math:: \\Pi = \\sum_i \\sum_z c_{iz} z_{iz} + P(z)

    (opportunity cost plus the boundary penalty :math:`P`, CNY), which the allocation
    objective subtracts (``max_benefit``) or adds (``min_cost``) as a penalty term.

    Which actions a subunit may take depends on its zone. With :math:`Z_a` the zones whose
    ``rules`` permit action :math:`a` and :math:`\\rho_{az}` the share of capacity required
    in zone :math:`z`, for every option :math:`k` (subunit :math:`i(k)`, action
    :math:`a(k)`, capacity :math:`\\bar x_k`):

    .. math::
        x_k \\le \\bar x_k \\sum_{z \\in Z_{a(k)}} z_{i(k)z}, \\qquad
        x_k \\ge \\sum_z \\lceil \\bar x_k \\rho_{a(k)z} \\rceil z_{i(k)z}

    (the ceiling for whole-unit actions only). Habitat, water and carbon benefits count
    wherever the actions are, in every zone. With ``restored_habitat_counts``, habitat the
    restoration gains also counts toward a ``>=`` target :math:`t` on a species'
    quality-weighted habitat, in the zones :math:`Z_t` where it is restored: with
    :math:`\\gamma_k` the quality-weighted gain per unit of option :math:`k` for the species,
    :math:`G_i = \\sum_{k \\in i} \\gamma_k \\bar x_k` its most in subunit :math:`i` and
    :math:`w_{ti} \\in [0, 1]`,

    .. math::
        h_t = \\sum_i \\sum_{z \\in Z_t} a_{fiz} z_{iz} + \\sum_i G_i w_{ti}, \\qquad
        G_i w_{ti} \\le \\sum_{k \\in i} \\gamma_k x_k, \\qquad
        w_{ti} \\le \\sum_{z \\in Z_t} z_{iz}

    so that :math:`G_i w_{ti}` is at most the gain made in :math:`i`, and nothing where
    :math:`i` is outside :math:`Z_t` (exact for binary :math:`z`).

    A plan that designs the park first and then restores inside it is feasible here, so the
    joint optimum is never worse (``sequential: true`` solves it that way: the design alone
    at least park cost, its zoning fixed, then the restoration).

    Pyomo: ``zone[i * n_zones + z]``; ``design_<part>`` blocks (the parts);
    ``permitted[k]`` and ``required[k]``; ``restored_w_<t>`` and ``restored``. Result
    tables: ``zoning.csv`` (as the park-design run's), ``park_design.csv`` (targets held,
    designed and restored, and the park's cost terms), and ``allocation.csv``'s ``zone`` is
    the zone each subunit is given.
    """

    type_name = "park_zoning"
    role = Role.CONSTRAINT
    Params = ParkZoningParams

    # -- data --------------------------------------------------------------------------

    def design(self, ctx: BuildContext) -> StudyPlanning:
        """The park-design problem over the study's subunits (built once per context).

        Raises:
            InputError: every problem with ``design``, located under this component.
        """
        def compute() -> StudyPlanning:
            try:
                return build_study_problem(ctx.study, self.params.design, ctx.study.folder)
            except InputError as err:
                raise InputError(self._relocate(err.issues), err.summary) from None

        return ctx.memo(("park_zoning", self.name), compute)

    def _relocate(self, issues: list[Issue]) -> list[Issue]:
        prefix = f"components.{self.name}.design"
        return [Issue("model", i.message, None, prefix + (i.column or "").removeprefix(
            "planning")) if i.file in ("model", None) or (i.column or "").startswith(
            "planning") else i for i in issues]

    def check(self, ctx: BuildContext) -> list[Issue]:
        where = f"components.{self.name}"
        spec = self.params.design
        issues = []

        def add(message: str, key: str) -> None:
            issues.append(Issue("model", message, None, f"{where}.{key}"))

        if spec.source != "study":
            add("the park is designed over the study's subunits (source: study)",
                "design.source")
        if spec.decisions != "binary" or not spec.mandatory_allocation:
            add("a subunit is in exactly one zone: decisions must be binary and "
                "mandatory_allocation true", "design.decisions")
        if spec.objective.type != "min_set":
            add(f"the design's objective must be min_set (its cost is counted in the "
                f"allocation objective), not {spec.objective.type}", "design.objective.type")
        for key in ("portfolio", "evaluate_current"):
            if getattr(spec, key):
                add(f"{key} is for `kind: planning` runs; remove it here", f"design.{key}")
        if ctx.phasing is not None:
            add("park_zoning plans one period: remove settings.years", "type")
        others = [c.name for c in ctx.components if c.type_name == "zone_rules"]
        if others:
            add(f"the model also has the zone_rules component {others[0]!r}, whose fixed "
                f"zone shares would hold too: remove it (components.{others[0]}: null) and "
                f"give its rules here", "rules")
        known = set(ctx.study.actions["action_id"])
        for zone, rule in self.params.rules.items():
            if zone not in spec.zones:
                add(f"unknown zone {zone!r} (design zones: {', '.join(spec.zones)})",
                    f"rules.{zone}")
            for what, names in (("forbidden", rule.forbidden), ("allowed", rule.allowed or []),
                                ("required", list(rule.required))):
                for action in names:
                    if action not in known:
                        add(f"unknown action {action!r} (known: {', '.join(sorted(known))})",
                            f"rules.{zone}.{what}")
            for action, share in rule.required.items():
                if not 0 <= share <= 1 or action in rule.forbidden:
                    add("a required share must be in [0, 1] and the action must not be "
                        "forbidden in the same zone", f"rules.{zone}.required.{action}")
        if issues:
            return issues
        try:
            self.design(ctx)
        except InputError as err:
            return list(err.issues)
        return []

    def zone_shares(self, ctx: BuildContext) -> tuple[np.ndarray, np.ndarray]:
        """Per option and zone: whether the action is permitted there, and the capacity
        required there (arrays of shape options x zones)."""
        zones = self.params.design.zones
        actions = ctx.options["action_id"].to_numpy()
        cap = ctx.options["capacity"].to_numpy(float)
        integer = ctx.options["integer"].to_numpy(bool)
        permitted = np.ones((len(actions), len(zones)), dtype=bool)
        required = np.zeros((len(actions), len(zones)))
        for z, zone in enumerate(zones):
            rule = self.params.rules.get(zone)
            if rule is None:
                continue
            permitted[:, z] &= ~np.isin(actions, rule.forbidden)
            if rule.allowed is not None:
                permitted[:, z] &= np.isin(actions, rule.allowed)
            for action, rho in rule.required.items():
                need = cap * rho * (actions == action)
                required[:, z] = np.maximum(required[:, z], np.where(
                    integer, np.ceil(need - 1e-9), need))
        return permitted, required

    def unit_of_option(self, ctx: BuildContext) -> np.ndarray:
        """Planning-unit position of each option's subunit."""
        ids = self.design(ctx).attributes["id"].tolist()
        where = {u: i for i, u in enumerate(ids)}
        return np.array([where[s] for s in ctx.options["subunit_id"].astype(str)],
                        dtype=np.int64)

    # -- model -------------------------------------------------------------------------

    def build(self, block: pyo.Block, ctx: BuildContext) -> None:
        sp = self.design(ctx)
        problem = sp.problem
        model = _DesignModel(problem, block=block)
        if self.params.restored_habitat_counts:
            model.restored = self._restored(block, ctx, model)
        compile_parts(problem, model, block, prefix="design_")  # NA costs: z_iz = 0
        ctx._memo[("park_zoning_terms", self.name)] = list(model.terms)
        if self.params.sequential:
            plan = self.design_alone(ctx)
            for k, value in enumerate(plan.ravel()):
                model.decisions[k].fix(float(round(value)))
        self._link(block, ctx, model)

    def restored_gain(self, ctx: BuildContext, feature: int) -> np.ndarray | None:
        """Quality-weighted gain per unit of each option for a feature on a species'
        quality-weighted habitat (``habitat_q:<species>``), or None for another feature."""
        key = self.design(ctx).problem.data.feature_ids[feature]
        attribute = self.params.design.features[key].attribute
        if not attribute.startswith("habitat_q:"):
            return None
        species = attribute.removeprefix("habitat_q:")
        opts = ctx.options
        return np.where(opts["habitat_species"].astype(str).to_numpy() == species,
                        opts["habitat_gain"].to_numpy(float), 0.0)

    def _restored(self, block: pyo.Block, ctx: BuildContext, model: _DesignModel) -> Any:
        """The callback that adds, once per target, the restored-habitat variables
        :math:`w_{ti}` and their two rows (see the class docstring)."""
        unit = self.unit_of_option(ctx)
        cap = ctx.options["capacity"].to_numpy(float)
        block.restored = pyo.ConstraintList()
        made: dict[int, tuple[list[float], list[Any]] | None] = {}

        def restored(target: Any) -> tuple[list[float], list[Any]] | None:
            if id(target) in made:
                return made[id(target)]
            gain = self.restored_gain(ctx, target.feature) if target.sense == ">=" else None
            out = None
            if gain is not None and (gain > 0).any():
                units = np.unique(unit[gain > 0])
                w = pyo.Var(range(len(units)), bounds=(0, 1))
                position = next(j for j, t in enumerate(model.problem.targets) if t is target)
                block.add_component(f"restored_w_{position}", w)
                most = np.zeros(model.n)
                np.add.at(most, unit, gain * cap)
                for j, i in enumerate(units):
                    idx = np.flatnonzero((unit == i) & (gain > 0))
                    block.restored.add(ctx.linear(idx, -gain[idx], others=[
                        (w[j], float(most[i]))]) <= 0)
                    group = model.group(int(i), target.zones)
                    block.restored.add(model.linear([1.0] + [-1.0] * len(group),
                                                    [w[j], *group]) <= 0)
                out = ([float(most[i]) for i in units], [w[j] for j in range(len(units))])
            made[id(target)] = out
            return out

        return restored

    def _link(self, block: pyo.Block, ctx: BuildContext, model: _DesignModel) -> None:
        permitted, required = self.zone_shares(ctx)
        cap = ctx.options["capacity"].to_numpy(float)
        unit = self.unit_of_option(ctx)
        nz = model.nz
        limited = np.flatnonzero(~permitted.all(axis=1) & (cap > 0))
        needed = np.flatnonzero(required.sum(axis=1) > 0)

        def zone_terms(k: int, coefs: np.ndarray) -> list[tuple[Any, float]]:
            return [(model.decisions[unit[k] * nz + z], -float(c))
                    for z, c in enumerate(coefs) if c]

        block.permitted = pyo.Constraint(limited.tolist(), rule=lambda _b, k: ctx.linear(
            [k], [1.0], others=zone_terms(k, cap[k] * permitted[k])) <= 0)
        block.required = pyo.Constraint(needed.tolist(), rule=lambda _b, k: ctx.linear(
            [k], [1.0], others=zone_terms(k, required[k])) >= 0)

    def design_alone(self, ctx: BuildContext) -> np.ndarray:
        """The park designed on its own, at least park cost (the sequential way's first
        step), as a plan (units x zones); solved once per context.

        Raises:
            SolveError: if the design alone has no optimal plan.
        """
        def compute() -> np.ndarray:
            result = solve(self.design(ctx).problem, SolverOptions.from_config(
                ctx.config.solver))
            if result.status != "optimal" or result.solution is None:
                short = result.shortfalls
                detail = ""
                if len(short):
                    rows = short[short["shortfall"].astype(float) > 1e-9]
                    detail = "; least shortfalls: " + ", ".join(
                        f"{t} {float(v):.6g} ({float(share):.1%})" for t, v, share in zip(
                            rows["target"], rows["shortfall"], rows["shortfall_share"],
                            strict=True)) if len(rows) else ""
                raise SolveError(f"the park design alone ({self.name}) is {result.status}: "
                                 f"there is no zoning to plan the restoration in{detail}")
            LOGGER.info("park designed alone: cost %.6g CNY", result.objective)
            return result.solution

        return ctx.memo(("park_zoning_alone", self.name), compute)

    def penalty_terms(self, block: pyo.Block, ctx: BuildContext) -> dict[str, Any]:
        """The park's cost terms (opportunity cost ``cost``, boundary penalty, ...),
        minimised with the allocation objective."""
        terms = ctx.memo(("park_zoning_terms", self.name), list)
        return {f"park {t.label}": t.sign * t.expr for t in terms}

    def benefit_terms(self, block: pyo.Block, ctx: BuildContext) -> dict[str, Any]:
        """The park's cost terms with a minus sign, for the summary (they enter the
        objective through :meth:`penalty_terms`, not as benefits)."""
        return {label: -1.0 * expr for label, expr in self.penalty_terms(block, ctx).items()}

    def benefit_objective(self, block: pyo.Block, ctx: BuildContext) -> Any:
        """None: the park's cost is a penalty term, already in the objective."""
        return None

    # -- results -----------------------------------------------------------------------

    def plan_of(self, block: pyo.Block, ctx: BuildContext) -> np.ndarray:
        """The zoning at the loaded solution (units x zones, 0/1)."""
        data = self.design(ctx).problem.data
        values = np.array([block.zone[k].value or 0.0 for k in range(
            data.n_units * data.n_zones)], dtype=float)
        return np.round(values.reshape(data.n_units, data.n_zones)) + 0.0

    def plan_tables(self, built: Any, result: Any) -> dict[str, pd.DataFrame]:
        plan = self.plan_of(built.blocks[self.name], built.ctx)
        zoning = zoning_table(self.design(built.ctx), plan)
        allocation = allocation_table(result)  # the zone each subunit is given, not today's
        allocation["zone"] = allocation["subunit_id"].astype(str).map(
            dict(zip(zoning["unit"], zoning["zone"], strict=True)))
        return {"zoning": zoning, "allocation": allocation,
                "park_design": design_table(self, built.ctx, plan, result.amounts)}

    def load_saved(self, block: pyo.Block, ctx: BuildContext, amounts: np.ndarray,
                   folder: Any) -> tuple[list[str], str]:
        """Set the zoning (and what follows from it) from a run folder's ``zoning.csv``,
        for ``dss verify`` (:func:`dss.planning.park_zoning_check.load_zoning`)."""
        return load_zoning(self, block, ctx, amounts, folder)

    def verify_plan(self, block: pyo.Block, ctx: BuildContext, amounts: np.ndarray,
                    folder: Any) -> tuple[list[str], str]:
        """Independent re-check of a saved zoning and plan
        (:func:`dss.planning.park_zoning_check.check_zoning`)."""
        return check_zoning(self, ctx, amounts, folder)
