"""Targets with a sense: at least (``>=``), at most (``<=``, upper-bound targets) or exactly
(``=``), under every objective (prioritizr's ``add_manual_targets`` ``sense`` column).

For a target :math:`t` with amount :math:`T_t > 0` and held amount :math:`h_t`
(:mod:`dss.planning.parts`), the relative shortfall is

.. math::
   s_t = \\frac{\\max(0, T_t - h_t)}{T_t} \\;(\\ge), \\quad
   s_t = \\frac{\\max(0, h_t - T_t)}{T_t} \\;(\\le), \\quad
   s_t = \\frac{|h_t - T_t|}{T_t} \\;(=)

i.e. the relative excess of an upper-bound target counts as its shortfall (prioritizr's own
rows, :math:`h_t + s_t \\le T_t`, would let :math:`s_t = 0` always). Targets with
:math:`T_t \\le 0` take no part in the shortfall objectives, as before. Bounds
:math:`L_t \\le h_t \\le U_t` (the sums of the negative and of the positive coefficients of
:math:`h_t`) make the "met" rows of the max-features objective exact with negative amounts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pyomo.environ as pyo

if TYPE_CHECKING:  # pragma: no cover
    from dss.planning.compile import Model
    from dss.planning.problem import Target

SENSES = (">=", "<=", "=")
"""Target senses."""


def held_bounds(model: Model, target: Target) -> tuple[float, float]:
    """:math:`(L_t, U_t)`: the least and the most the target's feature can hold."""
    coefs = np.asarray(model.held(target).linear_coefs, dtype=float)
    return float(coefs[coefs < 0].sum()), float(coefs[coefs > 0].sum())


def met(targets: tuple[Target, ...] | list[Target], held: np.ndarray,
        tolerance: float = 1e-6) -> np.ndarray:
    """Whether each target is met by the held amounts."""
    out = np.zeros(len(targets), dtype=bool)
    for k, t in enumerate(targets):
        slack = tolerance * max(1.0, abs(t.amount))
        low = held[k] >= t.amount - slack
        high = held[k] <= t.amount + slack
        out[k] = low if t.sense == ">=" else high if t.sense == "<=" else low and high
    return out


def relative_shortfall(targets: tuple[Target, ...] | list[Target], held: np.ndarray
                       ) -> np.ndarray:
    """:math:`s_t` of each target (0 for :math:`T_t \\le 0`)."""
    out = np.zeros(len(targets))
    for k, t in enumerate(targets):
        if t.amount <= 0:
            continue
        below, above = max(0.0, t.amount - held[k]), max(0.0, held[k] - t.amount)
        gap = below if t.sense == ">=" else above if t.sense == "<=" else below + above
        out[k] = gap / t.amount
    return out


def add_hard_targets(model: Model, block: pyo.Block) -> None:
    """:math:`h_t \\;\\{\\ge, \\le, =\\}\\; T_t` for every target (min set, min penalties);
    ``>=`` targets with :math:`T_t \\le 0` are skipped when the feature cannot go negative
    (they always hold)."""
    block.target = pyo.ConstraintList()
    for t in model.problem.targets:
        held = model.held(t)
        if t.sense == ">=":
            if t.amount > 0 or held_bounds(model, t)[0] < t.amount:
                block.target.add(held >= t.amount)
        elif t.sense == "<=":
            block.target.add(held <= t.amount)
        else:
            block.target.add(held == t.amount)


def add_met_rows(model: Model, block: pyo.Block, met_vars: Any) -> None:
    """Binary :math:`u_t = 1` only if target :math:`t` is met:
    :math:`h_t \\ge T_t u_t + L_t (1 - u_t)` (``>=``) and
    :math:`h_t \\le T_t u_t + U_t (1 - u_t)` (``<=``); both for ``=``."""
    block.met_rows = pyo.ConstraintList()
    for k, t in enumerate(model.problem.targets):
        held = model.held(t)
        low, high = held_bounds(model, t)
        if t.sense in (">=", "="):
            block.met_rows.add(held - (t.amount - min(low, t.amount)) * met_vars[k]
                               >= min(low, t.amount))
        if t.sense in ("<=", "="):
            block.met_rows.add(held + (max(high, t.amount) - t.amount) * met_vars[k]
                               <= max(high, t.amount))


def add_shortfall_vars(model: Model, block: pyo.Block) -> list[int]:
    """Relative shortfall variables :math:`\\sigma_t \\ge s_t` of the targets with
    :math:`T_t > 0`: :math:`h_t + T_t \\sigma_t \\ge T_t` (``>=``, ``=``) and
    :math:`h_t - T_t \\sigma_t \\le T_t` (``<=``, ``=``); returns those targets'
    positions."""
    targets = model.problem.targets
    active = [k for k, t in enumerate(targets) if t.amount > 0]
    block.shortfall = pyo.Var(active, bounds=(0, None))
    block.cover = pyo.ConstraintList()
    for k in active:
        t = targets[k]
        held = model.held(t)
        if t.sense in (">=", "="):
            block.cover.add(held + t.amount * block.shortfall[k] >= t.amount)
        if t.sense in ("<=", "="):
            block.cover.add(held - t.amount * block.shortfall[k] <= t.amount)
    return active
