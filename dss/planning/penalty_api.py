"""The penalty methods of :class:`~dss.planning.problem.PlanningProblem` (prioritizr's
``add_*_penalties``): boundary, symmetric and asymmetric connectivity, linear. Each returns a
new problem.

This module must not import :mod:`dss.planning.problem` at import time (that module
imports this one).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from dss.planning.data_tables import fail
from dss.planning.parts import Part
from dss.planning.penalties import (
    AsymConnectivityPenalty,
    BoundaryPenalty,
    ConnectivityPenalty,
    LinearPenalty,
)

if TYPE_CHECKING:  # pragma: no cover
    from dss.planning.data import PlanningData
    from dss.planning.problem import PlanningProblem

_fail = fail


class PenaltyMethods:
    """Mixin of :class:`~dss.planning.problem.PlanningProblem` (its ``data`` and
    ``penalties`` fields)."""

    data: PlanningData
    penalties: tuple[Part, ...]

    # -- penalties -------------------------------------------------------------------------

    def _add_penalty(self, part: Part) -> PlanningProblem:
        return replace(self, penalties=(*self.penalties, part))

    def add_boundary_penalties(self, penalty: float, edge_factor: float = 1.0,
                               zones: str | Sequence[str] | None = None,
                               name: str = "boundary") -> PlanningProblem:
        """Penalise the boundary length of the zone group (Marxan's BLM)."""
        if self.data.boundary is None:
            raise _fail("boundary penalties need a boundary table (id1, id2, boundary)",
                        "boundary")
        _finite(penalty, "penalty")  # negative: spreading instead of clumping
        _nonneg(edge_factor, "edge_factor")
        return self._add_penalty(BoundaryPenalty(name, float(penalty), float(edge_factor),
                                                 self.data.zone_positions(zones)))

    def _pairs(self, data: pd.DataFrame | None, column: str) -> tuple[np.ndarray, ...]:
        if data is None:
            bnd = self.data.boundary
            if bnd is None:
                raise _fail("give the pairwise data (id1, id2, value), or a boundary table",
                            column)
            return bnd.i, bnd.j, bnd.length
        cols = [c for c in ("id1", "id2") if c not in data.columns]
        value = "value" if "value" in data.columns else "boundary"
        if cols or value not in data.columns:
            raise _fail("pairwise data needs columns id1, id2, value", column)
        a = self.data.unit_positions(data["id1"], column)
        b = self.data.unit_positions(data["id2"], column)
        v = pd.to_numeric(data[value], errors="coerce").to_numpy(float)
        if not np.isfinite(v).all():
            raise _fail("pairwise values must be finite numbers", column)
        keep = a != b
        return a[keep], b[keep], v[keep]

    def add_connectivity_penalties(self, penalty: float, data: pd.DataFrame | None = None,
                                   zones: str | Sequence[str] | None = None,
                                   name: str = "connectivity") -> PlanningProblem:
        """Reward selecting connected pairs together (symmetric; Önal & Briers 2002).
        ``data``: ``id1, id2, value`` (each unordered pair once; default: the boundary
        lengths)."""
        a, b, v = self._pairs(data, "data")
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        frame = pd.DataFrame({"i": lo, "j": hi, "v": v}).groupby(["i", "j"], as_index=False)
        agg = frame["v"].sum()
        _finite(penalty, "penalty")
        return self._add_penalty(ConnectivityPenalty(
            name, float(penalty), agg["i"].to_numpy(np.int64), agg["j"].to_numpy(np.int64),
            agg["v"].to_numpy(float), self.data.zone_positions(zones)))

    def add_asym_connectivity_penalties(self, penalty: float, data: pd.DataFrame,
                                        zones: str | Sequence[str] | None = None,
                                        name: str = "asym_connectivity") -> PlanningProblem:
        """Penalise a unit in the group whose connected partner is not (directional;
        Beger et al. 2010). ``data``: ``id1, id2, value``: ``id1`` depends on ``id2``."""
        a, b, v = self._pairs(data, "data")
        _finite(penalty, "penalty")
        if (v < 0).any():
            raise _fail("asymmetric connectivity values must be >= 0", "data")
        return self._add_penalty(AsymConnectivityPenalty(
            name, float(penalty), a, b, v, self.data.zone_positions(zones)))

    def add_linear_penalties(self, penalty: float,
                             data: str | Sequence[float] | np.ndarray | pd.Series,
                             zones: str | Sequence[str] | None = None,
                             name: str = "linear") -> PlanningProblem:
        """Penalise :math:`p \\sum_i d_i y_i^G` (e.g. human pressure)."""
        _finite(penalty, "penalty")
        return self._add_penalty(LinearPenalty(name, float(penalty), self.data.unit_values(data),
                                               self.data.zone_positions(zones)))


def _nonneg(value: float, column: str) -> None:
    if not np.isfinite(float(value)) or float(value) < 0:
        raise _fail(f"{column} must be a finite number >= 0 (got {value!r})", column)


def _finite(value: float, column: str) -> None:
    if not np.isfinite(float(value)):
        raise _fail(f"{column} must be a finite number (got {value!r})", column)

