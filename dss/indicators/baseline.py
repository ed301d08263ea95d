"""The baseline of biodiversity and ecological function: tidy indicator tables of a study.

Every table is long (one value per row) with an explicit ``unit`` column:

- ``subunits``: per subunit and metric (area, zone shares, forest cover, erosion, local and
  routed loads, carbon, population);
- ``erosion_by_land_class``: per subunit, land class and metric;
- ``habitat``: per species, subunit and metric (habitat, quality-weighted habitat,
  individuals);
- ``control_points``: per control point and pollutant: routed load, limit, headroom;
- ``contributions``: per control point, pollutant and upstream subunit: local load, transfer
  coefficient, contribution and its share;
- ``basin``: basin totals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dss.data.schema import POLLUTANT_UNITS, POLLUTANTS, ZONES
from dss.data.study import Study
from dss.indicators.loads import forest_area, land_loads, local_loads, point_loads, retention
from dss.network.graph import outlets
from dss.network.routing import RoutingResult


@dataclass
class Baseline:
    """Baseline tables plus the routing results they came from."""

    tables: dict[str, pd.DataFrame]
    routed: dict[str, RoutingResult]
    local: pd.DataFrame

    def basin_value(self, metric: str) -> float:
        """Value of one basin-total metric."""
        basin = self.tables["basin"]
        return float(basin.loc[basin["metric"] == metric, "value"].iloc[0])


def route_all(study: Study, local: pd.DataFrame) -> dict[str, RoutingResult]:
    """Route sediment, TN and TP from the local loads through the tree."""
    return {p: study.routing.route(local[p].to_numpy(), retention(study, p)) for p in POLLUTANTS}


def _long(frame: pd.DataFrame, id_cols: list[str], metrics: dict[str, str]) -> pd.DataFrame:
    """Melt ``metrics`` (column -> unit) into metric/value/unit rows."""
    parts = []
    for column, unit in metrics.items():
        part = frame[id_cols].copy()
        part["metric"] = column
        part["value"] = frame[column].to_numpy(dtype=float)
        part["unit"] = unit
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def subunit_table(study: Study, local: pd.DataFrame, routed: dict[str, RoutingResult]
                  ) -> pd.DataFrame:
    """Per-subunit indicators, long format."""
    sub = study.subunits
    wide = pd.DataFrame({
        "subunit_id": sub["subunit_id"].to_numpy(),
        "zone": study.zone().to_numpy(),
        "township": sub["township"].to_numpy(),
        "area": sub["area_ha"].to_numpy(),
        "forest_cover": forest_area(study).to_numpy() / sub["area_ha"].clip(lower=1e-12)
        .to_numpy(),
        "population": sub["population"].to_numpy(),
        "gross_erosion": local["gross_erosion_t"].to_numpy(),
        "mass_wasting": local["mass_wasting_t"].to_numpy(),
        "carbon_stock": local["carbon_t"].to_numpy(),
    })
    metrics = {"area": "ha", "forest_cover": "fraction", "population": "persons",
               "gross_erosion": "t/yr", "mass_wasting": "t/yr", "carbon_stock": "t C"}
    for zone in ZONES:
        wide[f"share_{zone}"] = sub[f"share_{zone}"].to_numpy()
        metrics[f"share_{zone}"] = "fraction"
    for p in POLLUTANTS:
        wide[f"{p}_local"] = routed[p].local
        wide[f"{p}_outflow"] = routed[p].outflow
        wide[f"{p}_retained"] = routed[p].retained
        for suffix in ("local", "outflow", "retained"):
            metrics[f"{p}_{suffix}"] = POLLUTANT_UNITS[p]
    wide["tn_point"] = local["tn_point"].to_numpy()
    wide["tp_point"] = local["tp_point"].to_numpy()
    metrics.update({"tn_point": "kg/yr", "tp_point": "kg/yr"})
    return _long(wide, ["subunit_id", "zone", "township"], metrics)


def control_point_tables(study: Study, local: pd.DataFrame, routed: dict[str, RoutingResult]
                         ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Routed loads at each control point, and each upstream subunit's contribution."""
    cps = study.control_points
    rows = []
    ids = study.subunits["subunit_id"].to_numpy()
    retain = np.column_stack([retention(study, p) for p in POLLUTANTS])
    local_by_p = {p: local[p].to_numpy(dtype=float) for p in POLLUTANTS}
    parts: dict[str, list[np.ndarray]] = {k: [] for k in (
        "source", "local_load", "transfer", "contribution", "share")}
    targets = study.routing.index(cps["subunit_id"]) if len(cps) else np.zeros(0, int)
    for cp, target in zip(cps.itertuples(index=False), targets, strict=True):
        target = int(target)
        inflow = getattr(cp, "measures", "outflow") == "inflow"
        sources, coefs = study.routing.transfer(target, retain, inflow)  # all pollutants
        for j, p in enumerate(POLLUTANTS):
            load = study.routing.load_at(routed[p], target, inflow)
            limit = getattr(cp, f"limit_{p}")
            limit = float(limit) if limit is not None and not pd.isna(limit) else np.nan
            rows.append({
                "point_id": cp.point_id, "name": cp.name, "subunit_id": cp.subunit_id,
                "kind": cp.kind, "pollutant": p, "cares": bool(getattr(cp, f"cares_{p}")),
                "load": load, "limit": limit, "headroom": limit - load,
                "unit": POLLUTANT_UNITS[p],
            })
            coef = np.ascontiguousarray(coefs[:, j])
            loads = local_by_p[p][sources]
            contrib = coef * loads
            total = contrib.sum()
            parts["source"].append(sources)
            parts["local_load"].append(loads)
            parts["transfer"].append(coef)
            parts["contribution"].append(contrib)
            parts["share"].append(contrib / total if total > 0 else np.zeros(len(sources)))
    columns = ["point_id", "name", "subunit_id", "kind", "pollutant", "cares", "load", "limit",
               "headroom", "unit"]
    table = pd.DataFrame(rows, columns=columns)
    if not rows:
        return table, pd.DataFrame(columns=["point_id", "pollutant", "source_subunit",
                                            "local_load", "transfer", "contribution", "share",
                                            "unit"])
    # One block of rows per (point, pollutant), in the order of ``table``. Labels are repeated
    # by reference (np.repeat on object arrays), not copied into millions of new strings.
    counts = np.array([len(s) for s in parts["source"]])

    def labels(column: str) -> np.ndarray:
        return np.repeat(np.array([r[column] for r in rows], dtype=object), counts)

    joined = {k: np.concatenate(parts.pop(k)) for k in list(parts)}  # frees pieces as it goes
    contrib = pd.DataFrame({
        "point_id": labels("point_id"), "pollutant": labels("pollutant"),
        "source_subunit": ids[joined.pop("source")], "local_load": joined.pop("local_load"),
        "transfer": joined.pop("transfer"), "contribution": joined.pop("contribution"),
        "share": joined.pop("share"), "unit": labels("unit"),
    }, copy=False)
    return table, contrib


