"""``dss compare``: scenarios side by side as tidy CSVs, Markdown and an Excel workbook.

Three Baoxing scenarios (base, double_budget, core_strict) are solved once for the module into
a temporary results root; the comparison's numbers are checked against the run folders' own
CSV files, which are the source of truth.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from dss.api import run_solve
from dss.cli import app
from dss.results.compare import SPECS, compare_runs, comparison_workbook, stack_tables
from dss.results.runs import MissingDependencyError

ROOT = Path(__file__).resolve().parents[1]
BAOXING = ROOT / "models" / "baoxing.yaml"
RUNNER = CliRunner()
SCENARIOS = ("base", "double_budget", "core_strict")
TABLE_FILES = {f"{name}.csv" for name in SPECS} | {"scenarios.csv"}


def invoke(*args: object):
    return RUNNER.invoke(app, [str(a) for a in args])


def run_csv(folder: Path, stem: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{stem}.csv", keep_default_na=False, na_values=[""])


def run_metric(folder: Path, metric: str) -> float:
    summary = run_csv(folder, "summary").set_index("metric")["value"]
    return float(summary[metric])


def after_load(folder: Path, point: str, pollutant: str) -> float:
    cps = run_csv(folder, "control_points")
    row = cps[(cps["point_id"] == point) & (cps["pollutant"] == pollutant)]
    return float(row["after"].iloc[0])


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A results root holding the three solved scenarios."""
    root = tmp_path_factory.mktemp("results")
    for scenario in SCENARIOS:
        run = run_solve(BAOXING, [scenario], None, root)
        assert run.result.status == "optimal"
    return root


@pytest.fixture(scope="module")
def runs(results: Path) -> dict[str, Path]:
    return {s: results / "baoxing" / s for s in SCENARIOS}


