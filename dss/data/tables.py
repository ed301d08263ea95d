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
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path

import numpy as np
import pandas as pd

from dss.data.schema import Column, Table
from dss.errors import Issue, did_you_mean

LOGGER = logging.getLogger(__name__)

LARGEST_NUMBER = 1e15
"""HiGHS treats values of this size or more as infinite, so no input number may reach it."""
MAX_ISSUES_PER_COLUMN = 10
"""Cap on reported problems per column and kind, so one bad column cannot flood the report."""

_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}
_MISSING = {"nan", "na", "n/a", "null", "none", "-nan"}
"""Cell texts meaning "no value" in some tool; in a number column they are reported as such."""
_FIRST_DATA_ROW = 2


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


def data_rows(count: int) -> np.ndarray:
    """Spreadsheet row numbers of ``count`` data rows with no blank rows between them."""
    return np.arange(count, dtype=np.int64) + _FIRST_DATA_ROW


def _report(issues: list[Issue], file: str, column: str | None, mask: np.ndarray,
            rows: np.ndarray, what: Callable[[int], str]) -> None:
    """Append one issue per True entry of ``mask`` (capped); ``what`` maps a position to text."""
    positions = np.flatnonzero(mask)
    for pos in positions[:MAX_ISSUES_PER_COLUMN]:
        issues.append(Issue(file, what(int(pos)), int(rows[pos]), column))
    if len(positions) > MAX_ISSUES_PER_COLUMN:
        more = len(positions) - MAX_ISSUES_PER_COLUMN
        issues.append(Issue(file, f"... and {more} more rows with the same problem", None,
                            column))


_NOT_CSV: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "is an Excel workbook (.xlsx), not a CSV file; in Excel use Save As "
                    "'CSV UTF-8 (Comma delimited)'"),
    (b"\xd0\xcf\x11\xe0", "is an old Excel workbook (.xls), not a CSV file; in Excel use "
                          "Save As 'CSV UTF-8 (Comma delimited)'"),
    (b"\xff\xfe", "is UTF-16 text (Excel 'Unicode Text'); save it as 'CSV UTF-8 (Comma "
                  "delimited)'"),
    (b"\xfe\xff", "is UTF-16 text; save it as UTF-8"),
)
"""Signatures of files users save by mistake under a .csv name, and what to do instead."""


def decode(raw: bytes, file: str, issues: list[Issue]) -> str | None:
    """Decode UTF-8 (with or without BOM); report where the first undecodable byte is."""
    for magic, what in _NOT_CSV:
        if raw.startswith(magic):
            issues.append(Issue(file, f"the file {what}"))
            return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        row, column = _locate_byte(raw, err.start)
        issues.append(Issue(
            file,
            f"not valid UTF-8 at byte {err.start}; save the file as UTF-8 "
            "(in Excel: 'CSV UTF-8'; GBK/GB18030 files must be converted)",
            row, column,
        ))
        return None


def _locate_byte(raw: bytes, offset: int) -> tuple[int, str | None]:
    """Spreadsheet row and column (header name) of the cell holding byte ``offset``."""
    before = raw[:offset].decode("utf-8-sig", errors="replace")
    # The sentinel makes the reader yield the (partial) record that holds the byte.
    records = list(csv.reader(io.StringIO(before + "x", newline="")))
    row = len(records)
    if row < 2:
        return row, None
    header = [h.strip() for h in records[0]]
    index = len(records[-1]) - 1
    return row, (header[index] or None) if index < len(header) else None


@dataclass(frozen=True, slots=True)
class _Records:
    """CSV text split into cells: the header, well-formed data rows and their row numbers."""

    header: list[str]
    """Stripped header names (trailing empty names dropped)."""
    header_row: int
    columns: list[pd.Series]
    """Stripped cell texts of each header column, over the well-formed non-blank data rows;
    or, for a number column the C parser read cleanly, its float values (NaN = empty cell)."""
    rows: np.ndarray
    """Spreadsheet row number of each of those data rows."""
    ragged: bool
    """Some rows had the wrong number of cells (reported, and left out of ``columns``)."""


