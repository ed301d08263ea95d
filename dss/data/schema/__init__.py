"""The one declaration of every input table: columns, types, units, defaults and documentation.

Validation (:mod:`dss.data.tables`) and documentation (``dss inputs``) are both generated from
:data:`TABLES`, so the two can never disagree. A study is a folder holding one CSV per table
(UTF-8, header row, comma separated); optional tables may be absent.
"""

from __future__ import annotations

from dss.data.schema.actions import (
    ACTION_LIVELIHOODS,
    ACTIONS,
    AGENCIES,
    AGENCY_LEVELS,
    MANDATE_BENEFITS,
    TOWNSHIPS,
)
from dss.data.schema.basin import (
    CONTROL_POINTS,
    LAND_CLASSES,
    LAND_COVER,
    POINT_SOURCES,
    SUBUNITS,
)
from dss.data.schema.columns import (
    ACTION_TARGETS,
    POLLUTANT_UNITS,
    POLLUTANTS,
    ZONES,
    Column,
    Table,
)
from dss.data.schema.river import (
    BARRIER_OPTIONS,
    BARRIERS,
    FISH_HABITAT,
    SPECIES,
    SPECIES_HABITAT,
)
from dss.data.schema.uncertainty import UNCERTAINTY, UNCERTAINTY_SCENARIOS

__all__ = [
    "ACTIONS", "ACTION_LIVELIHOODS", "ACTION_TARGETS", "AGENCIES", "AGENCY_LEVELS",
    "BARRIERS", "BARRIER_OPTIONS", "CONTROL_POINTS", "FISH_HABITAT", "LAND_CLASSES",
    "LAND_COVER", "MANDATE_BENEFITS", "POINT_SOURCES", "POLLUTANTS", "POLLUTANT_UNITS",
    "SPECIES", "SPECIES_HABITAT", "SUBUNITS", "TABLES", "TOWNSHIPS", "UNCERTAINTY",
    "UNCERTAINTY_SCENARIOS", "ZONES", "Column", "Table",
]

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        SUBUNITS, LAND_CLASSES, LAND_COVER, POINT_SOURCES, SPECIES, SPECIES_HABITAT,
        CONTROL_POINTS, BARRIERS, ACTIONS, TOWNSHIPS, AGENCIES, BARRIER_OPTIONS, FISH_HABITAT,
        UNCERTAINTY, UNCERTAINTY_SCENARIOS, ACTION_LIVELIHOODS,
    )
}
"""Every table of a study, by name, in reading order."""
