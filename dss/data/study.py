"""A study's input data: every table read, typed and cross-checked, plus its river network.

:func:`load_study` either returns a fully valid :class:`Study` or raises one
:class:`~dss.errors.InputError` listing every problem in every table.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import networkx as nx
import numpy as np
import pandas as pd

from dss.data.keys import IdIndex
from dss.data.mandates import check_agencies
from dss.data.schema import ACTION_TARGETS, TABLES, ZONES
from dss.data.tables import read_table
from dss.data.uncertain import check_uncertainty
from dss.errors import InputError, Issue, did_you_mean
from dss.network.barriers import check_barrier_network
from dss.network.graph import build_graph, check_network
from dss.network.routing import Routing

LOGGER = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_AREA_TOLERANCE = 0.01
"""Allowed relative gap between a subunit's area and the sum of its land cover."""

ZONE_SHARE_TOLERANCE = 1e-3


@dataclass
class Study:
    """Validated input tables of one study (frames follow :data:`dss.data.schema.TABLES`)."""

    name: str
    folder: Path
    subunits: pd.DataFrame
    land_classes: pd.DataFrame
    land_cover: pd.DataFrame
    point_sources: pd.DataFrame
    species: pd.DataFrame
    species_habitat: pd.DataFrame
    control_points: pd.DataFrame
    barriers: pd.DataFrame
    actions: pd.DataFrame
    townships: pd.DataFrame
    agencies: pd.DataFrame
    barrier_options: pd.DataFrame | None = None
    """What can be done at each barrier (None: a study made without the table)."""
    fish_habitat: pd.DataFrame | None = None
    """Fish habitat per reach and species, between barriers (None: as above)."""
    uncertainty: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    uncertainty_scenarios: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    action_livelihoods: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    hashes: dict[str, str] = field(default_factory=dict)
    rows: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    """Spreadsheet row number of each frame row, by table name (for located messages after
    loading, e.g. presolve warnings); a table without an entry has no blank rows
    (``index + 2``)."""
    _graph: nx.DiGraph | None = field(default=None, repr=False)
    _routing: Routing | None = field(default=None, repr=False)
    _memo: dict[object, object] = field(default_factory=dict, init=False, repr=False,
                                        compare=False)
    """Derived data (see :meth:`memo`); not carried over by ``dataclasses.replace``."""

    @property
    def graph(self) -> nx.DiGraph:
        """River network (edges in flow direction), built on first use."""
        if self._graph is None:
            self._graph = build_graph(self.subunits)
        return self._graph

    @property
    def routing(self) -> Routing:
        """Vectorised routing index aligned with ``subunits`` row order."""
        if self._routing is None:
            self._routing = Routing(self.subunits["subunit_id"], self.subunits["downstream_id"])
        return self._routing

    def memo(self, key: object, compute: Callable[[], T]) -> T:
        """``compute()``, computed once per study and ``key``: data derived from the tables
        alone (they do not change after loading)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]  # type: ignore[return-value]

    @property
    def subunit_index(self) -> IdIndex:
        """Positions and sort ranks of the subunit ids, built on first use."""
        return self.key_index("subunits")

    def key_index(self, table: str) -> IdIndex:
        """Positions and sort ranks of the ids (key column) of ``table``, built on first use."""
        return self.memo(("index", table),
                         lambda: IdIndex(self.table(table)[TABLES[table].key[0]]))

    def positions(self, table: str, column: str, target: str = "subunits") -> np.ndarray:
        """Row of ``target`` whose id each row of ``table`` names in ``column`` (-1 where it
        names none), computed once (read-only).

        Raises:
            ValueError: if the ids of ``target`` are not unique.
        """
        def compute() -> np.ndarray:
            found = self.key_index(target).positions(self.table(table)[column])
            found.flags.writeable = False
            return found

        return self.memo(("positions", table, column, target), compute)

    def _remember_positions(self, found: dict[tuple[str, str, str], np.ndarray]) -> None:
        """Take :meth:`positions` looked up already (by table, column and target)."""
        for (table, column, target), rows in found.items():
            rows.flags.writeable = False
            self._memo[("positions", table, column, target)] = rows

    def table(self, name: str) -> pd.DataFrame:
        """The frame of table ``name``."""
        return getattr(self, name)

    def row_numbers(self, name: str) -> np.ndarray:
        """Spreadsheet row number of each row of table ``name`` (header = row 1)."""
        given = self.rows.get(name)
        count = len(self.table(name))
        if given is not None and len(given) == count:
            return np.asarray(given)
        return np.arange(count, dtype=np.int64) + 2

    def zone(self) -> pd.Series:
        """Dominant national-park zone of each subunit (largest share), by subunit id."""
        shares = self.subunits[[f"share_{z}" for z in ZONES]].to_numpy()
        return pd.Series(np.asarray(ZONES, dtype=object)[shares.argmax(axis=1)],
                         index=self.subunits["subunit_id"], name="zone")


def load_study(folder: Path | str, name: str | None = None,
               area_tolerance: float = DEFAULT_AREA_TOLERANCE) -> Study:
    """Read, type and cross-check every table in ``folder``.

    Raises:
        InputError: listing every problem found, each located by file, row and column.
    """
    folder = Path(folder)
    issues: list[Issue] = []
    if not folder.is_dir():
        raise InputError([Issue(str(folder), "inputs folder not found (check the `inputs` "
                                             "entry of the model file)")])
    frames: dict[str, pd.DataFrame | None] = {}
    rows: dict[str, np.ndarray] = {}
    hashes: dict[str, str] = {}
    for table in TABLES.values():
        result = read_table(folder, table, issues)
        frames[table.name] = result.frame
        if result.rows is not None:
            rows[table.name] = result.rows
        if result.sha256:
            hashes[table.file] = result.sha256
    found: dict[tuple[str, str, str], np.ndarray] = {}
    cross_check(frames, issues, area_tolerance, rows, found)
    if issues:
        raise InputError(issues, f"invalid study inputs in {folder.name}/")
    study = Study(name=name or folder.name, folder=folder, hashes=hashes, rows=rows,
                  **{k: v for k, v in frames.items()})  # type: ignore[arg-type]
    study._remember_positions(found)  # valid ids are unique: the lookups are the positions
    LOGGER.info("loaded study %s: %d subunits, %d actions", study.name, len(study.subunits),
                len(study.actions))
    return study


MAX_CROSS_ISSUES = 20
"""Cap on reported problems per cross-table check."""


class _Rows:
    """Spreadsheet row numbers of every frame row, by table (``index + 2`` if not given)."""

    def __init__(self, frames: dict[str, pd.DataFrame | None],
                 rows: dict[str, np.ndarray] | None) -> None:
        self._frames = frames
        self._rows = rows or {}

    def of(self, table: str) -> np.ndarray:
        """Row numbers of the frame rows of ``table``, in frame order."""
        frame = self._frames.get(table)
        given = self._rows.get(table)
        count = 0 if frame is None else len(frame)
        if given is not None and len(given) == count:
            return np.asarray(given)
        return np.arange(count, dtype=np.int64) + 2

    def where(self, table: str, mask: pd.Series | np.ndarray
              ) -> list[tuple[int, int, pd.Series]]:
        """(row number, position, record) of the rows where ``mask`` holds, capped."""
        frame = self._frames[table]
        assert frame is not None
        numbers = self.of(table)
        positions = np.flatnonzero(np.asarray(mask, dtype=bool))[:MAX_CROSS_ISSUES]
        return [(int(numbers[p]), int(p), frame.iloc[p]) for p in positions]


def _known(ref: pd.Series) -> pd.Index:
    """The distinct non-missing values of ``ref`` as an index, for fast membership tests."""
    return pd.Index(ref.dropna().unique(), dtype=object)


def _check_refs(frames, issues, rows: _Rows, table: str, column: str, target: str,
                target_col: str, hint: str, known: dict[tuple[str, str], pd.Index],
                found: dict[tuple[str, str, str], np.ndarray]) -> None:
    """Report values of ``table.column`` that are not ids of ``target``.

    ``known`` caches :func:`_known` of each target column (its hash table is built once);
    ``found`` receives where each value is among the distinct ids of ``target`` (-1: not).
    """
    frame, ref = frames.get(table), frames.get(target)
    if frame is None or ref is None or frame.empty:
        return
    if ref.empty and TABLES[target].required:
        return  # the empty required table is reported; every reference would repeat that
    if (target, target_col) not in known:
        known[target, target_col] = _known(ref[target_col])
    values = frame[column]
    at = known[target, target_col].get_indexer(values.to_numpy(dtype=object))
    found[table, column, target] = at
    unknown = at < 0
    if not unknown.any():
        return
    bad = unknown & values.notna().to_numpy() & (values != "").to_numpy()
    names = set(ref[target_col].dropna())
    for row, _, rec in rows.where(table, bad):
        suggestion = did_you_mean(rec[column], names, quote=True)
        issues.append(Issue(f"{table}.csv", f"unknown {hint} {rec[column]!r} (not in "
                                            f"{target}.csv"
                                            + (f"; {suggestion})" if suggestion else ")"),
                            row, column))


def cross_check(frames: dict[str, pd.DataFrame | None], issues: list[Issue],
                area_tolerance: float = DEFAULT_AREA_TOLERANCE,
                rows: dict[str, np.ndarray] | None = None,
                found: dict[tuple[str, str, str], np.ndarray] | None = None) -> None:
    """Checks that span tables: references, zone shares, land-cover totals, the network.

    Args:
        frames: Typed frames by table name (None for an unusable table: its checks are skipped).
        issues: Problems found are appended here.
        area_tolerance: Allowed relative gap between a subunit's area and its land cover.
        rows: Spreadsheet row number of each frame row by table (default ``index + 2``).
        found: If given, receives for each checked reference (table, column, target table)
            where each value is among the distinct ids of the target (-1: not there); when
            those ids are unique and none is missing, that is the row of the target.
    """
    found = {} if found is None else found
    where = _Rows(frames, rows)
    subunits = frames.get("subunits")
    if subunits is not None and not subunits.empty:
        shares = subunits[[f"share_{z}" for z in ZONES]].sum(axis=1)
        bad = (shares - 1.0).abs() > ZONE_SHARE_TOLERANCE
        for row, pos, rec in where.where("subunits", bad):
            issues.append(Issue("subunits.csv", f"zone shares of {rec['subunit_id']!r} sum to "
                                                f"{shares.iloc[pos]:.4f} (share_core + "
                                                "share_general + share_outside must be 1)",
                                row, "share_core"))
        if not subunits["subunit_id"].duplicated().any():
            issues.extend(check_network(subunits["subunit_id"], subunits["downstream_id"],
                                        rows=where.of("subunits")))
    known: dict[tuple[str, str], pd.Index] = {}
    for table in ("land_cover", "point_sources", "species_habitat", "control_points",
                  "barriers"):
        _check_refs(frames, issues, where, table, "subunit_id", "subunits", "subunit_id",
                    "subunit", known, found)
    _check_refs(frames, issues, where, "land_cover", "land_class", "land_classes", "land_class",
                "land class", known, found)
    _check_refs(frames, issues, where, "species_habitat", "species", "species", "species",
                "species", known, found)
    _check_refs(frames, issues, where, "actions", "leads_to", "land_classes", "land_class",
                "land class", known, found)
    _check_refs(frames, issues, where, "actions", "habitat_species", "species", "species",
                "species", known, found)
    for table, column, target, target_col, hint in (
            ("barrier_options", "barrier_id", "barriers", "barrier_id", "barrier"),
            ("barriers", "downstream_barrier_id", "barriers", "barrier_id", "barrier"),
            ("fish_habitat", "barrier_id", "barriers", "barrier_id", "barrier"),
            ("fish_habitat", "subunit_id", "subunits", "subunit_id", "subunit"),
            ("fish_habitat", "species", "species", "species", "species")):
        _check_refs(frames, issues, where, table, column, target, target_col, hint, known,
                    found)
    issues.extend(check_barrier_network(frames, where.of))
    _check_refs(frames, issues, where, "action_livelihoods", "action_id", "actions",
                "action_id", "action", known, found)
    _check_action_targets(frames, issues, where)
    check_agencies(frames, issues, where.of)
    _check_land_cover_totals(frames, issues, where, area_tolerance)
    _check_habitat_area(frames, issues, where)
    check_uncertainty(frames, issues, where.of)


def _check_action_targets(frames, issues: list[Issue], rows: _Rows) -> None:
    actions, classes = frames.get("actions"), frames.get("land_classes")
    if actions is None or classes is None:
        return
    allowed = set(classes["land_class"].dropna()) | set(ACTION_TARGETS)
    bad = actions["applies_to"].notna() & ~actions["applies_to"].isin(allowed)
    for row, _, rec in rows.where("actions", bad):
        suggestion = did_you_mean(rec["applies_to"], allowed, quote=True)
        issues.append(Issue("actions.csv", f"applies_to {rec['applies_to']!r} is neither a "
                                           "land class nor one of "
                                           f"{', '.join(ACTION_TARGETS)}"
                                           + (f" ({suggestion})" if suggestion else ""),
                            row, "applies_to"))
    land = actions["applies_to"].isin(set(classes["land_class"]))
    wrong_unit = land & (actions["unit"] != "ha")
    for row, _, rec in rows.where("actions", wrong_unit):
        issues.append(Issue("actions.csv", f"action on land class {rec['applies_to']!r} must "
                                           f"use unit ha (got {rec['unit']!r})", row, "unit"))


def _check_land_cover_totals(frames, issues: list[Issue], rows: _Rows,
                             tolerance: float) -> None:
    """Each subunit's land-cover rows must add up to its ``area_ha``."""
    subunits, cover = frames.get("subunits"), frames.get("land_cover")
    if subunits is None or cover is None or subunits["subunit_id"].duplicated().any():
        return
    # Rows without an id or with an invalid area are reported already; skip them here.
    usable = (subunits["subunit_id"].notna() & np.isfinite(subunits["area_ha"])
              & (subunits["area_ha"] >= 0)).to_numpy()
    sub_rows = rows.of("subunits")[usable]
    subunits = subunits[usable]
    totals = cover.groupby("subunit_id")["area_ha"].sum()
    area = subunits.set_index("subunit_id")["area_ha"]
    covered = totals.reindex(area.index).fillna(0.0)
    gap = (covered - area).abs()
    bad = (gap > tolerance * area.clip(lower=1e-9)).to_numpy()
    flagged = set(area.index[np.flatnonzero(bad)[:MAX_CROSS_ISSUES]])
    in_flagged = cover["subunit_id"].isin(flagged).to_numpy()
    rows_of = pd.Series(rows.of("land_cover")[in_flagged]).groupby(
        cover["subunit_id"].to_numpy()[in_flagged]).agg(list)
    for pos in np.flatnonzero(bad)[:MAX_CROSS_ISSUES]:
        sid = area.index[pos]
        where = f"its area_ha in subunits.csv (row {sub_rows[pos]}) is {area.iloc[pos]:.2f} ha"
        if sid in rows_of.index:
            listed = ", ".join(str(r) for r in rows_of[sid])
            label = "rows" if len(rows_of[sid]) > 1 else "row"
            message = (f"land cover of subunit {sid!r} ({label} {listed}) sums to "
                       f"{covered.iloc[pos]:.2f} ha but {where} (must agree within "
                       f"{tolerance:.0%})")
        else:
            message = (f"subunit {sid!r} has no land cover rows but {where} (add one row per "
                       "land class in it)")
        issues.append(Issue("land_cover.csv", message, None, "area_ha"))
    if bad.sum() > MAX_CROSS_ISSUES:
        issues.append(Issue("land_cover.csv", f"... and {int(bad.sum()) - MAX_CROSS_ISSUES} "
                                              "more subunits whose land cover does not add up",
                            None, "area_ha"))


def _check_habitat_area(frames, issues: list[Issue], rows: _Rows) -> None:
    """A species' habitat in a subunit cannot exceed the subunit's area."""
    subunits, habitat = frames.get("subunits"), frames.get("species_habitat")
    if subunits is None or habitat is None or habitat.empty:
        return
    if subunits["subunit_id"].duplicated().any():
        return
    area = habitat["subunit_id"].map(subunits.set_index("subunit_id")["area_ha"])
    bad = area.notna() & (area >= 0) & (habitat["habitat_ha"] > area * (1 + 1e-9))
    for row, pos, rec in rows.where("species_habitat", bad):
        issues.append(Issue("species_habitat.csv", f"habitat of {rec['habitat_ha']:g} ha "
                                                   f"exceeds the area of subunit "
                                                   f"{rec['subunit_id']!r} (at most "
                                                   f"{area.iloc[pos]:g} ha, its area_ha in "
                                                   "subunits.csv)", row, "habitat_ha"))
