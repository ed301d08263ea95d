"""Tables as the report shows them: headers, formatted cells, which columns are numbers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from dss.results.report import fmt

MAX_ROWS = 60
"""Rows shown per table; the rest are counted and pointed to in the result files."""


@dataclass
class Table:
    """One table of the report.

    Attributes:
        headers: Column headings.
        numeric: Whether each column holds numbers (right-aligned).
        rows: Formatted cells.
        more: Rows left out (shown as a note pointing to ``source``).
        source: The result file holding every row.
        total: An optional formatted last row (totals).
    """

    headers: list[str]
    numeric: list[bool]
    rows: list[list[str]] = field(default_factory=list)
    more: int = 0
    source: str = ""
    total: list[str] | None = None


def cell(value: Any, numeric: bool) -> str:
    """A formatted cell: numbers for people, missing values as a dash."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–" if numeric else ""
    return fmt(value) if numeric else str(value)


def make_table(headers: Sequence[str], numeric: Sequence[bool], rows: Sequence[Sequence[Any]],
               source: str = "", limit: int = MAX_ROWS,
               total: Sequence[Any] | None = None) -> Table:
    """A :class:`Table` of the first ``limit`` rows (the rest counted in ``more``)."""
    shown = [[cell(v, n) for v, n in zip(r, numeric, strict=True)] for r in rows[:limit]]
    tot = None if total is None else [cell(v, n) for v, n in zip(total, numeric, strict=True)]
    return Table(list(headers), list(numeric), shown, max(0, len(rows) - limit), source, tot)


def delta_text(value: Any, base: Any) -> str:
    """Signed difference for the comparison (``+1,000``, ``−20``, ``0``)."""
    try:
        v, b = float(value), float(base)
    except (TypeError, ValueError):
        return ""
    if pd.isna(v) or pd.isna(b):
        return ""
    d = v - b
    if abs(d) <= 1e-9 * max(1.0, abs(b)):
        return "0"
    return ("+" if d > 0 else "−") + fmt(abs(d))
