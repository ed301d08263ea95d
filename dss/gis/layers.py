"""Reading and checking vector layers (GeoPackage, shapefile, GeoJSON, ...) for an import.

:func:`read_layer` returns a :class:`Layer` whose geometries are non-empty, valid (repaired
with ``shapely.make_valid`` where needed) and of the expected kind, in a known CRS; or it
raises one :class:`~dss.errors.InputError` listing every problem, each located by file, layer,
feature and column. Feature numbers count from 1 in the layer's own order (as QGIS's
attribute table shows them when sorted by feature id).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dss.errors import InputError, Issue, did_you_mean
from dss.gis import require_gis

LOGGER = logging.getLogger(__name__)

MAX_FEATURE_ISSUES = 20
"""Problems listed per check before the rest are counted."""

GEOMETRY_KINDS: dict[str, tuple[str, ...]] = {
    "polygon": ("Polygon", "MultiPolygon"),
    "line": ("LineString", "MultiLineString"),
    "point": ("Point", "MultiPoint"),
}
"""Geometry types accepted for each kind of layer."""


@dataclass
class Layer:
    """One vector layer read for an import.

    Attributes:
        path: The file it was read from.
        name: Layer name inside the file.
        frame: The features (a GeoDataFrame), in file order, geometries repaired.
        kind: ``polygon``, ``line`` or ``point``.
        notes: What was repaired or assumed while reading, for ``IMPORT_REPORT.md``.
    """

    path: Path
    name: str
    frame: Any
    kind: str
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        """``file (layer name)`` for messages."""
        return f"{self.path.name} (layer {self.name})"

    def at(self, position: int, id_column: str | None = None) -> str:
        """Location of the feature at ``position`` (0-based): ``file (layer L), feature N``,
        with its id when ``id_column`` is given."""
        where = f"{self.label}, feature {position + 1}"
        if id_column and id_column in self.frame.columns:
            where += f" ({id_column} {_text(self.frame[id_column].iloc[position])})"
        return where


def _text(value: Any) -> str:
    """An attribute value as an id string: integral floats lose their ``.0``."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def id_strings(values: pd.Series) -> np.ndarray:
    """Ids as text (``3344.0`` -> ``"3344"``), ``""`` where missing."""
    return np.array([_text(v) for v in values.to_numpy()], dtype=object)


def _fail(path: Path, message: str) -> InputError:
    return InputError([Issue(str(path), message)], f"cannot read layer {path.name}")


def read_layer(path: Path | str, layer: str | None = None, kind: str | tuple[str, ...] =
               "polygon", columns: Iterable[str] = (), crs: str | None = None) -> Layer:
    """Read and check one vector layer.

    Args:
        path: GeoPackage, shapefile, GeoJSON or any format GDAL reads.
        layer: Layer name inside the file; needed only when the file holds several.
        kind: Accepted geometry kind(s): ``polygon``, ``line`` or ``point``.
        columns: Attribute columns that must be present.
        crs: CRS to assume when the file declares none (e.g. ``EPSG:4326``); it never
            overrides a declared CRS.

    Raises:
        InputError: every problem found, located by layer, feature and column.
    """
    require_gis("dss import")
    import pyogrio

    path = Path(path)
    kinds = (kind,) if isinstance(kind, str) else tuple(kind)
    if not path.exists():
        raise _fail(path, "file not found (give the path of a GeoPackage, shapefile or "
                          "GeoJSON file)")
    try:
        layers = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
    except Exception as err:  # noqa: BLE001 - GDAL raises several types for a bad file
        raise _fail(path, f"cannot open it as a vector layer ({_first(err)}); is it a "
                          "GeoPackage, shapefile or GeoJSON file, and complete?") from None
    if layer is None:
        if len(layers) > 1:
            raise _fail(path, f"holds {len(layers)} layers ({', '.join(layers)}): name the "
                              "one to import with --layer")
        layer = layers[0] if layers else path.stem
    elif layer not in layers:
        hint = did_you_mean(layer, layers, quote=True)
        raise _fail(path, f"has no layer {layer!r} ({hint + ' ' if hint else ''}layers: "
                          f"{', '.join(layers)})")
    try:
        frame = pyogrio.read_dataframe(path, layer=layer)
    except Exception as err:  # noqa: BLE001
        raise _fail(path, f"cannot read layer {layer!r} ({_first(err)}); the file may be "
                          "corrupt or truncated") from None
    result = Layer(path, layer, frame, kinds[0])
    _check_layer(result, kinds, list(columns), crs)
    return result


