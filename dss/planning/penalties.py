"""Planning penalties: boundary length, symmetric and asymmetric connectivity, linear.

A penalty :math:`P(x)` is added to a minimised objective and subtracted from a maximised
one. Pairwise terms :math:`y_i y_j` are linearised with continuous :math:`w_{ij} \\in [0, 1]`
(:meth:`dss.planning.compile.Model.products`), exactly for binary decisions. Each penalty
also evaluates itself on any plan (:meth:`Penalty.value`), without a solver. Notation:
:mod:`dss.planning.parts`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import networkx as nx
import numpy as np
import pandas as pd
import pyomo.environ as pyo

from dss.planning.parts import Part

if TYPE_CHECKING:  # pragma: no cover
    from dss.planning.compile import Model
    from dss.planning.problem import PlanningData


def group_values(solution: np.ndarray, zones: tuple[int, ...]) -> np.ndarray:
    """:math:`y_i^G` of a plan (units x zones)."""
    return np.asarray(solution, dtype=float)[:, list(zones)].sum(axis=1)


class Penalty(Part):
    """Base of penalties."""

    kind: ClassVar[str] = "penalty"
    order: ClassVar[int] = 70
    name: str
    penalty: float
    zones: tuple[int, ...]

    def raw(self, data: PlanningData, solution: np.ndarray) -> float:
        """The penalised quantity (boundary length, connectivity, ...) before the factor."""
        raise NotImplementedError

    def value(self, data: PlanningData, solution: np.ndarray) -> float:
        """:math:`P(x)` of a plan, for binary plans exactly the compiled term's value."""
        return self.penalty * self.raw(data, solution)


@dataclass(frozen=True, eq=False)
class BoundaryPenalty(Penalty):
    """Boundary-length penalty (Marxan's BLM; prioritizr's ``add_boundary_penalties``).

    .. math:: P(x) = p \\Big[ e \\sum_i b_{ii} y_i
       + \\sum_{\\{i,j\\}} b_{ij} \\, |y_i - y_j| \\Big]

    :math:`b_{ij}`: shared boundary of units :math:`i \\ne j` (each pair once),
    :math:`b_{ii}`: a unit's boundary with the outside of the study area, :math:`e` the edge
    factor, :math:`p` the penalty (BLM). For binary :math:`y`, :math:`|y_i - y_j|` is 1 exactly
    when one of the two is in the group, so the bracket is the group's perimeter.

    Compiled with :math:`b_{ij} \\ge 0` and :math:`p > 0` (a minimised penalty) as one
    continuous :math:`z_{ij} \\in [0, 1]` per pair,

    .. math:: z_{ij} \\ge y_i - y_j, \\quad z_{ij} \\ge y_j - y_i, \\quad
       P(x) = p \\Big[ e \\sum_i b_{ii} y_i + \\sum b_{ij} z_{ij} \\Big]

    (exact: the objective pushes :math:`z_{ij}` down to :math:`|y_i - y_j|`, for proportions
    too). Its LP relaxation equals that of the product form below, but HiGHS proves
    presence-data Marxan problems of 2,000-20,000 units with 2-3 times fewer simplex
    iterations (``benchmarks/bench_marxan.py``; with real-valued amounts the effect varies
    by project). With a negative penalty (spreading) or negative
    lengths, :math:`|y_i - y_j|` is rewarded and the product form is used:
    :math:`y_i + y_j - 2 w_{ij}` with :math:`w_{ij} = y_i y_j` linearised by
    :meth:`dss.planning.compile.Model.products`.
    """

    name: str
    penalty: float
    edge_factor: float
    zones: tuple[int, ...]

    def compile(self, model: Model, block: pyo.Block) -> None:
        if self.penalty == 0:
            return
        bnd = model.data.boundary
        keep = np.flatnonzero(bnd.length != 0)
        a, b, length = bnd.i[keep], bnd.j[keep], bnd.length[keep]
        if self.penalty > 0 and (length > 0).all():
            self._compile_differences(model, block, a, b, length)
            return
        w = model.products(block, "pair", a, b, self.zones, -2.0 * self.penalty * length)
        unit_coef = self.penalty * self.edge_factor * bnd.external
        np.add.at(unit_coef, a, self.penalty * length)
        np.add.at(unit_coef, b, self.penalty * length)
        coefs, variables = [], []
        for z in self.zones:
            coefs.append(unit_coef)
            variables.extend(model.x(i, z) for i in range(model.n))
        coefs.append(-2.0 * self.penalty * length)
        variables.extend(w)
        model.add_term(self.name, "penalty", model.linear(np.concatenate(coefs), variables))

    def _compile_differences(self, model: Model, block: pyo.Block, a: np.ndarray,
                             b: np.ndarray, length: np.ndarray) -> None:
        """:math:`z_{ij} \\ge \\pm (y_i - y_j)` for a positive penalty (see the class)."""
        z = pyo.Var(range(len(a)), bounds=(0, 1))
        block.add_component("pair_z", z)
        up, down = pyo.ConstraintList(), pyo.ConstraintList()
        block.add_component("pair_up", up)
        block.add_component("pair_down", down)
        size = len(self.zones)
        ones, minus = [1.0] * size, [-1.0] * size
        for k in range(len(a)):
            ga, gb = model.group(int(a[k]), self.zones), model.group(int(b[k]), self.zones)
            up.add(model.linear([1.0, *minus, *ones], [z[k], *ga, *gb]) >= 0)
            down.add(model.linear([1.0, *ones, *minus], [z[k], *ga, *gb]) >= 0)
        coefs, variables = [], []
        for zone in self.zones:
            coefs.append(self.penalty * self.edge_factor * model.data.boundary.external)
            variables.extend(model.x(i, zone) for i in range(model.n))
        coefs.append(self.penalty * length)
        variables.extend(z[k] for k in range(len(a)))
        model.add_term(self.name, "penalty", model.linear(np.concatenate(coefs), variables))

    def raw(self, data: PlanningData, solution: np.ndarray) -> float:
        """The group's boundary length :math:`e \\sum_i b_{ii} y_i + \\sum b_{ij}
        |y_i - y_j|`."""
        return boundary_length(data, group_values(solution, self.zones), self.edge_factor)


