"""Multi-period phasing: each option repeated once per planning year, with maturation,
discounting and the money each start spends year by year.

With ``settings.years`` :math:`Y = (y_0, \\dots, y_n)`, benefit horizon :math:`E`
(``settings.benefit_horizon``, default :math:`y_0 + \\lceil H \\rceil - 1` with
:math:`H` = ``horizon_years``) and discount rate :math:`r`, the option :math:`(i, a)` of
:mod:`dss.optimize.options` becomes one option :math:`k = (i, a, y)` per planning year
:math:`y`: :math:`x_k` is the amount of action :math:`a` *started* in subunit :math:`i` in
year :math:`y`.

Maturation (a linear ramp over ``maturity_years`` :math:`M_a` of actions.csv): the share of
its full effect an action started in :math:`y` has in year :math:`t` is

.. math:: m_a(t - y) = \\begin{cases} 0 & t < y \\\\ 1 & M_a = 0,\\ t \\ge y \\\\
          \\min(1, (t - y) / M_a) & M_a > 0,\\ t \\ge y \\end{cases}

A maturation curve per action (``settings.maturation``: shares :math:`s_{a,0}, \\dots,
s_{a,n}` by years since the start, non-decreasing in [0, 1], :math:`s_{a,n} = 1`) replaces
the ramp: :math:`m_a(\\text{age}) = s_{a,\\min(\\text{age}, n)}` for :math:`\\text{age} \\ge 0`.

Benefit weight (effects counted year by year to :math:`E` and discounted, as a share of an
effect at full strength from :math:`y_0` to :math:`E`):

.. math:: w_k = \\frac{\\sum_{t=y}^{E} \\delta_t\\, m_a(t - y)}{\\sum_{t=y_0}^{E} \\delta_t},
          \\qquad \\delta_t = (1 + r)^{-(t - y_0)}

The effect columns of the phased options (``d_*``, ``habitat_gain``, ``reconnected_km``) are
the full effects times :math:`w_k`, so every benefit (linear or on a concave curve) values
the discounted, maturity-weighted effect; limits and targets that hold *in a year* use the
full effects times :math:`m_a` of that year (:meth:`Phasing.share_at`). An option started in
:math:`y_0` with no maturation has :math:`w_k = 1`: one planning year with no maturation
values a plan exactly as the model without years.

Costs: the capital cost :math:`c^{cap}_a` falls in the start year, the annual cost
:math:`c^{ann}_a` in every year from the start year to :math:`E`; the option's cost is
:math:`c_k = c^{cap}_a + (E - y + 1)\\, c^{ann}_a` (:math:`= c^{cap}_a + H c^{ann}_a` for
:math:`y = y_0`, as without years). Spend in planning year :math:`t` is
:math:`\\sum_k (c^{cap}_k [y_k = t] + c^{ann}_k [y_k \\le t]) x_k + \\sum_{k: y_k = t} f_k u_k`
(:meth:`Phasing.spend_coefficients`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dss.config.model import Settings
from dss.data.study import Study
from dss.errors import InputError, Issue

EFFECT_COLUMNS = ("d_sediment", "d_tn", "d_tp", "d_carbon", "habitat_gain", "reconnected_km")
"""Option columns that hold effects: scaled by the benefit weight in a phased frame."""


def benefit_end(settings: Settings) -> int:
    """The last year whose effects are counted (:math:`E`)."""
    years = settings.years or []
    if settings.benefit_horizon is not None:
        return int(settings.benefit_horizon)
    return int(years[0] + math.ceil(settings.horizon_years) - 1)


def maturity_share(age: np.ndarray, maturity_years: np.ndarray) -> np.ndarray:
    """:math:`m_a(\\text{age})`: share of the full effect ``age`` years after the start."""
    age = np.asarray(age, dtype=float)
    m = np.asarray(maturity_years, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ramp = np.where(m > 0, np.clip(age / np.where(m > 0, m, 1.0), 0.0, 1.0), 1.0)
    return np.where(age < 0, 0.0, ramp)


def curve_problems(curves: dict[str, list[float]], actions: set[str],
                   source: str = "model") -> list[Issue]:
    """Problems with ``settings.maturation``, each located at its action: unknown actions,
    empty curves, shares outside [0, 1], falling shares, a last share other than 1."""
    issues = []
    for action, shares in curves.items():
        where = f"settings.maturation.{action}"

        def bad(text: str, where: str = where) -> None:
            issues.append(Issue(source, text, None, where))

        if action not in actions:
            bad(f"unknown action {action!r} (known: {', '.join(sorted(actions))})")
        if not shares:
            bad("give the share of the full effect for each year since the start, e.g. "
                "[0, 0.5, 1]")
            continue
        outside = [f"{v:g}" for v in shares if not 0.0 <= v <= 1.0]
        if outside:
            bad(f"shares must be between 0 and 1 (got {', '.join(outside)})")
        falls = [j for j in range(1, len(shares)) if shares[j] < shares[j - 1]]
        if falls:
            j = falls[0]
            bad(f"shares must never fall: year {j} after the start has {shares[j]:g}, "
                f"after {shares[j - 1]:g} the year before")
        if shares[-1] != 1.0:
            bad(f"the last share must be 1 (full effect reached; got {shares[-1]:g}): the "
                "effects of actions.csv are the full effect")
    return issues


def curve_table(curves: dict[str, list[float]], actions: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """Each action's row in a padded table of curves (-1: no curve), and the table (one
    row per curve, padded with its last share)."""
    names = sorted(curves)
    width = max((len(curves[a]) for a in names), default=1)
    table = np.ones((max(len(names), 1), width))
    for r, a in enumerate(names):
        table[r, :len(curves[a])] = curves[a]
        table[r, len(curves[a]):] = curves[a][-1]
    rows = pd.Index(names).get_indexer(actions) if names else np.full(len(actions), -1)
    return np.asarray(rows, dtype=np.int64), table


def curve_share(age: np.ndarray, maturity_years: np.ndarray, curve_row: np.ndarray,
                table: np.ndarray) -> np.ndarray:
    """:math:`m_a(\\text{age})` with maturation curves: the curve where an action has one
    (``curve_row`` >= 0), the ramp of :func:`maturity_share` elsewhere (arrays broadcast)."""
    age = np.asarray(age, dtype=float)
    ramp = maturity_share(age, maturity_years)
    if not (curve_row >= 0).any():
        return ramp
    rows = np.broadcast_to(curve_row, np.broadcast_shapes(age.shape, np.shape(curve_row)))
    cols = np.clip(age, 0, table.shape[1] - 1).astype(np.int64)
    curved = np.where(age < 0, 0.0, table[np.maximum(rows, 0), cols])
    return np.where(rows >= 0, curved, ramp)


@dataclass(frozen=True)
class Phasing:
    """The years of a phased model and, per option, what they imply.

    Attributes:
        years: Planning years.
        end: Benefit horizon :math:`E`.
        discount_rate: :math:`r`.
        option_year: Start year of each option.
        pair: Each option's (subunit, action) as its row in the one-year options frame:
            options of the same pair share land, zone rules and locks.
        maturity_years: :math:`M_a` of each option's action.
        weight: :math:`w_k`.
        capital: Capital cost per unit of each option.
        annual: Annual cost per unit and year of each option.
        full: Full (mature) effect per unit of each option, by column of
            :data:`EFFECT_COLUMNS`.
    """

    years: tuple[int, ...]
    end: int
    discount_rate: float
    option_year: np.ndarray
    pair: np.ndarray
    maturity_years: np.ndarray
    weight: np.ndarray
    capital: np.ndarray
    annual: np.ndarray
    full: dict[str, np.ndarray]
    curve_row: np.ndarray | None = None
    """Each option's row in :attr:`curves` (-1: the ramp); None: no curves."""
    curves: np.ndarray | None = None
    """Maturation curves (:func:`curve_table`)."""

    @property
    def state_years(self) -> list[int]:
        """Years whose state the result tables report: the planning years and :math:`E`."""
        return list(self.years) + ([self.end] if self.end > self.years[-1] else [])

    def share_at(self, year: int | None) -> np.ndarray:
        """:math:`m_a(t - y_k)` of every option in year ``year`` (:math:`E` when None)."""
        t = self.end if year is None else int(year)
        if self.curve_row is None:
            return maturity_share(t - self.option_year, self.maturity_years)
        return curve_share(t - self.option_year, self.maturity_years, self.curve_row,
                           self.curves)

    def effect_at(self, column: str, year: int | None) -> np.ndarray:
        """Effect per unit of every option in a year (full effect times its share)."""
        return self.full[column] * self.share_at(year)

    def spend_coefficients(self, year: int, cumulative: bool = False
                           ) -> tuple[np.ndarray, np.ndarray]:
        """Spend per unit of each option in planning year ``year`` (through ``year`` when
        ``cumulative``), and whether its fixed cost falls in that year (by then)."""
        y = self.option_year
        if cumulative:
            years_paid = np.clip(year - y + 1, 0, None)
            return (np.where(y <= year, self.capital, 0.0) + self.annual * years_paid,
                    y <= year)
        return np.where(y == year, self.capital, 0.0) + self.annual * (y <= year), y == year


