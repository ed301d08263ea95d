"""``comparison.xlsx``: a scenario comparison side by side, one sheet per table, with
bilingual headers (openpyxl, from the ``report`` extra, imported when a workbook is made)."""

from __future__ import annotations

import io
import re
import unicodedata
from typing import Any

import numpy as np
import pandas as pd

from dss.results.compare_display import displays
from dss.results.compare_tables import Comparison, is_number
from dss.results.runs import require


def _text_width(text: str) -> int:
    """Display width of text: East Asian wide characters count double."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _number_format(value: float, kind: str, unit: str | None) -> str:
    big = abs(value) >= 100 or float(value).is_integer()
    if value != 0 and abs(value) < 0.01:
        base = "0.00E+00"
    elif unit == "%":
        base = "0.0"
    else:
        base = "#,##0" if big else "#,##0.00"
    if kind == "delta" and base != "0.00E+00":
        return f"+{base};-{base};0"
    return base


def comparison_workbook(cmp: Comparison) -> bytes:
    """The comparison as an Excel workbook: an overview sheet, then one sheet per table with
    bold headers (units in them), set column widths, a frozen header row and real numbers.

    Raises:
        MissingDependencyError: if openpyxl is not installed.
    """
    openpyxl = require("openpyxl", "dss compare (Excel workbook)")
    from openpyxl.styles import Alignment, Font, PatternFill

    book = openpyxl.Workbook()
    styles = {"bold": Font(bold=True), "fill": PatternFill("solid", fgColor="DDE6F0"),
              "align": Alignment}
    sheet = book.active
    sheet.title = "Scenarios"
    sheet.append([f"Scenario comparison: {cmp.title}"])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([f"Study {cmp.study}; baseline {cmp.baseline}; Δ = scenario − {cmp.baseline}."])
    sheet.append([])
    scen = cmp.tables["scenarios"]
    headers = {"scenario": "Scenario", "baseline": "Baseline", "description": "Description",
               "status": "Status", "objective": "Objective (CNY)", "spend": "Spend (CNY)",
               "overrides": "Overrides", "created": "Created", "folder": "Folder"}
    kinds = ["value" if c in ("objective", "spend") else "text" for c in scen.columns]
    _write_sheet(sheet, 4, [headers.get(c, c) for c in scen.columns],
                 [[_cell(v) for v in row] for row in scen.itertuples(index=False)],
                 kinds, ["CNY" if k == "value" else None for k in kinds], styles,
                 freeze_first=1)
    for display in displays(cmp).values():
        ws = book.create_sheet(_sheet_title(display.title))
        columns = list(display.frame.columns)
        rows = [[_cell(v) for v in rec] for rec in display.frame.itertuples(index=False)]
        n_text = sum(1 for c in columns if display.kinds[c] == "text")
        _write_sheet(ws, 1, columns, rows, [display.kinds[c] for c in columns],
                     [display.units[c] for c in columns], styles, freeze_first=n_text)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, np.bool_ | bool):
        return "yes" if value else "no"
    if is_number(value):
        return None if pd.isna(value) else float(value)
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return value


def _write_sheet(ws: Any, top: int, headers: list[str], rows: list[list[Any]],
                 kinds: list[str], units: list[str | None], styles: dict[str, Any],
                 freeze_first: int = 0) -> None:
    """Write a bold header row at ``top`` and the rows below it: numbers stay numbers (with a
    number format by size and unit), columns get widths from their contents, and the header
    row (and the text columns) are frozen."""
    from openpyxl.utils import get_column_letter

    unit_col = headers.index("Unit") if "Unit" in headers else None
    for j, head in enumerate(headers, start=1):
        cell = ws.cell(row=top, column=j, value=bilingual(head))
        cell.font = styles["bold"]
        cell.fill = styles["fill"]
        cell.alignment = styles["align"](wrap_text=True, vertical="center",
                                         horizontal="left" if kinds[j - 1] == "text"
                                         else "right")
    for i, row in enumerate(rows, start=top + 1):
        for j, value in enumerate(row, start=1):
            cell = ws.cell(row=i, column=j, value=value)
            if isinstance(value, float):
                unit = units[j - 1]
                if unit is None and unit_col is not None:
                    unit = row[unit_col]
                cell.number_format = _number_format(value, kinds[j - 1], unit)
    lines = 1
    for j, head in enumerate(headers, start=1):
        values = [r[j - 1] for r in rows]
        if kinds[j - 1] == "text":
            width = max([_text_width(str(v)) for v in values if v is not None] + [8])
        else:
            width = max([len(f"{v:,.2f}") if isinstance(v, float) else _text_width(str(v))
                         for v in values if v is not None] + [10])
        width = min(max(width, min(_text_width(head), 20)) + 2, 60)
        ws.column_dimensions[get_column_letter(j)].width = width
        lines = max(lines, -(-_text_width(head) // int(width - 1)))
    ws.row_dimensions[top].height = 15 * (lines + 1) + 3  # the Chinese line below
    ws.freeze_panes = ws.cell(row=top + 1, column=freeze_first + 1)
    if rows:
        ws.auto_filter.ref = f"A{top}:{get_column_letter(len(headers))}{top + len(rows)}"


HEADERS_ZH: dict[str, str] = {
    "Metric": "指标", "Unit": "单位", "Control point": "控制断面", "Pollutant": "污染物",
    "Species": "物种", "Agency": "部门", "Township": "乡镇", "Zone": "分区", "Action": "措施",
    "Subunit": "子流域", "Subunit name": "子流域名称", "Point": "断面", "Kind": "类型",
    "Before": "现状", "Scenario": "情景", "Baseline": "基准情景", "Description": "说明",
    "Status": "状态", "Objective (CNY)": "目标值（元）", "Spend (CNY)": "投入（元）",
    "Overrides": "参数覆盖", "Created": "生成时间", "Folder": "文件夹"}
"""Chinese under the English of the workbook's fixed column headings."""


def bilingual(head: str) -> str:
    """A column heading in English with its Chinese on a second line (``Before (t/yr)`` ->
    ``Before (t/yr)`` / ``现状``); scenario columns keep their names."""
    zh = HEADERS_ZH.get(head)
    if zh is None:
        base = head.split(" (")[0].split(" [")[0]
        zh = HEADERS_ZH.get(base)
    return f"{head}\n{zh}" if zh else head


def _sheet_title(title: str) -> str:
    return re.sub(r"[\[\]:*?/\\]", " ", title)[:31]
