"""HydroRIVERS reaches aggregated into the sub-basins they belong to (``--by HYBAS_L12``).

A group's area and stream length are sums over its reaches. Its exit is the reach that
leaves the group (drains to another group or out of the layer) with the largest upstream
area (``UPLAND_SKM``); the group drains into the group of the reach below its exit. Other
reaches leaving the group elsewhere (a coastal sub-basin with several small outlets, say) are
counted in the report. Cycles between groups are reported at the exit reach of each.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dss.errors import InputError, Issue
from dss.gis.basin import ImportedBasin
from dss.gis.drainage import link_downstream
from dss.gis.layers import Layer, id_strings


def group_reaches(layer: Layer, reaches: ImportedBasin, by: str) -> ImportedBasin:
    """One subunit per distinct value of ``by``.

    Raises:
        InputError: a reach without a group, or links between groups that form a cycle.
    """
    import shapely

    frame = layer.frame
    group = id_strings(frame[by])
    issues = []
    for pos in np.flatnonzero(group == "")[:20]:
        issues.append(Issue(layer.at(int(pos), "HYRIV_ID"), f"the reach has no {by}", None, by))
    if issues:
        raise InputError(issues, f"cannot group {layer.path.name} by {by}")
    sub = reaches.subunits
    reach_ids = sub["subunit_id"].to_numpy()
    down = sub["downstream_id"].to_numpy()
    group_of = dict(zip(reach_ids, group, strict=True))
    down_group = np.array([group_of.get(d, "") if d is not None else "" for d in down],
                          dtype=object)
    leaves = down_group != group
    upland = pd.to_numeric(frame["UPLAND_SKM"], errors="coerce").fillna(0.0).to_numpy()
    order = pd.unique(group)
    exits = pd.DataFrame({"group": group, "down": down_group, "upland": upland,
                          "pos": np.arange(len(group))})[leaves]
    exits = exits.sort_values(["group", "upland", "pos"], ascending=[True, False, True])
    main = exits.drop_duplicates("group").set_index("group").reindex(order)
    targets = exits.groupby("group")["down"].nunique().reindex(order).fillna(1).to_numpy()
    target = main["down"].fillna("").to_numpy(dtype=object)
    exit_pos = main["pos"].to_numpy()

    def where(p: int | None) -> str:
        return layer.label if p is None else layer.at(int(exit_pos[p]), "HYRIV_ID")

    links = link_downstream(order.astype(object), target, where, by, outside_is_outlet=False)
    if links.issues:
        raise InputError(links.issues, f"cannot group {layer.path.name} by {by}")
    codes = pd.Index(order).get_indexer(group)
    area = np.bincount(codes, sub["area_ha"].to_numpy(), len(order))
    stream = np.bincount(codes, sub["stream_km"].to_numpy(), len(order))
    subunits = pd.DataFrame({"subunit_id": order.astype(object),
                             "name": [f"{by} {g}" for g in order],
                             "downstream_id": links.downstream, "area_ha": area,
                             "stream_km": stream})
    parts, index = shapely.get_parts(frame.geometry.to_numpy(), return_index=True)
    owner = codes[index]
    sort = np.argsort(owner, kind="stable")
    lines = shapely.multilinestrings(parts[sort], indices=owner[sort])
    geometry = type(frame)({"subunit_id": subunits["subunit_id"]}, geometry=lines,
                           crs=frame.crs)
    basin = ImportedBasin(f"{reaches.source}, reaches grouped by {by}", subunits, geometry,
                          notes=list(reaches.notes), layers=dict(reaches.layers))
    basin.layers["rivers"]["subunit_id"] = group
    basin.mark("subunits", "subunit_id", "read", f"distinct values of {by}")
    basin.mark("subunits", "name", "computed", f"'{by} ' + id")
    basin.mark("subunits", "downstream_id", "computed", f"{by} of the reach below the "
               "group's exit reach (the reach leaving the group with the largest UPLAND_SKM)")
    basin.mark("subunits", "area_ha", "computed", "sum of the reaches' CATCH_SKM (km² -> ha)")
    basin.mark("subunits", "stream_km", "computed", "sum of the reaches' LENGTH_KM")
    several = np.flatnonzero(targets > 1)
    basin.notes.append(f"{len(frame)} reaches grouped into {len(order)} subunits by {by}.")
    if len(several):
        basin.notes.append(f"{len(several)} groups drain into more than one other group "
                           "(e.g. " + ", ".join(map(str, order[several[:5]])) + "); each is "
                           "linked through its largest exit, so a little of its area is "
                           "routed there rather than where it flows.")
    return basin
