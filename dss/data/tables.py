"""Read one CSV input table and validate it against its declaration in :mod:`dss.data.schema`.

Every problem is collected as a located :class:`~dss.errors.Issue`; nothing raises midway.
Row numbers are the line numbers a spreadsheet shows: the header is row 1, the first data row
is row 2.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from dss.data.schema import Column, Table
from dss.errors import Issue

LOGGER = logging.getLogger(__name__)

MAX_ISSUES_PER_COLUMN = 10
"""Cap on reported problems per column and kind, so one bad column cannot flood the report."""

_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}
_FIRST_DATA_ROW = 2


@dataclass(frozen=True, slots=True)
class TableRead:
    """Result of reading one table: the typed frame (None if unusable) and its file hash."""

    frame: pd.DataFrame | None
    sha256: str | None


def _rows(mask: np.ndarray) -> np.ndarray:
    """Spreadsheet row numbers of the True entries of a boolean mask over data rows."""
    return np.flatnonzero(mask) + _FIRST_DATA_ROW


def _report(issues: list[Issue], file: str, column: str, rows: np.ndarray, what) -> None:
    """Append one issue per row (capped), ``what`` maps a row number to a message."""
    for row in rows[:MAX_ISSUES_PER_COLUMN]:
        issues.append(Issue(file, what(int(row)), int(row), column))
    if len(rows) > MAX_ISSUES_PER_COLUMN:
        more = len(rows) - MAX_ISSUES_PER_COLUMN
        issues.append(Issue(file, f"... and {more} more rows with the same problem", None,
                            column))


def decode(raw: bytes, file: str, issues: list[Issue]) -> str | None:
    """Decode UTF-8 (with or without BOM); report the first undecodable byte otherwise."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        issues.append(Issue(
            file,
            f"not valid UTF-8 at byte {err.start} (line {line}); save the file as UTF-8 "
            "(in Excel: 'CSV UTF-8'; GBK/GB18030 files must be converted)",
        ))
        return None


def _convert(col: Column, text: pd.Series, file: str, issues: list[Issue]) -> pd.Series:
    """Convert one column of stripped strings to its declared type, reporting bad cells."""
    empty = (text == "").to_numpy()
    if col.dtype == "str":
        values = text.astype(object)
        if col.allowed:
            bad = ~empty & ~text.isin(col.allowed).to_numpy()
            _report(issues, file, col.name, _rows(bad),
                    lambda r: f"'{text.iloc[r - _FIRST_DATA_ROW]}' is not allowed "
                              f"({col.rule()})")
        fill = None if col.nullable else col.default
        values = values.where(~empty, fill)
    elif col.dtype == "bool":
        lowered = text.str.lower()
        is_true = lowered.isin(_TRUE).to_numpy()
        is_false = lowered.isin(_FALSE).to_numpy()
        bad = ~empty & ~is_true & ~is_false
        _report(issues, file, col.name, _rows(bad),
                lambda r: f"'{text.iloc[r - _FIRST_DATA_ROW]}' is not a boolean (true or false)")
        values = pd.Series(np.where(is_true, True, False), index=text.index, dtype=bool)
        if col.default is not None:
            values = values.where(~empty, bool(col.default))
    else:
        numbers = pd.to_numeric(text.where(~empty, None), errors="coerce").astype(float)
        arr = numbers.to_numpy()
        not_number = ~empty & np.isnan(arr)
        literal_nan = not_number & text.str.lower().isin({"nan", "na", "n/a", "null"}).to_numpy()
        _report(issues, file, col.name, _rows(literal_nan),
                lambda r: f"missing value '{text.iloc[r - _FIRST_DATA_ROW]}' "
                          f"({col.rule()}; leave optional cells empty instead)")
        _report(issues, file, col.name, _rows(not_number & ~literal_nan),
                lambda r: f"'{text.iloc[r - _FIRST_DATA_ROW]}' is not a number ({col.rule()})")
        infinite = np.isinf(arr)
        _report(issues, file, col.name, _rows(infinite),
                lambda r: f"infinite value is not allowed ({col.rule()})")
        finite = np.isfinite(arr)
        if col.minimum is not None:
            low = finite & (arr < col.minimum)
            _report(issues, file, col.name, _rows(low),
                    lambda r: f"{arr[r - _FIRST_DATA_ROW]:g} is below the minimum "
                              f"({col.rule()})")
        if col.maximum is not None:
            high = finite & (arr > col.maximum)
            _report(issues, file, col.name, _rows(high),
                    lambda r: f"{arr[r - _FIRST_DATA_ROW]:g} is above the maximum "
                              f"({col.rule()})")
        if col.dtype == "int":
            frac = finite & (np.abs(arr - np.round(arr)) > 1e-9)
            _report(issues, file, col.name, _rows(frac),
                    lambda r: f"{arr[r - _FIRST_DATA_ROW]:g} is not a whole number "
                              f"({col.rule()})")
        if not col.nullable and col.default is not None:
            numbers = numbers.where(~empty, float(col.default))  # type: ignore[arg-type]
        values = numbers
    if not col.nullable and col.default is None:
        _report(issues, file, col.name, _rows(empty),
                lambda r: f"empty cell, a value is required ({col.rule()})")
    return values


