"""Compare scenarios side by side: stacked tidy tables, a Markdown report and an Excel workbook.

Runs are read back from their folders (:mod:`dss.results.runs`) and stacked on a ``scenario``
key, as PyPSA's ``NetworkCollection`` stacks networks: every comparison table is tidy and
long, one row per (scenario, item, metric), with the value, its unit and its difference from
the baseline scenario (``delta_vs_<baseline>``, the scenario's value minus the baseline's)::

    from dss.results.compare import compare_runs, write_comparison

    cmp = compare_runs(["results/baoxing/base", "results/baoxing/double_budget"])
    cmp.tables["summary"]             # scenario, metric, value, unit, delta_vs_base
    write_comparison(cmp, "results/baoxing/compare")

Tables: ``summary`` (objective, spend, budget, gap, status, options used, each benefit and each
marginal value), ``control_points`` (routed load after the plan, per point and pollutant),
``species`` (habitat after the plan, and whether its target is met), ``spend_by_agency``,
``spend_by_township``, ``spend_by_zone`` and ``spend_by_action`` (sums of the allocation
table's cost, with each group's share of spend), ``allocations`` (amount and cost per
subunit and action) and ``scenarios`` (what was compared, from where).

Where a scenario with a plan has no row for an item (no spend in a township, an action not
chosen), its value is 0; a scenario without a plan (infeasible, solver error) has no rows in
the plan tables.
"""

from __future__ import annotations

import io
import logging
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dss.errors import InputError, Issue, did_you_mean
from dss.results.report import fmt
from dss.results.folders import check_replaceable, run_folder
from dss.results.runs import MANIFEST, RunFolder, load_run_study, read_run, require
from dss.results.writer import file_sha256, make_manifest, write_run

LOGGER = logging.getLogger(__name__)

COMPARE_KIND = "compare"
MARKDOWN = "comparison.md"
WORKBOOK = "comparison.xlsx"
MAX_MARKDOWN_ROWS = 60
"""Longer tables are cut in ``comparison.md`` (largest first); the CSV and workbook are full."""

SUMMARY_METRICS: tuple[str, ...] = ("status", "objective", "objective_sense", "spend",
                                    "budget", "gap", "options_used")
"""Headline metrics of ``summary.csv`` compared (then every benefit and marginal value)."""

POLLUTANT_LABELS = {"sediment": "sediment", "tn": "TN", "tp": "TP"}


@dataclass(frozen=True)
class TableSpec:
    """How one comparison table is keyed and shown.

    Attributes:
        name: File stem of the tidy CSV and key in :attr:`Comparison.tables`.
        title: Section and sheet title.
        keys: Columns that identify an item across scenarios (with ``metric``).
        labels: Descriptive columns, constant per item (names, zone, the before value).
        fill_zero: An item absent from a scenario with a plan has value 0 (spend, amounts).
        by_metric: Show rows grouped by metric first (else by item first).
        note: One line under the title in the Markdown report.
    """

    name: str
    title: str
    keys: tuple[str, ...]
    labels: tuple[str, ...] = ()
    fill_zero: bool = False
    by_metric: bool = False
    note: str = ""


SPECS: dict[str, TableSpec] = {spec.name: spec for spec in (
    TableSpec("summary", "Summary", (), note="Objective, spend and benefits over the horizon; "
              "marginal values are the duals of binding requirements."),
    TableSpec("control_points", "Loads at control points", ("point_id", "pollutant"),
              ("point", "point_zh", "kind", "before"),
              note="Routed load after the plan, per year; `before` is the current state."),
    TableSpec("species", "Habitat", ("species",), ("species_name", "species_zh", "before"),
              note="Quality-weighted habitat after the plan; `before` is the current state."),
    TableSpec("spend_by_agency", "Spend by agency", ("agency",), ("agency_name", "agency_zh"),
              fill_zero=True, by_metric=True,
              note="Spend over the horizon, from the allocation table."),
    TableSpec("spend_by_township", "Spend by township", ("township",),
              ("township_name", "township_zh"), fill_zero=True, by_metric=True,
              note="Spend over the horizon, from the allocation table."),
    TableSpec("spend_by_zone", "Spend by national-park zone", ("zone",), fill_zero=True,
              by_metric=True, note="Spend over the horizon, from the allocation table."),
    TableSpec("spend_by_action", "Spend by action", ("action_id",), ("action", "action_zh"),
              fill_zero=True, by_metric=True,
              note="Spend over the horizon, from the allocation table."),
    TableSpec("allocations", "Allocations", ("subunit_id", "action_id"),
              ("subunit", "subunit_zh", "action", "action_zh", "township", "zone", "agency"),
              fill_zero=True, note="Amount and cost of each action in each subunit."),
)}

