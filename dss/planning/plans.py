"""A plan as an array (units x zones), and the amount of each target's feature it holds.

Kept below :mod:`dss.planning.solve` and :mod:`dss.planning.evaluate`, which both use them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from dss.errors import InputError, Issue

if TYPE_CHECKING:  # pragma: no cover
    from dss.planning.problem import PlanningProblem


def as_plan(problem: PlanningProblem, solution: np.ndarray | pd.Series | list) -> np.ndarray:
    """A plan as an array (units, zones). Accepts that array, a 0/1 (or share) vector for a
    single-zone problem, or a Series of zone names indexed by unit id (empty = no zone).

    Raises:
        InputError: on a wrong shape or an unknown unit or zone.
    """
    data = problem.data
    if isinstance(solution, pd.Series) and solution.dtype == object:
        plan = np.zeros((data.n_units, data.n_zones))
        positions = data.unit_positions(solution.index, "solution")
        for i, zone in zip(positions, solution.to_numpy(), strict=True):
            if isinstance(zone, str) and zone:
                plan[i, data.zone_positions(zone, "solution")[0]] = 1.0
        return plan
    plan = np.asarray(solution, dtype=float)
    if plan.ndim == 1 and data.n_zones == 1:
        plan = plan[:, None]
    if plan.shape != (data.n_units, data.n_zones):
        raise InputError([Issue("problem", f"a plan needs shape ({data.n_units}, "
                                           f"{data.n_zones}); got {plan.shape}", None,
                                "solution")], "invalid plan")
    return plan


def held_amounts(problem: PlanningProblem, solution: np.ndarray) -> np.ndarray:
    """:math:`h_t` of every target at a plan."""
    data = problem.data
    plan = as_plan(problem, solution)
    out = np.zeros(len(problem.targets))
    for k, t in enumerate(problem.targets):
        zones = list(t.zones)
        out[k] = float((data.feature_matrix(t.feature)[:, zones] * plan[:, zones]).sum())
    return out