def habitat_table(study: Study) -> pd.DataFrame:
    """Habitat per species and subunit, long format."""
    hab = study.species_habitat.copy()
    hab["zone"] = hab["subunit_id"].map(study.zone())
    hab["habitat"] = hab["habitat_ha"]
    hab["weighted_habitat"] = hab["habitat_ha"] * hab["quality"]
    return _long(hab, ["species", "subunit_id", "zone"],
                 {"habitat": "ha", "weighted_habitat": "ha", "individuals": "animals"})


def basin_table(study: Study, local: pd.DataFrame, routed: dict[str, RoutingResult]
                ) -> pd.DataFrame:
    """Basin totals: the figures a planner checks first."""
    sub = study.subunits
    area = float(sub["area_ha"].sum())
    out_idx = study.routing.index(outlets(study.graph))
    barriers = study.barriers
    hab = study.species_habitat
    rows = [
        ("subunits", len(sub), "count"),
        ("area", area / 100.0, "km2"),
        ("forest_cover", 100.0 * float(forest_area(study).sum()) / area if area else 0.0, "%"),
        ("residents", float(sub["population"].sum()), "persons"),
        ("hazard_sites", float(sub["hazard_sites"].sum()), "sites"),
        ("hydropower_stations", float(len(barriers)), "stations"),
        ("hydropower_exited", float((barriers["status"] == "exited").sum()), "stations"),
        ("hydropower_active", float((barriers["status"] == "active").sum()), "stations"),
    ]
    for zone in ZONES:
        rows.append((f"area_{zone}", float((sub["area_ha"] * sub[f"share_{zone}"]).sum()) / 100,
                     "km2"))
    for sp in study.species.itertuples(index=False):
        mine = hab[hab["species"] == sp.species]
        rows.append((f"individuals_{sp.species}", float(mine["individuals"].sum()), "animals"))
        rows.append((f"habitat_{sp.species}", float(mine["habitat_ha"].sum()), "ha"))
    rows += [
        ("gross_erosion", float(local["gross_erosion_t"].sum()), "t/yr"),
        ("gross_erosion_rate", float(local["gross_erosion_t"].sum()) / (area / 100.0)
         if area else 0.0, "t/(km2 yr)"),
        ("mass_wasting", float(local["mass_wasting_t"].sum()), "t/yr"),
        ("carbon_stock", float(local["carbon_t"].sum()), "t C"),
    ]
    for p in POLLUTANTS:
        unit = POLLUTANT_UNITS[p]
        rows += [
            (f"{p}_local", float(routed[p].local.sum()), unit),
            (f"{p}_retained", float(routed[p].retained.sum()), unit),
            (f"{p}_outlet", float(routed[p].outflow[out_idx].sum()), unit),
        ]
    return pd.DataFrame(rows, columns=["metric", "value", "unit"])


def compute_baseline(study: Study) -> Baseline:
    """Compute every baseline table of a study."""
    land = land_loads(study)
    points = point_loads(study)
    local = local_loads(study)
    routed = route_all(study, local)
    cp_table, contributions = control_point_tables(study, local, routed)
    erosion_units = {"area_ha": "ha", "gross_erosion_t": "t/yr", "mass_wasting_t": "t/yr",
                     "sediment_t": "t/yr", "tn_kg": "kg/yr", "tp_kg": "kg/yr",
                     "carbon_t": "t C"}
    short = {c: re.sub(r"_(ha|t|kg)$", "", c) for c in erosion_units}  # area_ha -> area
    erosion = _long(land.rename(columns=short), ["subunit_id", "land_class"],
                    {short[c]: unit for c, unit in erosion_units.items()})
    tables = {
        "basin": basin_table(study, local, routed),
        "subunits": subunit_table(study, local, routed),
        "erosion_by_land_class": erosion,
        "habitat": habitat_table(study),
        "control_points": cp_table,
        "contributions": contributions,
        "point_sources": _long(points, ["source_id", "subunit_id", "kind"], {
            "person_equivalents": "PE", "raw_tn_kg": "kg/yr", "raw_tp_kg": "kg/yr",
            "tn_kg": "kg/yr", "tp_kg": "kg/yr"}),
    }
    return Baseline(tables=tables, routed=routed, local=local)
