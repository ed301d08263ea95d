"""Parameter sweeps: re-solve a problem over a list of values of one numeric parameter.

The budget comes first: the cost-effectiveness curve :math:`z^*(B)` (optimal objective as a
function of the budget :math:`B`) and its slope, the marginal benefit of one more unit of
currency. For each point :math:`B_i` (values sorted ascending) the sweep records the
status, objective :math:`z^*(B_i)`, spend :math:`C(x^*_i)`, gap, every benefit term
:math:`B_j(x^*_i)`, and two estimates of the marginal value:

.. math::
    m_i = \\frac{z^*(B_i) - z^*(B_{i-1})}{B_i - B_{i-1}} \\quad (i \\ge 1), \\qquad
    \\lambda_i = \\frac{\\partial z^*}{\\partial B}\\Big|_{B_i}

where :math:`\\lambda_i` is the dual of the ``budget.total`` row (LP), or of that row in the
LP with every integer decision fixed at the plan (MIP, "fixed-MIP" dual). For an LP,
:math:`z^*` is concave and piecewise linear in :math:`B`, so
:math:`\\lambda_i \\le m_i \\le \\lambda_{i-1}`; for a MIP the curve is a step function
and only :math:`m_i` is meaningful across steps.

Two engines:

``persistent``
    for parameters that only change one constraint's right-hand side
    (:data:`RHS_PARAMETERS`: ``budget`` ``total``, ``per_agency.<g>``,
    ``per_township.<g>``; ``carbon`` ``minimum``). The model is built and loaded into
    HiGHS once per worker (:class:`~dss.optimize.persistent.PersistentModel`); each point
    changes one row bound and re-runs HiGHS, LP relaxation first: when the relaxation's
    optimum is integral it is the MIP's optimum, reached in a few dual simplex pivots
    (:meth:`~dss.optimize.persistent.PersistentModel.start_from_relaxation`); otherwise the
    MIP is solved. A row's bound is
    :math:`\\text{value} - a_0` where :math:`a_0` is the constant of its body, measured at
    the value the model was built with (the chunk's first, or its last if the build's
    presolve rejects the first, e.g. a budget below what is locked in). Nothing is loaded
    back into Pyomo: objective, spend and benefit terms are linear forms evaluated on
    HiGHS's column values. On a 10,000-subunit synthetic basin a 20-point sweep takes
    about 1.4 times one full solve, every point through an integral LP relaxation
    (``benchmarks/bench_sweep.py``).
``rebuild``
    for any other parameter (an action's value, a solver option, the horizon...): each
    point overrides the parameter, rebuilds and solves the model from scratch
    (:func:`with_param`, :func:`dss.optimize.solve.solve_built`). A value at which the
    model cannot be built (presolve finds it infeasible) becomes an ``infeasible`` point
    with the reason in ``note``; the sweep stops only if no value can be built.

Points run serially, on local processes (``workers``: contiguous chunks, each worker builds
its own model; processes are spawned, so a script that sweeps with workers needs the usual
``if __name__ == "__main__":`` guard) or on a Dask cluster (``dask``: a scheduler address
or a ``distributed.Client``). With ``warm_start=False`` (the default) every LP or LP
relaxation starts from the same reference basis (the optimum at the sweep's middle value)
and every MIP from scratch, so the plans and objectives do not depend on how points are
split across workers; ``warm_start=True`` keeps HiGHS's basis and incumbent between
consecutive points of a chunk (with a MIP gap above 0 a point may then stop at another plan
within the gap). The fixed-MIP LP behind the duals is always
warm-started (see :meth:`~dss.optimize.persistent.PersistentModel.dual`).
"""

from __future__ import annotations

import logging
import math
import multiprocessing as mp
import queue as queue_mod
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pydantic import ValidationError

from dss.config.loader import _validation_issues, set_dotted
from dss.config.model import ModelConfig
from dss.errors import DssError, InputError, Issue, did_you_mean
from dss.optimize.build import ProgressFn, compile_problem
from dss.optimize.components.base import Component
from dss.optimize.components.benefits import Carbon
from dss.optimize.components.constraints import Budget
from dss.optimize.persistent import FormSet, PersistentModel, amounts_from
from dss.optimize.problem import Problem
from dss.optimize.solve import solve_built