@pytest.fixture(scope="module")
def compared(runs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cmp") / "compare"
    result = invoke("compare", *runs.values(), "--out", out)
    assert result.exit_code == 0, result.output
    assert "3 scenarios" in result.output and str(out) in result.output
    return out


@pytest.fixture(scope="module")
def workbook(compared: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(compared / "comparison.xlsx")


def sheet_rows(book: openpyxl.Workbook, title: str) -> tuple[list[str], list[tuple]]:
    rows = list(book[title].iter_rows(values_only=True))
    return list(rows[0]), rows[1:]


def test_writes_csv_markdown_workbook_and_manifest(compared: Path) -> None:
    names = {p.name for p in compared.iterdir()}
    assert TABLE_FILES | {"comparison.md", "comparison.xlsx", "manifest.yaml"} == names
    manifest = yaml.safe_load((compared / "manifest.yaml").read_text(encoding="utf-8"))
    assert manifest["kind"] == "compare"
    assert manifest["baseline"] == "base"
    assert [s["name"] for s in manifest["scenarios"]] == list(SCENARIOS)
    assert set(manifest["outputs_sha256"]) == names - {"manifest.yaml"}
    assert not [p for p in compared.parent.iterdir() if p.name.startswith(".")]


def test_tables_are_tidy_and_long(compared: Path) -> None:
    for name in SPECS:
        table = run_csv(compared, name)
        assert list(table.columns[:1]) == ["scenario"], name
        assert list(table.columns[-4:]) == ["metric", "value", "unit", "delta_vs_base"], name
        assert list(dict.fromkeys(table["scenario"])) == list(SCENARIOS), name
        base = table[table["scenario"] == "base"]
        numeric = pd.to_numeric(base["delta_vs_base"], errors="coerce").dropna()
        assert (numeric == 0).all(), name


def test_summary_numbers_match_the_runs(compared: Path, runs: dict[str, Path]) -> None:
    summary = run_csv(compared, "summary")
    for scenario, folder in runs.items():
        mine = summary[summary["scenario"] == scenario].set_index("metric")
        for metric in ("objective", "spend", "budget", "benefit carbon: carbon"):
            assert float(mine.loc[metric, "value"]) == pytest.approx(run_metric(folder, metric),
                                                                     rel=1e-9), metric
        assert mine.loc["status", "value"] == "optimal"


def test_deltas_are_scenario_minus_baseline(compared: Path, runs: dict[str, Path]) -> None:
    summary = run_csv(compared, "summary")
    row = summary[(summary["scenario"] == "double_budget") & (summary["metric"] == "spend")]
    expected = run_metric(runs["double_budget"], "spend") - run_metric(runs["base"], "spend")
    assert expected == pytest.approx(2.0e7)
    assert float(row["delta_vs_base"].iloc[0]) == pytest.approx(expected, rel=1e-9)
    cps = run_csv(compared, "control_points")
    row = cps[(cps["scenario"] == "core_strict") & (cps["point_id"] == "muping_intake")
              & (cps["pollutant"] == "sediment")]
    expected = after_load(runs["core_strict"], "muping_intake", "sediment") - \
        after_load(runs["base"], "muping_intake", "sediment")
    assert float(row["delta_vs_base"].iloc[0]) == pytest.approx(expected, rel=1e-9)
    assert float(row["value"].iloc[0]) == pytest.approx(
        after_load(runs["core_strict"], "muping_intake", "sediment"), rel=1e-12)


def test_spend_tables_sum_the_allocations(compared: Path, runs: dict[str, Path]) -> None:
    for by in ("agency", "township", "zone"):
        table = run_csv(compared, f"spend_by_{by}")
        spend = table[table["metric"] == "spend"]
        for scenario, folder in runs.items():
            alloc = run_csv(folder, "allocation")
            expected = alloc.groupby(by)["cost_cny"].sum()
            mine = spend[spend["scenario"] == scenario].set_index(by)["value"]
            for key, value in expected.items():
                assert mine[key] == pytest.approx(value, rel=1e-9), (by, scenario, key)
            assert mine.sum() == pytest.approx(run_metric(folder, "spend"), rel=1e-9)
            absent = mine.drop(expected.index)
            assert (absent == 0).all()  # a township without spend in this scenario: 0
    share = run_csv(compared, "spend_by_township")
    share = share[share["metric"] == "share"]
    assert share.groupby("scenario")["value"].sum().to_numpy() == pytest.approx([100.0] * 3)


def test_allocations_align_subunit_and_action(compared: Path, runs: dict[str, Path]) -> None:
    table = run_csv(compared, "allocations")
    cost = table[table["metric"] == "cost"]
    pairs = cost.groupby("scenario").size()
    assert len(set(pairs)) == 1  # every scenario has a row for every pair (0 if not chosen)
    alloc = run_csv(runs["core_strict"], "allocation")
    patrol = alloc[alloc["action_id"] == "ranger_patrol"]
    mine = cost[(cost["action_id"] == "ranger_patrol")]
    for r in patrol.itertuples(index=False):
        rows = mine[mine["subunit_id"] == r.subunit_id].set_index("scenario")
        assert rows.loc["core_strict", "value"] == pytest.approx(r.cost_cny, rel=1e-9)
        assert rows.loc["core_strict", "delta_vs_base"] == pytest.approx(
            r.cost_cny - rows.loc["base", "value"], rel=1e-9, abs=1e-6)


def test_workbook_numbers_match_the_runs(workbook: openpyxl.Workbook,
                                         runs: dict[str, Path]) -> None:
    assert workbook.sheetnames[:3] == ["Scenarios", "Summary", "Loads at control points"]
    header, rows = sheet_rows(workbook, "Summary")
    by_metric = {r[0]: r for r in rows}
    for scenario, folder in runs.items():
        col = header.index(scenario)
        for metric in ("objective", "spend"):
            cell = by_metric[metric][col]
            assert isinstance(cell, int | float), (metric, cell)
            assert cell == pytest.approx(run_metric(folder, metric), rel=1e-12)
    delta = by_metric["spend"][header.index("Δ double_budget")]
    assert delta == pytest.approx(2.0e7)
    header, rows = sheet_rows(workbook, "Loads at control points")
    row = next(r for r in rows if r[0].startswith("Qiaoqi reservoir") and r[1] == "sediment")
    for scenario, folder in runs.items():
        assert row[header.index(scenario)] == pytest.approx(
            after_load(folder, "qiaoqi_reservoir", "sediment"), rel=1e-12)
    row = next(r for r in rows if r[0].startswith("Muping") and r[1] == "TN")
    assert row[header.index("double_budget")] == pytest.approx(
        after_load(runs["double_budget"], "muping_intake", "tn"), rel=1e-12)


def test_workbook_is_readable(workbook: openpyxl.Workbook) -> None:
    for ws in workbook.worksheets[1:]:
        header = [c for c in next(ws.iter_rows(min_row=1, max_row=1))]
        assert all(c.font.bold for c in header), ws.title
        assert ws.freeze_panes is not None and ws.freeze_panes.endswith("2"), ws.title
        for cell in header:
            assert ws.column_dimensions[cell.column_letter].width >= 8, ws.title
        for row in ws.iter_rows(min_row=2, values_only=True):
            for value in row:  # no number stored as text
                if isinstance(value, str):
                    with pytest.raises(ValueError):
                        float(value.replace(",", ""))
    header = [c.value for c in next(workbook["Spend by agency"].iter_rows(max_row=1))]
    assert "base spend (CNY)" in header and "Δ double_budget spend (CNY)" in header
    assert "base share (%)" in header


def test_chinese_names_survive_every_format(compared: Path,
                                            workbook: openpyxl.Workbook) -> None:
    inputs = pd.read_csv(ROOT / "inputs" / "baoxing" / "control_points.csv")
    zh = inputs.set_index("point_id")["name_zh"]
    cps = run_csv(compared, "control_points")
    assert dict(zip(cps["point_id"], cps["point_zh"], strict=True)) == zh.to_dict()
    assert "硗碛水库" in set(cps["point_zh"])
    alloc = run_csv(compared, "allocations")
    assert "退耕还林" in set(alloc["action_zh"])
    markdown = (compared / "comparison.md").read_text(encoding="utf-8")
    assert "宝兴河流域" in markdown and "Qiaoqi reservoir (硗碛水库)" in markdown
    assert "Giant panda (大熊猫)" in markdown
    cells = {str(v) for ws in workbook.worksheets for row in ws.iter_rows(values_only=True)
             for v in row if v is not None}
    assert "Qiaoqi reservoir (硗碛水库)" in cells
    assert any("宝兴河流域" in c for c in cells)


def test_markdown_lays_scenarios_side_by_side(compared: Path) -> None:
    markdown = (compared / "comparison.md").read_text(encoding="utf-8")
    for title in ("## Summary", "## Loads at control points", "## Habitat",
                  "## Spend by agency", "## Spend by township", "## Spend by national-park zone",
                  "## Allocations"):
        assert title in markdown
    spend = next(line for line in markdown.splitlines() if line.startswith("| spend |"))
    assert spend.split("|")[3:6] == [" 20,000,000 ", " 40,000,000 ", " +20,000,000 "]


def test_other_baseline(runs: dict[str, Path], tmp_path: Path) -> None:
    result = invoke("compare", *runs.values(), "--baseline", "double_budget",
                    "--out", tmp_path / "cmp")
    assert result.exit_code == 0, result.output
    summary = run_csv(tmp_path / "cmp", "summary")
    assert "delta_vs_double_budget" in summary.columns
    row = summary[(summary["scenario"] == "base") & (summary["metric"] == "spend")]
    assert float(row["delta_vs_double_budget"].iloc[0]) == pytest.approx(-2.0e7)


def test_python_api_stacks_runs(runs: dict[str, Path]) -> None:
    cmp = compare_runs(list(runs.values()))
    assert cmp.scenarios == list(SCENARIOS) and cmp.baseline == "base"
    stacked = stack_tables(cmp.runs, "control_points")
    assert list(stacked.columns[:2]) == ["scenario", "point_id"]
    assert len(stacked) == 3 * len(run_csv(runs["base"], "control_points"))


def test_model_mode_reuses_current_runs_and_solves_missing(results: Path,
                                                           tmp_path: Path) -> None:
    base = results / "baoxing" / "base" / "manifest.yaml"
    created = yaml.safe_load(base.read_text(encoding="utf-8"))["created"]
    result = invoke("compare", "--model", BAOXING, "-s", "base", "-s", "reservoir_target",
                    "--results", results, "--out", tmp_path / "cmp")
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(base.read_text(encoding="utf-8"))["created"] == created  # reused
    assert (results / "baoxing" / "reservoir_target" / "summary.csv").is_file()  # solved
    summary = run_csv(tmp_path / "cmp", "summary")
    sense = summary[summary["metric"] == "objective_sense"].set_index("scenario")["value"]
    assert sense.to_dict() == {"base": "max_benefit", "reservoir_target": "min_cost"}


def test_default_out_is_beside_the_runs(runs: dict[str, Path]) -> None:
    result = invoke("compare", runs["base"], runs["double_budget"])
    assert result.exit_code == 0, result.output
    assert (runs["base"].parent / "compare" / "comparison.xlsx").is_file()


def check_error(result, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    for needle in needles:
        assert needle in result.output, (needle, result.output)


def test_folder_that_is_not_a_run(runs: dict[str, Path], tmp_path: Path) -> None:
    inputs = ROOT / "inputs" / "baoxing"
    check_error(invoke("compare", runs["base"], inputs, "--out", tmp_path / "c"),
                str(inputs), "no manifest.yaml", "not a dss run folder")
    check_error(invoke("compare", runs["base"], tmp_path / "missing"), "folder not found")
    check_error(invoke("compare", runs["base"], runs["base"] / "summary.csv"), "not a folder")
    assert not (tmp_path / "c").exists()


def test_runs_of_different_studies(runs: dict[str, Path], tmp_path: Path) -> None:
    other = tmp_path / "other" / "base"
    shutil.copytree(runs["double_budget"], other)
    manifest = yaml.safe_load((other / "manifest.yaml").read_text(encoding="utf-8"))
    manifest["config"]["name"] = "minjiang"
    (other / "manifest.yaml").write_text(yaml.safe_dump(manifest, allow_unicode=True),
                                         encoding="utf-8")
    check_error(invoke("compare", runs["base"], other, "--out", tmp_path / "c"),
                str(other), "study 'minjiang'", "study 'baoxing'")


def test_bad_baseline_out_and_arguments(runs: dict[str, Path], tmp_path: Path) -> None:
    check_error(invoke("compare", runs["base"], runs["core_strict"], "-b", "core_strik"),
                "--baseline", "did you mean 'core_strict'?")
    before = sorted(p.name for p in runs["double_budget"].iterdir())
    check_error(invoke("compare", runs["base"], runs["core_strict"], "--out",
                       runs["double_budget"]), str(runs["double_budget"]),
                "not an earlier comparison")
    assert sorted(p.name for p in runs["double_budget"].iterdir()) == before
    check_error(invoke("compare", runs["base"], runs["base"]), "given twice")
    check_error(invoke("compare"), "nothing to compare")
    check_error(invoke("compare", runs["base"], "-m", BAOXING), "not both")
    check_error(invoke("compare", "-m", BAOXING, "-s", "base", "-s", "double_budgt"),
                "baoxing.yaml", "unknown scenario 'double_budgt'", "did you mean")


def test_missing_openpyxl_is_explained(runs: dict[str, Path], tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    cmp = compare_runs([runs["base"], runs["double_budget"]])
    monkeypatch.setitem(sys.modules, "openpyxl", None)
    with pytest.raises(MissingDependencyError, match=r"install dss\[report\]"):
        comparison_workbook(cmp)
    check_error(invoke("compare", runs["base"], runs["double_budget"], "--out",
                       tmp_path / "c"), "openpyxl", "dss[report]")
    assert not (tmp_path / "c").exists()
