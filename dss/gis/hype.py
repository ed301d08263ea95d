"""Import of a HYPE model set-up: ``GeoData.txt``, optionally ``GeoClass.txt`` and polygons.

HYPE (SMHI, https://hypeweb.smhi.se/model-water/) describes sub-basins in ``GeoData.txt``:
``SUBID``, ``MAINDOWN`` (the SUBID downstream; 0 or an id outside the file at an outlet),
``AREA`` (m²), ``RIVLEN`` (m), ``SLOPE_MEAN`` (%) and ``SLC_n``, the fraction of the area in
soil-land class ``n``. ``GeoClass.txt`` gives each class's land use (and soil); land uses are
named in a comment line such as ``!Landuses: 1=Water; 2=Coniferous forest``.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from dss.errors import InputError, Issue, did_you_mean
from dss.gis.basin import ImportedBasin
from dss.gis.defaults import slug, usle_ls
from dss.gis.drainage import link_downstream
from dss.gis.layers import areas_ha, feature_ids, id_strings, read_layer

SLC_TOLERANCE = 0.01
"""Allowed gap between 1 and the sum of a sub-basin's SLC fractions."""


def _read_text_table(path: Path, what: str, header: bool = True) -> pd.DataFrame:
    """A tab- or space-separated HYPE text file (``!`` comment lines skipped); GeoClass has
    no header row (``header=False``)."""
    if not path.is_file():
        raise InputError([Issue(str(path), f"{what} not found")], f"cannot read {path.name}")
    try:
        text = path.read_text(encoding="utf-8-sig", errors="strict")
    except (OSError, UnicodeDecodeError) as err:
        raise InputError([Issue(str(path), f"cannot read it as text ({err})")],
                         f"cannot read {path.name}") from None
    numbered = [(n, line) for n, line in enumerate(text.splitlines(), start=1)
                if line.strip() and not line.lstrip().startswith("!")]
    lines = [line for _, line in numbered]
    if len(lines) < (2 if header else 1):
        raise InputError([Issue(str(path), "has no data rows")], f"cannot read {path.name}")
    sep = "\t" if "\t" in lines[0] else r"\s+"
    try:
        frame = pd.read_csv(io.StringIO("\n".join(lines)), sep=sep, engine="python",
                            header=0 if header else None)
    except (ValueError, pd.errors.ParserError) as err:
        raise InputError([Issue(str(path), f"cannot parse it ({err})")],
                         f"cannot read {path.name}") from None
    numbers = [n for n, _ in numbered[1 if header else 0:]]
    frame.attrs["lines"] = np.array(numbers[:len(frame)], dtype=np.int64)  # for messages
    return frame


def _line(frame: pd.DataFrame, pos: int) -> int:
    """The file line number of data row ``pos`` (comment lines counted)."""
    return int(frame.attrs["lines"][pos])


def _number(frame: pd.DataFrame, column: str, file: str, issues: list[Issue],
            minimum: float = 0.0) -> np.ndarray:
    """A numeric column; cells that are not numbers >= ``minimum`` are issues located by
    file line and column."""
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    for pos in np.flatnonzero(~np.isfinite(values) | (values < minimum))[:20]:
        issues.append(Issue(file, f"{frame[column].iloc[pos]!r} is not a number >= "
                                  f"{minimum:g}", _line(frame, int(pos)), column))
    return values


def read_geoclass(path: Path) -> tuple[dict[int, str], dict[str, str]]:
    """SLC class -> land-use id, and land-use id -> display name, from ``GeoClass.txt``."""
    text = path.read_text(encoding="utf-8-sig", errors="replace") if path.is_file() else ""
    names: dict[str, str] = {}
    match = re.search(r"!\s*Land\s*uses?\s*:\s*(.*)", text, re.IGNORECASE)
    if match:
        for code, name in re.findall(r"(\d+)\s*=\s*([^;\t]+)", match.group(1)):
            names[code] = name.strip()
    table = _read_text_table(path, "GeoClass file", header=False)
    issues: list[Issue] = []
    table.columns = [str(c) for c in table.columns]
    slc = _number(table, table.columns[0], path.name, issues, 1)
    use = _number(table, table.columns[1], path.name, issues, 0)
    if issues:
        raise InputError(issues, f"invalid {path.name}")
    classes: dict[int, str] = {}
    labels: dict[str, str] = {}
    for s, u in zip(slc.astype(int), use.astype(int), strict=True):
        name = names.get(str(u), f"Land use {u}")
        classes[int(s)] = slug(name)
        labels[slug(name)] = name
    return classes, labels


