"""Work plans: what each agency does, where and when, and the rules that apply there.

:func:`work_plan` turns a solve run's ``allocation.csv`` into one line of work per (year,
subunit, action) with a positive amount, named in Chinese and English, with the agency, the
township, the national-park zone, the expected effects and the ids of the implementation
rules (:mod:`dss.results.rules`) that concern it. :func:`write_work_plans` writes, atomically,
into ``<run>/workplans/`` (or ``--out``):

- ``workplan.csv``: every line of work (tidy, with units in the column names);
- ``agency_<id>.csv`` and ``agency_<id>.xlsx`` per agency with work: the agency's lines, one sheet
  per township and a rules sheet;
- ``townships.xlsx``: one sheet per township with every agency's work in it;
- ``rules.csv`` and ``rules.md``: the implementation rules in Chinese and English.

Workbook headers are bilingual and bold, numbers are stored as numbers, the header row is
frozen and repeated on every printed page, and every sheet prints on A4 landscape, one page
wide.
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from dss.data.study import Study
from dss.errors import InputError, Issue
from dss.results.folders import check_replaceable
from dss.results.rules import (
    ZONE_NAMES,
    Rule,
    implementation_rules,
    rules_frame,
    rules_markdown,
    subunit_zones,
)
from dss.results.runs import MANIFEST, RunFolder, load_run_study, read_run, require
from dss.results.writer import file_sha256, make_manifest, write_run

LOGGER = logging.getLogger(__name__)

WORKPLAN_KIND = "workplan"
FOLDER = "workplans"

UNIT_NAMES_ZH: dict[str, str] = {"ha": "公顷", "dam": "座", "PE": "人口当量", "km": "公里",
                                 "station": "座电站"}

COLUMNS: dict[str, tuple[str, str, str]] = {
    # column -> (Chinese header, English header, kind: text / amount / money / effect)
    "year": ("年份", "Year", "year"),
    "agency_id": ("部门代码", "Agency id", "text"),
    "agency_zh": ("部门（中文）", "Agency (Chinese)", "text"),
    "agency": ("部门（英文）", "Agency (English)", "text"),
    "township": ("乡镇", "Township", "text"),
    "subunit_id": ("子流域代码", "Subunit id", "text"),
    "subunit_zh": ("子流域（中文）", "Subunit (Chinese)", "text"),
    "subunit": ("子流域（英文）", "Subunit (English)", "text"),
    "action_id": ("措施代码", "Action id", "text"),
    "action_zh": ("措施（中文）", "Action (Chinese)", "text"),
    "action": ("措施（英文）", "Action (English)", "text"),
    "amount": ("数量", "Amount", "amount"),
    "unit_zh": ("单位（中文）", "Unit (Chinese)", "text"),
    "unit": ("单位（英文）", "Unit (English)", "text"),
    "cost_cny": ("费用（元）", "Cost (CNY)", "money"),
    "zone_zh": ("国家公园分区（中文）", "Park zone (Chinese)", "text"),
    "zone": ("国家公园分区（英文）", "Park zone (English)", "text"),
    "sediment_reduction_local_t_yr": ("泥沙削减（吨/年）", "Sediment reduction (t/yr)",
                                      "effect"),
    "tn_reduction_local_kg_yr": ("总氮削减（千克/年）", "TN reduction (kg/yr)", "effect"),
    "tp_reduction_local_kg_yr": ("总磷削减（千克/年）", "TP reduction (kg/yr)", "effect"),
    "habitat_species": ("栖息地物种", "Habitat species", "text"),
    "habitat_gain_ha": ("栖息地增加（公顷）", "Habitat gain (ha)", "effect"),
    "carbon_gain_t": ("碳储量增加（吨碳）", "Carbon gain (t C)", "effect"),
    "benefit_cny": ("效益（元）", "Benefit (CNY)", "money"),
    "rule_ids": ("适用规则", "Rules that apply", "text"),
    "rules_zh": ("适用规则（中文）", "Rules (Chinese)", "text"),
    "rules_en": ("适用规则（英文）", "Rules (English)", "text"),
}
"""Columns of a work plan, in order, with bilingual headers."""

SHEET_COLUMNS: tuple[str, ...] = tuple(c for c in COLUMNS if c not in
                                       ("agency_id", "action_id", "rules_zh", "rules_en"))
"""Columns shown in the workbooks (the rule texts are on the rules sheet)."""

NUMBER_FORMATS = {"amount": "#,##0.00", "money": "#,##0", "effect": "#,##0.0", "year": "0"}


@dataclass
class WorkPlan:
    """A run's work plan.

    Attributes:
        run: The run folder it comes from.
        lines: One row per line of work (:data:`COLUMNS`, ``year`` only for phased runs).
        rules: The implementation rules of the run.
        agencies: Agency id -> (Chinese name, English name), for every agency with work.
    """

    run: RunFolder
    lines: pd.DataFrame
    rules: list[Rule]
    agencies: dict[str, tuple[str, str]]


def _name_map(frame: pd.DataFrame, key: str) -> tuple[dict[str, str], dict[str, str]]:
    """Id -> English name and id -> Chinese name (falling back on the English)."""
    ids = frame[key].astype(str)
    en = frame["name"].fillna("").astype(str) if "name" in frame else ids
    zh = frame["name_zh"].fillna("").astype(str) if "name_zh" in frame else en
    en_map = dict(zip(ids, en.where(en != "", ids), strict=True))
    zh_map = {k: (z or en_map[k]) for k, z in zip(ids, zh, strict=True)}
    return en_map, zh_map


def work_plan(run: RunFolder, study: Study) -> WorkPlan:
    """The work plan of a solve run (lines with a positive amount).

    Raises:
        InputError: if the run wrote no plan.
    """
    alloc = run.tables.get("allocation")
    if alloc is None:
        raise InputError([Issue(str(run.folder), f"the run has no allocation.csv (status "
                                                 f"{run.status}): there is no plan to turn "
                                                 "into work plans")], "no plan")
    lines = alloc[pd.to_numeric(alloc["amount"], errors="coerce").fillna(0) > 0].copy()
    sub_en, sub_zh = _name_map(study.subunits, "subunit_id")
    act_en, act_zh = _name_map(study.actions, "action_id")
    ag_en, ag_zh = (_name_map(study.agencies, "agency_id") if not study.agencies.empty
                    else ({}, {}))
    lines["subunit_id"] = lines["subunit_id"].astype(str)
    lines["agency_id"] = lines["agency"].astype(str)
    lines["agency"] = lines["agency_id"].map(lambda a: ag_en.get(a, a))
    lines["agency_zh"] = lines["agency_id"].map(lambda a: ag_zh.get(a, a))
    lines["subunit"] = lines["subunit_id"].map(sub_en)
    lines["subunit_zh"] = lines["subunit_id"].map(sub_zh)
    lines["action"] = lines["action_id"].map(act_en)
    lines["action_zh"] = lines["action_id"].map(act_zh)
    lines["unit_zh"] = lines["unit"].map(lambda u: UNIT_NAMES_ZH.get(u, u))
    lines["zone_zh"] = lines["zone"].map(lambda z: ZONE_NAMES.get(z, (z, z))[0])
    rules = implementation_rules(run, study)
    zones = subunit_zones(study)
    by_id = {r.rule_id: r for r in rules}
    applying = [[r.rule_id for r in rules
                 if r.applies(s, a, g, t, zones.get(s, frozenset()))]
                for s, a, g, t in zip(lines["subunit_id"], lines["action_id"],
                                      lines["agency_id"], lines["township"].astype(str),
                                      strict=True)]
    lines["rule_ids"] = ["; ".join(ids) for ids in applying]
    lines["rules_zh"] = ["\n".join(f"{i} {by_id[i].text_zh}" for i in ids) for ids in applying]
    lines["rules_en"] = ["\n".join(f"{i} {by_id[i].text_en}" for i in ids) for ids in applying]
    order = [c for c in COLUMNS if c in lines.columns]
    keys = [c for c in ("year", "agency_id", "township", "subunit_id", "action_id")
            if c in lines.columns]
    lines = lines[order].sort_values(keys, kind="stable").reset_index(drop=True)
    agencies = {a: (ag_zh.get(a, a), ag_en.get(a, a)) for a in sorted(set(lines["agency_id"]))}
    return WorkPlan(run, lines, rules, agencies)


# --- workbooks -------------------------------------------------------------------------------


def _safe_name(text: str, limit: int = 31) -> str:
    """A sheet or file name: no characters Excel or a file system refuse."""
    return re.sub(r"[\[\]:*?/\\<>|\"]", "_", text).strip()[:limit] or "_"


def _print_setup(ws: Any) -> None:
    """A4 landscape, one page wide, header row repeated on every page."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"
    ws.print_options.gridLines = True


