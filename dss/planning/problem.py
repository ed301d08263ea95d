"""Planning data and the immutable, composable planning problem.

:class:`PlanningData` holds the planning units (an id, a cost per zone, any numeric attributes
such as population or farmland), the zones, the features with their amount in each unit and
each zone's contribution to each feature, and the shared boundaries between units (Marxan's
``bound.dat`` convention: a row with ``id1 == id2`` is a unit's external boundary).

:class:`PlanningProblem` follows prioritizr: every ``add_*`` method returns a new problem, so a
base problem can be varied freely. The last objective added is used; targets, constraints and
penalties accumulate::

    base = PlanningProblem(data).add_relative_targets(0.3)
    cheap = base.add_min_set_objective()
    compact = cheap.add_boundary_penalties(penalty=2.0)
    budgeted = base.add_min_shortfall_objective(budget=100.0)

Problems found when adding a part (unknown unit, zone or feature; a negative budget) raise an
:class:`~dss.errors.InputError` located at the argument (``problem, column budget: ...``);
problems of the whole (locked in and out at once, no targets for a target objective) are
reported together when the problem is compiled.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dss.errors import Issue
from dss.planning.api import Budget, PrioritizrMethods
from dss.planning.boundary import Boundary
from dss.planning.constraints import (
    ContiguityConstraint,
    LinearConstraint,
    LockedInConstraint,
    LockedOutConstraint,
    MandatoryAllocationConstraint,
    NeighborConstraint,
)
from dss.planning.data import PlanningData
from dss.planning.data_tables import SELECTED, SOURCE, fail
from dss.planning.objectives import (
    MaxFeaturesObjective,
    MaxUtilityObjective,
    MinLargestShortfallObjective,
    MinSetObjective,
    MinShortfallObjective,
    Objective,
)
from dss.planning.parts import Part
from dss.planning.penalty_api import PenaltyMethods
from dss.planning.solve import solve

if TYPE_CHECKING:  # pragma: no cover
    from dss.planning.solve import PlanningResult, SolverOptions

__all__ = ["SELECTED", "SOURCE", "Boundary", "PlanningData", "PlanningProblem", "Target"]

LOGGER = logging.getLogger(__name__)

_fail = fail


# ----------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class Target:
    """One representation target: hold at least ``amount`` of a feature in a zone group.

    Attributes:
        feature: Feature position.
        zones: Zone positions whose holdings count (:math:`Z_t`).
        amount: Absolute target :math:`T_t` (feature units).
        relative: The relative target it came from (share of the feature's total), or None.
        weight: Weight in the max-features and min-shortfall objectives (None: the feature's
            weight).
    """

    feature: int
    zones: tuple[int, ...]
    amount: float
    relative: float | None = None
    weight: float | None = None
    sense: str = ">="
    """``>=`` (hold at least), ``<=`` (hold at most, an upper-bound target) or ``=``."""


# ----------------------------------------------------------------------------- problem


@dataclass(frozen=True, eq=False)
class PlanningProblem(PenaltyMethods, PrioritizrMethods):
    """A planning problem: data plus an objective, targets, decisions, constraints and
    penalties. Immutable: every ``add_*`` returns a new problem (more ``add_*`` methods in
    :class:`~dss.planning.api.PrioritizrMethods` and, for penalties,
    :class:`~dss.planning.penalty_api.PenaltyMethods`)."""

    data: PlanningData
    objective: Objective | None = None
    decisions: str = "binary"
    targets: tuple[Target, ...] = ()
    feature_weights: tuple[float, ...] | None = None
    constraints: tuple[Part, ...] = ()
    penalties: tuple[Part, ...] = ()

    # -- construction ----------------------------------------------------------------------

    @classmethod
    def from_tables(cls, units: pd.DataFrame, features: pd.DataFrame | Sequence[str],
                    amounts: pd.DataFrame, **kwargs: Any) -> PlanningProblem:
        """A problem over :meth:`PlanningData.from_tables` (same arguments)."""
        return cls(PlanningData.from_tables(units, features, amounts, **kwargs))

    @property
    def binary(self) -> bool:
        """Whether decisions are binary."""
        return self.decisions == "binary"

    def parts(self) -> list[Part]:
        """Every part in compile order (locks first, penalties last)."""
        parts: list[Part] = [*self.constraints]
        if self.objective is not None:
            parts.append(self.objective)
        parts.extend(self.penalties)
        return sorted(parts, key=lambda p: p.order)

    def weights(self) -> np.ndarray:
        """Feature weights (1 when not set)."""
        if self.feature_weights is None:
            return np.ones(self.data.n_features)
        return np.asarray(self.feature_weights, dtype=float)

    def target_weights(self) -> np.ndarray:
        """Weight of each target: its own, else its feature's."""
        w = self.weights()
        return np.array([t.weight if t.weight is not None else w[t.feature]
                         for t in self.targets], dtype=float)

    def target_labels(self) -> list[str]:
        """``feature`` or ``feature@zone+zone`` for each target."""
        out = []
        all_zones = tuple(range(self.data.n_zones))
        for t in self.targets:
            name = self.data.feature_ids[t.feature]
            if t.zones != all_zones:
                name += "@" + "+".join(self.data.zones[z] for z in t.zones)
            out.append(name)
        return out

    # -- objectives ------------------------------------------------------------------------

    def add_min_set_objective(self) -> PlanningProblem:
        """Minimise cost (plus penalties) so that every target is met."""
        return replace(self, objective=MinSetObjective())

    def add_max_utility_objective(self, budget: Budget, tie_breaker: bool = False
                                  ) -> PlanningProblem:
        """Maximise the weighted amount of every feature held, under a budget (one number,
        or one per zone). ``tie_breaker``: prioritizr's small cost term, so that ties go to
        the cheapest plan (:func:`dss.planning.extra_objectives.add_tie_breaker`)."""
        return replace(self, objective=MaxUtilityObjective(self._budget(budget), tie_breaker))

    def add_max_features_objective(self, budget: Budget, tie_breaker: bool = False
                                   ) -> PlanningProblem:
        """Maximise the (weighted) number of targets met, under a budget (one number, or
        one per zone); ``tie_breaker`` as in :meth:`add_max_utility_objective`."""
        return replace(self, objective=MaxFeaturesObjective(self._budget(budget), tie_breaker))

    def add_min_shortfall_objective(self, budget: Budget) -> PlanningProblem:
        """Minimise the weighted sum of relative target shortfalls, under a budget."""
        return replace(self, objective=MinShortfallObjective(self._budget(budget)))

    def add_min_largest_shortfall_objective(self, budget: Budget) -> PlanningProblem:
        """Minimise the largest relative target shortfall, under a budget."""
        return replace(self, objective=MinLargestShortfallObjective(self._budget(budget)))

    # -- targets and weights ---------------------------------------------------------------

    def _per_feature(self, values: float | Sequence[float] | Mapping[str, float],
                     column: str) -> dict[int, float]:
        if isinstance(values, Mapping):
            return {self.data.feature_position(f, column): float(v) for f, v in values.items()}
        if np.isscalar(values):
            return dict.fromkeys(range(self.data.n_features), float(values))  # type: ignore[arg-type]
        seq = [float(v) for v in values]  # type: ignore[union-attr]
        if len(seq) != self.data.n_features:
            raise _fail(f"needs one value per feature ({self.data.n_features}); got "
                        f"{len(seq)}", column)
        return dict(enumerate(seq))

    def add_absolute_targets(self, targets: float | Sequence[float] | Mapping[str, float],
                             zones: str | Sequence[str] | None = None) -> PlanningProblem:
        """Add targets in feature units (one for all, one per feature, or by feature id),
        held in ``zones`` (default: any zone)."""
        group = self.data.zone_positions(zones)
        new = []
        for f, amount in self._per_feature(targets, "targets").items():
            if not np.isfinite(amount) or amount < 0:
                raise _fail(f"target {amount:g} for {self.data.feature_ids[f]!r} must be a "
                            "number >= 0", "targets")
            new.append(Target(f, group, amount))
        return replace(self, targets=(*self.targets, *new))

    def add_relative_targets(self, targets: float | Sequence[float] | Mapping[str, float],
                             zones: str | Sequence[str] | None = None) -> PlanningProblem:
        """Add targets as shares of each feature's total amount :math:`\\sum_i a_{fi}`."""
        group = self.data.zone_positions(zones)
        new = []
        for f, share in self._per_feature(targets, "targets").items():
            if not 0.0 <= share <= 1.0:
                raise _fail(f"relative target {share:g} for {self.data.feature_ids[f]!r} "
                            "must be between 0 and 1", "targets")
            new.append(Target(f, group, share * self.data.group_total(f, group),
                              relative=share))
        return replace(self, targets=(*self.targets, *new))

    def add_manual_targets(self, rows: Iterable[Mapping[str, Any]]) -> PlanningProblem:
        """Add targets from rows with ``feature``, ``target``, optional ``type``
        (``absolute``/``relative``), ``sense`` (``>=``, ``<=`` for an upper bound, ``=``),
        ``zones`` and ``weight`` (prioritizr's ``add_manual_targets``)."""
        out = self
        for row in rows:
            kind = str(row.get("type", "absolute"))
            zones = row.get("zones")
            feature = {str(row["feature"]): float(row["target"])}
            if kind == "relative":
                out = out.add_relative_targets(feature, zones)
            elif kind == "absolute":
                out = out.add_absolute_targets(feature, zones)
            else:
                raise _fail(f"unknown target type {kind!r} (absolute or relative)", "type")
            sense = str(row.get("sense") or ">=")
            if sense not in (">=", "<=", "="):
                raise _fail(f"unknown target sense {sense!r} (>=, <= or =)", "sense")
            weight = row.get("weight")
            last = replace(out.targets[-1], sense=sense,
                           weight=None if weight is None else float(weight))
            out = replace(out, targets=(*out.targets[:-1], last))
        return out

    def add_feature_weights(self, weights: Sequence[float] | Mapping[str, float]
                            ) -> PlanningProblem:
        """Set feature weights (used by max utility, max features and min shortfall)."""
        w = self.weights()
        for f, value in self._per_feature(weights, "weights").items():
            if not np.isfinite(value):
                raise _fail("weights must be finite numbers", "weights")
            w[f] = value
        return replace(self, feature_weights=tuple(float(v) for v in w))

    # -- decisions -------------------------------------------------------------------------

    def add_binary_decisions(self) -> PlanningProblem:
        """Each unit is wholly allocated to a zone, or not at all (the default)."""
        return replace(self, decisions="binary")

    def add_proportion_decisions(self) -> PlanningProblem:
        """Any share of each unit may be allocated to each zone (an LP)."""
        return replace(self, decisions="proportion")

    # -- constraints -----------------------------------------------------------------------

    def _add_constraint(self, part: Part) -> PlanningProblem:
        return replace(self, constraints=(*self.constraints, part))

    def add_locked_in_constraints(self, units: Iterable[Any],
                                  zones: str | Sequence[str] | None = None) -> PlanningProblem:
        """Lock units into a zone group (default: any zone, i.e. "selected")."""
        return self._add_constraint(LockedInConstraint(
            tuple(self.data.unit_positions(units).tolist()), self.data.zone_positions(zones)))

    def add_locked_out_constraints(self, units: Iterable[Any],
                                   zones: str | Sequence[str] | None = None) -> PlanningProblem:
        """Lock units out of a zone group (default: every zone)."""
        return self._add_constraint(LockedOutConstraint(
            tuple(self.data.unit_positions(units).tolist()), self.data.zone_positions(zones)))

    def add_linear_constraints(self, threshold: float, sense: str,
                               data: str | Sequence[float] | np.ndarray | pd.Series,
                               zones: str | Sequence[str] | None = None,
                               name: str = "") -> PlanningProblem:
        """Add :math:`\\sum_i \\sum_{z \\in G} d_{i(z)} x_{iz}` (sense) threshold; ``data``
        names a units column or gives one value per unit (or per unit and zone)."""
        if sense not in ("<=", ">=", "="):
            raise _fail(f"unknown sense {sense!r} (<=, >= or =)", "sense")
        if not np.isfinite(float(threshold)):
            raise _fail("threshold must be a finite number", "threshold")
        values = self.data.unit_values(data)
        label = name or (data if isinstance(data, str) else f"linear_{len(self.constraints)}")
        return self._add_constraint(LinearConstraint(
            label, values, self.data.zone_positions(zones), sense, float(threshold)))

    def add_neighbor_constraints(self, k: int, zones: str | Sequence[str] | None = None,
                                 clamp: bool = False) -> PlanningProblem:
        """Each unit in the zone group has at least ``k`` neighbours in the group; with
        ``clamp`` (prioritizr's default), ``k`` is lowered to the neighbours a unit can
        have, and locked-in units are exempt."""
        if int(k) != k or k < 1:
            raise _fail(f"k must be a whole number >= 1 (got {k!r})", "k")
        return self._add_constraint(NeighborConstraint(int(k), self.data.zone_positions(zones),
                                                       bool(clamp)))

    def add_contiguity_constraints(self, zones: str | Sequence[str] | None = None
                                   ) -> PlanningProblem:
        """The units in the zone group form one connected set (binary decisions only)."""
        return self._add_constraint(ContiguityConstraint(self.data.zone_positions(zones)))

    def add_mandatory_allocation_constraints(self) -> PlanningProblem:
        """Every unit is allocated to exactly one zone."""
        return self._add_constraint(MandatoryAllocationConstraint())

    # -- solving ---------------------------------------------------------------------------

    def check(self) -> list[Issue]:
        """Every problem with the assembled problem (empty when it can be compiled)."""
        issues: list[Issue] = []
        if self.objective is None:
            issues.append(Issue(SOURCE, "no objective: add one (add_min_set_objective, "
                                        "add_max_utility_objective, ...)", None, "objective"))
        for part in self.parts():
            issues.extend(part.check(self))
        return issues

    def solve(self, options: SolverOptions | None = None) -> PlanningResult:
        """Compile and solve with HiGHS (:func:`dss.planning.solve.solve`)."""
        return solve(self, options)

    def without_objective_penalties(self) -> PlanningProblem:
        """The same problem without penalties (for reporting cost alone)."""
        return replace(self, penalties=())

    def describe(self) -> str:
        """One line per part: the problem's formulation at a glance."""
        d = self.data
        lines = [f"{d.n_units} planning units, {d.n_features} features, zones: "
                 f"{', '.join(d.zones)}; {self.decisions} decisions; {len(self.targets)} "
                 "targets"]
        for part in self.parts():
            doc = part.math().splitlines()[0] if part.math() else ""
            lines.append(f"  {part.kind:<10} {part.label:<22} {doc}")
        return "\n".join(lines)
