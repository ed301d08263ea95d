"""Benchmark ``dss import vector`` with a land-cover raster (not part of pytest).

Usage::

    python benchmarks/bench_import.py [--sizes 10000 100000] [--cells 100] [--keep DIR]

For each size N it generates N sub-basin polygons (a jittered quadrilateral mesh of 1 km
cells in UTM zone 48N, each draining to its neighbour towards one outlet) as a GeoPackage,
and a land-cover GeoTIFF with six classes over the same extent (``--cells`` raster cells
across each polygon's 1 km side, so about cells² cells per polygon). It then runs the real
command, ``dss import vector LAYER OUT --id id --down down --land-cover RASTER --classes
CSV``, as its own process (wall time and peak resident memory from ``os.wait4``), and times
its stages in-process: read and check the layer, land cover by exact zonal statistics,
complete, validate and write the study. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SIDE_M = 1000.0
ORIGIN = (300_000.0, 3_000_000.0)
CRS = "EPSG:32648"
COLUMNS = ["N", "raster cells", "import s", "peak RSS MB", "read s", "land cover s",
           "write s", "study MB"]


def make_layer(n: int, seed: int, folder: Path) -> Path:
    """N jittered quadrilaterals in a grid, linked into one drainage tree."""
    import geopandas as gpd
    import shapely

    rng = np.random.default_rng(seed)
    nx = int(np.ceil(np.sqrt(n)))
    ny = int(np.ceil(n / nx))
    vx, vy = np.meshgrid(np.arange(nx + 1, dtype=float), np.arange(ny + 1, dtype=float))
    jitter = rng.uniform(-0.3, 0.3, (2, ny + 1, nx + 1))
    jitter[:, [0, -1], :] = 0.0
    jitter[:, :, [0, -1]] = 0.0
    px = ORIGIN[0] + (vx + jitter[0]) * SIDE_M
    py = ORIGIN[1] + (vy + jitter[1]) * SIDE_M
    j, i = np.divmod(np.arange(n), nx)
    ring = np.stack([np.stack([px[j, i], py[j, i]], -1), np.stack([px[j, i + 1], py[j, i + 1]], -1),
                     np.stack([px[j + 1, i + 1], py[j + 1, i + 1]], -1),
                     np.stack([px[j + 1, i], py[j + 1, i]], -1)], axis=1)
    polygons = shapely.polygons(ring)
    ids = np.array([f"B{k}" for k in range(n)], dtype=object)
    down = np.where(i > 0, np.arange(n) - 1, np.where(j > 0, np.arange(n) - nx, -1))
    downstream = np.where(down >= 0, ids[np.maximum(down, 0)], "0")
    frame = gpd.GeoDataFrame({"id": ids, "down": downstream}, geometry=polygons, crs=CRS)
    path = folder / f"basins_{n}.gpkg"
    frame.to_file(path, driver="GPKG", engine="pyogrio")
    return path


def make_raster(n: int, cells: int, seed: int, folder: Path) -> tuple[Path, int]:
    """A six-class land-cover raster covering the layer."""
    import rasterio
    from rasterio.transform import from_origin

    nx = int(np.ceil(np.sqrt(n)))
    ny = int(np.ceil(n / nx))
    width, height = (nx + 1) * cells, (ny + 1) * cells
    size = SIDE_M / cells
    rng = np.random.default_rng(seed + 1)
    values = rng.integers(1, 7, size=(height, width), dtype=np.uint8)
    path = folder / f"land_{n}.tif"
    transform = from_origin(ORIGIN[0] - 0.5 * SIDE_M, ORIGIN[1] + (ny + 0.5) * SIDE_M, size,
                            size)
    with rasterio.open(path, "w", driver="GTiff", width=width, height=height, count=1,
                       dtype="uint8", crs=CRS, transform=transform, nodata=0, tiled=True,
                       blockxsize=256, blockysize=256) as dst:
        dst.write(values, 1)
    return path, width * height


def write_classes(folder: Path) -> Path:
    path = folder / "classes.csv"
    path.write_text("value,land_class,name\n1,forest,Forest\n2,shrub,Shrubland\n"
                    "3,grass,Grassland\n4,crop,Cropland\n5,built,Built-up\n6,water,Water\n",
                    encoding="utf-8")
    return path


def stages(layer: Path, raster: Path, classes: Path, out: Path) -> dict:
    """The import's stages, timed in this process."""
    from dss.gis.enrich import Enrichment
    from dss.gis.importers import LayerSpec, import_vector
    from dss.gis.study_writer import write_study

    t0 = time.perf_counter()
    basin = import_vector(layer, LayerSpec("id", "down"))
    t1 = time.perf_counter()
    Enrichment(land_cover=raster, classes=classes).apply(basin)
    t2 = time.perf_counter()
    write_study(basin, out, overwrite=True)
    t3 = time.perf_counter()
    return {"read": t1 - t0, "land": t2 - t1, "write": t3 - t2}


def run_process(cmd: list[str]) -> tuple[float, float]:
    """Wall time and peak RSS (MB) of one command."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            err.seek(0)
            raise SystemExit(f"{' '.join(cmd)} failed:\n{err.read()}")
    return seconds, usage.ru_maxrss / 1024.0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000, 100000])
    parser.add_argument("--cells", type=int, default=10,
                        help="Raster cells along a polygon's 1 km side (default 10: 100 m).")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, default=None)
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(stages(*map(Path, args.child))))
        return
    rows = []
    with tempfile.TemporaryDirectory(prefix="dss_bench_import_") as tmp:
        root = args.keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        classes = write_classes(root)
        for n in args.sizes:
            layer = make_layer(n, args.seed, root)
            raster, cells = make_raster(n, args.cells, args.seed, root)
            out = root / f"study_{n}"
            seconds, rss = run_process([sys.executable, "-m", "dss", "import", "vector",
                                        str(layer), str(out), "--id", "id", "--down", "down",
                                        "--land-cover", str(raster), "--classes", str(classes),
                                        "--overwrite"])
            size = sum(p.stat().st_size for p in out.iterdir()) / 1e6
            child = subprocess.run([sys.executable, __file__, "--child", str(layer),
                                    str(raster), str(classes), str(root / f"staged_{n}")],
                                   check=True, capture_output=True, text=True)
            staged = json.loads(child.stdout.strip().splitlines()[-1])
            rows.append((n, cells, seconds, rss, staged, size))
    print(f"dss import benchmark: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
          f"{args.cells}x{args.cells} raster cells per 1 km polygon\n")
    print("| " + " | ".join(COLUMNS) + " |")
    print("|" + "|".join("---:" for _ in COLUMNS) + "|")
    for n, cells, seconds, rss, st, size in rows:
        print(f"| {n:,} | {cells:,} | {seconds:.1f} | {rss:.0f} | {st['read']:.1f} | "
              f"{st['land']:.1f} | {st['write']:.1f} | {size:.0f} |")


if __name__ == "__main__":
    main()
