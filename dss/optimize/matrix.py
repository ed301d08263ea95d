"""Compile a Pyomo model into the sparse matrices HiGHS takes, without Pyomo's solver layer.

.. math:: \\max/\\min\\; c^\\top x + c_0 \\quad \\text{s.t.}\\quad
          r^L \\le A x \\le r^U,\\qquad l \\le x \\le u,\\qquad x_j \\in \\mathbb{Z}\\ (j \\in I)

One row per active constraint, one column per variable of the model. The option amounts
are columns :math:`0 \\dots n-1` in option order, so an expression made by
:meth:`~dss.optimize.context.BuildContext.linear` enters a row as its NumPy arrays, with no
walk over its terms: on large basins that walk (Pyomo's persistent HiGHS interface,
``set_instance``) cost more than HiGHS itself. Every other expression is walked here
(sums, constant multiples, named expressions, linear expressions), and anything else goes
through Pyomo's ``generate_standard_repn``; a non-linear expression is an error. Fixed
variables stay columns, with equal lower and upper bounds.

Why not Pyomo's ``LinearStandardFormCompiler``? It splits ranged rows in two, drops empty
columns and fixed variables (so a column index changes with the data), and walks every term
of the large expressions (0.62 s at 10,000 subunits against 0.76 s for ``set_instance``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import (
    LinearExpression,
    MonomialTermExpression,
    NegationExpression,
    ProductExpression,
    SumExpression,
)
from pyomo.repn.standard_repn import generate_standard_repn

from dss.errors import ComponentError, SolveError
from dss.optimize.columns import column_data

if TYPE_CHECKING:  # pragma: no cover
    from dss.optimize.context import BuildContext

INF = float("inf")


@dataclass
class MatrixModel:
    """A linear model in column-wise sparse form, with the maps back to Pyomo.

    Attributes:
        columns: Pyomo variable of each column (amounts first, in option order).
        rows: Pyomo constraint of each row.
        con_row: Pyomo constraint -> row.
        col_lower, col_upper: Column bounds (:math:`\\pm\\infty` where unbounded).
        integer: Whether each column is integer (binary included).
        row_lower, row_upper: Row bounds, the body's constant moved to them.
        start, index, value: The matrix :math:`A` in compressed sparse column form.
        cost: Objective coefficient of each column; ``offset``: its constant.
        maximize: The objective's sense.
    """

    columns: list[Any]
    rows: list[Any]
    con_row: dict[Any, int]
    col_lower: np.ndarray
    col_upper: np.ndarray
    integer: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    start: np.ndarray
    index: np.ndarray
    value: np.ndarray
    cost: np.ndarray
    offset: float
    maximize: bool

    @cached_property
    def var_col(self) -> dict[int, int]:
        """``id(variable)`` -> column, made on first use: a model solved once never asks,
        and the map is large (487,037 columns at 100,000 subunits: about 50 MB)."""
        return {id(var): col for col, var in enumerate(self.columns)}

    @property
    def n_cols(self) -> int:
        """Number of columns."""
        return len(self.columns)

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return len(self.rows)

    def highs_lp(self, highspy: Any) -> Any:
        """The model as a ``highspy.HighsLp``."""
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = self.n_cols, self.n_rows
        lp.col_cost_, lp.offset_ = self.cost, self.offset
        lp.col_lower_, lp.col_upper_ = self.col_lower, self.col_upper
        lp.row_lower_, lp.row_upper_ = self.row_lower, self.row_upper
        lp.sense_ = highspy.ObjSense.kMaximize if self.maximize else highspy.ObjSense.kMinimize
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = self.n_cols, self.n_rows
        lp.a_matrix_.start_ = self.start
        lp.a_matrix_.index_ = self.index
        lp.a_matrix_.value_ = self.value
        if self.integer.any():
            kind = highspy.HighsVarType
            lp.integrality_ = [kind.kInteger if i else kind.kContinuous for i in self.integer]
        return lp

    def release_arrays(self) -> None:
        """Drop the bounds, costs and coefficients once :meth:`highs_lp` has copied them
        (HiGHS keeps its own; about 20 MB at 100,000 subunits). The maps to Pyomo and
        :attr:`integer` stay; :meth:`highs_lp` cannot be called again."""
        self.col_lower = self.col_upper = self.row_lower = self.row_upper = None
        self.start = self.index = self.value = self.cost = None


class Terms:
    """Collects the linear terms of expressions as column and coefficient arrays.

    Terms are tagged with the current :attr:`row`, so a whole matrix is collected before
    any array is made (:meth:`take_rows`); :meth:`take` returns one expression's terms.

    Args:
        ctx: The build context (its remembered linear expressions are taken as arrays);
            None for a model made without one (a park-design model).
        var_col: ``id(variable)`` -> column; unknown variables are added by ``new_column``.
        new_column: Called with a variable the map does not hold; returns its column.
    """

    def __init__(self, ctx: BuildContext | None, var_col: dict[int, int], new_column: Any
                 ) -> None:
        self.ctx = ctx
        self.var_col = var_col
        self.new_column = new_column
        self.row = 0
        self._reset()

    def _reset(self) -> None:
        self.rows: list[int] = []
        self.cols: list[int] = []
        self.coefs: list[float] = []
        self.chunk_rows: list[int] = []
        self.col_chunks: list[np.ndarray] = []
        self.coef_chunks: list[np.ndarray] = []
        self.row_blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def take(self) -> tuple[np.ndarray, np.ndarray]:
        """The collected (columns, coefficients), duplicates not yet summed; then reset."""
        _rows, cols, coefs = self.take_rows()
        return cols, coefs

    def take_rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The collected (rows, columns, coefficients), duplicates not yet summed; then
        reset."""
        sizes = [len(c) for c in self.col_chunks]
        blocks = self.row_blocks
        rows = np.concatenate([np.repeat(np.asarray(self.chunk_rows, dtype=np.int64), sizes),
                               *(b[0] for b in blocks), np.asarray(self.rows, dtype=np.int64)])
        cols = np.concatenate([*self.col_chunks, *(b[1] for b in blocks),
                               np.asarray(self.cols, dtype=np.int64)])
        coefs = np.concatenate([*self.coef_chunks, *(b[2] for b in blocks),
                                np.asarray(self.coefs, dtype=float)])
        self._reset()
        return rows, cols, coefs

    def add(self, expr: Any, factor: float = 1.0) -> float:
        """Add ``factor * expr``'s terms; return its constant part.

        Raises:
            SolveError: if the expression is not linear.
        """
        if isinstance(expr, int | float):
            return factor * expr
        terms = self.ctx.linear_terms(expr) if self.ctx is not None else None
        if terms is not None:  # the hot path: a whole expression as arrays
            self.chunk_rows.append(self.row)
            self.col_chunks.append(terms.idx)
            self.coef_chunks.append(terms.coefs * factor if factor != 1.0 else terms.coefs)
            for var, coef in zip(terms.other_vars, terms.other_coefs, strict=True):
                self._var(var, factor * coef)
            return factor * terms.constant
        if expr.is_variable_type():
            return self._var(expr, factor)
        if expr.is_named_expression_type():
            return self.add(expr.expr, factor)
        kind = type(expr)
        if kind is LinearExpression:
            constant = 0.0
            for arg in expr.args:
                if type(arg) is MonomialTermExpression:
                    c, v = arg.args
                    constant += self._var(v, factor * (c if type(c) is float
                                                       else float(pyo.value(c))))
                else:
                    constant += self.add(arg, factor)
            return constant
        if kind is MonomialTermExpression:
            c, v = expr.args
            return self._var(v, factor * float(pyo.value(c)))
        if kind is SumExpression:
            return sum(self.add(a, factor) for a in expr.args)
        if kind is NegationExpression:
            return self.add(expr.args[0], -factor)
        if kind is ProductExpression:
            a, b = expr.args
            if not _variable(a):
                return self.add(b, factor * float(pyo.value(a)))
            if not _variable(b):
                return self.add(a, factor * float(pyo.value(b)))
        if not expr.is_potentially_variable():
            return factor * float(pyo.value(expr))
        repn = generate_standard_repn(expr, compute_values=True, quadratic=False)
        if repn.nonlinear_expr is not None or repn.quadratic_vars:
            raise SolveError(f"the expression {expr} is not linear in the decisions; dss "
                             "solves linear (mixed-integer) models only")
        constant = factor * float(repn.constant)
        for v, c in zip(repn.linear_vars, repn.linear_coefs, strict=True):
            constant += self._var(v, factor * float(c))
        return constant

    def _var(self, var: Any, coef: float) -> float:
        col = self.var_col.get(id(var))
        if col is None:
            col = self.new_column(var)
        self.rows.append(self.row)
        self.cols.append(col)
        self.coefs.append(coef)
        return 0.0


