"""Evaluate any plan (solved or drawn by hand): cost, representation, targets, boundary,
connectivity, and each unit's irreplaceability (replacement cost).

Everything except :func:`replacement_cost` is computed with NumPy from the plan alone (an
array units x zones, as :attr:`PlanningResult.solution`), so the current zoning of a study
can be evaluated exactly like a proposed one. Notation: :mod:`dss.planning.parts`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np
import pandas as pd

from dss.errors import InputError, Issue
from dss.planning.compile import compile_problem
from dss.planning.extra_objectives import covered
from dss.planning.penalties import Penalty, boundary_length, group_values
from dss.planning.plans import as_plan, held_amounts  # noqa: F401 (held_amounts re-exported)
from dss.planning.solve import SolverOptions, solve_model
from dss.planning.targets import met, relative_shortfall

if TYPE_CHECKING:  # pragma: no cover
    from dss.planning.problem import PlanningProblem
    from dss.planning.solve import PlanningResult, SolverOptions

LOGGER = logging.getLogger(__name__)



def cost_summary(problem: PlanningProblem, solution: np.ndarray) -> pd.DataFrame:
    """Units and cost per zone, and the total."""
    data = problem.data
    plan = as_plan(problem, solution)
    rows = [{"zone": z, "units": float(plan[:, k].sum()),
             "cost": float((data.cost[:, k] * plan[:, k]).sum())}
            for k, z in enumerate(data.zones)]
    rows.append({"zone": "total", "units": float(plan.sum()),
                 "cost": float((data.cost * plan).sum())})
    return pd.DataFrame(rows)


def feature_representation(problem: PlanningProblem, solution: np.ndarray) -> pd.DataFrame:
    """Amount of each feature held in each zone (with contributions), and its share of the
    feature's total (prioritizr's ``eval_feature_representation_summary``)."""
    data = problem.data
    plan = as_plan(problem, solution)
    totals = data.totals()
    rows = []
    for f, fid in enumerate(data.feature_ids):
        for k, z in enumerate(data.zones):
            held = float(data.feature_matrix(f)[:, k] @ plan[:, k])
            rows.append({"feature": fid, "name": data.features["name"].iloc[f], "zone": z,
                         "total_amount": float(totals[f]), "held": held,
                         "relative_held": held / totals[f] if totals[f] > 0 else math.nan})
    return pd.DataFrame(rows)


def target_coverage(problem: PlanningProblem, solution: np.ndarray, tolerance: float = 1e-6
                    ) -> pd.DataFrame:
    """Each target: amount, amount held, met or not, and its shortfall (prioritizr's
    ``eval_target_coverage_summary``; Marxan's missing values)."""
    data = problem.data
    held = held_amounts(problem, solution)
    totals = data.totals()
    is_met = met(problem.targets, held, tolerance)
    shares = relative_shortfall(problem.targets, held)
    rows = []
    for k, (label, t) in enumerate(zip(problem.target_labels(), problem.targets, strict=True)):
        short = 0.0 if is_met[k] else abs(t.amount - held[k])
        rows.append({
            "target": label, "feature": data.feature_ids[t.feature],
            "name": data.features["name"].iloc[t.feature],
            "zones": "+".join(data.zones[z] for z in t.zones),
            "total_amount": float(totals[t.feature]),
            "relative_target": t.relative if t.relative is not None else
            (t.amount / totals[t.feature] if totals[t.feature] > 0 else math.nan),
            "sense": t.sense, "target_amount": t.amount, "held": held[k],
            "relative_held": held[k] / totals[t.feature] if totals[t.feature] > 0 else math.nan,
            "met": bool(is_met[k]), "shortfall": short,
            "shortfall_share": 0.0 if is_met[k] else float(shares[k])})
    return pd.DataFrame(rows)


def components(problem: PlanningProblem, solution: np.ndarray,
               zones: tuple[str, ...] | list[str] | None = None) -> list[list[str]]:
    """Connected pieces of a zone group in the adjacency graph (largest first), as unit
    ids."""
    data = problem.data
    y = group_values(as_plan(problem, solution), data.zone_positions(zones))
    graph = data.graph().subgraph(np.flatnonzero(y > 0.5).tolist())
    ids = data.unit_ids
    pieces = sorted((sorted(c) for c in nx.connected_components(graph)), key=len, reverse=True)
    return [[ids[i] for i in piece] for piece in pieces]


def _pairs(problem: PlanningProblem, data: pd.DataFrame | None
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit positions and values of a pairwise table (default: the shared boundaries)."""
    if data is None:
        bnd = problem.data.boundary
        if bnd is None:
            return np.zeros(0, int), np.zeros(0, int), np.zeros(0)
        return bnd.i, bnd.j, bnd.length
    value = "value" if "value" in data.columns else "boundary"
    a = problem.data.unit_positions(data["id1"], "data")
    b = problem.data.unit_positions(data["id2"], "data")
    v = pd.to_numeric(data[value], errors="coerce").to_numpy(float)
    keep = a != b
    return a[keep], b[keep], v[keep]


def connectivity(problem: PlanningProblem, solution: np.ndarray,
                 data: pd.DataFrame | None = None,
                 zones: tuple[str, ...] | list[str] | None = None) -> float:
    """Symmetric connectivity held by a zone group (prioritizr's
    ``eval_connectivity_summary``): :math:`\\sum_{\\{i,j\\}} D_{ij} y_i y_j`, each unordered
    pair once; by default :math:`D` is the shared boundary length, so this is the boundary
    shared inside the group."""
    a, b, v = _pairs(problem, data)
    y = group_values(as_plan(problem, solution), problem.data.zone_positions(zones))
    return float((v * y[a] * y[b]).sum())


def asym_connectivity(problem: PlanningProblem, solution: np.ndarray, data: pd.DataFrame,
                      zones: tuple[str, ...] | list[str] | None = None) -> float:
    """Asymmetric connectivity left unprotected (prioritizr's
    ``eval_asym_connectivity_summary``): :math:`\\sum_{(i,j)} D_{ij} y_i (1 - y_j)`, for
    ordered pairs where ``id1`` depends on ``id2`` (e.g. :func:`river_dependence`)."""
    a, b, v = _pairs(problem, data)
    y = group_values(as_plan(problem, solution), problem.data.zone_positions(zones))
    return float((v * y[a] * (1.0 - y[b])).sum())


def objective_terms(problem: PlanningProblem, solution: np.ndarray) -> dict[str, float]:
    """The objective's natural terms at a plan, computed from the plan alone: ``cost``
    (always), ``utility`` / ``targets_met`` / ``shortfall`` / ``largest_shortfall`` for the
    objective, and each penalty's value."""
    data = problem.data
    plan = as_plan(problem, solution)
    terms = {"cost": float((data.cost * plan).sum())}
    name = problem.objective.name if problem.objective is not None else ""
    held = held_amounts(problem, plan)
    share = relative_shortfall(problem.targets, held)
    if name == "max_utility":
        w = problem.weights()
        terms["utility"] = float(sum(w[f] * (data.feature_matrix(f) * plan).sum()
                                     for f in range(data.n_features)))
    elif name == "max_features":
        terms["targets_met"] = float((problem.target_weights() * met(problem.targets, held))
                                     .sum())
    elif name == "min_shortfall":
        terms["shortfall"] = float((problem.target_weights() * share).sum())
    elif name == "min_largest_shortfall":
        terms["largest_shortfall"] = float(share.max()) if len(share) else 0.0
    elif name == "max_cover":
        terms["features_covered"] = float(problem.weights() @ covered(data, plan).sum(axis=1))
    for p in problem.penalties:
        if isinstance(p, Penalty):
            terms[p.name] = p.value(data, plan)
    return terms


def objective_value(problem: PlanningProblem, solution: np.ndarray) -> float:
    """The objective in its natural sense at a plan (as reported by a solve)."""
    terms = objective_terms(problem, solution)
    penalty = sum(v for k, v in terms.items()
                  if k in {p.name for p in problem.penalties if isinstance(p, Penalty)})
    name = problem.objective.name if problem.objective is not None else "min_set"
    main = {"min_set": "cost", "max_utility": "utility", "max_features": "targets_met",
            "min_shortfall": "shortfall", "min_largest_shortfall": "largest_shortfall",
            "max_cover": "features_covered", "min_penalties": ""}[name]
    sense = -1.0 if name in ("max_utility", "max_features", "max_cover") else 1.0
    return terms.get(main, 0.0) + sense * penalty


@dataclass
class Evaluation:
    """Every evaluation of one plan.

    Attributes:
        summary: Tidy ``metric, value, unit`` rows: cost, units per zone, objective terms,
            boundary length and connected pieces per zone group, targets met.
        costs: :func:`cost_summary`.
        features: :func:`feature_representation`.
        targets: :func:`target_coverage`.
        pieces: Connected pieces of each zone group (group -> list of unit-id lists).
    """

    summary: pd.DataFrame
    costs: pd.DataFrame
    features: pd.DataFrame
    targets: pd.DataFrame
    pieces: dict[str, list[list[str]]] = field(default_factory=dict)


def evaluate(problem: PlanningProblem, solution: np.ndarray,
             groups: dict[str, list[str]] | None = None, cost_unit: str = "-",
             boundary_unit: str = "-", edge_factor: float = 1.0) -> Evaluation:
    """Evaluate a plan.

    Args:
        problem: The problem (its data, targets and penalties define what is measured).
        solution: The plan (see :func:`as_plan`).
        groups: Zone groups to measure boundary length and connected pieces of, by name
            (default: every zone together, plus each zone when there are several).
        cost_unit: Unit of costs, for the summary.
        boundary_unit: Unit of boundary lengths, for the summary.
        edge_factor: Weight of the study area's outer boundary in boundary lengths.
    """
    data = problem.data
    plan = as_plan(problem, solution)
    if groups is None:
        groups = {"selected" if data.n_zones == 1 else "any zone": list(data.zones)}
        if data.n_zones > 1:
            groups.update({z: [z] for z in data.zones})
    rows: list[tuple[str, float | str, str]] = []
    costs = cost_summary(problem, plan)
    rows.append(("cost", float(costs["cost"].iloc[-1]), cost_unit))
    for r in costs.iloc[:-1].itertuples(index=False):
        rows.append((f"units {r.zone}", r.units, "count"))
        if data.n_zones > 1:
            rows.append((f"cost {r.zone}", r.cost, cost_unit))
    if problem.objective is not None:
        rows.append(("objective", objective_value(problem, plan), "-"))
        for label, value in objective_terms(problem, plan).items():
            if label != "cost":
                rows.append((f"term {label}", value, "-"))
    pieces = {}
    for name, zones in groups.items():
        y = group_values(plan, data.zone_positions(zones))
        if data.boundary is not None:
            rows.append((f"boundary {name}", boundary_length(data, y, edge_factor),
                         boundary_unit))
            rows.append((f"shared boundary {name}", connectivity(problem, plan, None, zones),
                         boundary_unit))
        if data.boundary is not None or data.adjacency:
            pieces[name] = components(problem, plan, zones)
            rows.append((f"pieces {name}", float(len(pieces[name])), "count"))
    targets = target_coverage(problem, plan)
    if len(targets):
        rows.append(("targets met", float(targets["met"].sum()), "count"))
        rows.append(("targets", float(len(targets)), "count"))
    summary = pd.DataFrame(rows, columns=["metric", "value", "unit"])
    return Evaluation(summary, costs, feature_representation(problem, plan), targets, pieces)


def replacement_cost(problem: PlanningProblem, result: PlanningResult,
                     options: SolverOptions | None = None,
                     zones: list[str] | None = None) -> pd.DataFrame:
    """Irreplaceability as replacement cost (Cabeza & Moilanen 2006; prioritizr's
    ``eval_replacement_importance``): for each unit allocated to a zone in the optimal plan,
    re-solve with that allocation forbidden; the replacement cost is the loss in the
    objective, :math:`\\text{obj}(x_{iz} = 0) - \\text{obj}^*` for a minimised objective
    (the reverse for a maximised one). It is infinite when no plan exists without the unit
    and NaN when the unit is locked in.

    Args:
        problem: The problem solved.
        result: Its optimal result.
        options: Solver options for the re-solves.
        zones: Zones whose allocations are evaluated (default: every zone).

    Returns:
        ``unit, zone, objective_without, replacement_cost, status``.
    """
    if result.solution is None or result.objective is None:
        raise InputError([Issue("problem", "replacement cost needs a solved plan")],
                         "cannot evaluate irreplaceability")
    options = options or SolverOptions()
    data = problem.data
    wanted = set(data.zone_positions(zones))
    model = compile_problem(problem)
    sense = -1.0 if problem.objective is not None and problem.objective.sense == "max" else 1.0
    rows = []
    for i, z in zip(*np.nonzero(result.solution > 0.5), strict=True):
        if z not in wanted:
            continue
        var = model.x(int(i), int(z))
        row = {"unit": data.unit_ids[i], "zone": data.zones[z]}
        if var.fixed:
            rows.append({**row, "objective_without": math.nan, "replacement_cost": math.nan,
                         "status": "locked"})
            continue
        var.fix(0)
        try:
            again = solve_model(model, options)
        finally:
            var.unfix()
        if again.objective is None:
            cost, obj = math.inf, math.nan
        else:
            obj = again.objective
            cost = sense * (obj - result.objective)
        rows.append({**row, "objective_without": obj, "replacement_cost": cost,
                     "status": again.status})
    LOGGER.info("replacement cost of %d allocations", len(rows))
    return pd.DataFrame(rows, columns=["unit", "zone", "objective_without", "replacement_cost",
                                       "status"])
