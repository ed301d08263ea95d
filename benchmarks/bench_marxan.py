"""Benchmark: a 1,500-unit Marxan project with a boundary penalty, solved to proven optimality.

Usage::

    python benchmarks/bench_marxan.py [--rows 30] [--cols 50] [--features 20] [--blm 1]
                                      [--seed 0] [--amounts presence|area]
                                      [--time-limit 300] [--gap 0] [--out FOLDER]
                                      [--highs KEY=VALUE ...]
    python benchmarks/bench_marxan.py --sweep [--features 17] [--max-units 20000]
                                      [--line-amounts cover area]
    python benchmarks/bench_marxan.py --tasmania [--time-limit 300] [--gap 1e-4]
                                      [--threads 1,2]

``--sweep`` prints the time to proven optimality at 1,000, 1,751 (the size of a real Marxan
project, 17 x 103), 2,000, 5,000, 10,000 and 20,000 units, each without and with the BLM,
then the 1,751-unit project again with each of ``--line-amounts``
(``results/benchmarks/marxan_sweep.md``). Besides seconds, each row gives HiGHS's work
(branch-and-bound nodes, simplex iterations), which does not depend on the machine's load,
and the table's header the load average before and after. The sweep ends with the real
project of ``--tasmania``.

``--tasmania`` times the real Marxan project in ``tests/data/marxan_tasmania`` (Marxan's
Tasmania example: 1,751 hexagons, 17 features with real-valued amounts, 5,256 boundary
rows, BLM 1), read, solved and its outputs written exactly as ``dss solve`` does with a
Marxan ``input.dat``, without the BLM and with ``input.dat``'s BLM, the latter once with
each of ``--threads`` (``solver.threads``; more than one runs concurrent searches,
:mod:`dss.optimize.concurrent`) (``results/benchmarks/marxan_tasmania.md``).

A synthetic Marxan project is written in Marxan's own format (``input.dat``, ``pu.dat``,
``spec.dat``, ``puvspr.dat``, ``bound.dat``; :func:`dss.planning.marxan_outputs.write_marxan`) and
then read back and solved through the same path as ``dss solve`` on a Marxan model
(:func:`~dss.planning.marxan.read_marxan`, :meth:`MarxanProject.problem`, HiGHS), and the
Marxan outputs are written. Times: write, read, build (Pyomo), solve (HiGHS), output.

The project: a ``rows x cols`` grid of square planning units (shared edges of length 1,
outer edges as ``id1 == id2`` rows); integer costs, log-normal (median 10, heavy tail, as land
values); ``features`` species with clumped ranges covering 4-16 % of the grid (Gaussian
random fields thresholded); targets of 10-30 % of each species' occurrences (``prop``); a
few units locked in (existing reserves, status 2) and out (towns, status 3); BLM > 0.

``--amounts presence`` (default) records each species as present (amount 1) in a unit, the
most common Marxan data (occurrence records); ``--amounts cover`` records the habitat area
in a unit (0-100: whole units inside a species' range, parts of units at its edge, as in
vegetation-area ``puvspr.dat`` files); ``--amounts area`` records a continuous suitability
x area in every unit of the range (few whole units). Real-valued amounts make the targets
knapsack constraints with real weights, much harder to *prove* optimal: with ``area``
HiGHS finds plans within ~1 % within a minute, but closing the gap takes far longer.

Prints a Markdown table and writes ``results/benchmarks/marxan.md`` unless ``--out`` says
otherwise.
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def smooth(field: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian smoothing with numpy alone (separable kernel, reflected edges)."""
    radius = max(1, int(3 * sigma))
    x = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (x / sigma) ** 2)
    kernel /= kernel.sum()
    out = field
    for axis in (0, 1):
        padded = np.pad(out, [(radius, radius) if a == axis else (0, 0) for a in (0, 1)],
                        mode="reflect")
        out = np.apply_along_axis(lambda v: np.convolve(v, kernel, mode="valid"), axis,
                                  padded)
    return out