def boundary_length(data: PlanningData, y: np.ndarray, edge_factor: float = 1.0) -> float:
    """Perimeter of a selection :math:`y` (binary or proportions)."""
    bnd = data.boundary
    if bnd is None:
        return 0.0
    inner = float((bnd.length * np.abs(y[bnd.i] - y[bnd.j])).sum())
    return inner + edge_factor * float((bnd.external * y).sum())


@dataclass(frozen=True, eq=False)
class ConnectivityPenalty(Penalty):
    """Symmetric connectivity (Önal & Briers 2002; prioritizr's
    ``add_connectivity_penalties``): a bonus for selecting strongly connected pairs together.

    .. math:: P(x) = -p \\sum_{\\{i,j\\}} D_{ij} \\, y_i y_j

    :math:`D_{ij}`: connectivity of each unordered pair (listed once; default the shared
    boundary length). A positive :math:`p D_{ij}` makes the term a reward (it lowers a
    minimised objective).
    """

    name: str
    penalty: float
    i: np.ndarray
    j: np.ndarray
    strength: np.ndarray
    zones: tuple[int, ...]

    def compile(self, model: Model, block: pyo.Block) -> None:
        coef = -self.penalty * self.strength
        keep = np.flatnonzero(coef != 0)
        if len(keep) == 0:
            return
        w = model.products(block, "pair", self.i[keep], self.j[keep], self.zones, coef[keep])
        model.add_term(self.name, "penalty", model.linear(coef[keep], w))

    def raw(self, data: PlanningData, solution: np.ndarray) -> float:
        """:math:`-\\sum D_{ij} y_i y_j` (binary plans)."""
        y = group_values(solution, self.zones)
        return -float((self.strength * y[self.i] * y[self.j]).sum())


