"""Benchmark the optimizer on synthetic basins of growing size (not part of the test suite).

Usage::

    python benchmarks/bench_solve.py [--sizes 1000 10000 100000] [--actions 8]
                                     [--seed 0] [--time-limit SECONDS] [--timeout SECONDS]

For each size a synthetic study is generated into a temporary folder (``dss.synth``), then a
fresh Python process times, separately:

- read: ``load_model`` + ``load_study`` (parse, type and cross-check every table);
- build: ``dss.optimize.build.compile_problem`` (options, routing, Pyomo model);
- solve: ``dss.optimize.solve.solve_built`` (HiGHS, including reading the solution back);
- write: ``dss.optimize.results.result_tables`` + ``dss.results.writer.write_run``;

and reports its peak resident memory (``ru_maxrss``). One process per size keeps the peaks
per size. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COLUMNS = ["N", "options", "read s", "build s", "solve s", "write s", "total s", "status",
           "objective", "peak RSS MB"]


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (ru_maxrss is KB on Linux)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 1024.0 / (1024.0 if sys.platform == "darwin" else 1.0)


def run_one(model_path: Path, out_dir: Path, time_limit: float | None) -> dict:
    """Time read, build, solve and write of one study, in this process."""
    from dss.api import input_hashes
    from dss.config.loader import load_model
    from dss.data.study import load_study
    from dss.optimize.build import compile_problem
    from dss.optimize.problem import Problem
    from dss.optimize.results import result_tables
    from dss.optimize.solve import solve_built
    from dss.results.writer import make_manifest, write_run

    def progress(stage: str, seconds: float, **extra) -> None:
        print(json.dumps({"stage": stage, "seconds": seconds, "rss": peak_rss_mb(), **extra}),
              flush=True)

    t0 = time.perf_counter()
    resolved = load_model(model_path)
    study = load_study(resolved.inputs_dir, resolved.config.name,
                       resolved.config.settings.area_tolerance)
    problem = Problem.from_config(study, resolved.config, resolved)
    if time_limit is not None:
        problem = problem.with_solver(time_limit=time_limit)
    t1 = time.perf_counter()
    progress("read", t1 - t0)
    built = compile_problem(problem)
    t2 = time.perf_counter()
    progress("build", t2 - t1, options=built.ctx.n_options)
    result = solve_built(built)
    t3 = time.perf_counter()
    progress("solve", t3 - t2)
    tables = result_tables(result)
    manifest = make_manifest("solve", input_hashes(resolved, study), resolved.raw,
                             {"solver": {"status": result.status,
                                         "objective": result.objective}})
    write_run(out_dir / resolved.config.name / "bench", tables, manifest,
              {"solver.log": result.log})
    t4 = time.perf_counter()
    return {"N": len(study.subunits), "options": built.ctx.n_options,
            "read": t1 - t0, "build": t2 - t1, "solve": t3 - t2, "write": t4 - t3,
            "total": t4 - t0, "status": result.status, "objective": result.objective,
            "rss": peak_rss_mb()}


def measure(size: int, actions: int, seed: int, time_limit: float | None,
            timeout: float | None) -> dict:
    """Generate a study of ``size`` subunits and time it in a fresh subprocess."""
    from dss.synth import write_study

    with tempfile.TemporaryDirectory(prefix=f"dss_bench_{size}_") as tmp:
        t0 = time.perf_counter()
        model = write_study(Path(tmp) / "study", size, seed=seed, n_actions=actions)
        synth = time.perf_counter() - t0
        cmd = [sys.executable, __file__, "--child", str(model), str(Path(tmp) / "results")]
        if time_limit is not None:
            cmd += ["--time-limit", str(time_limit)]
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
            hwm = None
            try:
                proc.wait(timeout=timeout)
                killed = False
            except subprocess.TimeoutExpired:
                killed = True  # keep the stages it finished and its peak memory so far
                hwm = _vm_hwm_mb(proc.pid)
                proc.kill()
                proc.wait()
            out.seek(0)
            err.seek(0)
            lines = [json.loads(line) for line in out.read().splitlines()
                     if line.startswith("{")]
            err_text = err.read()
        row = {"N": size, "synth": synth}
        for line in lines:  # progress lines, then the final row
            if "stage" in line:
                row[line.pop("stage")] = line.pop("seconds")
                row.update(line)
            else:
                row.update(line)
        if killed:
            done = [k for k in ("read", "build", "solve") if k in row]
            stage = {0: "read", 1: "build", 2: "solve", 3: "write"}[len(done)]
            row["status"] = f"killed after {timeout:.0f} s in {stage}"
            if hwm is not None:
                row["rss"] = hwm
        elif proc.returncode != 0:
            tail = err_text.strip().splitlines()[-1:] or ["?"]
            row["status"] = f"failed ({tail[0][:60]})"
        return row


def _vm_hwm_mb(pid: int) -> float | None:
    """Peak RSS of a running process from /proc (Linux), in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def fmt_row(row: dict) -> list[str]:
    """Cells of one table row."""
    def sec(key: str) -> str:
        return f"{row[key]:.2f}" if key in row else "-"

    obj = row.get("objective")
    return [f"{row['N']:,}", f"{row['options']:,}" if "options" in row else "-",
            sec("read"), sec("build"), sec("solve"), sec("write"), sec("total"),
            str(row.get("status", "-")), f"{obj:,.0f}" if obj is not None else "-",
            f"{row['rss']:.0f}" if "rss" in row else "-"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--actions", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time-limit", type=float, default=None,
                        help="Solver time limit in seconds (default: the model's, 1800 s).")
    parser.add_argument("--timeout", type=float, default=None,
                        help="Kill a size's process after this many seconds.")
    parser.add_argument("--child", nargs=2, metavar=("MODEL", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        row = run_one(Path(args.child[0]), Path(args.child[1]), args.time_limit)
        print(json.dumps(row))
        return
    print(f"dss solve benchmark: {args.actions} actions, seed {args.seed}, "
          f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}\n", flush=True)
    rows = []
    for size in args.sizes:
        row = measure(size, args.actions, args.seed, args.time_limit, args.timeout)
        rows.append(row)
        print(f"  {size:,} subunits: synth {row['synth']:.1f} s, "
              f"total {row.get('total', float('nan')):.1f} s, {row['status']}",
              file=sys.stderr, flush=True)
    print("| " + " | ".join(COLUMNS) + " |")
    print("|" + "|".join("---:" if c not in ("status",) else "---" for c in COLUMNS) + "|")
    for row in rows:
        print("| " + " | ".join(fmt_row(row)) + " |")
    print("\nsynth (generation, not in total): "
          + ", ".join(f"{r['N']:,}: {r['synth']:.1f} s" for r in rows))


if __name__ == "__main__":
    main()
