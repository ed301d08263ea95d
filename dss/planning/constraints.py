"""Planning constraints: locks, linear side constraints, neighbours, contiguity, allocation.

Notation: :mod:`dss.planning.parts`. Every constraint acts on a zone group :math:`G`
(default: every zone), through :math:`y_i^G = \\sum_{z \\in G} x_{iz}`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import pyomo.environ as pyo

from dss.errors import Issue
from dss.planning.adjacency import add_flow_connectivity, clamped_k, feasible_neighbours
from dss.planning.parts import Part

if TYPE_CHECKING:  # pragma: no cover
    from dss.planning.compile import Model
    from dss.planning.problem import PlanningProblem

SYMMETRY_BREAKING_MAX_UNITS = 300
"""Contiguity without a locked-in unit orders its root (the first selected unit) only up to
this many eligible units (:data:`dss.planning.adjacency.SYMMETRY_BREAKING_MAX_UNITS`)."""


class Constraint(Part):
    """Base of constraints."""

    kind: ClassVar[str] = "constraint"
    order: ClassVar[int] = 40


def _zone_names(problem: PlanningProblem, zones: tuple[int, ...]) -> str:
    return "+".join(problem.data.zones[z] for z in zones)


@dataclass(frozen=True)
class MandatoryAllocationConstraint(Constraint):
    """Every unit is allocated to exactly one zone (Marxan with Zones; with an explicit
    "outside" zone).

    .. math:: \\sum_z x_{iz} = 1 \\;\\; \\forall i
    """

    name: ClassVar[str] = "mandatory_allocation"
    order: ClassVar[int] = 5

    def compile(self, model: Model, block: pyo.Block) -> None:
        everything = tuple(range(model.nz))
        block.allocation = pyo.Constraint(range(model.n), rule=lambda _, i: model.y(
            i, everything) == 1)


@dataclass(frozen=True)
class LockedOutConstraint(Constraint):
    """Units locked out of a zone group (Marxan status 3).

    .. math:: x_{iz} = 0 \\;\\; \\forall i \\in L, z \\in G

    The variables are fixed, so HiGHS never sees them.
    """

    units: tuple[int, ...]
    zones: tuple[int, ...]
    name: ClassVar[str] = "locked_out"
    order: ClassVar[int] = 10

    def compile(self, model: Model, block: pyo.Block) -> None:
        for i in self.units:
            for z in self.zones:
                model.x(i, z).fix(0)


@dataclass(frozen=True)
class LockedInConstraint(Constraint):
    """Units locked into a zone group (Marxan status 2).

    .. math:: y_i^G = \\sum_{z \\in G} x_{iz} = 1 \\;\\; \\forall i \\in L

    With one zone in :math:`G` the variable is fixed at 1.
    """

    units: tuple[int, ...]
    zones: tuple[int, ...]
    name: ClassVar[str] = "locked_in"
    order: ClassVar[int] = 11

    def check(self, problem: PlanningProblem) -> list[Issue]:
        out: dict[int, set[int]] = {}
        locked_in: dict[int, list[tuple[int, ...]]] = {}
        for part in problem.constraints:
            if isinstance(part, LockedOutConstraint):
                for i in part.units:
                    out.setdefault(i, set()).update(part.zones)
            elif isinstance(part, LockedInConstraint) and part is not self:
                for i in part.units:
                    locked_in.setdefault(i, []).append(part.zones)
        issues = []
        ids = problem.data.unit_ids
        for i in self.units:
            if set(self.zones) <= out.get(i, set()):
                issues.append(Issue("problem", f"unit {ids[i]!r} is locked in to "
                                               f"{_zone_names(problem, self.zones)} and locked "
                                               "out of it", None, "locked_in"))
            for other in locked_in.get(i, []):
                if not set(other) & set(self.zones):
                    issues.append(Issue("problem", f"unit {ids[i]!r} is locked in to both "
                                                   f"{_zone_names(problem, self.zones)} and "
                                                   f"{_zone_names(problem, other)}", None,
                                        "locked_in"))
        return issues

    def compile(self, model: Model, block: pyo.Block) -> None:
        block.lock = pyo.ConstraintList()
        for i in self.units:
            model.locked_in.setdefault(i, []).append(self.zones)
            if len(self.zones) == 1:
                model.x(i, self.zones[0]).fix(1)
            else:
                block.lock.add(model.y(i, self.zones) == 1)


@dataclass(frozen=True, eq=False)
class LinearConstraint(Constraint):
    """A linear side constraint (prioritizr's ``add_linear_constraints``): a second budget,
    a cap per area, or a zone rule such as "at most N people in the core".

    .. math:: \\sum_i \\sum_{z \\in G} d_{i(z)} x_{iz} \\;\\{\\le, \\ge, =\\}\\; b
    """

    name: str
    values: np.ndarray
    zones: tuple[int, ...]
    sense: str
    threshold: float

    def compile(self, model: Model, block: pyo.Block) -> None:
        expr = model.unit_sum(self.values, self.zones)
        if self.sense == "<=":
            block.row = pyo.Constraint(expr=expr <= self.threshold)
        elif self.sense == ">=":
            block.row = pyo.Constraint(expr=expr >= self.threshold)
        else:
            block.row = pyo.Constraint(expr=expr == self.threshold)

    def value(self, solution: np.ndarray) -> float:
        """Left-hand side at a solution (units x zones)."""
        values = self.values if self.values.ndim == 2 else self.values[:, None]
        values = np.broadcast_to(values, solution.shape)
        return float((values[:, self.zones] * solution[:, self.zones]).sum())


def _need_adjacency(problem: PlanningProblem, what: str) -> list[Issue]:
    if len(problem.data.neighbour_pairs()) == 0:
        return [Issue("problem", f"{what} needs adjacency: a boundary table with shared "
                                 "lengths > 0 (or explicit adjacency pairs)", None, "boundary")]
    return []


@dataclass(frozen=True)
class NeighborConstraint(Constraint):
    """Each unit in the zone group has at least :math:`k` neighbours in the group
    (prioritizr's ``add_neighbor_constraints``).

    .. math:: \\sum_{j \\in N(i)} y_j^G \\ge k_i \\, y_i^G \\;\\; \\forall i

    :math:`N(i)`: units sharing a boundary of positive length with :math:`i`. Without
    ``clamp``, :math:`k_i = k` and a unit with fewer than :math:`k` neighbours can never be
    in the group. With ``clamp`` (prioritizr's default), :math:`k_i = \\min(k, |N'(i)|)`
    where :math:`N'(i)` are the neighbours that can be in the group (not locked out), and a
    unit locked in to the group is exempt (:math:`k_i = 0`).
    """

    k: int
    zones: tuple[int, ...]
    clamp: bool = False
    name: ClassVar[str] = "neighbors"

    def check(self, problem: PlanningProblem) -> list[Issue]:
        return _need_adjacency(problem, "add_neighbor_constraints")

    def compile(self, model: Model, block: pyo.Block) -> None:
        nbrs = feasible_neighbours(model.data.neighbour_pairs(), model.n)
        block.row = pyo.ConstraintList()
        for i in range(model.n):
            if not model.eligible(i, self.zones):
                continue
            k = clamped_k(model, self.k, self.zones, i, nbrs[i]) if self.clamp else self.k
            if k == 0:
                continue
            own = model.group(i, self.zones)
            others = [v for j in nbrs[i] for v in model.group(j, self.zones)]
            block.row.add(model.linear([1.0] * len(others) + [-float(k)] * len(own),
                                       [*others, *own]) >= 0)


@dataclass(frozen=True)
class ContiguityConstraint(Constraint):
    """The units in the zone group form one connected set (prioritizr's
    ``add_contiguity_constraints``), as a **single-commodity flow** from one root.

    A root :math:`r_i \\in \\{0,1\\}` (at most one; a unit locked in to the group is the root
    when there is one) supplies :math:`g_i \\le N r_i` units of flow; every unit in the group
    consumes one; flow :math:`f_{ij} \\ge 0` runs only along arcs between two units of the
    group (:math:`N`: eligible units, :math:`M = N - 1`):

    .. math::
       \\sum_j f_{ji} - \\sum_j f_{ij} + g_i = y_i, \\quad
       f_{ij} \\le M y_i, \\;\\; f_{ij} \\le M y_j, \\quad
       \\sum_i r_i \\le 1, \\;\\; r_i \\le y_i

    Summing the balances gives :math:`\\sum_i g_i = \\sum_i y_i`, so any selection has a root,
    and every selected unit is reached from it through selected units: the set is connected.
    The formulation is compact (:math:`O(|E|)` variables and rows, no cut loop), so it suits
    HiGHS without callbacks. Two strengthenings are added: each selected non-root unit has a
    selected neighbour, :math:`y_i \\le \\sum_{j \\in N(i)} y_j + r_i`; and, without a
    locked-in unit and up to 300 eligible units, the root is the first selected unit,
    :math:`\\sum_{j < i} y_j \\le |\\{j < i\\}| (1 - r_i)` (removes the root symmetry). Binary
    decisions only.
    """

    zones: tuple[int, ...]
    name: ClassVar[str] = "contiguity"
    order: ClassVar[int] = 45

    def check(self, problem: PlanningProblem) -> list[Issue]:
        issues = _need_adjacency(problem, "add_contiguity_constraints")
        if not problem.binary:
            issues.append(Issue("problem", "contiguity constraints need binary decisions",
                                None, "decisions"))
        return issues

    def compile(self, model: Model, block: pyo.Block) -> None:
        G = self.zones
        members = {i: model.group(i, G) for i in range(model.n) if model.eligible(i, G)}
        forced = [i for i in sorted(members) if model.forced(i, G)]
        pairs = [tuple(p) for p in model.data.neighbour_pairs().tolist()]
        add_flow_connectivity(model, block, members, pairs, forced)
