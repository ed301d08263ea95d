"""``plan.gpkg``: a run's results on the study's geometry, for QGIS and ArcGIS.

When a study has ``subunits.gpkg`` (written by ``dss import``), every run written through
:class:`dss.results.writer.StagedRun` also gets ``plan.gpkg``, in the study's CRS, with:

- ``subunits``: each subunit's polygon (or lines) with its zone and township, spend (CNY),
  and every indicator of ``subunits.csv`` as ``<metric>_before``, ``_after`` and ``_change``
  (a baseline run: each indicator as ``<metric>``);
- ``allocation``: one feature per funded (subunit, action), every column of
  ``allocation.csv``;
- ``control_points``: loads before and after per pollutant (``<pollutant>_before`` ...);
- ``barriers`` and ``rivers``: copied from the study when it has them.

A comparison (``dss compare``) gets ``subunits`` with the spend of every scenario
(``spend_<scenario>``) and its difference from the baseline scenario (``delta_<scenario>``).
Points without their own location (control points of a study imported without a point layer)
sit at a representative point of their subunit.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from dss.gis import GisUnavailable, require_gis
from dss.gis.geopackage import layer_bytes, read_layers

LOGGER = logging.getLogger(__name__)

STUDY_GEOMETRY = "subunits.gpkg"
PLAN_FILE = "plan.gpkg"


def geometry_of(target: Path, manifest: dict[str, Any]) -> Path | None:
    """The ``subunits.gpkg`` of the study a run folder (or a comparison) belongs to."""
    inputs = manifest.get("inputs_dir")
    if not inputs and isinstance(manifest.get("scenarios"), list) and manifest["scenarios"]:
        first = manifest["scenarios"][0]
        folder = Path(os.path.normpath(Path(target).resolve() / str(first.get("folder", ""))))\
            if isinstance(first, dict) else None
        path = folder / "manifest.yaml" if folder is not None else None
        if path is not None and path.is_file():
            run = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            inputs = run.get("inputs_dir")
            target = folder
    if not isinstance(inputs, str) or not inputs:
        return None
    # Lexically: the run folder does not exist yet while it is being staged.
    path = Path(os.path.normpath(Path(target).resolve() / inputs))
    candidate = path / STUDY_GEOMETRY
    return candidate if candidate.is_file() else None


def _safe(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z_]+", "_", str(text)).strip("_") or "x"


def _wide(frame: pd.DataFrame, key: str, by: str, values: tuple[str, ...]) -> pd.DataFrame:
    """Long ``frame`` made wide: one row per ``key``, columns ``<by value>_<value>``."""
    wide = frame.pivot_table(index=key, columns=by, values=list(values), aggfunc="first")
    wide.columns = [_safe(b) if v == "value" else f"{_safe(b)}_{v}" for v, b in wide.columns]
    return wide[sorted(wide.columns)].reset_index()


def _points(study: dict[str, Any], name: str, key: str, table: pd.DataFrame,
            subunits: Any) -> Any:
    """A point layer: the study's own points when it has them, else subunit points."""
    import geopandas as gpd

    own = study.get(name)
    if own is not None and key in own.columns:
        return own[[key, "geometry"]].merge(table, on=key, how="inner")
    anchor = subunits[["subunit_id", "geometry"]].copy()
    anchor["geometry"] = anchor.geometry.representative_point()
    merged = table.merge(anchor, on="subunit_id", how="inner")
    return gpd.GeoDataFrame(merged, geometry="geometry", crs=subunits.crs)


