"""The joint park-and-restoration scenarios of the bundled study, and ``dss verify`` on a
run with a park zoning (a tampered zoning fails)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from test_park_zoning import ZONES, make_case, write_case
from typer.testing import CliRunner

from dss.cli import app

ROOT = Path(__file__).resolve().parents[1]
BAOXING = ROOT / "models" / "baoxing.yaml"
RUNNER = CliRunner()


def run(*args: object):
    return RUNNER.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def baoxing_runs(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("baoxing")
    for scenario in ("park_and_restoration", "park_then_restoration"):
        result = run("solve", BAOXING, "-s", scenario, "-o", out)
        assert result.exit_code == 0, result.output
    return out / "baoxing"


def _summary(folder: Path) -> dict[str, str]:
    table = pd.read_csv(folder / "summary.csv", dtype=str)
    return dict(zip(table["metric"], table["value"], strict=True))


def test_baoxing_joint_is_not_worse_than_sequential(baoxing_runs: Path) -> None:
    joint = _summary(baoxing_runs / "park_and_restoration")
    sequential = _summary(baoxing_runs / "park_then_restoration")
    assert joint["status"] == sequential["status"] == "optimal"
    assert float(joint["objective"]) >= float(sequential["objective"]) - 1e-6 * abs(
        float(sequential["objective"]))
    for folder in ("park_and_restoration", "park_then_restoration"):
        zoning = pd.read_csv(baoxing_runs / folder / "zoning.csv", dtype=str)
        assert len(zoning) == 27 and zoning["unit"].is_unique
        assert set(zoning["zone"]) <= set(ZONES)
        assert zoning.set_index("unit").loc["E6", "zone"] == "core"  # locked in
        design = pd.read_csv(baoxing_runs / folder / "park_design.csv")
        assert design.loc[design["item"] == "target", "met"].astype(bool).all()
        # the park's cost terms are in the summary, negated, and in the objective
        summary = _summary(baoxing_runs / folder)
        costs = design[design["item"] == "cost"]
        for name, value in zip(costs["name"], costs["value"], strict=True):
            assert float(summary[f"benefit zones: {name}"]) == pytest.approx(-value)
        benefits = sum(float(v) for k, v in summary.items() if k.startswith("benefit "))
        assert benefits == pytest.approx(float(summary["objective"]), rel=1e-9)


def test_baoxing_runs_verify_and_compare(baoxing_runs: Path, tmp_path: Path) -> None:
    for folder in ("park_and_restoration", "park_then_restoration"):
        result = run("verify", baoxing_runs / folder)
        assert result.exit_code == 0, result.output
        assert "PASS  zones decisions:" in result.stdout and "PASS  zones:" in result.stdout
    result = run("compare", baoxing_runs / "park_then_restoration",
                 baoxing_runs / "park_and_restoration", "-o", tmp_path / "cmp")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "cmp" / "summary.csv")
    assert {"park_and_restoration", "park_then_restoration"} <= set(table["scenario"])
    assert "benefit zones: park cost" in set(table["metric"])


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("tiny")
    path = write_case(folder / "study", make_case(np.random.default_rng(7)))
    result = run("solve", path, "-o", folder / "results")
    assert result.exit_code == 0, result.output
    return folder / "results" / "joint" / "base"


def test_verify_passes_on_a_joint_run(tiny_run: Path) -> None:
    result = run("verify", tiny_run)
    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.stdout


def test_verify_catches_a_tampered_zoning(tiny_run: Path, tmp_path: Path) -> None:
    shutil.copytree(tiny_run.parents[2], tmp_path, dirs_exist_ok=True)
    folder = tmp_path / "results" / "joint" / "base"
    zoning = pd.read_csv(folder / "zoning.csv", dtype=str, keep_default_na=False)
    zoning["zone"] = "outside"  # nothing in the park: targets fail, patrols not allowed
    zoning.to_csv(folder / "zoning.csv", index=False, lineterminator="\n")
    result = run("verify", folder)
    assert result.exit_code == 8, result.output
    out = result.stdout
    assert "FAIL  outputs: zoning.csv differs" in out
    assert "FAIL  zones: " in out and "target park in core+general: 0 held" in out
    assert "FAIL  constraints:" in out


def test_verify_catches_a_subunit_without_zone(tiny_run: Path, tmp_path: Path) -> None:
    shutil.copytree(tiny_run.parents[2], tmp_path, dirs_exist_ok=True)
    folder = tmp_path / "results" / "joint" / "base"
    zoning = pd.read_csv(folder / "zoning.csv", dtype=str, keep_default_na=False)
    zoning.iloc[1:].to_csv(folder / "zoning.csv", index=False, lineterminator="\n")
    result = run("verify", folder)
    assert result.exit_code == 8
    assert "FAIL  zones decisions: zoning.csv gives no zone to A" in result.stdout


def test_dss_components_documents_both_families() -> None:
    listing = run("components")
    assert listing.exit_code == 0
    for name in ("park_zoning", "zone_rules", "min_set", "contiguity", "boundary_penalty"):
        assert f"  {name} " in listing.stdout
    part = run("components", "boundary_penalty")
    assert part.exit_code == 0 and "boundary_penalty (penalty)" in part.stdout
    assert ".. math::" in part.stdout and "edge_factor" in part.stdout


def test_sequential_with_an_impossible_design_says_why(tmp_path: Path) -> None:
    """Nobody may live in the core, every unit has people, and the core must hold 90 % of
    the habitat: the design alone has no zoning, and the sequential run says which target
    falls short, by how much."""
    case = make_case(np.random.default_rng(3))
    case["population"] = np.array([10.0, 10.0, 10.0])
    case["core_share"] = 0.9
    path = write_case(tmp_path, case, sequential=True)
    model = yaml.safe_load(path.read_text(encoding="utf-8"))
    model["components"]["zones"]["design"]["rules"] = {
        "nobody": {"attribute": "population", "zones": ["core"], "max": 0}}
    path.write_text(yaml.safe_dump(model), encoding="utf-8")
    result = run("solve", path, "-o", tmp_path / "results")
    assert result.exit_code != 0
    assert "the park design alone (zones) is infeasible" in result.stderr
    assert "least shortfalls: sp@core " in result.stderr and "(100.0%)" in result.stderr