COLUMN_LABELS = {
    "metric": "Metric", "unit": "Unit", "point_id": "Point", "point": "Control point",
    "pollutant": "Pollutant", "kind": "Kind", "before": "Before", "species": "Species",
    "agency": "Agency", "township": "Township", "zone": "Zone", "action_id": "Action",
    "action": "Action", "subunit_id": "Subunit", "subunit": "Subunit name",
    "species_name": "Species",
}


@dataclass
class Comparison:
    """Scenarios compared side by side.

    Attributes:
        study: Study name shared by every run.
        title: Study title.
        baseline: The scenario every difference is taken against.
        runs: The runs compared, in order.
        tables: Tidy long tables by name (see the module docstring).
        items: For each table, one row per item with one value column per scenario (the
            wide layout behind ``comparison.md`` and ``comparison.xlsx``).
    """

    study: str
    title: str
    baseline: str
    runs: list[RunFolder]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    items: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def scenarios(self) -> list[str]:
        """Scenario labels, in the order given."""
        return [run.name for run in self.runs]

    @property
    def delta_column(self) -> str:
        """Name of the difference column, ``delta_vs_<baseline>``."""
        return f"delta_vs_{self.baseline}"


def stack_tables(runs: Sequence[RunFolder], stem: str) -> pd.DataFrame:
    """One result table of every run, stacked on a leading ``scenario`` column.

    Runs without the table (no plan) contribute no rows.
    """
    frames = [run.tables[stem].assign(scenario=run.name) for run in runs if stem in run.tables]
    if not frames:
        return pd.DataFrame({"scenario": pd.Series(dtype=object)})
    data = pd.concat(frames, ignore_index=True)
    return data[["scenario", *[c for c in data.columns if c != "scenario"]]]


def read_runs(folders: Sequence[Path | str]) -> list[RunFolder]:
    """Read run folders for a comparison; every unreadable one is reported at once.

    Raises:
        InputError: if a folder is not a solve run, the runs belong to different studies,
            or two runs have the same scenario label.
    """
    runs: list[RunFolder] = []
    issues: list[Issue] = []
    for folder in folders:
        try:
            runs.append(read_run(folder))
        except InputError as err:
            issues.extend(err.issues)
    if issues:
        raise InputError(issues, "cannot compare")
    if not runs:
        raise InputError([Issue("dss compare", "no runs given (pass run folders, or --model "
                                               "with --scenario)")], "cannot compare")
    studies = {run.study for run in runs}
    if len(studies) > 1:
        first = runs[0].study
        raise InputError([Issue(str(run.folder), f"is a run of study {run.study!r}, the first "
                                                 f"run is of study {first!r} (compare runs of "
                                                 "one study)")
                          for run in runs if run.study != first], "cannot compare")
    seen: dict[str, Path] = {}
    for run in runs:
        if run.name in seen:
            same = seen[run.name].resolve() == run.folder.resolve()
            issues.append(Issue(str(run.folder), (
                "given twice" if same else
                f"has the same scenario label {run.name!r} as {seen[run.name]}")
                + " (each scenario can be compared once)"))
        seen.setdefault(run.name, run.folder)
    if issues:
        raise InputError(issues, "cannot compare")
    return runs


