"""The Monte Carlo chart: the spread of the loads at each control point after the plan
(boxes from the 25th to the 75th percentile, whiskers from the 5th to the 95th, the median,
the nominal value and the limit with the probability it is met), and the distribution of the
plan's total benefit. matplotlib (the ``report`` extra) is imported only here."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from dss.results.fonts import cjk_font
from dss.results.plot_style import plain
from dss.results.runs import require
from dss.uncertainty.montecarlo import MonteCarloResult

LABELS = {"sediment": "Sediment", "tn": "Total nitrogen (TN)", "tp": "Total phosphorus (TP)"}


def _stat(table: pd.DataFrame, quantity: str, item: str, pollutant: str, stat: str) -> float:
    rows = table[(table["quantity"] == quantity) & (table["item"] == item)
                 & (table["pollutant"] == pollutant) & (table["statistic"] == stat)]
    return float(rows["value"].iloc[0]) if len(rows) else np.nan


def montecarlo_figure(result: MonteCarloResult, title: str) -> bytes:
    """The chart as PNG bytes."""
    require("matplotlib", "dss montecarlo (chart)")
    import matplotlib as mpl

    font = cjk_font()
    rc = {"font.size": 10, "font.family": ["DejaVu Sans", font] if font else ["DejaVu Sans"]}
    with mpl.rc_context(rc):
        return _figure(result, plain(title, keep_cjk=font is not None))


def _figure(result: MonteCarloResult, title: str) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    table = result.table()
    loads = table[table["quantity"] == "load_after"]
    pollutants = list(dict.fromkeys(loads["pollutant"]))
    points = list(dict.fromkeys(loads["item"]))
    fig = Figure(figsize=(4.4 * (len(pollutants) + 1) + 1.5, 1.9 + 0.7 * max(len(points), 3)),
                 layout="constrained")
    FigureCanvasAgg(fig)
    axes = np.atleast_1d(fig.subplots(1, len(pollutants) + 1))
    y = np.arange(len(points))[::-1]
    for ax, p in zip(axes[:-1], pollutants, strict=True):
        unit = loads.loc[loads["pollutant"] == p, "unit"].iloc[0]
        for yi, t in zip(y, points, strict=True):
            q = {s: _stat(table, "load_after", t, p, s) for s in
                 ("p05", "p25", "p50", "p75", "p95", "nominal")}
            ax.plot([q["p05"], q["p95"]], [yi, yi], color="#2f6fad", lw=1.2)
            ax.barh(yi, q["p75"] - q["p25"], left=q["p25"], height=0.45, color="#9cc3e6",
                    edgecolor="#2f6fad")
            ax.plot([q["p50"], q["p50"]], [yi - 0.22, yi + 0.22], color="#1d4f80", lw=2)
            ax.plot(q["nominal"], yi, marker="D", color="black", ms=4)
            limit = _stat(table, "limit", t, p, "nominal")
            if np.isfinite(limit):
                prob = _stat(table, "limit_met", t, p, "probability")
                ax.plot([limit, limit], [yi - 0.4, yi + 0.4], color="#d62728", lw=2)
                ax.text(limit, yi + 0.42, f"P(met) {prob:.0%}", color="#d62728", fontsize=8,
                        ha="center", va="bottom")
        ax.set_title(LABELS.get(p, p), fontsize=11)
        ax.set_xlabel(f"Load after the plan ({unit})")
        ax.set_yticks(y, points if ax is axes[0] else [""] * len(points))
        ax.grid(axis="x", color="#dddddd")
        ax.set_axisbelow(True)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
        for tick in ax.get_xticklabels():
            tick.set_rotation(30)
            tick.set_ha("right")
    benefit = result.outcomes.total_benefit
    ax = axes[-1]
    ax.hist(benefit / 1e6, bins=min(40, max(5, len(benefit) // 10)), color="#7fb77e")
    ax.axvline(float(result.nominal.total_benefit[0]) / 1e6, color="black", lw=1.5)
    ax.set_title("Total benefit", fontsize=11)
    ax.set_xlabel(f"million {result.problem.config.settings.currency} (line: nominal)")
    ax.set_ylabel("scenarios")
    n = len(result.scenarios)
    fig.suptitle(f"{title}: the plan on {n} {result.scenarios.source} scenarios (box 25-75 %, "
                 "whiskers 5-95 %, diamond: nominal inputs, red: limit)", fontsize=11,
                 x=0.01, ha="left")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120, metadata={"Software": "dss"},
                facecolor="white")
    return buffer.getvalue()
