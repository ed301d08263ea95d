"""Constraint components: land availability, zone rules, locks and equity (the budget is in
:mod:`dss.optimize.components.budget`, imported here so that it registers with them)."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pydantic import Field

from dss.data.schema import ZONES
from dss.errors import Issue
from dss.optimize.components.base import Component, Params, Role, register
from dss.optimize.components.budget import Budget, BudgetParams
from dss.optimize.context import BuildContext

__all__ = ["Budget", "BudgetParams", "Equity", "EquityParams", "LandAvailability",
           "LandParams", "Locks", "LocksParams", "ZoneRule", "ZoneRules", "ZoneRulesParams"]


def _group_constraint(block: pyo.Block, name: str, ctx: BuildContext, groups: np.ndarray,
                      coefs: np.ndarray, rhs: np.ndarray, sense: str = "<=") -> list:
    """Add one constraint per group: ``sum(coefs[k] x_k for k in group) (sense) rhs[group]``.

    ``groups`` maps each option to a group number (-1 = not in any group). Returns the
    group numbers that got a constraint, in index order.
    """
    order = np.argsort(groups, kind="stable")
    sorted_groups = groups[order]
    keep = sorted_groups >= 0
    order, sorted_groups = order[keep], sorted_groups[keep]
    uniq, starts = np.unique(sorted_groups, return_index=True)
    keys = uniq.tolist()
    bound = np.asarray(rhs, dtype=float)[uniq] if len(uniq) else np.zeros(0)
    infinite = np.full(len(keys), np.inf)
    ctx.array_rows(block, name, keys, order, coefs[order], np.append(starts, len(order)),
                   -infinite if sense == "<=" else bound, bound if sense == "<=" else infinite)
    return keys


class LandParams(Params):
    """Parameters of :class:`LandAvailability` (none)."""


@register
class LandAvailability(Component):
    """Actions that compete for the same land (or other resource) share it.

    For each subunit :math:`i` and resource :math:`r` (a land class, untreated
    person-equivalents, hazard sites, active barriers, stream km):

    .. math:: \\sum_{k \\in K(i, r)} x_k \\le A_{i r}

    Pyomo: ``share[g]``, one per (subunit, resource) with two or more competing actions
    (a single action is already bounded by its variable's upper bound :math:`\\bar x_k =
    A_{ir}`).
    """

    type_name = "land"
    role = Role.CONSTRAINT
    Params = LandParams

    def build(self, block: pyo.Block, ctx: BuildContext) -> None:
        opts = ctx.options
        resource_code, resources = pd.factorize(opts["resource"].astype(str))
        pair = ctx.option_subunit_pos * max(len(resources), 1) + resource_code
        codes, uniques = pd.factorize(pair)  # (subunit, resource) groups, first seen first
        counts = np.bincount(codes, minlength=len(uniques))
        groups = np.where(counts[codes] >= 2, codes, -1)
        # the resource itself, not an option's capacity: an integer option's capacity is
        # rounded down, and must not limit a continuous option sharing the same land
        capacity = np.zeros(len(uniques))
        capacity[codes] = opts["resource_capacity"].to_numpy(float)
        self.groups = _group_constraint(block, "share", ctx, groups, np.ones(len(opts)),
                                        capacity)
        subunit_ids = ctx.study.subunits["subunit_id"].astype(str).to_numpy()
        width = max(len(resources), 1)
        at = uniques[np.asarray(self.groups, dtype=np.int64)]
        self.labels = dict(zip(self.groups, zip(subunit_ids[at // width].tolist(),
                                                resources.astype(str).to_numpy()[
                                                    at % width].tolist(), strict=True),
                               strict=True))


class ZoneRule(Params):
    """Rules for one national-park zone."""

    forbidden: list[str] = Field(default_factory=list)
    """Actions never allowed in this zone."""
    allowed: list[str] | None = None
    """If given, the only actions allowed in this zone."""
    required: dict[str, float] = Field(default_factory=dict)
    """Action -> minimum share (0-1) of its capacity in this zone that must be treated."""


class ZoneRulesParams(Params):
    """Parameters of :class:`ZoneRules`: one rule set per zone."""

    core: ZoneRule = ZoneRule()
    """Core protection zone."""
    general: ZoneRule = ZoneRule()
    """General control zone."""
    outside: ZoneRule = ZoneRule()
    """Outside the national park."""


@register
class ZoneRules(Component):
    """National-park implementation rules: actions allowed, required or forbidden per zone.

    A subunit's capacity :math:`\\bar x_k` is spread over its zones by the zone shares
    :math:`\\sigma_{iz}` (land is assumed evenly spread across zones within a subunit). With
    :math:`Z_a` the zones where action :math:`a` is permitted and :math:`\\rho_{az}` the
    required share:

    .. math::
        x_k \\le \\bar x_k \\sum_{z \\in Z_a} \\sigma_{iz}, \\qquad
        x_k \\ge \\bar x_k \\sum_z \\rho_{az} \\sigma_{iz}

    For an integer action both bounds are rounded to whole units (the upper one inwards,
    the lower one outwards), and the upper one starts from the unrounded resource
    (``resource_capacity``): 2.5 ha with 80 % permitted allows 2 whole hectares, not
    :math:`\\lfloor 0.8 \\lfloor 2.5 \\rfloor \\rfloor = 1`.

    Pyomo: ``permitted[k]`` for options whose permitted share is below one, ``required[k]``
    for options with a requirement.
    """

    type_name = "zone_rules"
    role = Role.CONSTRAINT
    Params = ZoneRulesParams

    def check(self, ctx: BuildContext) -> list[Issue]:
        known = set(ctx.study.actions["action_id"])
        issues = []
        for zone in ZONES:
            rule: ZoneRule = getattr(self.params, zone)
            for where, names in (("forbidden", rule.forbidden), ("allowed", rule.allowed or []),
                                 ("required", list(rule.required))):
                for a in names:
                    if a not in known:
                        issues.append(Issue("model", f"unknown action {a!r} (known: "
                                                     f"{', '.join(sorted(known))})", None,
                                            f"components.{self.name}.{zone}.{where}"))
            for a, share in rule.required.items():
                if not 0 <= share <= 1 or a in rule.forbidden:
                    issues.append(Issue("model", "a required share must be in [0, 1] and the "
                                                 "action must not be forbidden in the same zone",
                                        None, f"components.{self.name}.{zone}.required.{a}"))
        return issues

    def shares(self, ctx: BuildContext) -> tuple[np.ndarray, np.ndarray]:
        """Permitted and required share of capacity per option."""
        opts = ctx.options
        pos = ctx.option_subunit_pos  # each option's subunit, as a row of the subunits table
        actions = opts["action_id"].to_numpy()
        permitted = np.zeros(len(opts))
        required = np.zeros(len(opts))
        for zone in ZONES:
            rule: ZoneRule = getattr(self.params, zone)
            share = ctx.study.subunits[f"share_{zone}"].to_numpy(float)[pos]
            ok = ~np.isin(actions, rule.forbidden)
            if rule.allowed is not None:
                ok &= np.isin(actions, rule.allowed)
            permitted += share * ok
            for a, rho in rule.required.items():
                required += share * rho * (actions == a)
        return permitted, required

    def build(self, block: pyo.Block, ctx: BuildContext) -> None:
        permitted, required = self.shares(ctx)
        cap = ctx.options["capacity"].to_numpy(float)
        limit_idx = np.flatnonzero(permitted < 1 - 1e-12)
        need_idx = np.flatnonzero(required > 1e-12)
        av = ctx.amount_vars
        integer = ctx.options["integer"].to_numpy(bool)
        # the permitted part of the resource itself (unrounded), then whole units of it
        resource = ctx.options["resource_capacity"].to_numpy(float)
        upper = np.where(integer, np.floor(resource * permitted + 1e-9), cap * permitted)
        lower = np.where(integer, np.ceil(cap * required - 1e-9), cap * required)
        if ctx.phasing is not None:  # the bounds hold for the sum over start years
            pairs = ctx.pairs()
            ones = np.ones(len(pairs))
            by_pair = np.zeros(int(pairs.max()) + 1 if len(pairs) else 0)
            by_pair[pairs] = upper
            _group_constraint(block, "permitted", ctx, np.where(
                permitted < 1 - 1e-12, pairs, -1), ones, by_pair.copy())
            by_pair[pairs] = lower
            _group_constraint(block, "required", ctx, np.where(
                required > 1e-12, pairs, -1), ones, by_pair, sense=">=")
            return
        block.permitted = pyo.Constraint(limit_idx.tolist(),
                                         rule=lambda _b, k: av[k] <= float(upper[k]))
        block.required = pyo.Constraint(need_idx.tolist(),
                                        rule=lambda _b, k: av[k] >= float(lower[k]))


class LocksParams(Params):
    """Parameters of :class:`Locks`."""

    locked_out: dict[str, list[str] | Literal["all"]] = Field(default_factory=dict)
    """Subunit -> actions excluded there, or ``all`` for every action."""
    locked_in: dict[str, dict[str, float | Literal["all"]] | Literal["all"]] = Field(
        default_factory=dict)
    """Subunit -> {action: minimum amount, or ``all`` for its full capacity}, or ``all``
    for every action at full capacity."""


@register
class Locks(Component):
    """Locked-in and locked-out subunits and (subunit, action) pairs.

    .. math:: x_k = 0 \\;\\; (k \\text{ locked out}), \\qquad
              x_k \\ge m_k \\;\\; (k \\text{ locked in, } m_k \\le \\bar x_k)

    Pyomo: ``out[k]`` and ``in_[k]``.
    """

    type_name = "locks"
    role = Role.CONSTRAINT
    Params = LocksParams

    def _pairs(self, ctx: BuildContext):
        return ctx.option_index()

    def check(self, ctx: BuildContext) -> list[Issue]:
        subs = set(ctx.study.subunits["subunit_id"])
        acts = set(ctx.study.actions["action_id"]) | set(ctx.options["action_id"])  # + barrier
        key, _ = self._pairs(ctx)
        issues = []
        for kind in ("locked_out", "locked_in"):
            for s, what in getattr(self.params, kind).items():
                loc = f"components.{self.name}.{kind}.{s}"
                if s not in subs:
                    issues.append(Issue("model", f"unknown subunit {s!r}", None, loc))
                    continue
                names = [] if what == "all" else list(what)
                for a in names:
                    if a not in acts:
                        issues.append(Issue("model", f"unknown action {a!r}", None, loc))
                    elif (s, a) not in key:
                        issues.append(Issue("model", f"action {a!r} cannot be done in {s!r} "
                                                     "(nothing it applies to there)", None, loc))
                    elif kind == "locked_in" and what[a] != "all":
                        cap = float(ctx.options["capacity"].iat[key[(s, a)]])
                        if float(what[a]) > cap + 1e-9:
                            issues.append(Issue(
                                "model", f"locked-in amount {float(what[a]):g} exceeds the "
                                         f"capacity {cap:g} of {a!r} in {s!r} (use at most "
                                         f"{cap:g}, or 'all')", None, f"{loc}.{a}"))
        return issues

    def build(self, block: pyo.Block, ctx: BuildContext) -> None:
        key, by_sub = self._pairs(ctx)
        cap = ctx.options["capacity"].to_numpy(float)
        out: set[int] = set()
        for s, what in self.params.locked_out.items():
            out.update(by_sub.get(s, []) if what == "all" else
                       [key[(s, a)] for a in what if (s, a) in key])
        minimum: dict[int, float] = {}
        for s, what in self.params.locked_in.items():
            pairs = ({a: "all" for a in ctx.options.loc[by_sub.get(s, []), "action_id"]}
                     if what == "all" else what)
            for a, amount in pairs.items():
                if (s, a) in key:
                    k = key[(s, a)]
                    minimum[k] = cap[k] if amount == "all" else float(amount)
        av = ctx.amount_vars
        if ctx.phasing is not None:  # out in every start year; in: over the years together
            pairs = ctx.pairs()
            out = set(np.flatnonzero(np.isin(pairs, pairs[sorted(out)])).tolist())
            rhs = np.zeros(int(pairs.max()) + 1 if len(pairs) else 0)
            rhs[pairs[sorted(minimum)]] = [minimum[k] for k in sorted(minimum)]
            block.out = pyo.Constraint(sorted(out), rule=lambda _b, k: av[k] == 0)
            _group_constraint(block, "in_", ctx, np.where(
                np.isin(pairs, pairs[sorted(minimum)]), pairs, -1), np.ones(len(pairs)), rhs,
                sense=">=")
            return
        block.out = pyo.Constraint(sorted(out), rule=lambda _b, k: av[k] == 0)
        block.in_ = pyo.Constraint(sorted(minimum), rule=lambda _b, k: av[k] >= minimum[k])


class EquityParams(Params):
    """Parameters of :class:`Equity`."""

    min_share: float = Field(0.0, ge=0, le=1)
    """Minimum share of total spend in every township."""
    max_share: float = Field(1.0, ge=0, le=1)
    """Maximum share of total spend in any township."""
    townships: dict[str, dict[Literal["min_share", "max_share"], float]] = Field(
        default_factory=dict)
    """Per-township overrides of min_share / max_share."""
    agency: str | None = None
    """Apply the shares to one agency's spend only (its spend per township against its
    total); ``dss coordinate`` uses it for the siloed plans."""


@register
class Equity(Component):
    """Fair spread of spending across townships.

    With township spend :math:`C_t` and total spend :math:`C`:

    .. math:: \\underline{s}_t\\, C \\le C_t \\le \\overline{s}_t\\, C

    With ``agency`` :math:`g`, :math:`C` and :math:`C_t` are that agency's spend in total
    and in township :math:`t` (the bounds then hold for the sum of such plans too: they are
    homogeneous). Pyomo: ``floor[t]``, ``cap[t]`` (only where the share bound binds
    anything: min > 0, max < 1).
    """

    type_name = "equity"
    role = Role.CONSTRAINT
    Params = EquityParams

    def check(self, ctx: BuildContext) -> list[Issue]:
        known = set(ctx.study.subunits["township"])
        issues = [Issue("model", f"unknown township {t!r}", None,
                        f"components.{self.name}.townships.{t}")
                  for t in self.params.townships if t not in known]
        if self.params.min_share * len(known) > 1 + 1e-9:
            issues.append(Issue("model", f"min_share {self.params.min_share} times "
                                         f"{len(known)} townships exceeds 100 %", None,
                                f"components.{self.name}.min_share"))
        # shares that only a plan spending nothing can meet: report, never solve silently
        active = set(ctx.options["township"])
        for t in sorted(known - active):
            if self.bounds(t)[0] > 0:
                issues.append(Issue("model", f"township {t!r} has no possible action, so a "
                                             "minimum share of spend there forces the whole "
                                             f"plan to zero (set townships.{t}.min_share: 0)",
                                    None, f"components.{self.name}.townships.{t}"))
        reachable = sum(self.bounds(t)[1] for t in active)
        if active and reachable < 1 - 1e-9:
            issues.append(Issue("model", f"the max shares of the townships with possible "
                                         f"actions ({', '.join(sorted(active))}) add up to "
                                         f"{100 * reachable:g} % < 100 %, which forces the whole "
                                         "plan to zero", None,
                                f"components.{self.name}.max_share"))
        return issues

    def bounds(self, township: str) -> tuple[float, float]:
        """(min share, max share) of one township."""
        own = self.params.townships.get(township, {})
        return (own.get("min_share", self.params.min_share),
                own.get("max_share", self.params.max_share))

    def build(self, block: pyo.Block, ctx: BuildContext) -> None:
        towns = sorted(set(ctx.study.subunits["township"]))
        total = ctx.model.cost
        floor = [t for t in towns if self.bounds(t)[0] > 0]
        cap = [t for t in towns if self.bounds(t)[1] < 1]
        spend = {t: ctx.township_spend.get(t, 0.0) for t in sorted(set(floor) | set(cap))}
        if self.params.agency is not None:
            mine = (ctx.options["agency"] == self.params.agency).to_numpy()
            if not mine.any():
                return
            town = ctx.options["township"].to_numpy()
            total = ctx.cost_of(mine)
            spend = {t: ctx.cost_of(mine & (town == t)) for t in spend}
        block.floor = pyo.Constraint(
            floor, rule=lambda _b, t: spend[t] >= self.bounds(t)[0] * total)
        block.cap = pyo.Constraint(
            cap, rule=lambda _b, t: spend[t] <= self.bounds(t)[1] * total)