def collect_linear(expr: Any, ctx: BuildContext | None, var_col: dict[int, int], n_cols: int
                   ) -> tuple[np.ndarray, np.ndarray, float]:
    """``expr`` as (columns, coefficients, constant) over ``n_cols`` known columns.

    Variables ``var_col`` does not hold are taken at their current value (folded into the
    constant); the remembered linear expressions of ``ctx`` enter as their arrays (option
    ``k`` is column ``k``). Repeated columns are not summed.

    Raises:
        SolveError: if the expression is not linear.
    """
    outside: list[Any] = []

    def new_column(var: Any) -> int:  # a column index past the known ones
        outside.append(var)
        return n_cols + len(outside) - 1

    terms = Terms(ctx, var_col, new_column)
    constant = terms.add(expr)
    cols, coefs = terms.take()
    if outside:
        beyond = cols >= n_cols
        values = np.array([float(v.value or 0.0) for v in outside])
        constant += float(np.dot(coefs[beyond], values[cols[beyond] - n_cols]))
        cols, coefs = cols[~beyond], coefs[~beyond]
    return cols, coefs, constant


def _variable(expr: Any) -> bool:
    return not isinstance(expr, int | float) and expr.is_potentially_variable()


COMPILED_KINDS = frozenset({pyo.Var, pyo.Constraint, pyo.Objective, pyo.Block,
                            pyo.Expression, pyo.Param, pyo.Set, pyo.RangeSet, pyo.Suffix})
