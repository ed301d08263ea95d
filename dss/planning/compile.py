"""Compile a :class:`~dss.planning.problem.PlanningProblem` into one Pyomo model.

The decision variables are :math:`x_{iz}` for every unit :math:`i` and zone :math:`z`, stored
flat (``x[i * n_zones + z]``), binary or in [0, 1]. Without a mandatory-allocation constraint,
a unit is in at most one zone: :math:`\\sum_z x_{iz} \\le 1` (a unit in no zone is "not
selected"). Every part then adds its own block; the objective is the sum of the terms the
parts register, always minimised (a maximising objective registers its utility with sign -1).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression

from dss.errors import InputError
from dss.planning.constraints import MandatoryAllocationConstraint

if TYPE_CHECKING:  # pragma: no cover
    from dss.planning.problem import PlanningProblem, Target

LOGGER = logging.getLogger(__name__)


@dataclass
class Term:
    """One objective term: a natural value (cost, utility or penalty) and its sign in the
    minimised objective."""

    label: str
    role: str
    expr: Any
    sign: float

    def value(self) -> float:
        """The term's value at the loaded solution."""
        return float(pyo.value(self.expr))


@dataclass
class Model:
    """The Pyomo model of a planning problem while it is being compiled and solved.

    Attributes:
        problem: The problem compiled.
        m: The Pyomo model (``m.x`` are the decisions, one block per part).
        terms: Objective terms registered by the parts.
        locked_in: Zone groups each unit is locked into (filled by the lock parts first).
        seconds: Time spent compiling.
    """

    problem: PlanningProblem
    m: pyo.ConcreteModel = field(init=False)
    terms: list[Term] = field(default_factory=list)
    locked_in: dict[int, list[tuple[int, ...]]] = field(default_factory=dict)
    blocks: dict[str, pyo.Block] = field(default_factory=dict)
    feature_vars: dict[int, dict[int, Any]] = field(default_factory=dict)
    """Feature -> zone -> per-unit variables that count the feature instead of
    :math:`x_{iz}` (set by feature contiguity, which compiles before the objective)."""
    seconds: float = 0.0

    def __post_init__(self) -> None:
        data = self.problem.data
        self.n, self.nz = data.n_units, data.n_zones
        self.m = pyo.ConcreteModel(name="planning")
        domain = pyo.Binary if self.problem.binary else pyo.UnitInterval
        self.m.x = pyo.Var(range(self.n * self.nz), domain=domain, bounds=(0, 1))
        self.decisions: list[Any] = [self.m.x[k] for k in range(self.n * self.nz)]
        """Decision variables, flat: unit ``i``, zone ``z`` at ``i * n_zones + z``."""

    @property
    def data(self):
        """The problem's data."""
        return self.problem.data

    @property
    def binary(self) -> bool:
        """Whether the decisions are binary."""
        return self.problem.binary

    def x(self, i: int, z: int) -> Any:
        """The decision variable of unit ``i`` and zone ``z``."""
        return self.decisions[i * self.nz + z]

    def group(self, i: int, zones: tuple[int, ...]) -> list[Any]:
        """Variables whose sum is :math:`y_i^G` (unit ``i`` in the zone group)."""
        return [self.decisions[i * self.nz + z] for z in zones]

    @staticmethod
    def linear(coefs: Any, variables: list[Any], constant: float = 0.0) -> LinearExpression:
        """:math:`\\text{constant} + \\sum_k \\text{coefs}_k v_k`, zero coefficients dropped."""
        coefs = np.asarray(coefs, dtype=float)
        keep = np.flatnonzero(coefs != 0)
        return LinearExpression(constant=float(constant), linear_coefs=coefs[keep].tolist(),
                                linear_vars=[variables[k] for k in keep])

    def y(self, i: int, zones: tuple[int, ...]) -> LinearExpression:
        """:math:`y_i^G`."""
        group = self.group(i, zones)
        return self.linear(np.ones(len(group)), group)

    def held(self, target: Target) -> LinearExpression:
        """:math:`h_t = \\sum_i \\sum_{z \\in Z_t} k_{fz} a_{fi} x_{iz}`."""
        return self.feature_expr(target.feature, target.zones)

    def feature_expr(self, f: int, zones: tuple[int, ...]) -> LinearExpression:
        """Amount of feature ``f`` held in the zones: :math:`\\sum_i \\sum_{z} a_{fiz}
        x_{iz}` (:meth:`PlanningData.feature_matrix`; a part may count the feature through
        its own variables instead, see :attr:`feature_vars`)."""
        amounts = self.data.feature_matrix(f)
        own = self.feature_vars.get(f)
        coefs, variables = [], []
        for z in zones:
            units = np.flatnonzero(amounts[:, z])
            coefs.append(amounts[units, z])
            if own is not None and z in own:
                variables.extend(own[z][i] for i in units)
            else:
                variables.extend(self.decisions[i * self.nz + z] for i in units)
        if not variables:
            return self.linear([], [])
        return self.linear(np.concatenate(coefs), variables)

    def cost(self) -> LinearExpression:
        """:math:`\\sum_i \\sum_z c_{iz} x_{iz}`."""
        return self.linear(self.data.cost.ravel(), self.decisions)

    def unit_sum(self, values: np.ndarray, zones: tuple[int, ...]) -> LinearExpression:
        """:math:`\\sum_i \\sum_{z \\in G} d_{i(z)} x_{iz}` for per-unit (or per unit and
        zone) values."""
        values = np.asarray(values, dtype=float)
        coefs, variables = [], []
        for z in zones:
            column = values[:, z] if values.ndim == 2 else values
            coefs.append(column)
            variables.extend(self.decisions[i * self.nz + z] for i in range(self.n))
        return self.linear(np.concatenate(coefs) if coefs else [], variables)

    def add_term(self, label: str, role: str, expr: Any, sign: float = 1.0) -> None:
        """Register an objective term (``role``: cost, utility, score or penalty)."""
        self.terms.append(Term(label, role, expr, sign))

    def forced(self, i: int, zones: tuple[int, ...]) -> bool:
        """Whether unit ``i`` is certainly in the zone group (locked in to a subgroup, or a
        variable of the group fixed at 1)."""
        if any(set(g) <= set(zones) for g in self.locked_in.get(i, [])):
            return True
        return any((v.fixed and v.value == 1) or (v.lb is not None and v.lb >= 1)
                   for v in self.group(i, zones))

    def eligible(self, i: int, zones: tuple[int, ...]) -> bool:
        """Whether unit ``i`` can be in the zone group (not every variable fixed or bounded
        at 0)."""
        return not all((v.fixed and v.value == 0) or (v.ub is not None and v.ub <= 0)
                       for v in self.group(i, zones))

    def products(self, block: pyo.Block, name: str, a: np.ndarray, b: np.ndarray,
                 zones: tuple[int, ...], coef: np.ndarray) -> list[Any]:
        """Linearised products :math:`w_k = y_{a_k} y_{b_k}` for terms ``coef_k * w_k`` of
        the minimised objective.

        With :math:`w_k \\in [0, 1]`: a negative coefficient pushes :math:`w` up, so
        :math:`w \\le y_a`, :math:`w \\le y_b` suffice; a positive one pushes it down, so
        :math:`w \\ge y_a + y_b - 1` suffices. Exact for binary decisions (Beyer et al. 2016;
        continuous :math:`w`, as prioritizr since 8.0.6.7); for proportions :math:`w` is
        :math:`\\min(y_a, y_b)` or :math:`\\max(0, y_a + y_b - 1)` respectively.
        """
        count = len(a)
        w = pyo.Var(range(count), bounds=(0, 1))
        block.add_component(f"{name}_w", w)
        upper = pyo.ConstraintList()
        lower = pyo.ConstraintList()
        block.add_component(f"{name}_upper", upper)
        block.add_component(f"{name}_lower", lower)
        for k in range(count):
            ga, gb = self.group(int(a[k]), zones), self.group(int(b[k]), zones)
            if coef[k] < 0:
                upper.add(self.linear([1.0] + [-1.0] * len(ga), [w[k], *ga]) <= 0)
                upper.add(self.linear([1.0] + [-1.0] * len(gb), [w[k], *gb]) <= 0)
            elif coef[k] > 0:
                lower.add(self.linear([1.0] + [-1.0] * (len(ga) + len(gb)),
                                      [w[k], *ga, *gb]) >= -1.0)
        return [w[k] for k in range(count)]

    def objective_value(self, tie_breaker: bool = False) -> float:
        """The minimised objective at the loaded solution (without the tie-breaking term
        unless asked for)."""
        return float(sum(t.sign * t.value() for t in self.terms
                         if tie_breaker or t.role != "tie_breaker"))