def compare_runs(folders: Sequence[Path | str], baseline: str | None = None,
                 inputs_dir: Path | None = None) -> Comparison:
    """Read run folders and build every comparison table.

    Args:
        folders: Run folders of one study (``results/<study>/<scenario>``).
        baseline: Scenario the differences are taken against (default: the first).
        inputs_dir: Study input folder for Chinese names (default: from the manifests).

    Raises:
        InputError: on unreadable runs, mixed studies or an unknown baseline.
    """
    runs = read_runs(folders)
    names = [run.name for run in runs]
    if baseline is None:
        baseline = names[0]
    elif baseline not in names:
        hint = did_you_mean(baseline, names, quote=True)
        raise InputError([Issue("--baseline", f"{baseline!r} is not one of the scenarios "
                                              f"compared ({hint + ' ' if hint else ''}"
                                              f"compared: {', '.join(names)})")],
                         "cannot compare")
    cmp = Comparison(runs[0].study, runs[0].title, baseline, runs)
    lookup = _names(runs, inputs_dir)
    builders: dict[str, Callable[[RunFolder], pd.DataFrame | None]] = {
        "summary": _summary_rows,
        "control_points": lambda run: _control_point_rows(run, lookup),
        "species": lambda run: _species_rows(run, lookup),
        "spend_by_agency": lambda run: _spend_rows(run, "agency", lookup),
        "spend_by_township": lambda run: _spend_rows(run, "township", lookup),
        "spend_by_zone": lambda run: _spend_rows(run, "zone"),
        "spend_by_action": lambda run: _spend_rows(run, "action_id", lookup),
        "allocations": lambda run: _allocation_rows(run, lookup),
    }
    for name, build in builders.items():
        parts = {run.name: build(run) for run in runs}
        cmp.items[name], cmp.tables[name] = _stack(parts, SPECS[name], names, baseline)
    cmp.tables["scenarios"] = _scenario_rows(cmp)
    LOGGER.info("compared %d scenarios of %s against %s", len(runs), cmp.study, baseline)
    return cmp


# --- per-run rows ------------------------------------------------------------------------


def _names(runs: Sequence[RunFolder], inputs_dir: Path | None) -> dict[str, dict[str, str]]:
    """Display names (English and Chinese) from the study inputs, if they can be found."""
    out: dict[str, dict[str, str]] = {}
    for run in runs:
        try:
            study = load_run_study(run, inputs_dir)
        except InputError as err:
            LOGGER.info("%s: no names from the study inputs (%s)", run.folder,
                        str(err).splitlines()[-1].strip(" -"))
            continue
        for table, key in (("subunits", "subunit_id"), ("actions", "action_id"),
                           ("control_points", "point_id"), ("species", "species"),
                           ("agencies", "agency_id"), ("townships", "township")):
            frame = study.table(table)
            if key not in frame.columns:
                continue
            for column in ("name", "name_zh"):
                if column in frame.columns:
                    values = frame[column].fillna("").astype(str)
                    out[f"{table}.{column}"] = dict(zip(frame[key].astype(str), values,
                                                        strict=True))
        return out
    LOGGER.warning("study inputs not found: the comparison has no Chinese names")
    return out


def _name(lookup: dict[str, dict[str, str]], table: str, column: str,
          ids: pd.Series) -> pd.Series:
    mapping = lookup.get(f"{table}.{column}", {})
    return ids.astype(str).map(lambda i: mapping.get(i, ""))


def _summary_rows(run: RunFolder) -> pd.DataFrame:
    summary = run.tables["summary"]
    metrics = list(summary["metric"].astype(str))
    wanted = [m for m in SUMMARY_METRICS if m in metrics]
    benefits = [m for m in metrics if m.startswith("benefit ")]
    rows = summary.set_index("metric").loc[wanted, ["value", "unit"]].reset_index()
    parts = [rows]
    if benefits:
        detail = summary[summary["metric"].isin(benefits)].copy()
        group = detail["metric"].str.removeprefix("benefit ").str.split(":").str[0]
        for comp, part in detail.groupby(group, sort=False):
            total = pd.to_numeric(part["value"], errors="coerce").sum()
            parts.append(pd.DataFrame({"metric": [f"benefit {comp} (total)"], "value": [total],
                                       "unit": [part["unit"].iloc[0]]}))
            parts.append(part[["metric", "value", "unit"]])
    parts.append(summary[summary["metric"].astype(str).str.startswith("marginal ")]
                 [["metric", "value", "unit"]])
    return pd.concat(parts, ignore_index=True)


def _control_point_rows(run: RunFolder, lookup: dict[str, dict[str, str]]
                        ) -> pd.DataFrame | None:
    table = run.tables.get("control_points")
    if table is None:
        return None
    return pd.DataFrame({
        "point_id": table["point_id"].astype(str),
        "pollutant": table["pollutant"].astype(str),
        "point": table["name"].astype(str) if "name" in table else "",
        "point_zh": _name(lookup, "control_points", "name_zh", table["point_id"]),
        "kind": table["kind"].astype(str) if "kind" in table else "",
        "before": table["before"], "metric": "load_after", "value": table["after"],
        "unit": table["unit"]})