def plan_layers(study: dict[str, Any], tables: dict[str, pd.DataFrame],
                inputs: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """The layers of ``plan.gpkg`` from the study's layers and a run's result tables.

    Args:
        study: Layers of ``subunits.gpkg``, by name.
        tables: Result tables of the run (or comparison), by file stem.
        inputs: The study's ``barriers`` table when it has one (for the barriers layer).
    """
    base = study["subunits"][["subunit_id", "name", "geometry"]].copy()
    base["subunit_id"] = base["subunit_id"].astype(str)
    layers: dict[str, Any] = {}
    sub = base
    if "subunits" in tables and "metric" in tables["subunits"].columns:
        indicators = tables["subunits"].astype({"subunit_id": str})
        info = indicators[["subunit_id", "zone", "township"]].drop_duplicates("subunit_id")
        parts = tuple(c for c in ("before", "after", "change") if c in indicators.columns)
        wide = _wide(indicators, "subunit_id", "metric", parts or ("value",))  # baseline: value
        sub = sub.merge(info, on="subunit_id", how="left").merge(wide, on="subunit_id",
                                                                 how="left")
    if "allocation" in tables:
        alloc = tables["allocation"].astype({"subunit_id": str})
        spend = alloc.groupby("subunit_id")["cost_cny"].sum().rename("spend_cny")
        if "spend_after" not in sub.columns:
            sub = sub.merge(spend, on="subunit_id", how="left")
            sub["spend_cny"] = sub["spend_cny"].fillna(0.0)
        layers["allocation"] = base[["subunit_id", "geometry"]].merge(alloc, on="subunit_id")
    if "allocations" in tables and "scenario" in tables["allocations"].columns:
        cost = tables["allocations"]
        cost = cost[cost["metric"] == "cost"].astype({"subunit_id": str})
        scenarios = list(dict.fromkeys(tables["summary"]["scenario"])) \
            if "summary" in tables else list(dict.fromkeys(cost["scenario"]))
        spend = cost.pivot_table(index="subunit_id", columns="scenario", values="value",
                                 aggfunc="sum").reindex(columns=scenarios).fillna(0.0)
        for scenario in scenarios:
            sub[f"spend_{_safe(scenario)}"] = sub["subunit_id"].map(spend[scenario]).fillna(0.0)
        for scenario in scenarios[1:]:
            sub[f"delta_{_safe(scenario)}"] = (sub[f"spend_{_safe(scenario)}"]
                                               - sub[f"spend_{_safe(scenarios[0])}"])
    layers = {"subunits": sub, **layers}
    if "control_points" in tables and {"pollutant", "before", "after", "reduction"} <= set(
            tables["control_points"].columns):
        cps = tables["control_points"]
        wide = _wide(cps, "point_id", "pollutant", ("before", "after", "reduction"))
        info = cps[["point_id", "name", "kind"]].drop_duplicates("point_id")
        where = inputs.get("control_points")
        table = info.merge(wide, on="point_id")
        if where is not None:
            table = table.merge(where[["point_id", "subunit_id"]].astype(str), on="point_id")
            layers["control_points"] = _points(study, "control_points", "point_id", table, base)
    barriers = inputs.get("barriers")
    if barriers is not None and len(barriers):
        layers["barriers"] = _points(study, "barriers", "barrier_id",
                                     barriers.astype({"subunit_id": str}), base)
    if "rivers" in study:
        layers["rivers"] = study["rivers"]
    return layers


def plan_geopackage(geometry: Path, tables: dict[str, pd.DataFrame], scratch: Path) -> bytes:
    """The bytes of ``plan.gpkg`` for a run of the study whose geometry is ``geometry``."""
    study = read_layers(geometry)
    inputs = {}
    for name in ("control_points", "barriers"):
        path = geometry.parent / f"{name}.csv"
        if path.is_file():
            inputs[name] = pd.read_csv(path, dtype=IDS, keep_default_na=False,
                                       na_values=[""])
    return layer_bytes(plan_layers(study, tables, inputs), scratch)


MAPPED_TABLES = {"subunits", "allocation", "allocations"}
"""Result tables with values per subunit; a run without any gets no plan.gpkg."""

IDS = {"subunit_id": str, "point_id": str, "barrier_id": str, "action_id": str}


def staged_plan(target: Path, manifest: dict[str, Any], files: list[Path],
                scratch: Path) -> bytes | None:
    """``plan.gpkg`` for a run being written to ``target`` from its staged CSV ``files`` (so
    the layers hold exactly the values of the tables), or None when its study has no geometry
    or the ``gis`` extra is missing (logged)."""
    geometry = geometry_of(target, manifest)
    if geometry is None or not {f.stem for f in files} & MAPPED_TABLES:
        return None
    try:
        require_gis("plan.gpkg")
    except GisUnavailable as err:
        LOGGER.warning("%s; plan.gpkg not written", err)
        return None
    try:
        tables = {f.stem: pd.read_csv(f, dtype=IDS, keep_default_na=False, na_values=[""])
                  for f in files}
        return plan_geopackage(geometry, tables, scratch)
    except Exception as err:  # noqa: BLE001 - an unreadable study layer must not lose a run
        LOGGER.warning("plan.gpkg not written: cannot combine %s with the results (%s: %s)",
                       geometry, type(err).__name__, err)
        return None
