"""Drainage links of an imported layer: downstream ids checked and turned into a tree.

Sources mark an outlet differently (HydroSHEDS ``NEXT_DOWN = 0``, HYPE a ``MAINDOWN`` outside
the model domain, an empty cell); :func:`link_downstream` maps each convention to an empty
``downstream_id`` and reports every other problem (an id that does not exist, a feature that
drains into itself, a cycle) located by layer, feature and column.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dss.errors import Issue
from dss.gis.layers import MAX_FEATURE_ISSUES
from dss.network.graph import _cycles

OUTLET_VALUES: frozenset[str] = frozenset({"", "0", "-1", "-9999"})
"""Downstream values that mean "this is an outlet" in the supported sources."""


@dataclass
class Links:
    """Checked drainage links.

    Attributes:
        downstream: Downstream id of each feature (None at an outlet).
        outside: Feature positions whose downstream id lies outside the layer (made outlets).
        issues: Problems found (empty when the links form a valid tree).
    """

    downstream: np.ndarray
    outside: list[int] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)


def link_downstream(ids: np.ndarray, down: np.ndarray, where, column: str,
                    outside_is_outlet: bool) -> Links:
    """Check and normalise downstream ids.

    Args:
        ids: Feature ids as text.
        down: Downstream ids as text (``""`` when missing).
        where: ``where(position) -> str``, the location of a feature for messages.
        column: Name of the downstream column in the source, for messages.
        outside_is_outlet: Treat an id that is not in the layer as an outlet (HYPE's
            convention, or an extract cut out of a larger basin) instead of an error.
    """
    down = np.asarray(down, dtype=object).copy()
    index = pd.Index(ids)
    outlet = np.isin(down, list(OUTLET_VALUES))
    known = index.get_indexer(down) >= 0 if index.is_unique else np.isin(down, ids)
    outside = ~outlet & ~known
    result = Links(np.where(outlet | outside, None, down))
    if outside_is_outlet:
        result.outside = [int(p) for p in np.flatnonzero(outside)]
    else:
        for pos in np.flatnonzero(outside)[:MAX_FEATURE_ISSUES]:
            result.issues.append(Issue(where(int(pos)), f"downstream id {down[pos]} does not "
                                       "exist in the layer (use an id of another feature, 0 at "
                                       "an outlet, or pass --outside-outlets if the layer is "
                                       "cut out of a larger basin)", None, column))
        if outside.sum() > MAX_FEATURE_ISSUES:
            result.issues.append(Issue(where(None), f"... and {int(outside.sum())} features "
                                       "in all drain to ids that do not exist", None, column))
    into_self = ~outlet & (down == ids)
    for pos in np.flatnonzero(into_self)[:MAX_FEATURE_ISSUES]:
        result.issues.append(Issue(where(int(pos)), "the feature drains into itself (use 0 "
                                   "at an outlet)", None, column))
    if len(ids) and all(d is not None for d in result.downstream):
        result.issues.append(Issue(where(None), "no outlet: every feature drains into "
                                   "another one", None, column))
    position = {sid: i for i, sid in enumerate(ids)}
    for cycle in _cycles(np.asarray(ids, dtype=object), result.downstream)[:MAX_FEATURE_ISSUES]:
        path = " -> ".join([*cycle, cycle[0]])
        result.issues.append(Issue(where(position[cycle[0]]), f"the drainage links form a "
                                   f"cycle: {path} (fix the downstream id of one of them)",
                                   None, column))
    return result


def accumulate(ids: np.ndarray, downstream: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Upstream sums by a topological pass (leaves first)."""
    pos = {sid: i for i, sid in enumerate(ids)}
    succ = np.array([pos[d] if d is not None else -1 for d in downstream], dtype=np.int64)
    indeg = np.bincount(succ[succ >= 0], minlength=len(ids))
    total = np.asarray(values, dtype=float).copy()
    stack = list(np.flatnonzero(indeg == 0))
    while stack:
        i = stack.pop()
        j = succ[i]
        if j >= 0:
            total[j] += total[i]
            indeg[j] -= 1
            if indeg[j] == 0:
                stack.append(j)
    return total
