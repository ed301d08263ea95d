"""Zonal statistics against an independent computation, and an import using rasters and
point layers.

The independent computation intersects every raster cell (a shapely box) with the polygon
and sums the intersection areas per class: no coverage fractions, no exactextract.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

gpd = pytest.importorskip("geopandas")
rasterio = pytest.importorskip("rasterio")
pytest.importorskip("exactextract")
from rasterio.transform import from_origin  # noqa: E402
from shapely.geometry import Point, Polygon, box  # noqa: E402

from dss.cli import app  # noqa: E402
from dss.data.study import load_study  # noqa: E402
from dss.gis.zonal import class_areas, zonal  # noqa: E402

CRS = "EPSG:32648"
CELL = 30.0
X0, Y0 = 500_000.0, 3_300_000.0


def make_raster(path: Path, values: np.ndarray, nodata: float | None = None) -> Path:
    transform = from_origin(X0, Y0, CELL, CELL)
    with rasterio.open(path, "w", driver="GTiff", height=values.shape[0],
                       width=values.shape[1], count=1, dtype=values.dtype, crs=CRS,
                       transform=transform, nodata=nodata) as dst:
        dst.write(values, 1)
    return path


def polygons() -> object:
    """Three polygons with vertices off the cell grid, one partly outside the raster."""
    shapes = [
        Polygon([(X0 + 7.3, Y0 - 11.9), (X0 + 251.7, Y0 - 40.2), (X0 + 190.4, Y0 - 283.3),
                 (X0 + 31.1, Y0 - 220.8)]),
        Polygon([(X0 + 260.5, Y0 - 5.5), (X0 + 355.0, Y0 - 95.25), (X0 + 270.1, Y0 - 290.7)]),
        box(X0 + 300.2, Y0 - 250.6, X0 + 420.9, Y0 - 140.3),  # crosses the east edge
    ]
    return gpd.GeoDataFrame({"code": ["a", "b", "c"], "to": ["b", "0", "b"]}, geometry=shapes,
                            crs=CRS)


def independent_areas(shapes, values: np.ndarray, nodata: float | None) -> dict:
    out: dict[tuple[int, float], float] = {}
    for pos, shape in enumerate(shapes.geometry):
        for r in range(values.shape[0]):
            for c in range(values.shape[1]):
                if nodata is not None and values[r, c] == nodata:
                    continue
                cell = box(X0 + c * CELL, Y0 - (r + 1) * CELL, X0 + (c + 1) * CELL,
                           Y0 - r * CELL)
                area = cell.intersection(shape).area
                if area > 0:
                    key = (pos, float(values[r, c]))
                    out[key] = out.get(key, 0.0) + area
    return out


@pytest.fixture()
def land(tmp_path: Path) -> tuple[Path, np.ndarray]:
    rng = np.random.default_rng(7)
    values = rng.integers(1, 5, size=(11, 12)).astype(np.uint8)
    values[3, 4] = 255  # nodata
    return make_raster(tmp_path / "land.tif", values, nodata=255), values


def test_class_areas_equal_cell_intersections(land) -> None:
    path, values = land
    shapes = polygons()
    got = class_areas(shapes, path)
    expected = independent_areas(shapes, values, 255)
    got_map = {(int(p), float(v)): a for p, v, a in got[["position", "value", "area_m2"]]
               .itertuples(index=False)}
    assert set(got_map) == set(expected)
    for key, area in expected.items():
        assert got_map[key] == pytest.approx(area, rel=1e-9, abs=1e-9), key


def test_mean_and_sum_equal_weighted_cells(tmp_path: Path) -> None:
    values = np.arange(132, dtype=np.float64).reshape(11, 12) * 0.5 + 1.0
    path = make_raster(tmp_path / "r.tif", values)
    shapes = polygons()
    ones = np.ones_like(values)
    weights = independent_areas(shapes, ones, None)
    for pos, shape in enumerate(shapes.geometry):
        num = sum(values[r, c] * box(X0 + c * CELL, Y0 - (r + 1) * CELL, X0 + (c + 1) * CELL,
                                     Y0 - r * CELL).intersection(shape).area
                  for r in range(11) for c in range(12))
        area = weights[(pos, 1.0)]
        assert zonal(shapes, path, "mean")[pos] == pytest.approx(num / area, rel=1e-9)
        assert zonal(shapes, path, "sum")[pos] == pytest.approx(num / CELL**2, rel=1e-9)


def test_import_with_land_cover_raster_and_points(tmp_path: Path, land) -> None:
    path, values = land
    shapes = polygons()
    shapes.to_file(tmp_path / "basins.gpkg", driver="GPKG")
    classes = pd.DataFrame({"value": [1, 2, 3, 4],
                            "land_class": ["forest", "crop", "crop", "town"],
                            "name": ["Mixed forest", "Dry cropland", "Dry cropland",
                                     "Built-up"],
                            "name_zh": ["混交林", "旱地", "旱地", "建设用地"]})
    classes.to_csv(tmp_path / "classes.csv", index=False)
    dem = make_raster(tmp_path / "dem.tif", (np.add.outer(np.arange(11.0), np.arange(12.0))
                                             * 3.0).astype(np.float64))
    points = gpd.GeoDataFrame({"name": ["Dam 1", "Far weir"], "capacity_mw": [1.5, 0.2],
                               "status": ["active", "exited"]},
                              geometry=[Point(X0 + 100, Y0 - 100),
                                        Point(X0 + 440, Y0 - 200)], crs=CRS)
    points.to_file(tmp_path / "dams.gpkg", driver="GPKG")
    erosivity = make_raster(tmp_path / "r.tif", np.full((11, 12), 3500.0))
    people = make_raster(tmp_path / "pop.tif", np.full((11, 12), 2.0))
    result = CliRunner().invoke(app, [
        "import", "vector", str(tmp_path / "basins.gpkg"), str(tmp_path / "study"),
        "--id", "code", "--down", "to", "--land-cover", str(path), "--classes",
        str(tmp_path / "classes.csv"), "--dem", str(dem), "--barriers",
        str(tmp_path / "dams.gpkg"), "--snap", "100", "--erosivity", str(erosivity),
        "--population", str(people)])
    assert result.exit_code == 0, result.output
    study = load_study(tmp_path / "study")
    shares = independent_areas(shapes, values, 255)
    klass = {1.0: "forest", 2.0: "crop", 3.0: "crop", 4.0: "town"}
    cover = study.land_cover.set_index(["subunit_id", "land_class"])["area_ha"]
    area = study.subunits.set_index("subunit_id")["area_ha"]
    for pos, sid in enumerate(["a", "b", "c"]):
        total = sum(a for (p, _), a in shares.items() if p == pos)
        for name in ("forest", "crop", "town"):
            part = sum(a for (p, v), a in shares.items() if p == pos and klass[v] == name)
            assert cover.get((sid, name), 0.0) == pytest.approx(part / total * area[sid],
                                                                rel=1e-9, abs=1e-12)
    assert set(study.land_classes["name_zh"]) == {"混交林", "旱地", "建设用地"}
    # The DEM is a plane rising 3 m per 30 m cell east and south: a 14.14 % slope everywhere.
    from dss.gis.defaults import usle_ls

    slope = 100.0 * np.hypot(3.0 / CELL, 3.0 / CELL)
    np.testing.assert_allclose(study.subunits["usle_ls"], usle_ls(np.array([slope]))[0],
                               rtol=1e-9)
    np.testing.assert_allclose(study.subunits["usle_r"], 3500.0, rtol=1e-12)
    inside = independent_areas(shapes, np.ones((11, 12)), None)
    np.testing.assert_allclose(study.subunits["population"],
                               [2.0 * inside[(p, 1.0)] / CELL**2 for p in range(3)], rtol=1e-9)
    barriers = study.barriers.set_index("name")
    assert barriers.loc["Dam 1", "subunit_id"] == "a"
    assert barriers.loc["Far weir", "subunit_id"] == "c"  # 19 m east of c: snapped
    assert barriers.loc["Far weir", "status"] == "exited"


def test_unmapped_raster_value_is_located(tmp_path: Path, land) -> None:
    path, _ = land
    polygons().to_file(tmp_path / "basins.gpkg", driver="GPKG")
    pd.DataFrame({"value": [1, 2, 3], "land_class": ["f", "c", "c"],
                  "name": ["Forest", "Crop", "Crop"]}).to_csv(tmp_path / "k.csv", index=False)
    result = CliRunner().invoke(app, [
        "import", "vector", str(tmp_path / "basins.gpkg"), str(tmp_path / "study"),
        "--id", "code", "--down", "to", "--land-cover", str(path), "--classes",
        str(tmp_path / "k.csv")])
    assert result.exit_code == 2
    assert "k.csv, column value: raster value 4" in result.output
    assert not (tmp_path / "study").exists()


def test_single_precision_path_for_large_imports(land, monkeypatch) -> None:
    """Beyond REFINE_LIMIT partial cells, exactextract's own coverage is used: the same
    areas to its single precision, and the result says it was not refined."""
    import dss.gis.zonal as zonal_module

    path, values = land
    shapes = polygons()
    monkeypatch.setattr(zonal_module, "REFINE_LIMIT", 0)
    got = class_areas(shapes, path)
    assert got.attrs["refined"] is False
    expected = independent_areas(shapes, values, 255)
    got_map = {(int(p), float(v)): a for p, v, a in got[["position", "value", "area_m2"]]
               .itertuples(index=False)}
    assert set(got_map) == set(expected)
    for key, area in expected.items():
        assert got_map[key] == pytest.approx(area, rel=1e-6), key


def test_bad_point_attributes_fail_validation_and_write_nothing(tmp_path: Path) -> None:
    polygons().to_file(tmp_path / "basins.gpkg", driver="GPKG")
    gpd.GeoDataFrame({"status": ["retired"]}, geometry=[Point(X0 + 100, Y0 - 100)],
                     crs=CRS).to_file(tmp_path / "dams.gpkg", driver="GPKG")
    result = CliRunner().invoke(app, [
        "import", "vector", str(tmp_path / "basins.gpkg"), str(tmp_path / "study"), "--id",
        "code", "--down", "to", "--barriers", str(tmp_path / "dams.gpkg")])
    assert result.exit_code == 2, result.output
    assert "barriers.csv, row 2, column status" in result.output
    assert not (tmp_path / "study").exists()
    assert not list(tmp_path.glob(".study*"))  # no staging folder left behind
