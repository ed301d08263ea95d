"""GeoPackage output: several named layers in one ``.gpkg`` file, written with pyogrio.

GeoPackage is the OGC's SQLite-based format; QGIS and ArcGIS open it directly, with every
layer, its CRS and its attribute types. dss writes ``subunits.gpkg`` (a study's geometry)
and ``plan.gpkg`` (a run's results on that geometry).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dss.gis import require_gis


def write_layers(layers: dict[str, Any], path: Path) -> None:
    """Write each GeoDataFrame as a layer of a new GeoPackage at ``path``."""
    require_gis("writing a GeoPackage")
    import pyogrio

    path = Path(path)
    if path.exists():
        path.unlink()
    for name, frame in layers.items():
        pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG", append=path.exists())


def layer_bytes(layers: dict[str, Any], scratch: Path) -> bytes:
    """The bytes of a GeoPackage holding ``layers`` (written at ``scratch`` first)."""
    write_layers(layers, scratch)
    return Path(scratch).read_bytes()


def read_layers(path: Path) -> dict[str, Any]:
    """Every layer of a GeoPackage, by name."""
    require_gis("reading a GeoPackage")
    import pyogrio

    return {str(name): pyogrio.read_dataframe(path, layer=str(name))
            for name in pyogrio.list_layers(path)[:, 0]}
