"""Read one CSV input table and validate it against its declaration in :mod:`dss.data.schema`.

Every problem is collected as a located :class:`~dss.errors.Issue`; nothing raises midway.
Row numbers are the line numbers a spreadsheet shows: the header is row 1, the first data row
is row 2.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from dss.data.csv_split import _split, data_rows, decode
from dss.data.schema import Table
from dss.data.table_columns import LARGEST_NUMBER, MAX_ISSUES_PER_COLUMN, _convert, _hint
from dss.errors import Issue

__all__ = ["LARGEST_NUMBER", "MAX_ISSUES_PER_COLUMN", "TableRead", "data_rows", "decode",
           "empty_frame", "parse_table", "parse_table_rows", "read_table"]

LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TableRead:
    """Result of reading one table.

    Attributes:
        frame: The typed frame, or None if the table is unusable (missing, undecodable, wrong
            header, rows with the wrong number of cells).
        sha256: SHA-256 of the file's bytes, or None if the file is absent.
        rows: Spreadsheet row number of each frame row (blank rows are skipped, so these are
            not always ``index + 2``), or None without a frame.
    """

    frame: pd.DataFrame | None
    sha256: str | None
    rows: np.ndarray | None = None


def parse_table(text: str, table: Table, file: str, issues: list[Issue]) -> pd.DataFrame | None:
    """Parse decoded CSV text into a typed frame with every declared column."""
    return parse_table_rows(text, table, file, issues)[0]


def parse_table_rows(text: str, table: Table, file: str, issues: list[Issue]
                     ) -> tuple[pd.DataFrame | None, np.ndarray | None]:
    """Like :func:`parse_table`, also returning the spreadsheet row number of each frame row.

    Returns:
        The frame (None if unusable) and the row numbers (None without a frame).
    """
    if not text.strip():
        issues.append(Issue(file, "file is empty (expected a header row with columns: "
                                  + ", ".join(table.names) + ")"))
        return None, None
    numeric = {c.name for c in table.columns if c.dtype in ("float", "int")}
    split = _split(text, file, issues, numeric)
    if split is None:
        return None, None
    header, columns, rows, ragged = split.header, split.columns, split.rows, split.ragged
    head = split.header_row
    named = [h for h in header if h]
    if len(named) == 1 and any(sep in named[0] for sep in ";\t|"):
        issues.append(Issue(file, f"the header has a single column {named[0]!r}; separate "
                                  "columns with commas (in Excel: save as 'CSV UTF-8 (Comma "
                                  "delimited)')", head))
        return None, None
    seen: set[str] = set()
    for name in header:
        if name and name in seen:
            issues.append(Issue(file, "column appears twice in the header (keep one)", head,
                                name))
        seen.add(name)
    for index, name in enumerate(header):
        if not name and (columns[index] != "").any():
            issues.append(Issue(file, f"column {index + 1} has values but no name in the "
                                      "header (name it or delete the column)", head))
    known = table.names
    absent = [c for c in known if c not in header]
    for name in (c for c in header if c and c not in known):
        issues.append(Issue(file, f"unknown column ({_hint(name, absent)}known columns: "
                                  f"{', '.join(known)})", head, name))
    required = [c.name for c in table.columns if c.required]
    missing = [c for c in required if c not in header]
    for name in missing:
        issues.append(Issue(file, f"missing required column (required: {', '.join(required)};"
                                  f" known: {', '.join(known)})", head, name))
    if missing:
        return None, None
    if not len(rows) and not ragged and table.required:
        issues.append(Issue(file, "table has a header but no data rows", head + 1))
    index = pd.RangeIndex(len(rows))
    frame = {}
    for col in table.columns:
        if col.name in header:
            frame[col.name] = _convert(col, columns[header.index(col.name)], rows, file, issues)
        else:
            frame[col.name] = pd.Series([col.default] * len(rows), index=index,
                                        dtype=object if col.dtype == "str" else None)
    for col in table.columns:  # on the columns, before the frame: setting frame columns is slow
        if col.dtype in ("float", "int") and not col.nullable:
            frame[col.name] = frame[col.name].astype(float)
        if col.dtype == "int" and not col.nullable:  # non-finite cells are reported above
            values = frame[col.name].to_numpy(float)
            values = np.where(np.isfinite(values), values, 0.0)
            frame[col.name] = pd.Series(np.round(values).astype(np.int64), index=index)
    df = pd.DataFrame(frame, index=index)
    _check_keys(df, table, rows, file, issues)
    if ragged:
        return None, None
    return df, rows


def _check_keys(df: pd.DataFrame, table: Table, rows: np.ndarray, file: str,
                issues: list[Issue]) -> None:
    """Report duplicate primary keys, pointing at the first occurrence (empty keys skipped)."""
    key = list(table.key)
    dup = df.duplicated(key, keep=False).to_numpy()
    if not dup.any():
        return
    filled = df[key].notna().all(axis=1) & (df[key] != "").all(axis=1)
    dup = dup & filled.to_numpy()
    if not dup.any():
        return
    first: dict[tuple, int] = {}
    found = []
    for pos in np.flatnonzero(dup):
        value = tuple(df.iloc[pos][k] for k in key)
        if value in first:
            found.append((int(rows[pos]), value, first[value]))
        else:
            first[value] = int(rows[pos])
    for row, value, first_row in found[:MAX_ISSUES_PER_COLUMN]:
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
        return TableRead(empty_frame(table), None, data_rows(0))
    try:
        raw = path.read_bytes()
    except OSError as err:
        issues.append(Issue(table.file, f"cannot read the file ({err.strerror or err}; check "
                                        "that it is not open elsewhere and that you may read "
                                        "it)"))
        return TableRead(None, None)
    digest = hashlib.sha256(raw).hexdigest()
    text = decode(raw, table.file, issues)
    if text is None:
        return TableRead(None, digest)
    frame, rows = parse_table_rows(text, table, table.file, issues)
    return TableRead(frame, digest, rows)


def empty_frame(table: Table) -> pd.DataFrame:
    """An empty frame with the table's declared columns and dtypes."""
    dtypes = {"str": object, "float": float, "int": np.int64, "bool": bool}
    return pd.DataFrame({c.name: pd.Series([], dtype=dtypes[c.dtype]) for c in table.columns})