def _write_lines(ws: Any, frame: pd.DataFrame) -> None:
    """Bilingual bold headers, then the lines; numbers as numbers with a number format."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    columns = [c for c in SHEET_COLUMNS if c in frame.columns]
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDE6F0")
    for j, col in enumerate(columns, start=1):
        zh, en, _kind = COLUMNS[col]
        cell = ws.cell(row=1, column=j, value=f"{zh}\n{en}")
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for i, rec in enumerate(frame[columns].itertuples(index=False), start=2):
        for j, (col, value) in enumerate(zip(columns, rec, strict=True), start=1):
            kind = COLUMNS[col][2]
            if kind != "text":
                value = None if pd.isna(value) else (int(value) if kind == "year"
                                                     else float(value))
                cell = ws.cell(row=i, column=j, value=value)
                cell.number_format = NUMBER_FORMATS[kind]
            else:
                ws.cell(row=i, column=j, value=None if pd.isna(value) else str(value))
    for j, col in enumerate(columns, start=1):
        kind = COLUMNS[col][2]
        texts = [str(v) for v in frame[col].tolist() if not pd.isna(v)] if kind == "text" \
            else [f"{float(v):,.2f}" for v in frame[col].tolist() if not pd.isna(v)]
        width = max([_width(t) for t in texts] + [_width(COLUMNS[col][1]), 8]) + 2
        ws.column_dimensions[get_column_letter(j)].width = min(width, 40)
    ws.row_dimensions[1].height = 33
    ws.freeze_panes = "A2"
    if len(frame):
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(frame) + 1}"
    _print_setup(ws)


def _width(text: str) -> int:
    """Display width: a CJK character counts twice."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _write_rules(ws: Any, rules: list[Rule]) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    frame = rules_frame(rules)
    heads = [("规则", "Rule"), ("类别", "Section"), ("规则（中文）", "Rule (zh)"),
             ("规则（英文）", "Rule (en)"), ("来源", "Source")]
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDE6F0")
    for j, (zh, en) in enumerate(heads, start=1):
        cell = ws.cell(row=1, column=j, value=f"{zh}\n{en}")
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    wrap = Alignment(wrap_text=True, vertical="top")
    for i, rec in enumerate(frame.itertuples(index=False), start=2):
        values = [rec.rule_id, f"{rec.section_zh} {rec.section}", rec.rule_zh, rec.rule_en,
                  rec.source]
        for j, value in enumerate(values, start=1):
            ws.cell(row=i, column=j, value=value).alignment = wrap
    for letter, width in zip("ABCDE", (8, 22, 50, 60, 45), strict=True):
        ws.column_dimensions[letter].width = width
    ws.row_dimensions[1].height = 33
    ws.freeze_panes = "A2"
    _print_setup(ws)


