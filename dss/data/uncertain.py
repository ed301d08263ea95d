"""Uncertain input numbers: where the lines of ``uncertainty.csv`` and
``uncertainty_scenarios.csv`` point, their checks, and a study with changed numbers.

A line names a cell (or a whole column, with row ``*``) of an input table by the table's key:
``subunits, E4, usle_r`` or ``land_cover, E1/cropland, area_ha`` (two-part keys joined with
``/``). Only numeric (float) columns can be uncertain; the river network, ids and flags cannot.

A change either scales the table's value (``apply: scale``, the default: a factor) or
replaces it (``apply: value``). Changed values are clipped to the column's allowed range
(:data:`dss.data.schema.TABLES`): a share stays in [0, 1], a load stays non-negative.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dss.data.schema import TABLES
from dss.errors import Issue, did_you_mean

UNCERTAINTY_TABLES = ("uncertainty", "uncertainty_scenarios")
"""Tables describing uncertainty (they cannot themselves be uncertain)."""

ALL_ROWS = "*"
KEY_SEPARATOR = "/"
PROBABILITY_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Target:
    """The cells one line points at.

    Attributes:
        table: Input table name.
        column: Numeric column.
        positions: Frame rows of the table (every row for ``*``).
    """

    table: str
    column: str
    positions: np.ndarray


@dataclass(frozen=True)
class Change:
    """A change of the cells of a target: multiply them (``scale``) or set them (``value``)."""

    target: Target
    apply: str
    value: float


def row_keys(frame: pd.DataFrame, table: str) -> np.ndarray:
    """The row id of every row of ``table``: its key, two-part keys joined with ``/``."""
    key = TABLES[table].key
    if len(key) == 1:
        return frame[key[0]].astype(str).to_numpy(dtype=object)
    parts = [frame[k].astype(str) for k in key]
    joined = parts[0]
    for part in parts[1:]:
        joined = joined + KEY_SEPARATOR + part
    return joined.to_numpy(dtype=object)


def resolve(frames: dict[str, pd.DataFrame | None], table: str, row: str, column: str
            ) -> tuple[Target | None, str | None, str]:
    """The target of a line, or (None, the problem, the column of the line at fault)."""
    usable = [t for t in TABLES if t not in UNCERTAINTY_TABLES]
    if table not in usable:
        hint = did_you_mean(table, usable)
        return None, (f"unknown table {table!r} ({hint + ' ' if hint else ''}tables: "
                      f"{', '.join(usable)})"), "table"
    frame = frames.get(table)
    if frame is None:
        return None, f"{table}.csv is not usable (see its own problems)", "table"
    numeric = [c.name for c in TABLES[table].columns if c.dtype == "float"]
    if column not in numeric:
        hint = did_you_mean(column, numeric)
        return None, (f"{column!r} is not a numeric column of {table}.csv "
                      f"({hint + ' ' if hint else ''}numeric columns: {', '.join(numeric)})"
                      ), "column"
    if row == ALL_ROWS:
        return Target(table, column, np.arange(len(frame))), None, "row"
    keys = row_keys(frame, table)
    found = np.flatnonzero(keys == row)
    if not len(found):
        key = KEY_SEPARATOR.join(TABLES[table].key)
        hint = did_you_mean(row, keys.tolist(), quote=True)
        return None, (f"no row {row!r} in {table}.csv (rows are named by {key}, or * for "
                      f"every row{'; ' + hint if hint else ''})"), "row"
    return Target(table, column, found), None, "row"


def _check_distribution(rec: pd.Series, row: int, issues: list[Issue]) -> None:
    """The parameters a line's distribution needs, in a consistent order."""
    file = "uncertainty.csv"
    low, mode, high, sd = (rec.get(k) for k in ("low", "mode", "high", "sd"))
    given = {k: v is not None and not pd.isna(v)
             for k, v in (("low", low), ("mode", mode), ("high", high), ("sd", sd))}
    need = {"triangular": ("low", "mode", "high"), "uniform": ("low", "high"),
            "normal": ("mode", "sd"), "lognormal": ("mode", "sd")}.get(rec["distribution"])
    if need is None:
        return  # an unknown distribution is reported with the column's allowed values
    kind = rec["distribution"]
    missing = [k for k in need if not given[k]]
    for k in missing:
        issues.append(Issue(file, f"a {kind} distribution needs {', '.join(need)} "
                                  f"({k} is empty)", row, k))
    if missing:
        return
    if given["low"] and given["high"] and low > high:
        issues.append(Issue(file, f"low {low:g} is above high {high:g}", row, "low"))
    if kind == "triangular" and not low <= mode <= high:
        issues.append(Issue(file, f"mode {mode:g} must lie between low {low:g} and high "
                                  f"{high:g}", row, "mode"))
    if kind == "lognormal" and mode <= 0:
        issues.append(Issue(file, f"a lognormal median (mode) must be above 0 (got "
                                  f"{mode:g})", row, "mode"))