def make_project(folder: Path, rows: int, cols: int, features: int, blm: float, seed: int,
                 amounts: str) -> Path:
    """Write the synthetic Marxan project; returns its ``input.dat``."""
    from dss.planning.marxan_outputs import write_marxan

    rng = np.random.default_rng(seed)
    n = rows * cols
    ids = np.arange(1, n + 1)
    cost = np.maximum(1, np.round(10 * np.exp(rng.normal(size=n)))).astype(int)
    status = np.zeros(n, dtype=int)
    status[rng.choice(n, max(1, n // 300), replace=False)] = 2
    free = np.flatnonzero(status == 0)
    status[rng.choice(free, max(1, n // 150), replace=False)] = 3
    pu = pd.DataFrame({"id": ids, "cost": cost, "status": status})
    records = []
    spec_rows = []
    for f in range(1, features + 1):
        field = smooth(rng.normal(size=(rows, cols)), rng.uniform(1.5, 4.0))
        share = 0.08 * rng.uniform(0.5, 2.0)
        level = np.quantile(field, 1 - share)
        present = (field > level).ravel()
        if amounts == "presence":
            values = present.astype(float)
        elif amounts == "cover":  # habitat area: whole units inside a range, parts at its edge
            share = (field.ravel() - level) / (0.3 * (field.max() - level))
            values = np.where(present, np.round(100 * np.clip(share, 0.0, 1.0), 3), 0.0)
        else:
            values = np.where(present, (field.ravel() - level) / (field.max() - level), 0.0)
            values = np.round(100 * values, 3)
        for unit in np.flatnonzero(values > 0):
            records.append((f, int(unit) + 1, float(values[unit])))
        spec_rows.append({"id": f, "prop": round(float(rng.uniform(0.1, 0.3)), 3),
                          "spf": 10, "name": f"species_{f}"})
    puvspr = pd.DataFrame(records, columns=["species", "pu", "amount"])
    edges = []
    for r in range(rows):
        for c in range(cols):
            i = r * cols + c + 1
            if c + 1 < cols:
                edges.append((i, i + 1, 1.0))
            if r + 1 < rows:
                edges.append((i, i + cols, 1.0))
            outer = (r == 0) + (r == rows - 1) + (c == 0) + (c == cols - 1)
            if outer:
                edges.append((i, i, float(outer)))
    bound = pd.DataFrame(edges, columns=["id1", "id2", "boundary"])
    return write_marxan(folder, pu, pd.DataFrame(spec_rows), puvspr, bound, blm=blm)


def solve_project(folder: Path, rows: int, cols: int, features: int, blm: float, seed: int,
                  amounts: str, time_limit: float, gap: float, highs: dict) -> dict:
    """Write, read, solve and write the outputs of one project; returns the measures."""
    from dss.planning.marxan import read_marxan
    from dss.planning.marxan_outputs import write_marxan_outputs
    from dss.planning.solve import SolverOptions, solve

    t0 = time.perf_counter()
    input_dat = make_project(folder, rows, cols, features, blm, seed, amounts)
    t1 = time.perf_counter()
    project = read_marxan(input_dat)
    problem = project.problem()
    t2, cpu = time.perf_counter(), time.process_time()
    result = solve(problem, SolverOptions(time_limit=time_limit, gap=gap, abs_gap=1e-6,
                                          threads=1, highs=highs))
    t3, cpu = time.perf_counter(), time.process_time() - cpu
    write_marxan_outputs(project, result)
    t4 = time.perf_counter()
    selected = int((result.selected() > 0.5).sum()) if result.solution is not None else 0
    boundary = result.terms.get("boundary", 0.0) / blm if blm else 0.0
    return {"project": project, "result": result, "write": t1 - t0, "read": t2 - t1,
            "solve_total": t3 - t2, "solve_cpu": cpu, "output": t4 - t3, "selected": selected,
            "boundary": boundary}


def work(log: str) -> tuple[str, str]:
    """Branch-and-bound nodes and simplex iterations from a HiGHS log."""
    nodes = re.search(r"^\s*Nodes\s+(\d+)", log, re.MULTILINE)
    iterations = re.search(r"^\s*LP iterations\s+(\d+)", log, re.MULTILINE)
    return (f"{int(nodes.group(1)):,}" if nodes else "-",
            f"{int(iterations.group(1)):,}" if iterations else "-")


def load_average() -> str:
    """The 1-minute load average (``-`` where the platform has none)."""
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:  # pragma: no cover - platform without load averages
        return "-"


TASMANIA = Path(__file__).resolve().parent.parent / "tests" / "data" / "marxan_tasmania"
"""Marxan's Tasmania example project (real data; its README gives the source)."""

HEADER = ["| units | features | BLM | amounts | threads | status | objective | build s | solve s "
          "| CPU s | gap | nodes | LP iterations |",
          "| ---: | ---: | ---: | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: "
          "| ---: |"]


def table_row(units: int, features: int, blm: float, amounts: str, m: dict,
              threads: int = 1) -> str:
    """One row of the time table from :func:`solve_project`'s or :func:`solve_real`'s
    measures (nodes: those of the search that finished first, with ``threads > 1``)."""
    r = m["result"]
    gap = f"{r.gap:.1e}" if r.gap is not None else "-"
    nodes, iterations = work(r.log)
    objective = f"{r.objective:,.3f}" if r.objective is not None else "-"
    return (f"| {units:,} | {features} | {blm:g} | {amounts} | {threads} | {r.status} | "
            f"{objective} | "
            f"{r.build_seconds:.2f} | {r.solve_seconds:.2f} | {m['solve_cpu']:.2f} | {gap} | "
            f"{nodes} | {iterations} |")


def solve_real(input_dat: Path, blm: float | None, out: Path, time_limit: float, gap: float,
               highs: dict, threads: int = 1) -> dict:
    """Read a real Marxan project, solve it (``blm``: None for ``input.dat``'s BLM) with
    ``threads`` (more than 1: concurrent searches) and write its Marxan outputs into
    ``out``; returns the measures (as :func:`solve_project`)."""
    from dss.planning.marxan import read_marxan
    from dss.planning.marxan_outputs import write_marxan_outputs
    from dss.planning.solve import SolverOptions, solve

    t1 = time.perf_counter()
    project = read_marxan(input_dat)
    problem = project.problem(blm=blm)
    t2, cpu = time.perf_counter(), time.process_time()
    result = solve(problem, SolverOptions(time_limit=time_limit, gap=gap, abs_gap=1e-6,
                                          threads=threads, highs=highs))
    t3, cpu = time.perf_counter(), time.process_time() - cpu
    write_marxan_outputs(project, result, out)
    return {"project": project, "result": result, "read": t2 - t1, "solve_total": t3 - t2,
            "solve_cpu": cpu, "output": time.perf_counter() - t3}


def tasmania_rows(args: argparse.Namespace, highs: dict) -> list[str]:
    """Rows of the real Tasmania project: without the BLM (the first of ``--threads``),
    then with ``input.dat``'s BLM with each of ``--threads``."""
    from dss.planning.marxan import read_marxan

    input_dat = TASMANIA / "input.dat"
    project = read_marxan(input_dat)
    rows = []
    runs = [(0.0, args.threads[0])] + [(project.blm, threads) for threads in args.threads]
    for blm, threads in runs:
        with tempfile.TemporaryDirectory(dir=args.out) as tmp:
            m = solve_real(input_dat, blm, Path(tmp), args.time_limit, args.gap, highs,
                           threads)
        line = table_row(len(project.pu), len(project.spec), blm, "Tasmania (real)", m,
                         threads)
        print(line, flush=True)
        rows.append(line)
    return rows


def sweep(args: argparse.Namespace, highs: dict) -> str:
    """Time to proven optimality at 1,000 to 20,000 units, without and with the BLM, then
    the 1,751-unit project with each of ``--line-amounts``."""
    sizes = [(20, 50), (17, 103), (40, 50), (50, 100), (100, 100), (100, 200)]
    runs = [(rows, cols, args.amounts) for rows, cols in sizes
            if rows * cols <= args.max_units]
    runs += [(17, 103, amounts) for amounts in args.line_amounts]
    start_load = load_average()
    lines = list(HEADER)
    for rows, cols, amounts in runs:
        for blm in (0.0, args.blm):
            with tempfile.TemporaryDirectory(dir=args.out) as tmp:
                m = solve_project(Path(tmp) / "project", rows, cols, args.features, blm,
                                  args.seed, amounts, args.time_limit, args.gap, highs)
            line = table_row(rows * cols, args.features, blm, amounts, m)
            print(line, flush=True)
            lines.append(line)
    lines += tasmania_rows(args, highs)
    lines.insert(0, f"Load average (1 min) {start_load} at the start, {load_average()} at the "
                    f"end; HiGHS time limit {args.time_limit:g} s, one thread.\n")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=30)
    parser.add_argument("--cols", type=int, default=50)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--blm", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--amounts", choices=("presence", "cover", "area"), default="presence")
    parser.add_argument("--time-limit", type=float, default=300.0)
    parser.add_argument("--gap", type=float, default=0.0, help="relative MIP gap (0: prove)")
    parser.add_argument("--sweep", action="store_true",
                        help="time table at 1,000 to 20,000 units, with and without BLM")
    parser.add_argument("--tasmania", action="store_true",
                        help="time the real Tasmania project (tests/data/marxan_tasmania), "
                             "with and without its BLM")
    parser.add_argument("--max-units", type=int, default=20_000,
                        help="largest project of the sweep")
    parser.add_argument("--line-amounts", nargs="*", default=["cover", "area"],
                        choices=("presence", "cover", "area"),
                        help="amounts of the extra 1,751-unit rows of the sweep")
    parser.add_argument("--threads", type=lambda text: [int(t) for t in text.split(",")],
                        default=[1, 2], metavar="1,2",
                        help="threads of each --tasmania row with the BLM (more than 1: "
                             "concurrent searches, dss.optimize.concurrent)")
    parser.add_argument("--highs", action="append", default=[], metavar="KEY=VALUE",
                        help="extra HiGHS option (repeatable), e.g. mip_heuristic_effort=0.2")
    parser.add_argument("--out", type=Path, default=Path("results") / "benchmarks",
                        help="folder for marxan.md and the project (default results/"
                             "benchmarks)")
    args = parser.parse_args()
    highs = {}
    for item in args.highs:
        key, _, value = item.partition("=")
        highs[key] = (int(value) if value.isdigit() else float(value)
                      if value.replace(".", "", 1).isdigit() else value)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.tasmania:
        start_load = load_average()
        rows = tasmania_rows(args, highs)
        table = "\n".join([f"Load average (1 min) {start_load} at the start, {load_average()} "
                           f"at the end; HiGHS time limit {args.time_limit:g} s, gap "
                           f"{args.gap:g}.\n",
                           *HEADER, *rows])
        (args.out / "marxan_tasmania.md").write_text(
            "# Marxan's Tasmania project (benchmarks/bench_marxan.py --tasmania)\n\n" + table
            + "\n", encoding="utf-8")
        return
    if args.sweep:
        table = sweep(args, highs)
        (args.out / "marxan_sweep.md").write_text(
            "# Marxan sweep (benchmarks/bench_marxan.py --sweep)\n\n" + table + "\n",
            encoding="utf-8")
        return
    with tempfile.TemporaryDirectory(dir=args.out) as tmp:
        m = solve_project(Path(tmp) / "project", args.rows, args.cols, args.features,
                          args.blm, args.seed, args.amounts, args.time_limit, args.gap, highs)
    project, result = m["project"], m["result"]
    rows = [
        ("planning units", f"{len(project.pu):,}"),
        ("features", f"{len(project.spec)}"),
        ("puvspr rows", f"{len(project.puvspr):,}"),
        ("bound.dat rows", f"{len(project.bound):,}"),
        ("amounts", args.amounts),
        ("BLM", f"{args.blm:g}"),
        ("seed", str(args.seed)),
        ("HiGHS options", ", ".join(f"{k}={v}" for k, v in highs.items()) or "-"),
        ("write project s", f"{m['write']:.2f}"),
        ("read + problem s", f"{m['read']:.2f}"),
        ("build (Pyomo) s", f"{result.build_seconds:.2f}"),
        ("solve (HiGHS) s", f"{result.solve_seconds:.2f}"),
        ("solve total s", f"{m['solve_total']:.2f}"),
        ("solve total CPU s", f"{m['solve_cpu']:.2f}"),
        ("write outputs s", f"{m['output']:.2f}"),
        ("status", result.status),
        ("objective", f"{result.objective:,.3f}" if result.objective is not None else "-"),
        ("bound", f"{result.bound:,.3f}" if result.bound is not None else "-"),
        ("gap", f"{result.gap:.2e}" if result.gap is not None else "-"),
        ("branch-and-bound nodes", work(result.log)[0]),
        ("simplex iterations", work(result.log)[1]),
        ("load average (1 min) after", load_average()),
        ("cost", f"{result.terms.get('cost', 0.0):,.3f}"),
        ("boundary length", f"{m['boundary']:,.1f}"),
        ("units selected", f"{m['selected']:,}"),
    ]
    table = "\n".join(["| metric | value |", "| --- | --- |",
                       *(f"| {k} | {v} |" for k, v in rows)])
    print(table)
    (args.out / "marxan.md").write_text(
        "# Marxan benchmark (benchmarks/bench_marxan.py)\n\n" + table + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