def _species_rows(run: RunFolder, lookup: dict[str, dict[str, str]]) -> pd.DataFrame | None:
    table = run.tables.get("species")
    if table is None:
        return None
    base = pd.DataFrame({
        "species": table["species"].astype(str),
        "species_name": _name(lookup, "species", "name", table["species"]),
        "species_zh": _name(lookup, "species", "name_zh", table["species"]),
        "before": table["before"]})
    parts = [base.assign(metric="habitat_after", value=table["after"], unit=table["unit"])]
    need = pd.to_numeric(table.get("required_gain"), errors="coerce")
    if need is not None and need.notna().any():
        parts.append(base.assign(metric="required_gain", value=need, unit=table["unit"]))
        met = table["target_met"].map(_yes_no)
        parts.append(base.assign(metric="target_met", value=met, unit="yes/no"))
    return pd.concat(parts, ignore_index=True)


def _yes_no(value: Any) -> Any:
    if isinstance(value, str):
        value = {"true": True, "false": False}.get(value.strip().lower(), value)
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    return np.nan


def _spend_rows(run: RunFolder, by: str, lookup: dict[str, dict[str, str]] | None = None
                ) -> pd.DataFrame | None:
    alloc = run.tables.get("allocation")
    if alloc is None:
        return None
    keys = alloc[by].fillna("").astype(str) if by in alloc else pd.Series("", index=alloc.index)
    spend = alloc["cost_cny"].groupby(keys, sort=False).sum()
    spend = spend.sort_values(ascending=False, kind="stable")
    total = float(spend.sum())
    share = 100 * spend / total if total else spend * 0.0
    frame = pd.DataFrame({by: spend.index.astype(str)})
    if by == "action_id":
        names = alloc.drop_duplicates("action_id").set_index("action_id")
        frame["action"] = frame["action_id"].map(names["action"]) if "action" in names else ""
        frame["action_zh"] = _name(lookup or {}, "actions", "name_zh", frame["action_id"])
    elif by in ("agency", "township"):  # display names from agencies.csv / townships.csv
        table = "agencies" if by == "agency" else "townships"
        frame[f"{by}_name"] = _name(lookup or {}, table, "name", frame[by])
        frame[f"{by}_zh"] = _name(lookup or {}, table, "name_zh", frame[by])
    return pd.concat([frame.assign(metric="spend", value=spend.to_numpy(), unit="CNY"),
                      frame.assign(metric="share", value=share.to_numpy(), unit="%")],
                     ignore_index=True)


def _allocation_rows(run: RunFolder, lookup: dict[str, dict[str, str]]) -> pd.DataFrame | None:
    alloc = run.tables.get("allocation")
    if alloc is None:
        return None
    alloc = alloc.copy()
    for column in ("subunit", "action", "township", "zone", "agency", "unit"):
        alloc[column] = alloc[column].fillna("").astype(str) if column in alloc else ""
    alloc["subunit_id"] = alloc["subunit_id"].astype(str)
    alloc["action_id"] = alloc["action_id"].astype(str)
    keys = ["subunit_id", "action_id"]
    labels = ["subunit", "action", "township", "zone", "agency", "unit"]
    grouped = alloc.groupby(keys, sort=False).agg(
        {**{c: "first" for c in labels}, "amount": "sum", "cost_cny": "sum"}).reset_index()
    grouped["subunit_zh"] = _name(lookup, "subunits", "name_zh", grouped["subunit_id"])
    grouped["action_zh"] = _name(lookup, "actions", "name_zh", grouped["action_id"])
    base = grouped[[*keys, "subunit", "subunit_zh", "action", "action_zh", "township", "zone",
                    "agency"]]
    return pd.concat([base.assign(metric="amount", value=grouped["amount"],
                                  unit=grouped["unit"]),
                      base.assign(metric="cost", value=grouped["cost_cny"], unit="CNY")],
                     ignore_index=True)


def _scenario_rows(cmp: Comparison) -> pd.DataFrame:
    rows = []
    for run in cmp.runs:
        overrides = run.manifest.get("overrides") or []
        rows.append({"scenario": run.name, "baseline": run.name == cmp.baseline,
                     "description": run.description, "status": run.status,
                     "objective": run.summary_value("objective"),
                     "spend": run.summary_value("spend"),
                     "overrides": "; ".join(map(str, overrides)),
                     "created": str(run.manifest.get("created") or ""),
                     "folder": run.folder.as_posix()})
    return pd.DataFrame(rows)


# --- stacking ----------------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_)


