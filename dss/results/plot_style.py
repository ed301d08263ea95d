"""What every figure of a run shares: file formats, labels, control-point markers, the
colour map, text that fits the installed fonts, axis scaling, and the per-subunit values a map
is coloured by. matplotlib (the ``report`` extra) is imported only when a figure is drawn."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dss.errors import InputError, Issue, did_you_mean
from dss.results.runs import RunFolder, require

FORMATS: tuple[str, ...] = ("png", "svg", "pdf")
"""File formats ``dss plot`` writes."""

DPI = 150
LABEL_LIMIT = 60
"""Subunit ids are written on the network map up to this many subunits."""

POLLUTANT_LABELS = {"sediment": "Sediment", "tn": "Total nitrogen (TN)",
                    "tp": "Total phosphorus (TP)"}

INDICATOR_LABELS = {
    "spend": "spend", "sediment_local": "local sediment load", "tn_local": "local TN load",
    "tp_local": "local TP load", "sediment_outflow": "sediment outflow",
    "tn_outflow": "TN outflow", "tp_outflow": "TP outflow", "carbon_stock": "carbon stock",
    "habitat_gain": "habitat gain"}
"""Readable names of the indicators in ``subunits.csv``."""

POINT_STYLES: dict[str, tuple[str, str]] = {
    "reservoir": ("s", "#1f77b4"), "intake": ("D", "#2ca02c"), "monitoring": ("^", "#9467bd"),
    "outlet": ("*", "#d62728")}
"""Marker and colour of each control-point kind (others: a black pentagon)."""

_CJK = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f"
_CJK_GROUP = re.compile(rf"\s*[(（][^()（）]*[{_CJK}][^()（）]*[)）]")
_CJK_CHAR = re.compile(rf"[{_CJK}]+")


def need_matplotlib() -> Any:
    return require("matplotlib", "dss plot")


def plain(text: str, keep_cjk: bool = False) -> str:
    """Text for a figure: Chinese removed (with brackets around it) unless it can be drawn."""
    text = str(text)
    if keep_cjk:
        return text
    text = _CJK_GROUP.sub("", text)
    text = _CJK_CHAR.sub("", text)
    return re.sub(r"\s{2,}", " ", text).strip(" ,;")


def axis_scale(values: np.ndarray, unit: str) -> tuple[float, str]:
    """Divisor and unit label that keep axis numbers short (CNY in millions)."""
    big = float(np.nanmax(np.abs(values))) if len(values) else 0.0
    if unit == "CNY" and big >= 1e6:
        return 1e6, "million CNY"
    if unit == "CNY" and big >= 1e4:
        return 1e3, "thousand CNY"
    return 1.0, unit


def thousands_axis(axis: Any) -> None:
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}" if abs(v) >= 10 or
                                           float(v).is_integer() else f"{v:,.2g}"))


def wrap(text: str, width: int = 28) -> str:
    return "\n".join(textwrap.wrap(str(text), width)) or str(text)


def sequential_colormap() -> Any:
    from matplotlib import colormaps

    return colormaps["YlOrRd"]


def color_values(run: RunFolder, color_by: str) -> tuple[pd.Series, str, str]:
    """Values per subunit for the network map from ``subunits.csv``.

    Args:
        run: The run.
        color_by: ``METRIC`` or ``METRIC:before|after|change`` (default ``after``).

    Returns:
        (values by subunit id, label, unit).

    Raises:
        InputError: located at ``--color-by`` for an unknown metric or view.
    """
    table = run.tables.get("subunits")
    if table is None:
        raise InputError([Issue(str(run.folder), f"has no subunits.csv (status {run.status}: "
                                                 "no plan to draw)")], "cannot plot")
    metric, _, view = color_by.partition(":")
    view = view or "after"
    metrics = list(dict.fromkeys(table["metric"].astype(str)))
    issues = []
    if metric not in metrics:
        hint = did_you_mean(metric, metrics, quote=True)
        issues.append(Issue("--color-by", f"unknown indicator {metric!r} "
                                          f"({hint + ' ' if hint else ''}known: "
                                          f"{', '.join(metrics)})"))
    if view not in ("before", "after", "change"):
        issues.append(Issue("--color-by", f"unknown view {view!r} after ':' (allowed: before, "
                                          "after, change)"))
    if issues:
        raise InputError(issues, "cannot plot")
    rows = table[table["metric"] == metric]
    values = pd.Series(pd.to_numeric(rows[view], errors="coerce").to_numpy(),
                       index=rows["subunit_id"].astype(str))
    unit = str(rows["unit"].iloc[0]) if len(rows) else ""
    label = INDICATOR_LABELS.get(metric, metric.replace("_", " "))
    label = {"after": f"{label} after the plan", "before": f"{label} before the plan",
             "change": f"change in {label}"}[view]
    if metric in ("spend", "habitat_gain") and view == "after":
        label = INDICATOR_LABELS[metric]
    return values, label, unit


@dataclass
class PlotContext:
    """What the figures of one run are drawn from."""

    run: RunFolder
    study: Any
    cjk: bool

    def text(self, value: str) -> str:
        """A label fit for the figure's fonts."""
        return plain(value, self.cjk)

    @property
    def heading(self) -> str:
        """First title line: the study title and the scenario."""
        return f"{self.text(self.run.title)}: scenario {self.run.name}"
