"""Regression tests for the safety defects of GitHub issue 13.

1. Run and scenario names cannot escape the results folder, nor replace a folder that dss did
   not write.
2. YAML alias bombs, deep nesting and huge overrides are refused quickly and located.
3. ``dss validate`` refuses what ``dss solve`` refuses (one code path).
4. Non-finite values in any column are located errors, never an exception.
5. ``solver.threads`` is bounded by the machine's cores.
6. Simultaneous runs of one scenario both succeed; cleanup removes only dead owners' folders.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dss.cli import app
from dss.config.model import machine_cores
from dss.names import plain_name_problem
from dss.results import folders

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "data" / "tiny"
BAOXING = ROOT / "models" / "baoxing.yaml"
PARK = ROOT / "models" / "baoxing_park.yaml"
RUNNER = CliRunner()


def invoke(*args: object):
    return RUNNER.invoke(app, [str(a) for a in args])


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def copy_tiny(tmp_path: Path) -> Path:
    study = tmp_path / "study"
    shutil.copytree(TINY, study)
    return study / "model.yaml"


def assert_refused(result, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    for needle in needles:
        assert needle in result.output, result.output


# ------------------------------------------------------------------- 1. names become paths


@pytest.mark.parametrize("name", ["../../precious", ".", "..", "/tmp/abs", "a/b", "a\\b",
                                  ".hidden", "c:x", "two words"])
def test_unsafe_run_names_are_refused_and_nothing_is_touched(tmp_path: Path, name: str
                                                             ) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "work.txt").write_text("years of work", encoding="utf-8")
    out = tmp_path / "inner" / "res"
    (out / "tiny" / "base").mkdir(parents=True)
    before = tree(tmp_path)
    result = invoke("solve", TINY, "--out", out, "--run-name", name)
    assert_refused(result, "--run-name", "plain name")
    assert tree(tmp_path) == before
    assert sorted(p.name for p in (out / "tiny").iterdir()) == ["base"]


def test_chinese_and_set_style_run_names_are_plain() -> None:
    for name in ["基线", "宝兴_2017", "base+budget.total=3e7", "double_budget", "a.b-c"]:
        assert plain_name_problem(name) is None, name
    for name in ["..", ".", "a/b", "x:y", ".tmp", "a b", "a\tb", "a\x00b", "€"]:
        assert plain_name_problem(name) is not None, name


def test_chinese_run_name_writes_inside_the_study_folder(tmp_path: Path) -> None:
    result = invoke("solve", TINY, "--out", tmp_path, "--run-name", "基线")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "tiny" / "基线" / "manifest.yaml").is_file()


def test_hostile_scenario_key_in_a_model_file(tmp_path: Path) -> None:
    model = copy_tiny(tmp_path)
    text = model.read_text(encoding="utf-8")
    model.write_text(text + "scenarios:\n  ../../../escaped:\n    overrides: "
                     "{components.budget.total: 1.0e+5}\n", encoding="utf-8")
    out = tmp_path / "res"
    for command in (["validate", model], ["solve", model, "-s", "../../../escaped", "--out",
                                          out]):
        assert_refused(invoke(*command), "model.yaml", "scenario key '../../../escaped'",
                       "path separator")
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["study"]


@pytest.mark.parametrize("name", ["../up", "a/b", ".."])
def test_hostile_study_name(tmp_path: Path, name: str) -> None:
    model = copy_tiny(tmp_path)
    text = model.read_text(encoding="utf-8").replace("name: tiny", f"name: '{name}'")
    model.write_text(text, encoding="utf-8")
    assert_refused(invoke("solve", model, "--out", tmp_path / "res"), "study name")
    assert not (tmp_path / "res").exists()


def test_sweep_param_cannot_name_a_folder_outside(tmp_path: Path) -> None:
    result = invoke("sweep", TINY, "--param", "components.budget.x/../../../out",
                    "--values", "1", "--out", tmp_path / "res")
    assert result.exit_code == 2, result.output
    assert not (tmp_path / "out").exists()


def test_a_folder_dss_did_not_write_is_never_replaced(tmp_path: Path) -> None:
    """A user's folder where a run would go (no dss manifest) is an error naming it."""
    mine = tmp_path / "res" / "tiny" / "base"
    mine.mkdir(parents=True)
    (mine / "notes.md").write_text("mine", encoding="utf-8")
    forged = tmp_path / "res" / "tiny" / "forged"
    forged.mkdir()
    (forged / "manifest.yaml").write_text("kind: [unclosed", encoding="utf-8")
    before = tree(tmp_path)
    assert_refused(invoke("solve", TINY, "--out", tmp_path / "res"), str(mine),
                   "not a folder that dss wrote")
    assert_refused(invoke("solve", TINY, "--out", tmp_path / "res", "--run-name", "forged"),
                   str(forged))
    assert tree(tmp_path) == before
    # an earlier dss run there is replaced, as before
    shutil.rmtree(mine)
    assert invoke("solve", TINY, "--out", tmp_path / "res").exit_code == 0
    assert invoke("solve", TINY, "--out", tmp_path / "res").exit_code == 0


