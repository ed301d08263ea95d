"""Faults (GitHub issue 6): a killed write, a solver time limit, a missing or broken solver.

- ``dss solve`` is SIGKILLed while it writes (slowed down by the ``DSS_TEST_SLOW_WRITE``
  hook of :mod:`dss.results.writer`): at any moment, the previous results of the scenario
  stay intact, no half-written folder is visible, and the next run cleans up.
- A MIP that HiGHS cannot finish (a balanced-spend partition) stops at a tiny time limit:
  status ``time_limit``, exit 6, the best plan written and labelled with its gap, never
  ``optimal``.
- A missing or crashing HiGHS gets a clear message and exit 5, and nothing is written.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import dss.results.folders as folders
import dss.results.writer as writer
from dss.cli import app

TINY = Path(__file__).parent / "data" / "tiny" / "model.yaml"
RUNNER = CliRunner()


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def visible(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if not p.name.startswith("."))


def hidden(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def summary(folder: Path) -> pd.Series:
    return pd.read_csv(folder / "summary.csv", keep_default_na=False).set_index(
        "metric")["value"]


# ----------------------------------------------------------------------------- SIGKILL


def _wait_for(condition, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    """Poll until ``condition()`` holds (fail if the process ends first or time runs out)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"dss solve ended (exit {proc.returncode}) before the moment to kill "
                        f"it:\n{out}\n{err}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("the moment to kill dss solve never came")
        time.sleep(0.02)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
