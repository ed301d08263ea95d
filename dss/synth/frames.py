"""Small helpers of :mod:`dss.synth`: ids, labels, random picks and one frame per table in
the schema's column order."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dss.data.schema import Table


def _ids(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded ids such as ``S000123`` (vectorised)."""
    if len(numbers) == 0:
        return np.zeros(0, dtype=object)
    digits = np.char.zfill(np.asarray(numbers, dtype=np.int64).astype(str), width)
    return np.char.add(prefix, digits).astype(object)


def _labels(prefix: str, numbers: np.ndarray) -> np.ndarray:
    """Display names such as ``Reservoir 3`` (vectorised)."""
    if len(numbers) == 0:
        return np.zeros(0, dtype=object)
    return np.char.add(prefix, np.asarray(numbers, dtype=np.int64).astype(str)).astype(object)


def _pick(rng: np.random.Generator, candidates: np.ndarray, count: int) -> np.ndarray:
    """``count`` distinct candidates (sorted), or none if there are none."""
    count = min(count, len(candidates))
    if count <= 0:
        return np.zeros(0, dtype=np.int64)
    return np.sort(rng.choice(candidates, count, replace=False))


def _rate_count(n: int, rate: float) -> int:
    """About ``rate * n`` items, at least one when there is more than one subunit."""
    return max(1, round(rate * n)) if n > 1 else 0


def _thousandths(weights: np.ndarray) -> np.ndarray:
    """Rows of positive weights as integer thousandths that sum to exactly 1000.

    Rounds the cumulative shares, so every share is within 0.001 of its exact value and none
    is negative.
    """
    cum = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
    edges = np.rint(cum * 1000).astype(np.int64)
    edges[:, -1] = 1000
    return np.diff(edges, axis=1, prepend=0)


def _frame(table: Table, columns: dict[str, Any]) -> pd.DataFrame:
    """A frame with exactly the declared columns of ``table``, in order and in declared types."""
    missing = [c.name for c in table.columns if c.name not in columns]
    extra = [name for name in columns if name not in table.names]
    if missing or extra:  # a bug in this module, not a user error
        raise AssertionError(f"{table.name}: missing {missing}, unexpected {extra}")
    df = pd.DataFrame({c.name: columns[c.name] for c in table.columns})
    for col in table.columns:
        if col.dtype == "float":
            df[col.name] = df[col.name].astype(np.float64)
        elif col.dtype == "int":
            df[col.name] = df[col.name].astype(np.int64)
        elif col.dtype == "bool":
            df[col.name] = df[col.name].astype(bool)
        else:
            df[col.name] = df[col.name].astype(object)
    return df
