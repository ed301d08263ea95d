"""Connectedness by single-commodity flow, and prioritizr's feature contiguity constraints.

:func:`add_flow_connectivity` is the formulation behind both
:class:`~dss.planning.constraints.ContiguityConstraint` (the zone group is connected) and
:class:`FeatureContiguityConstraint` (the units counted for each feature are connected).
Notation: :mod:`dss.planning.parts`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pyomo.environ as pyo

from dss.errors import Issue
from dss.planning.parts import Part

if TYPE_CHECKING:  # pragma: no cover
    from dss.planning.compile import Model
    from dss.planning.problem import PlanningProblem

SYMMETRY_BREAKING_MAX_UNITS = 300
"""Without a forced member, the root is ordered (the first member) only up to this many
candidate units: the ordering rows have O(n^2) non-zeros."""


def add_flow_connectivity(model: Model, block: pyo.Block, members: dict[int, list[Any]],
                          pairs: Sequence[tuple[int, int]], forced: Sequence[int] = ()
                          ) -> None:
    """Make the set :math:`S = \\{i : m_i = 1\\}` connected, where :math:`m_i` is the sum of
    ``members[i]`` (binary), over the adjacency ``pairs`` (unit positions, each once).

    A root :math:`r_i \\in \\{0,1\\}` (at most one; the first ``forced`` unit when given)
    supplies :math:`g_i \\le N r_i` units of flow; every member consumes one; flow
    :math:`f_{ij} \\ge 0` runs only along arcs between two members (:math:`N`: candidate units,
    :math:`M = N - 1`):

    .. math::
       \\sum_j f_{ji} - \\sum_j f_{ij} + g_i = m_i, \\quad
       f_{ij} \\le M m_i, \\;\\; f_{ij} \\le M m_j, \\quad
       \\sum_i r_i \\le 1, \\;\\; r_i \\le m_i

    Summing the balances gives :math:`\\sum_i g_i = \\sum_i m_i`, so a non-empty set has a
    root, and every member is reached from it through members: the set is connected (an
    empty set is allowed). Compact (:math:`O(|E|)` variables and rows, no cut loop).
    Strengthenings: each non-root member has a member neighbour,
    :math:`m_i \\le \\sum_{j \\in N(i)} m_j + r_i`; without a forced unit and up to 300
    candidates, the root is the first member,
    :math:`\\sum_{j < i} m_j \\le |\\{j < i\\}| (1 - r_i)`.
    """
    eligible = sorted(members)
    count = len(eligible)
    if count <= 1:
        return
    pos = set(eligible)
    pairs = [(a, b) for a, b in pairs if a in pos and b in pos]
    arcs = pairs + [(b, a) for a, b in pairs]
    cap = float(count - 1)
    y = members
    block.flow = pyo.Var(range(len(arcs)), bounds=(0, cap))
    block.supply = pyo.Var(eligible, bounds=(0, float(count)))
    incoming: dict[int, list[int]] = {i: [] for i in eligible}
    outgoing: dict[int, list[int]] = {i: [] for i in eligible}
    for k, (a, b) in enumerate(arcs):
        outgoing[a].append(k)
        incoming[b].append(k)
    if forced:
        root = forced[0]
        for i in eligible:
            if i != root:
                block.supply[i].fix(0)
        root_expr: dict[int, Any] = {i: float(i == root) for i in eligible}
    else:
        block.root = pyo.Var(eligible, domain=pyo.Binary)
        block.one_root = pyo.Constraint(expr=sum(block.root[i] for i in eligible) <= 1)
        block.root_selected = pyo.Constraint(eligible, rule=lambda _, i: model.linear(
            [1.0] + [-1.0] * len(y[i]), [block.root[i], *y[i]]) <= 0)
        block.supply_root = pyo.Constraint(eligible, rule=lambda _, i: block.supply[i]
                                           <= count * block.root[i])
        root_expr = {i: block.root[i] for i in eligible}
        if count <= SYMMETRY_BREAKING_MAX_UNITS:
            block.first_root = pyo.ConstraintList()
            for k, i in enumerate(eligible[1:], start=1):
                before = [v for j in eligible[:k] for v in y[j]]
                block.first_root.add(model.linear(
                    [1.0] * len(before) + [float(k)], [*before, block.root[i]]) <= k)
    flows = [block.flow[k] for k in range(len(arcs))]
    block.balance = pyo.ConstraintList()
    for i in eligible:
        coefs = [1.0] * len(incoming[i]) + [-1.0] * len(outgoing[i]) + [1.0] \
            + [-1.0] * len(y[i])
        variables = [*(flows[k] for k in incoming[i]), *(flows[k] for k in outgoing[i]),
                     block.supply[i], *y[i]]
        block.balance.add(model.linear(coefs, variables) == 0)
    block.capacity = pyo.ConstraintList()
    for k, (a, b) in enumerate(arcs):
        for end in (a, b):
            block.capacity.add(model.linear([1.0] + [-cap] * len(y[end]),
                                            [flows[k], *y[end]]) <= 0)
    nbrs: dict[int, list[int]] = {i: [] for i in eligible}
    for a, b in pairs:
        nbrs[a].append(b)
        nbrs[b].append(a)
    block.has_neighbour = pyo.ConstraintList()
    for i in eligible:
        others = [v for j in nbrs[i] for v in y[j]]
        root_term = root_expr[i]
        if isinstance(root_term, float):
            block.has_neighbour.add(model.linear(
                [1.0] * len(y[i]) + [-1.0] * len(others), [*y[i], *others]) <= root_term)
        else:
            block.has_neighbour.add(model.linear(
                [1.0] * len(y[i]) + [-1.0] * len(others) + [-1.0],
                [*y[i], *others, root_term]) <= 0)


@dataclass(frozen=True)
class FeatureContiguityConstraint(Part):
    """Each feature is held in one connected piece (prioritizr's
    ``add_feature_contiguity_constraints``): the units whose amounts count towards a
    feature's targets form a connected set, for each feature separately.

    For each feature :math:`f` and zone :math:`z` of the group :math:`G`, a binary
    :math:`v_{fiz} \\le x_{iz}` says that unit :math:`i` counts for :math:`f`; the held
    amounts of the feature's targets use :math:`v_{fiz}` instead of :math:`x_{iz}`:
    :math:`h_t = \\sum_i \\sum_{z \\in Z_t} a_{fiz} v_{fiz}` (zones outside :math:`G` count
    as usual); and :math:`\\{i : \\sum_{z \\in G} v_{fiz} = 1\\}` is connected by
    :func:`add_flow_connectivity` over the adjacency. Selected units may lie outside a
    feature's piece (they then do not count for it). Unlike prioritizr, a feature may be
    held nowhere (an empty piece). Binary decisions; target objectives only.
    """

    zones: tuple[int, ...]
    features: tuple[int, ...] | None = None
    """Feature positions (None: every feature with a target)."""
    kind: ClassVar[str] = "constraint"
    order: ClassVar[int] = 46
    name: ClassVar[str] = "feature_contiguity"

    def check(self, problem: PlanningProblem) -> list[Issue]:
        issues = []
        if len(problem.data.neighbour_pairs()) == 0:
            issues.append(Issue("problem", "add_feature_contiguity_constraints needs adjacency: "
                                           "a boundary table with shared lengths > 0", None,
                                "boundary"))
        if not problem.binary:
            issues.append(Issue("problem", "feature contiguity constraints need binary "
                                           "decisions", None, "decisions"))
        objective = problem.objective
        if objective is not None and not objective.needs_targets and \
                objective.name != "min_penalties":
            issues.append(Issue("problem", f"feature contiguity constraints count target "
                                           f"holdings; the {objective.name} objective uses no "
                                           "targets", None, "objective"))
        return issues

    def compile(self, model: Model, block: pyo.Block) -> None:
        pairs = [tuple(p) for p in model.data.neighbour_pairs().tolist()]
        features = self.features if self.features is not None else \
            sorted({t.feature for t in model.problem.targets})
        for f in features:
            amounts = model.data.feature_matrix(f)
            if not amounts[:, list(self.zones)].any():
                continue
            candidates = [i for i in range(model.n) if model.eligible(i, self.zones)]
            sub = pyo.Block()
            block.add_component(f"feature_{f}", sub)
            index = [(i, z) for i in candidates for z in self.zones]
            sub.count = pyo.Var(index, domain=pyo.Binary)
            sub.within = pyo.ConstraintList()
            for i, z in index:
                sub.within.add(sub.count[i, z] - model.x(i, z) <= 0)
            own = {z: {i: sub.count[i, z] if (i, z) in sub.count else model.x(i, z)
                       for i in range(model.n)} for z in self.zones}
            model.feature_vars[f] = own
            members = {i: [sub.count[i, z] for z in self.zones] for i in candidates}
            add_flow_connectivity(model, sub, members, pairs)


def feature_positions(problem: PlanningProblem, features: Sequence[str] | None
                      ) -> tuple[int, ...] | None:
    """Feature positions of ids (None stays None: every feature with a target)."""
    if features is None:
        return None
    return tuple(sorted({problem.data.feature_position(f, "features") for f in features}))


def clamped_k(model: Model, k: int, zones: tuple[int, ...], i: int,
              neighbours: list[int]) -> int:
    """prioritizr's ``clamp``: the neighbours unit ``i`` must have, lowered to the number
    of its neighbours that can be in the group (0 for a unit forced into the group)."""
    if model.forced(i, zones):
        return 0
    return int(min(k, sum(1 for j in neighbours if model.eligible(j, zones))))


def feasible_neighbours(pairs: np.ndarray, n: int) -> dict[int, list[int]]:
    """Neighbour lists from adjacency pairs."""
    out: dict[int, list[int]] = {i: [] for i in range(n)}
    for a, b in pairs.tolist():
        out[a].append(b)
        out[b].append(a)
    return out