LOGGER = logging.getLogger(__name__)

Engine = Literal["persistent", "rebuild"]


class WorkerError(DssError):
    """An error raised in a sweep worker (process or Dask), carried back with its exit
    code (user errors must pickle cleanly across processes)."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    def __reduce__(self):
        return (WorkerError, (str(self), self.exit_code))


class DependencyError(DssError):
    """An optional dependency needed by the requested feature is not installed."""

    exit_code = 2


# ------------------------------------------------------------------------------ parameters
def with_param(problem: Problem, param: str, value: Any) -> Problem:
    """A new problem with one dotted parameter set, validated like ``--set``.

    ``components.<name>.<key...>`` re-creates that component from its own parameters with
    the key changed (so components added in Python are kept); ``solver.*`` and
    ``settings.*`` change the configuration. The input tables are never re-read.

    Raises:
        InputError: on an unknown component or key, or an invalid value.
    """
    parts = param.split(".")
    if parts[0] == "components":
        if len(parts) < 3:
            raise InputError([Issue("--param", f"{param!r}: write components.<name>.<key>, "
                                               "e.g. components.budget.total")],
                             "invalid sweep parameter")
        name = parts[1]
        if name not in problem.names:
            hint = did_you_mean(name, problem.names)
            raise InputError([Issue("--param", f"no component named {name!r} ("
                                               f"{hint + ' ' if hint else ''}have: "
                                               f"{', '.join(problem.names)})")],
                             "invalid sweep parameter")
        comp = problem.component(name)
        params = {k: v for k, v in comp.spec().items() if k != "type"}
        set_dotted(params, ".".join(parts[2:]), value, "--param", param)
        new = type(comp)(name, **params)
        components = tuple(new if c.name == name else c for c in problem.components)
        specs = dict(problem.config.components)
        if name in specs:
            specs[name] = new.spec()
        config = problem.config.model_copy(update={"components": specs})
        return replace(problem, components=components, config=config)
    if parts[0] in ("solver", "settings") and len(parts) == 2:
        if param == "settings.area_tolerance":
            raise InputError([Issue("--param", "settings.area_tolerance changes how the "
                                               "input tables are read; it cannot be swept")],
                             "invalid sweep parameter")
        raw = problem.config.model_dump()
        set_dotted(raw, param, value, "--param", param)
        try:
            config = ModelConfig.model_validate(raw)
        except ValidationError as err:
            raise InputError(_validation_issues(err, "--param"), "invalid sweep value"
                             ) from None
        return replace(problem, config=config)
    raise InputError([Issue("--param", f"{param!r} cannot be swept (sweep components.<name>."
                                       "<key>, solver.<option> or settings.<key>)")],
                     "invalid sweep parameter")


@dataclass(frozen=True)
class RhsTarget:
    """The one constraint row whose bound a parameter sets.

    Attributes:
        component: Component name.
        constraint: Name of the constraint on the component's block.
        index: Constraint index (None for a scalar constraint).
        side: ``upper`` or ``lower`` bound of the row.
    """

    component: str
    constraint: str
    index: Any
    side: Literal["upper", "lower"]

    def locate(self, built: Any) -> Any:
        """The Pyomo constraint data in a built model (None if it was not created)."""
        block = built.blocks.get(self.component)
        con = None if block is None else block.component(self.constraint)
        if con is None:
            return None
        if self.index is None:
            return con if not con.is_indexed() else None
        return con[self.index] if self.index in con else None


RHS_PARAMETERS: dict[str, str] = {
    "budget total": "components.<budget>.total -> <budget>.total (upper bound)",
    "budget per_agency": "components.<budget>.per_agency.<g> -> <budget>.agency[g] (upper)",
    "budget per_township": "components.<budget>.per_township.<g> -> <budget>.township[g] "
                           "(upper)",
    "carbon minimum": "components.<carbon>.minimum -> <carbon>.floor (lower bound)",
}
"""Parameters that only change one row's bound, swept on the persistent engine."""


