"""The one core: a Pyomo model compiled, loaded into HiGHS once, solved, re-solved.

Every solve in dss goes through :class:`HighsModel`: allocation models
(:func:`dss.optimize.solve.solve_built`, sweeps, trade-off frontiers, coordination, through
:class:`PersistentModel`), park designs (:func:`dss.planning.solve.solve_model`, portfolios,
replacement costs) and the infeasibility explanations of both
(:mod:`dss.optimize.elastic`). The Pyomo model is compiled into sparse matrices by
:func:`dss.optimize.matrix.compile_matrix` and handed to ``highspy``
(:func:`dss.optimize.highs.load`); then the ``highspy.Highs`` object is driven directly:

- a right-hand side changes with ``changeRowBounds`` (one row, nothing else re-translated);
- an objective changes with ``changeColsCost`` / ``changeObjectiveSense``;
- a new row (an ε-constraint) is added with ``addRow``;
- a column's bounds change with ``changeColsBounds`` (the deletion filter fixes slacks);
- results are read from HiGHS's column values as NumPy arrays: reported quantities are
  linear forms (:mod:`dss.optimize.forms`), never loaded back into Pyomo between points;
  :meth:`HighsModel.write_values` loads a plan into the Pyomo variables for reports.

Why not Pyomo's persistent HiGHS interface: see ARCHITECTURE.md
(``python benchmarks/bench_sweep.py --compare``).

Re-solves can start from the LP relaxation (:meth:`HighsModel.start_from_relaxation`): an
integral relaxation optimum is the MIP's, found by a warm-started dual simplex in a few
pivots instead of a MIP run. A MIP with ``threads > 1`` runs as concurrent searches
(:mod:`dss.optimize.concurrent`).

Marginal values of a right-hand side come from the LP (``row_dual``) or, for a MIP, from a
second HiGHS instance holding the LP relaxation with every integer column fixed at the MIP
plan ("fixed-MIP" duals); that instance mirrors every change made to the MIP and
warm-starts from its previous basis (a model solved once: :meth:`HighsModel.last_row_duals`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC

from dss.optimize import concurrent
from dss.optimize import highs as core
from dss.optimize.forms import LinearForm
from dss.optimize.highs import Solution, new_highs
from dss.optimize.matrix import MatrixModel, collect_linear, compile_matrix

if TYPE_CHECKING:  # pragma: no cover
    from dss.optimize.context import BuildContext

LOGGER = logging.getLogger(__name__)


class HighsModel:
    """A Pyomo model held in HiGHS for repeated solves.

    Args:
        model: The Pyomo model (its one active objective is translated as the initial one).
        options: HiGHS options by name (:func:`dss.optimize.highs.highs_options`, or a
            planning problem's).
        ctx: The allocation model's build context (its option amounts are the first columns
            and its remembered expressions enter as arrays), or None.
        warm_start: Keep HiGHS's basis and incumbent between runs (faster). When false,
            every run starts from scratch (``clearSolver``), so a point's result does not
            depend on which points were solved before it in the same instance.
        log: Called with each line HiGHS logs (None: HiGHS stays silent).

    Raises:
        ComponentError: if the model holds a component the compiler cannot translate.
        SolveError: if HiGHS refuses the model.
    """

    keeps_matrix_arrays = False
    """Whether the compiled arrays are read once HiGHS holds the model (else freed)."""

    def __init__(self, model: pyo.ConcreteModel, options: dict[str, Any],
                 ctx: BuildContext | None = None, warm_start: bool = False,
                 log: Callable[[str], None] | None = None) -> None:
        start = time.perf_counter()
        self.model = model
        self.ctx = ctx
        self.options = dict(options)
        self.warm_start = warm_start
        self._log = log
        self._hs = core.highspy_module()
        core.trim_heap()  # what building the model freed: the compiler and HiGHS reuse none
        with PauseGC():  # see dss.optimize.build.compile_problem
            self.matrix: MatrixModel = compile_matrix(model, ctx)
        self.translate_seconds = time.perf_counter() - start
        self.highs = new_highs()
        core.configure(self.highs, self.options)
        if log is not None:
            core.relay_log(self.highs, log)
        lp = self.matrix.highs_lp(self._hs)
        n_nonzeros = len(self.matrix.value)
        if not self.keeps_matrix_arrays:
            self.matrix.release_arrays()
        core.load(self.highs, lp)
        del lp
        core.trim_heap()  # the compiler's and the loader's temporary copies
        self._con_row: dict[Any, int] = self.matrix.con_row
        self.n_cols = self.matrix.n_cols
        self.integer_cols = np.flatnonzero(self.matrix.integer).astype(np.int32)
        self._dual_lp: Any = None
        self._relaxed: Any = None
        self._reference_basis: Any = None
        self.seconds = time.perf_counter() - start
        LOGGER.info("HiGHS model: %d columns, %d rows, %d integer, %d nonzeros; compiled in "
                    "%.2f s, loaded in %.2f s", self.n_cols, self.matrix.n_rows,
                    len(self.integer_cols), n_nonzeros, self.translate_seconds,
                    self.seconds - self.translate_seconds)

    @property
    def is_mip(self) -> bool:
        """Whether the model has integer columns."""
        return len(self.integer_cols) > 0

    # ----------------------------------------------------------------- reading the model
    def column(self, var: Any) -> int:
        """HiGHS column of a Pyomo variable."""
        return self.matrix.var_col[id(var)]

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
        cols, coefs, constant = collect_linear(expr, self.ctx, self.matrix.var_col, self.n_cols)
        if not len(cols):
            return LinearForm(np.zeros(0, np.int32), np.zeros(0), constant)
        unique, inverse = np.unique(cols.astype(np.int32), return_inverse=True)
        summed = np.bincount(inverse, weights=coefs, minlength=len(unique))
        return LinearForm(unique.astype(np.int32), summed, constant)

    def write_values(self, x: np.ndarray) -> None:
        """Load column values into the Pyomo variables (fixed ones keep their value), so
        reports can evaluate their expressions."""
        for var, value in zip(self.matrix.columns, x.tolist(), strict=True):
            if not var.fixed:
                var.set_value(value, skip_validation=True)

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

    def set_col_bounds(self, cols: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        """Change columns' bounds (:math:`\\pm\\infty` for none)."""
        inf = self._hs.kHighsInf
        cols = np.asarray(cols, dtype=np.int32)
        lo = np.maximum(np.asarray(lower, dtype=float), -inf)
        up = np.minimum(np.asarray(upper, dtype=float), inf)
        for h in self._instances():
            h.changeColsBounds(len(cols), cols, lo, up)

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

    def set_options(self, **options: Any) -> None:
        """Change HiGHS options (e.g. ``time_limit``) of every instance."""
        self.options.update(options)
        for h in self._instances():
            core.configure(h, options)

    def _instances(self) -> list[Any]:
        found = [h for h in (self.highs, self._dual_lp, self._relaxed) if h is not None]
        return [h for i, h in enumerate(found) if all(h is not g for g in found[:i])]

    def _set_integrality(self, integer: bool) -> None:
        """Make the integer columns of :attr:`highs` integer again, or continuous."""
        kind = self._hs.HighsVarType.kInteger if integer else self._hs.HighsVarType.kContinuous
        cols = self.integer_cols
        self.highs.changeColsIntegrality(len(cols), cols,
                                         np.full(len(cols), int(kind), dtype=np.uint8))

    def _lp_copy(self, presolve: bool, lp: Any = None) -> Any:
        """A new HiGHS instance holding the model (``lp``, by default :attr:`highs`'s) with
        every integrality dropped."""
        lp = self.highs.getLp() if lp is None else lp
        lp.integrality_ = []
        copy = new_highs()
        core.configure(copy, self.options)
        if not presolve:
            copy.setOptionValue("presolve", "off")
        core.load(copy, lp)
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
            core.relay_log(relaxed, self._log)
        self._reference_basis = None
        if not reference:
            return
        inf = self._hs.kHighsInf
        saved = {row: relaxed.getRow(int(row))[1:3] for row in reference}
        for row, (lower, upper) in reference.items():
            relaxed.changeRowBounds(int(row), max(float(lower), -inf), min(float(upper), inf))
        relaxed.clearSolver()
        relaxed.run()
        if core.is_optimal(relaxed):
            self._reference_basis = relaxed.getBasis()
        for row, (lower, upper) in saved.items():
            relaxed.changeRowBounds(int(row), float(lower), float(upper))

    def relax_in_place(self) -> None:
        """:meth:`start_from_relaxation` (without a reference) for a model solved once
        (``dss solve``): the relaxation runs in :attr:`highs` itself, with its integrality
        dropped, and the integrality is restored before the MIP runs, so that no second copy
        of the model is held (the same runs, the same results)."""
        if self.is_mip:
            self._set_integrality(False)
            self._relaxed = self.highs
            self._reference_basis = None

    def drop_relaxation(self) -> None:
        """Solve without the relaxation from now on: its copy is freed, or the integrality
        of a relaxation run in place restored."""
        if self._relaxed is self.highs:
            self._set_integrality(True)
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
        if not core.is_optimal(h):
            return None
        x = np.asarray(h.getSolution().col_value, dtype=float)
        values = x[self.integer_cols]
        rounded = np.round(values)
        _status, tolerance = h.getOptionValue("mip_feasibility_tolerance")
        if len(values) and float(np.max(np.abs(values - rounded))) > tolerance:
            return None
        x[self.integer_cols] = rounded
        objective = float(h.getInfo().objective_function_value)
        return Solution("optimal", core.TERMINATION["kOptimal"], objective, objective, 0.0, x,
                        time.perf_counter() - start, "relaxation")

    # ------------------------------------------------------------------------- solving
    def solve(self) -> Solution:
        """Run HiGHS on the current model (see also :meth:`start_from_relaxation`)."""
        if self._relaxed is not None:
            solution = self._solve_relaxation()
            if solution is not None:
                return solution
            if self._relaxed is self.highs:  # relaxed in place: the MIP runs there next
                self.drop_relaxation()
        h = self.highs
        if not self.warm_start:
            h.clearSolver()
            if self._reference_basis is not None and not self.is_mip:
                h.setBasis(self._reference_basis)
        h, seconds = concurrent.run(h, self.options, self.is_mip)  # threads > 1: a race
        return core.read(h, self.is_mip, seconds)

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
        return self._fixed_duals(self._fixed_lp(), solution)

    def last_row_duals(self, solution: Solution) -> np.ndarray | None:
        """:meth:`row_duals` as the last use of this model (solve nothing more with it).

        A plan from an integral LP relaxation (``method="relaxation"``) takes the
        relaxation's row duals: its optimal basis stays optimal when the integer columns are
        fixed at their values, so they are duals of the fixed-MIP LP and no second LP is
        solved. Otherwise :attr:`highs` is freed once the fixed-MIP LP's copy is taken from
        it, before that LP is loaded and solved, so the solver's memory is not held twice.
        """
        if not self.is_mip or not solution.has_plan or solution.status != "optimal":
            return self.row_duals(solution)
        if solution.method == "relaxation" and self._relaxed is not None:
            sol = self._relaxed.getSolution()
            return np.asarray(sol.row_dual, dtype=float) if sol.dual_valid else None
        lp = self.highs.getLp()
        self.highs = self._relaxed = self._dual_lp = self._reference_basis = None
        core.trim_heap()
        self.highs = self._dual_lp = self._lp_copy(presolve=False, lp=lp)
        del lp  # the copy HiGHS does not need while it solves
        return self._fixed_duals(self._dual_lp, solution)

    def release(self) -> None:
        """Free HiGHS and the compiled matrix once nothing more is read from this model."""
        self.highs = self._dual_lp = self._relaxed = self._reference_basis = None
        self.matrix = self._con_row = None
        core.trim_heap()

    def _fixed_duals(self, lp: Any, solution: Solution) -> np.ndarray | None:
        """Row duals of ``lp`` (the LP relaxation) with every integer column fixed at the plan."""
        fixed = np.round(solution.x[self.integer_cols])
        lp.changeColsBounds(len(self.integer_cols), self.integer_cols, fixed, fixed)
        try:
            lp.run()
        except Exception as err:  # noqa: BLE001 - duals are a bonus, never a failure
            LOGGER.warning("no fixed-MIP duals: %s", err)
            return None
        if not core.is_optimal(lp):
            return None
        sol = lp.getSolution()
        return np.asarray(sol.row_dual, dtype=float) if sol.dual_valid else None

    def dual(self, row: int, solution: Solution) -> float | None:
        """Marginal value of one row's bound at a solution (see :meth:`row_duals`)."""
        return None if (duals := self.row_duals(solution)) is None else float(duals[row])

    def _fixed_lp(self) -> Any:
        """The LP copy used for fixed-MIP duals (created on first use, then mirrored)."""
        if self._dual_lp is None:
            # With every integer column fixed, HiGHS's presolve costs more than it saves
            # (100,000-subunit synthetic basin: 2.2 s with it, 1.0 s without).
            self._dual_lp = self._lp_copy(presolve=False)
        return self._dual_lp
