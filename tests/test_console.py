"""The ``dss solve`` console: short at any size, names in the chosen language, readable
``--set`` run names, and a study that travels with the package."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from dss.cli import app
from dss.config.labels import set_label
from dss.examples import bundled_model, copy_example
from dss.synth import write_study

ROOT = Path(__file__).resolve().parents[1]
BAOXING = ROOT / "models" / "baoxing.yaml"
RUNNER = CliRunner()


def invoke(*args: object):
    return RUNNER.invoke(app, [str(a) for a in args])


def test_console_stays_short_on_a_large_study(tmp_path: Path) -> None:
    model = write_study(tmp_path / "study", 3000, seed=1)
    result = invoke("solve", model, "--out", tmp_path / "results")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) <= 40, "\n".join(lines)
    folder = next((tmp_path / "results").iterdir()) / "base"
    alloc = pd.read_csv(folder / "allocation.csv")
    cps = pd.read_csv(folder / "control_points.csv")
    assert f"… and {len(alloc) - 8:,} more, see allocation.csv" in result.stdout
    assert "see control_points.csv" in result.stdout
    # the allocations shown are the largest by spend
    biggest = alloc.sort_values("cost_cny", ascending=False).iloc[0]
    first = next(ln for ln in lines if ln.startswith("Largest allocations"))
    assert f"{biggest['cost_cny']:,.0f} CNY" in lines[lines.index(first) + 1]
    # --all prints every allocation and control point
    result = invoke("solve", model, "--out", tmp_path / "results", "--all")
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) > len(alloc) + len(cps)
    assert "more, see" not in result.stdout


@pytest.mark.parametrize(("lang", "names"), [
    ("zh", ["蜂桶寨乡河谷", "退耕还林", "林业和草原局", "蜂桶寨乡"]),
    ("en", ["E10 Fengtongzhai township", "Grain for Green: cropland to fore",
            "Fengtongzhai Township"]),
])
def test_console_names_in_the_chosen_language(tmp_path: Path, lang: str,
                                              names: list[str]) -> None:
    result = invoke("solve", BAOXING, "--out", tmp_path, "--lang", lang)
    assert result.exit_code == 0, result.output
    for name in names:
        assert name in result.stdout, (name, result.stdout)
    # no jargon: the budget's dual is said in words (one pooled budget, so that it binds)
    assert "objective units per unit of the constraint" not in result.stdout
    pooled = invoke("solve", BAOXING, "--out", tmp_path, "--lang", lang, "--set",
                    "components.budget.per_agency={}")
    assert pooled.exit_code == 0, pooled.output
    assert "objective units per unit of the constraint" not in pooled.stdout
    assert "value of one more CNY of budget.total" in pooled.stdout


def test_set_runs_get_readable_names(tmp_path: Path) -> None:
    assert set_label(["components.budget.total=3e7"]) == "budget.total=3e7"
    assert set_label(["components.budget.total=3e7", "settings.horizon_years=20"]) == \
        "budget.total=3e7+settings.horizon_years=20"
    for unsafe in (["components.zones.core.allowed=[a, b]"], ["components.x.y=a/b"],
                   ["components.x.y=1:2"], ["a=" + "9" * 100]):
        label = set_label(unsafe)
        assert label.startswith("set-") and len(label) == 12, label
    result = invoke("solve", BAOXING, "--set", "components.budget.total=3e7", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "baoxing" / "base+budget.total=3e7" / "summary.csv").is_file()


def test_the_bundled_study_is_found_from_any_folder(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    assert bundled_model() is not None
    monkeypatch.chdir(tmp_path)  # no models/ here
    result = invoke("solve")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "results" / "baoxing" / "base" / "allocation.csv").is_file()
    result = invoke("example", "baoxing", "mine")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "mine" / "inputs" / "baoxing" / "subunits.csv").is_file()
    result = invoke("solve", "mine/models/baoxing.yaml", "--out", "r2")
    assert result.exit_code == 0, result.output
    result = invoke("example", "baoxing", "mine")
    assert result.exit_code == 2 and "already exists" in result.output
    result = invoke("example", "baoxin", "other")
    assert result.exit_code == 2 and "did you mean baoxing?" in result.output
    with pytest.raises(Exception, match="already exists"):
        copy_example("baoxing", tmp_path / "mine")


def test_a_missing_model_file_suggests_what_to_do(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    result = invoke("solve", ROOT / "models" / "baoxng.yaml")
    assert result.exit_code == 2
    assert "model file not found (did you mean baoxing.yaml in" in result.output
    monkeypatch.chdir(tmp_path)
    result = invoke("solve", "nowhere/model.yaml")
    assert result.exit_code == 2
    assert "dss example baoxing DIR" in result.output
    assert "Traceback" not in result.output
