"""Explain an infeasible problem: the smallest conflicting set of requirements, and the least
budget that would make it feasible.

Both complete the elastic re-solve of :func:`dss.optimize.solve.explain_infeasibility`
(which gives each requirement's least shortfall):

- :func:`conflict_set` runs a *deletion filter* over the elastic requirements (load limits,
  habitat targets, carbon floors). Starting from an infeasible set of hard requirements, it
  drops them one at a time, and keeps a requirement only if the rest becomes feasible
  without it. What is left is an irreducible conflict: together with the hard constraints
  (budget, land, zone rules, locks, equity) these requirements cannot all hold, but any one
  of them can be dropped to fix that. Requirements already short in the elastic solution
  are tried last, so they are the ones named when there is a choice.
- :func:`least_budget` re-solves with the total budget removed, every requirement hard and
  the cost minimised. That cost is the least total budget that meets every requirement. If
  that model is infeasible too, no budget suffices: the requirements exceed what all the
  actions can achieve under the other rules, and a deletion filter on that model names the
  requirements that money cannot meet.
"""

from __future__ import annotations

import io
import logging
import time
from dataclasses import dataclass
from typing import Any

import pyomo.environ as pyo

from dss.errors import InputError
from dss.optimize.build import Built, compile_problem
from dss.optimize.components.constraints import Budget
from dss.optimize.components.objectives import MinCost
from dss.optimize.problem import Problem

LOGGER = logging.getLogger(__name__)

MAX_FILTER_SECONDS = 60.0
"""Time the deletion filter may take; after it, the set found so far is reported (still
conflicting, perhaps not irreducible)."""


@dataclass
class Requirement:
    """One elastic requirement: its report row and its slack variable."""

    component: str
    label: str
    slack: Any


def requirements(built: Built) -> list[Requirement]:
    """The elastic requirements of a model compiled with ``elastic=True``.

    Each elastic-capable component names its requirements in its ``report()``
    (``requirements`` table, one row per element of its ``slack`` variable, in order).
    """
    found = []
    for comp in built.problem.components:
        if not comp.elastic_capable:
            continue
        block = built.blocks[comp.name]
        slack = getattr(block, "slack", None)
        if slack is None:
            continue
        slacks = list(slack.values())
        for var in slacks:  # unsolved (the elastic model was infeasible too): no values yet
            if var.value is None:
                var.set_value(0.0, skip_validation=True)
        table = comp.report(block, built.ctx, None).get("requirements")
        if not slacks or table is None or len(table) != len(slacks) or \
                "requirement" not in table:
            continue
        for label, var in zip(table["requirement"], slacks, strict=True):
            found.append(Requirement(comp.name, str(label), var))
    return found


def _feasible(built: Built, hard: set[int], reqs: list[Requirement], deadline: float
              ) -> bool | None:
    """Whether the model is feasible with the requirements in ``hard`` enforced and the
    others dropped (None if the solver could not tell in time). The objective is switched
    off by :func:`conflict_set`, so a MIP stops at its first feasible plan."""
    from dss.optimize.solve import run_highs

    for i, req in enumerate(reqs):
        if i in hard:
            req.slack.fix(0.0)
        else:
            req.slack.unfix()
            req.slack.setlb(0.0)
            req.slack.setub(None)
    config = built.problem
    left = max(1.0, min(config.config.solver.time_limit, deadline - time.perf_counter()))
    built.problem = config.with_solver(time_limit=left)
    try:
        results, _ = run_highs(built, io.StringIO())
    finally:
        built.problem = config
    name = str(results.termination_condition).lower()
    if "convergencecriteriasatisfied" in name:
        return True
    if "infeasible" in name:
        return False
    return None


