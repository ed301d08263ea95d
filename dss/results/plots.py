"""Figures of one run: a schematic river-network map, spend bar charts, loads at control points.

Drawn with matplotlib's Agg canvas (no screen, no global backend switch, no pyplot state), so
they work on servers and in CI. matplotlib is an optional dependency (the ``report`` extra)
and is imported only when a figure is drawn.

The network map is a schematic, not a map: :func:`tree_layout` lays the drainage tree out from
its outlet (at the bottom) upwards, with the main stem (the child draining the most subunits)
straight and tributaries branching to either side, so edges never cross.

Chinese names are drawn when a CJK font is installed (:mod:`dss.results.fonts` finds it and
warns once when there is none); otherwise the figures use the English names and ids.
"""

from __future__ import annotations

import logging
import os
import re
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dss.errors import InputError, Issue
from dss.results.fonts import cjk_font, font_rc
from dss.results.maps import geometry_file, map_figure
from dss.results.network_map import network_figure
from dss.results.plot_style import (
    DPI,
    FORMATS,
    POLLUTANT_LABELS,
    PlotContext,
    axis_scale,
    color_values,
    need_matplotlib,
    thousands_axis,
    wrap,
)
from dss.results.report import fmt
from dss.results.runs import load_run_study, read_run
from dss.results.writer import OutputError

LOGGER = logging.getLogger(__name__)


# --- figures -----------------------------------------------------------------------------


def _display_name(study: Any, table: str, key: str, ident: Any) -> str:
    """``Name (中文名)`` of an action, agency or township from the study's tables, else the
    id."""
    frame = getattr(study, table, None)
    if not isinstance(frame, pd.DataFrame) or key not in frame or not len(frame):
        return str(ident)
    rows = frame[frame[key].astype(str) == str(ident)]
    if not len(rows):
        return str(ident)
    name = str(rows["name"].iloc[0] or ident)
    zh = str(rows["name_zh"].iloc[0]) if "name_zh" in rows and rows["name_zh"].iloc[0] else ""
    return f"{name} ({zh})" if zh and zh != name else name


def spend_figure(ctx: PlotContext) -> Any:
    """Spend by action, by agency and by township (horizontal bars, largest first)."""
    need_matplotlib()
    from matplotlib.figure import Figure

    alloc = ctx.run.tables.get("allocation")
    if alloc is None:
        raise InputError([Issue(str(ctx.run.folder), f"has no allocation.csv (status "
                                                     f"{ctx.run.status}: no plan to draw)")],
                         "cannot plot")
    groups = []
    by_action = alloc.groupby("action_id")["cost_cny"].sum()
    by_action.index = [ctx.text(_display_name(ctx.study, "actions", "action_id", a))
                       for a in by_action.index]
    groups.append(("Spend by action", by_action))
    for title, key, table, id_column in (
            ("Spend by agency", "agency", "agencies", "agency_id"),
            ("Spend by township", "township", "townships", "township")):
        spend = alloc.groupby(key)["cost_cny"].sum()
        spend.index = [ctx.text(_display_name(ctx.study, table, id_column, i))
                       for i in spend.index]
        groups.append((title, spend))
    total = float(alloc["cost_cny"].sum())
    divisor, unit = axis_scale(np.array([total]), "CNY")
    counts = [max(len(g), 1) for _, g in groups]
    fig = Figure(figsize=(10, 1.6 + 0.42 * sum(counts) + 1.0 * len(groups)),
                 layout="constrained")
    axes = fig.subplots(len(groups), 1, gridspec_kw={"height_ratios": [c + 1.2 for c in counts]})
    for ax, (title, series) in zip(axes, groups, strict=True):
        series = series.sort_values(ascending=True)
        labels = [wrap(str(i), 34) for i in series.index]
        bars = ax.barh(labels, series.to_numpy() / divisor, color="#3b7dbf", height=0.65)
        top = float(series.max() / divisor) if len(series) else 1.0
        for rect, value in zip(bars, series.to_numpy(), strict=True):
            pct = 100 * value / total if total else 0.0
            share = "" if not total else f" ({pct:.1f} %)" if pct < 9.95 else f" ({pct:.0f} %)"
            ax.text(rect.get_width() + 0.01 * top, rect.get_y() + rect.get_height() / 2,
                    f"{value / divisor:,.2f}{share}", va="center", fontsize=9)
        ax.set_xlim(0, top * 1.25 if top > 0 else 1)
        ax.set_title(title, fontsize=12, loc="left")
        ax.set_xlabel(f"Spend over the horizon ({unit})", fontsize=10)
        ax.tick_params(labelsize=9.5)
        ax.grid(axis="x", color="#dddddd", lw=0.8)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        if not len(series):
            ax.text(0.5, 0.5, "no spend", transform=ax.transAxes, ha="center")
    budget = ctx.run.summary_value("budget")
    of = f" of a budget of {fmt(budget)} CNY" if isinstance(budget, float) and \
        np.isfinite(budget) else ""
    fig.suptitle(f"{ctx.heading}\nSpend {fmt(total)} CNY{of}", fontsize=13, x=0.01,
                 ha="left")
    return fig


