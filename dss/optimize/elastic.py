"""Why a model has no plan: the one infeasibility-explanation mechanism of dss.

Both problem families explain an infeasible model the same way, each with its own report
(:func:`dss.optimize.solve.explain_infeasibility` for allocation models,
:func:`dss.planning.solve.explain_infeasibility` for park designs). The family compiles an
*elastic* version of its model: every requirement :math:`r` (a load limit, a habitat target,
a park-design feature target) gets a slack :math:`s_r \\ge 0` by which it may be missed, and
the objective minimises the (weighted, relative) slacks under every other, hard, constraint.
:class:`ElasticModel` then

1. solves it through the one core (:class:`~dss.optimize.persistent.HighsModel`): the least
   shortfall of each requirement, :meth:`ElasticModel.least_shortfalls`;
2. runs a *deletion filter* (:meth:`ElasticModel.conflict_set`) on the same HiGHS instance,
   changing only column bounds and the objective: starting from every requirement hard
   (:math:`s_r = 0`), it drops them one at a time, and keeps a requirement only if the rest
   becomes feasible without it. What is left is an irreducible conflict: together with the
   hard constraints these requirements cannot all hold, but any one of them can be dropped
   to fix that. Requirements already short in the elastic solution are tried last, so they
   are the ones named when there is a choice.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyomo.environ as pyo

from dss.optimize.core import HighsModel
from dss.optimize.forms import LinearForm
from dss.optimize.highs import Solution

if TYPE_CHECKING:  # pragma: no cover
    from dss.optimize.context import BuildContext

LOGGER = logging.getLogger(__name__)

MAX_FILTER_SECONDS = 60.0
"""Time the deletion filter may take; after it, the set found so far is reported (still
conflicting, perhaps not irreducible)."""

Key = tuple[str, str]
"""(owner, requirement label): the component or part and the requirement's name."""


@dataclass
class Requirement:
    """One elastic requirement: who owns it, its name, and its slack variable."""

    owner: str
    label: str
    slack: Any

    @property
    def key(self) -> Key:
        """(owner, label)."""
        return self.owner, self.label


class ElasticModel:
    """An elastic model held in HiGHS, for its least shortfalls and a conflict set.

    Args:
        model: The elastic Pyomo model (its objective minimises the slacks).
        requirements: Its requirements, each with its slack variable.
        options: HiGHS options by name.
        ctx: The allocation model's build context, if any (see
            :class:`~dss.optimize.persistent.HighsModel`).
    """

    def __init__(self, model: pyo.ConcreteModel, requirements: list[Requirement],
                 options: dict[str, Any], ctx: BuildContext | None = None) -> None:
        self.requirements = requirements
        self.core = HighsModel(model, options, ctx)
        self.cols = np.array([self.core.column(r.slack) for r in requirements],
                             dtype=np.int32)
        self.solution: Solution | None = None
        self._time_limit = float(options.get("time_limit", np.inf))

    def least_shortfalls(self, any_plan: bool = False) -> dict[Key, float] | None:
        """Solve the elastic model; the least slack of each requirement (values also
        written to the Pyomo variables), or None if it has no optimal plan (with
        ``any_plan``: no plan at all; a plan stopped by the time limit then gives
        shortfalls that may not be the least)."""
        solution = self.core.solve()
        self.solution = solution
        if solution.x is None or (solution.status != "optimal" and not any_plan):
            LOGGER.info("elastic model: %s (%s)", solution.status, solution.termination)
            return None
        self.core.write_values(solution.x)
        return {r.key: float(solution.x[c]) for r, c in zip(self.requirements, self.cols,
                                                              strict=True)}

    def _feasible(self, hard: set[int], deadline: float) -> bool | None:
        """Whether the model is feasible with the requirements in ``hard`` enforced
        (slack 0) and the others dropped (slack free); None if HiGHS could not tell in
        time."""
        n = len(self.requirements)
        upper = np.array([0.0 if i in hard else np.inf for i in range(n)])
        self.core.set_col_bounds(self.cols, np.zeros(n), upper)
        left = deadline - time.perf_counter()
        self.core.set_options(time_limit=max(1.0, min(self._time_limit, left)))
        solution = self.core.solve()
        if solution.has_plan:  # the objective is zero: any plan proves feasibility
            return True
        if solution.status == "infeasible":
            return False
        return None

    def conflict_set(self, shortfalls: dict[Key, float] | None = None,
                     seconds: float = MAX_FILTER_SECONDS) -> tuple[list[Key], bool]:
        """The smallest set of conflicting requirements found by a deletion filter.

        Args:
            shortfalls: Least shortfall of each requirement in the elastic solution (its
                short requirements are tried last); None: no preference.
            seconds: Time the filter may take.

        Returns:
            The (owner, label) pairs of the set (empty when the hard constraints conflict
            on their own), and whether the filter finished (the set is irreducible).
        """
        reqs = self.requirements
        if not reqs:
            return [], True
        shortfalls = shortfalls or {}
        deadline = time.perf_counter() + seconds
        self.core.set_objective(LinearForm(np.zeros(0, np.int32), np.zeros(0)), False)
        if self._feasible(set(), deadline) is False:
            return [], True  # the hard constraints conflict without any requirement
        short = {i for i, r in enumerate(reqs) if shortfalls.get(r.key, 0) > 0}
        hard = set(range(len(reqs)))
        if short and short != hard and self._feasible(short, deadline) is False:
            hard = short  # the short requirements conflict by themselves: filter only them
        # zero-shortfall requirements first, so the short ones are kept when there is a choice
        order = sorted(hard, key=lambda i: (i in short, i))
        finished = True
        for i in order:
            if time.perf_counter() > deadline:
                finished = False
                break
            if self._feasible(hard - {i}, deadline) is False:
                hard.discard(i)
        return [reqs[i].key for i in sorted(hard)], finished
