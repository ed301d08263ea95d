"""dss workplan: work plans per agency and township, and the implementation rules."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from dss.cli import app

TINY = Path(__file__).parent / "data" / "tiny"
RUNNER = CliRunner()

AGENCIES = ("agency_id,name,name_zh,level,mandate\n"
            "forestry,Forestry Bureau,林业和草原局,county,habitat;carbon\n"
            "natural_resources,Natural Resources Bureau,自然资源局,county,sediment\n"
            "environment,Ecology and Environment Bureau,生态环境局,city,tn;tp\n"
            "water,Water Resources Bureau,水利局,county,sediment:reservoir\n")


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny study with agencies and every kind of rule, solved once."""
    root = tmp_path_factory.mktemp("workplan")
    study = root / "tiny"
    shutil.copytree(TINY, study)
    (study / "agencies.csv").write_text(AGENCIES, encoding="utf-8")
    model = yaml.safe_load((study / "model.yaml").read_text(encoding="utf-8"))
    model["components"].update({
        "budget": {"type": "budget", "total": 900000, "per_agency": {"forestry": 400000}},
        "zones": {"type": "zone_rules", "core": {"forbidden": ["scar_reveg"]}},
        "locks": {"type": "locks", "locked_in": {"D": {"gfg_forest": 5}},
                  "locked_out": {"E": ["gfg_forest"]}},
        "equity": {"type": "equity", "max_share": 0.9},
        "habitat": {"type": "habitat", "species": {"panda": {"value": 10,
                                                             "target_absolute": None}}},
        "limits": {"type": "load_limits", "reductions": {"outlet": {"tn": 0.001}}},
    })
    (study / "model.yaml").write_text(yaml.safe_dump(model, allow_unicode=True),
                                      encoding="utf-8")
    result = RUNNER.invoke(app, ["solve", str(study / "model.yaml"), "--out",
                                 str(root / "results")])
    assert result.exit_code == 0, result.output
    return root / "results" / "tiny" / "base"


@pytest.fixture(scope="module")
def written(solved: Path) -> tuple[Path, str]:
    result = RUNNER.invoke(app, ["workplan", str(solved)])
    assert result.exit_code == 0, result.output
    return solved / "workplans", result.output


def test_lines_are_the_plan_with_names_and_rules(solved: Path, written) -> None:
    folder, output = written
    alloc = pd.read_csv(solved / "allocation.csv")
    plan = pd.read_csv(folder / "workplan.csv", keep_default_na=False, na_values=[""])
    funded = alloc[alloc["amount"] > 0]
    assert len(plan) == len(funded) > 0
    assert plan["cost_cny"].sum() == pytest.approx(funded["cost_cny"].sum())
    merged = plan.merge(funded, on=["subunit_id", "action_id"], suffixes=("", "_alloc"))
    assert len(merged) == len(plan)
    assert (merged["amount"] == merged["amount_alloc"]).all()
    assert (merged["agency_id"] == merged["agency_alloc"]).all()
    names = {"forestry": "林业和草原局", "natural_resources": "自然资源局",
             "environment": "生态环境局", "water": "水利局"}
    assert (plan["agency_zh"] == plan["agency_id"].map(names)).all()
    assert set(plan["action_zh"]) <= {"退耕还林", "滑坡复绿", "污水处理", "拦砂坝"}
    # every agency's file holds exactly its lines, and the console prints its spend
    for agency, part in plan.groupby("agency_id"):
        own = pd.read_csv(folder / f"agency_{agency}.csv", keep_default_na=False,
                          na_values=[""])
        assert len(own) == len(part) and (own["agency_id"] == agency).all()
        assert f"{names[agency]} " in output
        assert f"{part['cost_cny'].sum():,.0f} CNY" in output


def test_rules_come_from_the_model_with_sources(written) -> None:
    folder, _ = written
    rules = pd.read_csv(folder / "rules.csv")
    sources = " | ".join(rules["source"])
    for key in ("components.zones.core.forbidden", "components.locks.locked_out.E",
                "components.locks.locked_in.D", "components.equity.max_share",
                "components.budget.total", "components.budget.per_agency.forestry",
                "components.limits.reductions.outlet.tn"):
        assert f"model.yaml, {key}" in sources, key
    text = (folder / "rules.md").read_text(encoding="utf-8")
    assert "核心保护区内禁止：滑坡复绿。" in text
    assert "Forbidden in the core protection zone: Landslide revegetation." in text
    assert "子流域 D 必须实施退耕还林（至少 5）。" in text
    assert "Budget of Forestry Bureau: at most 400,000 CNY." in text
    assert "Total nitrogen at Outlet: at most" in text