def check_uncertainty(frames: dict[str, pd.DataFrame | None], issues: list[Issue],
                      row_numbers: Callable[[str], np.ndarray]) -> None:
    """Every line of the two uncertainty tables points at existing numeric cells, with the
    parameters its distribution needs; scenario probabilities agree and sum to 1."""
    spec = frames.get("uncertainty")
    if spec is not None and len(spec):
        numbers = row_numbers("uncertainty")
        for i, rec in enumerate(spec.to_dict("records")):
            row = int(numbers[i])
            _target, problem, where = resolve(frames, rec["table"], rec["row"], rec["column"])
            if problem:
                issues.append(Issue("uncertainty.csv", problem, row, where))
            _check_distribution(pd.Series(rec), row, issues)
    scen = frames.get("uncertainty_scenarios")
    if scen is None or not len(scen):
        return
    file = "uncertainty_scenarios.csv"
    numbers = row_numbers("uncertainty_scenarios")
    first: dict[str, tuple[float, int]] = {}
    for i, rec in enumerate(scen.to_dict("records")):
        row = int(numbers[i])
        name, prob = rec["scenario"], float(rec["probability"])
        if name in first and abs(first[name][0] - prob) > PROBABILITY_TOLERANCE:
            issues.append(Issue(file, f"scenario {name!r} has probability {prob:g} here but "
                                      f"{first[name][0]:g} on row {first[name][1]} (give one "
                                      "probability per scenario)", row, "probability"))
        first.setdefault(name, (prob, row))
        if not rec["table"]:
            continue
        _target, problem, where = resolve(frames, rec["table"], rec["row"], rec["column"])
        if problem:
            issues.append(Issue(file, problem, row, where))
        if rec["value"] is None or pd.isna(rec["value"]):
            issues.append(Issue(file, "a changed number needs its value (a factor with apply "
                                      "scale)", row, "value"))
    total = sum(p for p, _r in first.values())
    if abs(total - 1.0) > PROBABILITY_TOLERANCE:
        issues.append(Issue(file, f"the scenario probabilities sum to {total:g} (they must "
                                  "sum to 1)", None, "probability"))


def changed_study(study, changes: Sequence[Change]):
    """A copy of ``study`` with the changes made (in order), values clipped to each column's
    allowed range. Tables without changes are shared, not copied; derived data (loads,
    options) is recomputed by whoever asks the copy for it."""
    if not changes:
        return study
    frames: dict[str, pd.DataFrame] = {}
    for change in changes:
        t = change.target
        frame = frames.get(t.table)
        if frame is None:
            frame = frames[t.table] = study.table(t.table).copy()
        values = frame[t.column].to_numpy(dtype=float).copy()
        at = t.positions
        values[at] = values[at] * change.value if change.apply == "scale" else change.value
        col = TABLES[t.table].column(t.column)
        lo = -np.inf if col.minimum is None else col.minimum
        hi = np.inf if col.maximum is None else col.maximum
        values[at] = np.clip(values[at], lo, hi)
        frame[t.column] = values
    return with_frames(study, frames)


def with_frames(study, frames: dict[str, pd.DataFrame]):
    """A copy of ``study`` with some tables replaced by frames that differ from them only in
    numeric columns: the id lookups (positions, key indices) are kept, everything derived
    from numbers is recomputed."""
    copy = dataclasses.replace(study, **frames)
    for key, value in study._memo.items():
        if isinstance(key, tuple) and key and key[0] in ("index", "positions"):
            copy._memo[key] = value
    return copy
