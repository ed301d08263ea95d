"""Benchmark ``dss synth`` and ``dss baseline`` on large synthetic basins (not part of pytest).

Usage::

    python benchmarks/bench_baseline.py [--sizes 100000] [--seed 0] [--keep DIR]

For each size it runs, as separate processes of the real command line,
``dss synth --subunits N`` and then ``dss baseline`` on the written study, and reports the
wall time and peak resident memory of each process (``os.wait4`` gives the resource usage of
that one child). A third process times the stages of the baseline in-process: read
(``load_model`` + ``load_study``), compute (``compute_baseline``) and write (report and
``write_run``). Prints a Markdown table.
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

COLUMNS = ["N", "synth s", "synth RSS MB", "baseline s", "baseline RSS MB", "read s",
           "compute s", "write s", "output MB"]


def _mb(kilobytes: int) -> float:
    return kilobytes / 1024.0 / (1024.0 if sys.platform == "darwin" else 1.0)


def run_process(cmd: list[str]) -> tuple[float, float, str]:
    """Run a command; return its wall time, its own peak RSS in MB and its stdout.

    Output goes to temporary files and the child is reaped with ``os.wait4``, which returns
    the resource usage of that child alone (``RUSAGE_CHILDREN`` would mix all children).
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if code != 0:
            raise SystemExit(f"{' '.join(cmd)} failed ({code}):\n{err.read()}")
        return seconds, _mb(usage.ru_maxrss), out.read()


def stages(model: Path, out: Path) -> dict:
    """Time the baseline stages in this process."""
    from dss.api import input_hashes, load
    from dss.indicators.baseline import compute_baseline
    from dss.results.report import baseline_report
    from dss.results.writer import make_manifest, write_run

    t0 = time.perf_counter()
    resolved, study = load(model)
    t1 = time.perf_counter()
    result = compute_baseline(study)
    t2 = time.perf_counter()
    report = baseline_report(study, result.tables, resolved.config.title)
    manifest = make_manifest("baseline", input_hashes(resolved, study), resolved.raw)
    write_run(out / "stages", result.tables, manifest, {"report.md": report})
    t3 = time.perf_counter()
    return {"read": t1 - t0, "compute": t2 - t1, "write": t3 - t2,
            "rss": _mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)}


def measure(size: int, seed: int, root: Path) -> dict:
    """Synth, baseline and staged baseline of one size, each in its own process."""
    study = root / f"synth_{size}"
    results = root / "results"
    dss = [sys.executable, "-m", "dss"]
    synth_s, synth_rss, _ = run_process([*dss, "synth", str(study), "--subunits", str(size),
                                         "--seed", str(seed), "--overwrite"])
    base_s, base_rss, _ = run_process([*dss, "baseline", str(study), "--out", str(results)])
    _, _, out = run_process([sys.executable, __file__, "--child", str(study / "model.yaml"),
                             str(results)])
    row = json.loads(out.strip().splitlines()[-1])
    written = sum(p.stat().st_size for p in (results / f"synth_{size}_s{seed}" / "baseline")
                  .iterdir())
    return {"N": size, "synth": synth_s, "synth_rss": synth_rss, "baseline": base_s,
            "baseline_rss": base_rss, "read": row["read"], "compute": row["compute"],
            "write": row["write"], "output_mb": written / 1e6}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100000])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, default=None,
                        help="Write studies and results here instead of a temporary folder.")
    parser.add_argument("--child", nargs=2, metavar=("MODEL", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(stages(Path(args.child[0]), Path(args.child[1]))))
        return
    rows = []
    with tempfile.TemporaryDirectory(prefix="dss_bench_baseline_") as tmp:
        root = args.keep or Path(tmp)
        for size in args.sizes:
            rows.append(measure(size, args.seed, root))
    print(f"dss baseline benchmark: seed {args.seed}, {os.cpu_count()} CPUs, "
          f"Python {sys.version.split()[0]}\n")
    print("| " + " | ".join(COLUMNS) + " |")
    print("|" + "|".join("---:" for _ in COLUMNS) + "|")
    for r in rows:
        print(f"| {r['N']:,} | {r['synth']:.2f} | {r['synth_rss']:.0f} | {r['baseline']:.2f} | "
              f"{r['baseline_rss']:.0f} | {r['read']:.2f} | {r['compute']:.2f} | "
              f"{r['write']:.2f} | {r['output_mb']:.1f} |")


if __name__ == "__main__":
    main()
