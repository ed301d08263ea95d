"""A compiled model loaded into HiGHS once, then solved, and re-solved after small changes.

Every solve of :func:`dss.optimize.solve.solve_built`, sweep and trade-off frontier goes
through :class:`PersistentModel`: the Pyomo model is compiled into sparse matrices by
:func:`dss.optimize.matrix.compile_matrix` and handed to ``highspy`` with ``passModel``;
then the ``highspy.Highs`` object is driven directly:

- a right-hand side changes with ``changeRowBounds`` (one row, nothing else re-translated);
- an objective changes with ``changeColsCost`` / ``changeObjectiveSense``;
- a new row (an ε-constraint) is added with ``addRow``;
- results are read from HiGHS's column values as NumPy arrays: reported quantities are
  linear forms :math:`a^\\top x + a_0` over the columns, extracted once from their Pyomo
  expressions, so no solution has to be loaded back into Pyomo between points.

Why not Pyomo's persistent HiGHS interface? Its ``set_instance`` walks every term of every
expression (0.76 s at 10,000 subunits, most of the build at 100,000), and each ``solve``
re-applies every option and reads the plan back through a ``ComponentMap`` (0.76-0.78 s of
CPU per sweep point at 10,000 subunits, against 0.59-0.66 s for ``changeRowBounds`` +
``run`` + reading the column array; ``python benchmarks/bench_sweep.py --compare``).

Re-solves after a bound change can start from the LP relaxation
(:meth:`PersistentModel.start_from_relaxation`): when the relaxation's optimum is integral
it is the MIP's optimum, found by a warm-started dual simplex in a few pivots instead of a
MIP run from scratch.

Marginal values of a right-hand side come from the LP (``row_dual``) or, for a MIP, from a
second HiGHS instance holding the LP relaxation with every integer column fixed at the MIP
plan ("fixed-MIP" duals); that instance mirrors every change made to the MIP and
warm-starts from its previous basis.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from pyomo.common.gc_manager import PauseGC

from dss.errors import SolveError
from dss.optimize.build import Built
from dss.optimize.matrix import MatrixModel, collect_linear, compile_matrix

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
    "kModelEmpty": "convergenceCriteriaSatisfied",
}
"""HiGHS model status -> the termination name Pyomo's interface reports (mapped to a dss
status by :func:`status_of`, so every path labels runs the same way)."""


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
        gap: Relative gap :math:`|\\text{bound} - \\text{objective}| /
            \\max(|\\text{objective}|, 1)` (0 for an optimal LP; the 1 keeps a zero
            objective from turning a tiny absolute gap into a huge relative one).
        x: Column values (None without a plan).
        seconds: Wall-clock time of the run.
        method: ``lp``, ``mip``, or ``relaxation`` (a MIP whose LP relaxation had an
            integral optimum, see :meth:`PersistentModel.start_from_relaxation`).
    """

    status: str
    termination: str
    objective: float | None
    bound: float | None
    gap: float | None
    x: np.ndarray | None
    seconds: float
    method: str = ""

    @property
    def has_plan(self) -> bool:
        """Whether column values are available."""
        return self.x is not None


def _highspy():
    try:
        import highspy
    except ImportError as err:  # pragma: no cover - highspy is a core dependency
        raise SolveError(f"HiGHS is not available ({err}): install it with `pip install "
                         "highspy`") from None
    return highspy


def status_of(termination: str, has_solution: bool) -> str:
    """dss status label of a termination name (see :mod:`dss.optimize.solve`)."""
    name = termination.lower()
    if "convergencecriteriasatisfied" in name:
        return "optimal"
    if "infeasible" in name:  # infeasible, or infeasible-or-unbounded
        return "infeasible"
    if "unbounded" in name:
        return "unbounded"
    if "maxtimelimit" in name:
        return "time_limit" if has_solution else "infeasible_or_timeout"
    if has_solution:
        return "feasible"
    return "error"


_BANNER = {"shown": False}
"""Whether this process has made its first HiGHS instance (the one that prints a banner)."""
_BANNER_LOCK = threading.Lock()


