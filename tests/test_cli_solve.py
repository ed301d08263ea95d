"""``dss solve`` end to end: files written, manifest, scenarios, overrides, infeasibility,
exit codes and atomic replacement of a previous run.

Runs go through :data:`dss.cli.app` with Typer's ``CliRunner`` and write under ``tmp_path``
(``--out``), never into the repository's ``results/``.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import dss.results.writer as writer
from dss.cli import app
from dss.optimize.problem import Problem
from dss.optimize.solve import EXIT_CODES
from dss.results.report import fmt

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "data" / "tiny" / "model.yaml"
BAOXING = ROOT / "models" / "baoxing.yaml"
RUNNER = CliRunner()

PLAN_FILES = {"allocation.csv", "subunits.csv", "control_points.csv", "species.csv",
              "summary.csv", "manifest.yaml", "solver.log"}
INFEASIBLE_SET = "components.load_limits.reductions.qiaoqi_reservoir.sediment=0.99"


def solve(*args: str):
    return RUNNER.invoke(app, ["solve", *map(str, args)])


def summary(folder: Path) -> pd.Series:
    table = pd.read_csv(folder / "summary.csv", keep_default_na=False)
    return table.set_index("metric")["value"]


def number(folder: Path, metric: str) -> float:
    return float(summary(folder)[metric])


def manifest(folder: Path) -> dict:
    return yaml.safe_load((folder / "manifest.yaml").read_text(encoding="utf-8"))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def hidden(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


@pytest.fixture(scope="module")
def baoxing_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("baoxing")
    result = solve(BAOXING, "--out", out)
    assert result.exit_code == 0, result.output
    return out / "baoxing" / "base"


# ----------------------------------------------------------------------------- solved runs


def test_exit_codes_are_documented() -> None:
    assert EXIT_CODES == {"optimal": 0, "infeasible": 3, "unbounded": 4, "error": 5,
                          "time_limit": 6, "feasible": 7}


def test_tiny_solve_writes_complete_run(tmp_path: Path) -> None:
    result = solve(TINY, "--out", tmp_path)
    assert result.exit_code == 0, result.output
    assert "tiny [base]: optimal" in result.stdout
    folder = tmp_path / "tiny" / "base"
    assert PLAN_FILES <= {p.name for p in folder.iterdir()}
    assert f"Wrote {folder}" in result.stdout
    assert hidden(tmp_path / "tiny") == []

    values = summary(folder)
    assert values["status"] == "optimal"
    assert float(values["spend"]) == pytest.approx(500_000.0)
    assert float(values["budget"]) == 500_000.0
    alloc = pd.read_csv(folder / "allocation.csv")
    assert alloc["cost_cny"].sum() == pytest.approx(500_000.0)
    assert set(zip(alloc["subunit_id"], alloc["action_id"], strict=True)) == {
        ("A", "scar_reveg"), ("D", "gfg_forest")}
    assert "HiGHS" in (folder / "solver.log").read_text(encoding="utf-8")

    info = manifest(folder)
    assert info["kind"] == "solve"
    assert {"python", "dss", "pyomo", "highspy"} <= set(info["versions"])
    inputs = info["inputs_sha256"]
    assert inputs["model/model.yaml"] == sha256(TINY)
    assert inputs["inputs/actions.csv"] == sha256(TINY.parent / "actions.csv")
    assert len(inputs) >= 10  # nine tables and the model file
    assert info["config"]["components"]["budget"] == {"type": "budget", "total": 500000}
    assert info["solver"]["status"] == "optimal"
    assert info["solver"]["objective"] == pytest.approx(number(folder, "objective"))
    assert info["scenario"] == "base" and info["overrides"] == []
    for name, digest in info["outputs_sha256"].items():
        assert digest == sha256(folder / name), name


def test_baoxing_base(baoxing_base: Path) -> None:
    assert PLAN_FILES <= {p.name for p in baoxing_base.iterdir()}
    assert summary(baoxing_base)["status"] == "optimal"
    assert number(baoxing_base, "spend") <= 2.0e7 * (1 + 1e-9)
    info = manifest(baoxing_base)
    assert info["solver"]["status"] == "optimal"
    assert info["inputs_sha256"]["model/baoxing.yaml"] == sha256(BAOXING)
    assert float(info["config"]["components"]["budget"]["total"]) == 2.0e7


def test_manifest_records_numbers_as_numbers(baoxing_base: Path) -> None:
    assert isinstance(manifest(baoxing_base)["config"]["components"]["budget"]["total"], float)


def test_baoxing_double_budget_scenario(baoxing_base: Path) -> None:
    out = baoxing_base.parent.parent
    result = solve(BAOXING, "--scenario", "double_budget", "--out", out)
    assert result.exit_code == 0, result.output
    assert "baoxing [double_budget]: optimal" in result.stdout
    folder = out / "baoxing" / "double_budget"
    assert PLAN_FILES <= {p.name for p in folder.iterdir()}
    assert baoxing_base.is_dir()  # a scenario never overwrites the base run
    assert number(folder, "objective") >= number(baoxing_base, "objective") - 1e-6
    assert number(folder, "spend") > number(baoxing_base, "spend")
    assert number(folder, "budget") == 4.0e7
    info = manifest(folder)
    assert info["scenario"] == "double_budget"
    assert float(info["config"]["components"]["budget"]["total"]) == 4.0e7


def test_set_override_changes_spend(baoxing_base: Path, tmp_path: Path) -> None:
    result = solve(BAOXING, "--set", "components.budget.total=1e6", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    # a --set run never replaces the scenario's own results: it gets its own folder
    assert not (tmp_path / "baoxing" / "base").exists()
    folder = tmp_path / "baoxing" / "base+budget.total=1e6"  # a readable name
    spend = number(folder, "spend")
    assert 0 < spend <= 1.0e6 * (1 + 1e-9)
    assert spend < number(baoxing_base, "spend")
    assert number(folder, "objective") < number(baoxing_base, "objective")
    info = manifest(folder)
    assert info["overrides"] == ["components.budget.total=1e6"]
    assert info["config"]["components"]["budget"]["total"] == 1.0e6


def test_run_name_chooses_the_folder(tmp_path: Path) -> None:
    result = solve(BAOXING, "--set", "components.budget.total=1e6", "--run-name", "small",
                   "--out", tmp_path)
    assert result.exit_code == 0, result.output
    assert number(tmp_path / "baoxing" / "small", "spend") <= 1.0e6 * (1 + 1e-9)


# ------------------------------------------------------------------------------ infeasible


def test_infeasible_requirement_is_explained(baoxing_base: Path, tmp_path: Path) -> None:
    # one total budget (without the bureaus' own), so that the least total budget exists
    result = solve(BAOXING, "--set", INFEASIBLE_SET, "--set", "components.budget.per_agency={}",
                   "--run-name", "base", "--out", tmp_path)
    assert result.exit_code == EXIT_CODES["infeasible"] == 3, result.output
    assert "baoxing [base]: infeasible" in result.stdout
    assert "Requirements that cannot be met" in result.stdout
    assert "Traceback" not in result.output
    folder = tmp_path / "baoxing" / "base"
    names = {p.name for p in folder.iterdir()}
    assert {"summary.csv", "manifest.yaml", "solver.log", "shortfalls.csv"} <= names
    assert not names & {"allocation.csv", "subunits.csv", "control_points.csv", "species.csv"}
    assert summary(folder)["status"] == "infeasible"
    assert manifest(folder)["solver"]["status"] == "infeasible"

    short = pd.read_csv(folder / "shortfalls.csv")
    row = short.set_index("requirement").loc["sediment at qiaoqi_reservoir"]
    before = pd.read_csv(baoxing_base / "control_points.csv").set_index(
        ["point_id", "pollutant"]).loc[("qiaoqi_reservoir", "sediment"), "before"]
    assert row["target"] == pytest.approx(0.01 * before)
    assert row["unit"] == "t/yr"
    assert 0 < row["shortfall"] < 0.99 * before
    line = next(ln for ln in result.stdout.splitlines() if "sediment at qiaoqi_reservoir" in ln)
    assert fmt(row["shortfall"]) in line and "t/yr" in line
    # only the infeasible requirement is listed as short, and it is the conflict found
    reqs = short[short["kind"] == "requirement"]
    assert (reqs.drop(reqs.index[reqs["requirement"] == "sediment at qiaoqi_reservoir"])
            ["shortfall"] == 0).all()
    assert list(reqs.loc[reqs["in_conflict"], "requirement"]) == ["sediment at qiaoqi_reservoir"]
    # and the least budget that meets it is reported (more than the 20 million there is)
    (budget,) = short[short["kind"] == "budget"].to_dict("records")
    assert budget["target"] == pytest.approx(2.0e7)
    assert budget["shortfall"] > 0 and "a budget of at least" in budget["note"]
    assert f"Budget: {budget['note']}." in result.stdout

    # the shortfall is the least one: relaxing the requirement by it (a little more) makes
    # the model feasible, relaxing it by a little less does not
    def status(share: float) -> str:
        sets = [f"components.load_limits.reductions.qiaoqi_reservoir.sediment={share:.12g}",
                "components.budget.per_agency={}"]
        return Problem.from_model(BAOXING, sets=sets).solve().status

    reachable = 0.99 - float(row["shortfall"]) / float(before)
    assert status(reachable - 1e-4) == "optimal"
    assert status(reachable + 1e-3) == "infeasible"


def test_infeasible_hard_constraints_are_named(tmp_path: Path) -> None:
    """One dam locked in at B (500,000 CNY, township north) within a 600,000 CNY budget is
    affordable, but no township may take more than half the spend: no elastic requirement
    can explain that, and the output says so, with the least budget (1,000,000 CNY: as much
    again in the south)."""
    model = tmp_path / "model.yaml"
    text = TINY.read_text(encoding="utf-8").replace("inputs: .", f"inputs: {TINY.parent}")
    text = text.replace("total: 500000", "total: 600000")
    model.write_text(text + "  locks: {type: locks, locked_in: {B: {check_dam: 1}}}\n"
                     "  equity: {type: equity, max_share: 0.5}\n", encoding="utf-8")
    result = solve(model, "--out", tmp_path / "out")
    assert result.exit_code == 3, result.output
    assert "tiny [base]: infeasible" in result.stdout
    assert "the hard constraints (budget, zone rules, locks, equity, land) conflict" in \
        result.stdout
    assert "Requirements that cannot be met" not in result.stdout
    assert "Budget: a budget of at least 1,000,000 CNY meets every requirement" in \
        result.stdout
    assert not (tmp_path / "out" / "tiny" / "base" / "allocation.csv").exists()


def test_budget_below_locked_in_cost_is_a_located_error(tmp_path: Path) -> None:
    """Locking in both dams of B (1,000,000 CNY) breaks the 500,000 CNY budget: presolve
    says so before solving (exit 2), at the budget key, and writes nothing."""
    model = tmp_path / "model.yaml"
    text = TINY.read_text(encoding="utf-8").replace("inputs: .", f"inputs: {TINY.parent}")
    model.write_text(text + "  locks: {type: locks, locked_in: {B: {check_dam: all}}}\n",
                     encoding="utf-8")
    result = solve(model, "--out", tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert ("model.yaml, key components.budget.total: the budget of 500,000 CNY is below the "
            "1,000,000 CNY that the actions locked in or required by locks cost") in \
        result.stderr
    assert not (tmp_path / "out").exists()


def test_unknown_scenario_is_a_located_error(tmp_path: Path) -> None:
    result = solve(BAOXING, "--scenario", "double_budgt", "--out", tmp_path)
    assert result.exit_code == 2
    message = result.stderr
    assert "baoxing.yaml, line" in message and "key scenarios" in message
    assert "unknown scenario 'double_budgt'" in message
    assert "did you mean 'double_budget'?" in message
    assert "known: base, double_budget" in message
    assert "Traceback" not in result.output
    assert not (tmp_path / "baoxing").exists()


# ------------------------------------------------------------------------------- atomicity


def _fail_on_call(monkeypatch: pytest.MonkeyPatch, n: int, exc: BaseException) -> list:
    """Make the n-th call of writer.write_csv raise ``exc`` (after writing n - 1 tables)."""
    real = writer.write_csv
    calls: list[Path] = []

    def flaky(frame, path):
        calls.append(Path(path))
        if len(calls) == n:
            raise exc
        real(frame, path)

    monkeypatch.setattr(writer, "write_csv", flaky)
    return calls


def test_failed_write_keeps_previous_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                         ) -> None:
    assert solve(TINY, "--out", tmp_path).exit_code == 0
    parent = tmp_path / "tiny"
    previous = snapshot(parent / "base")

    calls = _fail_on_call(monkeypatch, 3, RuntimeError("disk full"))
    result = solve(TINY, "--set", "components.budget.total=250000",
                   "--run-name", "base", "--out", tmp_path)
    assert len(calls) == 3 and calls[0].parent.name.startswith(".base.tmp-")
    assert result.exit_code == 1
    assert "internal error: RuntimeError: disk full" in result.stderr
    assert snapshot(parent / "base") == previous  # intact, byte for byte
    assert hidden(parent) == []  # no staging folder left behind
    assert sorted(p.name for p in parent.iterdir()) == ["base"]


def test_interrupted_write_keeps_previous_run(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    assert solve(TINY, "--out", tmp_path).exit_code == 0
    parent = tmp_path / "tiny"
    previous = snapshot(parent / "base")
    _fail_on_call(monkeypatch, 2, KeyboardInterrupt())
    result = solve(TINY, "--set", "components.budget.total=250000",
                   "--run-name", "base", "--out", tmp_path)
    assert result.exit_code == 130
    assert "interrupted: nothing was written" in result.stderr
    assert snapshot(parent / "base") == previous
    assert hidden(parent) == []


def test_failed_swap_restores_previous_run(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure between the two renames of the swap must put the old run back."""
    assert solve(TINY, "--out", tmp_path).exit_code == 0
    parent = tmp_path / "tiny"
    previous = snapshot(parent / "base")
    real = os.rename

    def rename(src, dst):
        if Path(src).name.startswith(".base.tmp-"):
            raise OSError("rename failed")
        real(src, dst)

    monkeypatch.setattr(os, "rename", rename)
    result = solve(TINY, "--set", "components.budget.total=250000",
                   "--run-name", "base", "--out", tmp_path)
    assert result.exit_code == 9  # an I/O failure, not invalid input
    assert "rename failed" in result.stderr
    assert snapshot(parent / "base") == previous
    assert hidden(parent) == []


def test_rerun_replaces_previous_run(tmp_path: Path) -> None:
    assert solve(TINY, "--out", tmp_path).exit_code == 0
    folder = tmp_path / "tiny" / "base"
    assert number(folder, "spend") == pytest.approx(500_000.0)
    assert solve(TINY, "--set", "components.budget.total=250000", "--run-name", "base", "--out",
                 tmp_path).exit_code == 0
    assert number(folder, "spend") == pytest.approx(250_000.0)
    assert hidden(tmp_path / "tiny") == []


def test_closed_output_pipe_is_not_an_internal_error(tmp_path: Path) -> None:
    """`dss solve | head -1`: the reader goes away; the run is written, no traceback and
    no "internal error", exit 141 as a process stopped by SIGPIPE."""
    import subprocess
    import sys

    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody will read what dss prints
    proc = subprocess.run([sys.executable, "-m", "dss", "solve", str(TINY), "--out",
                           str(tmp_path)], stdout=write_end, stderr=subprocess.PIPE,
                          text=True, timeout=300)
    os.close(write_end)
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    assert proc.returncode == 141, proc.stderr
    assert (tmp_path / "tiny" / "base" / "allocation.csv").is_file()
