"""Result tables of a park design against the current zoning: the proposed zone of every
unit, zone totals before and after, the units that change zone and the transition matrix."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from dss.planning.study import StudyPlanning, attribute_unit


def zoning_table(sp: StudyPlanning, plan: np.ndarray) -> pd.DataFrame:
    """One row per unit: proposed zone, previous (current dominant) zone, whether it
    changes, the current zone shares and the attributes that drive the design."""
    data = sp.problem.data
    zones = data.zones
    proposed = []
    for row in plan:
        k = int(np.argmax(row))
        proposed.append(zones[k] if row[k] > 0.5 else "")
    attrs = sp.attributes
    table = pd.DataFrame({
        "unit": attrs["id"], "name": attrs["name"], "name_zh": attrs["name_zh"],
        "township": attrs["township"], "zone": proposed,
        "previous_zone": sp.current.to_numpy(),
    })
    table["changed"] = table["zone"] != table["previous_zone"]
    for zone in ("core", "general", "outside"):
        table[f"previous_share_{zone}"] = attrs[f"share_{zone}"].to_numpy()
    cost = (data.cost * plan).sum(axis=1)
    table["cost"] = cost
    for column in ("area_ha", "population", "farmland_ha", "hydropower_mw"):
        table[column] = attrs[column].to_numpy()
    for key, feature in sp.spec.features.items():
        table[f"feature:{key}"] = attrs[feature.attribute].to_numpy()
    return table


def _by_zone(values: np.ndarray, plan: np.ndarray) -> np.ndarray:
    return values @ plan


def zone_comparison(sp: StudyPlanning, plan: np.ndarray) -> pd.DataFrame:
    """Totals per zone, proposed against current: area, people, farmland, hydropower, every
    feature and the zone cost. ``current`` is each unit in its dominant zone (as
    ``zoning.csv``); ``current_shares`` splits each unit by its zone shares (assuming
    attributes spread evenly over a unit), the closest to the gazetted zoning."""
    data = sp.problem.data
    zones = list(data.zones)
    attrs = sp.attributes
    current = sp.current_plan()
    shares = np.zeros_like(current)
    for k, zone in enumerate(zones):
        column = f"share_{zone}"
        if column in attrs.columns:
            shares[:, k] = attrs[column].to_numpy(float)
    metrics: list[tuple[str, str, np.ndarray]] = [("units", "count", np.ones(len(attrs)))]
    for column in ("area_ha", "population", "farmland_ha", "hydropower_mw"):
        metrics.append((column, attribute_unit(column), attrs[column].to_numpy(float)))
    for key, feature in sp.spec.features.items():
        metrics.append((f"feature:{key}", attribute_unit(feature.attribute),
                        attrs[feature.attribute].to_numpy(float)))
    rows = []
    groups: dict[str, list[int]] = {z: [k] for k, z in enumerate(zones)}
    park = [zones.index(z) for z in sp.spec.park_zones if z in zones]
    if park:
        groups["park"] = park
    for metric, unit, values in metrics:
        total = float(values.sum())
        for group, cols in groups.items():
            p = float(_by_zone(values, plan[:, cols]).sum())
            c = float(_by_zone(values, current[:, cols]).sum())
            s = float(_by_zone(values, shares[:, cols]).sum()) if metric != "units" else math.nan
            rows.append({"metric": metric, "zone": group, "unit": unit, "proposed": p,
                         "current": c, "current_shares": s, "change": p - c,
                         "proposed_share": p / total if total else math.nan,
                         "current_share": c / total if total else math.nan})
    for group, cols in groups.items():
        p = float((data.cost[:, cols] * plan[:, cols]).sum())
        c = float((data.cost[:, cols] * current[:, cols]).sum())
        s = float((data.cost[:, cols] * shares[:, cols]).sum())
        rows.append({"metric": "cost", "zone": group, "unit": "CNY", "proposed": p,
                     "current": c, "current_shares": s, "change": p - c,
                     "proposed_share": math.nan, "current_share": math.nan})
    return pd.DataFrame(rows)


def zone_changes(zoning: pd.DataFrame) -> pd.DataFrame:
    """Units whose proposed zone differs from their current one, with the transition."""
    changed = zoning[zoning["changed"]]
    return pd.DataFrame({"unit": changed["unit"], "name": changed["name"],
                         "from_zone": changed["previous_zone"], "to_zone": changed["zone"],
                         "area_ha": changed["area_ha"], "population": changed["population"]})


def transition_matrix(zoning: pd.DataFrame, zones: list[str]) -> pd.DataFrame:
    """Units by current zone (rows) and proposed zone (columns)."""
    table = pd.crosstab(zoning["previous_zone"], zoning["zone"]).reindex(
        index=zones, columns=zones, fill_value=0)
    table.index.name = "current \\ proposed"
    return table.reset_index()
