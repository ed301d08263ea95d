"""More of prioritizr's grammar on :class:`~dss.planning.problem.PlanningProblem`: the
minimum-penalties and maximum-cover objectives, per-zone budgets, manual locks and bounds,
and feature contiguity constraints. Each method returns a new problem, named as in
prioritizr's documentation.

This module must not import :mod:`dss.planning.problem` at import time (that module
imports this one).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dss.errors import InputError, Issue
from dss.planning.adjacency import FeatureContiguityConstraint, feature_positions
from dss.planning.bounds import ManualBoundedConstraint, ManualLockedConstraint, decision_table
from dss.planning.extra_objectives import MaxCoverObjective, MinPenaltiesObjective

if TYPE_CHECKING:  # pragma: no cover
    from dss.planning.problem import PlanningData, PlanningProblem

Budget = float | Sequence[float] | Mapping[str, float]
"""A budget: one number, one per zone (in zone order), or zone -> number."""


def _fail(message: str, column: str) -> InputError:
    return InputError([Issue("problem", message, None, column)], "invalid planning problem")


def _one_budget(value: Any) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise _fail(f"budget must be a number (got {value!r})", "budget") from None
    if not np.isfinite(out) or out < 0:
        raise _fail(f"budget must be a finite number >= 0 (got {value!r})", "budget")
    return out


class PrioritizrMethods:
    """Mixin of :class:`~dss.planning.problem.PlanningProblem` (its ``data``, ``penalties``
    and ``constraints`` fields)."""

    data: PlanningData

    def _budget(self, budget: Budget) -> float | tuple[float, ...]:
        """One budget, or one per zone (prioritizr's per-zone budgets: a sequence in zone
        order, or a mapping zone -> budget where zones not named are unlimited)."""
        if isinstance(budget, Mapping):
            out = [math.inf] * self.data.n_zones
            for zone, value in budget.items():
                out[self.data.zone_positions(str(zone), "budget")[0]] = _one_budget(value)
            return tuple(out)
        if isinstance(budget, (Sequence, np.ndarray)) and not isinstance(budget, str):
            values = [_one_budget(v) for v in budget]
            if len(values) != self.data.n_zones:
                raise _fail(f"needs one budget per zone ({self.data.n_zones}: "
                            f"{', '.join(self.data.zones)}); got {len(values)}", "budget")
            return tuple(values)
        return _one_budget(budget)

    # -- objectives ------------------------------------------------------------------------

    def add_min_penalties_objective(self, budget: Budget | None = None) -> PlanningProblem:
        """Minimise the penalties alone, meeting every target, within an optional budget
        (one number, or one per zone)."""

        return replace(self, objective=MinPenaltiesObjective(  # type: ignore[type-var]
            None if budget is None else self._budget(budget)))

    def add_max_cover_objective(self, budget: Budget, tie_breaker: bool = False
                                ) -> PlanningProblem:
        """Represent at least one instance of as many (weighted) features as possible in
        each zone, under a budget (one number, or one per zone)."""

        return replace(self, objective=MaxCoverObjective(  # type: ignore[type-var]
            self._budget(budget), bool(tie_breaker)))

    # -- constraints -----------------------------------------------------------------------

    def add_manual_locked_constraints(self, data: pd.DataFrame, file: str = "data"
                                      ) -> PlanningProblem:
        """Fix single decisions: a table ``pu`` (or ``unit``), ``zone``, ``status``
        (0 to 1; fractions need proportion decisions)."""

        units, zones, (status,) = decision_table(self.data, data, ("status",), file)
        return self._add_constraint(ManualLockedConstraint(units, zones, status))

    def add_manual_bounded_constraints(self, data: pd.DataFrame, file: str = "data"
                                       ) -> PlanningProblem:
        """Bound single decisions: a table ``pu`` (or ``unit``), ``zone``, ``lower``,
        ``upper`` (0 to 1)."""

        units, zones, (lower, upper) = decision_table(self.data, data, ("lower", "upper"),
                                                      file)
        return self._add_constraint(ManualBoundedConstraint(units, zones, lower, upper))

    def add_feature_contiguity_constraints(self, zones: str | Sequence[str] | None = None,
                                           features: Sequence[str] | None = None
                                           ) -> PlanningProblem:
        """Hold each feature (default: every feature with a target) in one connected piece
        of the zone group (binary decisions)."""

        return self._add_constraint(FeatureContiguityConstraint(
            self.data.zone_positions(zones), feature_positions(self, features)))  # type: ignore

    def _add_constraint(self, part: Any) -> PlanningProblem:  # pragma: no cover - overridden
        raise NotImplementedError
