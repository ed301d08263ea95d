"""Planning objectives (prioritizr's ``add_*_objective``); the last one added is used.

All but the minimum set work under a budget :math:`B`:
:math:`\\sum_i \\sum_z c_{iz} x_{iz} \\le B`. Penalties (:mod:`dss.planning.penalties`) are
added to a minimised objective and subtracted from a maximised one. Notation:
:mod:`dss.planning.parts`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import pyomo.environ as pyo

from dss.errors import Issue
from dss.planning.parts import Part

if TYPE_CHECKING:  # pragma: no cover
    from dss.planning.compile import Model
    from dss.planning.problem import PlanningProblem

LOGGER = logging.getLogger(__name__)


class Objective(Part):
    """Base of objectives: a sense, an optional budget and whether targets are needed."""

    kind: ClassVar[str] = "objective"
    order: ClassVar[int] = 60
    sense: ClassVar[str] = "min"
    needs_targets: ClassVar[bool] = True
    name: ClassVar[str] = "objective"
    budget: float | None = None

    def check(self, problem: PlanningProblem) -> list[Issue]:
        if self.needs_targets and not problem.targets:
            return [Issue("problem", f"the {self.name} objective needs targets (add "
                                     "add_absolute_targets or add_relative_targets)", None,
                          "targets")]
        return []

    def add_budget(self, model: Model, block: pyo.Block) -> None:
        """:math:`\\sum_i \\sum_z c_{iz} x_{iz} \\le B`."""
        if self.budget is not None:
            block.budget = pyo.Constraint(expr=model.cost() <= self.budget)

    @staticmethod
    def shortfalls(model: Model, block: pyo.Block) -> list[int]:
        """Relative shortfall variables :math:`\\sigma_t \\in [0, 1]` with
        :math:`h_t + T_t \\sigma_t \\ge T_t`, for targets with :math:`T_t > 0`; returns
        those targets' positions."""
        targets = model.problem.targets
        active = [k for k, t in enumerate(targets) if t.amount > 0]
        block.shortfall = pyo.Var(active, bounds=(0, 1))
        block.cover = pyo.ConstraintList()
        for k in active:
            t = targets[k]
            block.cover.add(model.held(t) + t.amount * block.shortfall[k] >= t.amount)
        return active


@dataclass(frozen=True)
class MinSetObjective(Objective):
    """Minimum set: the least cost that meets every target.

    .. math:: \\min \\sum_i \\sum_z c_{iz} x_{iz} + P(x)
       \\quad \\text{s.t.} \\quad h_t \\ge T_t \\;\\; \\forall t

    Targets are hard constraints (Marxan treats them as soft, with species penalty factors).
    """

    name: ClassVar[str] = "min_set"

    def compile(self, model: Model, block: pyo.Block) -> None:
        targets = model.problem.targets
        active = [k for k, t in enumerate(targets) if t.amount > 0]
        block.target = pyo.Constraint(active, rule=lambda _, k: model.held(targets[k])
                                      >= targets[k].amount)
        model.add_term("cost", "cost", model.cost(), 1.0)


@dataclass(frozen=True)
class MaxUtilityObjective(Objective):
    """Maximum utility: the largest weighted amount of the features held, under a budget.

    .. math:: \\max \\sum_f w_f \\sum_i \\sum_z k_{fz} a_{fi} x_{iz} - P(x)
       \\quad \\text{s.t.} \\quad \\sum_i \\sum_z c_{iz} x_{iz} \\le B

    Targets are not used.
    """

    budget: float
    name: ClassVar[str] = "max_utility"
    sense: ClassVar[str] = "max"
    needs_targets: ClassVar[bool] = False

    def compile(self, model: Model, block: pyo.Block) -> None:
        if model.problem.targets:
            LOGGER.info("max_utility ignores the %d targets", len(model.problem.targets))
        weights = model.problem.weights()
        data = model.data
        coefs = np.zeros((model.n, model.nz))
        for f in range(data.n_features):
            coefs += weights[f] * np.outer(data.amounts[f], data.contributions[f])
        self.add_budget(model, block)
        model.add_term("utility", "utility", model.linear(coefs.ravel(), model.decisions), -1.0)


@dataclass(frozen=True)
class MaxFeaturesObjective(Objective):
    """Maximum features: the largest weighted number of targets met, under a budget.

    .. math:: \\max \\sum_t w_t u_t - P(x)
       \\quad \\text{s.t.} \\quad h_t \\ge T_t u_t, \\;\\; u_t \\in \\{0, 1\\}, \\;\\;
       \\sum_i \\sum_z c_{iz} x_{iz} \\le B

    :math:`u_t` is binary even with proportion decisions (the problem is then a MIP).
    """

    budget: float
    name: ClassVar[str] = "max_features"
    sense: ClassVar[str] = "max"

    def compile(self, model: Model, block: pyo.Block) -> None:
        targets = model.problem.targets
        weights = model.problem.target_weights()
        block.met = pyo.Var(range(len(targets)), domain=pyo.Binary)
        block.target = pyo.Constraint(range(len(targets)), rule=lambda _, k: model.held(
            targets[k]) - targets[k].amount * block.met[k] >= 0)
        self.add_budget(model, block)
        met = [block.met[k] for k in range(len(targets))]
        model.add_term("targets_met", "score", model.linear(weights, met), -1.0)


@dataclass(frozen=True)
class MinShortfallObjective(Objective):
    """Minimum shortfall: the least weighted sum of relative target shortfalls, under a
    budget.

    .. math:: \\min \\sum_t w_t \\frac{\\max(0, T_t - h_t)}{T_t} + P(x)
       \\quad \\text{s.t.} \\quad \\sum_i \\sum_z c_{iz} x_{iz} \\le B

    linearised with :math:`\\sigma_t \\in [0, 1]`, :math:`h_t + T_t \\sigma_t \\ge T_t`;
    targets with :math:`T_t = 0` are always met.
    """

    budget: float | None
    name: ClassVar[str] = "min_shortfall"

    def compile(self, model: Model, block: pyo.Block) -> None:
        active = self.shortfalls(model, block)
        weights = model.problem.target_weights()
        self.add_budget(model, block)
        model.add_term("shortfall", "score", model.linear(
            weights[active], [block.shortfall[k] for k in active]), 1.0)


@dataclass(frozen=True)
class MinLargestShortfallObjective(Objective):
    """Minimum largest shortfall: the least largest relative target shortfall, under a
    budget (feature weights are not used).

    .. math:: \\min \\max_t \\frac{\\max(0, T_t - h_t)}{T_t} + P(x)
       \\quad \\text{s.t.} \\quad \\sum_i \\sum_z c_{iz} x_{iz} \\le B

    linearised with :math:`m \\ge \\sigma_t` and the :math:`\\sigma_t` of the minimum
    shortfall objective.
    """

    budget: float
    name: ClassVar[str] = "min_largest_shortfall"

    def compile(self, model: Model, block: pyo.Block) -> None:
        active = self.shortfalls(model, block)
        block.largest = pyo.Var(bounds=(0, 1))
        block.bound = pyo.Constraint(active, rule=lambda _, k: block.largest
                                     >= block.shortfall[k])
        self.add_budget(model, block)
        model.add_term("largest_shortfall", "score", model.linear([1.0], [block.largest]), 1.0)