def parse_table(text: str, table: Table, file: str, issues: list[Issue]) -> pd.DataFrame | None:
    """Parse decoded CSV text into a typed frame with every declared column."""
    if not text.strip():
        issues.append(Issue(file, "file is empty (expected a header row with columns: "
                                  + ", ".join(table.names) + ")"))
        return None
    try:
        raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False,
                          skip_blank_lines=True, skipinitialspace=True)
    except (pd.errors.ParserError, csv.Error, ValueError) as err:
        issues.append(Issue(file, f"cannot parse as CSV ({err}); check quoting and the number "
                                  "of commas per line"))
        return None
    header = next(csv.reader(io.StringIO(text)), [])
    header = [h.strip() for h in header]
    seen: set[str] = set()
    for name in header:
        if name in seen:
            issues.append(Issue(file, "column appears twice in the header (keep one)", 1, name))
        seen.add(name)
    raw.columns = [str(c).strip() for c in raw.columns]
    known = table.names
    unknown = [c for c in header if c and c not in known]
    for name in unknown:
        issues.append(Issue(file, f"unknown column (known columns: {', '.join(known)})", 1,
                            name))
    missing = [c.name for c in table.columns if c.required and c.name not in header]
    for name in missing:
        issues.append(Issue(file, f"missing required column (required: "
                                  f"{', '.join(c.name for c in table.columns if c.required)};"
                                  f" known: {', '.join(known)})", 1, name))
    if missing:
        return None
    if raw.empty and table.required:
        issues.append(Issue(file, "table has a header but no data rows", 2))
    frame = {}
    for col in table.columns:
        if col.name in raw.columns:
            text_values = raw[col.name].astype(str).str.strip()
            frame[col.name] = _convert(col, text_values, file, issues)
        else:
            frame[col.name] = pd.Series([col.default] * len(raw), index=raw.index,
                                        dtype=object if col.dtype == "str" else None)
    df = pd.DataFrame(frame, index=raw.index)
    for col in table.columns:
        if col.dtype in ("float", "int") and not col.nullable:
            df[col.name] = df[col.name].astype(float)
        if col.dtype == "int" and not col.nullable:
            df[col.name] = df[col.name].fillna(0).round().astype(np.int64)
    _check_keys(df, table, file, issues)
    return df.reset_index(drop=True)


def _check_keys(df: pd.DataFrame, table: Table, file: str, issues: list[Issue]) -> None:
    """Report duplicate primary keys, pointing at the first occurrence."""
    key = list(table.key)
    dup = df.duplicated(key, keep=False).to_numpy()
    if not dup.any():
        return
    first: dict[tuple, int] = {}
    rows = []
    for pos in np.flatnonzero(dup):
        value = tuple(df.iloc[pos][k] for k in key)
        if value in first:
            rows.append((pos + _FIRST_DATA_ROW, value, first[value]))
        else:
            first[value] = pos + _FIRST_DATA_ROW
    for row, value, first_row in rows[:MAX_ISSUES_PER_COLUMN]:
        shown = value[0] if len(value) == 1 else value
        issues.append(Issue(file, f"duplicate {'/'.join(key)} {shown!r} (first in row "
                                  f"{first_row}); ids must be unique", row, key[-1]))


def read_table(folder: Path, table: Table, issues: list[Issue]) -> TableRead:
    """Read and validate ``folder/<table>.csv``; absent optional tables give an empty frame."""
    path = folder / table.file
    if not path.is_file():
        if table.required:
            issues.append(Issue(table.file, f"required table not found in {folder.name}/ "
                                            f"(create {table.file} with columns: "
                                            + ", ".join(c.name for c in table.columns
                                                        if c.required) + ")"))
            return TableRead(None, None)
        return TableRead(empty_frame(table), None)
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    text = decode(raw, table.file, issues)
    if text is None:
        return TableRead(None, digest)
    return TableRead(parse_table(text, table, table.file, issues), digest)


def empty_frame(table: Table) -> pd.DataFrame:
    """An empty frame with the table's declared columns and dtypes."""
    dtypes = {"str": object, "float": float, "int": np.int64, "bool": bool}
    return pd.DataFrame({c.name: pd.Series([], dtype=dtypes[c.dtype]) for c in table.columns})
