"""The value of coordination between agencies: siloed, integrated and pooled plans.

Every agency owns actions (``actions.agency``), a budget (``budget.per_agency``) and a
mandate (``agencies.csv``): the benefits it is charged with. Three plans are solved on the
one solver path (:meth:`dss.optimize.problem.Problem.solve`):

- **siloed**: the agencies act one after another (in the order of ``agencies.csv``). Agency
  :math:`g` maximises only the benefits of its mandate, :math:`\\max \\sum_{j \\in M_g} B_j`,
  with its own actions and budget, while the plans of the agencies before it stay fixed
  and those after it do nothing (:class:`~dss.optimize.components.scope.AgencyScope`).
  Land, zones, locks and the total budget still hold; the equity shares hold for each
  agency's own spend (they then hold for the union too), so the union of the plans is
  feasible for the integrated model. Basin-wide requirements (load limits, habitat and
  carbon targets) belong to no single agency and are left out of the siloed solves; the
  union is then evaluated on every indicator, requirements included;
- **integrated**: the model as written, over every agency's actions and every benefit, each
  agency still spending only its own budget;
- **pooled**: the same without the budgets per agency (money may move between agencies;
  the total is the model's total, or the sum of the agency budgets).

With the same requirements, integrated :math:`\\ge` siloed on the total benefit (the union
of the siloed plans is a feasible integrated plan) and pooled :math:`\\ge` integrated (the
pooled model relaxes it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from dss.data.mandates import MandateItem, covers, parse_mandate
from dss.errors import DssError, InputError, Issue
from dss.optimize.components.base import Component
from dss.optimize.components.benefits import Carbon, DeliveredReduction, Habitat, LoadLimits
from dss.optimize.components.constraints import Budget, Equity, Locks, ZoneRules
from dss.optimize.components.scope import AgencyScope
from dss.optimize.options import build_options
from dss.optimize.problem import Problem
from dss.optimize.solve import Result

LOGGER = logging.getLogger(__name__)

PLANS: tuple[str, ...] = ("siloed", "integrated", "pooled")
SCOPE = "coordination_scope"
NONE = "(none)"
"""Mandate column of benefits no agency is charged with."""


@dataclass(frozen=True)
class Agency:
    """One agency taking part: id, names, mandate and budget (currency)."""

    agency_id: str
    name: str
    name_zh: str
    mandate: tuple[MandateItem, ...]
    budget: float


@dataclass
class Coordination:
    """The three plans and what each agency's siloed solve found.

    Attributes:
        problem: The integrated problem (the model as written).
        agencies: Agencies with a budget, in the siloed order.
        results: Plan -> result; the siloed result is the union of the agencies' plans
            evaluated on the integrated model (its objective is the integrated objective at
            that plan).
        steps: Agency -> the result of its siloed solve (objective: its mandate benefit).
        others: Agencies in ``agencies.csv`` without a budget (mandate only, no actions).
    """

    problem: Problem
    agencies: list[Agency]
    results: dict[str, Result]
    steps: dict[str, Result] = field(default_factory=dict)
    others: list[Agency] = field(default_factory=list)

    def mandates(self) -> dict[str, tuple[MandateItem, ...]]:
        """Agency id -> mandate, for every agency (with or without a budget)."""
        return {a.agency_id: a.mandate for a in [*self.agencies, *self.others]}


def _budget(problem: Problem) -> Budget:
    found = [c for c in problem.components if isinstance(c, Budget)]
    if len(found) != 1 or not found[0].params.per_agency:
        raise InputError([Issue(problem.source, "dss coordinate needs exactly one budget "
                                                "component with a budget per agency (set "
                                                "components.<budget>.per_agency, e.g. "
                                                "forestry: 8.0e6)", None, "components")],
                         "cannot coordinate")
    return found[0]


def agencies_of(problem: Problem) -> tuple[list[Agency], list[Agency]]:
    """Agencies with a budget (siloed order: ``agencies.csv``), and those without one.

    Raises:
        InputError: if ``agencies.csv`` is missing, or an agency owning actions has no
            budget, or a budget names an agency not in ``agencies.csv``.
    """
    study = problem.study
    budgets = _budget(problem).params.per_agency
    table = study.agencies
    issues = []
    if table.empty:
        issues.append(Issue("agencies.csv", "dss coordinate needs agencies.csv with each "
                                            "agency's mandate (see dss inputs agencies)"))
        raise InputError(issues, "cannot coordinate")
    listed = list(table["agency_id"])
    owners = sorted(set(study.actions["agency"]))
    for agency in owners:
        if agency not in budgets:
            issues.append(Issue(problem.source, f"agency {agency!r} owns actions but has no "
                                                "budget (add it to per_agency, 0 if it has "
                                                "none)", None, "components.budget.per_agency"))
    for agency in budgets:
        if agency not in listed:
            issues.append(Issue(problem.source, f"agency {agency!r} is not in agencies.csv",
                                None, f"components.budget.per_agency.{agency}"))
    if issues:
        raise InputError(issues, "cannot coordinate")
    with_budget, others = [], []
    for rec in table.itertuples(index=False):
        agency = Agency(str(rec.agency_id), str(rec.name), str(rec.name_zh or rec.name),
                        tuple(parse_mandate(rec.mandate)),
                        float(budgets.get(rec.agency_id, 0.0)))
        (with_budget if rec.agency_id in budgets else others).append(agency)
    return with_budget, others


def term_scope(problem: Problem, label: str) -> tuple[str, tuple[str, ...]] | None:
    """The benefit and scope ids of one labelled benefit term (``"water: tn@intake"``), or
    None for a term of a component outside the built-in benefits."""
    name, _, term = label.partition(": ")
    comp = problem.component(name)
    if isinstance(comp, DeliveredReduction):
        pollutant, _, point = term.partition("@")
        cps = problem.study.control_points.set_index("point_id")
        return pollutant, (point, str(cps.loc[point, "kind"]))
    if isinstance(comp, Habitat):
        return "habitat", (term.removeprefix("habitat "),)
    if isinstance(comp, Carbon):
        return "carbon", ()
    return None


def _mandate_components(problem: Problem, mandate: tuple[MandateItem, ...]
                        ) -> list[Component]:
    """The benefit components of ``problem`` narrowed to one mandate, without targets."""
    items = list(mandate)
    cps = problem.study.control_points
    kind = dict(zip(cps["point_id"], cps["kind"], strict=True))
    table_weight = dict(zip(cps["point_id"], cps["weight"].astype(float), strict=True))
    out: list[Component] = []
    for comp in problem.components:
        if isinstance(comp, DeliveredReduction):
            weights = comp.params.points if comp.params.points is not None else table_weight
            for pollutant, value in sorted(comp.params.values.items()):
                points = {t: w for t, w in sorted(weights.items())
                          if covers(items, pollutant, (t, kind.get(t, "")))}
                if value and points:
                    out.append(DeliveredReduction(f"{comp.name}_{pollutant}",
                                                  values={pollutant: value}, points=points))
        elif isinstance(comp, Habitat):
            species = {s: {"value": spec.value} for s, spec in comp.params.species.items()
                       if spec.value and covers(items, "habitat", (s,))}
            if species:
                out.append(Habitat(comp.name, species=species))
        elif isinstance(comp, Carbon):
            if comp.params.value and covers(items, "carbon", ()):
                out.append(Carbon(comp.name, value=comp.params.value))
    return out


def _own_requirements(comp: Component, own: set[str], problem: Problem) -> Component:
    """Locks and zone requirements narrowed to the actions of the agency that decides."""
    actions = problem.study.actions
    mine = set(actions.loc[actions["agency"].isin(own), "action_id"])
    if isinstance(comp, Locks):
        locked_in: dict[str, Any] = {}
        for s, what in comp.params.locked_in.items():
            pairs = {a: "all" for a in mine} if what == "all" else \
                {a: v for a, v in what.items() if a in mine}
            if what == "all":
                pairs = {a: v for a, v in pairs.items() if (s, a) in _pairs(problem)}
            if pairs:
                locked_in[s] = pairs
        return Locks(comp.name, locked_out=comp.params.locked_out, locked_in=locked_in)
    if isinstance(comp, ZoneRules):
        zones = {}
        for zone in ("core", "general", "outside"):
            rule = getattr(comp.params, zone)
            zones[zone] = {"forbidden": rule.forbidden, "allowed": rule.allowed,
                           "required": {a: v for a, v in rule.required.items() if a in mine}}
        return ZoneRules(comp.name, **zones)
    return comp


def _pairs(problem: Problem) -> set[tuple[str, str]]:
    """Every (subunit, action) with an option."""
    def compute():
        opts = build_options(problem.study, problem.config.settings.horizon_years)
        return set(zip(opts["subunit_id"], opts["action_id"], strict=True))

    return problem.study.memo(("coordinate.pairs", problem.config.settings.horizon_years),
                              compute)


def _option_keys(result: Result) -> dict[tuple, int]:
    """(subunit, action) -> option position in a result's options; with planning years
    (subunit, action, start year)."""
    opts = result.built.ctx.options
    columns = [opts["subunit_id"].astype(str), opts["action_id"].astype(str)]
    if "year" in opts:
        columns.append(opts["year"].astype(int))
    return {key: k for k, key in enumerate(zip(*columns, strict=True))}


def siloed_problem(problem: Problem, agency: Agency, fixed: dict[str, dict[str, float]]
                   ) -> Problem:
    """Agency ``agency`` alone: its mandate, its actions and budget; ``fixed`` holds the
    plans of the agencies before it (subunit -> action -> amount)."""
    kept: list[Component] = []
    for comp in problem.components:
        if isinstance(comp, DeliveredReduction | Habitat | Carbon | LoadLimits):
            continue  # replaced by the mandate's benefits; requirements are basin-wide
        if comp.role.value == "benefit":
            continue  # a benefit outside the built-in ones is in no mandate
        if isinstance(comp, Budget):
            p = comp.params
            own = {g: b for g, b in p.per_agency_year.items() if g == agency.agency_id}
            comp = Budget(comp.name, total=p.total,
                          per_agency={agency.agency_id: agency.budget},
                          per_township=p.per_township, per_year=p.per_year,
                          per_agency_year=own, per_township_year=p.per_township_year,
                          carry_over=p.carry_over)
        if isinstance(comp, Equity):
            comp = Equity(comp.name, min_share=comp.params.min_share,
                          max_share=comp.params.max_share, townships=comp.params.townships,
                          agency=agency.agency_id)
        kept.append(_own_requirements(comp, {agency.agency_id}, problem))
    kept += _mandate_components(problem, agency.mandate)
    kept.append(AgencyScope(SCOPE, agencies=[agency.agency_id], fixed=fixed))
    return replace(problem, components=tuple(kept))


def pooled_problem(problem: Problem) -> Problem:
    """The integrated problem without budgets per agency (one pooled total)."""
    comp = _budget(problem)
    p = comp.params
    total = p.total if p.total is not None else float(sum(p.per_agency.values()))
    per_year = dict(p.per_year)
    if not per_year and p.per_agency_year:  # the agencies' yearly budgets, pooled per year
        for by_year in p.per_agency_year.values():
            for y, b in by_year.items():
                per_year[y] = per_year.get(y, 0.0) + b
    pooled = Budget(comp.name, total=total, per_township=p.per_township, per_year=per_year,
                    per_township_year=p.per_township_year, carry_over=p.carry_over)
    return replace(problem, components=tuple(pooled if c.name == comp.name else c
                                             for c in problem.components))


def _plan_dict(result: Result, agency: str) -> dict[str, dict[str, Any]]:
    """The amounts of one agency's options in a plan, as subunit -> action -> amount (with
    planning years, subunit -> action -> start year -> amount)."""
    opts = result.built.ctx.options
    x = result.amounts
    out: dict[str, dict[str, Any]] = {}
    mine = np.flatnonzero((opts["agency"].to_numpy() == agency) & (x > 0))
    for k in mine:
        s, a = str(opts["subunit_id"].iat[k]), str(opts["action_id"].iat[k])
        if "year" in opts:
            out.setdefault(s, {}).setdefault(a, {})[int(opts["year"].iat[k])] = float(x[k])
        else:
            out.setdefault(s, {})[a] = float(x[k])
    return out


class CoordinationError(DssError):
    """One of the plans has no solution; the exit code is its status's
    (:attr:`Result.exit_code`: 3 infeasible, 4 unbounded, ...)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _require_plan(result: Result, what: str, problem: Problem) -> None:
    if not result.has_plan:
        raise CoordinationError(f"cannot coordinate: the {what} plan of {problem.source} has "
                                f"no solution (status {result.status}); run dss solve on the "
                                "scenario to see why", result.exit_code)