def conflict_set(built: Built, shortfalls: dict[tuple[str, str], float]
                 ) -> tuple[list[tuple[str, str]], bool]:
    """The smallest set of conflicting requirements found by a deletion filter.

    Args:
        built: The problem compiled with ``elastic=True`` (its slacks are changed).
        shortfalls: Least shortfall of each (component, requirement) in the elastic solution.

    Returns:
        The (component, requirement) pairs of the set (empty when the hard constraints
        conflict on their own), and whether the filter finished (the set is irreducible).
    """
    reqs = requirements(built)
    if not reqs:
        return [], True
    deadline = time.perf_counter() + MAX_FILTER_SECONDS
    model = built.model
    model.objective_function.deactivate()  # feasibility only: any plan will do
    model.add_component("_feasibility", pyo.Objective(expr=0.0 * built.ctx.amount_vars[0]
                                                      if built.ctx.amount_vars else 0.0))
    try:
        if _feasible(built, set(), reqs, deadline) is False:
            return [], True  # the hard constraints conflict without any requirement
        short = {i for i, r in enumerate(reqs)
                 if shortfalls.get((r.component, r.label), 0) > 0}
        hard = set(range(len(reqs)))
        if short and short != hard and _feasible(built, short, reqs, deadline) is False:
            hard = short  # the short requirements conflict by themselves: filter only them
        # zero-shortfall requirements first, so the short ones are kept when there is a choice
        order = sorted(hard, key=lambda i: (i in short, i))
        finished = True
        for i in order:
            if time.perf_counter() > deadline:
                finished = False
                break
            if _feasible(built, hard - {i}, reqs, deadline) is False:
                hard.discard(i)
    finally:
        model.del_component("_feasibility")
        model.objective_function.activate()
    return [(reqs[i].component, reqs[i].label) for i in sorted(hard)], finished


@dataclass(frozen=True)
class BudgetNeed:
    """The least total budget that meets every requirement.

    Attributes:
        component: Name of the budget component ("" if the model has none).
        budget: The model's total budget (None if unlimited or absent).
        least: The least total budget (cost of the cheapest plan meeting every
            requirement), or None when no budget suffices or it could not be found.
        note: A sentence for people: the need, or why no budget suffices.
    """

    component: str
    budget: float | None
    least: float | None
    note: str


def _money(x: float) -> str:
    return f"{x:,.0f} CNY"


def least_budget(problem: Problem) -> BudgetNeed:
    """Re-solve minimising cost with the total budget removed and every requirement hard."""
    from dss.optimize.solve import run_highs

    budgets = [c for c in problem.components if isinstance(c, Budget)]
    name = budgets[0].name if budgets else ""
    total = next((c.params.total for c in budgets if c.params.total is not None), None)
    objective = problem.objective()
    variant = problem.without(objective.name).add(MinCost(objective.name))
    for b in budgets:  # keep the per-agency and per-township limits
        variant = variant.add(Budget(b.name, per_agency=dict(b.params.per_agency),
                                     per_township=dict(b.params.per_township)))
    try:
        built = compile_problem(variant)
    except InputError as err:  # presolve: a target beyond all that exists
        reason = "; ".join(i.message for i in err.issues)
        return BudgetNeed(name, total, None, f"no budget suffices: {reason}")
    results, _ = run_highs(built, io.StringIO())
    term = str(results.termination_condition).lower()
    if "convergencecriteriasatisfied" in term:
        results.solution_loader.load_vars()
        least = float(pyo.value(built.model.cost))
        if total is None:
            note = (f"the requirements can be met for {_money(least)}, so the budget is not "
                    "what prevents them")
        elif least <= total * (1 + 1e-9):
            note = (f"the least cost of meeting every requirement, {_money(least)}, is within "
                    f"the budget of {_money(total)}: other limits conflict")
        else:
            note = (f"a budget of at least {_money(least)} meets every requirement (the budget "
                    f"is {_money(total)}: {_money(least - total)} more)")
        return BudgetNeed(name, total, least, note)
    if "infeasible" in term:
        extra = any(b.params.per_agency or b.params.per_township for b in budgets)
        why = ("the per-agency or per-township budgets, or " if extra else "")
        names = _unaffordable(variant)
        what = (f"{', '.join(names)} cannot be met" if len(names) == 1 else
                f"{', '.join(names)} cannot all be met" if names else
                "the requirements cannot all be met")
        return BudgetNeed(name, total, None, f"no budget suffices: even with unlimited money "
                                             f"{what} under {why}the land, zone rules, locks "
                                             "and equity rules")
    return BudgetNeed(name, total, None, f"the least budget could not be found ({term})")


def _unaffordable(variant: Problem) -> list[str]:
    """The smallest set of requirements that conflict with no budget limit (names)."""
    from dss.optimize.solve import run_highs

    try:
        built = compile_problem(variant, elastic=True)
    except InputError:
        return []
    results, _ = run_highs(built, io.StringIO())
    if "convergencecriteriasatisfied" not in str(results.termination_condition).lower():
        return []
    results.solution_loader.load_vars()
    shortfalls = {(r.component, r.label): float(pyo.value(r.slack))
                  for r in requirements(built)}
    conflict, _ = conflict_set(built, shortfalls)
    return [label for _, label in conflict]
