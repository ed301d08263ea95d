"""The tables of a scenario comparison: how each is keyed (:data:`SPECS`), the
:class:`Comparison` that holds them, and the per-run rows stacked on a ``scenario`` key with
each value's difference from the baseline (see :mod:`dss.results.compare`)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dss.errors import InputError
from dss.results.runs import RunFolder, load_run_study

LOGGER = logging.getLogger(__name__)

MARKDOWN = "comparison.md"
WORKBOOK = "comparison.xlsx"

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


def fill_tables(cmp: Comparison, inputs_dir: Path | None) -> None:
    """Build every comparison table of ``cmp`` (its runs and baseline set) in place."""
    runs, names, baseline = cmp.runs, cmp.scenarios, cmp.baseline
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


def is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_)


def delta(value: Any, base: Any) -> float:
    """``value - base`` for two numbers (0 when they differ only by rounding), else NaN."""
    if is_number(value) and is_number(base) and not (pd.isna(value) or pd.isna(base)):
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
            column = [0.0 if (v is None or (is_number(v) and pd.isna(v))) else v
                      for v in column]
        items[s] = pd.Series(column, dtype=object)
    if spec.by_metric:
        order = {m: i for i, m in enumerate(dict.fromkeys(items["metric"]))}
        items = items.iloc[np.argsort(items["metric"].map(order).to_numpy(), kind="stable")]
        items = items.reset_index(drop=True)
    delta_col = f"delta_vs_{baseline}"
    long_parts = []
    for s in present:
        part = items[[*spec.keys, *spec.labels, "metric", "unit"]].copy()
        part.insert(0, "scenario", s)
        part["value"] = items[s].to_numpy()
        part[delta_col] = [delta(v, b) for v, b in zip(items[s], items[baseline], strict=True)]
        long_parts.append(part)
    long = pd.concat(long_parts, ignore_index=True)[[*columns, delta_col]]
    long["value"] = _tidy_values(long["value"])
    return items, long


def missing(value: Any) -> bool:
    return value is None or (is_number(value) and pd.isna(value))


def _tidy_values(values: pd.Series) -> pd.Series:
    """A value column as floats when every value is numeric, else objects (text kept)."""
    if all(is_number(v) or missing(v) for v in values):
        return pd.to_numeric(values, errors="coerce").astype(float)
    return values.astype(object)
