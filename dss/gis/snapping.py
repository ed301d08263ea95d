"""Point layers (barriers, hazard sites, control points) assigned to the subunit they lie in.

A point inside a polygon belongs to it; a point outside every polygon, or any point when the
subunits are lines, goes to the nearest subunit within the snapping distance. Distances are
measured in metres in an equal-area projection centred on the subunits. A point farther than
that from every subunit is a located error.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dss.errors import InputError, Issue
from dss.gis.layers import MAX_FEATURE_ISSUES, Layer, equal_area_crs


def snap(points: Layer, subunits: Any, max_m: float) -> np.ndarray:
    """Position (0-based row of ``subunits``) of the subunit each point belongs to.

    Raises:
        InputError: points farther than ``max_m`` metres from every subunit.
    """
    import geopandas as gpd

    crs = equal_area_crs(subunits)
    shapes = gpd.GeoDataFrame({"target": np.arange(len(subunits))},
                              geometry=subunits.geometry.to_crs(crs).to_numpy(), crs=crs)
    pts = gpd.GeoDataFrame({"point": np.arange(len(points.frame))},
                           geometry=points.frame.geometry.to_crs(crs).to_numpy(), crs=crs)
    target = np.full(len(pts), -1, dtype=np.int64)
    polygonal = shapes.geom_type.str.contains("Polygon").all()
    if polygonal:
        inside = gpd.sjoin(pts, shapes, predicate="within", how="inner")
        inside = inside.sort_values(["point", "target"]).drop_duplicates("point")
        target[inside["point"].to_numpy()] = inside["target"].to_numpy()
    todo = np.flatnonzero(target < 0)
    if len(todo):
        near = gpd.sjoin_nearest(pts.iloc[todo], shapes, how="inner", max_distance=max_m,
                                 distance_col="distance")
        near = near.sort_values(["point", "distance", "target"]).drop_duplicates("point")
        target[near["point"].to_numpy()] = near["target"].to_numpy()
    lost = np.flatnonzero(target < 0)
    if len(lost):
        issues = [Issue(points.at(int(p)), f"the point is more than {max_m:g} m from every "
                        "subunit (move it, or raise --snap)", None, "geometry")
                  for p in lost[:MAX_FEATURE_ISSUES]]
        if len(lost) > MAX_FEATURE_ISSUES:
            issues.append(Issue(points.label, f"... and {len(lost) - MAX_FEATURE_ISSUES} more "
                                "points far from every subunit", None, "geometry"))
        raise InputError(issues, f"cannot place the points of {points.path.name}")
    return target
