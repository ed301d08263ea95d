"""Compile a :class:`~dss.optimize.problem.Problem` into a Pyomo model.

Order: sanity checks (one objective, every component's ``check``), the core variables
and cost (see :mod:`dss.optimize.context`), then components by role (constraints, benefits,
objective), each on its own block named after the component, and finally the objective,
assembled from the collected benefit and penalty terms.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC
from pyomo.core.expr.numeric_expr import LinearExpression, SumExpression

from dss.errors import InputError, Issue
from dss.optimize.components.base import Component, Role
from dss.optimize.context import BuildContext
from dss.optimize.precompute import make_context
from dss.optimize.presolve import presolve
from dss.optimize.problem import Problem, relocate

LOGGER = logging.getLogger(__name__)

RESERVED_NAMES = frozenset({"OPTIONS", "FIXED", "TOWNSHIPS", "amount", "used", "used_link",
                            "used_once",
                            "spend", "spend_def", "cost", "local_balance",
                            "objective_function"})
"""Names of core model parts; components cannot use them."""

ROLE_ORDER = (Role.CONSTRAINT, Role.BENEFIT, Role.OBJECTIVE)


@dataclass
class Built:
    """A compiled model with the context and blocks needed to read results."""

    problem: Problem
    model: pyo.ConcreteModel
    ctx: BuildContext
    blocks: dict[str, pyo.Block]
    objective: Component
    penalty_terms: dict[str, Any]
    seconds: float
    warnings: list[Issue] = field(default_factory=list)
    """Presolve warnings about numerically risky data (:mod:`dss.optimize.presolve`)."""
    _benefit_terms: dict[str, Any] | None = None

    @property
    def benefit_terms(self) -> dict[str, Any]:
        """Labelled benefit expressions (``"component: label"`` -> expression), built on
        first use: the objective does not need them, and some are large."""
        if self._benefit_terms is None:
            self._benefit_terms = {
                f"{c.name}: {label}": term for c in self.problem.components
                for label, term in c.benefit_terms(self.blocks[c.name], self.ctx).items()}
        return self._benefit_terms

    def benefit_values(self, amounts: np.ndarray) -> dict[str, float]:
        """Value of every labelled benefit term at a plan (currency)."""
        return {f"{c.name}: {label}": v for c in self.problem.components
                for label, v in c.benefit_values(self.blocks[c.name], self.ctx,
                                                 amounts).items()}

    @property
    def is_mip(self) -> bool:
        """Whether the model has integer or binary variables."""
        return bool(self.ctx.options["integer"].any() or self.ctx.used_vars)


def _core(model: pyo.ConcreteModel, ctx: BuildContext) -> None:
    """The shared decision variables and the cost expression (see context docstring)."""
    opts = ctx.options
    n = len(opts)
    cap = opts["capacity"].to_numpy(float)
    integer = opts["integer"].to_numpy(bool)
    model.OPTIONS = pyo.RangeSet(0, n - 1) if n else pyo.Set(initialize=[])
    model.amount = pyo.Var(model.OPTIONS, within=pyo.NonNegativeReals, dense=True)
    ctx.amount_vars = list(model.amount.values())  # option order (OPTIONS is a range)
    for var, upper in zip(ctx.amount_vars, cap.tolist(), strict=True):
        var.setub(upper)  # a third faster than a bounds rule called per index
    for k in np.flatnonzero(integer):
        ctx.amount_vars[k].domain = pyo.NonNegativeIntegers
    fixed = np.flatnonzero(opts["fixed_cost"].to_numpy(float) > 0).tolist()
    model.FIXED = pyo.Set(initialize=fixed, ordered=True)
    model.used = pyo.Var(model.FIXED, within=pyo.Binary)
    ctx.used_vars = {k: model.used[k] for k in fixed}
    steps = np.arange(len(fixed) + 1)  # x_k - cap_k u_k <= 0, from arrays
    ctx.array_rows(model, "used_link", fixed, np.asarray(fixed, dtype=np.int64),
                   np.ones(len(fixed)), steps, np.full(len(fixed), -np.inf),
                   np.zeros(len(fixed)),
                   others=([ctx.used_vars[k] for k in fixed], -cap[fixed], steps))
    if ctx.phasing is not None:
        _one_start(model, ctx, fixed)
    _spend(model, ctx)
    _local_mass_balance(model, ctx)


def _one_start(model: pyo.ConcreteModel, ctx: BuildContext, fixed: list[int]) -> None:
    """With planning years, an action with a fixed cost (a plant, a dam programme) is
    started in one year per subunit, and pays its fixed cost in that year:

    .. math:: x_k \\le \\bar x_k u_k, \\qquad \\sum_{k \\in P} u_k \\le 1

    over the options :math:`P` of one (subunit, action) pair: one binary per start year, with
    a relaxation as tight as without years. Pyomo: ``used_once[pair]``.
    """
    flags = np.asarray(fixed, dtype=np.int64)
    pairs = ctx.phasing.pair[flags]
    order = np.argsort(pairs, kind="stable")
    keys, first = np.unique(pairs[order], return_index=True)
    ctx.array_rows(model, "used_once", keys.tolist(), np.zeros(0, np.int64), np.zeros(0),
                   np.zeros(len(keys) + 1, np.int64), np.full(len(keys), -np.inf),
                   np.ones(len(keys)),
                   others=([ctx.used_vars[k] for k in flags[order].tolist()],
                           np.ones(len(flags)), np.append(first, len(flags))))


def _spend(model: pyo.ConcreteModel, ctx: BuildContext) -> None:
    """Spend per township as variables, and the total cost as their sum.

    .. math:: \\text{spend}_g = \\sum_{k \\in K_g} c_k x_k + f_k u_k, \\qquad
              C = \\sum_g \\text{spend}_g

    Splitting the cost by township keeps every row sparse: one dense budget row over all
    options makes HiGHS's presolve and factorisation many times slower on large basins.
    Pyomo: ``TOWNSHIPS``, ``spend[g]``, ``spend_def[g]``, ``cost`` (expression).
    """
    groups = ctx.options.groupby("township", sort=True).indices
    towns = sorted(groups)
    model.TOWNSHIPS = pyo.Set(initialize=towns, ordered=True)
    model.spend = pyo.Var(model.TOWNSHIPS, within=pyo.NonNegativeReals)
    model.spend_def = pyo.Constraint(
        model.TOWNSHIPS,
        rule=lambda m, g: ctx.cost_of(groups[g], others=[(m.spend[g], -1.0)],
                                      sign=-1.0) == 0.0)
    ctx.township_spend = {g: model.spend[g] for g in towns}
    model.cost = pyo.Expression(expr=LinearExpression(
        constant=0.0, linear_coefs=[1.0] * len(towns),
        linear_vars=[model.spend[g] for g in towns]))


def _local_mass_balance(model: pyo.ConcreteModel, ctx: BuildContext) -> None:
    """No subunit can lose more of a pollutant than it produces.

    Effects are estimated per action; several actions in one subunit (e.g. check dams that
    trap the whole local sediment, plus revegetation) could otherwise add up to more than
    the local load. For each subunit :math:`i` and pollutant :math:`p` whose largest
    possible reduction exceeds its load :math:`L_{ip}`:

    .. math:: \\sum_{k \\in K(i)} \\Delta_{kp} x_k \\le L_{ip}

    With planning years, :math:`\\Delta_{kp}` is the full effect (every start at
    maturity), so the balance holds in every year.

    Pyomo: ``local_balance[p, i]`` (only where it can bind).
    """
    opts = ctx.options
    pos = ctx.option_subunit_pos
    cap = opts["capacity"].to_numpy(float)
    rows: dict[tuple[str, int], np.ndarray] = {}
    coefs: dict[str, np.ndarray] = {}
    for p in ctx.pollutants():
        d = opts[f"d_{p}"].to_numpy(float) if ctx.phasing is None else \
            ctx.phasing.full[f"d_{p}"]
        coefs[p] = d
        most = np.zeros(ctx.study.routing.n)
        # with years a pair's starts share its capacity: count each pair once
        once = cap if ctx.phasing is None else cap * (
            ctx.phasing.option_year == ctx.phasing.years[0])
        np.add.at(most, pos, np.clip(d, 0.0, None) * once)
        load = ctx.local[p].to_numpy(float)
        risky = np.flatnonzero(most > load * (1 + 1e-9) + 1e-9)
        if len(risky):
            order = np.argsort(pos, kind="stable")
            starts = np.searchsorted(pos[order], risky)
            ends = np.searchsorted(pos[order], risky, side="right")
            for i, a, b in zip(risky, starts, ends, strict=True):
                rows[(p, int(i))] = order[a:b]
    keys = sorted(rows)
    loads = {p: ctx.local[p].to_numpy(float) for p in coefs}
    model.local_balance = pyo.Constraint(
        keys, rule=lambda _m, p, i: ctx.linear(rows[p, i], coefs[p][rows[p, i]])
        <= float(loads[p][i]))


def sum_of(parts: list[Any]) -> Any:
    """The sum of expressions as one node over them.

    Python's ``sum`` would make Pyomo copy the terms of every linear expression into a new
    one; keeping the parts lets the matrix compiler take each remembered expression as its
    arrays (:meth:`BuildContext.linear`).
    """
    if not parts:
        return 0.0
    return parts[0] if len(parts) == 1 else SumExpression(list(parts))


ProgressFn = Callable[[str, int, int], None]
"""Progress callback ``(stage, done, total)``; the library reports through it and never
prints (the CLI draws progress bars from it)."""


def compile_problem(problem: Problem, elastic: bool = False,
                    progress: ProgressFn | None = None) -> Built:
    """Build the Pyomo model of a problem.

    Args:
        problem: The problem.
        elastic: Turn every elastic-capable requirement into a penalised slack (used to
            explain infeasibility).
        progress: Called as ``progress("build", done, total)`` after the core and after
            each component (total = components + 1).

    Raises:
        InputError: on a missing/duplicate objective or any component check failure.
    """
    # Python's cyclic garbage collector would rescan the growing heap again and again while
    # hundreds of thousands of Pyomo objects are made (a third of the core's build time at
    # 100,000 subunits); they hold no garbage cycles, so it pauses during the build.
    with PauseGC():
        return _compile(problem, elastic, progress)


def prepare(problem: Problem, elastic: bool = False) -> tuple[BuildContext, list[Issue]]:
    """Every check made before a model is built, and the data it is built from.

    ``dss validate`` runs exactly this, so that it accepts what ``dss solve`` accepts: one
    objective, no reserved component names, every component's data checks, and (unless
    ``elastic``) the presolve checks that refuse a problem that cannot be solved as posed.

    Returns:
        The build context and the presolve warnings (numerically risky data).

    Raises:
        InputError: listing every problem found.
    """
    problem.objective()
    clash = [c.name for c in problem.components if c.name in RESERVED_NAMES]
    if clash:
        raise InputError([Issue(problem.source, f"component name {n!r} is reserved "
                                                f"(reserved: {', '.join(sorted(RESERVED_NAMES))}"
                                                "); rename it", None, f"components.{n}")
                          for n in clash],
                         "invalid components")
    ctx = make_context(problem)
    issues = [i for c in problem.components for i in c.check(ctx)]
    if issues:
        raise InputError(relocate(issues, problem.source), "invalid component parameters")
    # --- presolve hook: trivially infeasible problems raise; risky numbers give warnings ---
    warnings = [] if elastic else presolve(problem, ctx)
    return ctx, warnings


def _compile(problem: Problem, elastic: bool, progress: ProgressFn | None) -> Built:
    """:func:`compile_problem` with the garbage collector paused."""
    start = time.perf_counter()
    objective = problem.objective()
    ctx, warnings = prepare(problem, elastic)
    model = pyo.ConcreteModel(name=problem.config.name)
    ctx.model = model
    total_steps = len(problem.components) + 1
    _core(model, ctx)
    done = 1
    if progress is not None:
        progress("build", done, total_steps)
    blocks: dict[str, pyo.Block] = {}
    penalties: dict[str, Any] = {}
    objective_parts: list[Any] = []
    for role in ROLE_ORDER:
        for comp in problem.components:
            if comp.role is not role:
                continue
            comp.elastic = elastic and comp.elastic_capable
            block = pyo.Block()
            model.add_component(comp.name, block)
            t0 = time.perf_counter()
            comp.build(block, ctx)
            total = comp.benefit_objective(block, ctx)
            if total is not None and not (comp.role is Role.BENEFIT and getattr(
                    objective, "replaces_benefits", False)):  # e.g. a stochastic objective
                objective_parts.append(total)
            for label, term in comp.penalty_terms(block, ctx).items():
                penalties[f"{comp.name}: {label}"] = term
            blocks[comp.name] = block
            LOGGER.info("built %s (%s) in %.2f s", comp.name, comp.type_name,
                        time.perf_counter() - t0)
            done += 1
            if progress is not None:
                progress("build", done, total_steps)
    if elastic:
        expr = sum(penalties.values(), 0.0)
        model.objective_function = pyo.Objective(expr=expr, sense=pyo.minimize)
    elif objective.type_name == "min_cost" or getattr(objective, "sense", None) == pyo.minimize:
        model.objective_function = pyo.Objective(expr=model.cost + sum(penalties.values(), 0.0),
                                        sense=pyo.minimize)
    else:
        weight = float(getattr(objective.params, "cost_weight", 0.0))
        parts = objective_parts + [-1.0 * term for term in penalties.values()]
        if weight:
            parts.append(-weight * model.cost)
        model.objective_function = pyo.Objective(expr=sum_of(parts), sense=pyo.maximize)
    seconds = time.perf_counter() - start
    LOGGER.info("model built: %d options, %.2f s", ctx.n_options, seconds)
    return Built(problem, model, ctx, blocks, objective, penalties, seconds, warnings)