def compile_parts(problem: PlanningProblem, model: Model, container: pyo.Block,
                  prefix: str = "") -> None:
    """Fix the decisions of NA-cost units and zones (:math:`x_{iz} = 0`), then build every
    part of ``problem``, in order, on its own block of ``container`` named ``prefix`` + its
    label (made unique with ``_2``, ``_3``...); ``model.blocks`` maps the labels to them."""
    if problem.data.unavailable is not None:
        for k in np.flatnonzero(problem.data.unavailable.ravel()):
            model.decisions[int(k)].fix(0)
    for part in problem.parts():
        name, suffix = part.label, 2
        while name in model.blocks or container.component(prefix + name) is not None:
            name, suffix = f"{part.label}_{suffix}", suffix + 1
        block = pyo.Block()
        container.add_component(prefix + name, block)
        model.blocks[name] = block
        part.build(block, model)


def compile_problem(problem: PlanningProblem) -> Model:
    """Build the Pyomo model of a problem.

    Raises:
        InputError: with every problem of the assembled problem (no objective, missing
            targets, conflicting locks, contiguity with proportion decisions, ...).
    """
    issues = problem.check()
    if issues:
        raise InputError(issues, "invalid planning problem")
    start = time.perf_counter()
    model = Model(problem)
    m = model.m

    mandatory = any(isinstance(p, MandatoryAllocationConstraint) for p in problem.constraints)
    if model.nz > 1 and not mandatory:
        m.allocation = pyo.ConstraintList()
        for i in range(model.n):
            m.allocation.add(model.y(i, tuple(range(model.nz))) <= 1)
    compile_parts(problem, model, m)
    if not model.terms:
        model.add_term("zero", "cost", LinearExpression(constant=0.0, linear_coefs=[],
                                                        linear_vars=[]))
    m.objective = pyo.Objective(expr=sum(t.sign * t.expr for t in model.terms),
                                sense=pyo.minimize)
    model.seconds = time.perf_counter() - start
    LOGGER.info("compiled planning problem: %d units x %d zones, %d parts in %.2f s",
                model.n, model.nz, len(problem.parts()), model.seconds)
    return model
