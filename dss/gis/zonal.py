"""Zonal statistics of rasters over subunit polygons, exact on partial cells (exactextract).

Each polygon is reprojected to the raster's CRS (the raster is never resampled), and every
cell counts by the exact area of it inside the polygon: exactextract finds the cells and
their coverage, and partly covered cells are re-measured in double precision. Cell areas are
Cartesian in a projected raster and spherical (m²) in a geographic one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dss.errors import InputError, Issue
from dss.gis import RASTER_MODULES, require_gis


def open_raster(path: Path | str) -> Any:
    """Open a single-band raster, or raise a located :class:`InputError`."""
    require_gis("raster zonal statistics", RASTER_MODULES)
    import rasterio
    from rasterio.errors import RasterioIOError

    path = Path(path)
    if not path.is_file():
        raise InputError([Issue(str(path), "raster file not found")], "cannot read raster")
    try:
        dataset = rasterio.open(path)
    except RasterioIOError as err:
        raise InputError([Issue(str(path), f"cannot open it as a raster ({err}); is it a "
                                           "GeoTIFF, and complete?")],
                         "cannot read raster") from None
    if dataset.crs is None:
        dataset.close()
        raise InputError([Issue(str(path), "the raster has no coordinate reference system "
                                           "(assign one in QGIS: Raster > Projections)")],
                         "cannot read raster")
    return dataset


REFINE_LIMIT = 250_000
"""Most partly covered cells re-measured in double precision (about 30 µs each); beyond it
exactextract's own coverage (single precision, relative error below 1e-7 per cell) is kept,
and the import report says so."""

EARTH_RADIUS_M = 6_371_007.2
"""Radius of the authalic sphere (GRS 80), for the cell areas of a geographic raster."""


def _features(shapes: Any) -> Any:
    """The polygons as an exactextract feature source of WKB geometries (twice as fast as
    its GeoPandas source, which goes through GeoJSON text)."""
    import shapely
    from exactextract.feature import Feature, FeatureSource

    class WkbFeature(Feature):
        def __init__(self, wkb: bytes) -> None:
            super().__init__()
            self.wkb = wkb

        def geometry(self) -> bytes:
            return self.wkb

        def get(self, name: str) -> Any:
            raise KeyError(name)

        def fields(self) -> list[str]:
            return []

    class WkbSource(FeatureSource):
        def __init__(self) -> None:
            super().__init__()
            self.wkbs = shapely.to_wkb(shapes.geometry.to_numpy())

        def count(self) -> int:
            return len(self.wkbs)

        def __iter__(self):
            return (WkbFeature(bytes(w)) for w in self.wkbs)

        def srs_wkt(self) -> str:
            return shapes.crs.to_wkt()

    return WkbSource()


@dataclass
class Cells:
    """The valid cells each polygon touches (parallel arrays, one entry per cell and polygon).

    Attributes:
        position: 0-based polygon.
        value: The cell's value.
        area_m2: Area of the cell inside the polygon.
        share: That area over the cell's area.
        refined: Whether partly covered cells were re-measured in double precision.
    """

    position: np.ndarray
    value: np.ndarray
    area_m2: np.ndarray
    share: np.ndarray
    refined: bool


def cells(dataset: Any, polygons: Any, refine_limit: int = REFINE_LIMIT) -> Cells:
    """Every valid cell each polygon touches, with the area of the cell inside it.

    exactextract finds the cells and their coverage fractions (it computes them exactly, but
    returns them rounded to single precision); cells only partly covered are then
    re-measured in double precision by intersecting the cell with the polygon (shapely),
    when there are at most ``refine_limit`` of them. Nodata cells and cells outside the
    raster are left out.
    """
    import shapely
    from exactextract import exact_extract

    shapes = polygons[["geometry"]].to_crs(dataset.crs).reset_index(drop=True)
    strategy = "raster-sequential" if len(shapes) > 1000 else "feature-sequential"
    features = exact_extract(dataset, _features(shapes), ["values", "coverage", "cell_id"],
                             output="geojson", strategy=strategy)
    if len(features) != len(shapes):  # exactextract keeps one feature per input, in order
        raise AssertionError("exactextract returned a different number of features")
    props = [f["properties"] for f in features]
    sizes = np.fromiter((len(p["values"]) for p in props), dtype=np.int64, count=len(props))
    if not sizes.sum():
        empty = np.zeros(0)
        return Cells(empty.astype(np.int64), empty, empty, empty, True)
    flat = {k: np.concatenate([p[k] for p in props]) for k in ("values", "coverage", "cell_id")}
    del features, props
    position = np.repeat(np.arange(len(sizes)), sizes)
    coverage = np.asarray(flat["coverage"], dtype=float)
    half_x, half_y = abs(dataset.transform.a) / 2.0, abs(dataset.transform.e) / 2.0
    row, col = np.divmod(np.asarray(flat["cell_id"], dtype=np.int64), dataset.width)
    y = dataset.transform.f + (row + 0.5) * dataset.transform.e
    partial = np.flatnonzero(coverage < 1.0)
    refined = len(partial) <= refine_limit
    if refined:
        x = dataset.transform.c + (col[partial] + 0.5) * dataset.transform.a
        yp = y[partial]
        boxes = shapely.box(x - half_x, yp - half_y, x + half_x, yp + half_y)
        geoms = shapes.geometry.to_numpy()
        coverage = coverage.copy()
        coverage[partial] = shapely.area(shapely.intersection(
            boxes, geoms[position[partial]])) / (4.0 * half_x * half_y)
    if dataset.crs.is_geographic:
        lat0, lat1 = np.radians(y - half_y), np.radians(y + half_y)
        cell_area = EARTH_RADIUS_M ** 2 * np.radians(2.0 * half_x) * np.abs(
            np.sin(lat1) - np.sin(lat0))
    else:
        cell_area = 4.0 * half_x * half_y
    return Cells(position, np.asarray(flat["values"], dtype=float), coverage * cell_area,
                 coverage, refined)


def class_areas(polygons: Any, raster: Path | str) -> pd.DataFrame:
    """Area (m²) of each raster value in each polygon (see :func:`cells`).

    Returns:
        Long table ``position`` (0-based polygon), ``value``, ``area_m2``.
    """
    with open_raster(raster) as dataset:
        if boundary_cells(dataset, polygons) > REFINE_LIMIT:
            return _single_precision_areas(dataset, polygons)
        found = cells(dataset, polygons)
    codes, values = pd.factorize(found.value, sort=True)
    key = found.position * max(len(values), 1) + codes
    totals = np.bincount(key, found.area_m2, len(polygons) * max(len(values), 1))
    present = np.flatnonzero(np.bincount(key, minlength=len(totals)))
    position, code = np.divmod(present, max(len(values), 1))
    result = pd.DataFrame({"position": position, "value": np.asarray(values)[code],
                           "area_m2": totals[present]})
    result.attrs["refined"] = found.refined
    return result


def boundary_cells(dataset: Any, polygons: Any) -> float:
    """About how many cells the polygons' boundaries cross (an upper estimate)."""
    import shapely

    shapes = polygons.geometry.to_crs(dataset.crs).to_numpy()
    size = min(abs(dataset.transform.a), abs(dataset.transform.e))
    return float(shapely.length(shapes).sum()) * 1.5 / size + len(shapes)


