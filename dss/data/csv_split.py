"""Split the bytes of one CSV file into cells: decode, header, cell columns and row numbers.

The common shapes take vectorised fast paths (:func:`_split_fast`); anything else goes
through Python's csv module (:func:`_split_exact`), which reports rows that do not fit.
Row numbers are the line numbers a spreadsheet shows: the header is row 1.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection
from dataclasses import dataclass
from itertools import repeat

import numpy as np
import pandas as pd

from dss.data.table_columns import MAX_ISSUES_PER_COLUMN
from dss.errors import Issue

_FIRST_DATA_ROW = 2


def data_rows(count: int) -> np.ndarray:
    """Spreadsheet row numbers of ``count`` data rows with no blank rows between them."""
    return np.arange(count, dtype=np.int64) + _FIRST_DATA_ROW


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