def test_each_line_lists_the_rules_that_concern_it(written) -> None:
    folder, _ = written
    plan = pd.read_csv(folder / "workplan.csv", keep_default_na=False, na_values=[""])
    rules = pd.read_csv(folder / "rules.csv").set_index("rule_id")
    by_text = {text: rid for rid, text in rules["rule_en"].items()}
    total = by_text["Total budget: at most 900,000 CNY."]
    forestry = by_text["Budget of Forestry Bureau: at most 400,000 CNY."]
    locked_in = next(r for t, r in by_text.items() if t.startswith("Committed in subunit D"))
    core = by_text["Forbidden in the core protection zone: Landslide revegetation."]
    tn_limit = next(r for t, r in by_text.items() if t.startswith("Total nitrogen at Outlet"))
    for rec in plan.itertuples(index=False):
        ids = set(str(rec.rule_ids).split("; "))
        assert total in ids
        assert (forestry in ids) == (rec.agency_id == "forestry")
        assert (locked_in in ids) == (rec.subunit_id == "D" and rec.action_id == "gfg_forest")
        # the scar revegetation rule concerns subunits partly in the core zone (A, B)
        assert (core in ids) == (rec.action_id == "scar_reveg" and rec.subunit_id in "AB")
        assert tn_limit in ids  # every subunit drains to the outlet
        for rid in ids:
            assert f"{rid} {rules.loc[rid, 'rule_en']}" in rec.rules_en
    d = plan[(plan["subunit_id"] == "D") & (plan["action_id"] == "gfg_forest")]
    assert len(d) == 1 and float(d["amount"].iloc[0]) >= 5 - 1e-9


def test_workbooks_are_bilingual_numeric_and_print_on_a4_landscape(written) -> None:
    folder, _ = written
    plan = pd.read_csv(folder / "workplan.csv", keep_default_na=False, na_values=[""])
    towns = openpyxl.load_workbook(folder / "townships.xlsx")
    assert towns.sheetnames == sorted(set(plan["township"])) + ["规则 Rules"]
    for agency, part in plan.groupby("agency_id"):
        book = openpyxl.load_workbook(folder / f"agency_{agency}.xlsx")
        assert book.sheetnames == (["全部 All"] + sorted(set(part["township"]))
                                   + ["规则 Rules"])
    for ws in towns.worksheets:
        assert ws.page_setup.orientation == "landscape"
        assert int(ws.page_setup.paperSize) == 9  # A4
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.freeze_panes == "A2"
    first = towns[towns.sheetnames[0]]
    headers = [c.value for c in first[1]]
    assert "数量\nAmount" in headers and "费用（元）\nCost (CNY)" in headers
    assert all("\n" in h for h in headers)
    assert first.print_title_rows == "$1:$1"
    cost = headers.index("费用（元）\nCost (CNY)") + 1
    amounts = [first.cell(row=r, column=cost).value for r in range(2, first.max_row + 1)]
    assert amounts and all(isinstance(v, int | float) for v in amounts)  # not text
    mine = plan[plan["township"] == towns.sheetnames[0]]
    assert sum(amounts) == pytest.approx(mine["cost_cny"].sum())
    rules_sheet = towns["规则 Rules"]
    assert rules_sheet.max_row - 1 == len(pd.read_csv(folder / "rules.csv"))


def test_rerun_replaces_and_out_refuses_a_foreign_folder(solved: Path, written,
                                                         tmp_path: Path) -> None:
    folder, _ = written
    result = RUNNER.invoke(app, ["workplan", str(solved)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in solved.iterdir() if p.name.startswith(".")) == []
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep", encoding="utf-8")
    result = RUNNER.invoke(app, ["workplan", str(solved), "--out", str(foreign)])
    assert result.exit_code == 2
    assert "is not an earlier work plan" in result.output
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]
    result = RUNNER.invoke(app, ["workplan", str(tmp_path / "nowhere")])
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_bundled_plan_work_plans(tmp_path: Path) -> None:
    """The bundled plan: every bureau with work gets its workbook, in Chinese and English,
    and the zone rule of the park's core zone reaches the lines in subunits partly in it."""
    root = Path(__file__).resolve().parents[1]
    result = RUNNER.invoke(app, ["solve", str(root / "models" / "baoxing.yaml"), "--out",
                                 str(tmp_path)])
    assert result.exit_code == 0, result.output
    run = tmp_path / "baoxing" / "base"
    result = RUNNER.invoke(app, ["workplan", str(run)])
    assert result.exit_code == 0, result.output
    plan = pd.read_csv(run / "workplans" / "workplan.csv", keep_default_na=False,
                       na_values=[""])
    alloc = pd.read_csv(run / "allocation.csv")
    assert plan["cost_cny"].sum() == pytest.approx(alloc["cost_cny"].sum())
    assert set(plan["agency_id"]) == set(alloc["agency"])
    for agency in set(plan["agency_id"]):
        assert (run / "workplans" / f"agency_{agency}.xlsx").is_file()
    assert "宝兴县林业和草原局" in set(plan["agency_zh"])
    rules = (run / "workplans" / "rules.md").read_text(encoding="utf-8")
    assert "核心保护区内禁止" in rules and "宝兴县水利局预算不超过 5,000,000 CNY。" in rules
    # verify still accepts the run with its work plans beside it
    verified = RUNNER.invoke(app, ["verify", str(run)])
    assert verified.exit_code == 0, verified.output
