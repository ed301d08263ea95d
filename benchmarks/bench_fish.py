"""Benchmark: barrier-option planning on synthetic river trees, solved to proven optimality.

Usage::

    python benchmarks/bench_fish.py [--sizes 500,1000,2000,5000] [--options 2] [--share 0.1]
                                    [--seed 0] [--time-limit 600]

For each size a random tree with that many barriers is written
(:func:`dss.synth_fish.write_fish_study`: one barrier per subunit, partial passabilities
today, habitat in every section, ``--options`` options per barrier, the budget at
``--share`` of the total option cost) and solved through the same path as ``dss solve``
(load, build, HiGHS with mip_gap 0). Prints a Markdown table: seconds to load, build and
solve, the status, the gap HiGHS proves, and the accessible habitat before and after.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from dss.optimize.build import compile_problem
from dss.optimize.problem import Problem
from dss.optimize.results import result_tables
from dss.optimize.solve import solve_built
from dss.synth_fish import write_fish_study


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="500,1000,2000,5000")
    parser.add_argument("--options", type=int, default=2)
    parser.add_argument("--share", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time-limit", type=float, default=600.0)
    args = parser.parse_args()
    print("| barriers | options | load s | build s | solve s | status | gap | accessible "
          "before | after |")
    print("|---:|---:|---:|---:|---:|---|---:|---:|---:|")
    for n in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            model = write_fish_study(Path(tmp), n, args.options, seed=args.seed,
                                     budget_share=args.share)
            t0 = time.perf_counter()
            problem = Problem.from_model(
                model, sets=[f"solver.time_limit={args.time_limit!r}"])
            t1 = time.perf_counter()
            built = compile_problem(problem)
            t2 = time.perf_counter()
            result = solve_built(built)
            t3 = time.perf_counter()
            fish = result_tables(result)["fish"].iloc[0]
            print(f"| {n:,} | {n * args.options:,} | {t1 - t0:.2f} | {t2 - t1:.2f} | "
                  f"{t3 - t2:.2f} | {result.status} | {result.gap:.1e} | "
                  f"{fish['before']:,.1f} | {fish['after']:,.1f} |", flush=True)


if __name__ == "__main__":
    main()
