"""Shared boundaries between planning units (Marxan's ``bound.dat`` convention: a row with
``id1 == id2`` is a unit's external boundary), as unit positions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True, eq=False)
class Boundary:
    """Shared boundaries between planning units (unit positions, not ids).

    Attributes:
        i: First unit of each internal pair (``i < j``, each pair once).
        j: Second unit of each pair.
        length: Shared boundary length (or any symmetric pairwise weight) of each pair.
        external: Boundary of each unit with the outside of the study area (``id1 == id2``
            rows; zero where absent).
    """

    i: np.ndarray
    j: np.ndarray
    length: np.ndarray
    external: np.ndarray

    @classmethod
    def from_pairs(cls, n: int, a: np.ndarray, b: np.ndarray, length: np.ndarray
                   ) -> Boundary:
        """Build from pairs of unit positions; ``a == b`` is external; repeats are summed
        (as Marxan adds every line of ``bound.dat``)."""
        a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
        length = np.asarray(length, dtype=float)
        external = np.zeros(n)
        self_loop = a == b
        np.add.at(external, a[self_loop], length[self_loop])
        lo = np.minimum(a, b)[~self_loop]
        hi = np.maximum(a, b)[~self_loop]
        frame = pd.DataFrame({"i": lo, "j": hi, "length": length[~self_loop]})
        frame = frame.groupby(["i", "j"], as_index=False, sort=True)["length"].sum()
        return cls(frame["i"].to_numpy(np.int64), frame["j"].to_numpy(np.int64),
                   frame["length"].to_numpy(float), external)

    @property
    def n_pairs(self) -> int:
        """Number of internal pairs."""
        return len(self.i)