def discount_factors(first: int, end: int, rate: float) -> np.ndarray:
    """:math:`\\delta_t` for :math:`t = y_0, \\dots, E`."""
    return (1.0 + rate) ** -np.arange(end - first + 1, dtype=float)


def phase(study: Study, settings: Settings, options: pd.DataFrame, source: str = "model"
          ) -> tuple[pd.DataFrame, Phasing]:
    """The options frame repeated once per planning year, ordered by (subunit, action,
    year), with a ``year`` and a ``benefit_weight`` column, effects weighted by
    :math:`w_k` and costs from the start year (see the module docstring)."""
    years = tuple(int(y) for y in settings.years or ())
    end = benefit_end(settings)
    n, n_years = len(options), len(years)
    pair = np.repeat(np.arange(n), n_years)
    year = np.tile(np.asarray(years, dtype=np.int64), n)
    actions = study.actions.set_index("action_id")
    per_action = actions.reindex(options["action_id"].to_numpy())

    def of(column: str) -> np.ndarray:
        return per_action[column].to_numpy(float)[pair]

    maturity = of("maturity_years")
    issues = curve_problems(settings.maturation, set(actions.index), source)
    if issues:
        raise InputError(issues, "invalid maturation curves")
    curve_row, curves = curve_table(settings.maturation,
                                    options["action_id"].to_numpy()[pair])
    delta = discount_factors(years[0], end, settings.discount_rate)
    # w_k depends on the action and the start year only: computed once per such pair
    code = pd.factorize(options["action_id"])[0][pair] * n_years + (year - years[0])
    _kinds, first, inverse = np.unique(code, return_index=True, return_inverse=True)
    ages = np.arange(len(delta))[None, :] - (year[first] - years[0])[:, None]  # kind x year
    shares = curve_share(ages, maturity[first][:, None], curve_row[first][:, None], curves)
    weight = ((shares * delta[None, :]).sum(axis=1) / delta.sum())[inverse.ravel()]
    capital, annual = of("capital_cost"), of("annual_cost")
    frame = options.iloc[pair].reset_index(drop=True)
    full = {c: frame[c].to_numpy(float) for c in EFFECT_COLUMNS}
    for c in EFFECT_COLUMNS:
        frame[c] = full[c] * weight
    frame["unit_cost"] = capital + (end - year + 1) * annual
    frame["year"] = year
    frame["benefit_weight"] = weight
    return frame, Phasing(years, end, float(settings.discount_rate), year, pair, maturity,
                          weight, capital, annual, full,
                          curve_row if settings.maturation else None, curves)


def year_problems(component: Any, ctx: Any) -> list[Issue]:
    """Problems with a component's ``year`` parameter (a component and its build context):
    it needs planning years and must lie between the first planning year and the benefit
    horizon."""
    year = getattr(component.params, "year", None)
    if year is None:
        return []
    where = f"components.{component.name}.year"
    phasing = ctx.phasing
    if phasing is None:
        return [Issue("model", "a year needs planning years (set settings.years, e.g. "
                               "[2017, 2018, 2019])", None, where)]
    if not phasing.years[0] <= year <= phasing.end:
        return [Issue("model", f"year {year} is outside the planning years and benefit "
                               f"horizon ({phasing.years[0]}-{phasing.end})", None, where)]
    return []