def test_a_link_out_of_the_results_root_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "res").mkdir()
    (tmp_path / "res" / "tiny").symlink_to(outside, target_is_directory=True)
    assert_refused(invoke("solve", TINY, "--out", tmp_path / "res"), "outside the results root")
    assert list(outside.iterdir()) == []


# --------------------------------------------------------------------- 2. hostile YAML


def billion_laughs(levels: int = 9) -> str:
    text = "\nbomb:\n  a: &a [" + ",".join(['"lol"'] * 9) + "]\n"
    previous = "a"
    for level in range(1, levels):
        name = f"l{level}"
        text += f"  {name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]\n"
        previous = name
    return text


@pytest.mark.parametrize("command", ["validate", "solve"])
def test_alias_bomb_is_refused_fast(tmp_path: Path, command: str) -> None:
    model = copy_tiny(tmp_path)
    model.write_text(model.read_text(encoding="utf-8") + billion_laughs(), encoding="utf-8")
    start = time.perf_counter()
    result = invoke(command, model)
    assert time.perf_counter() - start < 10
    assert_refused(result, "model.yaml, line", "expands to more than 100,000 values")


def test_recursive_alias_is_refused(tmp_path: Path) -> None:
    model = copy_tiny(tmp_path)
    model.write_text(model.read_text(encoding="utf-8") + "loop: &x [1, *x]\n", encoding="utf-8")
    result = invoke("validate", model)
    assert result.exit_code == 2, result.output
    assert "internal error" not in result.output


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    model = copy_tiny(tmp_path)
    model.write_text(model.read_text(encoding="utf-8") + "deep: " + "[" * 3000 + "]" * 3000
                     + "\n", encoding="utf-8")
    assert_refused(invoke("validate", model), "model.yaml, line", "nested more than")
    assert_refused(invoke("validate", TINY, "--set", "x=" + "[" * 2000 + "]" * 2000),
                   "--set", "nested more than")
    assert_refused(invoke("validate", TINY, "--set", ".".join(["a"] * 2000) + "=1"),
                   "--set", "2000 parts")


def test_huge_model_file_is_refused(tmp_path: Path) -> None:
    model = copy_tiny(tmp_path)
    model.write_text(model.read_text(encoding="utf-8") + "# " + "x" * (2 * 2**20) + "\n",
                     encoding="utf-8")
    assert_refused(invoke("validate", model), "model.yaml", "characters long")


# ------------------------------------------------------ 3. validate refuses what solve does


REFUSED_OVERRIDES = [
    "components.budget.total=-5",
    "components.budget.total=.nan",
    "components.budget.total=lots",
    "components.budget.total=[1,2]",
    "components.budget.totl=5",
    "components.equity.max_share=7",
    "components.equity.max_share=text",
    "components.extra.type=no_such_component",
    "components.zones.core={forbidden: [no_such_action]}",
    "components.load_limits.limits={no_such_point: {sediment: 1}}",
    "solver.threads=100000",
    # presolve: the budget is below the cost of what is locked in
    "components.budget.total=1|components.locks.locked_in={E5: {grain_for_green_grass: all}}",
]


@pytest.mark.parametrize("override", REFUSED_OVERRIDES)
def test_validate_refuses_what_solve_refuses(tmp_path: Path, override: str) -> None:
    sets = [arg for part in override.split("|") for arg in ("--set", part)]
    solved = invoke("solve", BAOXING, *sets, "--out", tmp_path)
    validated = invoke("validate", BAOXING, *sets)
    assert solved.exit_code == 2, solved.output
    assert validated.exit_code == 2, validated.output
    assert "internal error" not in solved.output + validated.output
    assert not any(tmp_path.iterdir())


