"""A scenario comparison as wide tables to show: column labels, the ranking of long tables,
and ``comparison.md`` (see :mod:`dss.results.compare`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dss.results.compare_tables import (
    COLUMN_LABELS,
    POLLUTANT_LABELS,
    SPECS,
    WORKBOOK,
    Comparison,
    delta,
    is_number,
    missing,
)
from dss.results.report import fmt
from dss.results.runs import MANIFEST

MAX_MARKDOWN_ROWS = 60
"""Longer tables are cut in ``comparison.md`` (largest first); the CSV and workbook are full."""


@dataclass
class Display:
    """A wide table ready to show: header labels, raw values, and how to show each column.

    Attributes:
        title: Section and sheet title.
        note: One line shown under the title.
        frame: The table; text columns first, then numbers.
        kinds: Column -> ``text``, ``value`` or ``delta``.
        units: Column -> the unit of its numbers (None if it varies by row).
    """

    title: str
    note: str
    frame: pd.DataFrame
    kinds: dict[str, str]
    units: dict[str, str | None]


METRIC_LABELS = {"load_after": "load", "habitat_after": "habitat", "required_gain":
                 "required gain", "target_met": "target met", "spend": "spend",
                 "share": "share", "amount": "amount", "cost": "cost"}

RANK_METRIC = {"spend_by_agency": "spend", "spend_by_township": "spend", "spend_by_zone":
               "spend", "spend_by_action": "spend", "allocations": "cost"}
"""Plan tables are shown largest first, by the largest value of this metric in any scenario."""


def _label(name: str, zh: str) -> str:
    """``English (中文)``, or whichever of the two exists."""
    name, zh = (name or "").strip(), (zh or "").strip()
    if name and zh and zh != name:
        return f"{name} ({zh})"
    return name or zh


def _text_columns(name: str, rows: pd.DataFrame) -> dict[str, pd.Series]:
    """The descriptive columns of a display table (names with their Chinese names)."""
    def joined(ids: str, names: str, zh: str, prefix_id: bool = False) -> pd.Series:
        values = [_label(f"{i} {n}".strip() if prefix_id else (n or i), z)
                  for i, n, z in zip(rows[ids], rows[names], rows[zh], strict=True)]
        return pd.Series(values, index=rows.index, dtype=object)

    if name == "control_points":
        return {"Control point": joined("point_id", "point", "point_zh"),
                "Pollutant": rows["pollutant"].map(lambda p: POLLUTANT_LABELS.get(p, p))}
    if name == "species":
        return {"Species": joined("species", "species_name", "species_zh")}
    if name == "spend_by_action":
        return {"Action": joined("action_id", "action", "action_zh")}
    if name in ("spend_by_agency", "spend_by_township") and f"{SPECS[name].keys[0]}_zh" in rows:
        key = SPECS[name].keys[0]
        return {COLUMN_LABELS[key]: joined(key, f"{key}_name", f"{key}_zh")}
    if name == "allocations":
        return {"Subunit": joined("subunit_id", "subunit", "subunit_zh", prefix_id=True),
                "Action": joined("action_id", "action", "action_zh"),
                "Township": rows["township"], "Zone": rows["zone"]}
    key = SPECS[name].keys[0]
    return {COLUMN_LABELS.get(key, key): rows[key]}


def _summary_display(cmp: Comparison) -> Display:
    """The summary: one row per metric (the unit varies by row)."""
    items = cmp.items["summary"]
    frame = pd.DataFrame({"Metric": items["metric"], "Unit": items["unit"]})
    kinds = {"Metric": "text", "Unit": "text"}
    for s in cmp.scenarios:
        frame[s] = items[s].to_numpy()
        kinds[s] = "value"
        if s != cmp.baseline:
            frame[f"Δ {s}"] = [_display_delta(v, b) for v, b in
                               zip(items[s], items[cmp.baseline], strict=True)]
            kinds[f"Δ {s}"] = "delta"
    spec = SPECS["summary"]
    return Display(spec.title, f"{spec.note} Δ = scenario − {cmp.baseline}.",
                   frame.reset_index(drop=True), kinds, dict.fromkeys(frame.columns))


def display_table(cmp: Comparison, name: str) -> Display:
    """The wide layout of one comparison table.

    One row per item (control point and pollutant, township, subunit and action...); for
    each metric, one column per scenario followed by its difference from the baseline
    (``Δ <scenario>``). Units go into the headers when a metric has one unit, else into a
    unit column. Plan tables are sorted largest first.
    """
    if name == "summary":
        return _summary_display(cmp)
    spec = SPECS[name]
    items = cmp.items[name]
    keys = list(spec.keys)
    metrics = list(dict.fromkeys(items["metric"]))
    rows = items.drop_duplicates(keys).reset_index(drop=True)
    rank = RANK_METRIC.get(name)
    if rank in metrics:
        part = items[items["metric"] == rank]
        largest = part[cmp.scenarios].apply(pd.to_numeric, errors="coerce").max(axis=1)
        size = dict(zip(map(tuple, part[keys].to_numpy()), largest, strict=True))
        order = np.argsort([-(size.get(k, 0.0) or 0.0) for k in map(tuple,
                            rows[keys].to_numpy())], kind="stable")
        rows = rows.iloc[order].reset_index(drop=True)
    row_keys = list(map(tuple, rows[keys].to_numpy()))
    text = _text_columns(name, rows)
    frame = pd.DataFrame(text, index=rows.index)
    kinds = {c: "text" for c in frame.columns}
    units: dict[str, str | None] = dict.fromkeys(frame.columns)
    for metric in metrics:
        part = items[items["metric"] == metric]
        lookup = {k: i for i, k in enumerate(map(tuple, part[keys].to_numpy()))}
        where = [lookup.get(k) for k in row_keys]

        def column(values: pd.Series, where: list[int | None] = where) -> list[Any]:
            data = values.to_numpy()
            return [data[i] if i is not None else np.nan for i in where]

        found = [u for u in dict.fromkeys(part["unit"]) if u]
        unit = found[0] if len(found) == 1 else None
        label = METRIC_LABELS.get(metric, metric.replace("_", " ")) if len(metrics) > 1 else ""
        suffix = "" if not unit or unit == "yes/no" else \
            f" [{unit}]" if "(" in unit else f" ({unit})"
        if unit is None:
            head = f"{label} unit".strip().capitalize()
            frame[head] = column(part["unit"])
            kinds[head], units[head] = "text", None
        if "before" in spec.labels and metric == metrics[0]:
            head = "Before" + suffix
            frame[head] = pd.to_numeric(pd.Series(column(part["before"])), errors="coerce"
                                        ).to_numpy()
            kinds[head], units[head] = "value", unit
        for s in cmp.scenarios:
            head = f"{s} {label}".strip() + suffix
            values = column(part[s])
            frame[head] = pd.Series(values, index=frame.index, dtype=object)
            kinds[head], units[head] = "value", unit
            if s != cmp.baseline:
                dhead = f"Δ {s} {label}".strip() + suffix
                base = column(part[cmp.baseline])
                frame[dhead] = pd.Series([_display_delta(v, b) for v, b in
                                          zip(values, base, strict=True)],
                                         index=frame.index, dtype=object)
                kinds[dhead], units[dhead] = "delta", unit
    return Display(spec.title, f"{spec.note} Δ = scenario − {cmp.baseline}.",
                   frame.reset_index(drop=True), kinds, units)


def _display_delta(value: Any, base: Any) -> Any:
    """Numeric difference, or for text ``""`` (same) / ``was <baseline value>``."""
    if is_number(value) and is_number(base):
        return delta(value, base)
    if isinstance(value, str) and isinstance(base, str):
        return "" if value == base else f"was {base}"
    return np.nan


def _md_cell(value: Any, kind: str) -> str:
    """One Markdown cell: numbers to 10 significant digits, then formatted for people."""
    if is_number(value) and not pd.isna(value):
        value = float(f"{float(value):.10g}")
    if kind == "text":
        text = "" if missing(value) else str(value)
    elif missing(value):
        text = "-"
    elif kind == "delta" and is_number(value):
        text = "0" if value == 0 else ("+" if value > 0 else "−") + fmt(abs(value))
    else:
        text = fmt(value)
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_display(display: Display, limit: int | None = MAX_MARKDOWN_ROWS) -> str:
    """A display table as GitHub-flavoured Markdown (numbers right-aligned)."""
    frame = display.frame
    columns = list(frame.columns)
    lines = ["| " + " | ".join(columns) + " |",
             "|" + "|".join("---" if display.kinds[c] == "text" else "---:"
                            for c in columns) + "|"]
    shown = frame if limit is None else frame.head(limit)
    for rec in shown.itertuples(index=False):
        lines.append("| " + " | ".join(_md_cell(v, display.kinds[c])
                                       for c, v in zip(columns, rec, strict=True)) + " |")
    if limit is not None and len(frame) > limit:
        lines.append(f"\n{len(frame) - limit:,} more rows in the CSV and the workbook.")
    return "\n".join(lines)


def displays(cmp: Comparison) -> dict[str, Display]:
    """Every comparison table in its wide display layout, in report order."""
    return {name: display_table(cmp, name) for name in SPECS}


def comparison_markdown(cmp: Comparison) -> str:
    """The comparison report: scenarios, then each table side by side with differences."""
    lines = [f"# Scenario comparison: {cmp.title}", "",
             f"{len(cmp.runs)} scenarios of study `{cmp.study}`, compared with "
             f"`{cmp.baseline}`. Every Δ column is the scenario's value minus "
             f"`{cmp.baseline}`'s. The tidy tables (`<table>.csv`) and `{WORKBOOK}` hold the "
             "same numbers.", "", "## Scenarios", "",
             "| Scenario | Status | Description | Folder |", "|---|---|---|---|"]
    for row in cmp.tables["scenarios"].itertuples(index=False):
        mark = " (baseline)" if row.baseline else ""
        desc = (row.description or "") + (f" Overrides: {row.overrides}." if row.overrides
                                           else "")
        lines.append(f"| `{row.scenario}`{mark} | {row.status} | "
                     f"{desc.replace('|', '/')} | `{row.folder}` |")
    lines.append("")
    for display in displays(cmp).values():
        lines += [f"## {display.title}", "", display.note, ""]
        if display.frame.empty:
            lines += ["No scenario has this table (no plan).", ""]
            continue
        lines += [markdown_display(display), ""]
    lines += ["## Files", "", "- `scenarios.csv`: the runs compared, with their folders",
              *[f"- `{name}.csv`: {SPECS[name].title.lower()}, tidy (scenario, ..., value, "
                f"unit, {cmp.delta_column})" for name in SPECS],
              f"- `{WORKBOOK}`: the same tables side by side, one sheet each",
              f"- `{MANIFEST}`: versions and the hashes of the runs compared", ""]
    return "\n".join(lines)