def import_hype(geodata: Path | str, geoclass: Path | str | None = None,
                polygons: Path | str | None = None, polygon_id: str = "SUBID",
                polygon_layer: str | None = None) -> ImportedBasin:
    """Subunits, land cover and (with ``polygons``) geometry from a HYPE set-up.

    Raises:
        InputError: every problem in GeoData, GeoClass and the polygon layer.
    """
    path = Path(geodata)
    frame = _read_text_table(path, "GeoData file")
    file = path.name
    frame.columns = [str(c).strip().upper() for c in frame.columns]
    issues: list[Issue] = []
    for col in ("SUBID", "MAINDOWN", "AREA"):
        if col not in frame.columns:
            hint = did_you_mean(col, list(frame.columns))
            issues.append(Issue(file, f"no column {col}" + (f" ({hint})" if hint else ""),
                                1, col))
    if issues:
        raise InputError(issues, f"invalid {file}")
    ids = np.array([str(int(v)) if isinstance(v, int | float) and float(v).is_integer()
                    else str(v) for v in frame["SUBID"]], dtype=object)
    dup = pd.Series(ids).duplicated(keep=False).to_numpy()
    for pos in np.flatnonzero(dup)[:20]:
        issues.append(Issue(file, f"SUBID {ids[pos]} appears more than once",
                            _line(frame, int(pos)), "SUBID"))
    down = np.array([str(int(v)) if pd.notna(v) and float(v).is_integer() else "" for v in
                     pd.to_numeric(frame["MAINDOWN"], errors="coerce")], dtype=object)
    links = link_downstream(ids, down, lambda p: file if p is None else
                            f"{file}, row {_line(frame, p)} (SUBID {ids[p]})", "MAINDOWN", True)
    issues += links.issues
    area_m2 = _number(frame, "AREA", file, issues)
    rivlen = _number(frame, "RIVLEN", file, issues) if "RIVLEN" in frame.columns else None
    slc_cols = sorted((c for c in frame.columns if re.fullmatch(r"SLC_\d+", c)),
                      key=lambda c: int(c[4:]))
    if not slc_cols:
        issues.append(Issue(file, "no SLC_n columns (the land-class fractions)", 1, "SLC_1"))
    fractions = np.column_stack([_number(frame, c, file, issues) for c in slc_cols]) \
        if slc_cols else np.zeros((len(frame), 0))
    total = fractions.sum(axis=1)
    for pos in np.flatnonzero(np.abs(total - 1.0) > SLC_TOLERANCE)[:20]:
        issues.append(Issue(file, f"SLC fractions of SUBID {ids[pos]} sum to {total[pos]:.4f} "
                                  f"(must be 1 within {SLC_TOLERANCE})", _line(frame, int(pos)),
                            slc_cols[0] if slc_cols else None))
    if issues:
        raise InputError(issues, f"invalid {file}")
    subunits = pd.DataFrame({"subunit_id": ids, "name": [f"Subbasin {i}" for i in ids],
                             "downstream_id": links.downstream, "area_ha": area_m2 / 1e4})
    if rivlen is not None:
        subunits["stream_km"] = rivlen / 1e3
    basin = ImportedBasin(f"HYPE GeoData {file}", subunits, None)
    basin.mark("subunits", "subunit_id", "read", f"SUBID of {file}")
    basin.mark("subunits", "name", "computed", "'Subbasin ' + SUBID")
    basin.mark("subunits", "downstream_id", "read", "MAINDOWN (outlet where 0 or an id not in "
               "GeoData, HYPE's convention)")
    basin.mark("subunits", "area_ha", "read", "AREA (m² -> ha)")
    if rivlen is not None:
        basin.mark("subunits", "stream_km", "read", "RIVLEN (m -> km)")
    if "SLOPE_MEAN" in frame.columns:
        slope = _number(frame, "SLOPE_MEAN", file, issues)
        if not issues:
            subunits["usle_ls"] = usle_ls(slope)
            basin.mark("subunits", "usle_ls", "computed", "SLOPE_MEAN (%) by the USLE LS "
                       "formula (Wischmeier & Smith 1978), 50 m slopes")
    for pos in links.outside:
        basin.notes.append(f"{file}, row {_line(frame, pos)}: SUBID {ids[pos]} drains to MAINDOWN "
                           f"{down[pos]}, not in GeoData: an outlet.")
    _land_cover(basin, fractions / np.where(total > 0, total, 1.0)[:, None],
                [int(c[4:]) for c in slc_cols], area_m2 / 1e4, geoclass)
    if polygons is not None:
        _attach_polygons(basin, Path(polygons), polygon_id, polygon_layer)
    return basin


