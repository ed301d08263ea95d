"""Fast lookups of a table's ids (e.g. subunit ids) by position and by sort order.

Tables refer to each other by text ids. Looking ids up with ``reindex`` or grouping by them
hashes (and sorts) the strings every time; :class:`IdIndex` does it once per table and the
callers work with integer positions from then on.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd


class IdIndex:
    """Positions and sort ranks of the ids of one table, in table order.

    Args:
        ids: The ids (e.g. ``subunits["subunit_id"]``).
    """

    def __init__(self, ids: pd.Series | np.ndarray) -> None:
        self.ids = np.asarray(ids, dtype=object)
        self._index = pd.Index(self.ids, dtype=object)

    @cached_property
    def unique(self) -> bool:
        """Whether every id occurs once (positions and ranks need that)."""
        return bool(self._index.is_unique)

    def positions(self, values: pd.Series | np.ndarray) -> np.ndarray:
        """Position of each value among the ids, -1 where it is not one.

        Raises:
            ValueError: if the ids are not unique.
        """
        if not self.unique:
            raise ValueError("cannot look up positions: the ids are not unique")
        return self._index.get_indexer(np.asarray(values, dtype=object))

    @cached_property
    def rank(self) -> np.ndarray | None:
        """Rank of each id in sorted order (the order ``groupby`` and ``sort_values`` use),
        or None if the ids are not unique or not all text."""
        if not self.unique or pd.api.types.infer_dtype(self.ids, skipna=False) not in (
                "string", "empty"):
            return None
        rank = np.empty(len(self.ids), dtype=np.int64)
        rank[np.argsort(self.ids, kind="stable")] = np.arange(len(self.ids))
        return rank

    @cached_property
    def by_rank(self) -> np.ndarray | None:
        """Position of the id of each rank (the inverse of :attr:`rank`)."""
        rank = self.rank
        if rank is None:
            return None
        order = np.empty_like(rank)
        order[rank] = np.arange(len(rank))
        return order


def sum_by(index: IdIndex, keys: pd.Series, values: pd.DataFrame,
           at: np.ndarray | None = None) -> pd.DataFrame:
    """Sums of ``values`` per id, aligned with ``index`` (0 for an id without rows).

    The same numbers, bit for bit, as
    ``values.groupby(keys.to_numpy()).sum().reindex(index.ids).fillna(0.0)``: pandas groups
    by the ranks of the ids instead of the ids themselves, which gives the same groups in
    the same order (so the same summation), without hashing and sorting the strings again.
    Rows whose key is not an id (or missing) take that slow way.

    Args:
        index: The ids to sum for.
        keys: The id of each row of ``values``.
        values: Number columns.
        at: ``index.positions(keys)`` if already known.
    """
    if at is None and index.unique:
        at = index.positions(keys)
    if at is None or index.rank is None or index.by_rank is None or (at < 0).any():
        sums = values.groupby(keys.to_numpy()).sum().reindex(index.ids).fillna(0.0)
        return sums.reset_index(drop=True)
    sums = values.groupby(index.rank[at]).sum()
    out = np.zeros((len(index.ids), values.shape[1]))
    out[index.by_rank[sums.index.to_numpy()]] = sums.to_numpy(dtype=float)
    return pd.DataFrame(out, columns=values.columns)
