"""Figures of sweeps and frontiers (PNG bytes), drawn with matplotlib if it is installed.

matplotlib is an optional dependency (extra ``report``): it is imported only when a figure
is drawn, through its object-oriented API (no ``pyplot``, no global backend change), so
dss runs and writes every table without it.
"""

from __future__ import annotations

import io
import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dss.errors import DssError

if TYPE_CHECKING:  # pragma: no cover
    from dss.optimize.frontier import FrontierResult
    from dss.optimize.sweep import SweepResult

LOGGER = logging.getLogger(__name__)


class PlotUnavailable(DssError):
    """matplotlib is not installed."""

    exit_code = 2


def _figure(rows: int, height: float) -> tuple[Any, Any]:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise PlotUnavailable("plots need matplotlib: pip install 'dss[report]'") from None
    fig = Figure(figsize=(7.5, height), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.subplots(rows, 1, squeeze=False)[:, 0]


def money_axis(axis: Any, values: Any, unit: str) -> str:
    """Tick labels of an axis in millions when it shows a large sum of money (``CNY``);
    plain numbers with thousands separators otherwise (never ``1e7`` offsets). Returns the
    unit to put in the axis label."""
    from matplotlib.ticker import FuncFormatter

    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    big = float(np.abs(finite).max()) if finite.size else 0.0
    if unit and unit.isalpha() and unit.isupper() and len(unit) == 3 and big >= 1e6:
        axis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{x / 1e6:,.6g}"))
        return f"million {unit}"
    axis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{x:,.6g}"))
    return unit


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def sweep_figure(result: SweepResult, title: str = "") -> bytes:
    """The cost-effectiveness curve: objective against the swept value (top) and the
    marginal objective per unit, as a finite difference between consecutive points and
    as the budget dual (bottom)."""
    table = result.table
    fig, (top, bottom) = _figure(2, 7.0)
    ok = table["status"].isin(["optimal", "feasible", "time_limit"]).to_numpy()
    v = table["value"].to_numpy(float)
    unit = result.units.get("value", "")
    name = result.param.split(".")[-1]
    top.plot(v[ok], table["objective"].to_numpy(float)[ok], "o-", color="C0",
             label="objective (total benefit)")
    spend = next((c for c in table if c.startswith("spend_")), None)
    if spend is not None:
        top.plot(v[ok], table[spend].to_numpy(float)[ok], "--", color="0.5", label="spend")
    if (~ok).any():
        top.plot(v[~ok], np.zeros((~ok).sum()), "x", color="C3", label="no plan")
    xunit = money_axis(top.xaxis, v, unit)
    top.set_ylabel(money_axis(top.yaxis, table["objective"].to_numpy(float),
                              result.units.get("objective", "")))
    top.set_xlabel(f"{name} ({xunit})")
    top.set_title(title or f"Sweep of {result.param}", fontsize=10)
    top.grid(alpha=0.3)
    top.legend(loc="best", fontsize=8)
    mcol = next(c for c in table if c.startswith("marginal_"))
    dcol = next(c for c in table if c.startswith("budget_dual_"))
    m = table[mcol].to_numpy(float)
    if len(v) > 1:
        bottom.step(v, m, where="pre", color="C1", label="Δobjective / Δvalue")
    if np.isfinite(table[dcol].to_numpy(float)).any() and result.is_budget:
        bottom.plot(v, table[dcol].to_numpy(float), "s", color="C2", ms=4,
                    label="budget dual (LP / fixed MIP)")
    bottom.set_ylabel(result.units.get(mcol, "per unit"))
    bottom.set_xlabel(f"{name} ({money_axis(bottom.xaxis, v, unit)})")
    per = unit if result.is_budget else "unit"
    bottom.set_title(f"Marginal objective per {per}", fontsize=10)
    bottom.grid(alpha=0.3)
    bottom.legend(loc="best", fontsize=8)
    return _png(fig)


def frontier_figure(result: FrontierResult, title: str = "") -> bytes:
    """The trade-off: every solved point, the non-dominated ones joined, endpoints marked."""
    fig, (ax,) = _figure(1, 5.0)
    pts: pd.DataFrame = result.points
    dom = pts["dominated"].to_numpy(bool)
    if dom.any():
        ax.plot(pts["x"][dom], pts["y"][dom], "x", color="0.6", label="dominated")
    front = result.frontier
    ax.plot(front["x"], front["y"], "o-", color="C0", label="non-dominated")
    ends = front[front["role"] != "interior"]
    ax.plot(ends["x"], ends["y"], "s", color="C3", ms=8, mfc="none", label="endpoints")
    cur = result.currency
    ax.set_xlabel(f"{result.x.name} ({money_axis(ax.xaxis, pts['x'], result.x.unit(cur))})")
    ax.set_ylabel(f"{result.y.name} ({money_axis(ax.yaxis, pts['y'], result.y.unit(cur))})")
    ax.set_title(title or f"Trade-off: {result.y.name} against {result.x.name}", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    return _png(fig)
