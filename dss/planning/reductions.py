"""Exact reductions before a solve: planning units that no optimal plan needs.

For a minimum-set problem (one zone, binary decisions) whose only other parts are locks and
boundary penalties with :math:`p > 0` (:func:`marxan_like`), a unit :math:`i` that holds
none of any feature and whose cost is at least the boundary it could remove,

.. math:: c_i + \\sum_p p \\Big( e_p b_{ii} - \\sum_{j \\ne i} b_{ij} \\Big) \\ge 0,

is fixed out (:math:`x_i = 0`): adding it to any plan changes no target and changes the
objective by :math:`c_i + \\sum_p p (e_p b_{ii} + \\sum_j b_{ij} (1 - 2 x_j))`, which is at
least the left-hand side, so dropping it from a plan never makes the plan worse or
infeasible. The optimal objective is unchanged (among plans of equal objective, one without
such units is returned). HiGHS's presolve does not find these units because each one sits in
the boundary rows of its neighbours. Typical Marxan data have many of them: units that
record no feature (on the 1,751-unit benchmark, 251 of 1,751 units).

Not applied to portfolios (their k-th plan may hold such a unit) or irreplaceability.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

from dss.planning.constraints import LockedInConstraint, LockedOutConstraint
from dss.planning.objectives import MinSetObjective
from dss.planning.penalties import BoundaryPenalty

if TYPE_CHECKING:  # pragma: no cover
    from dss.planning.compile import Model
    from dss.planning.problem import PlanningProblem

LOGGER = logging.getLogger(__name__)


def marxan_like(problem: PlanningProblem) -> bool:
    """Whether a problem is a minimum set over one zone with binary decisions whose only
    other parts are locks and boundary penalties with :math:`p > 0` and lengths
    :math:`b \\ge 0` (a Marxan problem)."""
    data = problem.data
    if (type(problem.objective) is not MinSetObjective or not problem.binary
            or data.n_zones != 1 or data.boundary is None or not problem.penalties):
        return False
    if not all(isinstance(c, LockedInConstraint | LockedOutConstraint)
               for c in problem.constraints):
        return False
    if not all(isinstance(p, BoundaryPenalty) and p.penalty > 0 for p in problem.penalties):
        return False
    return not ((data.boundary.length < 0).any() or (data.boundary.external < 0).any())


def never_selected(problem: PlanningProblem) -> np.ndarray:
    """Units that can be fixed out without changing the optimal objective (see the module);
    a boolean mask over units, all false unless the problem is :func:`marxan_like`."""
    data = problem.data
    none = np.zeros(data.n_units, dtype=bool)
    if not marxan_like(problem):
        return none
    bnd = data.boundary
    shared = np.zeros(data.n_units)
    np.add.at(shared, bnd.i, bnd.length)
    np.add.at(shared, bnd.j, bnd.length)
    margin = data.cost[:, 0].astype(float)
    for p in problem.penalties:
        margin = margin + p.penalty * (p.edge_factor * bnd.external - shared)
    holds = np.zeros(data.n_units, dtype=bool)
    for f in range(data.n_features):
        holds |= data.feature_matrix(f)[:, 0] != 0
    locked_in = np.zeros(data.n_units, dtype=bool)
    for c in problem.constraints:
        if isinstance(c, LockedInConstraint):
            locked_in[list(c.units)] = True
    return ~holds & ~locked_in & (margin >= 0)


def fix_never_selected(model: Model) -> int:
    """Fix :func:`never_selected` units out of a compiled model; returns how many were fixed
    (units already fixed are not counted)."""
    count = 0
    for i in np.flatnonzero(never_selected(model.problem)):
        var = model.x(int(i), 0)
        if not var.fixed:
            var.fix(0)
            count += 1
    if count:
        LOGGER.info("fixed out %d units that hold no feature and cost at least the boundary "
                    "they could remove", count)
    return count