def coordinate(problem: Problem, pooled: bool = True) -> Coordination:
    """Solve the siloed, integrated and (optionally) pooled plans of a problem.

    Raises:
        InputError: if the study has no agencies or budgets per agency.
        CoordinationError: if a plan has no solution (exit code of its status).
    """
    agencies, others = agencies_of(problem)
    results: dict[str, Result] = {}
    integrated = problem.solve()
    _require_plan(integrated, "integrated", problem)
    results["integrated"] = integrated
    fixed: dict[str, dict[str, Any]] = {}
    steps: dict[str, Result] = {}
    union = np.zeros(integrated.built.ctx.n_options)
    key = _option_keys(integrated)
    for agency in agencies:
        step = siloed_problem(problem, agency, fixed).solve()
        _require_plan(step, f"siloed ({agency.agency_id})", problem)
        steps[agency.agency_id] = step
        own = _plan_dict(step, agency.agency_id)
        for s, by_action in own.items():
            fixed.setdefault(s, {}).update(by_action)
            for a, amount in by_action.items():
                for y, value in (amount.items() if isinstance(amount, dict) else
                                 [(None, amount)]):
                    union[key[(s, a) if y is None else (s, a, y)]] = value
        LOGGER.info("siloed %s: mandate benefit %.6g", agency.agency_id, step.objective)
    results["siloed"] = evaluate_plan(integrated, union)
    if pooled:
        result = pooled_problem(problem).solve()
        _require_plan(result, "pooled", problem)
        results["pooled"] = result
    return Coordination(problem, agencies, results, steps, others)


def evaluate_plan(reference: Result, amounts: np.ndarray) -> Result:
    """A plan evaluated on the model of ``reference`` (same options): its objective is the
    sum of the benefit terms at the plan (the max_benefit objective without penalties) and
    its tables are computed like a solve's."""
    built = reference.built
    weight = float(getattr(built.objective.params, "cost_weight", 0.0) or 0.0)
    opts = built.ctx.options
    cost = float((opts["unit_cost"].to_numpy(float) * amounts).sum()
                 + opts["fixed_cost"].to_numpy(float)[built.ctx.fixed_paid(amounts)].sum())
    objective = sum(built.benefit_values(amounts).values()) - weight * cost
    return Result(status="optimal", termination="evaluated", objective=objective,
                  bound=None, gap=None, amounts=amounts, built=built,
                  build_seconds=0.0, solve_seconds=0.0, log="", method="evaluated")
