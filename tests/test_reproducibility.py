"""Reproducibility and ``dss verify`` (GitHub issue 6).

- The same inputs and options give byte-identical result tables: every CSV but
  ``timings.csv`` (build and solve times, kept out of ``summary.csv`` for this reason), and
  the Markdown report.
- ``dss verify RUN_DIR`` passes on a fresh run (solve or baseline), also after the study
  and its results are moved together, and fails (exit 8) on a hand-edited allocation, a
  hand-edited summary objective, or an input changed since the run.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from dss.cli import app

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "data" / "tiny"
BAOXING = ROOT / "models" / "baoxing.yaml"
RUNNER = CliRunner()
VARYING = {"timings.csv", "solver.log", "manifest.yaml"}
"""Files that legitimately differ between identical runs (times, dates)."""


def run(*args: object):
    return RUNNER.invoke(app, [str(a) for a in args])


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize(("model", "args", "folder"), [
    (BAOXING, ["-s", "double_budget"], "baoxing/double_budget"),
    (BAOXING, ["-s", "reservoir_target"], "baoxing/reservoir_target"),
    (TINY / "model.yaml", [], "tiny/base"),
])
def test_two_runs_give_identical_bytes(model: Path, args: list[str], folder: str,
                                       tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    for out in (first, second):
        result = run("solve", model, *args, "--out", out)
        assert result.exit_code == 0, result.output
    a, b = files(first / folder), files(second / folder)
    assert set(a) == set(b)
    csvs = sorted(n for n in a if n.endswith(".csv") and n not in VARYING)
    assert {"allocation.csv", "summary.csv", "subunits.csv", "control_points.csv"} <= set(csvs)
    for name in [*csvs, "report.md"]:
        assert a[name] == b[name], f"{name} differs between two identical runs"


def test_summary_is_deterministic_and_timings_are_apart(tmp_path: Path) -> None:
    assert run("solve", TINY / "model.yaml", "--out", tmp_path).exit_code == 0
    folder = tmp_path / "tiny" / "base"
    summary = pd.read_csv(folder / "summary.csv", keep_default_na=False)
    assert not {"build_time", "solve_time"} & set(summary["metric"])
    timings = pd.read_csv(folder / "timings.csv").set_index("metric")
    assert list(timings.index) == ["build_time", "solve_time"]
    assert (timings["unit"] == "s").all() and (timings["value"] >= 0).all()
    manifest = yaml.safe_load((folder / "manifest.yaml").read_text(encoding="utf-8"))
    assert {"build_seconds", "solve_seconds"} <= set(manifest["solver"])
    # floats in the mixed value column are written with the fixed format too
    text = (folder / "summary.csv").read_text(encoding="utf-8")
    assert "\nspend,500000,CNY\n" in text and "500000.0" not in text


# ---------------------------------------------------------------------------- dss verify


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A study (copy of tiny plus limits and habitat) and a fresh solve of it."""
    root = tmp_path_factory.mktemp("verify")
    study = root / "study"
    shutil.copytree(TINY, study)
    model = study / "model.yaml"
    model.write_text(model.read_text(encoding="utf-8") + (
        "  limits: {type: load_limits, reductions: {reservoir: {sediment: 0.3}}}\n"
        "  habitat: {type: habitat, species: {panda: {value: 2000}}}\n"
        "  zones: {type: zone_rules, core: {forbidden: [check_dam]}}\n"
        "  equity: {type: equity, max_share: 0.8}\n"), encoding="utf-8")
    result = run("solve", model, "--out", root / "results")
    assert result.exit_code == 0, result.output
    return root


def copy_run(solved: Path, tmp_path: Path) -> Path:
    """A copy of the study and its results together (the manifest paths are relative)."""
    shutil.copytree(solved / "study", tmp_path / "study")
    shutil.copytree(solved / "results", tmp_path / "results")
    return tmp_path / "results" / "tiny" / "base"


def test_verify_passes_on_a_fresh_run(solved: Path) -> None:
    result = run("verify", solved / "results" / "tiny" / "base")
    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.output
    for check in ("outputs", "inputs", "allocation", "constraints", "spend", "routed loads",
                  "habitat", "objective"):
        assert f"PASS  {check}:" in result.stdout
    assert "All 8 checks passed." in result.stdout


