"""Planning data from tidy tables: reading and validating units, costs, feature amounts,
zone contributions and boundaries, every problem located by file, row and column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from dss.errors import InputError, Issue, did_you_mean
from dss.planning.amounts import cost_column, zone_amount_table
from dss.planning.boundary import Boundary

SOURCE = "problem"
"""File label of issues raised by the Python API (the argument is the column)."""

SELECTED = "selected"
"""The zone of a problem without zones: a unit is selected or not."""


def fail(message: str, column: str | None = None, file: str = SOURCE,
         row: int | None = None) -> InputError:
    """An :class:`InputError` with one issue of the planning problem."""
    return InputError([Issue(file, message, row, column)], "invalid planning problem")


def read_tables(units: pd.DataFrame, features: pd.DataFrame | Sequence[str],
                amounts: pd.DataFrame, *, cost: str | Mapping[str, str | float] |
                np.ndarray = "cost", zones: Sequence[str] | None = None,
                contributions: Mapping[str, Mapping[str, float]] | np.ndarray | None = None,
                boundary: pd.DataFrame | None = None,
                files: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Read and validate planning data from tidy tables: the fields of
    :class:`~dss.planning.data.PlanningData` (see :meth:`PlanningData.from_tables`).

    Args:
        units: Planning units: an ``id`` column plus numeric attributes.
        features: Features: a frame with ``id`` (and optional ``name``), or a list of ids.
        amounts: Long table ``feature, unit, amount`` (amounts may be negative), or
            ``feature, unit, zone, amount``: the full unit x feature x zone table.
        cost: The cost column (single zone), a mapping zone -> column name or constant,
            or an array (units, zones); a missing value (NaN) is an NA cost: the unit
            cannot be allocated to that zone.
        zones: Zone names (default: one zone, ``selected``).
        contributions: Mapping feature -> zone -> share held (default 1), or an array
            (features, zones).
        boundary: Marxan-style ``id1, id2, boundary`` table (``id1 == id2``: external).
        files: File label of each table for located issues (keys ``units``,
            ``features``, ``amounts``, ``boundary``).

    Raises:
        InputError: listing every problem found, located by file, row and column.
    """
    files = {"units": "units", "features": "features", "amounts": "amounts",
             "boundary": "boundary", **(files or {})}
    issues: list[Issue] = []
    zones_t = tuple(zones) if zones else (SELECTED,)
    if len(set(zones_t)) != len(zones_t):
        issues.append(Issue(SOURCE, "zone names must be unique", None, "zones"))
    units = units.copy()
    if "id" not in units.columns:
        raise InputError([Issue(files["units"], "missing column id (the planning-unit "
                                                "id)")], "invalid planning data")
    units["id"] = units["id"].map(_id_text)
    _check_unique(units["id"], files["units"], "id", issues)
    n = len(units)
    cost_m = _cost_matrix(units, cost, zones_t, files["units"], issues)
    if isinstance(features, pd.DataFrame):
        feats = features.copy()
    else:
        feats = pd.DataFrame({"id": list(features)})
    if "id" not in feats.columns:
        raise InputError([Issue(files["features"], "missing column id")],
                         "invalid planning data")
    feats["id"] = feats["id"].map(_id_text)
    if "name" not in feats.columns:
        feats["name"] = feats["id"]
    feats["name"] = feats["name"].fillna(feats["id"]).astype(str)
    _check_unique(feats["id"], files["features"], "id", issues)
    f_index = {f: k for k, f in enumerate(feats["id"])}
    u_index = {u: k for k, u in enumerate(units["id"])}
    amount_m = np.zeros((len(feats), n))
    zone_m = None
    missing = {"feature", "unit", "amount"} - set(amounts.columns)
    if missing:
        issues.append(Issue(files["amounts"], f"missing column(s) {', '.join(sorted(missing))}"
                                              " (needs feature, unit, amount)"))
    elif "zone" in amounts.columns:  # a full unit x feature x zone table
        zone_m = zone_amount_table(amounts, f_index, u_index, zones_t, files["amounts"],
                                   issues)
        amount_m = zone_m.sum(axis=2)
    else:
        _fill_amounts(amounts, f_index, u_index, amount_m, files["amounts"], issues)
    if zone_m is not None and contributions is not None:
        issues.append(Issue(SOURCE, "give zone contributions or a zone column in the "
                                    "amounts, not both", None, "contributions"))
    contrib = _contributions(contributions, feats["id"].tolist(), zones_t, issues)
    bnd = None
    if boundary is not None:
        bnd = _boundary(boundary, u_index, n, files["boundary"], issues)
    if issues:
        raise InputError(issues, "invalid planning data")
    unavailable = np.isnan(cost_m)
    return {"units": units.reset_index(drop=True), "zones": zones_t,
            "cost": np.nan_to_num(cost_m, nan=0.0), "features": feats.reset_index(drop=True),
            "amounts": amount_m, "contributions": contrib, "boundary": bnd,
            "zone_amounts": zone_m, "unavailable": unavailable if unavailable.any() else None}


def _id_text(value: Any) -> str:
    """Unit and feature ids as text: whole numbers without a decimal point."""
    if isinstance(value, (float, np.floating)) and np.isfinite(value) and value == int(value):
        return str(int(value))
    return str(value)


def _check_unique(ids: pd.Series, file: str, column: str, issues: list[Issue]) -> None:
    dup = ids.duplicated(keep="first").to_numpy()
    for pos in np.flatnonzero(dup)[:10]:
        issues.append(Issue(file, f"duplicate id {ids.iloc[pos]!r} (ids must be unique)",
                            int(pos) + 2, column))