def rhs_target(problem: Problem, param: str) -> RhsTarget | None:
    """The row a parameter bounds, if it only changes a right-hand side (else None)."""
    parts = param.split(".")
    if parts[0] != "components" or len(parts) < 3 or parts[1] not in problem.names:
        return None
    comp = problem.component(parts[1])
    rest = parts[2:]
    if isinstance(comp, Budget):
        if rest == ["total"]:
            return RhsTarget(comp.name, "total", None, "upper")
        if len(rest) == 2 and rest[0] == "per_agency":
            return RhsTarget(comp.name, "agency", rest[1], "upper")
        if len(rest) == 2 and rest[0] == "per_township":
            return RhsTarget(comp.name, "township", rest[1], "upper")
    if isinstance(comp, Carbon) and rest == ["minimum"]:
        return RhsTarget(comp.name, "floor", None, "lower")
    return None


def budget_name(problem: Problem) -> str | None:
    """Name of the first budget component with a total (whose dual is reported)."""
    for comp in problem.components:
        if isinstance(comp, Budget) and comp.params.total is not None:
            return comp.name
    return None


def _number(text: str, what: str) -> float:
    """A number from the command line, or ValueError saying which part is not one."""
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{text.strip()!r} is not {what or 'a number'}") from None


def parse_values(values: str | None = None, range_: str | None = None) -> list[float]:
    """Sweep values from ``--values 1e7,2e7`` or ``--range START:STOP:N`` (N points,
    both ends included).

    Raises:
        InputError: if both or neither are given, or a number is malformed.
    """
    if (values is None) == (range_ is None):
        raise InputError([Issue("--values/--range", "give exactly one of --values V1,V2,... "
                                                    "or --range START:STOP:N")],
                         "invalid sweep values")
    where = "--values" if values is not None else "--range"
    example = "write --values 1e7,2e7,3e7 or --range 1e7:5e7:5 (START:STOP:N)"
    if range_ is not None and len(range_.split(":")) != 3:
        parts = len(range_.split(":"))
        raise InputError([Issue(where, f"{range_!r} has {parts} part{'s' if parts != 1 else ''}"
                                       f", it needs three: START:STOP:N, the first and last "
                                       f"value and how many points, e.g. "
                                       f"{range_.rstrip(':')}:6" if parts == 2 else
                                f"{range_!r} is not START:STOP:N; {example}")],
                         "invalid sweep values")
    try:
        if values is not None:
            out = [_number(v, "a number") for v in values.replace(";", ",").split(",")
                   if v.strip()]
        else:
            start, stop, n = range_.split(":")
            count = int(_number(n, "N, a whole number of points"))
            if count < 1 or count != _number(n, ""):
                raise ValueError(f"N must be a whole number of points, at least 1, not {n!r}")
            out = np.linspace(_number(start, "a number (START)"),
                              _number(stop, "a number (STOP)"), count).tolist()
    except ValueError as err:
        raise InputError([Issue(where, f"cannot read {values or range_!r}: {err}; {example}")],
                         "invalid sweep values") from None
    if not out or not all(math.isfinite(v) for v in out):
        raise InputError([Issue("--values", "give at least one finite number")],
                         "invalid sweep values")
    return out


# --------------------------------------------------------------------------- solving points
Report = Callable[[str, int, int], None]


def solve_points(problem: Problem, param: str, values: Sequence[float], engine: Engine,
                 warm_start: bool = False, progress: Report | None = None,
                 reference: float | None = None) -> list[dict[str, Any]]:
    """Solve a contiguous chunk of sweep points in this process.

    ``reference`` (persistent engine, without ``warm_start``): the value at which the
    reference basis every point starts from is computed, the same for every chunk of a
    sweep (default: the chunk's middle value).

    Returns:
        One record per value: value, status, objective, bound, gap, spend, budget_dual,
        solve_seconds and ``benefits`` (label -> value).
    """
    if engine == "persistent":
        return _persistent_points(problem, param, values, warm_start, progress, reference)
    return _rebuild_points(problem, param, values, progress)


