"""Benchmark sample average approximation on a synthetic basin (not part of the test suite).

Usage::

    python benchmarks/bench_saa.py [--subunits 10000] [--scenarios 100] [--seed 1]

A synthetic study (``dss.synth.write_study``, which includes an ``uncertainty.csv``) is
written to a temporary folder, then solved

- deterministically (``max_benefit``, the nominal inputs);
- with ``stochastic_benefit`` over ``--scenarios`` draws: expected benefit, CVaR at 0.9;
- expected benefit with a robust sediment limit (``chance_limits``, share 1) and with a
  chance constraint (share 0.9, one binary per scenario) at the first control point.

Prints a Markdown table: the time to build (which includes making the scenarios'
coefficients, one ``make_context`` per scenario, also timed alone) and to solve (HiGHS, one
thread, ``--time-limit``), the model's columns and rows, the status, gap and objective.
The decisions are the same in every scenario: the columns grow by one or two per scenario,
never by a copy of the options.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path


def run(model_path: Path, objective: dict, extra: dict | None, time_limit: float) -> dict:
    from dss.optimize.build import compile_problem
    from dss.optimize.components.scenario_data import scenario_data
    from dss.optimize.matrix import compile_matrix
    from dss.optimize.problem import Problem, components_from_config
    from dss.optimize.solve import solve_built

    start = time.perf_counter()
    problem = Problem.from_model(model_path).with_solver(time_limit=time_limit, threads=1)
    for comp in components_from_config({"objective": objective, **(extra or {})}):
        problem = problem.add(comp)
    loaded = time.perf_counter()
    built = compile_problem(problem)
    build = time.perf_counter() - loaded
    scenarios = 0.0
    if objective["type"] == "stochastic_benefit":  # made once per build, inside it
        t0 = time.perf_counter()
        scenario_data(built.ctx, "drawn", objective["draws"], objective["seed"]).contexts.clear()
        built.ctx._memo.clear()
        scenario_data(built.ctx, "drawn", objective["draws"], objective["seed"])
        scenarios = time.perf_counter() - t0
    matrix = compile_matrix(built.model, built.ctx)
    t0 = time.perf_counter()
    result = solve_built(built)
    solve = time.perf_counter() - t0
    return {"load": loaded - start, "scenarios": scenarios, "build": build, "solve": solve,
            "cols": matrix.n_cols, "rows": matrix.n_rows, "objective": result.objective,
            "status": result.status, "options": built.ctx.n_options, "gap": result.gap}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subunits", type=int, default=10_000)
    parser.add_argument("--scenarios", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=600.0)
    args = parser.parse_args(argv)
    from dss.synth import write_study

    with tempfile.TemporaryDirectory() as tmp:
        model = write_study(Path(tmp) / "study", args.subunits, args.seed)
        import pandas as pd

        point = str(pd.read_csv(Path(tmp) / "study" / "control_points.csv")["point_id"].iat[0])
        scen = {"draws": args.scenarios, "seed": args.seed, "scenarios": "drawn"}
        limit = {"type": "chance_limits", "reductions": {point: {"sediment": 0.02}}, **scen}
        cases = [
            ("deterministic (max_benefit)", {"type": "max_benefit"}, None),
            ("expected benefit", {"type": "stochastic_benefit", **scen}, None),
            ("CVaR 0.9", {"type": "stochastic_benefit", "measure": "cvar", "level": 0.9,
                          **scen}, None),
            ("expected + robust limit", {"type": "stochastic_benefit", **scen},
             {"saa_limit": {**limit, "share": 1.0}}),
            ("expected + chance limit 0.9", {"type": "stochastic_benefit", **scen},
             {"saa_limit": {**limit, "share": 0.9}}),
        ]
        print(f"{args.subunits:,} subunits, {args.scenarios} scenarios (seconds)\n")
        print("| case | options | columns | rows | scenarios | build | solve | status | gap | "
              "objective |")
        print("|---|---:|---:|---:|---:|---:|---:|---|---:|---:|")
        for label, objective, extra in cases:
            r = run(model, objective, extra, args.time_limit)
            print(f"| {label} | {r['options']:,} | {r['cols']:,} | {r['rows']:,} | "
                  f"{r['scenarios']:.1f} | {r['build']:.1f} | {r['solve']:.1f} | "
                  f"{r['status']} | {r['gap']:.1e} | {r['objective']:,.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