def _land_cover(basin: ImportedBasin, fractions: np.ndarray, slcs: list[int],
                area_ha: np.ndarray, geoclass: Path | str | None) -> None:
    """Land cover per sub-basin: SLC fractions times area, summed per land use."""
    if geoclass is not None:
        classes, labels = read_geoclass(Path(geoclass))
        missing = [s for s in slcs if s not in classes]
        if missing:
            raise InputError([Issue(Path(geoclass).name, f"no row for SLC class {s} (GeoData "
                                    f"has column SLC_{s})", None, "SLC") for s in missing],
                             f"invalid {Path(geoclass).name}")
        how = f"SLC fractions x AREA, summed per land use of {Path(geoclass).name}"
    else:
        classes = {s: f"slc_{s}" for s in slcs}
        labels = {f"slc_{s}": f"SLC class {s}" for s in slcs}
        how = "SLC fractions x AREA, one land class per SLC (no GeoClass given)"
    ids = basin.subunits["subunit_id"].to_numpy()
    cover = pd.DataFrame({"subunit_id": np.repeat(ids, len(slcs)),
                          "land_class": np.tile([classes[s] for s in slcs], len(ids)),
                          "area_ha": (fractions * area_ha[:, None]).ravel()})
    cover = cover.groupby(["subunit_id", "land_class"], sort=False, as_index=False)["area_ha"]\
        .sum()
    basin.land_cover = cover[cover["area_ha"] > 0].reset_index(drop=True)
    used = list(dict.fromkeys(classes[s] for s in slcs))
    basin.land_classes = pd.DataFrame({"land_class": used, "name": [labels[c] for c in used]})
    basin.mark("land_cover", "area_ha", "computed", how)
    basin.mark("land_classes", "land_class", "read" if geoclass else "computed",
               "land uses named in GeoClass" if geoclass else "one per SLC column")
    basin.mark("land_classes", "name", "read" if geoclass else "computed",
               "the !Landuses comment of GeoClass" if geoclass else "'SLC class n'")


def _attach_polygons(basin: ImportedBasin, path: Path, id_column: str,
                     layer_name: str | None) -> None:
    """Join sub-basin polygons by id; every SUBID needs exactly one polygon."""
    layer = read_layer(path, layer_name, "polygon", [id_column])
    issues: list[Issue] = []
    poly_ids = feature_ids(layer, id_column, issues)
    if issues:
        wanted = set(basin.subunits["subunit_id"])
        fits = [c for c in layer.frame.columns if c not in (id_column, "geometry")
                and set(id_strings(layer.frame[c])) >= wanted
                and layer.frame[c].is_unique]
        if fits:
            issues.append(Issue(layer.label, f"column {fits[0]} holds every SUBID once: pass "
                                             f"--polygon-id {fits[0]}", None, id_column))
        raise InputError(issues, f"cannot use the polygons of {path.name}")
    ids = basin.subunits["subunit_id"].to_numpy()
    position = pd.Index(poly_ids).get_indexer(ids)
    for pos in np.flatnonzero(position < 0)[:20]:
        issues.append(Issue(layer.label, f"no polygon has {id_column} {ids[pos]} (a SUBID of "
                                         "GeoData)", None, id_column))
    if issues:
        raise InputError(issues, f"cannot use the polygons of {path.name}")
    frame = layer.frame.iloc[position].reset_index(drop=True)
    geometry = frame[[]].copy()
    geometry["subunit_id"] = ids
    basin.geometry = geometry.set_geometry(frame.geometry)
    basin.notes += layer.notes
    extra = len(poly_ids) - len(ids)
    if extra:
        basin.notes.append(f"{layer.label}: {extra} polygons with no SUBID in GeoData ignored.")
    measured = areas_ha(basin.geometry)
    given = basin.subunits["area_ha"].to_numpy()
    gap = np.abs(measured - given) / np.maximum(given, 1e-9)
    basin.notes.append(f"Polygon areas (equal-area projection) differ from AREA by at most "
                       f"{gap.max():.2%}; AREA is used.")