def _numeric(series: pd.Series, file: str, column: str, issues: list[Issue],
             minimum: float | None = 0.0) -> np.ndarray:
    values = pd.to_numeric(series, errors="coerce").to_numpy(float)
    bad = ~np.isfinite(values)
    for pos in np.flatnonzero(bad)[:10]:
        issues.append(Issue(file, f"not a number: {series.iloc[pos]!r} (a finite number)",
                            int(pos) + 2, column))
    if minimum is not None:
        low = np.isfinite(values) & (values < minimum)
        for pos in np.flatnonzero(low)[:10]:
            issues.append(Issue(file, f"{values[pos]:g} is below {minimum:g} (a number >= "
                                      f"{minimum:g})", int(pos) + 2, column))
    return np.where(np.isfinite(values), values, 0.0)


def _cost_matrix(units: pd.DataFrame, cost: Any, zones: tuple[str, ...], file: str,
                 issues: list[Issue]) -> np.ndarray:
    n = len(units)
    if isinstance(cost, np.ndarray):
        arr = np.asarray(cost, dtype=float).reshape(n, -1)
        if arr.shape != (n, len(zones)):
            issues.append(Issue(SOURCE, f"cost array must have shape ({n}, {len(zones)})",
                                None, "cost"))
            return np.zeros((n, len(zones)))
        if np.isinf(arr).any():
            issues.append(Issue(SOURCE, "costs must be finite numbers, or NaN where a unit "
                                        "cannot be allocated to a zone", None, "cost"))
        return arr
    spec = {zones[0]: cost} if isinstance(cost, str) else dict(cost)
    out = np.zeros((n, len(zones)))
    for zone, column in spec.items():
        if zone not in zones:
            issues.append(Issue(SOURCE, f"cost given for unknown zone {zone!r} (zones: "
                                        f"{', '.join(zones)})", None, "cost"))
            continue
        z = zones.index(zone)
        if isinstance(column, (int, float)):
            out[:, z] = float(column)
        elif column not in units.columns:
            issues.append(Issue(file, f"missing cost column {column!r}", None, column))
        else:
            out[:, z] = cost_column(units[column], file, column, issues)
    return out


def _fill_amounts(amounts: pd.DataFrame, f_index: dict[str, int], u_index: dict[str, int],
                  out: np.ndarray, file: str, issues: list[Issue]) -> None:
    feats = amounts["feature"].map(_id_text)
    units = amounts["unit"].map(_id_text)
    values = _numeric(amounts["amount"], file, "amount", issues, minimum=None)
    fpos = feats.map(f_index)
    upos = units.map(u_index)
    for column, pos, kind, known in (("feature", fpos, "feature", f_index),
                                     ("unit", upos, "planning unit", u_index)):
        bad = pos.isna().to_numpy()
        for row in np.flatnonzero(bad)[:10]:
            word = (feats if column == "feature" else units).iloc[row]
            hint = did_you_mean(word, known, quote=True)
            issues.append(Issue(file, f"unknown {kind} {word!r}"
                                      f"{' (' + hint + ')' if hint else ''}", int(row) + 2,
                                column))
    ok = fpos.notna().to_numpy() & upos.notna().to_numpy()
    pairs = pd.DataFrame({"f": fpos[ok].astype(int), "u": upos[ok].astype(int)})
    dup = pairs.duplicated(keep="first").to_numpy()
    rows = np.flatnonzero(ok)
    for k in np.flatnonzero(dup)[:10]:
        issues.append(Issue(file, f"feature {feats.iloc[rows[k]]!r} is listed twice for unit "
                                  f"{units.iloc[rows[k]]!r} (one row per pair)",
                            int(rows[k]) + 2, "unit"))
    np.add.at(out, (pairs["f"].to_numpy(), pairs["u"].to_numpy()), values[ok])


def _contributions(spec: Any, features: list[str], zones: tuple[str, ...],
                   issues: list[Issue]) -> np.ndarray:
    out = np.ones((len(features), len(zones)))
    if spec is None:
        return out
    if isinstance(spec, np.ndarray):
        arr = np.asarray(spec, dtype=float)
        if arr.shape != out.shape:
            issues.append(Issue(SOURCE, f"contributions must have shape {out.shape}", None,
                                "contributions"))
            return out
        return arr
    for feature, by_zone in spec.items():
        if feature not in features:
            issues.append(Issue(SOURCE, f"contributions for unknown feature {feature!r}",
                                None, "contributions"))
            continue
        for zone, share in by_zone.items():
            if zone not in zones:
                issues.append(Issue(SOURCE, f"contribution for unknown zone {zone!r}", None,
                                    f"contributions.{feature}"))
                continue
            out[features.index(feature), zones.index(zone)] = float(share)
    return out


def _boundary(table: pd.DataFrame, u_index: dict[str, int], n: int, file: str,
              issues: list[Issue]) -> Boundary | None:
    missing = {"id1", "id2", "boundary"} - set(table.columns)
    if missing:
        issues.append(Issue(file, f"missing column(s) {', '.join(sorted(missing))} (needs "
                                  "id1, id2, boundary)"))
        return None
    a = table["id1"].map(_id_text).map(u_index)
    b = table["id2"].map(_id_text).map(u_index)
    for column, pos in (("id1", a), ("id2", b)):
        for row in np.flatnonzero(pos.isna().to_numpy())[:10]:
            issues.append(Issue(file, f"unknown planning unit {table[column].iloc[row]!r}",
                                int(row) + 2, column))
    length = _numeric(table["boundary"], file, "boundary", issues, minimum=None)
    ok = a.notna().to_numpy() & b.notna().to_numpy()
    return Boundary.from_pairs(n, a[ok].astype(int).to_numpy(), b[ok].astype(int).to_numpy(),
                               length[ok])