def _workbook(sheets: list[tuple[str, pd.DataFrame]], rules: list[Rule]) -> bytes:
    openpyxl = require("openpyxl", "dss workplan (Excel workbooks)")
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, frame in sheets:
        _write_lines(book.create_sheet(_safe_name(title)), frame)
    _write_rules(book.create_sheet("规则 Rules"), rules)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def agency_workbook(plan: WorkPlan, agency: str) -> bytes:
    """One agency's workbook: all its lines, one sheet per township, and the rules."""
    mine = plan.lines[plan.lines["agency_id"] == agency]
    sheets = [("全部 All", mine)]
    sheets += [(f"{town}", part) for town, part in mine.groupby("township", sort=True)]
    return _workbook(sheets, plan.rules)


def township_workbook(plan: WorkPlan) -> bytes:
    """One sheet per township with every agency's work in it, and the rules."""
    sheets = [(f"{town}", part) for town, part in plan.lines.groupby("township", sort=True)]
    return _workbook(sheets or [("全部 All", plan.lines)], plan.rules)


# --- writing ---------------------------------------------------------------------------------


def write_work_plans(run_dir: Path | str, out: Path | str | None = None,
                     inputs_dir: Path | str | None = None) -> tuple[Path, WorkPlan]:
    """Write a run's work plans (see the module docstring) atomically.

    Args:
        run_dir: Run folder written by ``dss solve``.
        out: Target folder (default ``<run_dir>/workplans``); replaced as a whole, so it must
            be new, empty or an earlier work plan.
        inputs_dir: Study input folder (default: from the run's manifest).

    Returns:
        The folder written and the work plan.

    Raises:
        InputError: on an unusable run or target folder.
        MissingDependencyError: if openpyxl is not installed.
        OutputError: if the folder cannot be written.
    """
    run = read_run(run_dir)
    study = load_run_study(run, Path(inputs_dir) if inputs_dir is not None else None)
    plan = work_plan(run, study)
    target = Path(out) if out is not None else run.folder / FOLDER
    check_replaceable(target, (WORKPLAN_KIND,))
    tables: dict[str, pd.DataFrame] = {"workplan": plan.lines, "rules": rules_frame(plan.rules)}
    files: dict[str, str | bytes] = {
        "rules.md": rules_markdown(plan.rules, run.title, f"{run.study}/{run.name}"),
        "townships.xlsx": township_workbook(plan),
    }
    for agency in plan.agencies:
        stem = "agency_" + _safe_name(agency, 60)
        tables[stem] = plan.lines[plan.lines["agency_id"] == agency]
        files[f"{stem}.xlsx"] = agency_workbook(plan, agency)
    manifest = make_manifest(WORKPLAN_KIND, {f"run/{MANIFEST}": file_sha256(run.folder / MANIFEST)},
                             None, {"study": run.study, "scenario": run.name,
                                    "agencies": list(plan.agencies),
                                    "rules": len(plan.rules), "lines": len(plan.lines)})
    write_run(target, tables, manifest, files, (WORKPLAN_KIND,))
    LOGGER.info("wrote %d lines of work for %d agencies to %s", len(plan.lines),
                len(plan.agencies), target)
    return target, plan
