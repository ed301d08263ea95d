"""``dss solve`` as a whole process, beside HiGHS alone solving the very model dss solves.

Usage::

    python benchmarks/bench_perf.py [--sizes 10000,100000] [--repeat 3] [--actions 8]
                                    [--seed 0] [--timeout SECONDS] [--no-phases]

For each size a synthetic study is generated (``dss.synth.write_study``) and solved once by
``dss solve --write-model`` to write the exact model dss hands HiGHS (MPS). Then, ``repeat``
times, alternating, two fresh processes are timed from spawn to exit (what a user waits for):

- **dss**: ``python -m dss solve MODEL --out DIR`` (start-up, imports, reading and checking
  the tables, building, compiling, HiGHS, the fixed-MIP duals, every result table, the
  report, the console output and the interpreter's exit);
- **HiGHS alone**: a Python process that imports only ``highspy``, reads the MPS file and
  runs it with the options dss uses (:func:`dss.optimize.solve.highs_options`, one thread).

Each pair gives a ratio dss / HiGHS alone; the table shows the median of the paired ratios
(pairs share the machine's load of the moment) and each side's median time, with the peak
resident memory of each child (``os.wait4``'s ``ru_maxrss``, so each process is measured on
its own). The objectives of both sides are compared (relative 1e-9). Then one more dss
process, instrumented, prints where dss's time goes (``--no-phases`` skips it): start-up
and imports, read and validate, build, compile and load into HiGHS, HiGHS, reading the
plan back, writing (and waiting for the duals), console, interpreter exit.

Needs only what ``pip install -e ".[test]"`` installs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

RELATIVE_TOLERANCE = 1e-9
"""Relative tolerance on the objective between dss and HiGHS alone."""

HIGHS_ALONE = r"""
import json, sys, time
import highspy
path, options = sys.argv[1], json.loads(sys.argv[2])
h = highspy.Highs()
h.setOptionValue("output_flag", False)
h.readModel(path)
for key, value in options.items():
    h.setOptionValue(key, value)
start = time.perf_counter()
h.run()
print(json.dumps({"status": h.modelStatusToString(h.getModelStatus()),
                  "objective": h.getInfo().objective_function_value,
                  "run": time.perf_counter() - start}))
"""
"""The HiGHS-alone process: imports highspy only, reads the file, runs with dss's options."""


def run_child(cmd: list[str], timeout: float | None, env: dict | None = None) -> dict:
    """Run ``cmd`` as a fresh process; its wall time, peak RSS (MB), exit code and output."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        timer = threading.Timer(timeout, proc.kill) if timeout else None
        if timer is not None:
            timer.start()
        _pid, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        if timer is not None:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        scale = 1024.0 * (1024.0 if sys.platform == "darwin" else 1.0)
        return {"seconds": seconds, "rss": usage.ru_maxrss / scale, "code": proc.returncode,
                "stdout": out.read().decode("utf-8", "replace"),
                "stderr": err.read().decode("utf-8", "replace")}


def dss_objective(results: Path) -> float | None:
    """The objective recorded in the run's manifest."""
    import yaml

    manifests = sorted(results.glob("*/*/manifest.yaml"))
    if not manifests:
        return None
    solver = yaml.safe_load(manifests[0].read_text(encoding="utf-8")).get("solver", {})
    return solver.get("objective")


def measure(size: int, actions: int, seed: int, repeat: int, timeout: float | None,
            phases: bool) -> dict:
    """Time dss and HiGHS alone on one synthetic study (see the module docstring)."""
    from dss.config.loader import load_model
    from dss.optimize.solve import highs_options
    from dss.synth import write_study

    with tempfile.TemporaryDirectory(prefix=f"dss_perf_{size}_") as tmp:
        model = write_study(Path(tmp) / "study", size, seed=seed, n_actions=actions)
        mps = Path(tmp) / "model.mps"
        results = Path(tmp) / "results"
        first = run_child([sys.executable, "-m", "dss", "solve", str(model), "--out",
                           str(results), "--write-model", str(mps)], timeout)
        if first["code"] not in (0, 6, 7) or not mps.is_file():
            return {"N": size, "error": f"dss solve failed: {first['stderr'][-300:]}"}
        options = json.dumps(highs_options(load_model(model).config.solver))
        dss_cmd = [sys.executable, "-m", "dss", "solve", str(model), "--out", str(results)]
        ref_cmd = [sys.executable, "-c", HIGHS_ALONE, str(mps), options]
        pairs = []
        for _ in range(repeat):
            ours = run_child(dss_cmd, timeout)
            theirs = run_child(ref_cmd, timeout)
            pairs.append((ours, theirs))
            print(f"    {size:,}: dss {ours['seconds']:.2f} s {ours['rss']:.0f} MB (exit "
                  f"{ours['code']}), HiGHS alone {theirs['seconds']:.2f} s "
                  f"{theirs['rss']:.0f} MB, ratio {ours['seconds'] / theirs['seconds']:.2f}",
                  flush=True)
        ref = json.loads(pairs[-1][1]["stdout"].strip().splitlines()[-1])
        row = {"N": size, "dss": statistics.median(p[0]["seconds"] for p in pairs),
               "highs": statistics.median(p[1]["seconds"] for p in pairs),
               "ratio": statistics.median(p[0]["seconds"] / p[1]["seconds"] for p in pairs),
               "dss_rss": statistics.median(p[0]["rss"] for p in pairs),
               "highs_rss": statistics.median(p[1]["rss"] for p in pairs),
               "objective": dss_objective(results), "ref_objective": ref["objective"],
               "ref_status": ref["status"], "ref_run": ref["run"],
               "codes": sorted({p[0]["code"] for p in pairs})}
        row["rss_ratio"] = row["dss_rss"] / row["highs_rss"]
        if phases:
            row["phases"] = phase_split(model, Path(tmp) / "phases", timeout)
    return row


