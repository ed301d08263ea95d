"""Real maps of a run, for studies with geometry (``subunits.gpkg`` from ``dss import``).

:func:`map_figure` draws the subunits as a choropleth of spend or of any indicator of
``subunits.csv`` (the same ``--color-by`` values as the schematic), the rivers with their
width growing with Strahler order, control points and barriers, a scale bar and a legend
with units. It is drawn in a Lambert azimuthal equal-area projection centred on the study, so
that the scale bar holds everywhere on the map. Needs the ``gis`` and ``report`` extras;
:func:`has_geometry` says whether a run's study can be mapped at all.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from dss.gis import gis_available
from dss.gis.geopackage import read_layers
from dss.gis.layers import equal_area_crs
from dss.results.plot_style import (
    POINT_STYLES,
    axis_scale,
    color_values,
    sequential_colormap,
    wrap,
)

LOGGER = logging.getLogger(__name__)

GEOMETRY_FILE = "subunits.gpkg"


def geometry_file(study: Any) -> Path | None:
    """The study's ``subunits.gpkg`` when it exists and the GIS libraries are installed."""
    path = Path(study.folder) / GEOMETRY_FILE
    if not path.is_file():
        return None
    if not gis_available():
        LOGGER.warning("%s has geometry, but the gis extra is not installed: drawing the "
                       "schematic instead of a map (pip install \"dss[gis]\")", study.folder)
        return None
    return path


def nice_length(width_m: float) -> float:
    """A round scale-bar length (1, 2 or 5 x 10^k m) near a fifth of the map width."""
    target = max(width_m / 5.0, 1.0)
    power = 10.0 ** np.floor(np.log10(target))
    for step in (5.0, 2.0, 1.0):
        if step * power <= target:
            return step * power
    return power


def _scale_bar(ax: Any, bounds: np.ndarray) -> None:
    x0, y0, x1, y1 = bounds
    length = nice_length(x1 - x0)
    left, base = x0 + 0.04 * (x1 - x0), y0 + 0.04 * (y1 - y0)
    ax.plot([left, left + length], [base, base], color="black", linewidth=3,
            solid_capstyle="butt", zorder=6)
    text = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(left + length / 2, base + 0.015 * (y1 - y0), text, ha="center", va="bottom",
            fontsize=8, zorder=6)


def map_figure(ctx: Any, color_by: str, path: Path) -> Any:
    """The map of one run (see the module docstring)."""
    from matplotlib import colors as mcolors
    from matplotlib.cm import ScalarMappable
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    layers = read_layers(path)
    subunits = layers["subunits"]
    crs = equal_area_crs(subunits)
    subunits = subunits.to_crs(crs)
    subunits["subunit_id"] = subunits["subunit_id"].astype(str)
    values, label, unit = color_values(ctx.run, color_by)
    vals = values.reindex(subunits["subunit_id"]).to_numpy(float)
    divisor, shown_unit = axis_scale(vals[np.isfinite(vals)], unit)
    vals = vals / divisor
    finite = vals[np.isfinite(vals)]
    change = color_by.endswith(":change") and len(finite) and finite.min() < 0 < finite.max()
    if change:
        bound = float(np.abs(finite).max())
        norm, cmap = mcolors.TwoSlopeNorm(0.0, -bound, bound), "RdBu_r"
    polygons = subunits.geom_type.str.contains("Polygon").all()
    if not change:  # lines need a colour map whose low end shows on white
        low, high = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
        norm = mcolors.Normalize(low, high if high > low else low + 1.0)
        cmap = sequential_colormap() if polygons else "viridis"
    fig = Figure(figsize=(9, 8))
    ax = fig.add_subplot(1, 1, 1)
    subunits["_value"] = vals
    if polygons:
        subunits.plot(ax=ax, column="_value", cmap=cmap, norm=norm, edgecolor="#555555",
                      linewidth=0.3, missing_kwds={"color": "#eeeeee"})
    handles = []
    rivers = layers.get("rivers")
    if rivers is not None and len(rivers):
        rivers = rivers.to_crs(crs)
        order = rivers["order"].to_numpy(float) if "order" in rivers.columns else \
            np.ones(len(rivers))
        if polygons:
            rivers.plot(ax=ax, color="#2b6cb0", linewidth=0.3 + 0.45 * (order - 1), zorder=3)
        else:  # the rivers are the subunits: colour them by the indicator
            by_sub = dict(zip(subunits["subunit_id"], vals, strict=True))
            key = rivers["subunit_id"].astype(str) if "subunit_id" in rivers.columns else \
                rivers["reach_id"].astype(str)
            rivers["_value"] = key.map(by_sub).to_numpy(float)
            rivers.plot(ax=ax, column="_value", cmap=cmap, norm=norm, zorder=3,
                        linewidth=0.4 + 0.5 * (order - 1))
        handles.append(Line2D([], [], color="#2b6cb0", label="river (width: Strahler order)"))
    elif not polygons:
        subunits.plot(ax=ax, column="_value", cmap=cmap, norm=norm, linewidth=1.0)
    _points(ax, ctx, layers, subunits, crs, POINT_STYLES, handles)
    bounds = subunits.total_bounds
    _scale_bar(ax, bounds)
    ax.set_aspect("equal")
    ax.set_axis_off()
    bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.7, pad=0.02)
    bar.set_label(f"{label} ({shown_unit})")
    if handles:
        ax.legend(handles=handles, loc="upper right", fontsize=8, framealpha=0.9)
    fig.suptitle(wrap(ctx.heading, 90) + f"\nMap: {label} per subunit ({shown_unit})",
                 fontsize=11)
    return fig


def _points(ax: Any, ctx: Any, layers: dict[str, Any], subunits: Any, crs: Any,
            styles: dict[str, tuple[str, str]], handles: list[Any]) -> None:
    """Control points and barriers: their own locations, else their subunit's centre."""
    from matplotlib.lines import Line2D

    anchor = dict(zip(subunits["subunit_id"], subunits.geometry.representative_point(),
                      strict=True))

    def located(name: str, key: str, table: Any) -> list[tuple[Any, Any]]:
        own = layers.get(name)
        where = {}
        if own is not None and key in own.columns:
            own = own.to_crs(crs)
            where = dict(zip(own[key].astype(str), own.geometry, strict=True))
        return [(row, where.get(str(row[key])) or anchor.get(str(row["subunit_id"])))
                for row in table.to_dict("records")]

    seen: set[str] = set()
    for row, point in located("control_points", "point_id", ctx.study.control_points):
        if point is None:
            continue
        marker, colour = styles.get(row["kind"], ("p", "black"))
        ax.plot(point.x, point.y, marker=marker, color=colour, markersize=9,
                markeredgecolor="white", zorder=5)
        if row["kind"] not in seen:
            seen.add(row["kind"])
            handles.append(Line2D([], [], marker=marker, color=colour, linestyle="",
                                  label=f"control point: {row['kind']}"))
    barriers = ctx.study.barriers
    if len(barriers):
        for row, point in located("barriers", "barrier_id", barriers):
            if point is None:
                continue
            exited = row["status"] == "exited"
            ax.plot(point.x, point.y, marker="v", color="#999999" if exited else "#b7410e",
                    markersize=6, zorder=5)
        handles.append(Line2D([], [], marker="v", color="#b7410e", linestyle="",
                              label="barrier (grey: exited)"))
