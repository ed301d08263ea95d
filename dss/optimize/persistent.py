"""A compiled model loaded into HiGHS once, then re-solved after small changes.

Sweeps and trade-off frontiers solve the same model many times with one right-hand side or
the objective changed. Rebuilding the Pyomo model and translating it to HiGHS at every point
costs more than the solve itself on large basins, so :class:`PersistentModel` translates it
once (Pyomo's persistent ``pyomo.contrib.solver.solvers.highs.Highs``, ``set_instance``)
and then drives the underlying ``highspy.Highs`` object directly:

- a right-hand side changes with ``changeRowBounds`` (one row, nothing else re-translated);
- an objective changes with ``changeColsCost`` / ``changeObjectiveSense``;
- a new row (an ε-constraint) is added with ``addRow``;
- results are read from HiGHS's column values as NumPy arrays: reported quantities are
  linear forms :math:`a^\\top x + a_0` over the columns, extracted once from their Pyomo
  expressions, so no solution is ever loaded back into Pyomo.

Why not the persistent interface's own update path? Measured on a 10,000-subunit synthetic
basin (MIP, about 48,000 columns; ``python benchmarks/bench_sweep.py --compare``, both
routes warm-started), with the bound held in a mutable ``Param`` and every
``auto_updates`` check switched off except ``update_parameters``, ``Highs.solve``
re-solves the changed model correctly, but each call still re-applies every option,
captures the output file descriptors and builds a results object, and reading the plan
back goes through a ``ComponentMap`` of variables: 0.76-0.78 s of CPU per point against
0.59-0.66 s for ``changeRowBounds`` + ``run`` + reading the column array (two runs on a
shared 2-core machine). Rebuilding the model at every point costs 5.5-5.9 s per point.
So the direct route is used, and the only private attributes read are the persistent
interface's ``_solver_model`` and its two maps from Pyomo variables and constraints to
HiGHS columns and rows (a clear error says so if a Pyomo release renames them).

Marginal values of a right-hand side come from the LP (``row_dual``) or, for a MIP, from a
second HiGHS instance holding the LP relaxation with every integer column fixed at the MIP
plan ("fixed-MIP" duals, as :func:`dss.optimize.solve._lp_duals`); that instance mirrors
every change made to the MIP and warm-starts from its previous basis.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any

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

from dss.errors import SolveError
from dss.optimize.build import Built
from dss.optimize.solve import _status

LOGGER = logging.getLogger(__name__)

_TERMINATION = {
    "kOptimal": "convergenceCriteriaSatisfied",
    "kInfeasible": "provenInfeasible",
    "kUnboundedOrInfeasible": "infeasibleOrUnbounded",
    "kUnbounded": "unbounded",
    "kTimeLimit": "maxTimeLimit",
    "kIterationLimit": "iterationLimit",
    "kSolutionLimit": "iterationLimit",
    "kObjectiveBound": "objectiveLimit",
    "kObjectiveTarget": "objectiveLimit",
    "kInterrupt": "interrupted",
}
"""HiGHS model status -> the termination name Pyomo's interface reports (mapped to a dss
status by :func:`dss.optimize.solve._status`, so both paths label runs the same way)."""


@dataclass(frozen=True)
class LinearForm:
    """A linear function of the HiGHS columns: :math:`f(x) = \\sum_j a_j x_{c_j} + a_0`."""

    cols: np.ndarray
    coefs: np.ndarray
    constant: float = 0.0

    def __call__(self, x: np.ndarray) -> float:
        """Value at the column values ``x``."""
        return float(np.dot(self.coefs, x[self.cols]) + self.constant)

    def scaled(self, factor: float) -> LinearForm:
        """The form times ``factor``."""
        return LinearForm(self.cols, self.coefs * factor, self.constant * factor)


class FormSet:
    """Many linear forms evaluated at once (one vectorised pass per solution):

    .. math:: v_t = \\sum_{j \\in t} a_j x_{c_j} + a_{t0}
    """

    def __init__(self, forms: dict[str, LinearForm]) -> None:
        self.labels = list(forms)
        parts = list(forms.values())
        self.cols = (np.concatenate([f.cols for f in parts]) if parts
                     else np.zeros(0, np.int32))
        self.coefs = np.concatenate([f.coefs for f in parts]) if parts else np.zeros(0)
        self.term = np.repeat(np.arange(len(parts)), [len(f.cols) for f in parts])
        self.constants = np.array([f.constant for f in parts], dtype=float)

    def __call__(self, x: np.ndarray) -> dict[str, float]:
        """Label -> value at the column values ``x``."""
        values = np.bincount(self.term, weights=self.coefs * x[self.cols],
                             minlength=len(self.labels)) + self.constants
        return dict(zip(self.labels, values.tolist(), strict=True))


@dataclass
class Solution:
    """Outcome of one HiGHS run on a persistent model.

    Attributes:
        status: dss status label (see :mod:`dss.optimize.solve`).
        termination: HiGHS model status name.
        objective: Objective value (None without a plan).
        bound: Best proven bound (MIP dual bound; the objective for an optimal LP).
        gap: Relative gap :math:`|\\text{bound} - \\text{objective}| / |\\text{objective}|`
            (0 for an optimal LP).
        x: Column values (None without a plan).
        seconds: Wall-clock time of the run.
    """

    status: str
    termination: str
    objective: float | None
    bound: float | None
    gap: float | None
    x: np.ndarray | None
    seconds: float

    @property
    def has_plan(self) -> bool:
        """Whether column values are available."""
        return self.x is not None


def _is_variable(expr: Any) -> bool:
    """Whether an expression node may depend on a variable."""
    return not isinstance(expr, int | float) and expr.is_potentially_variable()


def _highspy():
    try:
        import highspy
    except ImportError as err:  # pragma: no cover - highspy is a core dependency
        raise SolveError(f"highspy is unavailable ({err}); install it with `pip install "
                         "highspy`") from None
    return highspy


class PersistentModel:
    """A :class:`~dss.optimize.build.Built` model held in HiGHS for repeated solves.

    Args:
        built: The compiled model (its Pyomo objective is translated as the initial one).
        warm_start: Keep HiGHS's basis and incumbent between runs (faster). When false,
            every run starts from scratch (``clearSolver``), so a point's result does not
            depend on which points were solved before it in the same instance.
    """

    def __init__(self, built: Built, warm_start: bool = False) -> None:
        from dss.optimize.solve import _highs

        start = time.perf_counter()
        self.built = built
        self.warm_start = warm_start
        self._hs = _highspy()
        solver = _highs()
        updates = solver.config.auto_updates
        for flag in ("check_for_new_or_removed_constraints", "check_for_new_or_removed_vars",
                     "check_for_new_or_removed_params", "check_for_new_objective",
                     "update_constraints", "update_vars", "update_parameters",
                     "update_named_expressions", "update_objective"):
            setattr(updates, flag, False)
        try:
            solver.set_instance(built.model)
            self.highs = solver._solver_model
            self._var_col: dict[int, int] = solver._pyomo_var_to_solver_var_map
            self._con_row: dict[Any, int] = solver._pyomo_con_to_solver_con_map
        except AttributeError as err:  # pragma: no cover - depends on the Pyomo release
            raise SolveError(f"this Pyomo release's HiGHS interface has changed ({err}); the "
                             "persistent sweep needs pyomo>=6.8,<7") from None
        except Exception as err:  # noqa: BLE001 - any translation failure is a solver error
            raise SolveError(f"HiGHS could not load the model: {type(err).__name__}: {err}"
                             ) from err
        self._solver = solver  # keeps the maps alive
        self.n_cols = int(self.highs.getNumCol())
        lp = self.highs.getLp()
        integrality = list(lp.integrality_)
        cont = self._hs.HighsVarType.kContinuous
        self.integer_cols = np.array([j for j, t in enumerate(integrality) if t != cont],
                                     dtype=np.int32)
        self._configure(self.highs)
        self._dual_lp: Any = None
        self._amount_cols: np.ndarray | None = None
        self.seconds = time.perf_counter() - start
        LOGGER.info("persistent model: %d columns, %d rows, %d integer, loaded in %.2f s",
                    self.n_cols, self.highs.getNumRow(), len(self.integer_cols), self.seconds)

    @property
    def is_mip(self) -> bool:
        """Whether the model has integer columns."""
        return len(self.integer_cols) > 0

    def _configure(self, highs: Any) -> None:
        """Apply the model's solver options (as :func:`dss.optimize.solve.run_highs`)."""
        cfg = self.built.problem.config.solver
        highs.setOptionValue("output_flag", False)
        highs.setOptionValue("random_seed", 0)
        highs.setOptionValue("presolve", "on" if cfg.presolve else "off")
        highs.setOptionValue("solver", cfg.method)
        highs.setOptionValue("time_limit", float(cfg.time_limit))
        highs.setOptionValue("mip_rel_gap", float(cfg.mip_gap))
        if cfg.threads:
            highs.setOptionValue("threads", int(cfg.threads))

    # ----------------------------------------------------------------- reading the model
    def column(self, var: Any) -> int:
        """HiGHS column of a Pyomo variable."""
        return self._var_col[id(var)]

    def row(self, con: Any) -> int:
        """HiGHS row of a Pyomo constraint (``KeyError`` if it has none, e.g. trivial)."""
        return self._con_row[con]

    def linear(self, expr: Any) -> LinearForm:
        """The linear form of a Pyomo expression over the HiGHS columns.

        Sums, constant multiples, named expressions and ``LinearExpression`` objects (what
        components build) are walked directly; anything else goes through Pyomo's
        ``generate_standard_repn``. Repeated columns are summed. Variables the solver does
        not hold (in no constraint nor the objective) are taken at their current value,
        which is what the plan leaves them at.

        Raises:
            SolveError: if the expression is not linear.
        """
        cols: list[int] = []
        coefs: list[float] = []
        constant = self._collect(expr, 1.0, cols, coefs)
        if not cols:
            return LinearForm(np.zeros(0, np.int32), np.zeros(0), constant)
        unique, inverse = np.unique(np.asarray(cols, np.int32), return_inverse=True)
        summed = np.bincount(inverse, weights=np.asarray(coefs, float), minlength=len(unique))
        return LinearForm(unique.astype(np.int32), summed, constant)

    def _collect(self, expr: Any, factor: float, cols: list[int], coefs: list[float]
                 ) -> float:
        """Append ``factor * expr``'s terms to cols/coefs; return its constant part."""
        if isinstance(expr, int | float):
            return factor * expr
        if expr.is_variable_type():
            return self._add_var(expr, factor, cols, coefs)
        if expr.is_named_expression_type():
            return self._collect(expr.expr, factor, cols, coefs)
        kind = type(expr)
        if kind is LinearExpression:  # the hot path: one loop, no calls per term
            constant = 0.0
            var_col = self._var_col
            for arg in expr.args:
                if type(arg) is MonomialTermExpression:
                    c, v = arg.args
                    col = var_col.get(id(v))
                    if col is not None and not v.fixed:
                        cols.append(col)
                        coefs.append(factor * (c if type(c) is float else float(pyo.value(c))))
                        continue
                constant += self._collect(arg, factor, cols, coefs)
            return constant
        if kind is MonomialTermExpression:
            c, v = expr.args
            return self._add_var(v, factor * float(pyo.value(c)), cols, coefs)
        if kind is SumExpression:
            return sum(self._collect(a, factor, cols, coefs) for a in expr.args)
        if kind is NegationExpression:
            return self._collect(expr.args[0], -factor, cols, coefs)
        if kind is ProductExpression:
            a, b = expr.args
            if not _is_variable(a):
                return self._collect(b, factor * float(pyo.value(a)), cols, coefs)
            if not _is_variable(b):
                return self._collect(a, factor * float(pyo.value(b)), cols, coefs)
        if not expr.is_potentially_variable():
            return factor * float(pyo.value(expr))
        repn = generate_standard_repn(expr, compute_values=True, quadratic=False)
        if repn.nonlinear_expr is not None or repn.quadratic_vars:
            raise SolveError("a reported quantity is not linear in the decisions")
        constant = factor * float(repn.constant)
        for v, c in zip(repn.linear_vars, repn.linear_coefs, strict=True):
            constant += self._add_var(v, factor * float(c), cols, coefs)
        return constant

    def _add_var(self, var: Any, coef: float, cols: list[int], coefs: list[float]) -> float:
        col = self._var_col.get(id(var))
        if col is None or var.fixed:
            return coef * float(var.value or 0.0)
        cols.append(col)
        coefs.append(coef)
        return 0.0

    # ---------------------------------------------------------------- changing the model
    def row_bounds(self, row: int) -> tuple[float, float]:
        """Current (lower, upper) bounds of a row."""
        _status, lower, upper, _nnz = self.highs.getRow(int(row))
        return float(lower), float(upper)

    def set_row_bounds(self, row: int, lower: float | None, upper: float | None) -> None:
        """Change one row's bounds (None: unbounded on that side)."""
        inf = self._hs.kHighsInf
        lo = -inf if lower is None else float(lower)
        up = inf if upper is None else float(upper)
        for h in self._instances():
            h.changeRowBounds(int(row), lo, up)

    def add_row(self, form: LinearForm, lower: float | None, upper: float | None) -> int:
        """Add a row ``lower <= form <= upper``; returns its index."""
        inf = self._hs.kHighsInf
        lo = -inf if lower is None else float(lower) - form.constant
        up = inf if upper is None else float(upper) - form.constant
        row = int(self.highs.getNumRow())
        for h in self._instances():
            h.addRow(lo, up, len(form.cols), form.cols.astype(np.int32),
                     form.coefs.astype(float))
        return row

    def set_objective(self, form: LinearForm, maximize: bool) -> None:
        """Replace the objective by ``form`` (maximised or minimised)."""
        costs = np.zeros(self.n_cols)
        np.add.at(costs, form.cols, form.coefs)
        sense = self._hs.ObjSense.kMaximize if maximize else self._hs.ObjSense.kMinimize
        for h in self._instances():
            h.changeObjectiveSense(sense)
            h.changeColsCost(self.n_cols, np.arange(self.n_cols, dtype=np.int32), costs)
            h.changeObjectiveOffset(float(form.constant))

    @property
    def amount_cols(self) -> np.ndarray:
        """HiGHS column of each option's ``amount`` variable (-1 if the solver holds none)."""
        if self._amount_cols is None:
            self._amount_cols = np.array([self._var_col.get(id(v), -1)
                                          for v in self.built.ctx.amount_vars], dtype=np.int64)
        return self._amount_cols

    def _instances(self) -> list[Any]:
        return [self.highs] if self._dual_lp is None else [self.highs, self._dual_lp]

    # ------------------------------------------------------------------------- solving
    def solve(self) -> Solution:
        """Run HiGHS on the current model."""
        h = self.highs
        if not self.warm_start:
            h.clearSolver()
        start = time.perf_counter()
        try:
            h.run()
        except Exception as err:  # noqa: BLE001 - report any solver crash as a SolveError
            raise SolveError(f"HiGHS failed: {type(err).__name__}: {err}") from err
        seconds = time.perf_counter() - start
        status_name = str(h.getModelStatus()).split(".")[-1]
        termination = _TERMINATION.get(status_name, status_name)
        info = h.getInfo()
        has_plan = int(info.primal_solution_status) == 2
        status = _status(termination, has_plan)
        if status == "infeasible_or_timeout":
            status = "time_limit"
        objective = float(info.objective_function_value) if has_plan else None
        if self.is_mip:
            bound = float(info.mip_dual_bound)
            bound = bound if math.isfinite(bound) else None
        else:
            bound = objective if status == "optimal" else None
        gap = None
        if objective is not None and bound is not None:
            gap = abs(bound - objective) / max(abs(objective), 1e-10)
            if status == "optimal" and not self.is_mip:
                gap = 0.0
        x = np.asarray(h.getSolution().col_value, dtype=float) if has_plan else None
        return Solution(status, termination, objective, bound, gap, x, seconds)

    def dual(self, row: int, solution: Solution) -> float | None:
        """Marginal value of a row's bound at a solution: the LP dual or, for a MIP, the
        dual of the LP with every integer column fixed at the plan (None if unavailable).

        Sign convention as HiGHS (and :func:`dss.optimize.solve._lp_duals`): for a
        maximisation, a binding budget row has a positive dual, the objective gained per
        extra unit of budget.

        The fixed-MIP LP always starts from its previous basis, even without
        ``warm_start``: it is ten times faster than from scratch on large basins, and the
        optimal LP dual does not depend on the start unless the LP is degenerate at that
        exact point.
        """
        if not solution.has_plan or solution.status != "optimal":
            return None
        if not self.is_mip:
            sol = self.highs.getSolution()
            return float(sol.row_dual[row]) if sol.dual_valid else None
        lp = self._fixed_lp()
        fixed = np.round(solution.x[self.integer_cols])
        lp.changeColsBounds(len(self.integer_cols), self.integer_cols, fixed, fixed)
        try:
            lp.run()
        except Exception as err:  # noqa: BLE001 - duals are a bonus, never a failure
            LOGGER.warning("no fixed-MIP dual: %s", err)
            return None
        if "kOptimal" not in str(lp.getModelStatus()):
            return None
        sol = lp.getSolution()
        return float(sol.row_dual[row]) if sol.dual_valid else None

    def _fixed_lp(self) -> Any:
        """The LP copy used for fixed-MIP duals (created on first use, then mirrored)."""
        if self._dual_lp is None:
            lp = self.highs.getLp()
            lp.integrality_ = []
            dual = self._hs.Highs()
            self._configure(dual)
            dual.passModel(lp)
            self._dual_lp = dual
        return self._dual_lp


def amounts_from(model: PersistentModel, x: np.ndarray) -> np.ndarray:
    """Amount of every decision option from column values (integers rounded, as
    :func:`dss.optimize.solve._amounts`)."""
    built = model.built
    cols = model.amount_cols
    values = np.where(cols >= 0, x[np.clip(cols, 0, None)], 0.0)
    integer = built.ctx.options["integer"].to_numpy(bool)
    values[integer] = np.round(values[integer])
    return np.clip(values, 0.0, None)