@pytest.mark.parametrize("moment", ["while writing files", "between the two renames"])
def test_sigkill_mid_write_keeps_previous_run(moment: str, tmp_path: Path) -> None:
    out = tmp_path / "results"
    assert RUNNER.invoke(app, ["solve", str(TINY), "--out", str(out)]).exit_code == 0
    parent = out / "tiny"
    previous = snapshot(parent / "base")

    env = {**os.environ, writer.SLOW_WRITE_ENV: "0.4"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "dss", "solve", str(TINY), "--set",
         "components.budget.total=250000", "--run-name", "base", "--out", str(out)],
        env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        if moment == "while writing files":
            def ready() -> bool:  # the staging folder holds some files, not all
                staging = [p for p in parent.glob(".base.tmp-*") if p.is_dir()]
                return bool(staging) and len(list(staging[0].iterdir())) >= 2
        else:
            def ready() -> bool:  # the old run is moved aside, the new one not yet in place
                return any(parent.glob(".base.old-*"))
        _wait_for(ready, proc)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL

    # no half-written folder is visible: the old run, or (between the renames) nothing yet
    if moment == "while writing files":
        assert visible(parent) == ["base"]
        assert snapshot(parent / "base") == previous  # intact, byte for byte
        assert any(n.startswith(".base.tmp-") for n in hidden(parent))
    else:
        assert visible(parent) == []
        (old,) = parent.glob(".base.old-*")
        assert snapshot(old) == previous  # intact, moved aside
        # the recovery every later write runs first puts it back, byte for byte
        folders.clean_stale(parent, "base")
        assert visible(parent) == ["base"] and hidden(parent) == []
        assert snapshot(parent / "base") == previous

    # the next run cleans up the hidden staging folders and writes a complete run
    result = RUNNER.invoke(app, ["solve", str(TINY), "--set", "components.budget.total=250000",
                                 "--run-name", "base", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert hidden(parent) == []
    assert visible(parent) == ["base"]
    assert float(summary(parent / "base")["spend"]) == pytest.approx(250_000.0)


# -------------------------------------------------------------------------- time limit


def write_partition_study(folder: Path, pairs: int = 15, seed: int = 1) -> Path:
    """A MIP that HiGHS cannot finish: whole hectares of ``2 * pairs`` land classes, half in
    each of two townships, with random costs; the equity rule makes the two townships' spend
    exactly equal (a number-partitioning problem, whose LP bound is useless). Three cost
    pairs match, so balanced plans exist and one is found at once; proving the best one
    takes far longer than a second (it is not done after 15 s)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    n = 2 * pairs
    cost = rng.integers(10**5, 10**6, n).astype(float)
    cost[pairs:pairs + 3] = cost[:3]
    value = rng.uniform(1, 2, n) * cost / 1000

    def table(name: str, rows: list[list[object]]) -> None:
        with open(folder / f"{name}.csv", "w", newline="", encoding="utf-8") as fh:
            csv.writer(fh, lineterminator="\n").writerows(rows)

    table("subunits", [["subunit_id", "name", "downstream_id", "area_ha", "township", "usle_r",
                        "usle_k", "usle_ls", "sdr"],
                       ["N", "North", "S", pairs, "north", 0, 0, 0, 0],
                       ["S", "South", "", pairs, "south", 0, 0, 0, 0]])
    table("land_classes", [["land_class", "name", "usle_c", "tn_export", "tp_export",
                            "mass_yield"]]
          + [[f"c{j}", f"class {j}", 0, 0, 0, f"{value[j]:.6f}"] for j in range(n)]
          + [["done", "restored", 0, 0, 0, 0]])
    table("land_cover", [["subunit_id", "land_class", "area_ha"]]
          + [["N" if j < pairs else "S", f"c{j}", 1] for j in range(n)])
    table("control_points", [["point_id", "name", "subunit_id", "kind"],
                             ["out", "Outlet", "S", "outlet"]])
    table("actions", [["action_id", "name", "applies_to", "unit", "leads_to", "capital_cost",
                       "integer", "agency"]]
          + [[f"a{j}", f"restore {j}", f"c{j}", "ha", "done", f"{cost[j]:g}", "true", "x"]
             for j in range(n)])
    model = folder / "model.yaml"
    model.write_text(f"""name: partition
inputs: .
settings: {{horizon_years: 1}}
solver: {{time_limit: 600, mip_gap: 0}}
components:
  objective: {{type: max_benefit}}
  budget: {{type: budget, total: {cost.sum() * 0.3:.0f}}}
  water: {{type: delivered_reduction, values: {{sediment: 1}}}}
  equity: {{type: equity, min_share: 0.5, max_share: 0.5}}
""", encoding="utf-8")
    return model


def test_time_limit_returns_best_plan_with_its_gap(tmp_path: Path) -> None:
    model = write_partition_study(tmp_path / "study")
    out = tmp_path / "results"
    result = RUNNER.invoke(app, ["solve", str(model), "--set", "solver.time_limit=1",
                                 "--run-name", "limited", "--out", str(out)])
    assert result.exit_code == 6, result.output
    assert "partition [base]: time_limit" in result.stdout
    assert "optimal" not in result.stdout
    folder = out / "partition" / "limited"
    values = summary(folder)
    assert values["status"] == "time_limit"
    assert float(values["gap"]) > 1e-3  # labelled with a real gap, not hidden
    assert float(values["objective"]) > 0  # the best plan found so far
    assert "gap" in result.stdout
    alloc = pd.read_csv(folder / "allocation.csv")
    assert len(alloc) > 0
    # the plan found is feasible: spend within the budget, split evenly between townships
    spend = alloc.groupby("township")["cost_cny"].sum()
    assert spend["north"] == pytest.approx(spend["south"], rel=1e-6)
    assert float(values["spend"]) <= float(values["budget"]) * (1 + 1e-9)
    assert "**time_limit**" in (folder / "report.md").read_text(encoding="utf-8")


# ----------------------------------------------------------------------------- solver


def test_missing_solver_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                         ) -> None:
    monkeypatch.setitem(sys.modules, "highspy", None)  # import highspy -> ImportError
    result = RUNNER.invoke(app, ["solve", str(TINY), "--out", str(tmp_path / "out")])
    assert result.exit_code == 5, result.output
    assert result.stderr.startswith("error: HiGHS is not available"), result.stderr
    assert "install it with `pip install highspy`" in result.stderr
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert not (tmp_path / "out").exists()


def test_broken_solver_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                        ) -> None:
    import highspy

    def crash(self, *args, **kwargs):
        raise RuntimeError("segfault in the simplex (simulated)")

    monkeypatch.setattr(highspy.Highs, "run", crash)
    result = RUNNER.invoke(app, ["solve", str(TINY), "--out", str(tmp_path / "out")])
    assert result.exit_code == 5, result.output
    assert result.stderr.startswith("error: HiGHS failed: RuntimeError: segfault in the "
                                    "simplex (simulated)"), result.stderr
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert not (tmp_path / "out").exists()


def test_process_exits_cleanly_while_duals_solve_in_the_background(tmp_path: Path) -> None:
    """A script that solves and ends at once, never reading the duals (still solving in a
    background thread), exits 0. The process waits for background work before it shuts
    down: a daemon thread coming back from HiGHS during interpreter shutdown aborted the
    process (``terminate called without an active exception``, exit 134); that was
    timing-dependent, so the waiting itself is checked with a slow background task."""
    script = tmp_path / "solve_and_leave.py"
    script.write_text(
        "from dss.optimize.problem import Problem\n"
        f"result = Problem.from_model({str(TINY)!r}).solve()\n"
        "print(result.status)\n", encoding="utf-8")
    for _ in range(3):
        proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == "optimal"
        assert "terminate called" not in proc.stderr
    marker = tmp_path / "finished"
    slow = tmp_path / "slow_background.py"
    slow.write_text(
        "import time\n"
        "from pathlib import Path\n"
        "from dss.optimize.solve import in_background\n"
        f"in_background(lambda: (time.sleep(1.0), Path({str(marker)!r}).write_text('x')),\n"
        "           'test')\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, str(slow)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert marker.read_text() == "x"  # the interpreter waited for the background task


def test_zero_objective_has_a_small_gap() -> None:
    """Budget 0: objective 0; the gap is relative to max(|objective|, 1), not a blow-up."""
    from dss.optimize.problem import Problem

    result = Problem.from_model(TINY, sets=["components.budget.total=0"]).solve()
    assert result.status == "optimal"
    assert result.objective == 0.0
    assert result.gap is not None and result.gap <= 1e-4


def test_new_highs_instances_never_hide_other_threads_output(tmp_path: Path) -> None:
    """Only the process's first HiGHS instance silences standard output (for its banner):
    silencing is process-wide, so doing it again while the background duals make their
    instance swallowed what the main thread printed meanwhile."""
    script = tmp_path / "print_while_making_instances.py"
    script.write_text(
        "import threading\n"
        "from dss.optimize.persistent import new_highs\n"
        "new_highs()\n"
        "stop = threading.Event()\n"
        "def make():\n"
        "    while not stop.is_set():\n"
        "        new_highs()\n"
        "worker = threading.Thread(target=make)\n"
        "worker.start()\n"
        "for i in range(2000):\n"
        "    print(i, flush=True)\n"
        "stop.set()\n"
        "worker.join()\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [str(i) for i in range(2000)]
    assert "Running HiGHS" not in proc.stdout
