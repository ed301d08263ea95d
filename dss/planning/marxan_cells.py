"""Cells of Marxan's table files (``pu.dat``, ``spec.dat``, ``puvspr.dat``, ``bound.dat``):
read a comma- or tab-separated table, and turn its columns into checked numbers and ids,
each problem a located :class:`~dss.errors.Issue` (file, row, column)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from dss.errors import Issue, did_you_mean


def _read_table(path: Path, name: str, issues: list[Issue]) -> pd.DataFrame | None:
    """Read a comma- or tab-separated Marxan table with a header row."""
    if not path.is_file():
        issues.append(Issue(name, f"file not found (looked for {path})"))
        return None
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        issues.append(Issue(name, f"not valid UTF-8 at byte {err.start}; save the file as "
                                  "UTF-8 text"))
        return None
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        issues.append(Issue(name, "the file is empty (it needs a header row)"))
        return None
    header = lines[0]
    sep = "," if "," in header else "\t" if "\t" in header else None
    rows = list(csv.reader(io.StringIO(text), delimiter=sep)) if sep else \
        [line.split() for line in lines]
    head = [h.strip().lower() for h in rows[0]]
    body = []
    numbers = []
    for k, row in enumerate(rows[1:], start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != len(head):
            issues.append(Issue(name, f"has {len(row)} cells, the header has {len(head)}", k))
            continue
        body.append([cell.strip() for cell in row])
        numbers.append(k)
    frame = pd.DataFrame(body, columns=head)
    frame.attrs["rows"] = np.asarray(numbers, dtype=np.int64)
    return frame


def _numbers(frame: pd.DataFrame, column: str, name: str, issues: list[Issue],
             default: float | None = None, minimum: float | None = None,
             integer: bool = False) -> pd.Series:
    rows = frame.attrs["rows"]
    if column not in frame.columns:
        if default is None:
            hint = did_you_mean(column, frame.columns)
            issues.append(Issue(name, f"missing column {column}"
                                      f"{' (' + hint + ')' if hint else ''}", 1, column))
            return pd.Series(np.zeros(len(frame)), index=frame.index)
        return pd.Series(np.full(len(frame), float(default)), index=frame.index)
    values = pd.to_numeric(frame[column], errors="coerce")
    bad = values.isna().to_numpy().copy()
    if default is not None:
        empty = (frame[column] == "").to_numpy()
        values = values.where(~empty, default)
        bad &= ~empty
    for pos in np.flatnonzero(bad)[:10]:
        issues.append(Issue(name, f"not a number: {frame[column].iloc[pos]!r}",
                            int(rows[pos]), column))
    ok = ~values.isna()
    if integer:
        frac = ok & (values != values.round())
        for pos in np.flatnonzero(frac.to_numpy())[:10]:
            issues.append(Issue(name, f"{values.iloc[pos]:g} is not a whole number",
                                int(rows[pos]), column))
    if minimum is not None:
        low = ok & (values < minimum)
        for pos in np.flatnonzero(low.to_numpy())[:10]:
            issues.append(Issue(name, f"{values.iloc[pos]:g} is below {minimum:g}",
                                int(rows[pos]), column))
    return values.fillna(0.0).astype(float)


def _ids(frame: pd.DataFrame, column: str, name: str, issues: list[Issue]) -> pd.Series:
    values = _numbers(frame, column, name, issues, integer=True)
    return values.astype(np.int64).astype(str)


def _unique(ids: pd.Series, frame: pd.DataFrame, name: str, column: str,
            issues: list[Issue]) -> None:
    rows = frame.attrs["rows"]
    for pos in np.flatnonzero(ids.duplicated().to_numpy())[:10]:
        issues.append(Issue(name, f"duplicate id {ids.iloc[pos]} (ids must be unique)",
                            int(rows[pos]), column))


def _unknown(ids: pd.Series, known: set[str], frame: pd.DataFrame, name: str, column: str,
             what: str, issues: list[Issue]) -> np.ndarray:
    rows = frame.attrs["rows"]
    bad = ~ids.isin(known).to_numpy()
    for pos in np.flatnonzero(bad)[:10]:
        issues.append(Issue(name, f"unknown {what} {ids.iloc[pos]} (not in the {what} file)",
                            int(rows[pos]), column))
    return bad