def _split(text: str, file: str, issues: list[Issue],
           numeric: Collection[str] = ()) -> _Records | None:
    """Split CSV text into a header, stripped cell columns and spreadsheet row numbers.

    Columns named in ``numeric`` may come back as floats (see :func:`_read_body`).
    """
    return _split_fast(text, numeric) or _split_exact(text, file, issues)


_PADS = (" ,", ", ", "\t,", ",\t", " \n", "\n ", "\t\n", "\n\t", " \r", "\t\r")
"""Pairs of characters that mean a cell starts or ends with a space or tab."""


def _content_end(text: str) -> int:
    """Where the last line of ``text`` that is not blank (Python whitespace) ends."""
    start = max(len(text) - 4096, 0)  # strip a copy of the tail only: the text may be large
    tail = text[start:].rstrip()
    end = start + len(tail) if tail else len(text[:start].rstrip())
    cut = text.find("\n", end)
    return len(text) if cut < 0 else cut


def _split_fast(text: str, numeric: Collection[str] = ()) -> _Records | None:
    """The common case at C speed, or None when the text needs :func:`_split_exact`.

    Taken only when nothing can go wrong: no double quotes, no blank rows, no unnamed header
    cell, and every row has as many commas as the header. Then rows are lines, so the row
    numbers are exact. Trailing blank lines are ignored.
    """
    if '"' in text:
        return None
    end = _content_end(text)
    count = text.count("\n", 0, end) + 1 if end else 0
    if count < 2:
        return None
    if count <= _SMALL_TABLE:
        return _split_small(text, text[:end].split("\n"))
    return _split_large(text, end, numeric)


def _split_small(text: str, lines: list[str]) -> _Records | None:
    """:func:`_split_fast` for a table of few lines, split in Python."""
    commas = np.fromiter(map(str.count, lines, repeat(",")), dtype=np.int64, count=len(lines))
    if (commas != commas[0]).any() or not all(map(str.strip, lines, repeat(" \t\r,"))):
        return None
    header = [h.strip() for h in lines[0].split(",")]
    if not all(header):
        return None
    padded = any(p in text for p in _PADS) or text[:1] in (" ", "\t")
    if "\x00" in text or text.count("\r") != text.count("\r\n"):
        # let the C parser split it (it treats a lone carriage return as a line end)
        return _read_body("\n".join(lines[1:]).encode("utf-8"), header, len(lines) - 1,
                          padded, ())
    # splitting in Python costs less than starting the C parser; the cells are the same (no
    # quotes, and every line ends with "\n" or "\r\n")
    cells = zip(*(line.removesuffix("\r").split(",") for line in lines[1:]), strict=True)
    raw = [pd.Series(c, dtype=object) for c in cells]
    columns = [c.str.strip() for c in raw] if padded else raw
    return _Records(header, 1, columns, data_rows(len(lines) - 1), False)


def _split_large(text: str, end: int, numeric: Collection[str]) -> _Records | None:
    """:func:`_split_fast` for a large table: the line checks run on the UTF-8 bytes.

    ``text[:end]`` is ``text`` without its trailing blank lines. Every check looks at ASCII
    bytes only, and UTF-8 never uses an ASCII byte inside another character, so byte
    neighbours are character neighbours.
    """
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: only the csv module takes them
        return None
    size = len(raw) - len(text[end:].encode("utf-8"))
    data = np.frombuffer(raw, dtype=np.uint8, count=size)
    newline, comma = data == 10, data == 44
    blank = (data == 32) | (data == 9)
    newlines = np.flatnonzero(newline)
    commas = np.searchsorted(np.flatnonzero(comma), np.append(newlines, len(data)))
    if (np.diff(commas) != commas[0]).any():
        return None
    starts = np.concatenate(([0], newlines + 1))
    filler = blank | comma | newline | (data == 13)
    if np.logical_and.reduceat(filler, starts).any():
        return None  # a blank row (only blanks, commas and a carriage return)
    header = [h.strip() for h in text[:text.index("\n")].split(",")]
    if not all(header):
        return None
    ends_cell = comma | newline  # a blank before a separator or after one: cells need strip()
    padded = bool((blank[:-1] & (ends_cell[1:] | (data[1:] == 13))).any()
                  or (ends_cell[:-1] & blank[1:]).any()) \
        or any(p in text[end - 1:] for p in _PADS) or text[:1] in (" ", "\t")
    return _read_body(raw[newlines[0] + 1:size], header, len(newlines), padded, numeric)