def loads_figure(ctx: PlotContext) -> Any:
    """Routed loads at each control point before and after the plan, one panel per pollutant.
    """
    need_matplotlib()
    from matplotlib.figure import Figure

    table = ctx.run.tables.get("control_points")
    if table is None or not len(table):
        raise InputError([Issue(str(ctx.run.folder), "has no control_points.csv rows (no "
                                                     "control points, or no plan)")],
                         "cannot plot")
    pollutants = list(dict.fromkeys(table["pollutant"].astype(str)))
    points = list(dict.fromkeys(table["point_id"].astype(str)))
    names = table.drop_duplicates("point_id").set_index("point_id")["name"] \
        if "name" in table else pd.Series(dtype=object)
    labels = [wrap(ctx.text(str(names.get(p, p))) or p, 26) for p in points]
    fig = Figure(figsize=(4.6 * len(pollutants) + 2.4, 1.8 + 0.75 * len(points)),
                 layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(pollutants), sharey=True))
    y = np.arange(len(points))[::-1]
    h = 0.38
    for ax, p in zip(axes, pollutants, strict=True):
        part = table[table["pollutant"] == p].set_index("point_id").reindex(points)
        before = part["before"].to_numpy(float)
        after = part["after"].to_numpy(float)
        unit = str(part["unit"].dropna().iloc[0]) if part["unit"].notna().any() else ""
        ax.barh(y + h / 2, before, height=h, color="#b8b8b8", label="before")
        ax.barh(y - h / 2, after, height=h, color="#2f6fad", label="after the plan")
        top = float(np.nanmax(np.r_[before, after])) if len(before) else 1.0
        for yi, b, a in zip(y, before, after, strict=True):
            if np.isfinite(b) and b > 0 and np.isfinite(a):
                cut = 100 * (b - a) / b
                ax.text(a + 0.015 * top, yi - h / 2, f"−{cut:.1f} %" if cut >= 0.05 else
                        ("0 %" if abs(cut) < 0.05 else f"+{-cut:.1f} %"), va="center",
                        fontsize=8.5, color="#1d4f80")
        limit = part["limit"].to_numpy(float) if "limit" in part else np.full(len(y), np.nan)
        for yi, lim in zip(y, limit, strict=True):
            if np.isfinite(lim):
                ax.plot([lim, lim], [yi - 0.45, yi + 0.45], color="#d62728", lw=2)
        ax.set_xlim(0, top * 1.22 if top > 0 else 1)
        ax.set_title(POLLUTANT_LABELS.get(p, p), fontsize=12)
        ax.set_xlabel(f"Load ({unit})", fontsize=10)
        thousands_axis(ax.xaxis)
        ax.tick_params(labelsize=9)
        ax.grid(axis="x", color="#dddddd", lw=0.8)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        for tick in ax.get_xticklabels():
            tick.set_rotation(30)
            tick.set_ha("right")
    axes[0].set_yticks(y, labels)
    axes[0].tick_params(axis="y", labelsize=9.5)
    handles, names_ = axes[0].get_legend_handles_labels()
    if np.isfinite(table["limit"].to_numpy(float)).any() if "limit" in table else False:
        from matplotlib.lines import Line2D

        handles.append(Line2D([], [], color="#d62728", lw=2))
        names_.append("load limit")
    fig.legend(handles, names_, loc="outside lower center", ncols=len(handles), fontsize=10,
               frameon=False)
    fig.suptitle(f"{ctx.heading}\nRouted loads at the control points, per year (labels: "
                 "change from before)", fontsize=13, x=0.01, ha="left")
    return fig


# --- writing -----------------------------------------------------------------------------