@dataclass(frozen=True, eq=False)
class AsymConnectivityPenalty(Penalty):
    """Asymmetric (directional) connectivity (Beger et al. 2010; Marxan's
    ``ASYMMETRICCONNECTIVITY``; prioritizr's ``add_asym_connectivity_penalties``).

    .. math:: P(x) = p \\sum_{(i,j)} D_{ij} \\, y_i (1 - y_j)
       = p \\sum_{(i,j)} D_{ij} (y_i - w_{ij})

    :math:`D_{ij} \\ge 0`: how much unit :math:`i` depends on unit :math:`j` (ordered pairs).
    A unit in the group whose partner is not pays :math:`p D_{ij}`. Built from the river
    graph by :func:`river_dependence`, :math:`i` is downstream of :math:`j`: protecting a
    downstream unit without its upstream catchment is penalised, so upstream protection
    counts for the units below it.
    """

    name: str
    penalty: float
    i: np.ndarray
    j: np.ndarray
    strength: np.ndarray
    zones: tuple[int, ...]

    def compile(self, model: Model, block: pyo.Block) -> None:
        coef = self.penalty * self.strength
        keep = np.flatnonzero(coef != 0)
        if len(keep) == 0:
            return
        a, b, c = self.i[keep], self.j[keep], coef[keep]
        w = model.products(block, "pair", a, b, self.zones, -c)
        unit_coef = np.zeros(model.n)
        np.add.at(unit_coef, a, c)
        coefs, variables = [], []
        for z in self.zones:
            coefs.append(unit_coef)
            variables.extend(model.x(i, z) for i in range(model.n))
        coefs.append(-c)
        variables.extend(w)
        model.add_term(self.name, "penalty", model.linear(np.concatenate(coefs), variables))

    def raw(self, data: PlanningData, solution: np.ndarray) -> float:
        """:math:`\\sum D_{ij} y_i (1 - y_j)` (binary plans)."""
        y = group_values(solution, self.zones)
        return float((self.strength * y[self.i] * (1.0 - y[self.j])).sum())


@dataclass(frozen=True, eq=False)
class LinearPenalty(Penalty):
    """Linear penalty (prioritizr's ``add_linear_penalties``), e.g. on human pressure.

    .. math:: P(x) = p \\sum_i \\sum_{z \\in G} d_{i(z)} x_{iz}
    """

    name: str
    penalty: float
    values: np.ndarray
    zones: tuple[int, ...]

    def compile(self, model: Model, block: pyo.Block) -> None:
        if self.penalty == 0:
            return
        model.add_term(self.name, "penalty", model.unit_sum(self.penalty * self.values,
                                                            self.zones))

    def raw(self, data: PlanningData, solution: np.ndarray) -> float:
        """:math:`\\sum_i \\sum_{z \\in G} d_{i(z)} x_{iz}`."""
        values = self.values if self.values.ndim == 2 else self.values[:, None]
        values = np.broadcast_to(values, solution.shape)
        return float((values[:, list(self.zones)] * solution[:, list(self.zones)]).sum())


def river_dependence(graph: nx.DiGraph, unit_ids: list[str], hops: int = 1,
                     decay: float = 0.5, weight: dict[str, float] | None = None
                     ) -> pd.DataFrame:
    """Directional dependence of downstream units on their upstream units, from a river
    graph whose edges point downstream (``study.graph``).

    For a unit :math:`v` and an upstream unit :math:`u` that drains into it in :math:`h \\le`
    ``hops`` steps: :math:`D_{vu} = w_u \\, \\delta^{h-1}` (:math:`\\delta` = ``decay``,
    :math:`w_u` = ``weight`` of the upstream unit, default 1).

    Returns:
        ``id1`` (downstream, the dependent unit), ``id2`` (upstream), ``value``, ``hops``:
        the data of :class:`AsymConnectivityPenalty`.
    """
    known = set(unit_ids)
    rows = []
    for v in unit_ids:
        if v not in graph:
            continue
        frontier, seen = [v], {v}
        for h in range(1, hops + 1):
            nxt = []
            for node in frontier:
                for u in graph.predecessors(node):
                    if u in seen:
                        continue
                    seen.add(u)
                    nxt.append(u)
                    if u in known:
                        w = 1.0 if weight is None else float(weight.get(u, 0.0))
                        rows.append({"id1": v, "id2": u, "value": w * decay ** (h - 1),
                                     "hops": h})
            frontier = nxt
    return pd.DataFrame(rows, columns=["id1", "id2", "value", "hops"])
