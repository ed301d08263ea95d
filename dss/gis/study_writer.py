"""Completing an imported basin into a study folder, checked by dss's own validation.

:func:`complete_tables` fills every table of :data:`dss.data.schema.TABLES` the source did not
fill: optional columns from the schema's defaults, the rest from :mod:`dss.gis.defaults`, each
marked in the basin's provenance. :func:`write_study` writes the tables, ``model.yaml``,
``subunits.gpkg`` and ``IMPORT_REPORT.md`` into a staging folder, loads the staged study with
:func:`dss.data.study.load_study` and only then moves it into place: an import that would not
validate writes nothing.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from dss.data.schema import TABLES, Table
from dss.data.study import load_study
from dss.errors import InputError, Issue
from dss.gis import defaults
from dss.gis.basin import ImportedBasin
from dss.gis.geopackage import layer_bytes
from dss.gis.report import import_report
from dss.results.writer import StagedRun, make_manifest
from dss.synth.catalogue import ACTION_TEMPLATES

LOGGER = logging.getLogger(__name__)

GEOMETRY_FILE = "subunits.gpkg"
REPORT_FILE = "IMPORT_REPORT.md"
UNCLASSIFIED = "unclassified"
"""Land class of a study imported without land cover."""


def _fill(basin: ImportedBasin, table: Table, frame: pd.DataFrame,
          fallback: dict[str, tuple[Any, str, str]] | None = None) -> pd.DataFrame:
    """``frame`` with every declared column: present ones kept, the others from ``fallback``
    (value, status, how) or the schema default; in declared order and types."""
    fallback = fallback or {}
    out = {}
    n = len(frame)
    for col in table.columns:
        if col.name in frame.columns:
            out[col.name] = frame[col.name].to_numpy()
            if (table.name, col.name) not in basin.provenance:
                basin.mark(table.name, col.name, "read", "from the source")
            continue
        if col.name in fallback:
            value, status, how = fallback[col.name]
        elif not col.required or col.default is not None or col.nullable:
            value, status = col.default, "assumed"
            how = f"schema default ({'empty' if value in (None, '') else value})"
        else:  # a bug in an importer: a required column with no value at all
            raise AssertionError(f"{table.name}.{col.name} has no value")
        out[col.name] = np.broadcast_to(np.asarray(value, dtype=object), (n,)).copy() \
            if not isinstance(value, np.ndarray) else value
        basin.mark(table.name, col.name, status, how)
    df = pd.DataFrame(out)
    for col in table.columns:
        if col.dtype == "float":
            df[col.name] = pd.to_numeric(df[col.name], errors="coerce").astype(float)
        elif col.dtype == "int":
            df[col.name] = pd.to_numeric(df[col.name]).astype(np.int64)
        elif col.dtype == "bool":
            df[col.name] = df[col.name].astype(bool)
    return df


def _subunits(basin: ImportedBasin) -> pd.DataFrame:
    area = basin.subunits["area_ha"].to_numpy(dtype=float)
    fallback = {
        "township": (defaults.TOWNSHIP, "assumed", f"one township {defaults.TOWNSHIP!r} for "
                     "the whole study"),
        "usle_r": (defaults.USLE_R, "assumed", f"{defaults.USLE_R:g} MJ mm/(ha h yr), a humid "
                   "mid-latitude value (pass --erosivity RASTER)"),
        "usle_k": (defaults.USLE_K, "assumed", f"{defaults.USLE_K:g}, a loam (pass "
                   "--erodibility RASTER)"),
        "usle_ls": (defaults.USLE_LS, "assumed", f"{defaults.USLE_LS:g}, the USLE unit plot "
                    "(pass --dem RASTER)"),
        "sdr": (defaults.sdr_from_area(area), "computed", "from the subunit's area by Vanoni "
                "(1975): 0.4724 A^-0.125, A in km²"),
    }
    return _fill(basin, TABLES["subunits"], basin.subunits, fallback)


def _land(basin: ImportedBasin) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    """Land classes (coefficients filled from the typical class of each name) and cover."""
    if basin.land_cover is None:
        basin.land_cover = pd.DataFrame({"subunit_id": basin.subunits["subunit_id"],
                                         "land_class": UNCLASSIFIED,
                                         "area_ha": basin.subunits["area_ha"]})
        basin.land_classes = pd.DataFrame({"land_class": [UNCLASSIFIED],
                                           "name": ["Unclassified land"]})
        basin.mark("land_cover", "area_ha", "assumed", "no land cover given: the whole area "
                   f"in one class {UNCLASSIFIED!r} (pass --land-cover RASTER --classes CSV)")
        basin.mark("land_classes", "land_class", "assumed", f"one class {UNCLASSIFIED!r}")
    classes = basin.land_classes.copy()
    typical = {}
    fallback: dict[str, tuple[Any, str, str]] = {}
    matches = [defaults.typical_class(str(n)) for n in classes["name"]]
    for name, (klass, _) in zip(classes["land_class"], matches, strict=True):
        typical[str(name)] = klass
    for col in defaults.COEFFICIENTS:
        if col in classes.columns:
            continue
        values = np.array([defaults.typical_coefficients(k)[col] for k, _ in matches],
                          dtype=object)
        fallback[col] = (values, "assumed", "typical value of the class its name matches "
                         "(dss.gis.defaults.KEYWORDS -> " + ", ".join(
                             f"{c}: {k}{'' if ok else ' (no match)'}" for c, (k, ok) in
                             zip(classes["land_class"], matches, strict=True)) + ")")
    land_classes = _fill(basin, TABLES["land_classes"], classes, fallback)
    land_cover = _fill(basin, TABLES["land_cover"], basin.land_cover)
    return land_classes, land_cover, typical


def _actions(basin: ImportedBasin, typical: dict[str, str]) -> pd.DataFrame:
    """dss's action templates (:data:`dss.synth.ACTION_TEMPLATES`) that fit the study's land
    classes, each applied to the first class of its typical kind."""

    by_kind: dict[str, str] = {}
    for klass, kind in typical.items():
        by_kind.setdefault(kind, klass)
    rows = []
    for template in ACTION_TEMPLATES:
        row = dict(template)
        if row["applies_to"] not in TABLES_TARGETS:
            if row["applies_to"] not in by_kind:
                continue
            row["applies_to"] = by_kind[row["applies_to"]]
        if row.get("leads_to"):
            if row["leads_to"] not in by_kind:
                continue
            row["leads_to"] = by_kind[row["leads_to"]]
        if row.get("habitat_species"):
            row["habitat_species"], row["habitat_gain"] = None, 0.0
        rows.append(row)
    frame = pd.DataFrame(rows)
    out = _fill(basin, TABLES["actions"], frame)
    for col in TABLES["actions"].names:
        basin.mark("actions", col, "assumed", "dss's illustrative action catalogue "
                   "(dss.synth.ACTION_TEMPLATES), costs in CNY: replace with local costs")
    return out


TABLES_TARGETS = ("point_sources", "barriers", "hazard_sites", "stream")


def _control_points(basin: ImportedBasin, subunits: pd.DataFrame) -> pd.DataFrame:
    """Given control points plus one ``outlet`` point at every outlet not already marked."""
    given = basin.tables.get("control_points")
    outlets = subunits.loc[subunits["downstream_id"].isna(), "subunit_id"].to_numpy()
    if given is not None:
        marked = set(given.loc[given["kind"] == "outlet", "subunit_id"])
        outlets = np.array([o for o in outlets if o not in marked], dtype=object)
    names = subunits.set_index("subunit_id")["name"]
    auto = pd.DataFrame({"point_id": [f"outlet_{o}" for o in outlets],
                         "name": [f"Outlet of {names[o]}" for o in outlets],
                         "subunit_id": outlets, "kind": "outlet"})
    frame = pd.concat([given, auto], ignore_index=True) if given is not None else auto
    if ("control_points", "point_id") not in basin.provenance:
        basin.mark("control_points", "point_id", "computed", "one outlet point per outlet "
                   "subunit")
        basin.mark("control_points", "kind", "computed", "outlet")
        basin.mark("control_points", "name", "computed", "'Outlet of ' + subunit name")
        basin.mark("control_points", "subunit_id", "computed", "each outlet subunit")
    return _fill(basin, TABLES["control_points"], frame)


def complete_tables(basin: ImportedBasin) -> dict[str, pd.DataFrame]:
    """Every table of a valid study, from the basin and documented defaults."""
    subunits = _subunits(basin)
    land_classes, land_cover, typical = _land(basin)
    tables = {"subunits": subunits, "land_classes": land_classes, "land_cover": land_cover,
              "actions": _actions(basin, typical),
              "control_points": _control_points(basin, subunits)}
    if "barriers" in basin.tables:
        tables["barriers"] = _fill(basin, TABLES["barriers"], basin.tables["barriers"])
    return tables


def model_config(name: str, basin: ImportedBasin, n_subunits: int,
                 budget: float | None = None) -> dict[str, Any]:
    """The ``model.yaml`` of an imported study (inputs in the same folder)."""
    total = budget if budget is not None else defaults.BUDGET_PER_SUBUNIT * n_subunits
    return {
        "name": name,
        "title": f"{name} (imported from {basin.source})",
        "description": f"Study built by dss import from {basin.source}. See IMPORT_REPORT.md "
                       "for which columns were read, computed or assumed.",
        "inputs": ".",
        "solver": {"time_limit": 600, "mip_gap": 1e-4, "threads": 1},
        "components": {
            "objective": {"type": "max_benefit"},
            "budget": {"type": "budget", "total": float(total)},
            "land": {"type": "land"},
            "water": {"type": "delivered_reduction",
                      "values": {"sediment": 20.0, "tn": 30.0, "tp": 300.0}},
            "carbon": {"type": "carbon", "value": 150.0},
        },
    }


def with_words(frame: pd.DataFrame, table: Table) -> pd.DataFrame:
    """``frame`` with its boolean columns as ``true``/``false``, as study tables write them."""
    out = frame.copy(deep=False)
    for col in table.columns:
        if col.dtype == "bool":
            out[col.name] = np.where(frame[col.name].to_numpy(), "true", "false").astype(object)
    return out


def _check_target(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise InputError([Issue(str(out), "exists and is not a folder (choose a new folder "
                                          "for the study)")], "cannot write the study")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise InputError([Issue(str(out), "folder exists and is not empty (choose a new "
                                          "folder, or pass --overwrite to replace it)")],
                         "cannot write the study")


def write_study(basin: ImportedBasin, out: Path | str, name: str | None = None,
                budget: float | None = None, overwrite: bool = False) -> Path:
    """Complete, validate and atomically write an imported study.

    Returns:
        The path of the written ``model.yaml``.

    Raises:
        InputError: if ``out`` is not usable, or the completed study does not validate
            (nothing is written then).
    """
    out = Path(out)
    _check_target(out, overwrite)
    tables = complete_tables(basin)
    name = name or defaults.slug(out.resolve().name)
    config = model_config(name, basin, len(tables["subunits"]), budget)
    with StagedRun(out) as run:
        for table_name, frame in tables.items():
            run.table(table_name, with_words(frame, TABLES[table_name]))  # dss's CSV writer
        run.file("model.yaml", yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
        assert run.staging is not None
        try:  # dss's own validation, before anything is moved into place
            load_study(run.staging, name)
        except InputError as err:  # e.g. a point layer's status column holds other words
            raise InputError(err.issues, "the imported study does not validate (fix the "
                                         "layer or table the columns come from)") from None
        layers = {}
        if basin.geometry is not None:
            geometry = basin.geometry.merge(tables["subunits"][
                ["subunit_id", "name", "name_zh", "downstream_id", "area_ha"]], on="subunit_id")
            layers["subunits"] = geometry
            layers.update(basin.layers)
            with tempfile.TemporaryDirectory() as tmp:
                run.file(GEOMETRY_FILE, layer_bytes(layers, Path(tmp) / GEOMETRY_FILE))
        run.file(REPORT_FILE, import_report(basin, tables, out.name))
        run.commit(make_manifest("import", {}, config, {"source": basin.source}))
    LOGGER.info("imported %d subunits into %s", len(tables["subunits"]), out)
    return out / "model.yaml"
