"""Importers of sub-basin and river layers: HydroBASINS, HydroRIVERS and any vector layer.

Each returns an :class:`~dss.gis.basin.ImportedBasin` (subunits, geometry, provenance) or
raises one :class:`~dss.errors.InputError` listing every problem in the layer. HYPE's GeoData
is in :mod:`dss.gis.hype`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dss.errors import InputError, Issue
from dss.gis.basin import ImportedBasin
from dss.gis.drainage import link_downstream
from dss.gis.grouping import group_reaches
from dss.gis.layers import (
    Layer,
    areas_ha,
    feature_ids,
    id_strings,
    lengths_km,
    numeric_column,
    read_layer,
)

AREA_UNITS: dict[str, float] = {"ha": 1.0, "km2": 100.0, "m2": 1e-4}
"""Hectares per unit of an area column."""


@dataclass(frozen=True)
class LayerSpec:
    """Which columns of a layer hold what.

    Attributes:
        id: Subunit id column.
        down: Downstream id column (0, empty or an outlet value at an outlet).
        name: English name column (default: ``<prefix> <id>``).
        name_zh: Chinese name column.
        township: Township column (default: one township).
        area: Area column (default: measured from the polygons).
        area_unit: Unit of ``area``: ``ha``, ``km2`` or ``m2``.
        stream_km: Stream length column in km (default: line length for line layers).
        outside_outlets: Accept downstream ids outside the layer as outlets.
        prefix: Name prefix for unnamed subunits.
    """

    id: str
    down: str
    name: str | None = None
    name_zh: str | None = None
    township: str | None = None
    area: str | None = None
    area_unit: str = "ha"
    stream_km: str | None = None
    outside_outlets: bool = False
    prefix: str = "Subunit"


def _columns(spec: LayerSpec) -> list[str]:
    return [c for c in (spec.id, spec.down, spec.name, spec.name_zh, spec.township, spec.area,
                        spec.stream_km) if c]


def basin_from_layer(layer: Layer, spec: LayerSpec, source: str) -> ImportedBasin:
    """Subunits from a checked layer, one per feature.

    Raises:
        InputError: ids missing or duplicated, bad numbers, or links that are not a tree.
    """
    issues: list[Issue] = []
    frame = layer.frame
    ids = feature_ids(layer, spec.id, issues)
    down = id_strings(frame[spec.down])
    links = link_downstream(ids, down, lambda p: layer.at(p, spec.id) if p is not None
                            else layer.label, spec.down, spec.outside_outlets)
    issues += links.issues
    if spec.area:
        if spec.area_unit not in AREA_UNITS:
            issues.append(Issue("--area-unit", f"unknown unit {spec.area_unit!r} (one of "
                                f"{', '.join(AREA_UNITS)})"))
            area = np.zeros(len(frame))
        else:
            area = numeric_column(layer, spec.area, issues, spec.id) * \
                AREA_UNITS[spec.area_unit]
    elif layer.kind == "polygon":
        area = areas_ha(frame)
    else:
        issues.append(Issue(layer.label, "a line layer has no area: name the column holding "
                            "each feature's catchment area with --area (and --area-unit)"))
        area = np.zeros(len(frame))
    stream = numeric_column(layer, spec.stream_km, issues, spec.id) if spec.stream_km else None
    if issues:
        raise InputError(issues, f"cannot import {layer.path.name}")
    basin = _basin(layer, spec, source, ids, links.downstream, area, stream)
    for pos in links.outside:
        basin.notes.append(f"{layer.at(pos, spec.id)} drains to {spec.down} {down[pos]}, "
                           "which is not in the layer: made an outlet.")
    return basin


def _basin(layer: Layer, spec: LayerSpec, source: str, ids: np.ndarray, downstream:
           np.ndarray, area: np.ndarray, stream: np.ndarray | None) -> ImportedBasin:
    """The ImportedBasin of a layer whose ids and links are valid."""
    frame = layer.frame
    columns: dict[str, Any] = {"subunit_id": ids}
    columns["name"] = (id_strings(frame[spec.name]) if spec.name
                       else np.array([f"{spec.prefix} {i}" for i in ids], dtype=object))
    if spec.name_zh:
        columns["name_zh"] = id_strings(frame[spec.name_zh])
    columns["downstream_id"] = downstream
    columns["area_ha"] = area
    if spec.township:
        columns["township"] = id_strings(frame[spec.township])
    if stream is not None:
        columns["stream_km"] = stream
    elif layer.kind == "line":
        columns["stream_km"] = lengths_km(frame)
    subunits = pd.DataFrame(columns)
    geometry = frame[[]].copy()
    geometry["subunit_id"] = ids
    geometry = geometry.set_geometry(frame.geometry)
    basin = ImportedBasin(source, subunits, geometry, notes=list(layer.notes))
    basin.mark("subunits", "subunit_id", "read", f"{spec.id} of {layer.label}")
    basin.mark("subunits", "name", "read" if spec.name else "computed",
               spec.name or f"'{spec.prefix} ' + {spec.id}")
    if spec.name_zh:
        basin.mark("subunits", "name_zh", "read", spec.name_zh)
    basin.mark("subunits", "downstream_id", "read", f"{spec.down} (outlet where 0 or empty"
               + (", or an id outside the layer)" if spec.outside_outlets else ")"))
    if spec.area:
        basin.mark("subunits", "area_ha", "read", f"{spec.area} ({spec.area_unit} -> ha)")
    else:
        basin.mark("subunits", "area_ha", "computed", "polygon area in a Lambert azimuthal "
                   "equal-area projection centred on the layer")
    if spec.township:
        basin.mark("subunits", "township", "read", spec.township)
    if stream is not None:
        basin.mark("subunits", "stream_km", "read", f"{spec.stream_km} (km)")
    elif layer.kind == "line":
        basin.mark("subunits", "stream_km", "computed", "line length on the WGS 84 ellipsoid")
    return basin


def import_vector(path: Path | str, spec: LayerSpec, layer: str | None = None,
                  crs: str | None = None) -> ImportedBasin:
    """Any polygon or line layer with an id and a downstream id column."""
    read = read_layer(path, layer, ("polygon", "line"), _columns(spec), crs)
    read.kind = "polygon" if read.frame.geom_type.str.contains("Polygon").all() else "line"
    return basin_from_layer(read, spec, f"vector layer {read.label}")


def import_hydrobasins(path: Path | str, layer: str | None = None, crs: str | None = None,
                       outside_outlets: bool = False) -> ImportedBasin:
    """HydroBASINS polygons: ``HYBAS_ID``, ``NEXT_DOWN`` (0 at an outlet), ``SUB_AREA`` (km²).

    Lehner & Grill (2013), https://www.hydrosheds.org/products/hydrobasins.
    """
    spec = LayerSpec("HYBAS_ID", "NEXT_DOWN", area="SUB_AREA", area_unit="km2",
                     outside_outlets=outside_outlets, prefix="Basin")
    read = read_layer(path, layer, "polygon", _columns(spec), crs)
    basin = basin_from_layer(read, spec, f"HydroBASINS layer {read.label}")
    _compare_area(basin, read)
    return basin


def _compare_area(basin: ImportedBasin, layer: Layer, tolerance: float = 0.05) -> None:
    """Note polygons whose measured area differs from the area column by more than 5 %."""
    measured = areas_ha(layer.frame)
    given = basin.subunits["area_ha"].to_numpy()
    off = np.abs(measured - given) > tolerance * np.maximum(given, 1e-9)
    if off.any():
        basin.notes.append(f"{int(off.sum())} polygons differ by more than {tolerance:.0%} "
                           "from their area column (the column is used): first "
                           + ", ".join(layer.at(int(p)) for p in np.flatnonzero(off)[:5]) + ".")


RIVER_COLUMNS: tuple[str, ...] = ("HYRIV_ID", "NEXT_DOWN", "LENGTH_KM", "CATCH_SKM",
                                  "UPLAND_SKM")
"""HydroRIVERS columns an import reads (Lehner & Grill 2013, HydroRIVERS v1.0)."""


def import_hydrorivers(path: Path | str, by: str | None = None, layer: str | None = None,
                       crs: str | None = None, outside_outlets: bool = False
                       ) -> ImportedBasin:
    """HydroRIVERS reaches as subunits, or aggregated by a column (``HYBAS_L12``).

    A reach's area is its own catchment (``CATCH_SKM``) and its stream length ``LENGTH_KM``.
    With ``by``, a group of reaches (e.g. a level-12 sub-basin) becomes one subunit: its area
    and stream length are the sums over its reaches, and it drains into the group of the
    reach below its exit reach (the reach leaving the group with the largest ``UPLAND_SKM``).
    """
    spec = LayerSpec("HYRIV_ID", "NEXT_DOWN", area="CATCH_SKM", area_unit="km2",
                     stream_km="LENGTH_KM", outside_outlets=outside_outlets, prefix="Reach")
    columns = [*RIVER_COLUMNS, *([by] if by else [])]
    read = read_layer(path, layer, "line", columns, crs)
    reaches = basin_from_layer(read, spec, f"HydroRIVERS layer {read.label}")
    reaches.layers["rivers"] = _river_lines(read, reaches)
    if by is None:
        return reaches

    return group_reaches(read, reaches, by)


def _river_lines(layer: Layer, basin: ImportedBasin) -> Any:
    """The reach lines with their Strahler order, for maps (layer ``rivers``)."""
    frame = layer.frame
    lines = frame[[]].copy()
    lines["reach_id"] = basin.subunits["subunit_id"].to_numpy()
    lines["order"] = pd.to_numeric(frame["ORD_STRA"], errors="coerce").fillna(1).astype(int) \
        if "ORD_STRA" in frame.columns else 1
    return lines.set_geometry(frame.geometry)