"""Pyomo component kinds the compiler reads (or that hold no rows); any other active kind
(``SOSConstraint``, ``LogicalConstraint``, ``Disjunct``, ``BooleanVar``...) would be dropped
silently, so it is refused."""


def _refuse_unsupported(model: pyo.ConcreteModel) -> None:
    """Refuse active components the matrix compiler cannot pass to HiGHS.

    Raises:
        ComponentError: naming each one and what to write instead.
    """
    found = [f"{c.name} ({c.ctype.__name__})"
             for c in model.component_objects(active=True, descend_into=True)
             if c.ctype not in COMPILED_KINDS]
    if found:
        raise ComponentError(
            f"the model holds components that dss cannot pass to HiGHS: {', '.join(found)}; "
            "dss solves linear and mixed-integer models made of Var, Constraint and "
            "Objective (write SOS, logical and disjunctive conditions with binary variables "
            "and linear constraints, or deactivate them)")


def compile_matrix(model: pyo.ConcreteModel, ctx: BuildContext | None = None) -> MatrixModel:
    """Compile the model's active constraints and its one active objective.

    With a build context, its option amounts are columns :math:`0 \\dots n-1` and its
    remembered expressions enter as arrays; without one (a park-design model) the columns
    follow the model's variables in declaration order.

    Raises:
        ComponentError: naming each active component the compiler cannot translate (SOS,
            logical, disjunctive) and each constraint or objective that is not linear.
        SolveError: with no or several active objectives.
    """
    _refuse_unsupported(model)
    columns: list[Any] = []
    var_col: dict[int, int] = {}

    def new_column(var: Any) -> int:
        var_col[id(var)] = len(columns)
        columns.append(var)
        return len(columns) - 1

    amount_vars = ctx.amount_vars if ctx is not None else []
    columns.extend(amount_vars)
    var_col.update(zip(map(id, amount_vars), range(len(columns)), strict=True))
    amount = amount_vars[0].parent_component() if amount_vars else None
    if amount is not None and len(amount) != len(amount_vars):
        amount = None  # indices added after the build: walk every variable
    for component in model.component_objects(pyo.Var, descend_into=True, sort=False):
        if component is amount:  # its data are the amount columns already
            continue
        for var in component.values():
            if id(var) not in var_col:
                new_column(var)
    terms = Terms(ctx, var_col, new_column)

    rows: list[Any] = []
    row_lower: list[float] = []
    row_upper: list[float] = []
    for component in model.component_objects(pyo.Constraint, active=True, descend_into=True):
        block = ctx.row_sets.get(id(component)) if ctx is not None else None
        if block is not None and block.holds(component):  # rows made from arrays
            first = len(rows)
            rows.extend(block.rows)
            row_lower.extend(block.lower.tolist())
            row_upper.extend(block.upper.tolist())
            terms.row_blocks.append((first + np.repeat(np.arange(len(block.rows)),
                                                       np.diff(block.starts)),
                                     block.idx, block.coefs))
            if block.other_vars:
                other = np.fromiter(map(var_col.__getitem__, map(id, block.other_vars)),
                                    dtype=np.int64, count=len(block.other_vars))
                terms.row_blocks.append((first + np.repeat(np.arange(len(block.rows)),
                                                           np.diff(block.other_starts)),
                                         other, block.other_coefs))
            continue
        for con in component.values():
            if not con.active:
                continue
            lower, body, upper = con.to_bounded_expression(True)
            if lower is None and upper is None:
                continue
            terms.row = len(rows)
            try:
                constant = terms.add(body)
            except SolveError as err:
                raise ComponentError(f"constraint {con.name}: {err}") from None
            rows.append(con)
            row_lower.append(-INF if lower is None else float(lower) - constant)
            row_upper.append(INF if upper is None else float(upper) - constant)
    row_ids, col_ids, values = terms.take_rows()

    objectives = list(model.component_data_objects(pyo.Objective, active=True,
                                                   descend_into=True))
    if len(objectives) != 1:
        raise SolveError(f"the model has {len(objectives)} active objectives; it needs one")
    objective = objectives[0]
    try:
        offset = terms.add(objective.expr)
    except SolveError as err:
        raise ComponentError(f"objective {objective.name}: {err}") from None
    obj_cols, obj_coefs = terms.take()

    n_cols = len(columns)
    cost = np.zeros(n_cols)
    np.add.at(cost, obj_cols, obj_coefs)
    start, index, value = _csc(row_ids, col_ids, values, len(rows), n_cols)
    col_lower, col_upper, integer = column_data(columns)
    return MatrixModel(columns, rows, {con: i for i, con in enumerate(rows)},
                       col_lower, col_upper, integer,
                       np.asarray(row_lower, dtype=float), np.asarray(row_upper, dtype=float),
                       start, index, value, cost, float(offset),
                       objective.sense == pyo.maximize)


def _csc(rows: np.ndarray, cols: np.ndarray, values: np.ndarray, n_rows: int, n_cols: int
         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Compressed sparse columns from coordinates; duplicates summed, zeros dropped."""
    key = cols * max(n_rows, 1) + rows
    unique, inverse = np.unique(key, return_inverse=True)
    summed = np.bincount(inverse, weights=values, minlength=len(unique))
    keep = summed != 0
    unique, summed = unique[keep], summed[keep]
    col = unique // max(n_rows, 1)
    row = unique - col * max(n_rows, 1)
    start = np.searchsorted(col, np.arange(n_cols + 1)).astype(np.int32)
    return start, row.astype(np.int32), summed.astype(float)
