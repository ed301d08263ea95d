"""Solving a sweep's points: one persistent HiGHS model re-solved with a changed right-hand
side, or a problem rebuilt per value (:mod:`dss.optimize.sweep`)."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
import pyomo.environ as pyo

from dss.errors import InputError
from dss.optimize.build import compile_problem
from dss.optimize.components.base import Component
from dss.optimize.persistent import FormSet, PersistentModel, amounts_from
from dss.optimize.problem import Problem
from dss.optimize.solve import solve_built
from dss.optimize.sweep_params import budget_name, rhs_target, with_param

LOGGER = logging.getLogger(__name__)


Engine = Literal["persistent", "rebuild"]
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
        duals = result.duals
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