def test_validate_checks_planning_models(tmp_path: Path) -> None:
    inputs = tmp_path / "inputs" / "baoxing"
    shutil.copytree(ROOT / "inputs" / "baoxing", inputs)
    shutil.copytree(ROOT / "models", tmp_path / "models")
    model = tmp_path / "models" / "baoxing_park.yaml"
    good = (inputs / "boundaries.csv").read_text(encoding="utf-8")
    lines = good.splitlines()
    header = lines[0].split(",")
    first = lines[1].split(",")

    def with_row(cells: list[str], head: str = lines[0]) -> str:
        return "\n".join([head, ",".join(cells), *lines[2:]]) + "\n"

    inf_length = list(first)
    inf_length[header.index("length_km")] = "inf"
    unknown = ["ZZZ", *first[1:]]
    cases = {
        "infinite value is not allowed": with_row(inf_length),
        "column appears twice": with_row(first + [first[-1]], lines[0] + "," + header[-1]),
        "unknown subunit 'ZZZ'": with_row(unknown),
        "cells but the header has": with_row(first[:-1]),
    }
    for needle, text in cases.items():
        (inputs / "boundaries.csv").write_text(text, encoding="utf-8")
        for command in (["validate", model], ["solve", model, "--out", tmp_path / "res"]):
            assert_refused(invoke(*command), "boundaries.csv", needle)
    (inputs / "boundaries.csv").write_text(good, encoding="utf-8")
    assert invoke("validate", model).exit_code == 0
    assert not (tmp_path / "res").exists()


# -------------------------------------------------------------- 4. non-finite values


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e400"])
def test_non_finite_integer_cell_is_located(tmp_path: Path, value: str) -> None:
    model = copy_tiny(tmp_path)
    subunits = model.parent / "subunits.csv"
    lines = subunits.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    if "hazard_sites" not in header:
        lines = [lines[0] + ",hazard_sites"] + [line + ",0" for line in lines[1:]]
        header.append("hazard_sites")
    row = lines[1].split(",")
    row[header.index("hazard_sites")] = value
    lines[1] = ",".join(row)
    subunits.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for command in ("validate", "baseline", "solve"):
        assert_refused(invoke(command, model, *(["--out", tmp_path / "res"]
                                                if command != "validate" else [])),
                       "subunits.csv, row 2, column hazard_sites")
    assert not (tmp_path / "res").exists()


# ------------------------------------------------------------------ 5. solver threads


def test_threads_beyond_the_cores_are_refused() -> None:
    cores = machine_cores()
    assert_refused(invoke("validate", TINY, "--set", f"solver.threads={cores + 1}"),
                   "solver.threads", f"{cores} cores")
    assert invoke("validate", TINY, "--set", f"solver.threads={cores}").exit_code == 0
    assert invoke("validate", TINY, "--set", "solver.threads=0").exit_code == 0


# ------------------------------------------------------------ 6. concurrent runs


def test_cleanup_leaves_live_owners_alone(tmp_path: Path) -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live_tag = f"{sleeper.pid}-{folders._start_time(sleeper.pid) or 0}"
        live = tmp_path / f".base.tmp-{live_tag}-aaaa"
        live_old = tmp_path / f".base.old-{live_tag}-bbbb"
        dead = tmp_path / ".base.tmp-999999999-1-cccc"
        reused = tmp_path / f".base.tmp-{sleeper.pid}-1-dddd"  # same pid, other start time
        unrelated = tmp_path / ".other.tmp-999999999-1-eeee"
        for folder in (live, live_old, dead, reused, unrelated):
            folder.mkdir()
        folders.clean_stale(tmp_path, "base")
        assert live.is_dir() and unrelated.is_dir()
        assert not dead.exists()
        if folders._start_time(sleeper.pid) is not None:  # Linux: start times are known
            assert not reused.exists()
        assert not (tmp_path / "base").exists() and live_old.is_dir()
    finally:
        sleeper.kill()
        sleeper.wait()
    folders.clean_stale(tmp_path, "base")  # the owner is gone now: the old run comes back
    assert not live.exists() and (tmp_path / "base").is_dir()


def test_simultaneous_runs_of_one_scenario_all_succeed(tmp_path: Path) -> None:
    """Ten pairs of simultaneous ``dss solve`` runs: 20 of 20 exit 0 and the folder that
    stays passes ``dss verify`` (issue 13, item 6)."""
    out = tmp_path / "res"
    command = [sys.executable, "-m", "dss", "solve", str(TINY), "--out", str(out)]
    env = {**os.environ, "DSS_TEST_SLOW_WRITE": "0.01"}  # widen the window for a race
    codes = []
    for _ in range(10):
        pair = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for _ in range(2)]
        for proc in pair:
            _, err = proc.communicate(timeout=120)
            codes.append(proc.returncode)
            assert proc.returncode == 0, err
    assert codes == [0] * 20
    assert sorted(p.name for p in (out / "tiny").iterdir()) == ["base"]
    verify = invoke("verify", out / "tiny" / "base")
    assert verify.exit_code == 0, verify.output