# ----------------------------------------------------------------------- the phase split

def phase_split(model: Path, out: Path, timeout: float | None) -> dict:
    """Where one instrumented ``dss solve`` process spends its time (seconds per phase)."""
    spawn = time.time()
    child = run_child([sys.executable, __file__, "--child-phases", str(model), str(out),
                       repr(spawn)], timeout)
    lines = [line for line in child["stdout"].splitlines() if line.startswith("{")]
    if not lines:
        return {"error": child["stderr"][-300:]}
    marks = json.loads(lines[-1])
    marks["exit"] = spawn + child["seconds"]
    order = ["spawn", "imported", "read", "built", "loaded", "solved", "read_back",
             "written", "console", "exit"]
    names = ["start-up and imports", "read and validate", "build", "compile and load",
             "HiGHS", "plan read back", "write (and duals)", "console", "exit"]
    marks["spawn"] = spawn
    got = [k for k in order if k in marks]
    return {names[order.index(b) - 1]: marks[b] - marks[a] for a, b in zip(got, got[1:],
                                                                            strict=False)}


def child_phases(model: str, out: str, spawn: float) -> None:
    """The instrumented dss process: the CLI's ``solve`` with time marks at each phase."""
    import io
    from contextlib import redirect_stdout

    marks: dict[str, float] = {}
    import dss.optimize.persistent as persistent
    import dss.optimize.solve as solve_mod
    from dss.cli import app

    marks["imported"] = time.time()
    compile_problem, solve_built = solve_mod.compile_problem, solve_mod.solve_built
    init, run = persistent.PersistentModel.__init__, persistent.PersistentModel.solve

    def timed_compile(*args, **kwargs):
        marks.setdefault("read", time.time())
        built = compile_problem(*args, **kwargs)
        marks.setdefault("built", time.time())
        return built

    def timed_init(self, *args, **kwargs):
        init(self, *args, **kwargs)
        marks.setdefault("loaded", time.time())

    def timed_run(self, *args, **kwargs):
        solution = run(self, *args, **kwargs)
        marks.setdefault("solved", time.time())
        return solution

    def timed_solve(*args, **kwargs):
        result = solve_built(*args, **kwargs)
        marks.setdefault("read_back", time.time())
        return result

    def timed_commit(self, *args, **kwargs):
        folder = commit(self, *args, **kwargs)
        marks.setdefault("written", time.time())
        return folder

    from dss.results.writer import StagedRun

    commit = StagedRun.commit
    solve_mod.compile_problem, solve_mod.solve_built = timed_compile, timed_solve
    persistent.PersistentModel.__init__ = timed_init
    persistent.PersistentModel.solve = timed_run
    StagedRun.commit = timed_commit
    console = io.StringIO()
    with redirect_stdout(console):
        try:
            app(["solve", model, "--out", out], standalone_mode=False)
        except SystemExit:
            pass
        marks["console"] = time.time()
    print(json.dumps(marks), flush=True)
    from dss.cli.common import STATE, exit_process

    if STATE["quick_exit"]:  # as the console entry point ends
        exit_process(0)


# ---------------------------------------------------------------------------------- driver

def table(rows: list[dict]) -> str:
    """The Markdown table of the results."""
    lines = ["| subunits | `dss solve`, whole process | HiGHS alone, whole process | ratio "
             "(median of pairs) | peak RSS dss / HiGHS | memory ratio |",
             "|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['N']:,} | {r['error']} | | | | |")
            continue
        lines.append(f"| {r['N']:,} | {r['dss']:.2f} s | {r['highs']:.2f} s | "
                     f"{r['ratio']:.2f} | {r['dss_rss']:,.0f} / {r['highs_rss']:,.0f} MB | "
                     f"{r['rss_ratio']:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000",
                        help="Comma-separated numbers of subunits.")
    parser.add_argument("--actions", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3, help="Pairs of runs per size.")
    parser.add_argument("--timeout", type=float, default=None,
                        help="Kill a process after this many seconds.")
    parser.add_argument("--no-phases", action="store_true",
                        help="Skip the instrumented run that splits dss's time by phase.")
    parser.add_argument("--child-phases", nargs=3, metavar=("MODEL", "OUT", "SPAWN"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_phases:
        child_phases(args.child_phases[0], args.child_phases[1], float(args.child_phases[2]))
        return 0
    sizes = [int(s) for s in args.sizes.replace(" ", ",").split(",") if s]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"dss solve vs HiGHS alone: {args.actions} actions, seed {args.seed}, "
          f"{os.cpu_count()} CPUs, load average {load:.2f}, Python "
          f"{sys.version.split()[0]}, {args.repeat} alternating pairs per size\n", flush=True)
    rows = [measure(size, args.actions, args.seed, max(1, args.repeat), args.timeout,
                    not args.no_phases) for size in sizes]
    print()
    print(table(rows))
    print()
    ok = True
    for r in rows:
        if "error" in r:
            ok = False
            continue
        a, b = r["objective"], r["ref_objective"]
        rel = abs(a - b) / max(abs(b), 1.0) if a is not None else float("inf")
        same = rel <= RELATIVE_TOLERANCE
        ok &= same
        print(f"N={r['N']:,}: objective dss {a!r}, HiGHS alone {b!r} ({r['ref_status']}, "
              f"run {r['ref_run']:.2f} s), relative difference {rel:.1e} "
              f"({'equal' if same else 'MISMATCH'} at {RELATIVE_TOLERANCE:g}); dss exit "
              f"codes {r['codes']}")
        split = r.get("phases")
        if split:
            print("  dss phases (one instrumented process): " + ", ".join(
                f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}"
                for k, v in split.items()))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
