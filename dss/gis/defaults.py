"""Documented defaults and formulas for what GIS sources do not give.

Optional columns take their default from the table schema (:data:`dss.data.schema.TABLES`);
this module holds only what the schema leaves open (required columns without a default) and
the few formulas that turn GIS quantities into model inputs. Every value filled from here is
marked ``assumed`` or ``computed`` in ``IMPORT_REPORT.md``.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from dss.data.schema import TABLES
from dss.synth.catalogue import LAND_CLASS_ROWS

USLE_R = 3000.0
"""Rainfall erosivity assumed without a raster, MJ mm/(ha h yr): a humid mid-latitude value
(the Baoxing study uses 3,000-4,000). Replace with a map of R (``--erosivity``)."""

USLE_K = 0.03
"""Soil erodibility assumed without a raster, t ha h/(ha MJ mm): a loam (0.02-0.04 typical).
Replace with a soil map's K (``--erodibility``)."""

USLE_LS = 1.0
"""Slope length-steepness factor assumed without a DEM: a 9 % slope 22.13 m long (the USLE
unit plot). Replace by passing a DEM (``--dem``)."""

SLOPE_LENGTH_M = 50.0
"""Slope length (m) used with a DEM's slope in :func:`usle_ls`."""

TOWNSHIP = "basin"
"""Township assumed when the source names none: the whole study is one administrative unit."""

BUDGET_PER_SUBUNIT = 50_000.0
"""Budget written into an imported model per subunit (CNY over the horizon), assumed."""


def sdr_from_area(area_ha: np.ndarray) -> np.ndarray:
    """Sediment delivery ratio from drainage area (Vanoni 1975): ``0.4724 A^-0.125``, A in km²,
    capped at 1."""
    area_km2 = np.maximum(np.asarray(area_ha, dtype=float) / 100.0, 1e-6)
    return np.minimum(0.4724 * area_km2 ** -0.125, 1.0)


def usle_ls(slope_percent: np.ndarray, length_m: float = SLOPE_LENGTH_M) -> np.ndarray:
    """USLE LS from slope (Wischmeier & Smith 1978, Agriculture Handbook 537):
    ``LS = (λ / 22.13)^m (65.41 sin²θ + 4.56 sinθ + 0.065)``, with ``m`` = 0.2, 0.3, 0.4, 0.5
    for slopes below 1 %, 3.5 %, 5 % and above."""
    slope = np.maximum(np.asarray(slope_percent, dtype=float), 0.0)
    theta = np.arctan(slope / 100.0)
    m = np.select([slope < 1.0, slope < 3.5, slope < 5.0], [0.2, 0.3, 0.4], 0.5)
    return (length_m / 22.13) ** m * (65.41 * np.sin(theta) ** 2 + 4.56 * np.sin(theta)
                                      + 0.065)


KEYWORDS: tuple[tuple[str, str], ...] = (
    (r"orchard|tea|fruit|vineyard|plantation", "orchard"),
    (r"forest|wood|conifer|broadleaf|tree|skog", "forest"),
    (r"shrub|scrub|bush|heath", "shrub"),
    (r"grass|pasture|meadow|herb|savanna|tundra", "grassland"),
    (r"crop|agri|arable|farm|field|paddy|rice|cultivat", "cropland"),
    (r"landslide|scar|quarry|mine|bare|rock|sand", "landslide_scar"),
    (r"urban|built|settle|artificial|road|city|town|village|impervious", "built"),
    (r"water|lake|river|reservoir|wetland|marsh|bog|sea|ice|snow", "water"),
)
"""Keyword (regular expression on the class name) -> the typical class whose coefficients a
land class takes when the user gives none; first match wins."""

FALLBACK_CLASS = "grassland"
"""Typical class for a land class whose name matches no keyword."""

COEFFICIENTS: tuple[str, ...] = ("usle_c", "usle_p", "tn_export", "tp_export", "mass_yield",
                                 "carbon_stock", "is_forest", "agricultural")
"""Columns of land_classes.csv filled from the typical class."""


def typical_class(name: str) -> tuple[str, bool]:
    """The typical class (of :data:`dss.synth.LAND_CLASS_ROWS`) matching a class name, and
    whether a keyword matched (False: :data:`FALLBACK_CLASS`)."""
    text = name.lower()
    for pattern, klass in KEYWORDS:
        if re.search(pattern, text):
            return klass, True
    return FALLBACK_CLASS, False


def typical_coefficients(klass: str) -> dict[str, Any]:
    """Coefficients of one typical class (schema defaults where the row gives none)."""
    row = next(r for r in LAND_CLASS_ROWS if r["land_class"] == klass)
    table = TABLES["land_classes"]
    return {c: row.get(c, table.column(c).default) for c in COEFFICIENTS}


def slug(text: str) -> str:
    """An id from a name: lower case, runs of other characters as ``_``."""
    out = re.sub(r"[^0-9a-z]+", "_", text.lower()).strip("_")
    return out or "class"