def _read_body(body: bytes, header: list[str], count: int, padded: bool,
               numeric: Collection[str]) -> _Records | None:
    """Read the data lines ``body`` (UTF-8, no quotes, equal comma counts) with the C parser.

    Columns named in ``numeric`` are parsed as floats in C when every cell is empty or a
    plain finite number the parser and :func:`pandas.to_numeric` read alike (see
    :func:`_parse_numbers`); otherwise every column comes back as text.
    """
    width = len(header)
    numbers = [i for i, name in enumerate(header) if name in numeric]
    frame = _parse_numbers(body, width, numbers) if numbers else None
    if frame is None:
        frame = _read_csv(body, width, dtype=object, na_filter=False)
    if len(frame) != count:
        return None
    raw = [frame[i] for i in range(width)]
    columns = [raw[i].str.strip() if padded and raw[i].dtype == object else raw[i]
               for i in range(width)]
    return _Records(header, 1, columns, data_rows(count), False)


def _read_csv(body: bytes, width: int, **options: object) -> pd.DataFrame:
    """The C parser on headerless data lines, one column per header cell."""
    return pd.read_csv(io.BytesIO(body + b"\n"), header=None, names=list(range(width)),
                       skip_blank_lines=False, engine="c", **options)  # type: ignore[arg-type]


_EXACT = 2.0 ** 53
"""Below this size every integer is a float, so reading an integer as one is exact."""


def _parse_numbers(body: bytes, width: int, numbers: list[int]) -> pd.DataFrame | None:
    """Read ``body`` with the columns ``numbers`` as floats, or None if any cell there is not
    a plain number.

    Both the C parser and :func:`pandas.to_numeric` use pandas' ``precise_xstrtod``, so they
    agree on plain numbers. They differ on ``-0`` (``to_numeric`` reads a column of integers
    as integers, so that is 0), on numbers written with a ``+`` sign (``to_numeric`` may be
    one unit in the last place off) and may on integers beyond 2**53 (read exactly, then
    converted), and error messages need the cell text; such tables, text and non-finite
    values go the slow way.
    """
    if b"+" in body:
        return None
    dtype = {i: np.float64 if i in numbers else object for i in range(width)}
    try:
        frame = _read_csv(body, width, dtype=dtype, keep_default_na=False,
                          na_values={i: [""] for i in numbers})
    except (ValueError, OverflowError):
        return None
    for i in numbers:
        values = frame[i].to_numpy()
        plain = np.isnan(values) | ((np.abs(values) < _EXACT)
                                    & ((values != 0) | ~np.signbit(values)))
        if not plain.all():
            return None
    return frame


_SMALL_TABLE = 2000
"""Tables of at most this many lines are split in Python (see :func:`_split_fast`)."""


