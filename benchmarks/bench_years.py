"""Benchmark planning years against the one-year model (not part of the test suite).

Usage::

    python benchmarks/bench_years.py [--subunits 10000] [--years 3] [--seed 0] [--repeat 1]

Generates a synthetic study (``dss.synth``), then times, in this process, for the model
without years and for the same model with ``settings.years`` (budgets per year adding up to
the total, carry-over, maturation of 0-4 years per action, a 3 % discount rate):

- build: ``dss.optimize.build.compile_problem`` (options, routing, Pyomo model);
- solve: ``dss.optimize.solve.solve_built`` (HiGHS, reading the solution back);
- tables: ``dss.optimize.results.result_tables`` (the phased tables give every year).

Prints a Markdown table (median of ``--repeat`` runs per side), the ratio of build plus
solve time (the goal: at most 3 times the one-year model) and the machine's load average
before and after the runs (timings on a busy machine are inflated and noisy).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml


def make_study(folder: Path, subunits: int, seed: int, years: int) -> tuple[Path, Path]:
    """The synthetic study's model file, and a copy with planning years."""
    from dss.synth import write_study

    path = write_study(folder, subunits, seed=seed)
    actions = pd.read_csv(folder / "actions.csv", keep_default_na=False)
    actions["maturity_years"] = np.arange(len(actions)) % 5  # 0-4 years
    actions.to_csv(folder / "actions.csv", index=False)
    model = yaml.safe_load(path.read_text(encoding="utf-8"))
    model["solver"].update({"mip_gap": 1e-4, "threads": 1})
    path.write_text(yaml.safe_dump(model, sort_keys=False), encoding="utf-8")
    total = model["components"]["budget"]["total"]
    plan_years = list(range(2020, 2020 + years))
    model["settings"] = {"horizon_years": 10, "years": plan_years, "discount_rate": 0.03}
    model["components"]["budget"].update({
        "per_year": {y: float(total / years) for y in plan_years}, "carry_over": True})
    phased = folder / "model_years.yaml"
    phased.write_text(yaml.safe_dump(model, sort_keys=False), encoding="utf-8")
    return path, phased


def run_one(path: Path) -> dict[str, float]:
    """Build, solve and make the tables of one model; seconds per stage."""
    from dss.optimize.build import compile_problem
    from dss.optimize.problem import Problem
    from dss.optimize.results import result_tables
    from dss.optimize.solve import solve_built

    problem = Problem.from_model(path)
    t0 = time.perf_counter()
    built = compile_problem(problem)
    t1 = time.perf_counter()
    result = solve_built(built)
    t2 = time.perf_counter()
    result_tables(result)
    t3 = time.perf_counter()
    return {"options": built.ctx.n_options, "build": t1 - t0, "solve": t2 - t1,
            "tables": t3 - t2, "status": result.status, "objective": result.objective}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subunits", type=int, default=10_000)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        plain, phased = make_study(Path(tmp) / "study", args.subunits, args.seed, args.years)
        runs: dict[str, list[dict]] = {"one year": [], f"{args.years} years": []}
        load_before = os.getloadavg()[0]
        for _ in range(args.repeat):  # alternate the sides
            for label, path in zip(runs, (plain, phased), strict=True):
                runs[label].append(run_one(path))
    print(f"| model ({args.subunits:,} subunits) | options | build s | solve s | build + solve s"
          " | tables s | status |")
    print("|---|---:|---:|---:|---:|---:|---|")
    totals = {}
    for label, rows in runs.items():
        med = {k: statistics.median(r[k] for r in rows) for k in ("build", "solve", "tables")}
        totals[label] = med["build"] + med["solve"]
        print(f"| {label} | {rows[0]['options']:,} | {med['build']:.2f} | {med['solve']:.2f} | "
              f"{totals[label]:.2f} | {med['tables']:.2f} | {rows[0]['status']} |")
    one, many = totals.values()
    print(f"\nratio (build + solve): {many / one:.2f}")
    print(f"load average (1 min): {load_before:.2f} before, {os.getloadavg()[0]:.2f} after")


if __name__ == "__main__":
    main()
