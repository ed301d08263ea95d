"""Concave piecewise-linear benefit curves (diminishing returns), exact as an LP.

A curve is a list of segments ``[up_to, factor]``: the gain from the previous breakpoint up
to ``up_to`` times the baseline is valued at ``factor`` times the full value per unit
(``up_to`` null: no end; after a last bounded segment the value per unit is 0). Factors are
non-increasing, so the curve is concave. With a gain :math:`g` (a delivered reduction, a
habitat gain) and baseline :math:`b`:

.. math::
    g = \\sum_j z_j - z^-, \\qquad 0 \\le z_j \\le (u_j - u_{j-1})\\, b, \\qquad z^- \\ge 0,
    \\qquad \\text{value} = \\sum_j \\varphi_j z_j - \\varphi_1 z^-

Because :math:`\\varphi_1 \\ge \\varphi_2 \\ge \\dots` and the value is maximised, the
segments fill in order and the LP value equals the curve at :math:`g` (no binaries). A
negative gain (an action that adds to a load) is valued at the first slope.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression

Curve = list[tuple[float | None, float]]
"""Segments ``(up_to, factor)``; see the module docstring."""


def curve_problem(curve: Sequence[Sequence[Any]]) -> str | None:
    """What is wrong with a curve, or None: breakpoints increasing and positive, only the
    last one open, factors in [0, 1] and non-increasing (concave)."""
    if not curve:
        return "a curve needs at least one segment [up_to, factor]"
    last_up, last_factor = 0.0, 1.0
    for j, (up_to, factor) in enumerate(curve):
        if not 0 <= factor <= last_factor:
            return (f"segment {j + 1}: factor {factor:g} must be in [0, {last_factor:g}] "
                    "(factors may only fall: diminishing returns)")
        if up_to is None:
            if j != len(curve) - 1:
                return f"segment {j + 1}: only the last segment may be open (up_to null)"
        elif up_to <= last_up:
            return (f"segment {j + 1}: up_to {up_to:g} must exceed {last_up:g} (breakpoints "
                    "are increasing shares of the baseline)")
        else:
            last_up = up_to
        last_factor = factor
    return None


def widths(curve: Curve, base: float) -> list[float | None]:
    """Absolute width of each segment for a baseline ``base`` (None: open)."""
    out: list[float | None] = []
    start = 0.0
    for up_to, _factor in curve:
        if up_to is None:
            out.append(None)
        else:
            out.append(max(up_to - start, 0.0) * max(base, 0.0))
            start = up_to
    return out


def concave_value(curve: Curve, base: float, gain: float) -> float:
    """The curve at ``gain``: full-value units (multiply by the value per unit)."""
    if gain < 0:
        return curve[0][1] * gain
    total, left = 0.0, gain
    for width, (_up, factor) in zip(widths(curve, base), curve, strict=True):
        part = left if width is None else min(left, width)
        total += factor * part
        left -= part
        if left <= 0:
            break
    return total


def fill(curve: Curve, base: float, gain: float) -> tuple[list[float], float]:
    """Segment amounts and the negative part that represent ``gain`` (in order)."""
    if gain < 0:
        return [0.0] * len(curve), -gain
    parts, left = [], gain
    for width in widths(curve, base):
        part = left if width is None else min(left, width)
        parts.append(part)
        left -= part
    return parts, 0.0


class CurveBlock:
    """The segment variables and links of several curves on one Pyomo block.

    Pyomo: ``<prefix>_seg[i]`` (segment amounts), ``<prefix>_neg[n]`` (negative part) and
    ``<prefix>_split[n]`` (gain = segments − negative part), numbered in the order given.
    """

    def __init__(self, block: pyo.Block, prefix: str,
                 items: list[tuple[Hashable, Curve, float, Any]]) -> None:
        """``items``: (key, curve, baseline, gain expression) per curved gain."""
        self.prefix = prefix
        self.items = items
        bounds: list[float | None] = []
        self.spans: list[range] = []
        for _key, curve, base, _expr in items:
            start = len(bounds)
            bounds += widths(curve, base)
            self.spans.append(range(start, len(bounds)))
        seg = pyo.Var(range(len(bounds)), bounds=lambda _b, i: (0.0, bounds[i]))
        neg = pyo.Var(range(len(items)), bounds=(0.0, None))
        block.add_component(f"{prefix}_seg", seg)
        block.add_component(f"{prefix}_neg", neg)
        self.seg, self.neg = seg, neg
        block.add_component(f"{prefix}_split", pyo.Constraint(
            range(len(items)), rule=lambda _b, n: sum(seg[i] for i in self.spans[n])
            - neg[n] == items[n][3]))

    def values(self) -> dict[Hashable, Any]:
        """Key -> the curve's value expression (full-value units)."""
        out = {}
        for n, (key, curve, _base, _expr) in enumerate(self.items):
            idx = self.spans[n]
            factors = [f for _u, f in curve]
            out[key] = LinearExpression(constant=0.0, linear_coefs=[*factors, -factors[0]],
                                        linear_vars=[*(self.seg[i] for i in idx), self.neg[n]])
        return out

    def assign(self, gains: dict[Hashable, float]) -> None:
        """Set the segment variables to represent the gains of a plan (verification)."""
        for n, (key, curve, base, _expr) in enumerate(self.items):
            parts, negative = fill(curve, base, float(gains[key]))
            for i, part in zip(self.spans[n], parts, strict=True):
                self.seg[i].set_value(part, skip_validation=True)
            self.neg[n].set_value(negative, skip_validation=True)


def pro_rata(total_value: float, total_gain: float, contributions: np.ndarray) -> np.ndarray:
    """Share a curve's value among contributors in proportion to their gains."""
    if total_gain == 0:
        return np.zeros_like(contributions)
    return total_value * contributions / total_gain
