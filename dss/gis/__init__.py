"""Geographic input and output: studies built from GIS layers, plans written back as layers.

Everything here needs the ``gis`` extra (geopandas with pyogrio and shapely, pyproj, rasterio
and exactextract). The rest of dss never imports this package at module level, so the core
install stays free of GIS libraries; :func:`require_gis` explains how to install them.
"""

from __future__ import annotations

import importlib
from typing import Any

from dss.errors import DssError

GIS_MODULES: tuple[str, ...] = ("geopandas", "pyogrio", "shapely", "pyproj")
"""Vector stack every GIS feature needs."""

RASTER_MODULES: tuple[str, ...] = ("rasterio", "exactextract")
"""Raster stack for zonal statistics."""


class GisUnavailable(DssError):
    """A GIS feature was asked for but the ``gis`` extra is not installed."""

    exit_code = 2


def require_gis(feature: str, modules: tuple[str, ...] = GIS_MODULES) -> Any:
    """Import the GIS libraries a feature needs, or raise :class:`GisUnavailable`.

    Args:
        feature: What needs them, for the message (e.g. ``"dss import"``).
        modules: Module names to import.

    Returns:
        The first module imported (usually geopandas).
    """
    loaded = []
    for name in modules:
        try:
            loaded.append(importlib.import_module(name))
        except ImportError:
            raise GisUnavailable(
                f"{feature} needs the Python package {name!r}, which is not installed: "
                "install the gis extra (python -m pip install \"dss[gis]\", or from a clone "
                "python -m pip install -e \".[gis]\")") from None
    return loaded[0]


def gis_available() -> bool:
    """Whether the vector stack can be imported (without raising)."""
    try:
        require_gis("check")
    except GisUnavailable:
        return False
    return True
