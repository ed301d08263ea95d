"""Agency scope: only some agencies decide; every other option keeps a given amount."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
from pydantic import Field, NonNegativeFloat

from dss.errors import Issue
from dss.optimize.components.base import Component, Params, Role, register
from dss.optimize.context import BuildContext


class AgencyScopeParams(Params):
    """Parameters of :class:`AgencyScope`."""

    agencies: list[str] = Field(default_factory=list)
    """Agencies whose options are decided; every other option is fixed."""
    fixed: dict[str, dict[str, NonNegativeFloat | dict[int, NonNegativeFloat]]] = Field(
        default_factory=dict)
    """Subunit -> action -> amount of the other agencies' options (absent: 0); with planning
    years, start year -> amount (a plain amount starts in the first year)."""


@register
class AgencyScope(Component):
    """Only the named agencies act; the options of every other agency keep given amounts.

    With :math:`K_G` the options of the agencies :math:`G` and :math:`a_k` the given
    amount of option :math:`k` (0 when none is given; rounded to a whole number for an
    integer option):

    .. math:: x_k = a_k \\quad \\forall k \\notin K_G

    ``dss coordinate`` uses it for the siloed plans: each agency optimises its own options
    while the plans of the agencies before it stay as they were. Pyomo: ``fix[k]``.
    """

    type_name = "agency_scope"
    role = Role.CONSTRAINT
    Params = AgencyScopeParams

    def check(self, ctx: BuildContext) -> list[Issue]:
        known = set(ctx.study.actions["agency"])
        issues = [Issue("model", f"unknown agency {a!r} (known: {', '.join(sorted(known))})",
                        None, f"components.{self.name}.agencies")
                  for a in self.params.agencies if a not in known]
        key, _ = ctx.option_index()
        years = set(ctx.phasing.years) if ctx.phasing is not None else set()
        for s, amounts in self.params.fixed.items():
            for a, amount in amounts.items():
                where = f"components.{self.name}.fixed.{s}.{a}"
                if (s, a) not in key:
                    issues.append(Issue("model", f"no option {a!r} in subunit {s!r}", None,
                                        where))
                elif isinstance(amount, dict) and not set(amount) <= years:
                    issues.append(Issue("model", f"start years {sorted(set(amount) - years)} "
                                                 "are not planning years "
                                                 f"{sorted(years)}", None, where))
        return issues

    def targets(self, ctx: BuildContext) -> tuple[np.ndarray, np.ndarray]:
        """Indices of the fixed options and their amounts."""
        opts = ctx.options
        free = opts["agency"].isin(self.params.agencies).to_numpy()
        amounts = np.zeros(len(opts))
        key, _ = ctx.option_index()
        first = ctx.phasing.years[0] if ctx.phasing is not None else None
        for s, by_action in self.params.fixed.items():
            for a, amount in by_action.items():
                # a pair's start years follow its first year's option, in year order
                for y, value in (amount.items() if isinstance(amount, dict) else
                                 [(first, amount)]):
                    amounts[key[(s, a)] + (0 if first is None else int(y) - first)] = value
        integer = opts["integer"].to_numpy(bool)
        amounts = np.minimum(np.where(integer, np.round(amounts), amounts),
                             opts["capacity"].to_numpy(float))
        idx = np.flatnonzero(~free)
        return idx, amounts[idx]

    def build(self, block: pyo.Block, ctx: BuildContext) -> None:
        idx, amounts = self.targets(ctx)
        value = dict(zip(idx.tolist(), amounts.tolist(), strict=True))
        av = ctx.amount_vars
        block.fix = pyo.Constraint(idx.tolist(), rule=lambda _b, k: av[k] == value[k])
