"""prioritizr's minimum-penalties and maximum-cover objectives. Notation:
:mod:`dss.planning.parts`; budgets, tie-breaker and targets as in
:mod:`dss.planning.objectives`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import pyomo.environ as pyo

from dss.errors import Issue
from dss.planning.objectives import Objective, add_tie_breaker
from dss.planning.targets import add_hard_targets

if TYPE_CHECKING:  # pragma: no cover
    from dss.planning.compile import Model
    from dss.planning.problem import PlanningData, PlanningProblem


@dataclass(frozen=True)
class MinPenaltiesObjective(Objective):
    """Minimum penalties (prioritizr's ``add_min_penalties_objective``): the least total
    penalty that meets every target, within an optional budget.

    .. math:: \\min P(x) \\quad \\text{s.t.} \\quad h_t \\;\\{\\ge, \\le, =\\}\\; T_t
       \\;\\; \\forall t, \\quad \\sum_i \\sum_z c_{iz} x_{iz} \\le B

    Costs enter only through the budget. Used, for example, to find the most compact plan
    that meets the targets for at most a given cost.
    """

    budget: float | tuple[float, ...] | None = None
    name: ClassVar[str] = "min_penalties"
    needs_targets: ClassVar[bool] = False

    def check(self, problem: PlanningProblem) -> list[Issue]:
        if not problem.penalties:
            return [Issue("problem", "the min_penalties objective needs penalties (add "
                                     "add_boundary_penalties, add_connectivity_penalties, ...)",
                          None, "penalties")]
        return []

    def compile(self, model: Model, block: pyo.Block) -> None:
        add_hard_targets(model, block)
        self.add_budget(model, block)


def presence(data: PlanningData) -> np.ndarray:
    """:math:`r_{fiz} = 1` where feature :math:`f` has a positive amount in unit :math:`i`
    allocated to zone :math:`z`, shape (features, units, zones)."""
    return np.stack([data.feature_matrix(f) > 0 for f in range(data.n_features)]) \
        .astype(float).reshape(data.n_features, data.n_units, data.n_zones)


def covered(data: PlanningData, plan: np.ndarray) -> np.ndarray:
    """Whether each feature is represented in each zone by a plan, shape (features, zones):
    :math:`\\sum_i r_{fiz} x_{iz} \\ge 1`."""
    return np.einsum("fiz,iz->fz", presence(data), plan) >= 1.0 - 1e-9


@dataclass(frozen=True)
class MaxCoverObjective(Objective):
    """Maximum cover (prioritizr's ``add_max_cover_objective``): represent at least one
    instance of as many (weighted) features as possible in each zone, under a budget.

    .. math:: \\max \\sum_f \\sum_z w_f p_{fz} - P(x)
       \\quad \\text{s.t.} \\quad p_{fz} \\le \\sum_i r_{fiz} x_{iz}, \\;\\;
       p_{fz} \\in \\{0, 1\\}, \\;\\; \\sum_i \\sum_z c_{iz} x_{iz} \\le B

    :math:`r_{fiz} = 1` where the feature's amount is positive. Targets are not used. With
    ``tie_breaker`` (prioritizr's), the cheapest of equally good plans is chosen.
    """

    budget: float | tuple[float, ...]
    tie_breaker: bool = False
    name: ClassVar[str] = "max_cover"
    sense: ClassVar[str] = "max"
    needs_targets: ClassVar[bool] = False

    def compile(self, model: Model, block: pyo.Block) -> None:
        data = model.data
        r = presence(data)
        weights = model.problem.weights()
        pairs = [(f, z) for f in range(data.n_features) for z in range(data.n_zones)
                 if r[f, :, z].any()]
        block.present = pyo.Var(range(len(pairs)), domain=pyo.Binary)
        block.cover = pyo.ConstraintList()
        for k, (f, z) in enumerate(pairs):
            units = np.flatnonzero(r[f, :, z])
            block.cover.add(model.linear(
                np.r_[1.0, -np.ones(len(units))],
                [block.present[k], *(model.x(int(i), z) for i in units)]) <= 0)
        self.add_budget(model, block)
        model.add_term("features_covered", "score", model.linear(
            [weights[f] for f, _ in pairs], [block.present[k] for k in range(len(pairs))]), -1.0)
        if self.tie_breaker:
            add_tie_breaker(model)