def _delta(value: Any, base: Any) -> float:
    """``value - base`` for two numbers (0 when they differ only by rounding), else NaN."""
    if _is_number(value) and _is_number(base) and not (pd.isna(value) or pd.isna(base)):
        diff = float(value) - float(base)
        if abs(diff) <= 1e-9 * max(abs(float(value)), abs(float(base))):
            return 0.0
        return diff
    return np.nan


def _stack(parts: dict[str, pd.DataFrame | None], spec: TableSpec, scenarios: list[str],
           baseline: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Align per-run rows on their item keys; return (items wide, tidy long with deltas)."""
    ident = [*spec.keys, "metric"]
    present = [s for s in scenarios if parts.get(s) is not None]
    frames = [parts[s].assign(scenario=s) for s in present]  # type: ignore[union-attr]
    columns = ["scenario", *spec.keys, *spec.labels, "metric", "value", "unit"]
    if not frames:
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
        return (pd.DataFrame({c: pd.Series(dtype=object) for c in
                              [*spec.keys, *spec.labels, "metric", "unit", *scenarios]}),
                empty.assign(**{f"delta_vs_{baseline}": pd.Series(dtype=float)}))
    data = pd.concat(frames, ignore_index=True)
    for column in [*spec.keys, *spec.labels, "metric", "unit"]:
        if column not in data:
            data[column] = ""
        if column != "before":
            data[column] = data[column].fillna("").astype(str)
    items = data.drop_duplicates(ident)[[*spec.keys, *spec.labels, "metric", "unit"]]
    items = items.reset_index(drop=True)
    item_keys = list(map(tuple, items[ident].to_numpy()))
    for s in scenarios:
        values: dict[tuple, Any] = {}
        if s in present:
            mine = data[data["scenario"] == s]
            values = dict(zip(map(tuple, mine[ident].to_numpy()), mine["value"], strict=True))
        column = [values.get(k, np.nan) for k in item_keys]
        if spec.fill_zero and s in present:
            column = [0.0 if (v is None or (_is_number(v) and pd.isna(v))) else v
                      for v in column]
        items[s] = pd.Series(column, dtype=object)
    if spec.by_metric:
        order = {m: i for i, m in enumerate(dict.fromkeys(items["metric"]))}
        items = items.iloc[np.argsort(items["metric"].map(order).to_numpy(), kind="stable")]
        items = items.reset_index(drop=True)
    delta = f"delta_vs_{baseline}"
    long_parts = []
    for s in present:
        part = items[[*spec.keys, *spec.labels, "metric", "unit"]].copy()
        part.insert(0, "scenario", s)
        part["value"] = items[s].to_numpy()
        part[delta] = [_delta(v, b) for v, b in zip(items[s], items[baseline], strict=True)]
        long_parts.append(part)
    long = pd.concat(long_parts, ignore_index=True)[[*columns, delta]]
    long["value"] = _tidy_values(long["value"])
    return items, long


def _missing(value: Any) -> bool:
    return value is None or (_is_number(value) and pd.isna(value))


def _tidy_values(values: pd.Series) -> pd.Series:
    """A value column as floats when every value is numeric, else objects (text kept)."""
    if all(_is_number(v) or _missing(v) for v in values):
        return pd.to_numeric(values, errors="coerce").astype(float)
    return values.astype(object)


# --- display (Markdown and Excel) ----------------------------------------------------------


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
    if _is_number(value) and _is_number(base):
        return _delta(value, base)
    if isinstance(value, str) and isinstance(base, str):
        return "" if value == base else f"was {base}"
    return np.nan


def _md_cell(value: Any, kind: str) -> str:
    """One Markdown cell: numbers to 10 significant digits, then formatted for people."""
    if _is_number(value) and not pd.isna(value):
        value = float(f"{float(value):.10g}")
    if kind == "text":
        text = "" if _missing(value) else str(value)
    elif _missing(value):
        text = "-"
    elif kind == "delta" and _is_number(value):
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


def _text_width(text: str) -> int:
    """Display width of text: East Asian wide characters count double."""
    import unicodedata

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
    if _is_number(value):
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


# --- writing -----------------------------------------------------------------------------


def default_out(runs: Sequence[RunFolder]) -> Path:
    """``<parent>/compare`` when every run folder has the same parent (normally
    ``results/<study>``), else ``results/<study>/compare``."""
    parents = {run.folder.resolve().parent for run in runs}
    if len(parents) == 1:
        return runs[0].folder.parent / "compare"
    return run_folder("results", runs[0].study, "compare", "comparison folder",
                      f"{runs[0].folder / MANIFEST} (config.name)")


def write_comparison(cmp: Comparison, out: Path | str | None = None) -> Path:
    """Write the tidy CSVs, ``comparison.md`` and ``comparison.xlsx`` atomically.

    Args:
        cmp: The comparison.
        out: Target folder (default: :func:`default_out`). It is replaced as a whole, so it
            must be new, empty, or an earlier comparison.

    Returns:
        The folder written.

    Raises:
        InputError: if ``out`` holds something else.
        MissingDependencyError: if openpyxl is not installed.
        OutputError: if the folder cannot be written.
    """
    target = Path(out) if out is not None else default_out(cmp.runs)
    check_replaceable(target, (COMPARE_KIND,))  # before the workbook is made
    workbook = comparison_workbook(cmp)
    markdown = comparison_markdown(cmp)
    runs = {f"runs/{run.name}/{MANIFEST}": file_sha256(run.folder / MANIFEST)
            for run in cmp.runs}
    manifest = make_manifest(COMPARE_KIND, runs, None, {
        "study": cmp.study, "baseline": cmp.baseline,
        "scenarios": [{"name": run.name, "status": run.status,
                       "folder": _relative(run.folder, target)} for run in cmp.runs]})
    tables = {"scenarios": cmp.tables["scenarios"],
              **{name: cmp.tables[name] for name in SPECS}}
    write_run(target, tables, manifest, {MARKDOWN: markdown, WORKBOOK: workbook},
              (COMPARE_KIND,))
    return target


def _relative(path: Path, start: Path) -> str:
    try:
        return Path(os.path.relpath(path.resolve(), start.resolve())).as_posix()
    except ValueError:
        return path.resolve().as_posix()


# --- solving missing scenarios -------------------------------------------------------------


def scenario_runs(model_path: Path | str, scenarios: Sequence[str] | None,
                  results_root: Path | str = "results", rerun: bool = False) -> list[Path]:
    """Run folders for scenarios of a model: reused when current, solved otherwise.

    A folder ``results/<study>/<scenario>`` is reused when it is a solve run of the same
    resolved configuration and the same input hashes; otherwise the scenario is solved with
    :func:`dss.api.run_solve` (which writes it there).

    Args:
        model_path: The model file.
        scenarios: Scenario names (``a+b`` applies ``a`` then ``b``); default: ``base`` and
            every scenario in the model file.
        results_root: Results root folder.
        rerun: Solve every scenario again even when its folder is current.

    Raises:
        InputError: listing every unknown scenario at once.
    """
    import yaml

    from dss.api import input_hashes, load, run_solve
    from dss.safe_yaml import load_yaml
    from dss.config.loader import BASE_SCENARIO, load_model

    if not scenarios:
        declared = load_model(model_path).config.scenarios
        scenarios = [BASE_SCENARIO, *declared]
    specs = [[p for p in s.split("+") if p] or [BASE_SCENARIO] for s in scenarios]
    issues: list[Issue] = []
    loaded = []
    for spec in specs:
        try:
            loaded.append(load(model_path, spec))
        except InputError as err:
            issues.extend(i for i in err.issues if i not in issues)
    if issues:
        raise InputError(issues, "cannot compare")
    folders: list[Path] = []
    for spec, (resolved, study) in zip(specs, loaded, strict=True):
        folder = run_folder(results_root, resolved.config.name, resolved.scenario,
                            "scenario", "--scenario")
        current = False
        if not rerun and (folder / MANIFEST).is_file():
            try:
                manifest = load_yaml((folder / MANIFEST).read_text(encoding="utf-8"),
                                     str(folder / MANIFEST))
                current = (isinstance(manifest, dict) and manifest.get("kind") == "solve"
                           and not manifest.get("overrides")
                           and manifest.get("inputs_sha256") == input_hashes(resolved, study)
                           and manifest.get("config") == resolved.raw
                           and (folder / "summary.csv").is_file())
            except (OSError, UnicodeDecodeError, yaml.YAMLError):
                current = False
        if current:
            LOGGER.info("reusing %s (same configuration and inputs)", folder)
        else:
            LOGGER.info("solving scenario %s", resolved.scenario)
            run = run_solve(model_path, spec, None, results_root)
            folder = run.folder  # type: ignore[assignment]
        folders.append(folder)
    return folders
