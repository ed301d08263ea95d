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
from dss.planning.targets import add_hard_targets, add_met_rows, add_shortfall_vars

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
    budget: float | tuple[float, ...] | None = None

    def check(self, problem: PlanningProblem) -> list[Issue]:
        if self.needs_targets and not problem.targets:
            return [Issue("problem", f"the {self.name} objective needs targets (add "
                                     "add_absolute_targets or add_relative_targets)", None,
                          "targets")]
        return []

    def add_budget(self, model: Model, block: pyo.Block) -> None:
        """:math:`\\sum_i \\sum_z c_{iz} x_{iz} \\le B`, or one budget per zone (prioritizr's
        per-zone budgets): :math:`\\sum_i c_{iz} x_{iz} \\le B_z` (an infinite
        :math:`B_z` is no limit)."""
        if self.budget is None:
            return
        if isinstance(self.budget, tuple):
            block.budget = pyo.ConstraintList()
            cost = model.data.cost
            for z, limit in enumerate(self.budget):
                if np.isfinite(limit):
                    block.budget.add(model.unit_sum(cost, (z,)) <= limit)
        else:
            block.budget = pyo.Constraint(expr=model.cost() <= self.budget)

    @staticmethod
    def shortfalls(model: Model, block: pyo.Block) -> list[int]:
        """Relative shortfall variables (:func:`dss.planning.targets.add_shortfall_vars`);
        returns the positions of the targets with :math:`T_t > 0`."""
        return add_shortfall_vars(model, block)


@dataclass(frozen=True)
class MinSetObjective(Objective):
    """Minimum set: the least cost that meets every target.

    .. math:: \\min \\sum_i \\sum_z c_{iz} x_{iz} + P(x)
       \\quad \\text{s.t.} \\quad h_t \\ge T_t \\;\\; \\forall t

    Targets are hard constraints (Marxan treats them as soft, with species penalty factors);
    an upper-bound target is :math:`h_t \\le T_t` (:mod:`dss.planning.targets`).
    """

    name: ClassVar[str] = "min_set"

    def compile(self, model: Model, block: pyo.Block) -> None:
        add_hard_targets(model, block)
        model.add_term("cost", "cost", model.cost(), 1.0)


@dataclass(frozen=True)
class MaxUtilityObjective(Objective):
    """Maximum utility: the largest weighted amount of the features held, under a budget.

    .. math:: \\max \\sum_f w_f \\sum_i \\sum_z k_{fz} a_{fi} x_{iz} - P(x)
       \\quad \\text{s.t.} \\quad \\sum_i \\sum_z c_{iz} x_{iz} \\le B

    Targets are not used.
    """

    budget: float | tuple[float, ...]
    tie_breaker: bool = False
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
            coefs += weights[f] * data.feature_matrix(f)
        self.add_budget(model, block)
        model.add_term("utility", "utility", model.linear(coefs.ravel(), model.decisions), -1.0)
        if self.tie_breaker:
            add_tie_breaker(model)


@dataclass(frozen=True)
class MaxFeaturesObjective(Objective):
    """Maximum features: the largest weighted number of targets met, under a budget.

    .. math:: \\max \\sum_t w_t u_t - P(x)
       \\quad \\text{s.t.} \\quad h_t \\ge T_t u_t + L_t (1 - u_t), \\;\\;
       u_t \\in \\{0, 1\\}, \\;\\; \\sum_i \\sum_z c_{iz} x_{iz} \\le B

    :math:`u_t` is binary even with proportion decisions (the problem is then a MIP);
    :math:`L_t` is the least the feature can hold (0 without negative amounts); an
    upper-bound target is met when :math:`h_t \\le T_t`, by
    :math:`h_t \\le T_t u_t + U_t (1 - u_t)` (:func:`dss.planning.targets.add_met_rows`).
    """

    budget: float | tuple[float, ...]
    tie_breaker: bool = False
    name: ClassVar[str] = "max_features"
    sense: ClassVar[str] = "max"

    def compile(self, model: Model, block: pyo.Block) -> None:
        targets = model.problem.targets
        weights = model.problem.target_weights()
        block.met = pyo.Var(range(len(targets)), domain=pyo.Binary)
        add_met_rows(model, block, block.met)
        self.add_budget(model, block)
        met = [block.met[k] for k in range(len(targets))]
        model.add_term("targets_met", "score", model.linear(weights, met), -1.0)
        if self.tie_breaker:
            add_tie_breaker(model)


@dataclass(frozen=True)
class MinShortfallObjective(Objective):
    """Minimum shortfall: the least weighted sum of relative target shortfalls, under a
    budget.

    .. math:: \\min \\sum_t w_t \\frac{\\max(0, T_t - h_t)}{T_t} + P(x)
       \\quad \\text{s.t.} \\quad \\sum_i \\sum_z c_{iz} x_{iz} \\le B

    linearised with :math:`\\sigma_t \\ge 0`, :math:`h_t + T_t \\sigma_t \\ge T_t`;
    targets with :math:`T_t = 0` are always met; an upper-bound target's shortfall is its
    relative excess (:mod:`dss.planning.targets`).
    """

    budget: float | tuple[float, ...] | None
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

    budget: float | tuple[float, ...]
    name: ClassVar[str] = "min_largest_shortfall"

    def compile(self, model: Model, block: pyo.Block) -> None:
        active = self.shortfalls(model, block)
        block.largest = pyo.Var(bounds=(0, None))
        block.bound = pyo.Constraint(active, rule=lambda _, k: block.largest
                                     >= block.shortfall[k])
        self.add_budget(model, block)
        model.add_term("largest_shortfall", "score", model.linear([1.0], [block.largest]), 1.0)


def add_tie_breaker(model: Model, scale: float = 0.01) -> None:
    """prioritizr's tie-breaker for maximisation objectives: a small cost term,
    :math:`- \\epsilon \\sum_i \\sum_z c_{iz} x_{iz}` with
    :math:`\\epsilon = 0.01 / \\sum_i \\sum_z c_{iz}` (costs of NA cells left out), so that
    of plans worth the same the cheapest is chosen. The term is at most 0.01, registered with
    role ``tie_breaker`` and left out of the reported objective, terms and bound."""
    data = model.data
    cost = data.cost if data.unavailable is None else np.where(data.unavailable, 0.0,
                                                                data.cost)
    total = float(cost.sum())
    if total <= 0:
        return
    model.add_term("tie_breaker", "tie_breaker", model.cost(), scale / total)
