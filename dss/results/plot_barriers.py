"""Barriers on the network map: where each station sits and what the plan does there.

Drawn from a run's ``barriers.csv`` (written by the ``fish_passage`` component): one marker
per barrier on the link leaving its subunit, shaped and coloured by the option chosen.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

OPTION_STYLES: dict[str, tuple[str, str, str]] = {
    "": ("|", "#444444", "barrier, kept as it is"),
    "remove": ("X", "#1b9e77", "barrier removed"),
    "fishway": ("^", "#d95f02", "fishway or bypass"),
    "eflow": ("s", "#1f78b4", "e-flow retrofit"),
    "other": ("D", "#7570b3", "other barrier option"),
}


def draw_barriers(ax: Any, barriers: pd.DataFrame | None, pos: dict[str, tuple[float, float]],
                  down: dict[str, str | None], small: bool) -> list[Any]:
    """Mark each barrier of ``barriers.csv`` (one row per barrier is used); return the
    legend handles of the option kinds drawn."""
    from matplotlib.lines import Line2D

    if barriers is None or not len(barriers) or "barrier_id" not in barriers:
        return []
    table = barriers.drop_duplicates("barrier_id")
    kinds = table["option_kind"].fillna("").astype(str) if "option_kind" in table else \
        pd.Series([""] * len(table), index=table.index)
    placed: dict[str, int] = {}
    seen: dict[str, Any] = {}
    for sid, kind in zip(table["subunit_id"].astype(str), kinds, strict=True):
        if sid not in pos:
            continue
        x0, y0 = pos[sid]
        d = down.get(sid)
        x1, y1 = pos[d] if d in pos else (x0, y0 - 0.5)
        k = placed.get(sid, 0)
        placed[sid] = k + 1
        share = 0.22 + 0.1 * k  # stations of one subunit one after another down the link
        marker, colour, label = OPTION_STYLES.get(kind, OPTION_STYLES["other"])
        ax.scatter([x0 + share * (x1 - x0)], [y0 + share * (y1 - y0)], marker=marker,
                   s=60 if not small else 20, c=colour, linewidths=1.5, zorder=5)
        if kind not in seen:
            seen[kind] = Line2D([], [], marker=marker, color=colour, linestyle="none",
                                markersize=8, label=label)
    return list(seen.values())
