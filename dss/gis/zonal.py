"""Zonal statistics of rasters over subunit polygons, exact on partial cells (exactextract).

Each polygon is reprojected to the raster's CRS (the raster is never resampled), and every
cell counts by the exact share of its area inside the polygon (exactextract's coverage
fractions). Cell areas are Cartesian in a projected raster and spherical (m²) in a
geographic one, so class areas are true areas either way.
"""

from __future__ import annotations

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


def _weight(dataset: Any) -> str:
    return "area_spherical_m2" if dataset.crs.is_geographic else "area_cartesian"


def _extract(dataset: Any, polygons: Any, ops: list[str]) -> pd.DataFrame:
    """exactextract over ``polygons`` (reprojected to the raster), one row per polygon."""
    from exactextract import exact_extract

    shapes = polygons[["geometry"]].to_crs(dataset.crs).reset_index(drop=True)
    result = exact_extract(dataset, shapes, ops, output="pandas")
    if len(result) != len(shapes):  # exactextract keeps one row per feature, in order
        raise AssertionError("exactextract returned a different number of rows")
    return result


def class_areas(polygons: Any, raster: Path | str) -> pd.DataFrame:
    """Area (m²) of each raster value in each polygon, from exact cell coverage.

    Returns:
        Long table ``position`` (0-based polygon), ``value``, ``area_m2``; nodata cells and
        cells outside the raster count for nothing.
    """
    with open_raster(raster) as dataset:
        weight = _weight(dataset)
        stats = _extract(dataset, polygons, ["unique", f"frac(coverage_weight={weight})",
                                             f"count(coverage_weight={weight})"])
    stats.columns = ["unique", "frac", "count"]
    sizes = stats["unique"].map(len).to_numpy()
    values = np.concatenate([np.asarray(v, dtype=float) for v in stats["unique"]]) \
        if sizes.sum() else np.zeros(0)
    fracs = np.concatenate([np.asarray(v, dtype=float) for v in stats["frac"]]) \
        if sizes.sum() else np.zeros(0)
    total = np.repeat(stats["count"].to_numpy(dtype=float), sizes)
    return pd.DataFrame({"position": np.repeat(np.arange(len(stats)), sizes),
                         "value": values, "area_m2": fracs * total})


def zonal(polygons: Any, raster: Any, op: str) -> np.ndarray:
    """One statistic per polygon: ``mean`` (area-weighted) or ``sum`` (value x covered share
    of each cell); NaN where the polygon covers no valid cell.

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
    spec = f"mean(coverage_weight={_weight(dataset)})" if op == "mean" else op
    stats = _extract(dataset, polygons, [spec])
    values = stats.iloc[:, 0].to_numpy(dtype=float)
    if op == "mean":
        count = _extract(dataset, polygons, ["count"]).iloc[:, 0].to_numpy(dtype=float)
        values = np.where(count > 0, values, np.nan)
    return values


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