def _persistent_points(problem: Problem, param: str, values: Sequence[float],
                       warm_start: bool, progress: Report | None,
                       reference: float | None = None) -> list[dict[str, Any]]:
    target = rhs_target(problem, param)
    built = first = None
    # build at the chunk's first value; if the build's presolve rejects it (e.g. a budget
    # below what is locked in), at its last: the same model up to the one bound
    for at in dict.fromkeys([values[0], values[-1]]):
        try:
            first = with_param(problem, param, at)
            built = compile_problem(first, progress=progress)
            break
        except InputError as err:
            LOGGER.info("%s=%g cannot be built (%s)", param, at, err.summary)
    con = target.locate(built) if target is not None and built is not None else None
    if con is None:
        LOGGER.warning("%s: no persistent model (no row to bound); rebuilding at every point",
                       param)
        return _rebuild_points(problem, param, values, progress)
    pm = PersistentModel(built, warm_start=warm_start)
    row = pm._con_row.get(con)
    if row is None:
        LOGGER.warning("%s sets no row of the built model; rebuilding at every point", param)
        return _rebuild_points(problem, param, values, progress)
    lower, upper = pm.row_bounds(row)
    constant = float(at) - (upper if target.side == "upper" else lower)
    if reference is None:
        reference = float(values[len(values) // 2])
    pm.start_from_relaxation(
        {row: (lower, reference - constant) if target.side == "upper" else
         (reference - constant, upper)})
    cost = pm.linear(built.model.cost)
    benefits = _benefit_reader(built, pm)
    name = budget_name(first)
    budget_row = None
    if name is not None:
        total = built.blocks[name].component("total")
        budget_row = pm._con_row.get(total) if total is not None else None
    records = []
    for i, value in enumerate(values):
        bound = float(value) - constant
        if target.side == "upper":
            pm.set_row_bounds(row, None if math.isinf(lower) else lower, bound)
        else:
            pm.set_row_bounds(row, bound, None if math.isinf(upper) else upper)
        start = time.perf_counter()
        sol = pm.solve()
        rec: dict[str, Any] = {"value": float(value), "status": sol.status,
                               "objective": sol.objective, "bound": sol.bound, "gap": sol.gap,
                               "spend": None, "budget_dual": None, "benefits": {},
                               "method": sol.method, "note": ""}
        if sol.has_plan:
            rec["spend"] = cost(sol.x)
            rec["benefits"] = benefits(sol.x)
            if budget_row is not None:
                rec["budget_dual"] = pm.dual(budget_row, sol)
        rec["solve_seconds"] = time.perf_counter() - start
        records.append(rec)
        LOGGER.info("sweep %s=%g: %s objective=%s (%s, %.3f s)", param, value, sol.status,
                    sol.objective, sol.method, sol.seconds)
        if progress is not None:
            progress("solve", i + 1, len(values))
    return records


def _benefit_reader(built: Any, pm: Any) -> Callable[[np.ndarray], dict[str, float]]:
    """Labelled benefits from HiGHS's column values, without loading them into Pyomo.

    Components with their own array arithmetic (:meth:`Component.benefit_values`
    overridden) are given the amounts; the others' expressions become linear forms once.
    """
    own = [c for c in built.problem.components
           if type(c).benefit_values is not Component.benefit_values]
    labels: dict[str, list[str]] = {}
    forms: dict[str, Any] = {}
    for c in built.problem.components:
        if c not in own:
            terms = c.benefit_terms(built.blocks[c.name], built.ctx)
            labels[c.name] = [f"{c.name}: {label}" for label in terms]
            forms.update({f"{c.name}: {label}": pm.linear(t) for label, t in terms.items()})
    linear = FormSet(forms)

    def read(x: np.ndarray) -> dict[str, float]:
        values = linear(x)
        amounts = amounts_from(pm, x) if own else None
        out: dict[str, float] = {}
        for c in built.problem.components:
            if c in own:
                out.update({f"{c.name}: {label}": v for label, v in c.benefit_values(
                    built.blocks[c.name], built.ctx, amounts).items()})
            else:
                out.update({k: values[k] for k in labels[c.name]})
        return out

    return read


def _rebuild_points(problem: Problem, param: str, values: Sequence[float],
                    progress: Report | None) -> list[dict[str, Any]]:
    records = []
    rejected: list[InputError] = []
    for i, value in enumerate(values):
        varied = with_param(problem, param, value)
        start = time.perf_counter()
        try:
            built = compile_problem(varied)
        except InputError as err:  # presolve: no plan can exist at this value
            rejected.append(err)
            records.append({"value": float(value), "status": "infeasible", "objective": None,
                            "bound": None, "gap": None, "spend": None, "budget_dual": None,
                            "benefits": {}, "solve_seconds": time.perf_counter() - start,
                            "note": _one_line(err)})
            if progress is not None:
                progress("solve", i + 1, len(values))
            continue
        result = solve_built(built)
        duals = result.duals  # wait for the background duals before the next solve
        rec: dict[str, Any] = {"value": float(value), "status": result.status,
                               "objective": result.objective, "bound": result.bound,
                               "gap": result.gap, "spend": None, "budget_dual": None,
                               "benefits": {}, "method": "mip" if built.is_mip else "lp",
                               "note": ""}
        if result.has_plan:
            rec["spend"] = float(pyo.value(built.model.cost))
            rec["benefits"] = built.benefit_values(result.amounts)
            name = budget_name(varied)
            if name is not None and len(duals):
                hit = duals[(duals["component"] == name) & (duals["constraint"] == "total")]
                if len(hit):
                    rec["budget_dual"] = float(hit["dual"].iloc[0])
        rec["solve_seconds"] = time.perf_counter() - start
        records.append(rec)
        LOGGER.info("sweep %s=%g (rebuilt): %s objective=%s", param, value, result.status,
                    result.objective)
        if progress is not None:
            progress("solve", i + 1, len(values))
    if rejected and len(rejected) == len(values):
        raise rejected[0]
    return records


def _one_line(err: InputError) -> str:
    """The first problem of an error, for the sweep table's ``note`` column."""
    return str(err.issues[0]) if err.issues else err.summary


# --------------------------------------------------------------------------- parallel runs
_QUEUE: Any = None


def _init_worker(queue: Any) -> None:
    """Process-pool initializer: keep the queue that carries progress to the parent."""
    global _QUEUE
    _QUEUE = queue


def _chunk_job(problem: Problem, param: str, values: list[float], engine: Engine,
               warm_start: bool, reference: float | None) -> list[dict[str, Any]]:
    """One worker's chunk (processes and Dask); user errors come back as WorkerError."""
    def report(stage: str, done: int, total: int) -> None:
        if stage == "solve" and _QUEUE is not None:
            _QUEUE.put(1)

    try:
        return solve_points(problem, param, values, engine, warm_start, report, reference)
    except DssError as err:
        raise WorkerError(str(err), err.exit_code) from None


def chunks(values: Sequence[float], n: int) -> list[list[float]]:
    """Split values into at most ``n`` contiguous chunks of near-equal length."""
    n = max(1, min(n, len(values)))
    return [list(map(float, c)) for c in np.array_split(np.asarray(values, float), n)
            if len(c)]


def _run_processes(problem: Problem, param: str, parts: list[list[float]], engine: Engine,
                   warm_start: bool, progress: Report | None, reference: float | None
                   ) -> list[dict[str, Any]]:
    ctx = mp.get_context("spawn")  # never fork a process that may hold HiGHS threads
    progress_queue = ctx.Queue()
    total = sum(len(p) for p in parts)
    done = 0

    def drain() -> None:
        nonlocal done
        while True:
            try:
                done += progress_queue.get_nowait()
            except queue_mod.Empty:
                break
        if progress is not None:
            progress("solve", done, total)

    with ProcessPoolExecutor(max_workers=len(parts), mp_context=ctx,
                             initializer=_init_worker, initargs=(progress_queue,)) as pool:
        futures = [pool.submit(_chunk_job, problem, param, part, engine, warm_start,
                               reference)
                   for part in parts]
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            drain()
            failed = [f for f in finished if f.exception() is not None]
            if failed:  # stop at the first failure rather than finishing every chunk
                pool.shutdown(wait=True, cancel_futures=True)
                raise failed[0].exception()
        records = [rec for fut in futures for rec in fut.result()]
    done = total
    if progress is not None:
        progress("solve", done, total)
    return records


class ClusterError(DssError):
    """The Dask scheduler cannot be reached."""

    exit_code = 2


def _dask_client(dask: Any) -> tuple[Any, bool]:
    """A ``distributed.Client`` for an address (owned, to close) or the client given."""
    try:
        import distributed
    except ImportError:
        raise DependencyError("--dask needs Dask's distributed scheduler, which is not "
                              "installed: pip install 'dss[dask]' (or \"dask[distributed]\")"
                              ) from None
    if isinstance(dask, distributed.Client):
        return dask, False
    try:
        return distributed.Client(str(dask), timeout="20s"), True
    except OSError as err:
        raise ClusterError(f"cannot connect to the Dask scheduler at {dask} ({err}); start "
                           "one with `dask scheduler` and `dask worker ADDRESS`, or check "
                           "the address") from None


def _run_dask(dask: Any, problem: Problem, param: str, values: list[float], workers: int,
              engine: Engine, warm_start: bool, progress: Report | None,
              reference: float | None) -> tuple[list[dict[str, Any]], int]:
    """Solve the values on a Dask cluster in contiguous chunks: ``workers`` chunks if above
    1, else one per worker thread of the cluster. Returns the records and chunk count."""
    client, owned = _dask_client(dask)
    try:
        from distributed import as_completed

        n = workers if workers > 1 else max(1, sum(client.nthreads().values()))
        parts = chunks(values, n)
        shared = client.scatter(problem, broadcast=True)
        futures = [client.submit(_chunk_job, shared, param, part, engine, warm_start,
                                 reference, pure=False) for part in parts]
        sizes = {f.key: len(p) for f, p in zip(futures, parts, strict=True)}
        total = sum(sizes.values())
        done = 0
        for fut in as_completed(futures):
            if fut.status == "error":
                raise fut.exception()
            done += sizes[fut.key]
            if progress is not None:
                progress("solve", done, total)
        return [rec for part in client.gather(futures) for rec in part], len(parts)
    finally:
        if owned:
            client.close()


# ------------------------------------------------------------------------------- the sweep
@dataclass
class SweepResult:
    """A finished sweep.

    Attributes:
        param: The swept parameter (dotted key).
        table: One row per value (see :func:`sweep_table`).
        engine: ``persistent`` or ``rebuild``.
        backend: ``serial``, ``processes`` or ``dask``.
        workers: Number of chunks solved in parallel.
        warm_start: Whether HiGHS kept its basis and incumbent between points.
        seconds: Wall-clock time of the whole sweep.
        units: Column -> unit.
    """

    param: str
    table: pd.DataFrame
    engine: Engine
    backend: str
    workers: int
    warm_start: bool
    seconds: float
    units: dict[str, str] = field(default_factory=dict)
    is_budget: bool = False
    """Whether the swept parameter is a budget limit (in currency)."""


def sweep(problem: Problem, param: str, values: Sequence[float], *, workers: int = 1,
          dask: Any = None, warm_start: bool = False, progress: ProgressFn | None = None,
          engine: Engine | None = None) -> SweepResult:
    """Solve ``problem`` at every value of ``param`` (sorted ascending, duplicates dropped).

    Args:
        problem: The base problem (scenarios already applied).
        param: Dotted parameter, e.g. ``components.budget.total``.
        values: The values.
        workers: Local worker processes (contiguous chunks; 1 = in this process).
        dask: A Dask scheduler address or ``distributed.Client``; chunks then run on the
            cluster (one per worker thread, or ``workers`` if above 1).
        warm_start: Keep HiGHS's basis and incumbent between points (persistent engine).
        progress: ``progress(stage, done, total)`` for ``build`` and ``solve``.
        engine: Force an engine (default: persistent when the parameter only changes a
            right-hand side, else rebuild).

    Raises:
        InputError: on an invalid parameter or value (every value is validated first).
        DependencyError: if ``dask`` is given and Dask is not installed.
    """
    start = time.perf_counter()
    ordered = sorted({float(v) for v in values})
    if not ordered:
        raise InputError([Issue("--values", "give at least one value")], "invalid sweep values")
    if len(ordered) != len(values):
        LOGGER.info("sweep values sorted ascending, duplicates dropped: %d points",
                    len(ordered))
    issues = []
    for v in ordered:
        try:
            with_param(problem, param, v)
        except InputError as err:
            issues.extend(Issue(i.file, f"{param}={v:g}: {i.message}", i.row, i.column)
                          for i in err.issues)
    if issues:
        raise InputError(issues, "invalid sweep values")
    if engine is None:
        engine = "persistent" if rhs_target(problem, param) is not None else "rebuild"
    reference = float(ordered[len(ordered) // 2])  # every chunk's LP start (persistent)
    if dask is not None:
        backend = "dask"
        records, n_chunks = _run_dask(dask, problem, param, ordered, workers, engine,
                                      warm_start, progress, reference)
    elif workers > 1 and len(ordered) > 1:
        parts = chunks(ordered, workers)
        backend, n_chunks = "processes", len(parts)
        records = _run_processes(problem, param, parts, engine, warm_start, progress,
                                 reference)
    else:
        backend, n_chunks = "serial", 1
        records = solve_points(problem, param, ordered, engine, warm_start, progress,
                               reference)
    currency = problem.config.settings.currency
    is_budget = _is_budget_param(problem, param)
    table, units = sweep_table(param, records, currency, is_budget)
    seconds = time.perf_counter() - start
    LOGGER.info("sweep of %s: %d points, %s engine, %s x%d, %.2f s", param, len(ordered),
                engine, backend, n_chunks, seconds)
    return SweepResult(param, table, engine, backend, n_chunks, warm_start, seconds, units,
                       is_budget)


def _is_budget_param(problem: Problem, param: str) -> bool:
    target = rhs_target(problem, param)
    return target is not None and isinstance(problem.component(target.component), Budget)


def marginal_column(currency: str, is_budget: bool) -> str:
    """Name of the finite-difference marginal column."""
    return (f"marginal_benefit_per_{currency.lower()}" if is_budget
            else "marginal_objective_per_unit")


def sweep_table(param: str, records: list[dict[str, Any]], currency: str = "CNY",
                is_budget: bool = True) -> tuple[pd.DataFrame, dict[str, str]]:
    """The tidy sweep table (one row per value, ascending) and the unit of each column.

    Columns: ``param``, ``value``, ``status``, ``objective``, ``spend_<cur>``, ``gap``,
    ``benefit <label>`` (one per benefit term, currency), the finite-difference marginal
    :math:`m_i` (``marginal_benefit_per_<cur>`` for a budget, else
    ``marginal_objective_per_unit``), ``budget_dual_per_<cur>`` (:math:`\\lambda_i`),
    ``solve_seconds``, ``method`` (``lp``; ``mip``; ``relaxation``: a MIP point whose LP
    relaxation had an integral optimum, hence optimal without branching) and ``note`` (why
    a point has no plan when the model could not even be built at that value).
    """
    cur = currency.lower()
    records = sorted(records, key=lambda r: r["value"])
    labels: list[str] = []
    for rec in records:
        for label in rec["benefits"]:
            if label not in labels:
                labels.append(label)
    rows = []
    for rec in records:
        row = {"param": param, "value": rec["value"], "status": rec["status"],
               "objective": _num(rec["objective"]), f"spend_{cur}": _num(rec["spend"]),
               "gap": _num(rec["gap"])}
        for label in labels:
            row[f"benefit {label}"] = _num(rec["benefits"].get(label))
        rows.append(row)
    table = pd.DataFrame(rows)
    value = table["value"].to_numpy(float)
    objective = table["objective"].to_numpy(float)
    marginal = np.full(len(table), np.nan)
    if len(table) > 1:
        dv = np.diff(value)
        dz = np.diff(objective)
        with np.errstate(divide="ignore", invalid="ignore"):
            marginal[1:] = np.where(dv > 0, dz / dv, np.nan)
    mcol = marginal_column(currency, is_budget)
    table[mcol] = marginal
    table[f"budget_dual_per_{cur}"] = [_num(r["budget_dual"]) for r in records]
    table["solve_seconds"] = [float(r["solve_seconds"]) for r in records]
    table["method"] = [r.get("method", "") for r in records]
    table["note"] = [r.get("note", "") for r in records]
    units = {"param": "-", "value": currency if is_budget else "parameter unit",
             "status": "-", "objective": currency, f"spend_{cur}": currency,
             "gap": "fraction", mcol: (f"{currency} of objective per {currency}" if is_budget
                                       else f"{currency} of objective per parameter unit"),
             f"budget_dual_per_{cur}": f"{currency} of objective per {currency} of budget",
             "solve_seconds": "s", "method": "-", "note": "-"}
    units.update({f"benefit {label}": currency for label in labels})
    return table, units


def _num(value: Any) -> float:
    return float(value) if value is not None else math.nan
