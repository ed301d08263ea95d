"""Constraints on the order and pace of work over planning years: precedence between
actions in a subunit, and how much of an action can be started per year."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
from pydantic import Field, NonNegativeFloat, NonNegativeInt

from dss.errors import Issue
from dss.optimize.components.base import Component, Params, Role, register
from dss.optimize.context import BuildContext


def _members(groups: np.ndarray) -> dict[int, np.ndarray]:
    """Group number -> indices of the options in it (-1: in none), in index order."""
    order = np.argsort(groups, kind="stable")
    order = order[groups[order] >= 0]
    uniq, starts = np.unique(groups[order], return_index=True)
    ends = np.append(starts[1:], len(order)) if len(starts) else starts
    return {int(g): order[a:b] for g, a, b in zip(uniq, starts, ends, strict=True)}


def _unknown_actions(comp: Component, ctx: BuildContext, names: list[tuple[str, str]]
                     ) -> list[Issue]:
    known = set(ctx.study.actions["action_id"])
    return [Issue("model", f"unknown action {a!r} (known: {', '.join(sorted(known))})", None,
                  f"components.{comp.name}.{where}") for where, a in names if a not in known]


class PrecedenceRule(Params):
    """One rule: ``action`` requires ``requires`` first, in the same subunit."""

    action: str
    """The action that must wait (e.g. scar_revegetation)."""
    requires: str
    """The action that must come first (e.g. debris_flow_works)."""
    lag_years: NonNegativeInt = 1
    """Years between the two: 1 = the required action's share counts from the next year,
    0 = the same year is enough."""


class PrecedenceParams(Params):
    """Parameters of :class:`Precedence`."""

    rules: list[PrecedenceRule] = Field(default_factory=list)
    """Precedence rules."""


@register
class Precedence(Component):
    """An action may be started in a subunit only as far as another has been started there
    before it (a check dam in a debris-flow gully before the landslide scar below it is
    revegetated).

    For a rule (:math:`a` requires :math:`b`, lag :math:`\\ell`), in every subunit
    :math:`i` where both can be done and every planning year :math:`t`, the share of
    :math:`a`'s capacity started by :math:`t` is at most the share of :math:`b`'s started
    by :math:`t - \\ell`:

    .. math:: \\frac{1}{\\bar x_{ia}} \\sum_{y \\le t} x_{iay} \\le
              \\frac{1}{\\bar x_{ib}} \\sum_{y \\le t - \\ell} x_{iby}

    Without planning years there is one plan and the rule reads
    :math:`x_{ia} / \\bar x_{ia} \\le x_{ib} / \\bar x_{ib}`. Subunits where :math:`b` cannot
    be done are not restricted. Pyomo: ``order[r, i, t]`` (rule number, subunit, year; year
    0 without planning years).
    """

    type_name = "precedence"
    role = Role.CONSTRAINT
    Params = PrecedenceParams

    def check(self, ctx: BuildContext) -> list[Issue]:
        names = [(f"rules.{n}.{f}", getattr(r, f)) for n, r in enumerate(self.params.rules)
                 for f in ("action", "requires")]
        issues = _unknown_actions(self, ctx, names)
        issues += [Issue("model", "an action cannot require itself", None,
                         f"components.{self.name}.rules.{n}")
                   for n, r in enumerate(self.params.rules) if r.action == r.requires]
        return issues

    def build(self, block: pyo.Block, ctx: BuildContext) -> None:
        opts = ctx.options
        action = opts["action_id"].to_numpy()
        pos = ctx.option_subunit_pos
        cap = opts["capacity"].to_numpy(float)
        phasing = ctx.phasing
        year = phasing.option_year if phasing is not None else np.zeros(len(opts), np.int64)
        years = phasing.years if phasing is not None else (0,)
        subunit_ids = ctx.study.subunits["subunit_id"].astype(str).to_numpy()
        rows: dict[tuple[int, str, int], tuple[np.ndarray, np.ndarray]] = {}
        for r, rule in enumerate(self.params.rules):
            is_a, is_b = action == rule.action, action == rule.requires
            both = np.zeros(len(subunit_ids) + 1, bool)
            both[np.intersect1d(pos[is_a], pos[is_b])] = True
            lag = rule.lag_years if phasing is not None else 0
            for t in years:
                counted = (is_a & (year <= t)) | (is_b & (year <= t - lag))
                sign = np.where(is_a, 1.0, -1.0)
                groups = np.where(counted & both[pos], pos, -1)
                for g, idx in _members(groups).items():
                    if is_a[idx].any():
                        rows[r, str(subunit_ids[g]), int(t)] = (idx, sign[idx] / cap[idx])
        self.rows = rows
        block.order = pyo.Constraint(list(rows), rule=lambda _b, *key: ctx.linear(
            rows[key][0], rows[key][1]) <= 0)


class YearlyCapacityParams(Params):
    """Parameters of :class:`YearlyCapacity`."""

    per_action: dict[str, NonNegativeFloat] = Field(default_factory=dict)
    """Action -> most that can be started per year in the whole study (action's unit)."""
    per_action_township: dict[str, dict[str, NonNegativeFloat]] = Field(default_factory=dict)
    """Action -> township -> most that can be started there per year (e.g. the hectares a
    township's teams can plant, or the seedlings its nurseries grow, per year)."""
    per_agency: dict[str, dict[str, NonNegativeFloat]] = Field(default_factory=dict)
    """Agency -> unit -> most that the agency can start per year over all its actions
    measured in that unit (e.g. forestry: {ha: 300}: its teams treat 300 ha a year, whatever
    the action)."""


@register
class YearlyCapacity(Component):
    """How much of an action can be started per planning year (teams, seedlings, crews).

    .. math:: \\sum_{k \\in K_{a,g},\\ y_k = t} x_k \\le \\kappa_{a,g} \\quad \\forall t

    over all options of action :math:`a` (``per_action``) or those in township :math:`g`
    (``per_action_township``), and for an agency :math:`g` and unit :math:`u`
    (``per_agency``) over the options of every action of :math:`g` measured in :math:`u`:

    .. math:: \\sum_{k:\\ g(a_k) = g,\\ u(a_k) = u,\\ y_k = t} x_k \\le \\kappa_{g,u}
              \\quad \\forall t

    Needs planning years. Pyomo: ``action[a, t]``, ``township[a, g, t]``,
    ``agency[g, u, t]``.
    """

    type_name = "yearly_capacity"
    role = Role.CONSTRAINT
    Params = YearlyCapacityParams

    def check(self, ctx: BuildContext) -> list[Issue]:
        p = self.params
        issues = _unknown_actions(self, ctx, [(f"per_action.{a}", a) for a in p.per_action]
                                  + [(f"per_action_township.{a}", a)
                                     for a in p.per_action_township])
        towns = set(ctx.study.subunits["township"])
        issues += [Issue("model", f"unknown township {g!r} (known: {', '.join(sorted(towns))})",
                         None, f"components.{self.name}.per_action_township.{a}.{g}")
                   for a, by_town in p.per_action_township.items() for g in by_town
                   if g not in towns]
        issues += self._agency_problems(ctx)
        if ctx.phasing is None and (p.per_action or p.per_action_township or p.per_agency):
            issues.append(Issue("model", "capacities per year need planning years (set "
                                         "settings.years, e.g. [2017, 2018, 2019])", None,
                                f"components.{self.name}"))
        return issues

    def _agency_problems(self, ctx: BuildContext) -> list[Issue]:
        """Unknown agencies, and units none of an agency's actions is measured in."""
        actions = ctx.study.actions
        known = set(actions["agency"]) | set(ctx.study.agencies["agency_id"])
        issues = []
        for g, by_unit in self.params.per_agency.items():
            where = f"components.{self.name}.per_agency.{g}"
            if g not in known:
                issues.append(Issue("model", f"unknown agency {g!r} (known: "
                                             f"{', '.join(sorted(known))})", None, where))
                continue
            units = sorted(set(actions.loc[actions["agency"] == g, "unit"]))
            issues += [Issue("model", f"no action of agency {g!r} is measured in {u!r} (its "
                                      f"units: {', '.join(units) or 'none'})", None,
                             f"{where}.{u}") for u in by_unit if u not in units]
        return issues

    def build(self, block: pyo.Block, ctx: BuildContext) -> None:
        opts = ctx.options
        action = opts["action_id"].to_numpy()
        town = opts["township"].to_numpy()
        agency, unit = opts["agency"].to_numpy(), opts["unit"].to_numpy()
        year = ctx.phasing.option_year
        rows: dict[str, dict[tuple, tuple[np.ndarray, float]]] = {
            "action": {}, "township": {}, "agency": {}}
        for t in ctx.phasing.years:
            for g, by_unit in sorted(self.params.per_agency.items()):
                for u, limit in sorted(by_unit.items()):
                    rows["agency"][g, u, t] = (
                        np.flatnonzero((agency == g) & (unit == u) & (year == t)), limit)
            for a, limit in sorted(self.params.per_action.items()):
                rows["action"][a, t] = (np.flatnonzero((action == a) & (year == t)), limit)
            for a, by_town in sorted(self.params.per_action_township.items()):
                for g, limit in sorted(by_town.items()):
                    rows["township"][a, g, t] = (
                        np.flatnonzero((action == a) & (town == g) & (year == t)), limit)
        for name, by_key in rows.items():
            block.add_component(name, pyo.Constraint(
                list(by_key), rule=lambda _b, *key, by_key=by_key: ctx.linear(
                    by_key[key][0], np.ones(len(by_key[key][0]))) <= float(by_key[key][1])))
