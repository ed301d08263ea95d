"""The schematic river-network map of a run: subunits laid out as the drainage tree
(:mod:`dss.results.river_layout`), coloured by an indicator, with control points and
barriers (:mod:`dss.results.plots` writes it)."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from dss.results.plot_barriers import draw_barriers
from dss.results.plot_style import (
    LABEL_LIMIT,
    POINT_STYLES,
    PlotContext,
    axis_scale,
    color_values,
    need_matplotlib,
    sequential_colormap,
    thousands_axis,
    wrap,
)
from dss.results.river_layout import tree_layout

LOGGER = logging.getLogger(__name__)


def network_figure(ctx: PlotContext, color_by: str = "spend") -> Any:
    """The schematic river network, subunits coloured by an indicator, control points marked.
    """
    need_matplotlib()
    from matplotlib import colors as mcolors
    from matplotlib.cm import ScalarMappable
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyArrowPatch

    subunits = ctx.study.subunits
    ids = subunits["subunit_id"].astype(str).tolist()
    down = [d if isinstance(d, str) and d else None for d in subunits["downstream_id"]]
    pos = tree_layout(ids, down)
    values, label, unit = color_values(ctx.run, color_by)
    vals = values.reindex(ids).to_numpy(float)
    divisor, shown_unit = axis_scale(vals[np.isfinite(vals)], unit)
    vals = vals / divisor
    n = len(ids)
    xs = np.array([pos[i][0] for i in ids])
    ys = np.array([pos[i][1] for i in ids])
    label_room = 2.4 if len(ctx.study.control_points) else 0.6  # columns left of the tree
    columns = xs.max() - xs.min() + 1 + label_room
    width = float(np.clip(2.0 + 1.0 * columns, 8, 18))
    height = float(np.clip(3.2 + 0.66 * (ys.max() + 1.5), 6, 16))
    fig = Figure(figsize=(width, height), layout="constrained")
    ax = fig.subplots()
    small = n > LABEL_LIMIT
    node_size = 520.0 if not small else float(np.clip(30000 / n, 4, 120))
    # flow links
    links = [(pos[u], pos[d]) for u, d in zip(ids, down, strict=True) if d in pos]
    if small:
        ax.add_collection(LineCollection(links, colors="#7fa7c9", linewidths=0.8, zorder=1))
    else:
        for (x0, y0), (x1, y1) in links:
            ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle="-|>",
                                         mutation_scale=13, color="#5b8db8", lw=2.0,
                                         shrinkA=13, shrinkB=13, zorder=1))
    # nodes
    finite = vals[np.isfinite(vals)]
    if color_by.endswith(":change"):  # diverging around 0: reductions blue, increases red
        limit = float(np.abs(finite).max()) if len(finite) and np.abs(finite).max() > 0 \
            else 1.0
        norm: Any = mcolors.Normalize(vmin=-limit, vmax=limit)
        cmap = mcolors.LinearSegmentedColormap.from_list(
            "dss_change", ["#2166ac", "#f7f7f7", "#b2182b"])
    else:
        low = float(finite.min()) if len(finite) else 0.0
        high = float(finite.max()) if len(finite) else 1.0
        norm = mcolors.Normalize(vmin=min(low, 0.0) if low >= 0 else low,
                                 vmax=high if high > low else low + 1.0)
        cmap = sequential_colormap()
    zero = np.isclose(vals, 0.0) & (finite.min() >= 0 if len(finite) else False)
    shaded = np.where(zero | ~np.isfinite(vals), np.nan, vals)
    face = [cmap(norm(v)) if np.isfinite(v) else (0.86, 0.86, 0.86, 1.0) for v in shaded]
    ax.scatter(xs, ys, s=node_size, c=face, edgecolors="#333333",
               linewidths=0.8 if not small else 0.2, zorder=3)
    if not small:
        for i, (x, y) in zip(ids, zip(xs, ys, strict=True), strict=True):
            r, g, b, _ = face[ids.index(i)]
            dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5
            ax.text(x, y, i, ha="center", va="center", fontsize=8 if len(i) <= 3 else 6.5,
                    fontweight="bold", color="white" if dark else "black", zorder=4)
    # control points, on the link leaving their subunit (the load is its outflow)
    handles = []
    points = ctx.study.control_points
    outlet_drop = 0.5
    seen_kinds: dict[str, Any] = {}
    for cp in points.itertuples(index=False):
        sid = str(cp.subunit_id)
        if sid not in pos:
            continue
        x0, y0 = pos[sid]
        d = down[ids.index(sid)]
        if d in pos:
            x1, y1 = pos[d]
            px, py = x0 + 0.5 * (x1 - x0), y0 + 0.5 * (y1 - y0)
        else:
            px, py = x0, y0 - outlet_drop
        kind = str(cp.kind)
        marker, colour = POINT_STYLES.get(kind, ("p", "black"))
        ax.scatter([px], [py], marker=marker, s=170 if not small else 120, c=colour,
                   edgecolors="white", linewidths=1.2, zorder=5)
        name = ctx.text(str(cp.point_id)).replace("_", " ")
        ax.annotate(name, (px, py), xytext=(-11, 0), textcoords="offset points", ha="right",
                    va="center", fontsize=9, color=colour, zorder=6,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                          "alpha": 0.85})
        if kind not in seen_kinds:
            seen_kinds[kind] = Line2D([], [], marker=marker, color=colour, linestyle="none",
                                      markersize=10, markeredgecolor="white",
                                      label=f"{kind} (control point)")
    handles += list(seen_kinds.values())
    handles += draw_barriers(ax, ctx.run.tables.get("barriers"), pos,
                             dict(zip(ids, down, strict=True)), small)
    if zero.any():
        handles.append(Line2D([], [], marker="o", color="#dbdbdb", markeredgecolor="#333333",
                              linestyle="none", markersize=10, label=f"no {label}"))
    handles.append(Line2D([], [], color="#5b8db8", lw=2, marker=">" if not small else None,
                          markersize=6, label="flow direction" if not small else
                          "river link (flow downwards)"))
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 3),
               fontsize=9.5, frameon=False)
    sm = ScalarMappable(norm=norm, cmap=cmap)
    bar = fig.colorbar(sm, ax=ax, shrink=0.55, location="right", pad=0.02, aspect=25)
    bar.set_label(f"{label[0].upper() + label[1:]} ({shown_unit})", fontsize=10)
    bar.ax.tick_params(labelsize=9)
    thousands_axis(bar.ax.yaxis)
    ax.set_xlim(xs.min() - 0.5 - label_room, xs.max() + 0.6)
    ax.set_ylim(ys.min() - outlet_drop - 0.5, ys.max() + 0.5)
    ax.set_axis_off()
    fig.suptitle(f"{ctx.heading}\nRiver network (schematic): {label} per subunit",
                 fontsize=13, x=0.01, ha="left")
    note = ("Headwaters at the top, the outlet at the bottom; arrows point downstream. "
            "Control points sit on the reach leaving the subunit whose outflow they measure.")
    ax.set_title(wrap(note, int(width * 11)), fontsize=9, color="#555555", loc="left")
    return fig
