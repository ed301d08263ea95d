"""Bad layers give exit 2, name the layer, feature and column, and write nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

gpd = pytest.importorskip("geopandas")
from shapely.geometry import Polygon, box  # noqa: E402

from dss.cli import app  # noqa: E402

RUNNER = CliRunner()


def squares(ids: list[str], down: list[str], crs: str = "EPSG:32648",
            scale: float = 1000.0) -> object:
    """A row of unit squares (1 km in metres) with ids and downstream ids."""
    geoms = [box(i * scale, 0, (i + 1) * scale, scale) for i in range(len(ids))]
    return gpd.GeoDataFrame({"code": ids, "to": down, "label": [f"S {i}" for i in ids]},
                            geometry=geoms, crs=crs)


def write(frame, path: Path) -> Path:
    frame.to_file(path, driver="GPKG", layer="basins")
    return path


def vector(path: Path, out: Path, *extra: str):
    return RUNNER.invoke(app, ["import", "vector", str(path), str(out), "--id", "code",
                               "--down", "to", *extra])


def expect_error(result, out: Path, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    for fragment in fragments:
        assert fragment in result.output, result.output
    assert not out.exists()


def test_valid_layer_imports(tmp_path: Path) -> None:
    layer = write(squares(["a", "b", "c"], ["b", "c", "0"]), tmp_path / "ok.gpkg")
    result = vector(layer, tmp_path / "study", "--name", "label")
    assert result.exit_code == 0, result.output
    subunits = (tmp_path / "study" / "subunits.csv").read_text(encoding="utf-8")
    assert "a,S a," in subunits


def test_missing_id_column(tmp_path: Path) -> None:
    layer = write(squares(["a", "b"], ["b", ""]), tmp_path / "x.gpkg")
    result = RUNNER.invoke(app, ["import", "vector", str(layer), str(tmp_path / "o"), "--id",
                                 "cod", "--down", "to"])
    expect_error(result, tmp_path / "o", "x.gpkg (layer basins)", "column cod",
                 "did you mean code?")


def test_cycle(tmp_path: Path) -> None:
    layer = write(squares(["a", "b", "c", "d"], ["b", "c", "a", ""]), tmp_path / "x.gpkg")
    expect_error(vector(layer, tmp_path / "o"), tmp_path / "o",
                 "x.gpkg (layer basins), feature 1 (code a), column to",
                 "cycle: a -> b -> c -> a")


def test_dangling_downstream_id(tmp_path: Path) -> None:
    layer = write(squares(["a", "b"], ["zz", ""]), tmp_path / "x.gpkg")
    expect_error(vector(layer, tmp_path / "o"), tmp_path / "o",
                 "feature 1 (code a), column to", "downstream id zz does not exist")
    assert vector(layer, tmp_path / "o2", "--outside-outlets").exit_code == 0


def test_empty_layer(tmp_path: Path) -> None:
    layer = write(squares(["a"], [""]).iloc[:0], tmp_path / "x.gpkg")
    expect_error(vector(layer, tmp_path / "o"), tmp_path / "o", "x.gpkg (layer basins)",
                 "no features")


def test_wrong_crs(tmp_path: Path) -> None:
    frame = squares(["a", "b"], ["b", ""], scale=100_000.0).set_crs("EPSG:4326",
                                                                     allow_override=True)
    layer = write(frame, tmp_path / "x.gpkg")
    expect_error(vector(layer, tmp_path / "o"), tmp_path / "o", "do not fit its CRS",
                 "column geometry")


def test_corrupt_file(tmp_path: Path) -> None:
    layer = write(squares(["a", "b"], ["b", ""]), tmp_path / "x.gpkg")
    raw = layer.read_bytes()
    layer.write_bytes(raw[:100] + b"\0" * 50 + raw[150: len(raw) // 3])
    expect_error(vector(layer, tmp_path / "o"), tmp_path / "o", "x.gpkg")


def test_duplicate_ids_and_missing_geometry(tmp_path: Path) -> None:
    frame = squares(["a", "a", "c"], ["c", "c", ""])
    frame.loc[2, "geometry"] = None
    layer = write(frame, tmp_path / "x.gpkg")
    expect_error(vector(layer, tmp_path / "o"), tmp_path / "o", "feature 3", "no geometry")
    frame = squares(["a", "a", "c"], ["c", "c", ""])
    layer = write(frame, tmp_path / "y.gpkg")
    expect_error(vector(layer, tmp_path / "o"), tmp_path / "o", "code a is used by 2 features")


def test_invalid_geometry_is_repaired_and_reported(tmp_path: Path) -> None:
    frame = squares(["a", "b"], ["b", ""])
    frame.loc[0, "geometry"] = Polygon([(0, 0), (1000, 1000), (1000, 0), (0, 1000)])  # bow tie
    layer = write(frame, tmp_path / "x.gpkg")
    result = vector(layer, tmp_path / "o")
    assert result.exit_code == 0, result.output
    report = (tmp_path / "o" / "IMPORT_REPORT.md").read_text(encoding="utf-8")
    assert "1 invalid or mixed geometries repaired" in report


def test_existing_folder_is_not_overwritten(tmp_path: Path) -> None:
    layer = write(squares(["a", "b"], ["b", ""]), tmp_path / "x.gpkg")
    out = tmp_path / "o"
    out.mkdir()
    (out / "keep.txt").write_text("mine", encoding="utf-8")
    result = vector(layer, out)
    assert result.exit_code == 2 and "--overwrite" in result.output
    assert (out / "keep.txt").read_text(encoding="utf-8") == "mine"


def hydrobasins(tmp_path: Path) -> Path:
    """A HydroBASINS-like layer in WGS 84: 2 x 2 sub-basins of 0.1 degree, one outlet."""
    geoms = [box(103.0 + 0.1 * c, 30.0 + 0.1 * r, 103.1 + 0.1 * c, 30.1 + 0.1 * r)
             for r in range(2) for c in range(2)]
    frame = gpd.GeoDataFrame({"HYBAS_ID": [4120000010, 4120000020, 4120000030, 4120000040],
                              "NEXT_DOWN": [0, 4120000010, 4120000010, 4120000030],
                              "SUB_AREA": [92.0, 92.0, 91.9, 91.9]}, geometry=geoms,
                             crs="EPSG:4326")
    path = tmp_path / "hybas.shp"
    frame.to_file(path)
    return path


def test_hydrobasins_with_points(tmp_path: Path) -> None:
    from shapely.geometry import Point

    from dss.data.study import load_study

    layer = hydrobasins(tmp_path)
    hazards = gpd.GeoDataFrame(geometry=[Point(103.05, 30.05), Point(103.06, 30.04),
                                         Point(103.15, 30.15)], crs="EPSG:4326")
    hazards.to_file(tmp_path / "hazards.geojson", driver="GeoJSON")
    points = gpd.GeoDataFrame({"point_id": ["intake_1"], "name": ["Town intake"],
                               "name_zh": ["水厂取水口"], "kind": ["intake"]},
                              geometry=[Point(103.12, 30.02)], crs="EPSG:4326")
    points.to_file(tmp_path / "points.gpkg", driver="GPKG")
    out = tmp_path / "study"
    result = RUNNER.invoke(app, ["import", "hydrobasins", str(layer), str(out), "--hazards",
                                 str(tmp_path / "hazards.geojson"), "--control-points",
                                 str(tmp_path / "points.gpkg")])
    assert result.exit_code == 0, result.output
    study = load_study(out)
    sub = study.subunits.set_index("subunit_id")
    assert sub.loc["4120000010", "area_ha"] == pytest.approx(9200.0)
    assert sub["downstream_id"].isna().sum() == 1
    assert sub["hazard_sites"].to_dict() == {"4120000010": 2, "4120000020": 0,
                                             "4120000030": 0, "4120000040": 1}
    cps = study.control_points.set_index("point_id")
    assert cps.loc["intake_1", "subunit_id"] == "4120000020"
    assert cps.loc["intake_1", "name_zh"] == "水厂取水口"
    assert cps.loc["outlet_4120000010", "kind"] == "outlet"
    report = (out / "IMPORT_REPORT.md").read_text(encoding="utf-8")
    assert "SUB_AREA (km2 -> ha)" in report and "hazard_sites" in report


def test_core_import_needs_no_gis_library() -> None:
    import subprocess
    import sys

    code = ("import sys, dss.cli, dss.api, dss.results.writer, dss.results.plots; "
            "bad = [m for m in ('geopandas', 'shapely', 'pyogrio', 'rasterio', 'exactextract') "
            "if m in sys.modules]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_gis_library_names_the_extra() -> None:
    from dss.gis import GisUnavailable, require_gis

    with pytest.raises(GisUnavailable, match=r'pip install "dss\[gis\]"'):
        require_gis("dss import", ("no_such_gis_module_xyz",))
