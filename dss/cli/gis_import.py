"""``dss import SOURCE ...``: build a study folder from GIS layers.

Registers the ``import`` command group on :data:`dss.cli.app`. The work is in
:mod:`dss.gis`; this module parses options and prints what was written. Needs the ``gis``
extra. Exit code 2, with every problem located by layer, feature and column, on bad input;
nothing is written then.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dss.cli import _guard, app

import_app = typer.Typer(help="Build a study folder from GIS layers (needs the gis extra).",
                         no_args_is_help=True)
app.add_typer(import_app, name="import")

OutArg = Annotated[Path, typer.Argument(help="New study folder to write.", show_default=False)]
LayerOpt = Annotated[str | None, typer.Option(
    "--layer", help="Layer name, when the file holds several.", show_default=False)]
CrsOpt = Annotated[str | None, typer.Option(
    "--crs", help="CRS to assume when the file declares none (e.g. EPSG:4326).",
    show_default=False)]
OutsideOpt = Annotated[bool, typer.Option(
    "--outside-outlets", help="Treat downstream ids not in the layer as outlets (a layer cut "
                              "out of a larger basin).")]
NameOpt = Annotated[str | None, typer.Option(
    "--study-name", help="Study name in model.yaml (default: the folder name).",
    show_default=False)]
BudgetOpt = Annotated[float | None, typer.Option(
    "--budget", help="Budget in model.yaml, CNY (default: 50,000 per subunit).",
    show_default=False)]
OverwriteOpt = Annotated[bool, typer.Option("--overwrite", help="Replace a non-empty folder.")]
RasterOpt = Annotated[Path | None, typer.Option(show_default=False)]


def _enrich_options(land_cover: Path | None, classes: Path | None, dem: Path | None,
                    erosivity: Path | None, erodibility: Path | None,
                    population: Path | None, barriers: Path | None, hazards: Path | None,
                    control_points: Path | None, snap_m: float):
    from dss.gis.enrich import Enrichment

    return Enrichment(land_cover=land_cover, classes=classes, dem=dem, erosivity=erosivity,
                      erodibility=erodibility, population=population, barriers=barriers,
                      hazards=hazards, control_points=control_points, snap_m=snap_m)


LandCoverOpt = Annotated[Path | None, typer.Option(
    "--land-cover", help="Land-cover raster (needs --classes).", show_default=False)]
ClassesOpt = Annotated[Path | None, typer.Option(
    "--classes", help="CSV mapping raster values to land classes: value, land_class, name "
                      "[, name_zh, usle_c, tn_export, ...].", show_default=False)]
DemOpt = Annotated[Path | None, typer.Option(
    "--dem", help="Elevation raster in metres (slope -> USLE LS).", show_default=False)]
ErosivityOpt = Annotated[Path | None, typer.Option(
    "--erosivity", help="USLE R raster, MJ mm/(ha h yr).", show_default=False)]
ErodibilityOpt = Annotated[Path | None, typer.Option(
    "--erodibility", help="USLE K raster, t ha h/(ha MJ mm).", show_default=False)]
PopulationOpt = Annotated[Path | None, typer.Option(
    "--population", help="Population raster, persons per cell.", show_default=False)]
BarriersOpt = Annotated[Path | None, typer.Option(
    "--barriers", help="Point layer of hydropower stations and weirs (columns of "
                       "barriers.csv where present).", show_default=False)]
HazardsOpt = Annotated[Path | None, typer.Option(
    "--hazards", help="Point layer of geohazard sites (counted per subunit).",
    show_default=False)]
PointsOpt = Annotated[Path | None, typer.Option(
    "--control-points", help="Point layer of reservoirs, intakes and monitoring sections "
                             "(columns of control_points.csv where present).",
    show_default=False)]
SnapOpt = Annotated[float, typer.Option(
    "--snap", help="Largest distance (m) at which a point outside every subunit is snapped "
                   "to the nearest one.")]


def _finish(basin, out: Path, name, budget, overwrite, enrichment) -> None:
    from dss.gis.study_writer import write_study

    enrichment.apply(basin)
    model = write_study(basin, out, name, budget, overwrite)
    typer.echo(f"Imported {len(basin.subunits)} subunits from {basin.source}")
    typer.echo(f"  study:   {model}")
    typer.echo(f"  report:  {out / 'IMPORT_REPORT.md'} (what was read, computed, assumed)")
    if basin.geometry is not None:
        typer.echo(f"  geometry: {out / 'subunits.gpkg'}")
    typer.echo(f"Next: dss validate {model} && dss solve {model}")


@import_app.command("hydrobasins")
@_guard
def hydrobasins(
        layer_file: Annotated[Path, typer.Argument(help="HydroBASINS polygons (HYBAS_ID, "
                                                        "NEXT_DOWN, SUB_AREA).",
                                                   show_default=False)],
        out: OutArg, layer: LayerOpt = None, crs: CrsOpt = None,
        outside_outlets: OutsideOpt = False, name: NameOpt = None, budget: BudgetOpt = None,
        overwrite: OverwriteOpt = False, land_cover: LandCoverOpt = None,
        classes: ClassesOpt = None, dem: DemOpt = None, erosivity: ErosivityOpt = None,
        erodibility: ErodibilityOpt = None, population: PopulationOpt = None,
        barriers: BarriersOpt = None, hazards: HazardsOpt = None,
        control_points: PointsOpt = None, snap: SnapOpt = 500.0) -> None:
    """Sub-basins from HydroBASINS polygons."""
    from dss.gis.importers import import_hydrobasins

    extra = _enrich_options(land_cover, classes, dem, erosivity, erodibility, population,
                            barriers, hazards, control_points, snap)
    basin = import_hydrobasins(layer_file, layer, crs, outside_outlets)
    _finish(basin, out, name, budget, overwrite, extra)


@import_app.command("hydrorivers")
@_guard
def hydrorivers(
        layer_file: Annotated[Path, typer.Argument(help="HydroRIVERS lines (HYRIV_ID, "
                                                        "NEXT_DOWN, LENGTH_KM, CATCH_SKM, "
                                                        "UPLAND_SKM).", show_default=False)],
        out: OutArg,
        by: Annotated[str | None, typer.Option(
            "--by", help="Group reaches into sub-basins by this column (e.g. HYBAS_L12).",
            show_default=False)] = None,
        layer: LayerOpt = None, crs: CrsOpt = None, outside_outlets: OutsideOpt = False,
        name: NameOpt = None, budget: BudgetOpt = None, overwrite: OverwriteOpt = False,
        barriers: BarriersOpt = None, hazards: HazardsOpt = None,
        control_points: PointsOpt = None, snap: SnapOpt = 500.0) -> None:
    """Reaches (or the sub-basins they belong to, with --by) from HydroRIVERS lines."""
    from dss.gis.importers import import_hydrorivers

    extra = _enrich_options(None, None, None, None, None, None, barriers, hazards,
                            control_points, snap)
    basin = import_hydrorivers(layer_file, by, layer, crs, outside_outlets)
    _finish(basin, out, name, budget, overwrite, extra)


@import_app.command("hype")
@_guard
def hype(
        geodata: Annotated[Path, typer.Argument(help="HYPE GeoData.txt.", show_default=False)],
        out: OutArg,
        geoclass: Annotated[Path | None, typer.Option(
            "--geoclass", help="HYPE GeoClass.txt (SLC class -> land use).",
            show_default=False)] = None,
        polygons: Annotated[Path | None, typer.Option(
            "--polygons", help="Sub-basin polygons (GeoPackage, shapefile, ...).",
            show_default=False)] = None,
        polygon_id: Annotated[str, typer.Option(
            "--polygon-id", help="Column of the polygons holding the SUBID.")] = "SUBID",
        layer: LayerOpt = None, name: NameOpt = None, budget: BudgetOpt = None,
        overwrite: OverwriteOpt = False, dem: DemOpt = None, erosivity: ErosivityOpt = None,
        erodibility: ErodibilityOpt = None, population: PopulationOpt = None,
        barriers: BarriersOpt = None, hazards: HazardsOpt = None,
        control_points: PointsOpt = None, snap: SnapOpt = 500.0) -> None:
    """Sub-basins and land cover from a HYPE set-up (GeoData, GeoClass, polygons)."""
    from dss.gis.hype import import_hype

    extra = _enrich_options(None, None, dem, erosivity, erodibility, population, barriers,
                            hazards, control_points, snap)
    basin = import_hype(geodata, geoclass, polygons, polygon_id, layer)
    _finish(basin, out, name, budget, overwrite, extra)


@import_app.command("vector")
@_guard
def vector(
        layer_file: Annotated[Path, typer.Argument(help="Polygon or line layer.",
                                                   show_default=False)],
        out: OutArg,
        id_: Annotated[str, typer.Option("--id", help="Subunit id column.",
                                         show_default=False)],
        down: Annotated[str, typer.Option("--down", help="Downstream id column (0 or empty "
                                                         "at an outlet).", show_default=False)],
        name_col: Annotated[str | None, typer.Option("--name", help="English name column.",
                                                     show_default=False)] = None,
        name_zh: Annotated[str | None, typer.Option("--name-zh", help="Chinese name column.",
                                                    show_default=False)] = None,
        township: Annotated[str | None, typer.Option("--township", help="Township column.",
                                                     show_default=False)] = None,
        area: Annotated[str | None, typer.Option(
            "--area", help="Area column (default: measured from the polygons).",
            show_default=False)] = None,
        area_unit: Annotated[str, typer.Option("--area-unit", help="ha, km2 or m2.")] = "ha",
        stream_km: Annotated[str | None, typer.Option(
            "--stream-km", help="Stream length column, km.", show_default=False)] = None,
        layer: LayerOpt = None, crs: CrsOpt = None, outside_outlets: OutsideOpt = False,
        study_name: NameOpt = None, budget: BudgetOpt = None, overwrite: OverwriteOpt = False,
        land_cover: LandCoverOpt = None, classes: ClassesOpt = None, dem: DemOpt = None,
        erosivity: ErosivityOpt = None, erodibility: ErodibilityOpt = None,
        population: PopulationOpt = None, barriers: BarriersOpt = None,
        hazards: HazardsOpt = None, control_points: PointsOpt = None,
        snap: SnapOpt = 500.0) -> None:
    """Subunits from any polygon or line layer with an id and a downstream id."""
    from dss.gis.importers import LayerSpec, import_vector

    spec = LayerSpec(id_, down, name_col, name_zh, township, area, area_unit, stream_km,
                     outside_outlets)
    extra = _enrich_options(land_cover, classes, dem, erosivity, erodibility, population,
                            barriers, hazards, control_points, snap)
    basin = import_vector(layer_file, spec, layer, crs)
    _finish(basin, out, study_name, budget, overwrite, extra)