def test_verify_passes_after_moving_study_and_results_together(solved: Path,
                                                               tmp_path: Path) -> None:
    folder = copy_run(solved, tmp_path / "elsewhere")
    manifest = yaml.safe_load((folder / "manifest.yaml").read_text(encoding="utf-8"))
    assert manifest["model_file"] == "../../../study/model.yaml"  # relative to the run
    assert manifest["inputs_dir"] == "../../../study"
    result = run("verify", folder)
    assert result.exit_code == 0, result.output


def test_verify_catches_an_edited_allocation(solved: Path, tmp_path: Path) -> None:
    folder = copy_run(solved, tmp_path)
    path = folder / "allocation.csv"
    alloc = pd.read_csv(path, dtype=str, keep_default_na=False)
    alloc.loc[0, "amount"] = f"{float(alloc.loc[0, 'amount']) * 0.5:.10g}"
    alloc.to_csv(path, index=False, lineterminator="\n")
    result = run("verify", folder)
    assert result.exit_code == 8, result.output
    out = result.stdout
    assert "FAIL  outputs: allocation.csv differs from the file written" in out
    assert "FAIL  allocation: allocation.csv row 2" in out and "cost_cny" in out
    assert "FAIL  spend: summary.csv spend is" in out
    assert "FAIL  objective: summary.csv objective is" in out
    assert "FAIL  routed loads:" in out  # the reported loads no longer follow the plan
    assert "PASS  inputs:" in out
    assert result.stderr.startswith("error: ") and "checks failed" in result.stderr


def test_verify_catches_an_amount_beyond_capacity(solved: Path, tmp_path: Path) -> None:
    """Raising an amount above its capacity breaks the bounds and the constraints."""
    folder = copy_run(solved, tmp_path)
    path = folder / "allocation.csv"
    alloc = pd.read_csv(path, dtype=str, keep_default_na=False)
    alloc.loc[0, "amount"] = f"{float(alloc.loc[0, 'capacity']) * 3:.10g}"
    alloc.to_csv(path, index=False, lineterminator="\n")
    result = run("verify", folder)
    assert result.exit_code == 8
    assert "exceeds the capacity" in result.stdout
    assert "FAIL  constraints:" in result.stdout


def test_verify_catches_an_edited_summary_objective(solved: Path, tmp_path: Path) -> None:
    folder = copy_run(solved, tmp_path)
    path = folder / "summary.csv"
    summary = pd.read_csv(path, dtype=str, keep_default_na=False)
    at = summary.index[summary["metric"] == "objective"][0]
    summary.loc[at, "value"] = f"{float(summary.loc[at, 'value']) * 1.01:.10g}"
    summary.to_csv(path, index=False, lineterminator="\n")
    result = run("verify", folder)
    assert result.exit_code == 8, result.output
    assert "FAIL  objective: summary.csv objective is" in result.stdout
    assert "FAIL  outputs: summary.csv differs" in result.stdout
    assert "PASS  constraints:" in result.stdout  # the plan itself is still valid


def test_verify_catches_a_changed_input(solved: Path, tmp_path: Path) -> None:
    folder = copy_run(solved, tmp_path)
    actions = tmp_path / "study" / "actions.csv"
    actions.write_text(actions.read_text(encoding="utf-8").replace(",30000,", ",35000,"),
                       encoding="utf-8")
    result = run("verify", folder)
    assert result.exit_code == 8, result.output
    assert "FAIL  inputs: actions.csv changed since the run" in result.stdout
    assert "FAIL  allocation:" in result.stdout  # the listed costs no longer follow


def test_verify_a_baseline_and_a_folder_that_is_not_a_run(tmp_path: Path) -> None:
    assert run("baseline", TINY / "model.yaml", "--out", tmp_path).exit_code == 0
    result = run("verify", tmp_path / "tiny" / "baseline")
    assert result.exit_code == 0, result.output
    assert "PASS  tables: 7 tables recomputed from the inputs are identical" in result.stdout
    result = run("verify", tmp_path / "tiny")
    assert result.exit_code == 2
    assert "no manifest.yaml: not a run folder written by dss" in result.stderr
