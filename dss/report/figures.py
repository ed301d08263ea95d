"""The report's charts, drawn with matplotlib and inlined as SVG (text drawn as outlines).

Each function returns the ``<svg>`` element as a string. Text is converted to paths, so the
page needs no font for the figures, and Chinese is drawn with the CJK font found by
:func:`dss.results.fonts.cjk_font` (figures fall back to English names when there is none).
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from dss.results.fonts import font_rc
from dss.results.river_layout import tree_layout

COLOURS = ("#1d4f80", "#e07b39", "#3a8f5c", "#9b59b6", "#c0392b", "#7f8c8d", "#b8860b")
"""Series colours (scenarios, before/after)."""

_ROOT = re.compile(r"<svg[^>]*>", re.S)


def money_scale(values: Sequence[float], lang: str) -> tuple[float, str]:
    """Divisor and unit for amounts in CNY: 万元 in Chinese, million CNY in English."""
    big = max((abs(float(v)) for v in values if v == v), default=0.0)
    if lang == "zh":
        return (1e4, "万元") if big >= 1e4 else (1.0, "元")
    return (1e6, "million CNY") if big >= 1e6 else (1.0, "CNY")


def to_svg(fig: Any) -> str:
    """The figure as an inline ``<svg>`` element that scales with the page."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None}, facecolor="white",
                bbox_inches="tight")
    text = buf.getvalue()
    start = text.index("<svg")
    text = text[start:]
    root = _ROOT.match(text)
    assert root is not None
    tag = re.sub(r'\s(width|height)="[^"]*"', "", root.group(0))
    tag = tag.replace("<svg", '<svg class="figure" role="img"', 1)
    return tag + text[root.end():]


def _figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _style(ax: Any) -> None:
    from matplotlib.ticker import FuncFormatter

    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.6g}" if abs(v) < 1e4
                                               else f"{v:,.0f}"))
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)


def render(draw: Any, font: str | None) -> str:
    """Draw a figure under the report's rc settings and return its SVG."""
    import matplotlib as mpl

    rc = {"font.size": 9, "svg.fonttype": "path", "svg.hashsalt": "dss-report",
          **font_rc(font)}
    with mpl.rc_context(rc):
        return to_svg(draw())


def bars(labels: Sequence[str], series: Mapping[str, Sequence[float]], unit: str,
         divisor: float = 1.0, font: str | None = None) -> str:
    """Horizontal bars, one group per label and one bar per series (scenario)."""
    n, k = len(labels), max(len(series), 1)

    def draw() -> Any:
        fig = _figure(7.0, 0.6 + 0.28 * n * max(1, min(k, 3)) + 0.2)
        ax = fig.add_subplot()
        height = 0.8 / k
        y = np.arange(n)
        for i, (name, values) in enumerate(series.items()):
            v = np.asarray(values, dtype=float) / divisor
            ax.barh(y - 0.4 + height * (i + 0.5), v, height=height * 0.92,
                    color=COLOURS[i % len(COLOURS)], label=name if k > 1 else None)
        ax.set_yticks(y, labels)
        ax.invert_yaxis()
        ax.set_xlabel(unit)
        _style(ax)
        if k > 1:
            ax.legend(frameon=False, loc="lower right")
        return fig

    return render(draw, font)


def loads(groups: Mapping[str, Sequence[tuple[str, float, float, float | None]]],
          units: Mapping[str, str], before: str, after: str, limit: str,
          font: str | None = None) -> str:
    """Before and after loads per control point, one panel per pollutant, limits as ticks.

    Args:
        groups: Pollutant label -> rows of (point label, before, after, limit or None).
        units: Pollutant label -> unit.
        before, after, limit: Legend labels.
    """
    def draw() -> Any:
        rows = max((len(r) for r in groups.values()), default=1)
        fig = _figure(7.0, 0.9 + len(groups) * (0.45 + 0.36 * rows))
        axes = fig.subplots(len(groups), 1, squeeze=False)[:, 0]
        for ax, (name, rows_) in zip(axes, groups.items(), strict=True):
            y = np.arange(len(rows_))
            ax.barh(y - 0.2, [r[1] for r in rows_], height=0.38, color="#b0b7bf", label=before)
            ax.barh(y + 0.2, [r[2] for r in rows_], height=0.38, color=COLOURS[0], label=after)
            lim = [(i, r[3]) for i, r in enumerate(rows_) if r[3] is not None and r[3] == r[3]]
            if lim:
                ax.scatter([v for _, v in lim], [i for i, _ in lim], marker="|", s=260,
                           color="#c0392b", linewidths=2.2, label=limit, zorder=5)
            ax.set_yticks(y, [r[0] for r in rows_])
            ax.invert_yaxis()
            ax.set_title(f"{name} ({units.get(name, '')})", loc="left", fontsize=10)
            _style(ax)
        handles, labels_ = axes[0].get_legend_handles_labels()
        for ax in axes[1:]:
            for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
                if lab not in labels_:
                    handles.append(h)
                    labels_.append(lab)
        fig.legend(handles, labels_, loc="outside lower center", ncols=3, frameon=False)
        return fig

    return render(draw, font)