def _first(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return lines[0] if lines else type(err).__name__


def _check_layer(layer: Layer, kinds: tuple[str, ...], columns: list[str],
                 crs: str | None) -> None:
    """Columns, CRS and geometries of a freshly read layer; repairs what can be repaired."""
    import shapely

    frame = layer.frame
    issues: list[Issue] = []
    if len(frame) == 0:
        raise InputError([Issue(layer.label, "the layer has no features (export the "
                                             "features, not an empty selection)")],
                         f"invalid layer {layer.path.name}")
    missing = [c for c in columns if c not in frame.columns]
    for col in missing:
        hint = did_you_mean(col, [c for c in frame.columns if c != "geometry"])
        issues.append(Issue(layer.label, f"no column {col}"
                            + (f" ({hint})" if hint else "")
                            + f"; its columns are {', '.join(map(str, frame.columns[:-1]))}",
                            None, col))
    _check_crs(layer, crs, issues)
    geoms = frame.geometry.to_numpy()
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    _report(issues, layer, np.flatnonzero(empty), "geometry",
            "the feature has no geometry (delete it, or draw its shape)")
    types = np.where(empty, "", shapely.get_type_id(geoms).astype(object))
    names = {0: "Point", 1: "LineString", 3: "Polygon", 4: "MultiPoint",
             5: "MultiLineString", 6: "MultiPolygon", 7: "GeometryCollection"}
    type_name = np.array([names.get(t, "other") if t != "" else "" for t in types], dtype=object)
    accepted = {name for k in kinds for name in GEOMETRY_KINDS[k]}
    wrong = ~empty & ~np.isin(type_name, list(accepted | {"GeometryCollection"}))
    if wrong.any():
        found = sorted(set(type_name[wrong]))
        _report(issues, layer, np.flatnonzero(wrong), "geometry",
                f"is a {', '.join(found)}, but this import needs {' or '.join(kinds)} "
                "geometries")
    if issues:
        raise InputError(issues, f"invalid layer {layer.path.name}")
    _repair(layer, kinds)


def _check_crs(layer: Layer, crs: str | None, issues: list[Issue]) -> None:
    """The layer must have a CRS (declared, or given with ``crs``) that its coordinates fit."""
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    frame = layer.frame
    if frame.crs is None:
        if crs is None:
            issues.append(Issue(layer.label, "the layer has no coordinate reference system "
                                "(add a .prj file or set the CRS in QGIS, or pass --crs, "
                                "e.g. --crs EPSG:4326)", None, "geometry"))
            return
        try:
            frame.set_crs(CRS.from_user_input(crs), inplace=True)
        except CRSError as err:
            issues.append(Issue("--crs", f"unknown CRS {crs!r} ({_first(err)})"))
            return
        layer.notes.append(f"{layer.label}: no CRS in the file; {crs} assumed (--crs).")
    if frame.crs.is_geographic and len(frame):
        x0, y0, x1, y1 = frame.total_bounds
        if np.isfinite([x0, y0, x1, y1]).all() and (
                min(x0, y0) < -360 or x1 > 360 or y1 > 90.001 or y0 < -90.001):
            issues.append(Issue(layer.label, f"coordinates (x {x0:.6g} to {x1:.6g}, y "
                                f"{y0:.6g} to {y1:.6g}) do not fit its CRS "
                                f"{frame.crs.to_string()}, which is in degrees: the file "
                                "declares the wrong CRS (they look projected, in metres); "
                                "set the right CRS in the file", None, "geometry"))


def _repair(layer: Layer, kinds: tuple[str, ...]) -> None:
    """Make invalid geometries valid, keeping only parts of the accepted kinds."""
    import shapely

    frame = layer.frame
    geoms = frame.geometry.to_numpy()
    invalid = ~shapely.is_valid(geoms)
    collections = shapely.get_type_id(geoms) == 7
    todo = np.flatnonzero(invalid | collections)
    if not len(todo):
        return
    dims = {"point": 0, "line": 1, "polygon": 2}
    want = max(dims[k] for k in kinds)
    fixed = shapely.make_valid(geoms[todo])
    issues = []
    for pos, geom in zip(todo, fixed, strict=True):
        parts = [p for p in shapely.get_parts(geom) if shapely.get_dimensions(p) == want]
        if not parts:
            issues.append(Issue(layer.at(int(pos)), "the geometry is invalid and nothing of "
                                "it survives a repair (redraw it)", None, "geometry"))
            continue
        geoms[pos] = shapely.union_all(parts) if len(parts) > 1 else parts[0]
    if issues:
        raise InputError(issues, f"invalid layer {layer.path.name}")
    frame.set_geometry(geoms, inplace=True, crs=frame.crs)
    shown = ", ".join(str(p + 1) for p in todo[:MAX_FEATURE_ISSUES])
    more = f" and {len(todo) - MAX_FEATURE_ISSUES} more" if len(todo) > MAX_FEATURE_ISSUES else ""
    layer.notes.append(f"{layer.label}: {len(todo)} invalid or mixed geometries repaired "
                       f"with shapely.make_valid (features {shown}{more}).")
    LOGGER.info("repaired %d geometries in %s", len(todo), layer.label)


def _report(issues: list[Issue], layer: Layer, positions: np.ndarray, column: str,
            message: str, id_column: str | None = None) -> None:
    """One issue per feature (up to :data:`MAX_FEATURE_ISSUES`, then a count)."""
    for pos in positions[:MAX_FEATURE_ISSUES]:
        issues.append(Issue(layer.at(int(pos), id_column), message, None, column))
    if len(positions) > MAX_FEATURE_ISSUES:
        issues.append(Issue(layer.label, f"... and {len(positions) - MAX_FEATURE_ISSUES} more "
                                         "features with the same problem", None, column))


def feature_ids(layer: Layer, column: str, issues: list[Issue]) -> np.ndarray:
    """The id column as text; missing and duplicated ids are appended to ``issues``."""
    ids = id_strings(layer.frame[column])
    _report(issues, layer, np.flatnonzero(ids == ""), column,
            f"the feature has no {column} (every feature needs a unique id)")
    series = pd.Series(ids)
    dup = (series.duplicated(keep=False) & (series != "")).to_numpy()
    for value in pd.unique(ids[dup])[:MAX_FEATURE_ISSUES]:
        where = np.flatnonzero(ids == value)
        issues.append(Issue(layer.at(int(where[0])), f"{column} {value} is used by "
                            f"{len(where)} features ({', '.join(str(p + 1) for p in where[:8])})"
                            "; ids must be unique (merge the parts into one feature or give "
                            "each its own id)", None, column))
    return ids


def numeric_column(layer: Layer, column: str, issues: list[Issue], id_column: str,
                   minimum: float | None = 0.0) -> np.ndarray:
    """A numeric attribute as floats; non-numbers and values below ``minimum`` are issues."""
    raw = layer.frame[column]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    _report(issues, layer, np.flatnonzero(bad), column, "is not a number", id_column)
    if minimum is not None:
        low = ~bad & (values < minimum)
        _report(issues, layer, np.flatnonzero(low), column, f"must be >= {minimum:g}",
                id_column)
    return values


def equal_area_crs(frame: Any) -> Any:
    """A Lambert azimuthal equal-area CRS centred on the layer (areas true in m²)."""
    from pyproj import CRS

    lon_lat = frame.to_crs("EPSG:4326").total_bounds if not frame.crs.is_geographic \
        else frame.total_bounds
    lon = (lon_lat[0] + lon_lat[2]) / 2.0
    lat = (lon_lat[1] + lon_lat[3]) / 2.0
    return CRS.from_proj4(f"+proj=laea +lat_0={lat:.6f} +lon_0={lon:.6f} +x_0=0 +y_0=0 "
                          "+ellps=WGS84 +units=m +no_defs")


def areas_ha(frame: Any) -> np.ndarray:
    """Area of each polygon in hectares, measured in :func:`equal_area_crs`."""
    return frame.geometry.to_crs(equal_area_crs(frame)).area.to_numpy() / 1e4


def lengths_km(frame: Any) -> np.ndarray:
    """Length of each line in km, measured on the ellipsoid (pyproj.Geod)."""
    from pyproj import Geod

    lines = frame.geometry.to_crs("EPSG:4326")
    geod = Geod(ellps="WGS84")
    return np.array([geod.geometry_length(g) for g in lines], dtype=float) / 1e3