def plot_context(run_dir: Path | str, inputs_dir: Path | None = None) -> PlotContext:
    """Read a run folder and its study inputs for plotting.

    Raises:
        InputError: if the folder is not a solve run with a plan, or its inputs are missing.
    """
    run = read_run(run_dir)
    if run.manifest.get("planning") or (run.folder / "zoning.csv").is_file():
        raise InputError([Issue(str(run.folder), "is a park-design run (kind: planning): it "
                                                 "proposes zones, not actions, so dss plot has "
                                                 "no action plan to draw; see its zoning.csv, "
                                                 "zone_comparison.csv and comparison.md")],
                         "cannot plot")
    if not run.has_plan:
        raise InputError([Issue(str(run.folder), f"has no plan to draw (status {run.status}; "
                                                 "see its summary.csv and shortfalls.csv)")],
                         "cannot plot")
    study = load_run_study(run, inputs_dir)
    font = cjk_font()
    return PlotContext(run, study, font is not None)


def write_plots(run_dir: Path | str, out: Path | str | None = None,
                formats: Sequence[str] = ("png",), color_by: str = "spend",
                inputs_dir: Path | str | None = None) -> list[Path]:
    """Draw a run's figures and write them into the run folder (or ``out``).

    Files: ``network.<fmt>`` (``network_<indicator>.<fmt>`` with ``color_by``),
    ``spend.<fmt>`` and ``loads.<fmt>``. Every figure is rendered to a hidden temporary file
    first and renamed into place only when all have been drawn, so a failure leaves the
    previous figures as they were.

    Args:
        run_dir: Run folder written by ``dss solve``.
        out: Folder for the figures (default: the run folder).
        formats: File formats, from :data:`FORMATS`.
        color_by: Indicator colouring the network map (see :func:`color_values`).
        inputs_dir: Study input folder (default: from the run's manifest).

    Returns:
        The files written.

    Raises:
        InputError: on an unusable run, unknown format or indicator.
        MissingDependencyError: if matplotlib is not installed.
        OutputError: if the folder cannot be written.
    """
    formats = [f.lower().lstrip(".") for f in formats] or ["png"]
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise InputError([Issue("--format", f"unknown format {f!r} (allowed: "
                                            f"{', '.join(FORMATS)})") for f in bad],
                         "cannot plot")
    need_matplotlib()
    ctx = plot_context(run_dir, Path(inputs_dir) if inputs_dir is not None else None)
    color_values(ctx.run, color_by)  # fail early on an unknown indicator
    target = Path(out) if out is not None else ctx.run.folder
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(f"cannot create the figures folder {target}: "
                          f"{err.strerror or err} (choose another --out)") from None
    network = "network" if color_by == "spend" else \
        "network_" + re.sub(r"[^A-Za-z0-9_]+", "_", color_by).strip("_")
    figures = {network: lambda: network_figure(ctx, color_by), "spend": lambda:
               spend_figure(ctx), "loads": lambda: loads_figure(ctx)}

    geometry = geometry_file(ctx.study)  # a real map instead of the schematic
    if geometry is not None:
        figures = {"map" + network.removeprefix("network"): lambda: map_figure(
            ctx, color_by, geometry), **{k: v for k, v in figures.items() if k != network}}
    token = uuid.uuid4().hex[:8]
    staged: list[tuple[Path, Path]] = []
    rc = {"font.size": 10, "svg.hashsalt": "dss", "svg.fonttype": "path"}
    rc.update(font_rc(cjk_font() if ctx.cjk else None))
    import matplotlib as mpl
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    try:
        with mpl.rc_context(rc):
            for stem, draw in figures.items():
                fig = draw()
                FigureCanvasAgg(fig)
                for fmt_ in formats:
                    final = target / f"{stem}.{fmt_}"
                    temp = target / f".{stem}.tmp-{token}.{fmt_}"
                    staged.append((temp, final))
                    meta = {"png": {"Software": "dss"}, "svg": {"Date": None},
                            "pdf": {"CreationDate": None}}[fmt_]
                    fig.savefig(temp, format=fmt_, dpi=DPI, metadata=meta,
                                facecolor="white")
        for temp, final in staged:
            os.replace(temp, final)
    except OSError as err:
        raise OutputError(f"cannot write figures to {target}: {err.strerror or err}") from err
    finally:
        for temp, _ in staged:
            if temp.exists():
                temp.unlink()
    paths = [final for _, final in staged]
    LOGGER.info("wrote %d figures to %s", len(paths), target)
    return paths
