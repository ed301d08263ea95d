"""Convert the cell texts of one table column to its declared type, reporting bad cells.

Each column of :mod:`dss.data.schema` has a type (text, true/false, number, whole number)
and rules (allowed values, minimum, maximum, required); every broken rule is one located
:class:`~dss.errors.Issue`, capped per column and kind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from dss.data.schema import Column
from dss.errors import Issue, did_you_mean

LARGEST_NUMBER = 1e15
"""HiGHS treats values of this size or more as infinite, so no input number may reach it."""
MAX_ISSUES_PER_COLUMN = 10
"""Cap on reported problems per column and kind, so one bad column cannot flood the report."""

_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}
_MISSING = {"nan", "na", "n/a", "null", "none", "-nan"}
"""Cell texts meaning "no value" in some tool; in a number column they are reported as such."""


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


def _convert(col: Column, cells: pd.Series, rows: np.ndarray, file: str,
             issues: list[Issue]) -> pd.Series:
    """Convert one column of stripped strings to its declared type, reporting bad cells.

    A number column may come already parsed (floats, NaN for an empty cell; see
    :func:`dss.data.csv_split._parse_numbers`).
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
