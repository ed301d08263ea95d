"""The ``planning:`` keys that also apply to a Marxan project (``source: marxan``).

A Marxan project brings its own units, features, targets, costs and locks; on top of them a
model file may change the objective (``objective``: any of prioritizr's, with budgets and
the tie-breaker; feature weights by Marxan species id), add ``neighbours``, ``contiguity``,
``feature_contiguity``, ``manual_locks``, ``manual_bounds`` (zone ``selected``) and a
symmetric ``connectivity`` penalty, and set the BLM (``boundary.penalty``). Keys that
describe a study (zones, costs, features, targets, rules, locks, ``unavailable``, river
connectivity, ``evaluate_current``) are refused with a located message instead of being
ignored.
"""

from __future__ import annotations

from dss.config.planning import PlanningSpec
from dss.errors import InputError, Issue
from dss.planning.problem import PlanningProblem
from dss.planning.study_extras import add_objective, apply_extras

STUDY_ONLY = ("zones", "park_zones", "costs", "features", "targets", "rules", "locked_in",
              "locked_out", "unavailable", "river_connectivity", "mandatory_allocation")
"""Keys with no meaning for a Marxan project (it has its own)."""


def apply_marxan_keys(problem: PlanningProblem, spec: PlanningSpec, file: str,
                      lines: dict[tuple[str, ...], int]) -> PlanningProblem:
    """The Marxan problem with the model file's applicable keys added.

    Raises:
        InputError: for study-only keys (every one, located at its line).
    """
    given = spec.model_fields_set
    refused = [key for key in STUDY_ONLY if key in given]
    if refused:
        raise InputError([Issue(file, f"{key} does not apply to a Marxan project (its "
                                      "pu.dat, spec.dat and puvspr.dat define units, "
                                      "features, targets and locks); remove it",
                                lines.get(("planning", key)), f"planning.{key}")
                          for key in refused], "invalid planning section")
    if "objective" in given:
        problem = add_objective(problem, spec.objective)
        if spec.objective.weights:
            problem = problem.add_feature_weights(spec.objective.weights)
    if spec.neighbours is not None:
        problem = problem.add_neighbor_constraints(spec.neighbours.k, spec.neighbours.zones,
                                                   spec.neighbours.clamp)
    if spec.contiguity is not None:
        problem = problem.add_contiguity_constraints(spec.contiguity.zones)
    problem = apply_extras(problem, spec)
    if spec.connectivity is not None:
        problem = problem.add_connectivity_penalties(spec.connectivity.penalty,
                                                     zones=spec.connectivity.zones)
    return problem
