"""Linear, mass-conserving routing of sediment, TN and TP down the river tree.

Mathematics. For subunit :math:`i` with local load :math:`L_i` (delivered to its own reach) and
in-reach retention :math:`r_i \\in [0, 1]`, the load leaving its outlet is

.. math::  O_i = (1 - r_i)\\,\\bigl(L_i + \\sum_{c \\in \\mathrm{children}(i)} O_c\\bigr),

and the mass retained in the reach is :math:`R_i = r_i (L_i + \\sum_c O_c)`. Summed over a
basin, :math:`\\sum_i L_i = \\sum_i R_i + \\sum_{o \\in \\mathrm{outlets}} O_o` exactly.

Because the recursion is linear, the load at the outlet of subunit :math:`t` is
:math:`O_t = \\sum_{s \\in U(t)} T_{st} L_s` with the transfer coefficient
:math:`T_{st} = \\prod_{k \\in \\mathrm{path}(s \\to t)} (1 - r_k)` (path includes both ends).
The optimizer reuses :meth:`Routing.transfer` to value a reduction made in ``s`` at a control
point at ``t``: upstream effort is worth only what reaches the point.

All operations are vectorised over tree levels (no Python loop over subunits), so a
100,000-subunit basin routes in milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

_FEW = 32
"""Up to this many ids, :meth:`Routing.index` looks them up in a dict."""


@dataclass(frozen=True)
class RoutingResult:
    """Per-subunit routing of one pollutant (arrays aligned with :attr:`Routing.ids`)."""

    local: np.ndarray
    inflow: np.ndarray
    retained: np.ndarray
    outflow: np.ndarray


class Routing:
    """Index structure of a drainage tree for fast routing.

    Args:
        ids: Subunit ids, in table order.
        downstream: Downstream id of each subunit (None or "" at outlets); must form a valid
            tree (check with :func:`dss.network.graph.check_network` first).
    """

    def __init__(self, ids: pd.Series | list[str], downstream: pd.Series | list) -> None:
        ids_arr = np.asarray(list(ids), dtype=object)
        self.ids = ids_arr
        self.n = len(ids_arr)
        position = pd.Index(ids_arr)
        down = pd.Series(list(downstream), dtype=object).replace("", None)
        down_idx = position.get_indexer(down.where(down.notna(), "\0"))
        self.down = down_idx.astype(np.int64)  # -1 at outlets
        self.depth = self._depths()
        self.levels = self._levels()
        has_down = self.down >= 0
        parents = self.down[has_down]
        kids = np.flatnonzero(has_down)
        sort = np.argsort(parents, kind="stable")
        self._child_idx = kids[sort]
        self._child_ptr = np.searchsorted(parents[sort], np.arange(self.n + 1))
        self._position = position
        self._positions: dict[object, int] | None = None

    def _levels(self) -> list[np.ndarray]:
        """Positions of the subunits at each depth, deepest first (table order within one).

        Every depth from 0 to the deepest occurs (a subunit's downstream neighbour is one
        level lower), so a stable sort by depth cuts into one run per level.
        """
        order = np.argsort(-self.depth, kind="stable")
        height = int(self.depth.max(initial=0))
        bounds = np.searchsorted(-self.depth[order], np.arange(-height + 1, 1))
        return np.split(order, bounds)

    def _depths(self) -> np.ndarray:
        """Number of links from each subunit down to its outlet, by pointer jumping.

        Invariant: ``dist[i]`` is the number of links from ``i`` to ``anc[i]`` (or to its
        outlet once ``anc[i] == -1``); each round doubles the jump, so the loop runs
        ``log2(height)`` times.
        """
        anc = self.down.copy()
        dist = (anc >= 0).astype(np.int64)
        while (anc >= 0).any():
            active = np.flatnonzero(anc >= 0)
            targets = anc[active]
            dist[active] += dist[targets]
            anc[active] = anc[targets]
        return dist

    def index(self, subunit_ids) -> np.ndarray:
        """Positions of the given subunit ids (raises KeyError on an unknown id)."""
        values = np.asarray(subunit_ids, dtype=object)
        if values.ndim == 1 and len(values) <= _FEW:  # a dict beats pandas' call overhead
            found = self._position_of()
            idx = np.fromiter((found.get(v, -1) for v in values), dtype=np.intp,
                              count=len(values))
        else:
            idx = self._position.get_indexer(values)
        if (idx < 0).any():
            missing = [s for s, i in zip(values, idx, strict=True) if i < 0]
            raise KeyError(f"unknown subunit ids: {missing[:5]}")
        return idx

    def _position_of(self) -> dict[object, int]:
        """Position of each subunit id, built on first use."""
        if self._positions is None:
            self._positions = dict(zip(self.ids.tolist(), range(self.n), strict=True))
        return self._positions

    def route(self, local: np.ndarray, retention: np.ndarray) -> RoutingResult:
        """Route one pollutant through the tree (see module docstring for the equations).

        ``local`` has shape ``(n,)``, or ``(n, k)`` for ``k`` load sets routed at once (e.g.
        Monte Carlo draws); ``retention`` has shape ``(n,)`` or the shape of ``local``.
        """
        local = np.asarray(local, dtype=float)
        passing = 1.0 - np.asarray(retention, dtype=float)
        if local.ndim > 1 and passing.ndim == 1:
            passing = passing[:, None]
        inflow = np.zeros(local.shape)
        outflow = np.zeros(local.shape)
        for level in self.levels:  # deepest level first; loop count = tree height
            outflow[level] = passing[level] * (local[level] + inflow[level])
            targets = self.down[level]
            has = targets >= 0
            np.add.at(inflow, targets[has], outflow[level][has])
        retained = (local + inflow) - outflow
        return RoutingResult(local, inflow, retained, outflow)

    def delivery_value(self, retention: np.ndarray, at_outlet: np.ndarray,
                       at_inflow: np.ndarray) -> np.ndarray:
        """Weighted sum of the transfer coefficients to every point downstream, per source.

        With a weight :math:`w^{out}_t` on the load leaving subunit :math:`t`'s outlet and
        :math:`w^{in}_t` on the load entering its reach,

        .. math:: V_s = \\sum_t w^{out}_t T_{st} + w^{in}_t T^{in}_{st}
                      = (1 - r_s)\\,(w^{out}_s + V_{d(s)}) + w^{in}_s

        (:math:`d(s)` the next subunit downstream, :math:`V = 0` past an outlet): one pass
        from the outlets up, :math:`O(n)` whatever the number of points, instead of one
        :meth:`transfer` per point.

        Args:
            retention: Retention per subunit, shape ``(n,)``.
            at_outlet: :math:`w^{out}` per subunit (0 where no point measures its outflow).
            at_inflow: :math:`w^{in}` per subunit (0 where no point measures its inflow).

        Returns:
            :math:`V_s` per subunit, shape ``(n,)``.
        """
        passing = 1.0 - np.asarray(retention, dtype=float)
        value = np.zeros(self.n)
        for level in reversed(self.levels):  # outlets first: V_d(s) is known before V_s
            down = self.down[level]
            below = np.where(down >= 0, value[np.maximum(down, 0)], 0.0)
            value[level] = passing[level] * (at_outlet[level] + below) + at_inflow[level]
        return value

    def _upstream_levels(self, target: int) -> list[np.ndarray]:
        """Breadth-first levels of the subtree draining to ``target`` (target first)."""
        frontier = np.array([target], dtype=np.int64)
        levels = [frontier]
        while True:
            starts = self._child_ptr[frontier]
            counts = self._child_ptr[frontier + 1] - starts
            total = int(counts.sum())
            if total == 0:
                return levels
            offsets = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(total)
            frontier = self._child_idx[offsets]
            levels.append(frontier)

    @staticmethod
    def load_at(result: RoutingResult, target: int, inflow: bool = False) -> float:
        """Load leaving ``target``'s outlet, or entering its reach when ``inflow``."""
        if inflow:
            return float(result.local[target] + result.inflow[target])
        return float(result.outflow[target])

    def upstream_of(self, target: int) -> np.ndarray:
        """Positions of ``target`` and every subunit upstream of it (breadth first)."""
        return np.concatenate(self._upstream_levels(target))

    def transfer(self, target: int, retention: np.ndarray, inflow: bool = False
                 ) -> tuple[np.ndarray, np.ndarray]:
        """Transfer coefficients :math:`T_{s,target}` for every source ``s`` upstream of it.

        Args:
            target: Position of the subunit at whose outlet the load is measured.
            retention: Retention per subunit, shape ``(n,)``; or ``(n, k)`` for ``k``
                pollutants at once (the upstream subtree is then walked only once).
            inflow: Measure the load entering ``target``'s reach instead of leaving its
                outlet: the target's own retention is then not applied
                (:math:`T^{in}_{st} = T_{st} / (1 - r_t)`, safe even when :math:`r_t = 1`).

        Returns:
            (sources, coefficients): positions of the sources (``target`` first) and the share
            of a unit of load entering each source's reach that leaves ``target``'s outlet,
            shape ``(len(sources),)`` or ``(len(sources), k)`` following ``retention``.
        """
        passing = 1.0 - np.asarray(retention, dtype=float)
        levels = self._upstream_levels(target)
        coef_by_pos = np.zeros((self.n, *passing.shape[1:]))
        coef_by_pos[target] = 1.0 if inflow else passing[target]
        for level in levels[1:]:  # parents are always set one level earlier
            coef_by_pos[level] = passing[level] * coef_by_pos[self.down[level]]
        sources = np.concatenate(levels)
        return sources, coef_by_pos[sources]
