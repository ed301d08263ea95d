"""Livelihoods: what a plan does to the income of the people who live in each township.

Per unit of option :math:`k` (action :math:`a(k)` in subunit :math:`i(k)`, township
:math:`g(k)`), over the planning horizon :math:`H` years, from ``action_livelihoods.csv``:

.. math::
    \\ell_k = H\\,(\\text{lost}_a + \\text{core}_i\\,\\text{lost}^{core}_a), \\quad
    c_k = \\min(T_a, H)\\,\\text{comp}_a, \\quad
    w_k = H\\,\\text{wages}_a + \\text{works}_a, \\quad
    \\tau_k = H\\,\\text{tourism}_a, \\quad
    j_k = H\\,\\text{jobs}_a + \\text{works\\_jobs}_a

(income lost, compensation received over its legal period :math:`T_a`, wages, tourism income,
all in currency over the horizon; :math:`j_k` job-years; :math:`\\text{core}_i` the subunit's
core-zone share). The township's net income change is
:math:`N_g = \\sum_{k \\in K_g} (c_k + w_k + \\tau_k - \\ell_k) x_k`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pydantic import Field

from dss.errors import Issue
from dss.optimize.components.base import Component, Params, Role, register
from dss.optimize.context import BuildContext

PARTS = ("income_lost", "compensation", "wages", "tourism", "net", "job_years")
"""Per-unit livelihood figures of each option (see the module docstring)."""


def option_livelihoods(ctx: BuildContext) -> pd.DataFrame:
    """Per unit of each option: income_lost, compensation, wages, tourism, net (currency
    over the horizon) and job_years (computed once per build)."""
    return ctx.memo("option_livelihoods", lambda: _per_unit(ctx))


def _per_unit(ctx: BuildContext) -> pd.DataFrame:
    horizon = float(ctx.config.settings.horizon_years)
    table = ctx.study.action_livelihoods
    n = ctx.n_options
    if table is None or not len(table):
        return pd.DataFrame({p: np.zeros(n) for p in PARTS})
    rows = pd.Index(table["action_id"]).get_indexer(ctx.options["action_id"])
    has = rows >= 0

    def column(name: str) -> np.ndarray:
        values = np.append(table[name].to_numpy(dtype=float), 0.0)
        return np.where(has, values[rows], 0.0)

    core = ctx.study.subunits["share_core"].to_numpy(float)[ctx.option_subunit_pos]
    years = column("compensation_years")
    years = np.where(np.isnan(years) | ~has, horizon, np.minimum(years, horizon))
    lost = horizon * (column("income_lost") + core * column("income_lost_core"))
    comp = years * column("compensation")
    wages = horizon * column("wages") + column("works_wages")
    tourism = horizon * column("tourism")
    return pd.DataFrame({
        "income_lost": lost, "compensation": comp, "wages": wages, "tourism": tourism,
        "net": comp + wages + tourism - lost,
        "job_years": horizon * column("jobs") + column("works_job_years")})


def township_residents(ctx: BuildContext) -> dict[str, float]:
    """Resident population per township (sum over its subunits)."""
    sub = ctx.study.subunits
    return sub.groupby("township")["population"].sum().astype(float).to_dict()


class LivelihoodsParams(Params):
    """Parameters of :class:`Livelihoods`."""

    max_loss_per_resident: float | None = Field(None, ge=0)
    """No township's net income may fall by more than this, per resident and year
    (currency); null: no limit."""
    min_coverage: float | None = Field(None, ge=0)
    """In every township where the plan costs income, compensation must cover at least
    this share of the income lost (1 = all of it); null: no limit."""
    compensation_budget: float | None = Field(None, ge=0)
    """Most compensation paid over the horizon, all townships together (currency)."""
    job_value: float = Field(0.0, ge=0)
    """Value of one job-year created (currency), counted as a benefit."""
    income_weight: float = Field(0.0, ge=0)
    """Weight of the net income change of the townships in the benefit (1: one yuan of
    local income is worth one yuan of benefit)."""


@register
class Livelihoods(Component):
    """The plan's effect on local incomes per township, with limits and a value on jobs.

    With :math:`N_g`, :math:`\\ell_g = \\sum_{k \\in K_g} \\ell_k x_k`,
    :math:`c_g = \\sum_{k \\in K_g} c_k x_k` (module docstring), residents :math:`P_g`, horizon
    :math:`H`:

    .. math::
        N_g \\ge -X H P_g, \\qquad c_g \\ge \\gamma\\,\\ell_g, \\qquad
        \\sum_g c_g \\le B_c, \\qquad
        \\text{benefit} = v_J \\sum_k j_k x_k + \\omega \\sum_g N_g

    (:math:`X` = ``max_loss_per_resident``, :math:`\\gamma` = ``min_coverage``,
    :math:`B_c` = ``compensation_budget``). Pyomo: ``loss_limit[g]``, ``coverage[g]``,
    ``compensation_budget``; ``livelihoods.csv`` reports every township.
    """

    type_name = "livelihoods"
    role = Role.BENEFIT
    Params = LivelihoodsParams

    def check(self, ctx: BuildContext) -> list[Issue]:
        if ctx.study.action_livelihoods is None or not len(ctx.study.action_livelihoods):
            return [Issue("model", "the study has no action_livelihoods.csv (add it to the "
                                   "inputs folder; see `dss inputs action_livelihoods`)", None,
                          f"components.{self.name}")]
        return []

    def _sums(self, ctx: BuildContext, part: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Township -> (options, per-unit ``part``) over its options with a non-zero one."""
        values = option_livelihoods(ctx)[part].to_numpy()
        groups = ctx.options.groupby("township", sort=True).indices
        return {g: (idx[values[idx] != 0], values[idx][values[idx] != 0])
                for g, idx in groups.items()}

    def build(self, block: pyo.Block, ctx: BuildContext) -> None:
        p = self.params
        horizon = float(ctx.config.settings.horizon_years)
        if p.max_loss_per_resident is not None:
            net = self._sums(ctx, "net")
            people = township_residents(ctx)
            keys = sorted(g for g, (idx, _v) in net.items() if len(idx))
            block.loss_limit = pyo.Constraint(keys, rule=lambda _b, g: ctx.linear(*net[g])
                                              >= -p.max_loss_per_resident * horizon
                                              * people.get(g, 0.0))
        if p.min_coverage is not None:
            lost, comp = self._sums(ctx, "income_lost"), self._sums(ctx, "compensation")
            keys = sorted(g for g, (idx, _v) in lost.items() if len(idx))

            def coverage(_b, g):
                idx = np.concatenate([comp[g][0], lost[g][0]])
                coef = np.concatenate([comp[g][1], -p.min_coverage * lost[g][1]])
                return ctx.linear(idx, coef) >= 0.0

            block.coverage = pyo.Constraint(keys, rule=coverage)
        if p.compensation_budget is not None:
            values = option_livelihoods(ctx)["compensation"].to_numpy()
            idx = np.flatnonzero(values)
            block.compensation_budget = pyo.Constraint(
                expr=ctx.linear(idx, values[idx]) <= p.compensation_budget)

    def coefficients(self, ctx: BuildContext) -> np.ndarray:
        """Benefit per unit of each option: :math:`v_J j_k + \\omega (c_k + w_k + \\tau_k -
        \\ell_k)`."""
        per = option_livelihoods(ctx)
        return (self.params.job_value * per["job_years"].to_numpy()
                + self.params.income_weight * per["net"].to_numpy())

    def benefit_terms(self, block: pyo.Block, ctx: BuildContext) -> dict[str, Any]:
        coef = self.coefficients(ctx)
        idx = np.flatnonzero(coef)
        return {"livelihoods": ctx.linear(idx, coef[idx])} if len(idx) else {}

    def plan_tables(self, built: Any, result: Any) -> dict[str, pd.DataFrame]:
        """``livelihoods.csv``: per township, the income lost, compensation, wages,
        tourism income, net change (currency over the horizon), job-years, residents and
        the net change per resident and year."""
        return {"livelihoods": township_table(built.ctx, np.asarray(result.amounts, float))}


def township_table(ctx: BuildContext, amounts: np.ndarray) -> pd.DataFrame:
    """Livelihood figures of a plan per township (see :meth:`Livelihoods.plan_tables`)."""
    amounts = np.where(amounts > 1e-9, amounts, 0.0)  # solver round-off is no amount, as in
    per = option_livelihoods(ctx)                       # allocation.csv
    horizon = float(ctx.config.settings.horizon_years)
    towns = ctx.options["township"].to_numpy()
    people = township_residents(ctx)
    cur = ctx.config.settings.currency
    names = sorted(set(people) | set(towns.tolist()))
    rows = []
    for g in names:
        mine = towns == g
        figures = {part: float(per[part].to_numpy()[mine] @ amounts[mine]) for part in PARTS}
        residents = people.get(g, 0.0)
        for part in PARTS:
            rows.append((g, part, figures[part], "job-years" if part == "job_years" else cur))
        rows.append((g, "residents", residents, "persons"))
        rows.append((g, "net_per_resident_year",
                     figures["net"] / (horizon * residents) if residents > 0 else np.nan,
                     f"{cur}/(person yr)"))
    return pd.DataFrame(rows, columns=["township", "metric", "value", "unit"])
