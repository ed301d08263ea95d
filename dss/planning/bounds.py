"""prioritizr's manual locks and manual bounds: a value, or lower and upper limits, for
single decisions :math:`x_{iz}` (per unit and zone), fractional ones included.

Both act on the variables' bounds before any other part compiles, so contiguity, neighbour
constraints and their ``clamp`` see them (a decision bounded at 0 is locked out, one bounded
below at 1 is locked in). Notation: :mod:`dss.planning.parts`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from dss.errors import InputError, Issue
from dss.planning.parts import Part

if TYPE_CHECKING:  # pragma: no cover
    from dss.planning.compile import Model
    from dss.planning.problem import PlanningData, PlanningProblem

TOL = 1e-9


def decision_table(data: PlanningData, table: pd.DataFrame, columns: tuple[str, ...],
                   file: str) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Unit positions, zone positions and the numeric ``columns`` of a per-decision table
    (``pu`` or ``unit``, optional ``zone`` for a single-zone problem); every unknown unit or
    zone and every non-number is reported with its row."""
    issues: list[Issue] = []
    unit_col = "pu" if "pu" in table.columns else "unit"
    need = [c for c in (unit_col, *columns) if c not in table.columns]
    if "zone" not in table.columns and data.n_zones > 1:
        need.append("zone")
    if need:
        raise InputError([Issue(file, f"missing column(s) {', '.join(need)} (needs pu, zone, "
                                      f"{', '.join(columns)})")], "invalid planning problem")
    ids = {u: k for k, u in enumerate(data.unit_ids)}
    units = np.zeros(len(table), dtype=np.int64)
    zones = np.zeros(len(table), dtype=np.int64)
    for row, raw in enumerate(table[unit_col].tolist()):
        key = str(int(raw)) if isinstance(raw, (int, np.integer)) or (
            isinstance(raw, float) and np.isfinite(raw) and raw == int(raw)) else str(raw)
        if key not in ids:
            issues.append(Issue(file, f"unknown planning unit {key!r}", row + 2, unit_col))
        else:
            units[row] = ids[key]
        if "zone" in table.columns:
            zone = str(table["zone"].iloc[row])
            if zone not in data.zones:
                issues.append(Issue(file, f"unknown zone {zone!r} (zones: "
                                          f"{', '.join(data.zones)})", row + 2, "zone"))
            else:
                zones[row] = data.zones.index(zone)
    values = []
    for column in columns:
        v = pd.to_numeric(table[column], errors="coerce").to_numpy(float)
        for row in np.flatnonzero(~np.isfinite(v))[:10]:
            issues.append(Issue(file, f"not a number: {table[column].iloc[row]!r} (a number "
                                      "between 0 and 1)", int(row) + 2, column))
        for row in np.flatnonzero(np.isfinite(v) & ((v < -TOL) | (v > 1 + TOL)))[:10]:
            issues.append(Issue(file, f"{v[row]:g} is outside [0, 1] (a share of the unit)",
                                int(row) + 2, column))
        values.append(v)
    pairs = pd.DataFrame({"u": units, "z": zones}).duplicated().to_numpy()
    for row in np.flatnonzero(pairs)[:10]:
        issues.append(Issue(file, "the same unit and zone are listed twice", int(row) + 2,
                            unit_col))
    if issues:
        raise InputError(issues, "invalid planning problem")
    return units, zones, values


def unavailable_issues(problem: PlanningProblem, units: np.ndarray, zones: np.ndarray,
                       least: np.ndarray, column: str) -> list[Issue]:
    """Decisions that must be above 0 where the unit has an NA cost in the zone."""
    na = problem.data.unavailable
    if na is None:
        return []
    ids = problem.data.unit_ids
    return [Issue("problem", f"unit {ids[i]!r} cannot be allocated to zone "
                             f"{problem.data.zones[z]!r} (its cost there is NA) but is locked "
                             "or bounded into it", None, column)
            for i, z, v in zip(units.tolist(), zones.tolist(), least.tolist(), strict=True)
            if na[i, z] and v > TOL]


@dataclass(frozen=True, eq=False)
class ManualLockedConstraint(Part):
    """Manual locks (prioritizr's ``add_manual_locked_constraints``): each listed decision
    takes a given value.

    .. math:: x_{iz} = s_{iz} \\;\\; \\forall (i, z) \\in L, \\quad s_{iz} \\in [0, 1]

    A fractional :math:`s_{iz}` needs proportion decisions.
    """

    units: np.ndarray
    zones: np.ndarray
    status: np.ndarray
    kind: ClassVar[str] = "constraint"
    order: ClassVar[int] = 8
    name: ClassVar[str] = "manual_locked"

    def check(self, problem: PlanningProblem) -> list[Issue]:
        issues = unavailable_issues(problem, self.units, self.zones, self.status, "status")
        if problem.binary and (np.abs(self.status - np.round(self.status)) > TOL).any():
            issues.append(Issue("problem", "fractional manual locks need proportion "
                                           "decisions (add_proportion_decisions)", None,
                                "status"))
        return issues

    def compile(self, model: Model, block: pyo.Block) -> None:
        for i, z, s in zip(self.units.tolist(), self.zones.tolist(), self.status.tolist(),
                           strict=True):
            model.x(i, z).fix(float(np.clip(s, 0.0, 1.0)))


@dataclass(frozen=True, eq=False)
class ManualBoundedConstraint(Part):
    """Manual bounds (prioritizr's ``add_manual_bounded_constraints``): each listed decision
    lies between a lower and an upper limit.

    .. math:: l_{iz} \\le x_{iz} \\le u_{iz} \\;\\; \\forall (i, z) \\in L

    With binary decisions a fractional limit rounds inwards (a lower limit above 0 forces
    the unit in, an upper limit below 1 keeps it out).
    """

    units: np.ndarray
    zones: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    kind: ClassVar[str] = "constraint"
    order: ClassVar[int] = 9
    name: ClassVar[str] = "manual_bounded"

    def check(self, problem: PlanningProblem) -> list[Issue]:
        ids = problem.data.unit_ids
        issues = unavailable_issues(problem, self.units, self.zones, self.lower, "lower")
        return issues + [
            Issue("problem", f"unit {ids[i]!r} in zone {problem.data.zones[z]!r}: lower limit "
                             f"{lo:g} is above upper limit {hi:g}", None, "lower")
            for i, z, lo, hi in zip(self.units.tolist(), self.zones.tolist(),
                                    self.lower.tolist(), self.upper.tolist(), strict=True)
            if lo > hi + TOL]

    def compile(self, model: Model, block: pyo.Block) -> None:
        for i, z, lo, hi in zip(self.units.tolist(), self.zones.tolist(), self.lower.tolist(),
                                self.upper.tolist(), strict=True):
            if model.binary:
                lo, hi = float(np.ceil(lo - TOL)), float(np.floor(hi + TOL))
            var = model.x(i, z)
            if lo == hi:
                var.fix(lo)
            else:
                var.setlb(max(0.0, lo))
                var.setub(min(1.0, hi))