def new_highs() -> Any:
    """A fresh ``highspy.Highs`` with its output off.

    HiGHS prints a banner to the process's standard output when the first instance is
    created; the command line owns the console, so the descriptor is silenced meanwhile.
    Only that first time: redirecting descriptor 1 is process-wide, and later instances are
    made while other threads may be printing (the background duals).
    """
    hs = _highspy()
    with _BANNER_LOCK:
        if _BANNER["shown"]:
            highs = hs.Highs()
            highs.setOptionValue("output_flag", False)
            return highs
        try:
            sys.stdout.flush()
            saved = os.dup(1)
        except (OSError, ValueError):  # no usable descriptor 1: nothing to protect
            saved = None
        if saved is not None:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.close(devnull)
        try:
            highs = hs.Highs()
            highs.setOptionValue("output_flag", False)
            _BANNER["shown"] = True
        finally:
            if saved is not None:
                os.dup2(saved, 1)
                os.close(saved)
        return highs


class PersistentModel:
    """A :class:`~dss.optimize.build.Built` model held in HiGHS for repeated solves.

    Args:
        built: The compiled model (its Pyomo objective is translated as the initial one).
        warm_start: Keep HiGHS's basis and incumbent between runs (faster). When false,
            every run starts from scratch (``clearSolver``), so a point's result does not
            depend on which points were solved before it in the same instance.
        log: Called with each line HiGHS logs (None: HiGHS stays silent).
    """

    def __init__(self, built: Built, warm_start: bool = False,
                 log: Callable[[str], None] | None = None) -> None:
        start = time.perf_counter()
        self.built = built
        self.warm_start = warm_start
        self._log = log
        self._hs = _highspy()
        with PauseGC():  # see compile_problem
            self.matrix: MatrixModel = compile_matrix(built.model, built.ctx)
        self.translate_seconds = time.perf_counter() - start
        self.highs = new_highs()
        self._configure(self.highs)
        if log is not None:
            self.highs.setOptionValue("log_to_console", False)
            self.highs.setOptionValue("output_flag", True)
            self.highs.cbLogging += lambda event: log(event.message)
        status = self.highs.passModel(self.matrix.highs_lp(self._hs))
        if status == self._hs.HighsStatus.kError:
            raise SolveError("HiGHS refused the model (passModel failed): check for "
                             "infinite or NaN coefficients in the inputs")
        self._var_col: dict[int, int] = self.matrix.var_col
        self._con_row: dict[Any, int] = self.matrix.con_row
        self.n_cols = self.matrix.n_cols
        self.integer_cols = np.flatnonzero(self.matrix.integer).astype(np.int32)
        self._dual_lp: Any = None
        self._relaxed: Any = None
        self._reference_basis: Any = None
        self._amount_cols: np.ndarray | None = None
        self.seconds = time.perf_counter() - start
        LOGGER.info("HiGHS model: %d columns, %d rows, %d integer, %d nonzeros; compiled in "
                    "%.2f s, loaded in %.2f s", self.n_cols, self.matrix.n_rows,
                    len(self.integer_cols), len(self.matrix.value), self.translate_seconds,
                    self.seconds - self.translate_seconds)

    @property
    def is_mip(self) -> bool:
        """Whether the model has integer columns."""
        return len(self.integer_cols) > 0

    def _configure(self, highs: Any) -> None:
        """Apply the model's solver options (:func:`dss.optimize.solve.highs_options`)."""
        from dss.optimize.solve import highs_options

        for key, value in highs_options(self.built.problem.config.solver).items():
            highs.setOptionValue(key, value)

    # ----------------------------------------------------------------- reading the model
    def column(self, var: Any) -> int:
        """HiGHS column of a Pyomo variable."""
        return self._var_col[id(var)]

    def row(self, con: Any) -> int:
        """HiGHS row of a Pyomo constraint (``KeyError`` if it has none, e.g. trivial)."""
        return self._con_row[con]

    def linear(self, expr: Any) -> LinearForm:
        """The linear form of a Pyomo expression over the HiGHS columns.

        Walked as the rows are (:class:`dss.optimize.matrix.Terms`); repeated columns are
        summed. A variable the model does not hold is taken at its current value.

        Raises:
            SolveError: if the expression is not linear.
        """
        cols, coefs, constant = collect_linear(expr, self.built.ctx, self._var_col,
                                               self.n_cols)
        if not len(cols):
            return LinearForm(np.zeros(0, np.int32), np.zeros(0), constant)
        unique, inverse = np.unique(cols.astype(np.int32), return_inverse=True)
        summed = np.bincount(inverse, weights=coefs, minlength=len(unique))
        return LinearForm(unique.astype(np.int32), summed, constant)

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
        """HiGHS column of each option's ``amount`` variable (columns 0 .. n-1)."""
        if self._amount_cols is None:  # compile_matrix numbers the amounts first
            self._amount_cols = np.arange(len(self.built.ctx.amount_vars), dtype=np.int64)
        return self._amount_cols

    def _instances(self) -> list[Any]:
        return [h for h in (self.highs, self._dual_lp, self._relaxed) if h is not None]

    def _lp_copy(self, presolve: bool) -> Any:
        """A new HiGHS instance holding the model with every integrality dropped."""
        lp = self.highs.getLp()
        lp.integrality_ = []
        copy = new_highs()
        self._configure(copy)
        if not presolve:
            copy.setOptionValue("presolve", "off")
        copy.passModel(lp)
        return copy

    # ------------------------------------------------------- relaxation-first re-solves
    def start_from_relaxation(self, reference: dict[int, tuple[float, float]] | None = None
                              ) -> None:
        """Solve every later point through the LP relaxation first.

        For a MIP, :meth:`solve` then first solves the LP relaxation (dual simplex, warm
        started); when every integer column of its optimum :math:`x^R` is integral within
        HiGHS's ``mip_feasibility_tolerance``, :math:`x^R` is optimal for the MIP as well
        (the relaxation's optimum bounds the MIP's, and :math:`x^R` is MIP-feasible), so it
        is returned with gap 0 (``method="relaxation"``) and the MIP is not run. Otherwise
        the MIP runs as before. An LP is solved from the same start.

        Without ``warm_start`` every relaxation starts from one reference basis: the
        relaxation's optimum with the rows of ``reference`` at the given (lower, upper)
        bounds (a sweep: its swept row at the sweep's middle value), so a point's result
        does not depend on the points solved before it (nor on how a sweep is split across
        workers); with ``warm_start`` from the previous point's basis. (A reference with
        the swept row unbounded is a poor start: 3,500 pivots, slower than a cold start.)
        A 20-point budget sweep at 10,000 subunits: about 0.01-0.02 s per point instead
        of 0.6 s for each MIP (``benchmarks/bench_sweep.py``).
        """
        relaxed = self._lp_copy(presolve=True) if self.is_mip else self.highs
        self._relaxed = relaxed if self.is_mip else None
        if self.is_mip and self._log is not None:  # the relaxation's log joins the MIP's
            log = self._log
            relaxed.setOptionValue("log_to_console", False)
            relaxed.setOptionValue("output_flag", True)
            relaxed.cbLogging += lambda event: log(event.message)
        self._reference_basis = None
        if not reference:
            return
        inf = self._hs.kHighsInf
        saved = {row: relaxed.getRow(int(row))[1:3] for row in reference}
        for row, (lower, upper) in reference.items():
            relaxed.changeRowBounds(int(row), max(float(lower), -inf), min(float(upper), inf))
        relaxed.clearSolver()
        relaxed.run()
        if "kOptimal" in str(relaxed.getModelStatus()):
            self._reference_basis = relaxed.getBasis()
        for row, (lower, upper) in saved.items():
            relaxed.changeRowBounds(int(row), float(lower), float(upper))

    def drop_relaxation(self) -> None:
        """Free the relaxation's HiGHS copy (after the last solve that needs it), so that
        the copy made for the fixed-MIP duals does not add a third model to the memory."""
        self._relaxed = None
        self._reference_basis = None

    def _solve_relaxation(self) -> Solution | None:
        """The MIP's optimum from its LP relaxation, or None when that is not integral."""
        h = self._relaxed
        if not self.warm_start:
            h.clearSolver()
            if self._reference_basis is not None:
                h.setBasis(self._reference_basis)
        start = time.perf_counter()
        try:
            h.run()
        except Exception as err:  # noqa: BLE001 - the MIP run decides
            LOGGER.info("LP relaxation failed (%s); solving the MIP", err)
            return None
        if "kOptimal" not in str(h.getModelStatus()):
            return None
        x = np.asarray(h.getSolution().col_value, dtype=float)
        values = x[self.integer_cols]
        rounded = np.round(values)
        _status, tolerance = h.getOptionValue("mip_feasibility_tolerance")
        if len(values) and float(np.max(np.abs(values - rounded))) > tolerance:
            return None
        x[self.integer_cols] = rounded
        objective = float(h.getInfo().objective_function_value)
        return Solution("optimal", _TERMINATION["kOptimal"], objective, objective, 0.0, x,
                        time.perf_counter() - start, "relaxation")

    # ------------------------------------------------------------------------- solving
    def solve(self) -> Solution:
        """Run HiGHS on the current model (see also :meth:`start_from_relaxation`)."""
        if self._relaxed is not None:
            solution = self._solve_relaxation()
            if solution is not None:
                return solution
        h = self.highs
        if not self.warm_start:
            h.clearSolver()
            if self._reference_basis is not None and not self.is_mip:
                h.setBasis(self._reference_basis)
        start = time.perf_counter()
        try:
            status = h.run()
            if status == self._hs.HighsStatus.kError and "kNotset" in str(h.getModelStatus()):
                # HiGHS keeps one thread pool per process, sized by the first run; a run
                # asking for another `threads` refuses to start. Rebuild the pool, retry once.
                LOGGER.info("HiGHS thread pool resized to the model's `threads` option")
                h.resetGlobalScheduler(True)
                h.run()
        except Exception as err:  # noqa: BLE001 - report any solver crash as a SolveError
            raise SolveError(f"HiGHS failed: {type(err).__name__}: {err}") from err
        seconds = time.perf_counter() - start
        status_name = str(h.getModelStatus()).split(".")[-1]
        termination = _TERMINATION.get(status_name, status_name)
        info = h.getInfo()
        has_plan = int(info.primal_solution_status) == 2
        status = status_of(termination, has_plan)
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
            gap = abs(bound - objective) / max(abs(objective), 1.0)  # 1: no blow-up at 0
            if status == "optimal" and not self.is_mip:
                gap = 0.0
        x = np.asarray(h.getSolution().col_value, dtype=float) if has_plan else None
        return Solution(status, termination, objective, bound, gap, x, seconds,
                        "mip" if self.is_mip else "lp")

    def row_duals(self, solution: Solution) -> np.ndarray | None:
        """Marginal value of every row's bound at a solution: the LP duals or, for a MIP,
        those of the LP with every integer column fixed at the plan (None if unavailable).

        Sign convention as HiGHS: for a maximisation, a binding budget row has a positive
        dual, the objective gained per extra unit of budget.

        The fixed-MIP LP always starts from its previous basis, even without
        ``warm_start``: it is ten times faster than from scratch on large basins, and the
        optimal LP dual does not depend on the start unless the LP is degenerate at that
        exact point.
        """
        if not solution.has_plan or solution.status != "optimal":
            return None
        if not self.is_mip:
            sol = self.highs.getSolution()
            return np.asarray(sol.row_dual, dtype=float) if sol.dual_valid else None
        lp = self._fixed_lp()
        fixed = np.round(solution.x[self.integer_cols])
        lp.changeColsBounds(len(self.integer_cols), self.integer_cols, fixed, fixed)
        try:
            lp.run()
        except Exception as err:  # noqa: BLE001 - duals are a bonus, never a failure
            LOGGER.warning("no fixed-MIP duals: %s", err)
            return None
        if "kOptimal" not in str(lp.getModelStatus()):
            return None
        sol = lp.getSolution()
        return np.asarray(sol.row_dual, dtype=float) if sol.dual_valid else None

    def dual(self, row: int, solution: Solution) -> float | None:
        """Marginal value of one row's bound at a solution (see :meth:`row_duals`)."""
        duals = self.row_duals(solution)
        return None if duals is None else float(duals[row])

    def _fixed_lp(self) -> Any:
        """The LP copy used for fixed-MIP duals (created on first use, then mirrored)."""
        if self._dual_lp is None:
            # With every integer column fixed, HiGHS's presolve costs more than it saves
            # (100,000-subunit synthetic basin: 2.2 s with it, 1.0 s without).
            self._dual_lp = self._lp_copy(presolve=False)
        return self._dual_lp


def amounts_from(model: PersistentModel, x: np.ndarray) -> np.ndarray:
    """Amount of every decision option from column values (integers rounded)."""
    built = model.built
    cols = model.amount_cols
    values = np.where(cols >= 0, x[np.clip(cols, 0, None)], 0.0)
    integer = built.ctx.options["integer"].to_numpy(bool)
    values[integer] = np.round(values[integer])
    return np.clip(values, 0.0, None)
