"""Options that add raster and point data to an imported basin (``dss import ... --dem``).

:class:`Enrichment` applies, in order: land cover from a classified raster and a class table;
USLE LS from a DEM, R and K from rasters, population from a raster (each exact zonal
statistics, :mod:`dss.gis.zonal`); then barriers, hazard sites and control points from point
layers snapped to subunits (:mod:`dss.gis.snapping`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from dss.data.schema import TABLES
from dss.data.tables import parse_table
from dss.errors import InputError, Issue
from dss.gis.basin import ImportedBasin
from dss.gis.defaults import SLOPE_LENGTH_M, usle_ls
from dss.gis.layers import areas_ha, id_strings, read_layer
from dss.gis.snapping import snap
from dss.gis.zonal import class_areas, ls_raster, zonal

RASTER_STATS: tuple[tuple[str, str, str, str], ...] = (
    ("erosivity", "usle_r", "mean", "area-weighted mean of the R raster"),
    ("erodibility", "usle_k", "mean", "area-weighted mean of the K raster"),
    ("population", "population", "sum", "sum of the population raster (cells split by "
                                        "their covered share)"),
)
"""Option, subunits column, statistic, description."""

MIN_COVERAGE = 0.99
"""Share of a subunit a land-cover raster should cover before the report flags it."""


@dataclass
class Enrichment:
    """Rasters and point layers to add to an import (all optional)."""

    land_cover: Path | None = None
    classes: Path | None = None
    dem: Path | None = None
    erosivity: Path | None = None
    erodibility: Path | None = None
    population: Path | None = None
    barriers: Path | None = None
    hazards: Path | None = None
    control_points: Path | None = None
    snap_m: float = 500.0

    def apply(self, basin: ImportedBasin) -> None:
        """Add every given raster and point layer to ``basin``."""
        rasters = [self.land_cover, self.dem, self.erosivity, self.erodibility,
                   self.population]
        if any(r is not None for r in rasters):
            _need_polygons(basin)
        if (self.land_cover is None) != (self.classes is None):
            raise InputError([Issue("--land-cover" if self.land_cover is None else "--classes",
                                    "--land-cover and --classes go together (a raster and "
                                    "the table naming its values)")], "incomplete options")
        if self.land_cover is not None and self.classes is not None:
            land_cover_from_raster(basin, self.land_cover, self.classes)
        if self.dem is not None:
            _dem(basin, self.dem)
        for option, column, op, how in RASTER_STATS:
            path = getattr(self, option)
            if path is not None:
                _raster_column(basin, Path(path), column, op, how)
        points = (self.barriers, self.hazards, self.control_points)
        if any(p is not None for p in points) and basin.geometry is None:
            raise InputError([Issue("--barriers", "point layers need the subunits' geometry "
                                    "(pass the polygons)")], "cannot place points")
        if self.hazards is not None:
            _hazards(basin, Path(self.hazards), self.snap_m)
        if self.barriers is not None:
            _point_table(basin, Path(self.barriers), "barriers", "barrier_id", "B",
                         {"status": "active"}, self.snap_m)
        if self.control_points is not None:
            _point_table(basin, Path(self.control_points), "control_points", "point_id", "P",
                         {"kind": "monitoring"}, self.snap_m)


def _need_polygons(basin: ImportedBasin) -> None:
    if basin.geometry is None or not basin.geometry.geom_type.str.contains("Polygon").all():
        raise InputError([Issue(basin.source, "rasters are summarised over subunit polygons, "
                                "and this import has none (pass polygons, e.g. --polygons "
                                "for HYPE)")], "cannot use rasters")


def read_classes(path: Path) -> pd.DataFrame:
    """The class table of a land-cover raster: ``value``, ``land_class``, ``name`` and any
    land_classes.csv coefficient columns; problems located by row and column."""

    if not path.is_file():
        raise InputError([Issue(str(path), "class table not found")], "cannot read --classes")
    text = path.read_text(encoding="utf-8-sig")
    header = text.splitlines()[0].split(",") if text.strip() else []
    issues: list[Issue] = []
    if "value" not in [h.strip() for h in header]:
        issues.append(Issue(path.name, "no column value (the raster value of each class)", 1,
                            "value"))
        raise InputError(issues, f"invalid {path.name}")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    values = pd.to_numeric(frame["value"], errors="coerce")
    for pos in np.flatnonzero(values.isna().to_numpy()):
        issues.append(Issue(path.name, f"{frame['value'].iloc[pos]!r} is not a number", pos + 2,
                            "value"))
    rest = frame.drop(columns=["value"]).drop_duplicates("land_class") \
        if "land_class" in frame.columns else frame.drop(columns=["value"])
    table = TABLES["land_classes"]
    optional = [c.name for c in table.columns if c.name not in rest.columns]
    parsed = parse_table(rest.to_csv(index=False), _relaxed(table, optional), path.name, issues)
    if issues or parsed is None:
        raise InputError(issues, f"invalid {path.name}")
    parsed = parsed[[c for c in parsed.columns if c in rest.columns]]
    mapping = pd.DataFrame({"value": values.to_numpy(), "land_class": frame["land_class"]})
    return mapping.merge(parsed, on="land_class", how="left")


def _relaxed(table, absent: list[str]):
    """``table`` with the columns in ``absent`` made optional (filled later from defaults)."""
    columns = tuple(replace(c, required=False, nullable=True) if c.name in absent else c
                    for c in table.columns)
    return replace(table, columns=columns)


def land_cover_from_raster(basin: ImportedBasin, raster: Path, classes: Path) -> None:
    """Land cover per subunit from a classified raster (exact cell coverage)."""
    mapping = read_classes(Path(classes))
    areas = class_areas(basin.geometry, raster)
    known = set(mapping["value"])
    unmapped = areas.loc[~areas["value"].isin(known)].groupby("value")["area_m2"].sum()
    if len(unmapped):
        raise InputError([Issue(Path(classes).name, f"raster value {v:g} ({a / 1e4:,.1f} ha "
                                f"in the subunits) has no row (add a row: value {v:g}, "
                                "land_class, name)", None, "value")
                          for v, a in unmapped.items()], "incomplete class table")
    value_class = dict(zip(mapping["value"], mapping["land_class"], strict=True))
    areas["land_class"] = areas["value"].map(value_class)
    per = areas.groupby(["position", "land_class"], as_index=False)["area_m2"].sum()
    covered = per.groupby("position")["area_m2"].sum().reindex(
        range(len(basin.subunits))).fillna(0.0).to_numpy()
    ids = basin.subunits["subunit_id"].to_numpy()
    empty = np.flatnonzero(covered <= 0)
    if len(empty):
        raise InputError([Issue(f"{Path(raster).name}", f"the raster has no valid cell in "
                                f"subunit {ids[p]} (check its extent and nodata value)")
                          for p in empty[:20]], "cannot compute land cover")
    area_ha = basin.subunits["area_ha"].to_numpy(dtype=float)
    pos = per["position"].to_numpy()
    cover = pd.DataFrame({"subunit_id": ids[pos], "land_class": per["land_class"],
                          "area_ha": per["area_m2"].to_numpy() / covered[pos] * area_ha[pos]})
    basin.land_cover = cover[cover["area_ha"] > 0].reset_index(drop=True)
    used = set(basin.land_cover["land_class"])
    basin.land_classes = mapping.drop(columns=["value"]).drop_duplicates("land_class")
    basin.land_classes = basin.land_classes[basin.land_classes["land_class"].isin(used)]\
        .reset_index(drop=True)
    precision = "partial cells re-measured in double precision" if areas.attrs.get(
        "refined", True) else "exactextract's single-precision cell coverage (relative error " \
        "below 1e-7), too many partial cells to re-measure"
    basin.mark("land_cover", "area_ha", "computed", f"exact zonal class areas of "
               f"{Path(raster).name} (exactextract; {precision}), as shares of the "
               "subunit's area_ha")
    basin.mark("land_classes", "land_class", "read", f"{Path(classes).name}")
    for col in basin.land_classes.columns:
        if col != "land_class":
            basin.mark("land_classes", col, "read", f"{Path(classes).name}")
    short = np.flatnonzero(covered / np.maximum(_areas_m2(basin), 1e-9) < MIN_COVERAGE)
    if len(short):
        basin.notes.append(f"{Path(raster).name} covers less than {MIN_COVERAGE:.0%} of "
                           f"{len(short)} subunits (nodata or outside the raster), e.g. "
                           + ", ".join(map(str, ids[short[:5]]))
                           + "; their land cover is scaled from the covered part.")


def _areas_m2(basin: ImportedBasin) -> np.ndarray:
    return areas_ha(basin.geometry) * 1e4


def _dem(basin: ImportedBasin, dem: Path) -> None:
    memory = ls_raster(dem, usle_ls)
    with memory, memory.open() as dataset:
        values = zonal(basin.geometry, dataset, "mean")
    _located_nan(basin, values, dem)
    basin.subunits["usle_ls"] = values
    basin.mark("subunits", "usle_ls", "computed", f"area-weighted mean of cell LS from the "
               f"slope of {dem.name} (Wischmeier & Smith 1978, {SLOPE_LENGTH_M:g} m slopes)")


def _raster_column(basin: ImportedBasin, path: Path, column: str, op: str, how: str) -> None:
    values = zonal(basin.geometry, path, op)
    if op == "sum":
        values = np.nan_to_num(values)
    _located_nan(basin, values, path)
    basin.subunits[column] = values
    basin.mark("subunits", column, "computed", f"{how} {path.name} (exactextract)")


def _located_nan(basin: ImportedBasin, values: np.ndarray, path: Path) -> None:
    ids = basin.subunits["subunit_id"].to_numpy()
    bad = np.flatnonzero(~np.isfinite(values))
    if len(bad):
        raise InputError([Issue(path.name, f"no valid cell in subunit {ids[p]} (check the "
                                           "raster's extent and nodata value)")
                          for p in bad[:20]], f"cannot use {path.name}")


def _hazards(basin: ImportedBasin, path: Path, snap_m: float) -> None:
    points = read_layer(path, None, "point")
    target = snap(points, basin.geometry, snap_m)
    basin.subunits["hazard_sites"] = np.bincount(target, minlength=len(basin.subunits))
    basin.mark("subunits", "hazard_sites", "computed", f"points of {points.label} per subunit")


def _point_table(basin: ImportedBasin, path: Path, table_name: str, key: str, prefix: str,
                 assumed: dict[str, str], snap_m: float) -> None:
    """A table of points: schema columns found in the layer, subunit_id from snapping."""
    points = read_layer(path, None, "point")
    target = snap(points, basin.geometry, snap_m)
    table = TABLES[table_name]
    frame = points.frame
    out = pd.DataFrame({c: frame[c].to_numpy() for c in table.names if c in frame.columns})
    if key in out.columns:
        out[key] = id_strings(frame[key])
    else:
        out[key] = [f"{prefix}{i + 1}" for i in range(len(frame))]
        basin.mark(table_name, key, "computed", f"'{prefix}' + feature number")
    if "name" not in out.columns:
        out["name"] = out[key]
    out["subunit_id"] = basin.subunits["subunit_id"].to_numpy()[target]
    basin.mark(table_name, "subunit_id", "computed", f"subunit each point of {points.label} "
               f"lies in (or the nearest within {snap_m:g} m)")
    for col, value in assumed.items():
        if col not in out.columns:
            out[col] = value
            basin.mark(table_name, col, "assumed", f"{value} (no {col} column in the layer)")
    for col in out.columns:
        if (table_name, col) not in basin.provenance:
            basin.mark(table_name, col, "read", f"{col} of {points.label}")
    basin.tables[table_name] = out
    located = frame[[]].copy()
    located[key] = out[key].to_numpy()
    basin.layers[table_name] = located.set_geometry(frame.geometry)  # for plan.gpkg and maps
    basin.notes += points.notes
