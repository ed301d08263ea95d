"""HiGHS itself: making an instance, loading a model into it, running it, reading its status.

This is the only module that calls ``highspy`` to load a model (``passModel``) and the only
HiGHS status mapping in dss; :class:`dss.optimize.persistent.HighsModel` drives HiGHS through
it for both problem families (allocation models of :mod:`dss.optimize`, park designs of
:mod:`dss.planning`) and every analysis.

Status labels and CLI exit codes (:data:`EXIT_CODES`):

========================  =========  ==================================================
status                    exit code  meaning
========================  =========  ==================================================
``optimal``               0          proven optimal (MIP: within the configured gap)
``feasible``              7          a plan was found but optimality was not proven
``time_limit``            6          stopped at the time limit; best plan kept, gap given
``infeasible``            3          no plan meets every requirement (explained)
``unbounded``             4          the objective can grow without limit (model error)
``error``                 5          the solver failed or is missing
========================  =========  ==================================================
"""

from __future__ import annotations

import ctypes
import logging
import math
import os
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from dss.errors import SolveError

LOGGER = logging.getLogger(__name__)

EXIT_CODES = {"optimal": 0, "infeasible": 3, "unbounded": 4, "error": 5, "time_limit": 6,
              "feasible": 7}
"""Exit code of each status label."""