def _split_exact(text: str, file: str, issues: list[Issue]) -> _Records | None:
    """Split any CSV text with Python's csv module, reporting rows that do not fit.

    Blank rows (empty lines, rows of empty cells as Excel leaves them) are skipped but keep
    their row numbers counted. Rows with too few or too many cells are reported and left out;
    the caller treats the table as unusable then. Returns None if nothing is usable.
    """
    records: list[list[str]] = []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        records.extend(reader)  # C speed; the per-row checks below are vectorised
    except csv.Error as err:
        issues.append(Issue(file, f"cannot parse as CSV ({err}); a value in double quotes "
                                  "must end with a double quote followed by a comma or the "
                                  "end of the line", len(records) + 1))
        return None
    head = next((i for i, rec in enumerate(records) if any(c.strip() for c in rec)), None)
    if head is None:
        issues.append(Issue(file, "file has no header row (only empty cells)", 1))
        return None
    header = [h.strip() for h in records[head]]
    while header and not header[-1]:
        header.pop()
    width = len(header)
    body = records[head + 1:]
    lengths = np.fromiter(map(len, body), dtype=np.int64, count=len(body))
    keep = lengths >= width
    ragged: list[tuple[int, int]] = []  # (position, cells up to the last non-empty one)
    for pos in np.flatnonzero(lengths != width):  # rare: blank lines, ragged rows
        rec = body[pos]
        filled = [k for k, cell in enumerate(rec, 1) if cell.strip()]
        if not filled:
            keep[pos] = False  # a blank line
        elif len(rec) < width or filled[-1] > width:
            ragged.append((int(pos), len(rec) if len(rec) < width else filled[-1]))
            keep[pos] = False
        else:
            body[pos] = rec[:width]  # only empty cells beyond the header
    positions = np.flatnonzero(keep)
    good = [body[p] for p in positions] if len(positions) < len(body) else body
    columns = [pd.Series(cells, dtype=object) for cells in zip(*good, strict=True)]
    if not columns:
        columns = [pd.Series([], dtype=object) for _ in header]
    columns = [cells.str.strip() for cells in columns]
    filled_any = np.zeros(len(good), dtype=bool)
    for cells in columns:  # rows of empty cells (as Excel leaves them) count as blank
        filled_any |= (cells != "").to_numpy()
    columns = [cells[filled_any].reset_index(drop=True) for cells in columns]
    rows = positions[filled_any] + head + 2
    for pos, cells in ragged[:MAX_ISSUES_PER_COLUMN]:
        fix = ("check for a missing comma" if cells < width else
               "put a value that contains a comma in double quotes")
        issues.append(Issue(file, f"{cells} cells but the header has {width} columns ({fix})",
                            pos + head + 2))
    if len(ragged) > MAX_ISSUES_PER_COLUMN:
        issues.append(Issue(file, f"... and {len(ragged) - MAX_ISSUES_PER_COLUMN} more rows "
                                  "with the wrong number of cells"))
    return _Records(header, head + 1, columns, rows.astype(np.int64), bool(ragged))


def _convert(col: Column, cells: pd.Series, rows: np.ndarray, file: str,
             issues: list[Issue]) -> pd.Series:
    """Convert one column of stripped strings to its declared type, reporting bad cells.

    A number column may come already parsed (floats, NaN for an empty cell; see
    :func:`_parse_numbers`).
    """
    if col.dtype in ("float", "int"):
        if cells.dtype == object:
            arr, empty = _to_numbers(col, cells, rows, file, issues)
        else:
            arr = cells.to_numpy(dtype=float, copy=True)
            empty = np.isnan(arr)
        values = _check_numbers(col, arr, empty, cells.index, rows, file, issues)
    elif col.dtype == "bool":
        empty = np.asarray(cells.to_numpy() == "", dtype=bool)
        values = _to_bools(col, cells, empty, rows, file, issues)
    else:
        empty = np.asarray(cells.to_numpy() == "", dtype=bool)
        values = _to_strings(col, cells, empty, rows, file, issues)
    if not col.nullable and col.default is None and empty.any():
        _report(issues, file, col.name, empty, rows,
                lambda p: f"empty cell, a value is required ({col.rule()})")
    return values


def _to_strings(col: Column, text: pd.Series, empty: np.ndarray, rows: np.ndarray, file: str,
                issues: list[Issue]) -> pd.Series:
    """A text column: check allowed values, fill empty cells with the default."""
    values = text.astype(object)
    if col.allowed:
        bad = ~empty & ~text.isin(col.allowed).to_numpy()
        _report(issues, file, col.name, bad, rows,
                lambda p: f"'{text.iloc[p]}' is not allowed "
                          f"({_hint(text.iloc[p], col.allowed, quote=True)}"
                          f"{col.rule()})")
    fill = None if col.nullable else col.default
    if empty.any():  # most columns have none: skip the fill (pandas is slow)
        values = values.where(~empty, fill)
    return values