def _single_precision_areas(dataset: Any, polygons: Any) -> pd.DataFrame:
    """Class areas from exactextract's own coverage (``unique``, area-weighted ``frac`` and
    ``count``), for imports with too many partial cells to re-measure."""
    from exactextract import exact_extract

    shapes = polygons[["geometry"]].to_crs(dataset.crs).reset_index(drop=True)
    weight = "area_spherical_m2" if dataset.crs.is_geographic else "area_cartesian"
    features = exact_extract(dataset, _features(shapes), [
        "unique", f"frac(coverage_weight={weight})", f"count(coverage_weight={weight})"],
        output="geojson", strategy="raster-sequential")
    props = [(f["properties"]["unique"], f["properties"]["frac"], f["properties"]["count"])
             for f in features]
    sizes = np.fromiter((len(p[0]) for p in props), dtype=np.int64, count=len(props))
    values = np.concatenate([np.asarray(p[0], dtype=float) for p in props]) if sizes.sum() \
        else np.zeros(0)
    fracs = np.concatenate([np.asarray(p[1], dtype=float) for p in props]) if sizes.sum() \
        else np.zeros(0)
    totals = np.repeat(np.array([float(p[2]) for p in props]), sizes)
    result = pd.DataFrame({"position": np.repeat(np.arange(len(props)), sizes),
                           "value": values, "area_m2": fracs * totals})
    result.attrs["refined"] = False
    return result


def zonal(polygons: Any, raster: Any, op: str) -> np.ndarray:
    """One statistic per polygon: ``mean`` (weighted by the area of each cell inside the
    polygon) or ``sum`` (each cell's value times its share inside the polygon); NaN where the
    polygon covers no valid cell.

    Args:
        polygons: GeoDataFrame of polygons.
        raster: A raster file, or an open rasterio dataset.
        op: ``mean`` or ``sum``.
    """
    if hasattr(raster, "read"):
        return _zonal(polygons, raster, op)
    with open_raster(raster) as dataset:
        return _zonal(polygons, dataset, op)


def _zonal(polygons: Any, dataset: Any, op: str) -> np.ndarray:
    found = cells(dataset, polygons)
    n = len(polygons)
    pos, area, value = found.position, found.area_m2, found.value
    if op == "sum":
        total = np.bincount(pos, value * found.share, n)
        return np.where(np.bincount(pos, area, n) > 0, total, np.nan)
    weight = np.bincount(pos, area, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(weight > 0, np.bincount(pos, value * area, n) / weight, np.nan)


def _slope_percent(dem: np.ndarray, dx: np.ndarray | float, dy: float) -> np.ndarray:
    """Slope (%) of each cell by central differences (one-sided at the edges)."""
    gy, gx = np.gradient(dem, dy, axis=0), np.gradient(dem, axis=1) / dx
    return 100.0 * np.hypot(gx, gy)


def ls_raster(dem_path: Path | str, ls) -> Any:
    """An in-memory raster of USLE LS computed cell by cell from a DEM's slope.

    Args:
        dem_path: Elevation raster in metres.
        ls: ``ls(slope_percent) -> LS`` (see :func:`dss.gis.defaults.usle_ls`).

    Returns:
        An open rasterio MemoryFile dataset (close it after use).
    """
    from rasterio.io import MemoryFile

    with open_raster(dem_path) as dem:
        band = dem.read(1, masked=True).astype(float)
        profile = dem.profile
        transform, crs = dem.transform, dem.crs
        rows = np.arange(dem.height)
        if crs.is_geographic:
            lat = np.radians(transform.f + (rows + 0.5) * transform.e)
            dx = (abs(transform.a) * 111_320.0 * np.cos(lat))[:, None]
            dy = abs(transform.e) * 110_574.0
        else:
            dx, dy = abs(transform.a), abs(transform.e)
    elevation = band.filled(np.nan)
    slope = _slope_percent(elevation, dx, dy)
    values = np.where(np.isfinite(slope), ls(np.nan_to_num(slope)), -9999.0)
    profile.update(dtype="float64", count=1, nodata=-9999.0, driver="GTiff")
    memory = MemoryFile()
    with memory.open(**profile) as out:
        out.write(values, 1)
    return memory
