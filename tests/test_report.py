"""``dss report``: the self-contained HTML report, rendered in a real headless Chromium.

The browser test fails on any console error, uncaught exception, failed load or network
request, and checks the rendered text for the study's Chinese name and the run's total
spend. Screenshots are kept in ``test-artifacts/`` (or ``$DSS_TEST_ARTIFACTS``). Without a
Chromium the browser tests are skipped with the reason, except in CI (``CI`` set), where
they fail: ``.ci/run`` installs Debian's ``chromium``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from dss.api import run_solve
from dss.cli import app
from dss.data.study import load_study
from dss.report.i18n import words
from dss.report.run import money, spend_by_year
from dss.results.compare import compare_runs, write_comparison
from dss.results.report import fmt

sys.path.insert(0, str(Path(__file__).parent))
from chromium import find_browser, render  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BAOXING = ROOT / "models" / "baoxing.yaml"
PARK = ROOT / "models" / "baoxing_park.yaml"
ARTIFACTS = Path(os.environ.get("DSS_TEST_ARTIFACTS", ROOT / "test-artifacts"))
RUNNER = CliRunner()
INFEASIBLE = "components.load_limits.reductions.muping_intake.sediment=0.9"


def invoke(*args: object):
    return RUNNER.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("results")
    for scenario in ("base", "double_budget", "core_strict"):
        run = run_solve(BAOXING, [scenario], None, root)
        assert run.result.status == "optimal"
    study = root / "baoxing"
    write_comparison(compare_runs([study / s for s in ("base", "double_budget",
                                                       "core_strict")]), study / "compare")
    run = run_solve(BAOXING, None, [INFEASIBLE, "components.budget.per_agency={}"], root,
                    run_name="infeasible")  # one pooled budget: the least budget is a number
    assert run.result.status == "infeasible"
    run_solve(PARK, None, None, root)
    return study


def browser() -> str:
    path = find_browser()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("no Chromium in CI: .ci/run must install Debian's chromium")
        pytest.skip("no Chromium installed (apt-get install chromium); CI installs it")
    return path


def spend(folder: Path) -> float:
    table = pd.read_csv(folder / "summary.csv").set_index("metric")["value"]
    return float(table["spend"])


def open_in_browser(html: Path, name: str):
    browser()
    page = render(html)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"report-{name}.png").write_bytes(page.screenshot)
    assert page.errors == [], page.errors
    assert page.requests == [], f"the report loads resources: {page.requests}"
    assert page.screenshot.startswith(b"\x89PNG")
    return page


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_run_report_renders_in_chromium(results: Path, lang: str) -> None:
    out = results / "base" / f"report-{lang}.html"
    result = invoke("report", results / "base", "--lang", lang, "--out", out)
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "<script" not in html and "<link" not in html and "<img" not in html
    page = open_in_browser(out, f"base-{lang}")
    assert "宝兴" in page.text
    assert fmt(spend(results / "base")) in page.text  # 20,000,000 in the spend tables
    assert page.figures >= 4  # network, spend by agency and township, loads
    if lang == "zh":
        for text in ("关键数字", "工作计划", "穆坪镇", "林业和草原局", "退耕还林", "蜂桶寨乡河谷",
                     "核心保护区", "2,000"):
            assert text in page.text, text
        assert "万元" in page.text
    else:
        for text in ("Key figures", "Work plan", "Muping Town", "Forestry and Grassland Bureau",
                     "Grain for Green: cropland to forest",
                     "E10 Fengtongzhai township valley floor", "Provenance"):
            assert text in page.text, text
        assert "million CNY" in page.text


def test_comparison_report_renders_in_chromium(results: Path) -> None:
    result = invoke("report", results / "compare")
    assert result.exit_code == 0, result.output
    page = open_in_browser(results / "compare" / "report.html", "compare-zh")
    assert "宝兴" in page.text and "情景比较" in page.text
    for scenario in ("base", "double_budget", "core_strict"):
        assert scenario in page.text
        assert fmt(spend(results / scenario)) in page.text
    # the difference of double_budget's spend from base's, side by side
    assert "+" + fmt(spend(results / "double_budget") - spend(results / "base")) in page.text
    assert page.figures >= 2


def test_infeasible_run_report_explains(results: Path) -> None:
    result = invoke("report", results / "infeasible", "--lang", "en")
    assert result.exit_code == 0, result.output
    page = open_in_browser(results / "infeasible" / "report.html", "infeasible-en")
    short = pd.read_csv(results / "infeasible" / "shortfalls.csv")
    row = short[short["kind"] == "requirement"].iloc[0]
    assert "No feasible plan: why" in page.text
    assert row["requirement"] in page.text and fmt(row["shortfall"]) in page.text
    assert "a budget of at least" in page.text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_park_design_report(results: Path, lang: str) -> None:
    folder = results.parent / "baoxing_park" / "base"
    result = invoke("report", folder, "--lang", lang)
    assert result.exit_code == 0, result.output
    page = open_in_browser(folder / "report.html", f"park-{lang}")
    zoning = pd.read_csv(folder / "zoning.csv")
    summary = pd.read_csv(folder / "summary.csv").set_index("metric")["value"]
    changed = int(zoning["changed"].sum())
    core = int((zoning["zone"] == "core").sum())
    assert page.figures == 1  # the schematic coloured by zone
    if lang == "zh":
        assert "国家公园分区方案" in page.text and "机会成本" in page.text
        assert f"调整{changed}个单元的分区" in page.text
        assert f"分别为{core}/" in page.text and "永富河段" in page.text
    else:
        assert "park design" in page.text.lower() and "Opportunity cost" in page.text
        assert f"{changed} units change zone" in page.text
        assert f"The answer: {core}/" in page.text
    value, unit = money(summary["spend"], words(lang))  # the opportunity cost, headlined
    assert f"{value}\n{unit}" in page.text


def test_spend_by_year_adds_up_to_the_spend(results: Path) -> None:
    alloc = pd.read_csv(results / "base" / "allocation.csv")
    study = load_study(ROOT / "inputs" / "baoxing")
    years = spend_by_year(alloc, study.actions, 10)
    assert len(years) == 10
    assert years["spend"].sum() == pytest.approx(alloc["cost_cny"].sum(), rel=1e-9)
    assert years["spend"].iloc[0] > years["spend"].iloc[1]  # one-off costs fall in year 1
    assert (years["spend"].iloc[1:] == years["spend"].iloc[1]).all()


def test_report_refuses_bad_input(results: Path, tmp_path: Path) -> None:
    result = invoke("report", results / "base", "--lang", "fr")
    assert result.exit_code == 2
    assert "unknown language 'fr' (choose zh or en)" in result.output
    result = invoke("report", tmp_path / "nowhere")
    assert result.exit_code == 2 and "folder not found" in result.output
    assert "Traceback" not in result.output


def test_workbook_headers_are_bilingual_and_agencies_named(results: Path) -> None:
    import openpyxl

    book = openpyxl.load_workbook(results / "compare" / "comparison.xlsx")
    rows = list(book["Spend by agency"].iter_rows(values_only=True))
    assert rows[0][0] == "Agency\n部门"
    assert "Baoxing County Forestry and Grassland Bureau (宝兴县林业和草原局)" in \
        [r[0] for r in rows[1:]]
    rows = list(book["Spend by township"].iter_rows(values_only=True))
    assert "Muping Town (穆坪镇)" in [r[0] for r in rows[1:]]
    head = next(book["Loads at control points"].iter_rows(values_only=True))
    assert "Control point\n控制断面" in head and "Pollutant\n污染物" in head
    assert "base" in head  # scenario columns keep their names
    tidy = pd.read_csv(results / "compare" / "spend_by_township.csv")
    assert {"township_name", "township_zh"} <= set(tidy.columns)


def test_comparison_metrics_are_said_in_words() -> None:
    from dss.report.compare import metric_label

    names = {"point": {"muping_intake": ("Muping intake", "穆坪取水口")},
             "species": {"giant_panda": ("Giant panda", "大熊猫")}}
    en, zh = words("en", names), words("zh", names)
    assert metric_label("benefit water: sediment@muping_intake", en) == \
        "Benefit (water): Sediment at Muping intake"
    assert metric_label("benefit water: sediment@muping_intake", zh) == \
        "效益（water）：穆坪取水口泥沙"
    assert metric_label("benefit habitat: habitat giant_panda", zh) == "效益（habitat）：大熊猫"
    assert metric_label("benefit carbon (total)", en) == "Benefit (carbon), total"
    assert metric_label("spend", zh) == "投入"
