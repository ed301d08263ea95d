"""Benchmark a budget sweep against one full solve (not part of the test suite).

Usage::

    python benchmarks/bench_sweep.py [--subunits 10000] [--points 20] [--seed 1]
                                     [--workers 1 2] [--warm] [--compare]

A synthetic study (``dss.synth.write_study``) is written to a temporary folder. Then:

- **one solve**: load the study, build the model and solve it (``Problem.from_model``,
  ``compile_problem``, ``solve_built``: what ``dss solve`` does before writing tables,
  fixed-MIP duals included);
- **sweep**: load, build once and solve ``--points`` budgets from 0.2 to 2 times the
  study's budget on the persistent engine (``dss.optimize.sweep.sweep``), with every
  point's objective, spend, benefit terms and budget dual, serially and with each
  ``--workers`` count; ``--warm`` adds warm-started runs.

Prints a Markdown table with each wall-clock time, its ratio to one solve (issue 7's
target: a 20-point sweep takes at most 3 times one solve) and the CPU time (this process
and its worker processes; on a shared machine CPU time is the steadier measure).
``--compare`` also measures, per point, the alternatives to the direct ``changeRowBounds``
route: Pyomo's persistent interface with the budget in a mutable ``Param`` and only
``update_parameters`` enabled, and rebuilding the model at every point.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (worker processes)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def one_solve(model_path: Path) -> tuple[float, float]:
    """Seconds of one full load + build + solve, and its objective."""
    from dss.optimize.build import compile_problem
    from dss.optimize.problem import Problem
    from dss.optimize.solve import solve_built

    start = time.perf_counter()
    problem = Problem.from_model(model_path)
    result = solve_built(compile_problem(problem))
    return time.perf_counter() - start, float(result.objective)


def run_sweep(model_path: Path, values: list[float], workers: int, warm: bool
              ) -> tuple[float, object]:
    """Seconds of load + sweep, and the sweep result."""
    from dss.optimize.problem import Problem
    from dss.optimize.sweep import sweep

    start = time.perf_counter()
    problem = Problem.from_model(model_path)
    result = sweep(problem, "components.budget.total", values, workers=workers,
                   warm_start=warm)
    return time.perf_counter() - start, result


def compare_routes(model_path: Path, values: list[float]) -> list[tuple[str, float, float]]:
    """Wall and CPU seconds per point of three ways to re-solve after a budget change
    (both persistent routes warm-started, as Pyomo's persistent interface is)."""
    import pyomo.environ as pyo
    from pyomo.contrib.solver.solvers.highs import Highs

    from dss.optimize.build import compile_problem
    from dss.optimize.persistent import PersistentModel, amounts_from
    from dss.optimize.problem import Problem
    from dss.optimize.sweep import sweep

    problem = Problem.from_model(model_path)
    out = []

    def timed(name: str, run, n: int) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        out.append((name, (time.perf_counter() - wall) / n, (time.process_time() - cpu) / n))

    # 1. direct highspy: changeRowBounds + run, column values read as arrays
    built = compile_problem(problem)
    pm = PersistentModel(built, warm_start=True)
    row = pm.row(built.model.budget.total)

    def direct() -> None:
        for v in values:
            pm.set_row_bounds(row, None, v)
            amounts_from(pm, pm.solve().x)

    timed("direct highspy (changeRowBounds + run)", direct, len(values))
    # 2. Pyomo persistent interface, budget as a mutable Param, only parameters updated
    built = compile_problem(problem)
    m = built.model
    m.budget.del_component("total")
    m.budget.total_param = pyo.Param(initialize=float(values[0]), mutable=True)
    m.budget.total = pyo.Constraint(expr=m.cost <= m.budget.total_param)
    solver = Highs()
    for flag in ("check_for_new_or_removed_constraints", "check_for_new_or_removed_vars",
                 "check_for_new_or_removed_params", "check_for_new_objective",
                 "update_constraints", "update_vars", "update_named_expressions",
                 "update_objective"):
        setattr(solver.config.auto_updates, flag, False)
    cfg = problem.config.solver
    opts = dict(load_solutions=False, raise_exception_on_nonoptimal_result=False,
                rel_gap=cfg.mip_gap, time_limit=cfg.time_limit,
                solver_options={"random_seed": 0, "threads": cfg.threads,
                                "output_flag": False})
    solver.solve(m, **opts)

    def pyomo_persistent() -> None:
        for v in values:
            m.budget.total_param.set_value(float(v))
            res = solver.solve(m, **opts)
            res.solution_loader.get_vars(vars_to_load=built.ctx.amount_vars)

    timed("Pyomo persistent (mutable Param, update_parameters)", pyomo_persistent,
          len(values))
    # 3. rebuild and solve from scratch at every point (3 points are enough)
    few = values[:3]
    timed("rebuild per point (compile + solve_built)",
          lambda: sweep(problem, "components.budget.total", few, engine="rebuild"), len(few))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subunits", type=int, default=10_000)
    parser.add_argument("--points", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--warm", action="store_true", help="also time warm-started sweeps")
    parser.add_argument("--compare", action="store_true",
                        help="also time the alternative re-solve routes per point")
    args = parser.parse_args(argv)

    from dss.config.loader import load_model
    from dss.synth import write_study

    with tempfile.TemporaryDirectory(prefix="dss-bench-sweep-") as tmp:
        model_path = write_study(Path(tmp) / "study", args.subunits, seed=args.seed)
        budget = load_model(model_path).config.components["budget"]["total"]
        values = np.linspace(0.2 * budget, 2.0 * budget, args.points).tolist()
        cpu0 = cpu_seconds()
        base, objective = one_solve(model_path)
        base_cpu = cpu_seconds() - cpu0
        rows = [("one solve (load + build + solve)", base, "1.00", base_cpu,
                 f"objective {objective:,.0f}")]
        runs = [(w, False) for w in args.workers]
        if args.warm:
            runs += [(w, True) for w in args.workers]
        reference = None
        for workers, warm in runs:
            cpu0 = cpu_seconds()
            seconds, result = run_sweep(model_path, values, workers, warm)
            cpu = cpu_seconds() - cpu0
            table = result.table
            optimal = int((table["status"] == "optimal").sum())
            mean = table["solve_seconds"].mean()
            objective = table["objective"].to_numpy()
            if reference is None:
                reference = objective
                same = "reference"
            else:
                diff = np.nanmax(np.abs(objective - reference) / np.abs(reference))
                same = "identical objectives" if diff == 0 else f"objectives within {diff:.1e}"
            rows.append((f"{args.points}-point budget sweep, {result.engine}, "
                         f"{'warm' if warm else 'cold'}, workers={workers}", seconds,
                         f"{seconds / base:.2f}", cpu,
                         f"{optimal}/{len(table)} optimal, {mean:.2f} s per point, {same}"))
        print(f"\nSynthetic basin: {args.subunits:,} subunits (seed {args.seed}), budgets "
              f"{values[0]:.3g} to {values[-1]:.3g} CNY\n")
        print("| run | wall s | ratio to one solve | CPU s | notes |")
        print("|---|---:|---:|---:|---|")
        for name, seconds, ratio, cpu, note in rows:
            print(f"| {name} | {seconds:.2f} | {ratio} | {cpu:.2f} | {note} |")
        if args.compare:
            print("\n| re-solve route | wall s per point | CPU s per point |")
            print("|---|---:|---:|")
            for name, seconds, cpu in compare_routes(model_path, values):
                print(f"| {name} | {seconds:.2f} | {cpu:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
