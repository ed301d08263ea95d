"""What an importer produces: subunits with their geometry, and where each column came from.

An importer (:mod:`dss.gis.importers`, :mod:`dss.gis.hype`) fills an :class:`ImportedBasin`
with what its source holds. :mod:`dss.gis.study_writer` completes the remaining tables from
documented defaults and writes the study; :mod:`dss.gis.report` turns :attr:`provenance` into
``IMPORT_REPORT.md`` so that a planner knows which columns to replace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

Status = Literal["read", "computed", "assumed"]


@dataclass
class Provenance:
    """Where one column's values came from.

    Attributes:
        status: ``read`` (copied from a source), ``computed`` (derived from sources by a
            stated method) or ``assumed`` (a default: replace it with local data).
        how: The source column, the method, or the default value and why.
    """

    status: Status
    how: str


@dataclass
class ImportedBasin:
    """Subunits and geometry read from GIS sources, before defaults are filled in.

    Attributes:
        source: One line naming the source (kind and file) for the report and the model.
        subunits: Columns of ``subunits.csv`` the source filled (at least ``subunit_id``,
            ``name``, ``downstream_id`` and ``area_ha``), one row per subunit.
        geometry: GeoDataFrame with ``subunit_id`` and the geometry of each subunit (polygons
            or lines), in the source's CRS, in the order of ``subunits``.
        land_cover: ``land_cover.csv`` rows, when the source or a raster gives land cover.
        land_classes: ``land_classes.csv`` rows the source names (coefficients may be missing
            and are filled from defaults).
        tables: Other finished tables (``barriers``, ``control_points``), by name.
        layers: Extra geometry layers for ``subunits.gpkg`` (e.g. ``rivers``), by name.
        provenance: ``(table, column) -> Provenance`` of every column filled so far.
        notes: Repairs, conventions applied and warnings, for the report.
    """

    source: str
    subunits: pd.DataFrame
    geometry: Any
    land_cover: pd.DataFrame | None = None
    land_classes: pd.DataFrame | None = None
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    layers: dict[str, Any] = field(default_factory=dict)
    provenance: dict[tuple[str, str], Provenance] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def mark(self, table: str, column: str, status: Status, how: str) -> None:
        """Record where ``table.column`` came from."""
        self.provenance[(table, column)] = Provenance(status, how)
