"""The prioritizr keys of a study's ``planning`` section: zone-specific and negative
feature amounts, NA costs (``unavailable``), the objective with per-zone budgets and the
tie-breaker, feature contiguity, manual locks and manual bounds.

Called by :func:`dss.planning.study.build_study_problem`; problems are reported at their
key in the model file, all at once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dss.config.planning import ObjectiveSpec, PlanningSpec
from dss.planning.problem import PlanningProblem
from dss.planning.study_checks import _check_attribute, _check_zones, _Issues


def check_extras(spec: PlanningSpec, zones: list[str], ids: list[str], columns: list[str],
                 out: _Issues) -> None:
    """Unknown zones, units, attributes and features of the prioritizr keys."""
    for key, feature in spec.features.items():
        _check_zones(list(feature.zone_attributes), zones, out, "features", key,
                     "zone_attributes")
        for zone, attribute in feature.zone_attributes.items():
            _check_attribute(attribute, columns, out, "features", key, "zone_attributes", zone)
    if isinstance(spec.objective.budget, dict):
        _check_zones(list(spec.objective.budget), zones, out, "objective", "budget")
    if spec.feature_contiguity is not None:
        _check_zones(spec.feature_contiguity.zones, zones, out, "feature_contiguity", "zones")
        for key in spec.feature_contiguity.features or []:
            if key not in spec.features:
                out.add(f"unknown feature {key!r} (features: {', '.join(spec.features)})",
                        "feature_contiguity", "features")
    known = set(ids)
    for what, rows in (("manual_locks", spec.manual_locks),
                       ("manual_bounds", spec.manual_bounds)):
        for k, row in enumerate(rows):
            if row.unit not in known:
                out.add(f"unknown subunit {row.unit!r} (not in subunits.csv)", what, str(k),
                        "unit")
            _check_zones([row.zone], zones, out, what, str(k), "zone")
    for unit, unit_zones in spec.unavailable.items():
        if unit not in known:
            out.add(f"unknown subunit {unit!r} (not in subunits.csv)", "unavailable", unit)
        _check_zones(unit_zones, zones, out, "unavailable", unit)


def mark_unavailable(cost: np.ndarray, spec: PlanningSpec, ids: list[str],
                     zones: list[str]) -> np.ndarray:
    """The cost matrix with NaN where ``unavailable`` says a unit cannot go (NA cost)."""
    out = cost.astype(float).copy()
    for unit, unit_zones in spec.unavailable.items():
        for zone in unit_zones:
            out[ids.index(unit), zones.index(zone)] = np.nan
    return out


def amount_table(spec: PlanningSpec, attrs: pd.DataFrame, zones: list[str]
                 ) -> tuple[pd.DataFrame, dict[str, dict[str, float]] | None]:
    """The long amounts table and the zone contributions: ``feature, unit, amount`` (times
    each feature's ``factor``), or, when a feature names ``zone_attributes``, the full
    ``feature, unit, zone, amount`` table with the contributions folded in."""
    ids = attrs["id"].astype(str).to_numpy()
    zoned = any(f.zone_attributes for f in spec.features.values())
    frames = []
    for key, feature in spec.features.items():
        if not zoned:
            values = feature.factor * attrs[feature.attribute].to_numpy(float)
            keep = values != 0
            frames.append(pd.DataFrame({"feature": key, "unit": ids[keep],
                                        "amount": values[keep]}))
            continue
        for zone in zones:
            attribute = feature.zone_attributes.get(zone, feature.attribute)
            share = feature.contributions.get(zone, 1.0)
            values = feature.factor * share * attrs[attribute].to_numpy(float)
            keep = values != 0
            frames.append(pd.DataFrame({"feature": key, "unit": ids[keep], "zone": zone,
                                        "amount": values[keep]}))
    columns = ["feature", "unit", "zone", "amount"] if zoned else ["feature", "unit", "amount"]
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    if zoned:
        return table[columns], None
    contributions = {k: f.contributions for k, f in spec.features.items() if f.contributions}
    return table[columns], contributions or None


def add_objective(problem: PlanningProblem, objective: ObjectiveSpec) -> PlanningProblem:
    """The objective of the section (budget per zone and tie-breaker included)."""
    if objective.type == "min_set":
        return problem.add_min_set_objective()
    if objective.type == "min_penalties":
        return problem.add_min_penalties_objective(objective.budget)
    method = getattr(problem, f"add_{objective.type}_objective")
    if objective.type in ("max_utility", "max_features", "max_cover"):
        return method(objective.budget, tie_breaker=objective.tie_breaker)
    return method(objective.budget)


def apply_extras(problem: PlanningProblem, spec: PlanningSpec) -> PlanningProblem:
    """Feature contiguity, manual locks and manual bounds."""
    if spec.manual_locks:
        problem = problem.add_manual_locked_constraints(pd.DataFrame(
            [r.model_dump() for r in spec.manual_locks]), "planning.manual_locks")
    if spec.manual_bounds:
        problem = problem.add_manual_bounded_constraints(pd.DataFrame(
            [r.model_dump() for r in spec.manual_bounds]), "planning.manual_bounds")
    if spec.feature_contiguity is not None:
        problem = problem.add_feature_contiguity_constraints(
            spec.feature_contiguity.zones, spec.feature_contiguity.features)
    return problem
