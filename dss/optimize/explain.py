"""Explain an infeasible allocation problem: each requirement's least shortfall, the smallest
conflicting set of requirements, and the least budget that would make it feasible.

The mechanism is the one both problem families share (:mod:`dss.optimize.elastic`); this
module gives it the allocation model's requirements and writes the allocation report
(``shortfalls.csv``, :data:`SHORTFALL_COLUMNS`):

- the elastic model is the problem compiled with ``elastic=True``: every elastic-capable
  component (load limits, habitat targets, carbon floors) gets a slack per requirement;
  its least shortfalls and a deletion filter over them
  (:meth:`~dss.optimize.elastic.ElasticModel.conflict_set`) name the conflicting set;
- :func:`least_budget` re-solves with the total budget removed, every requirement hard and
  the cost minimised. That cost is the least total budget that meets every requirement. If
  that model is infeasible too, no budget suffices: the requirements exceed what all the
  actions can achieve under the other rules, and a deletion filter on that model names the
  requirements that money cannot meet.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from dss.errors import InputError
from dss.optimize.build import Built, compile_problem
from dss.optimize.components.constraints import Budget
from dss.optimize.components.objectives import MinCost
from dss.optimize.elastic import MAX_FILTER_SECONDS, ElasticModel, Requirement
from dss.optimize.highs import highs_options
from dss.optimize.persistent import PersistentModel
from dss.optimize.problem import Problem

__all__ = ["MAX_FILTER_SECONDS", "SHORTFALL_COLUMNS", "BudgetNeed", "elastic_model",
           "explain_infeasibility", "least_budget", "requirements"]

LOGGER = logging.getLogger(__name__)

SHORTFALL_COLUMNS = ["kind", "component", "requirement", "target", "unit", "shortfall",
                     "in_conflict", "note"]
"""Columns of ``shortfalls.csv``: one ``requirement`` row per elastic requirement, then one
``budget`` row (target = the budget, shortfall = how much more is needed)."""


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


def elastic_model(built: Built) -> ElasticModel:
    """A model compiled with ``elastic=True``, held in HiGHS with its requirements."""
    return ElasticModel(built.model, requirements(built),
                        highs_options(built.problem.config.solver), built.ctx)


def explain_infeasibility(problem: Problem) -> pd.DataFrame:
    """Explain an infeasible problem.

    1. Re-solve with every requirement made elastic: the least shortfall of each.
    2. A deletion filter over the requirements: the smallest conflicting set found
       (``in_conflict``; none when the hard constraints conflict on their own).
    3. Re-solve minimising cost with the total budget removed and every requirement hard:
       the least budget that makes the problem feasible, or that none suffices.

    Returns:
        One row per requirement (kind ``requirement``: component, requirement, target,
        unit, shortfall = the least amount by which it must be relaxed given the other hard
        constraints such as the budget, in_conflict) and one ``budget`` row (target = the
        total budget, shortfall = the least increase that makes every requirement
        feasible, empty if no budget suffices; note = the explanation in words).
    """
    elastic = compile_problem(problem, elastic=True)
    model = elastic_model(elastic)
    parts = []
    if model.least_shortfalls() is not None:  # the plan is written to the Pyomo variables
        for comp in problem.components:
            table = comp.report(elastic.blocks[comp.name], elastic.ctx, None).get(
                "requirements")
            if table is not None and len(table):
                parts.append(table)
    table = (pd.concat(parts, ignore_index=True) if parts else
             pd.DataFrame(columns=["component", "requirement", "target", "unit", "shortfall"]))
    table["shortfall"] = table["shortfall"].astype(float)
    table["shortfall"] = table["shortfall"].where(table["shortfall"] > 1e-7, 0.0)
    table.insert(0, "kind", "requirement")
    short = {(c, r): float(v) for c, r, v in zip(table["component"], table["requirement"],
                                                 table["shortfall"], strict=True)}
    conflict, finished = model.conflict_set(short)
    table["in_conflict"] = [(c, r) in set(conflict) for c, r in
                            zip(table["component"], table["requirement"], strict=True)]
    table["note"] = ""
    if conflict and not finished:
        table.loc[table["in_conflict"], "note"] = "conflicting (the search stopped early: " \
                                                  "perhaps not the smallest set)"
    need = least_budget(problem)
    extra = 0.0 if need.least is None or need.budget is None else max(
        0.0, need.least - need.budget)
    row = {"kind": "budget", "component": need.component or "budget",
           "requirement": "least total budget meeting every requirement",
           "target": need.budget if need.budget is not None else np.nan, "unit": "CNY",
           "shortfall": extra if need.least is not None else np.nan,
           "in_conflict": bool(need.least is not None and extra > 0), "note": need.note}
    table = pd.concat([table, pd.DataFrame([row])], ignore_index=True) if len(table) else \
        pd.DataFrame([row])
    return table[SHORTFALL_COLUMNS]


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
    model = PersistentModel(built)
    solution = model.solve()
    if solution.status == "optimal":
        model.write_values(solution.x)
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
    if solution.status == "infeasible":
        extra = any(b.params.per_agency or b.params.per_township for b in budgets)
        why = ("the per-agency or per-township budgets, or " if extra else "")
        names = _unaffordable(variant)
        what = (f"{', '.join(names)} cannot be met" if len(names) == 1 else
                f"{', '.join(names)} cannot all be met" if names else
                "the requirements cannot all be met")
        return BudgetNeed(name, total, None, f"no budget suffices: even with unlimited money "
                                             f"{what} under {why}the land, zone rules, locks "
                                             "and equity rules")
    return BudgetNeed(name, total, None, "the least budget could not be found "
                                         f"({solution.termination})")


def _unaffordable(variant: Problem) -> list[str]:
    """The smallest set of requirements that conflict with no budget limit (names)."""
    try:
        built = compile_problem(variant, elastic=True)
    except InputError:
        return []
    model = elastic_model(built)
    shortfalls = model.least_shortfalls()
    if shortfalls is None:
        return []
    conflict, _ = model.conflict_set(shortfalls)
    return [label for _, label in conflict]
