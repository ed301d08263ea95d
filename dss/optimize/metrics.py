"""Named outcome metrics of a plan, for trade-off frontiers (``dss frontier --x/--y``).

Each metric is a linear function of the decisions, read from the compiled model:

============================  =====  ===============  ===========================================
metric                        sense  unit             expression
============================  =====  ===============  ===========================================
``reduction:<point>:<p>``     max    t/yr or kg/yr    :math:`\\Delta L_{tp} = \\sum_k T_{i(k)t}
                                                      \\Delta_{kp} x_k` (delivered reduction of
                                                      pollutant :math:`p` at control point
                                                      :math:`t`, :meth:`BuildContext.reduction`)
``habitat:<species>``         max    ha               :math:`G_s = \\sum_{k \\in K_s} h_k x_k`
                                                      (quality-weighted habitat gained)
``carbon``                    max    t C              :math:`\\Delta C = \\sum_k \\delta_k x_k`
``benefit``                   max    currency         the ``max_benefit`` objective
                                                      :math:`\\sum_j B_j - \\lambda C` (for a
                                                      ``min_cost`` model: :math:`\\sum_j B_j`)
``cost``                      min    currency         :math:`C = \\sum_g \\text{spend}_g`
``jobs``                      max    job-years        :math:`\\sum_k j_k x_k` (local job-years,
                                                      :mod:`~dss.optimize.components.livelihoods`)
``livelihood``                max    currency         :math:`\\sum_g N_g`, the townships' net
                                                      income change over the horizon
============================  =====  ===============  ===========================================

A metric with sense *min* is "better" when smaller; :meth:`Metric.sign` turns every metric
into one to maximise (:math:`s\\,f(x)` with :math:`s = \\pm 1`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pyomo.environ import maximize

from dss.data.schema import POLLUTANT_UNITS, POLLUTANTS
from dss.errors import InputError, Issue, did_you_mean
from dss.optimize.build import Built
from dss.optimize.components.livelihoods import option_livelihoods

KINDS: dict[str, str] = {
    "reduction": "reduction:<point_id>:<pollutant>  delivered reduction (t/yr or kg/yr)",
    "habitat": "habitat:<species>  quality-weighted habitat gained (ha)",
    "carbon": "carbon  carbon stock gained (t C)",
    "benefit": "benefit  the max_benefit objective (currency)",
    "cost": "cost  total cost (currency, minimised)",
    "jobs": "jobs  local job-years created (action_livelihoods.csv)",
    "livelihood": "livelihood  net income change of the townships (currency)",
}
"""Metric kinds and their syntax, for help texts and error messages."""


@dataclass(frozen=True)
class Metric:
    """One outcome metric.

    Attributes:
        kind: ``reduction``, ``habitat``, ``carbon``, ``benefit`` or ``cost``.
        args: The arguments after the kind: (point, pollutant), (species,) or ().
    """

    kind: str
    args: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The metric as written on the command line."""
        return ":".join((self.kind, *self.args))

    @property
    def slug(self) -> str:
        """The name made safe for a folder or column name."""
        return "-".join((self.kind, *self.args))

    @property
    def maximize(self) -> bool:
        """Whether more is better (every metric but ``cost``)."""
        return self.kind != "cost"

    @property
    def sign(self) -> float:
        """+1 for a metric to maximise, -1 for one to minimise."""
        return 1.0 if self.maximize else -1.0

    def unit(self, currency: str = "CNY") -> str:
        """The metric's unit."""
        if self.kind == "reduction":
            return POLLUTANT_UNITS[self.args[1]]
        return {"habitat": "ha", "carbon": "t C", "jobs": "job-years"}.get(self.kind, currency)

    def check(self, built: Built) -> list[Issue]:
        """Problems with the metric's arguments against the study (unknown ids)."""
        study = built.ctx.study
        where = f"metric {self.name}"
        if self.kind == "reduction":
            point, pollutant = self.args
            points = list(study.control_points["point_id"])
            issues = []
            if point not in points:
                hint = did_you_mean(point, points, quote=True)
                issues.append(Issue(where, f"unknown control point {point!r} ("
                                           f"{hint + ' ' if hint else ''}known: "
                                           f"{', '.join(sorted(points))})"))
            if pollutant not in POLLUTANTS:
                issues.append(Issue(where, f"unknown pollutant {pollutant!r} (known: "
                                           f"{', '.join(POLLUTANTS)})"))
            return issues
        if self.kind == "habitat":
            species = list(study.species["species"])
            if self.args[0] not in species:
                hint = did_you_mean(self.args[0], species, quote=True)
                return [Issue(where, f"unknown species {self.args[0]!r} ("
                                     f"{hint + ' ' if hint else ''}known: "
                                     f"{', '.join(sorted(species))})")]
        return []

    def expression(self, built: Built) -> Any:
        """The metric as a (linear) Pyomo expression of the model's variables."""
        ctx = built.ctx
        if self.kind == "reduction":
            return ctx.reduction(*self.args)
        if self.kind == "habitat":
            species = ctx.options["habitat_species"].to_numpy()
            gain = ctx.options["habitat_gain"].to_numpy(float)
            idx = np.flatnonzero(species == self.args[0])
            return ctx.linear(idx, gain[idx])
        if self.kind == "carbon":
            d = ctx.options["d_carbon"].to_numpy(float)
            return ctx.linear(np.arange(ctx.n_options), d)
        if self.kind == "cost":
            return built.model.cost
        if self.kind in ("jobs", "livelihood"):
            values = option_livelihoods(ctx)["job_years" if self.kind == "jobs" else "net"]
            idx = np.flatnonzero(values.to_numpy())
            return ctx.linear(idx, values.to_numpy()[idx])
        # benefit

        obj = built.model.objective_function
        if obj.sense == maximize:
            return obj.expr
        return sum(built.benefit_terms.values(), 0.0)


def parse_metric(text: str) -> Metric:
    """Parse a metric name such as ``reduction:qiaoqi_reservoir:sediment``.

    Raises:
        InputError: on an unknown kind or a wrong number of arguments (ids are checked
            against the study later, by :meth:`Metric.check`).
    """
    parts = [p.strip() for p in str(text).strip().split(":")]
    kind, args = parts[0].lower(), tuple(parts[1:])
    arity = {"reduction": 2, "habitat": 1, "carbon": 0, "benefit": 0, "cost": 0, "jobs": 0,
             "livelihood": 0}
    if kind not in arity:
        hint = did_you_mean(kind, arity, quote=True)
        raise InputError([Issue("metric", f"unknown metric {text!r} ("
                                          f"{hint + ' ' if hint else ''}known: "
                                          + "; ".join(KINDS.values()) + ")")],
                         "invalid metric")
    if len(args) != arity[kind] or any(not a for a in args):
        raise InputError([Issue("metric", f"{text!r}: write it as {KINDS[kind].split()[0]}")],
                         "invalid metric")
    if kind == "reduction":
        args = (args[0], args[1].lower())
    return Metric(kind, args)