def _to_bools(col: Column, text: pd.Series, empty: np.ndarray, rows: np.ndarray, file: str,
              issues: list[Issue]) -> pd.Series:
    """A true/false column: check the words, fill empty cells with the default."""
    lowered = text.str.lower()
    is_true = lowered.isin(_TRUE).to_numpy()
    is_false = lowered.isin(_FALSE).to_numpy()
    bad = ~empty & ~is_true & ~is_false
    _report(issues, file, col.name, bad, rows,
            lambda p: f"'{text.iloc[p]}' is not a boolean (true or false)")
    values = pd.Series(np.where(is_true, True, False), index=text.index, dtype=bool)
    if col.default is not None and empty.any():
        values = values.where(~empty, bool(col.default))
    return values


def _to_numbers(col: Column, text: pd.Series, rows: np.ndarray, file: str,
                issues: list[Issue]) -> tuple[np.ndarray, np.ndarray]:
    """Parse a number column's texts; report cells that are not numbers.

    Returns:
        The values (NaN where empty or not a number) and the empty-cell mask.
    """
    empty = np.asarray(text.to_numpy() == "", dtype=bool)
    any_empty = bool(empty.any())
    arr = pd.to_numeric(text.where(~empty, None) if any_empty else text,
                        errors="coerce").to_numpy(dtype=float, copy=True)
    not_number = ~empty & np.isnan(arr)
    if not not_number.any():
        return arr, empty
    literal_nan = not_number & text.str.lower().isin(_MISSING).to_numpy()
    sheet_error = not_number & ~literal_nan & text.str.startswith("#").to_numpy()
    _report(issues, file, col.name, literal_nan, rows,
            lambda p: f"missing value '{text.iloc[p]}' "
                      f"({col.rule()}; leave optional cells empty instead)")
    _report(issues, file, col.name, sheet_error, rows,
            lambda p: f"spreadsheet error '{text.iloc[p]}' instead of a number "
                      f"({col.rule()}; fix the formula or type the value)")
    _report(issues, file, col.name, not_number & ~literal_nan & ~sheet_error, rows,
            lambda p: f"'{text.iloc[p]}' is not a number ({col.rule()})")
    return arr, empty


def _check_numbers(col: Column, arr: np.ndarray, empty: np.ndarray, index: pd.Index,
                   rows: np.ndarray, file: str, issues: list[Issue]) -> pd.Series:
    """Check parsed numbers against the column's rules; fill empty cells with the default."""
    infinite = np.isinf(arr)
    _report(issues, file, col.name, infinite, rows,
            lambda p: f"infinite value is not allowed ({col.rule()})")
    finite = np.isfinite(arr)
    huge = finite & (np.abs(np.where(finite, arr, 0.0)) >= LARGEST_NUMBER)
    _report(issues, file, col.name, huge, rows,
            lambda p: f"{arr[p]:g} is too large: the solver cannot use values of "
                      f"{LARGEST_NUMBER:g} or more (rescale the column: use larger units)")
    finite &= ~huge
    if col.minimum is not None:
        low = finite & (arr < col.minimum)
        _report(issues, file, col.name, low, rows,
                lambda p: f"{arr[p]:g} is below the minimum ({col.rule()})")
    if col.maximum is not None:
        high = finite & (arr > col.maximum)
        _report(issues, file, col.name, high, rows,
                lambda p: f"{arr[p]:g} is above the maximum ({col.rule()})")
    if col.dtype == "int":
        safe = np.where(finite, arr, 0.0)
        frac = finite & (np.abs(safe - np.round(safe)) > 1e-9)
        _report(issues, file, col.name, frac, rows,
                lambda p: f"{arr[p]:g} is not a whole number ({col.rule()})")
    if not col.nullable and col.default is not None and empty.any():
        arr = np.where(empty, float(col.default), arr)  # type: ignore[arg-type]
    return pd.Series(arr, index=index, dtype=float)


def _hint(word: str, choices: Iterable[str], quote: bool = False) -> str:
    """``"did you mean X? "`` (with a trailing space) or ``""``; values are quoted."""
    text = did_you_mean(word, choices, quote=quote)
    return text + " " if text else ""


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
