"""Planning units from a dss study: unit attributes, shared boundaries, the park-design
problem of a ``kind: planning`` model, and the contrast with the current zoning.

The planning units are the study's subunits. Their attributes (:data:`ATTRIBUTES`) come from
the input tables; zone costs are attribute x rate sums (``planning.costs``), features are
attributes (``planning.features``), rules are attribute sums over a zone group
(``planning.rules``). Shared boundaries come from ``boundaries.csv`` in the inputs folder
(``subunit_a, subunit_b, length_km``; ``subunit_a == subunit_b`` is the study's outer
boundary), read and checked like every other input table.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dss.config.planning import PlanningSpec
from dss.data.schema import Column, Table
from dss.data.study import Study
from dss.data.tables import read_table
from dss.errors import InputError, Issue, did_you_mean
from dss.planning import study_extras as extras
from dss.planning.penalties import river_dependence
from dss.planning.problem import PlanningData, PlanningProblem
from dss.planning.study_checks import _check_attribute, _check_zones, _Issues

LOGGER = logging.getLogger(__name__)

BOUNDARIES = Table(
    "boundaries",
    "Shared boundaries between subunits (planning): one row per adjacent pair.",
    key=("subunit_a", "subunit_b"),
    required=True,
    columns=(
        Column("subunit_a", "str", "-", "First subunit.", required=True),
        Column("subunit_b", "str", "-", "Second subunit (the same as subunit_a: the length "
               "of the subunit's boundary with the outside of the study area).",
               required=True),
        Column("length_km", "float", "km", "Length of the shared boundary.", required=True,
               minimum=0.0),
        Column("kind", "str", "-", "What the boundary is (drainage, ridge, county_border).",
               default=""),
    ),
)
"""The shared-boundary table of a study (read by the planning solver only)."""

ATTRIBUTES: dict[str, tuple[str, str]] = {
    "area_ha": ("ha", "subunit area"),
    "population": ("persons", "resident population"),
    "farmland_ha": ("ha", "land of agricultural classes (cropland, orchard)"),
    "forest_ha": ("ha", "land of forest classes (forest, shrub)"),
    "carbon_t": ("t C", "carbon stock: sum of area x carbon_stock"),
    "hydropower_mw": ("MW", "installed capacity of active hydropower stations"),
    "stations": ("stations", "active hydropower stations"),
    "hazard_sites": ("sites", "geohazard sites"),
    "stream_km": ("km", "stream length"),
    "habitat:<species>": ("ha", "habitat area of a species"),
    "habitat_q:<species>": ("ha", "quality-weighted habitat area of a species"),
    "individuals:<species>": ("animals", "surveyed individuals of a species"),
}
"""Unit attributes available to costs, features, rules and penalties (name: unit, meaning)."""


def attribute_unit(name: str) -> str:
    """Unit of an attribute (``-`` if unknown)."""
    key = name.split(":")[0] + (":<species>" if ":" in name else "")
    return ATTRIBUTES.get(key, ("-", ""))[0]


def unit_attributes(study: Study) -> pd.DataFrame:
    """One row per subunit: ``id``, names, township, current zone shares and every
    attribute of :data:`ATTRIBUTES`."""
    su = study.subunits
    ids = su["subunit_id"].astype(str)
    out = pd.DataFrame({"id": ids, "name": su["name"].astype(str),
                        "name_zh": su["name_zh"].fillna("").astype(str),
                        "township": su["township"].astype(str),
                        "area_ha": su["area_ha"].astype(float),
                        "population": su["population"].astype(float),
                        "hazard_sites": su["hazard_sites"].astype(float),
                        "stream_km": su["stream_km"].astype(float)})
    for zone in ("core", "general", "outside"):
        out[f"share_{zone}"] = su[f"share_{zone}"].astype(float).to_numpy()
    lc = study.land_cover.merge(study.land_classes, on="land_class", how="left")
    by_unit = lc.assign(
        farmland_ha=lc["area_ha"].where(lc["agricultural"].astype(bool), 0.0),
        forest_ha=lc["area_ha"].where(lc["is_forest"].astype(bool), 0.0),
        carbon_t=lc["area_ha"] * lc["carbon_stock"].astype(float),
    ).groupby("subunit_id")[["farmland_ha", "forest_ha", "carbon_t"]].sum()
    for column in ("farmland_ha", "forest_ha", "carbon_t"):
        out[column] = ids.map(by_unit[column]).fillna(0.0).to_numpy(float)
    active = study.barriers[study.barriers["status"] == "active"]
    hydro = active.groupby("subunit_id")["capacity_mw"].agg(["sum", "size"])
    out["hydropower_mw"] = ids.map(hydro["sum"]).fillna(0.0).to_numpy(float)
    out["stations"] = ids.map(hydro["size"]).fillna(0.0).to_numpy(float)
    sh = study.species_habitat
    for species in study.species["species"].astype(str):
        rows = sh[sh["species"] == species].set_index("subunit_id")
        out[f"habitat:{species}"] = ids.map(rows["habitat_ha"]).fillna(0.0).to_numpy(float)
        out[f"habitat_q:{species}"] = ids.map(rows["habitat_ha"] * rows["quality"]).fillna(
            0.0).to_numpy(float)
        out[f"individuals:{species}"] = ids.map(rows["individuals"]).fillna(0.0).to_numpy(
            float)
    return out


def read_boundaries(folder: Path, file: str, unit_ids: list[str]) -> pd.DataFrame:
    """Read a shared-boundary table as Marxan-style ``id1, id2, boundary``.

    Raises:
        InputError: every problem located by file, row and column (unknown subunits, a pair
            given twice, negative lengths, ...).
    """
    table = Table(Path(file).stem, BOUNDARIES.description, BOUNDARIES.columns, BOUNDARIES.key,
                  required=True)
    issues: list[Issue] = []
    read = read_table(folder, table, issues)
    if issues or read.frame is None:
        raise InputError(issues, f"invalid boundary table {file}")
    frame, rows = read.frame, read.rows
    known = set(unit_ids)
    for column in ("subunit_a", "subunit_b"):
        bad = ~frame[column].isin(known).to_numpy()
        for pos in np.flatnonzero(bad)[:10]:
            hint = did_you_mean(frame[column].iloc[pos], known, quote=True)
            issues.append(Issue(table.file, f"unknown subunit {frame[column].iloc[pos]!r} "
                                            f"(not in subunits.csv{'; ' + hint if hint else ''})",
                                int(rows[pos]), column))
    pair = frame.apply(lambda r: tuple(sorted((r["subunit_a"], r["subunit_b"]))), axis=1)
    first: dict[tuple[str, str], int] = {}
    for pos, key in enumerate(pair):
        if key in first:
            issues.append(Issue(table.file, f"the pair {key[0]}-{key[1]} is given twice (first "
                                            f"in row {first[key]}); give each pair once",
                                int(rows[pos]), "subunit_b"))
        else:
            first[key] = int(rows[pos])
    if issues:
        raise InputError(issues, f"invalid boundary table {file}")
    return pd.DataFrame({"id1": frame["subunit_a"], "id2": frame["subunit_b"],
                         "boundary": frame["length_km"].astype(float)})


def current_zoning(study: Study) -> pd.Series:
    """Current zone of each subunit: its largest zone share (ties: core, general, outside)."""
    return study.zone().astype(str)


@dataclass
class StudyPlanning:
    """A park-design problem built from a study.

    Attributes:
        problem: The planning problem.
        study: The study.
        spec: The ``planning`` section.
        attributes: :func:`unit_attributes`.
        current: Current zone of each unit.
        boundary: The shared-boundary table as read (``id1, id2, boundary``), or None.
    """

    problem: PlanningProblem
    study: Study
    spec: PlanningSpec
    attributes: pd.DataFrame
    current: pd.Series
    boundary: pd.DataFrame | None

    def current_plan(self) -> np.ndarray:
        """The current zoning as a plan (units x zones)."""
        zones = self.problem.data.zones
        plan = np.zeros((self.problem.data.n_units, len(zones)))
        for i, zone in enumerate(self.current.to_numpy()):
            if zone in zones:
                plan[i, zones.index(zone)] = 1.0
        return plan


def build_study_problem(study: Study, spec: PlanningSpec, inputs_dir: Path,
                        file: str = "model", lines: dict[tuple[str, ...], int] | None = None
                        ) -> StudyPlanning:
    """Build the planning problem of a study from the ``planning`` section.

    Raises:
        InputError: every problem with the section, located at its key in the model file,
            and every problem with the boundary table, located in that table.
    """
    out = _Issues(file, lines)
    attrs = unit_attributes(study)
    columns = list(attrs.columns)
    zones = list(spec.zones)
    if len(set(zones)) != len(zones) or not zones:
        out.add("zones must be a non-empty list of distinct names", "zones")
    _check_zones(spec.park_zones, zones, out, "park_zones")
    for zone, rates in spec.costs.items():
        _check_zones([zone], zones, out, "costs", zone)
        for attribute in rates:
            _check_attribute(attribute, columns, out, "costs", zone, attribute)
    for key, feature in spec.features.items():
        _check_attribute(feature.attribute, columns, out, "features", key, "attribute")
        _check_zones(list(feature.contributions), zones, out, "features", key, "contributions")
    for key, target in spec.targets.items():
        if target.feature not in spec.features:
            hint = did_you_mean(target.feature, spec.features, quote=True)
            out.add(f"unknown feature {target.feature!r} ({hint + ' ' if hint else ''}"
                    f"features: {', '.join(spec.features) or 'none'})", "targets", key,
                    "feature")
        _check_zones(target.zones, zones, out, "targets", key, "zones")
    for key, rule in spec.rules.items():
        _check_attribute(rule.attribute, columns, out, "rules", key, "attribute")
        _check_zones(rule.zones, zones, out, "rules", key, "zones")
    ids = attrs["id"].tolist()
    for what, mapping in (("locked_in", spec.locked_in), ("locked_out", spec.locked_out)):
        for unit, unit_zones in mapping.items():
            if unit not in ids:
                hint = did_you_mean(unit, ids, quote=True)
                out.add(f"unknown subunit {unit!r} ({hint + ' ' if hint else ''}not in "
                        "subunits.csv)", what, unit)
            _check_zones(unit_zones, zones, out, what, unit)
    for key, group in (("boundary", spec.boundary), ("contiguity", spec.contiguity),
                       ("neighbours", spec.neighbours), ("connectivity", spec.connectivity),
                       ("river_connectivity", spec.river_connectivity),
                       ("irreplaceability", spec.irreplaceability)):
        if group is not None:
            _check_zones(group.zones, zones, out, key, "zones")
    if spec.river_connectivity is not None and spec.river_connectivity.weight:
        _check_attribute(spec.river_connectivity.weight, columns, out, "river_connectivity",
                         "weight")
    needs_adjacency = [k for k, v in (("contiguity", spec.contiguity),
                                      ("neighbours", spec.neighbours),
                                      ("connectivity", spec.connectivity)) if v is not None]
    if needs_adjacency and spec.boundary is None:
        out.add(f"{', '.join(needs_adjacency)} need a boundary table (planning.boundary."
                "table)", needs_adjacency[0])
    for key in spec.objective.weights:
        if key not in spec.features:
            out.add(f"unknown feature {key!r}", "objective", "weights", key)
    extras.check_extras(spec, zones, ids, columns, out)
    if out.issues:
        raise InputError(out.issues, "invalid planning section")
    cost = np.zeros((len(attrs), len(zones)))
    for zone, rates in spec.costs.items():
        for attribute, rate in rates.items():
            cost[:, zones.index(zone)] += rate * attrs[attribute].to_numpy(float)
    cost = extras.mark_unavailable(cost, spec, ids, zones)
    feature_ids = list(spec.features)
    features = pd.DataFrame({"id": feature_ids,
                             "name": [f.name or k for k, f in spec.features.items()]})
    amounts, contributions = extras.amount_table(spec, attrs, zones)
    boundary = None
    if spec.boundary is not None:
        boundary = read_boundaries(inputs_dir, spec.boundary.table, ids)
    data = PlanningData.from_tables(attrs, features, amounts, cost=cost, zones=zones,
                                    contributions=contributions or None, boundary=boundary)
    problem = PlanningProblem(data)
    problem = problem.add_binary_decisions() if spec.decisions == "binary" else \
        problem.add_proportion_decisions()
    obj = spec.objective
    problem = extras.add_objective(problem, obj)
    if obj.weights:
        problem = problem.add_feature_weights(obj.weights)
    for target in spec.targets.values():
        row: dict[str, Any] = {"feature": target.feature, "zones": target.zones,
                               "weight": target.weight, "sense": target.sense}
        if target.relative is not None:
            row.update(type="relative", target=target.relative)
        else:
            row.update(type="absolute", target=target.absolute)
        problem = problem.add_manual_targets([row])
    if spec.mandatory_allocation:
        problem = problem.add_mandatory_allocation_constraints()
    for unit, unit_zones in spec.locked_out.items():
        problem = problem.add_locked_out_constraints([unit], unit_zones)
    for unit, unit_zones in spec.locked_in.items():
        problem = problem.add_locked_in_constraints([unit], unit_zones)
    for key, rule in spec.rules.items():
        if rule.max is not None:
            problem = problem.add_linear_constraints(rule.max, "<=", rule.attribute,
                                                     rule.zones, name=f"{key}_max")
        if rule.min is not None:
            problem = problem.add_linear_constraints(rule.min, ">=", rule.attribute,
                                                     rule.zones, name=f"{key}_min")
    if spec.contiguity is not None:
        problem = problem.add_contiguity_constraints(spec.contiguity.zones)
    if spec.neighbours is not None:
        problem = problem.add_neighbor_constraints(spec.neighbours.k, spec.neighbours.zones,
                                                   spec.neighbours.clamp)
    if spec.boundary is not None and spec.boundary.penalty != 0:
        problem = problem.add_boundary_penalties(spec.boundary.penalty,
                                                 spec.boundary.edge_factor,
                                                 spec.boundary.zones)
    if spec.connectivity is not None:
        problem = problem.add_connectivity_penalties(spec.connectivity.penalty,
                                                     zones=spec.connectivity.zones)
    if spec.river_connectivity is not None:
        river = spec.river_connectivity
        weight = None
        if river.weight:
            weight = dict(zip(attrs["id"], attrs[river.weight].astype(float), strict=True))
        pairs = river_dependence(study.graph, ids, river.hops, river.decay, weight)
        if len(pairs):
            problem = problem.add_asym_connectivity_penalties(river.penalty, pairs,
                                                              river.zones, name="river")
    problem = extras.apply_extras(problem, spec)
    LOGGER.info("planning problem from study %s: %d units, %d zones, %d targets",
                study.name, data.n_units, data.n_zones, len(problem.targets))
    return StudyPlanning(problem, study, spec, attrs, current_zoning(study), boundary)
