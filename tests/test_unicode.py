"""Chinese names and ids in every table, and a study path with spaces (GitHub issue 6).

The tiny study is rewritten with Chinese ids (subunits, land classes, actions, species,
control points, point sources, barriers, townships, agencies) and Chinese display names,
in a folder called ``我的 研究 folder``. ``dss baseline``, ``dss solve`` (with components that
name Chinese ids) and ``dss verify`` run on it, and the CSV and Markdown outputs keep the
Chinese text, as UTF-8.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from dss.cli import app

TINY = Path(__file__).parent / "data" / "tiny"
RUNNER = CliRunner()

IDS = {
    # subunits
    "A": "源头甲", "B": "源头乙", "C": "水库段", "D": "支沟", "E": "城镇段", "F": "出口峡谷",
    # land classes, actions, species, points, sources, barriers
    "forest": "森林", "cropland": "耕地", "scar": "滑坡迹地",
    "gfg_forest": "退耕还林", "scar_reveg": "滑坡复绿", "sewage": "污水处理",
    "check_dam": "拦砂坝", "panda": "大熊猫", "reservoir": "硗碛水库", "outlet": "出境断面",
    "P_E": "城镇污水", "P_D": "游客污水", "H1": "电站一", "H2": "电站二", "H3": "旧堰",
    # townships, branches, agencies
    "north": "北乡", "south": "南乡", "east": "东支", "west": "西支", "main": "干流",
    "side": "支流", "forestry": "林业局", "natural_resources": "自然资源局",
    "environment": "生态环境局", "water": "水务局",
}
"""English id -> Chinese id."""

ID_COLUMNS = {"subunit_id", "downstream_id", "land_class", "leads_to", "applies_to",
              "action_id", "species", "habitat_species", "point_id", "source_id",
              "barrier_id", "township", "branch", "agency"}
"""Columns whose values are ids (the ``kind`` columns keep their fixed English words)."""


def chinese_study(folder: Path) -> Path:
    """Copy the tiny study to ``folder`` with Chinese ids and names everywhere."""
    folder.mkdir(parents=True)
    for path in TINY.glob("*.csv"):
        with open(path, encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
        header = rows[0]
        for row in rows[1:]:
            for j, name in enumerate(header):
                if name in ID_COLUMNS and row[j] in IDS:
                    row[j] = IDS[row[j]]
            if "name" in header and "name_zh" in header and row[header.index("name_zh")]:
                row[header.index("name")] = row[header.index("name_zh")] + "（中文名）"
            elif "name" in header:
                row[header.index("name")] = "名称 " + row[header.index("name")]
        with open(folder / path.name, "w", encoding="utf-8", newline="") as fh:
            csv.writer(fh, lineterminator="\n").writerows(rows)
    model = (TINY / "model.yaml").read_text(encoding="utf-8")
    model = model.replace("title: Tiny test basin", "title: 小流域测试 Tiny test basin")
    model += (
        "  limits: {type: load_limits, reductions: {硗碛水库: {sediment: 0.2}}}\n"
        "  habitat: {type: habitat, species: {大熊猫: {value: 2000, target_relative: 0.01}}}\n"
        "  locks: {type: locks, locked_out: {出口峡谷: all}}\n"
        "  zones: {type: zone_rules, core: {forbidden: [拦砂坝]}}\n"
        "  equity: {type: equity, townships: {南乡: {min_share: 0.1}}}\n")
    (folder / "model.yaml").write_text(model, encoding="utf-8")
    return folder / "model.yaml"


def test_chinese_names_and_a_path_with_spaces(tmp_path: Path) -> None:
    study = tmp_path / "我的 研究 folder"
    model = chinese_study(study)
    out = tmp_path / "结果 results"

    result = RUNNER.invoke(app, ["baseline", str(model), "--out", str(out)])
    assert result.exit_code == 0, result.output
    baseline = out / "tiny" / "baseline"
    subunits = pd.read_csv(baseline / "subunits.csv", encoding="utf-8")
    assert set(subunits["subunit_id"]) == {IDS[s] for s in "ABCDEF"}
    cps = (baseline / "control_points.csv").read_text(encoding="utf-8")
    assert "硗碛水库" in cps and "出境断面" in cps
    report = (baseline / "report.md").read_text(encoding="utf-8")
    assert "小流域测试" in report and "源头甲" in report

    result = RUNNER.invoke(app, ["solve", str(model), "--out", str(out)])
    assert result.exit_code == 0, result.output
    folder = out / "tiny" / "base"
    alloc = pd.read_csv(folder / "allocation.csv", encoding="utf-8")
    assert len(alloc)
    assert set(alloc["subunit_id"]) <= {IDS[s] for s in "ABCDE"}  # 出口峡谷 is locked out
    assert set(alloc["action_id"]) <= {IDS[a] for a in ("gfg_forest", "scar_reveg", "sewage",
                                                        "check_dam")}
    assert alloc["subunit"].str.contains("（中文名）").all()
    assert set(alloc["agency"]) <= {"林业局", "自然资源局", "生态环境局", "水务局"}
    assert set(alloc["township"]) == {"北乡", "南乡"}
    species = pd.read_csv(folder / "species.csv", encoding="utf-8")
    assert list(species["species"]) == ["大熊猫"] and bool(species["target_met"].iloc[0])
    points = pd.read_csv(folder / "control_points.csv", encoding="utf-8")
    assert "硗碛水库" in set(points["point_id"])
    summary = (folder / "summary.csv").read_text(encoding="utf-8")
    assert "spend agency 林业局" in summary and "sediment@硗碛水库" in summary
    report = (folder / "report.md").read_text(encoding="utf-8")
    assert "小流域测试" in report and "林业局" in report and "大熊猫" in report
    assert "北乡" in report
    assert "硗碛水库" in result.stdout  # the console too

    result = RUNNER.invoke(app, ["verify", str(folder)])
    assert result.exit_code == 0, result.output
    # nothing but the two runs (no stray staging folder, in a path with spaces)
    assert sorted(p.name for p in (out / "tiny").iterdir()) == ["base", "baseline"]
    shutil.rmtree(out)