TERMINATION = {
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
"""HiGHS model status -> the termination name reported with a run (Pyomo's names, which
earlier dss releases wrote to their manifests); any other status keeps its HiGHS name
(``kSolveError``, ``kLoadError``...) and is an ``error`` without a plan."""


def status_of(termination: str, has_plan: bool) -> str:
    """dss status label of a termination name (see :data:`EXIT_CODES`)."""
    name = termination.lower()
    if "convergencecriteriasatisfied" in name:
        return "optimal"
    if "infeasible" in name:  # infeasible, or infeasible-or-unbounded
        return "infeasible"
    if "unbounded" in name:
        return "unbounded"
    if "maxtimelimit" in name:
        return "time_limit"
    return "feasible" if has_plan else "error"


@dataclass
class Solution:
    """Outcome of one HiGHS run.

    Attributes:
        status: dss status label (see :data:`EXIT_CODES`).
        termination: Termination name (:data:`TERMINATION`).
        objective: Objective value (None without a plan).
        bound: Best proven bound (MIP dual bound; the objective for an optimal LP).
        gap: Relative gap :math:`|\\text{bound} - \\text{objective}| /
            \\max(|\\text{objective}|, 1)` (0 for an optimal LP; the 1 keeps a zero
            objective from turning a tiny absolute gap into a huge relative one).
        x: Column values (None without a plan).
        seconds: Wall-clock time of the run.
        method: ``lp``, ``mip``, or ``relaxation`` (a MIP whose LP relaxation had an
            integral optimum, see :meth:`~dss.optimize.persistent.HighsModel.
            start_from_relaxation`).
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


def highspy_module() -> Any:
    """The ``highspy`` module (a :class:`~dss.errors.SolveError` if it is missing)."""
    try:
        import highspy
    except ImportError as err:  # pragma: no cover - highspy is a core dependency
        raise SolveError(f"HiGHS is not available ({err}): install it with `pip install "
                         "highspy`") from None
    return highspy


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
    hs = highspy_module()
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


def _malloc_trim() -> Any:
    try:
        return getattr(ctypes.CDLL(None), "malloc_trim", None)
    except (OSError, TypeError):  # Windows: no C library of the process to open
        return None


_MALLOC_TRIM = _malloc_trim()
"""glibc's ``malloc_trim`` (None where the C library has none: macOS, musl, Windows)."""


def trim_heap() -> None:
    """Give the memory freed so far back to the operating system.

    Blocks freed by HiGHS and NumPy stay in the process's heap (and count in its resident
    memory) until glibc's ``malloc_trim`` returns them; elsewhere this does nothing.
    """
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


def load(highs: Any, lp: Any) -> None:
    """Load a ``highspy.HighsLp`` (or ``HighsModel``) into a HiGHS instance (the one
    ``passModel`` of dss).

    Raises:
        SolveError: if HiGHS refuses the model.
    """
    if highs.passModel(lp) == highspy_module().HighsStatus.kError:
        raise SolveError("HiGHS refused the model (passModel failed): check for infinite or "
                         "NaN coefficients in the inputs")


def configure(highs: Any, options: dict[str, Any]) -> None:
    """Set HiGHS options by name."""
    for key, value in options.items():
        highs.setOptionValue(key, value)


_CTRL_C = threading.Event()
"""Set when Ctrl+C reached Python inside a HiGHS log callback (see :func:`relay_log`)."""


def relay_log(highs: Any, log: Any) -> None:
    """Send every line HiGHS logs to ``log`` instead of the console.

    Ctrl+C pressed while HiGHS runs reaches Python inside this callback; the exception ends
    HiGHS's run with an error status, so it is remembered here and :func:`run` raises it
    again: the run is interrupted (nothing written), not a solver failure.
    """
    highs.setOptionValue("log_to_console", False)
    highs.setOptionValue("output_flag", True)

    def relay(event: Any) -> None:
        try:
            log(event.message)
        except KeyboardInterrupt:
            _CTRL_C.set()
            raise

    highs.cbLogging += relay


def run(highs: Any) -> float:
    """Run HiGHS on its loaded model; returns the wall-clock seconds.

    Raises:
        SolveError: if HiGHS crashes.
        KeyboardInterrupt: if Ctrl+C stopped HiGHS (:func:`relay_log`).
    """
    hs = highspy_module()
    start = time.perf_counter()
    raise_if_interrupted()  # e.g. during a relaxation run before this one
    try:
        status = highs.run()
        if status == hs.HighsStatus.kError and "kNotset" in str(highs.getModelStatus()):
            # HiGHS keeps one thread pool per process, sized by the first run; a run asking
            # for another `threads` refuses to start. Rebuild the pool, retry once.
            LOGGER.info("HiGHS thread pool resized to the model's `threads` option")
            highs.resetGlobalScheduler(True)
            highs.run()
    except KeyboardInterrupt:  # raised through HiGHS from the log callback
        _CTRL_C.clear()
        raise
    except Exception as err:  # noqa: BLE001 - report any solver crash as a SolveError
        raise SolveError(f"HiGHS failed: {type(err).__name__}: {err}") from err
    raise_if_interrupted()
    return time.perf_counter() - start


def raise_if_interrupted() -> None:
    """Raise the Ctrl+C that stopped a HiGHS run (:func:`relay_log`), once."""
    if _CTRL_C.is_set():
        _CTRL_C.clear()
        raise KeyboardInterrupt


def is_optimal(highs: Any) -> bool:
    """Whether the last run proved optimality."""
    return "kOptimal" in str(highs.getModelStatus())


def read(highs: Any, is_mip: bool, seconds: float) -> Solution:
    """The status, objective, bound, gap and column values of the last run."""
    status_name = str(highs.getModelStatus()).split(".")[-1]
    termination = TERMINATION.get(status_name, status_name)
    info = highs.getInfo()
    has_plan = int(info.primal_solution_status) == 2
    status = status_of(termination, has_plan)
    objective = float(info.objective_function_value) if has_plan else None
    if is_mip:
        bound = float(info.mip_dual_bound)
        bound = bound if math.isfinite(bound) else None
    else:
        bound = objective if status == "optimal" else None
    gap = None
    if objective is not None and bound is not None:
        gap = abs(bound - objective) / max(abs(objective), 1.0)  # 1: no blow-up at 0
        if status == "optimal" and not is_mip:
            gap = 0.0
    x = np.asarray(highs.getSolution().col_value, dtype=float) if has_plan else None
    return Solution(status, termination, objective, bound, gap, x, seconds,
                    "mip" if is_mip else "lp")


def highs_options(cfg: Any) -> dict[str, Any]:
    """HiGHS options of a :class:`~dss.config.model.SolverConfig` (time limit and gap included).

    Also used by ``benchmarks/bench_perf.py`` so the direct-highspy reference solves with
    exactly the options dss uses.

    Defaults: ``method: choose`` (HiGHS picks; dual simplex on these models), presolve on.
    Measured on the synthetic basin (``dss.synth``, 8 actions, one thread, HiGHS 1.16, a quiet
    2-core machine, the same matrices ``dss solve`` hands HiGHS; seconds in ``run``):

    =====================  =======  ========  ======  =======
    variant                MIP 10k  MIP 100k  LP 10k  LP 100k
    =====================  =======  ========  ======  =======
    choose                 0.64     9.48      0.18    2.95
    simplex                0.61     8.67      0.19    3.08
    ipm                    0.62     9.41      0.48    8.63
    ipm, no crossover      0.60     8.90      10.15   -
    choose, no presolve    0.36     6.39      0.05    -
    ipm, no presolve       0.35     6.46      0.59    -
    =====================  =======  ========  ======  =======

    (MIP: 48,599 / 487,037 columns; LP: the same with integrality dropped.) Interior point
    does not pay here, unlike on models dominated by routing equalities: these rows are
    short and the LP relaxation is nearly integral, so dual simplex wins, and in a MIP the
    ``solver`` option only affects the root LP. Switching presolve off made the synthetic
    MIP 1.5-1.8 times faster; it stays on by default because presolve is what keeps harder
    MIPs (fixed costs, zone requirements, tight targets) tractable, and the choice changes
    which of several equally good plans is reported. Set ``solver.presolve: false`` in a
    large model file after measuring there (``python benchmarks/bench_perf.py``).
    """
    options: dict[str, Any] = {"presolve": "on" if cfg.presolve else "off",
                               "solver": cfg.method, "random_seed": 0,
                               "time_limit": float(cfg.time_limit),
                               "mip_rel_gap": float(cfg.mip_gap)}
    if cfg.threads:
        options["threads"] = cfg.threads
    return options
