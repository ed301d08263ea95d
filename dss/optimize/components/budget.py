"""The budget component: spending limits in total, per agency and per township, and per
planning year (see :mod:`dss.optimize.year_budgets`)."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
from pydantic import Field, NonNegativeFloat

from dss.errors import Issue
from dss.optimize.components.base import Component, Params, Role, register
from dss.optimize.context import BuildContext
from dss.optimize.year_budgets import assign_year_spend, build_year_budgets


class BudgetParams(Params):
    """Parameters of :class:`Budget`."""

    total: float | None = Field(None, ge=0)
    """Total budget over the planning horizon (currency); null for no total limit."""
    per_agency: dict[str, NonNegativeFloat] = Field(default_factory=dict)
    """Budget per owning agency (currency), e.g. forestry: 2.0e7."""
    per_township: dict[str, NonNegativeFloat] = Field(default_factory=dict)
    """Budget per township (currency)."""
    per_year: dict[int, NonNegativeFloat] = Field(default_factory=dict)
    """Budget of each planning year (currency; needs settings.years, one per year)."""
    per_agency_year: dict[str, dict[int, NonNegativeFloat]] = Field(default_factory=dict)
    """Agency -> planning year -> budget (currency)."""
    per_township_year: dict[str, dict[int, NonNegativeFloat]] = Field(default_factory=dict)
    """Township -> planning year -> budget (currency)."""
    carry_over: bool = False
    """Money a year leaves unspent may be spent in later years (each year's budget then
    limits the spend up to that year against the budgets up to that year)."""


@register
class Budget(Component):
    """Spending limits: in total, and optionally per agency and per township.

    Formulation, with cost :math:`C(K) = \\sum_{k \\in K} c_k x_k + f_k u_k`:

    .. math::
        C(\\text{all}) \\le B, \\qquad C(K_g) \\le B_g \\quad \\forall g \\in
        \\text{agencies} \\cup \\text{townships}

    Pyomo: ``total`` (scalar constraint; its dual is the marginal value of the budget),
    ``agency[g]``, ``township[g]``.

    With planning years (:mod:`dss.optimize.phasing`), the spend of year :math:`t` of a
    group :math:`K_g` (all options, an agency's, a township's) is
    :math:`C_t(K_g) = \\sum_{k \\in K_g} (c^{cap}_k [y_k = t] + c^{ann}_k [y_k \\le t]) x_k
    + \\sum_{k \\in K_g, y_k = t} f_k u_k`, and

    .. math:: C_t(K_g) \\le B_{g,t} \\quad\\text{or, with carry-over,}\\quad
              \\sum_{s \\le t} C_s(K_g) \\le \\sum_{s \\le t} B_{g,s}

    Pyomo: ``year[t]``, ``agency_year[g, t]``, ``township_year[g, t]``; ``total`` is then
    written on the yearly spend (the same whole cost; see
    :func:`dss.optimize.year_budgets.build_year_budgets`).
    """

    type_name = "budget"
    role = Role.CONSTRAINT
    Params = BudgetParams

    def check(self, ctx: BuildContext) -> list[Issue]:
        issues = []
        for field_name, column in (("per_agency", "agency"), ("per_township", "township")):
            if not getattr(self.params, field_name):
                continue
            known = set(ctx.options[column].unique()) | set(
                ctx.study.actions["agency"] if column == "agency" else
                ctx.study.subunits["township"])
            if column == "agency":  # an agency listed in agencies.csv may own no action yet
                known |= set(ctx.study.agencies["agency_id"])
            for key in getattr(self.params, field_name):
                if key not in known:
                    issues.append(Issue("model", f"unknown {column} {key!r} (known: "
                                                 f"{', '.join(sorted(known))})", None,
                                        f"components.{self.name}.{field_name}.{key}"))
        return issues + self._check_years(ctx)

    def year_budgets(self) -> dict[tuple[str, str], dict[int, float]]:
        """(kind, group) -> year -> budget: kind ``year`` (group ""), ``agency_year`` or
        ``township_year``."""
        p = self.params
        out: dict[tuple[str, str], dict[int, float]] = {}
        if p.per_year:
            out["year", ""] = dict(p.per_year)
        for kind, given in (("agency_year", p.per_agency_year),
                            ("township_year", p.per_township_year)):
            for g, by_year in sorted(given.items()):
                out[kind, g] = dict(by_year)
        return out

    def _check_years(self, ctx: BuildContext) -> list[Issue]:
        budgets = self.year_budgets()
        if not budgets and not self.params.carry_over:
            return []
        loc = f"components.{self.name}"
        if ctx.phasing is None:
            return [Issue("model", "budgets per year and carry_over need planning years (set "
                                   "settings.years, e.g. [2017, 2018, 2019])", None, loc)]
        years = set(ctx.phasing.years)
        known = {"agency_year": set(ctx.study.actions["agency"])
                 | set(ctx.study.agencies["agency_id"]),
                 "township_year": set(ctx.study.subunits["township"])}
        issues = []
        for (kind, g), by_year in budgets.items():
            where = f"{loc}.per_{kind}" + (f".{g}" if g else "")
            if g and g not in known[kind]:
                issues.append(Issue("model", f"unknown {kind.split('_')[0]} {g!r} (known: "
                                             f"{', '.join(sorted(known[kind]))})", None, where))
            if set(by_year) != years:
                issues.append(Issue("model", f"give one budget for each planning year "
                                             f"{sorted(years)} (got {sorted(by_year)})", None,
                                    where))
        return issues

    def build(self, block: pyo.Block, ctx: BuildContext) -> None:
        p = self.params
        if p.total is not None and ctx.phasing is None:
            block.total = pyo.Constraint(expr=ctx.model.cost <= p.total)
        for field_name, column, comp in (("per_agency", "agency", "agency"),
                                         ("per_township", "township", "township")):
            limits = getattr(p, field_name)
            if not limits:
                continue
            keys = sorted(limits)
            members = ctx.options.groupby(column).indices

            def rule(_b, g, members=members, limits=limits, column=column):
                if column == "township":
                    spend = ctx.township_spend.get(g)
                    return pyo.Constraint.Skip if spend is None else spend <= limits[g]
                return ctx.cost_of(_mask(ctx.n_options, members.get(g))) <= limits[g]

            block.add_component(comp, pyo.Constraint(keys, rule=rule))
        if ctx.phasing is not None:
            build_year_budgets(block, ctx, self.year_budgets(), self.params.carry_over,
                               p.total)

    def assign_auxiliary(self, block: pyo.Block, ctx: BuildContext, amounts: np.ndarray
                         ) -> None:
        assign_year_spend(block, ctx, amounts)


def _mask(n: int, idx) -> np.ndarray:
    """Boolean mask of length ``n`` that is true at ``idx`` (none when idx is None)."""
    mask = np.zeros(n, bool)
    if idx is not None:
        mask[idx] = True
    return mask