ZONE_COLOURS = {"core": "#2e7d32", "general": "#a5d6a7", "outside": "#eeeeee"}
"""Fill of each national-park zone on the park-design schematic."""


def network(ids: Sequence[str], downstream: Sequence[str | None], spend: Mapping[str, float],
            points: Sequence[tuple[str, str]], unit: str, divisor: float,
            font: str | None = None,
            zones: tuple[Mapping[str, str], Mapping[str, str]] | None = None) -> str:
    """The river tree (outlet at the bottom) with subunits coloured by spend, or by zone.

    Args:
        ids, downstream: The drainage tree (``downstream`` None at an outlet).
        spend: Spend per subunit (absent: none).
        points: (subunit id, label) of each control point.
        unit: Colour-bar label.
        divisor: Spend is divided by it for the colour bar.
        zones: Instead of spend, (zone of each subunit, legend label of each zone).
    """
    def draw() -> Any:
        from matplotlib import colormaps
        from matplotlib.colors import Normalize

        pos = tree_layout(list(ids), list(downstream))
        xs = np.array([pos[i][0] for i in ids])
        ys = np.array([pos[i][1] for i in ids])
        width = 2.5 + 0.32 * (xs.max() - xs.min() + 1)
        height = 1.5 + 0.42 * (ys.max() + 1)
        fig = _figure(min(max(width, 5.0), 7.5), min(max(height, 3.5), 9.5))
        ax = fig.add_subplot()
        for i, d in zip(ids, downstream, strict=True):
            if d is not None and d in pos:
                ax.plot([pos[i][0], pos[d][0]], [pos[i][1], pos[d][1]], color="#5b8fc7",
                        linewidth=1.6, zorder=1)
        size = 260 if len(ids) <= 60 else 40
        if zones is not None:
            of, labels = zones
            colours = [ZONE_COLOURS.get(of.get(i, ""), "#ffffff") for i in ids]
            ax.scatter(xs, ys, s=size, c=colours, edgecolors="#333333", linewidths=0.6,
                       zorder=3)
            for zone, label in labels.items():
                ax.scatter([], [], s=80, color=ZONE_COLOURS.get(zone, "#ffffff"),
                           edgecolors="#333333", label=label)
            ax.legend(frameon=False, loc="upper left", fontsize=8)
        else:
            values = np.array([spend.get(i, 0.0) for i in ids], dtype=float) / divisor
            cmap = colormaps["YlOrBr"]
            norm = Normalize(0.0, max(values.max(), 1e-9))
            ax.scatter(xs, ys, s=size, c=values, cmap=cmap, norm=norm, edgecolors="#333333",
                       linewidths=0.6, zorder=3)
        if len(ids) <= 60:
            for i, x, y in zip(ids, xs, ys, strict=True):
                ax.text(x, y, i, ha="center", va="center", fontsize=6.5, zorder=4)
        for sub, label in points:
            if sub in pos:
                x, y = pos[sub]
                ax.scatter([x + 0.32], [y - 0.12], marker="v", s=45, color="#c0392b", zorder=5)
                ax.text(x + 0.5, y - 0.12, label, fontsize=7, va="center", color="#c0392b",
                        zorder=6)
        ax.set_axis_off()
        ax.set_ylim(-0.8, ys.max() + 0.8)
        if zones is None:
            bar = fig.colorbar(cmap_mappable(cmap, norm), ax=ax, shrink=0.6, pad=0.01)
            bar.set_label(unit)
        return fig

    return render(draw, font)


def cmap_mappable(cmap: Any, norm: Any) -> Any:
    """A colour-bar source for a colour map and normalisation."""
    from matplotlib.cm import ScalarMappable

    return ScalarMappable(norm=norm, cmap=cmap)
