"""A study's input data: every table read, typed and cross-checked, plus its river network.

:func:`load_study` either returns a fully valid :class:`Study` or raises one
:class:`~dss.errors.InputError` listing every problem in every table.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

from dss.data.schema import ACTION_TARGETS, TABLES, ZONES
from dss.data.tables import read_table
from dss.errors import InputError, Issue
from dss.network.graph import build_graph, check_network
from dss.network.routing import Routing

LOGGER = logging.getLogger(__name__)

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
    hashes: dict[str, str] = field(default_factory=dict)
    _graph: nx.DiGraph | None = field(default=None, repr=False)
    _routing: Routing | None = field(default=None, repr=False)

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

    def table(self, name: str) -> pd.DataFrame:
        """The frame of table ``name``."""
        return getattr(self, name)

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
    hashes: dict[str, str] = {}
    for table in TABLES.values():
        result = read_table(folder, table, issues)
        frames[table.name] = result.frame
        if result.sha256:
            hashes[table.file] = result.sha256
    cross_check(frames, issues, area_tolerance)
    if issues:
        raise InputError(issues, f"invalid study inputs in {folder.name}/")
    study = Study(name=name or folder.name, folder=folder, hashes=hashes,
                  **{k: v for k, v in frames.items()})  # type: ignore[arg-type]
    LOGGER.info("loaded study %s: %d subunits, %d actions", study.name, len(study.subunits),
                len(study.actions))
    return study


def _rows_where(frame: pd.DataFrame, mask: pd.Series) -> list[tuple[int, pd.Series]]:
    return [(int(i) + 2, frame.loc[i]) for i in frame.index[mask.to_numpy()]]


def _check_refs(frames, issues, table: str, column: str, target: str, target_col: str,
                hint: str) -> None:
    """Report values of ``table.column`` that are not ids of ``target``."""
    frame, ref = frames.get(table), frames.get(target)
    if frame is None or ref is None or frame.empty:
        return
    known = set(ref[target_col])
    values = frame[column]
    bad = values.notna() & (values != "") & ~values.isin(known)
    for row, rec in _rows_where(frame, bad)[:20]:
        issues.append(Issue(f"{table}.csv", f"unknown {hint} {rec[column]!r} (not in "
                                            f"{target}.csv)", row, column))


def cross_check(frames: dict[str, pd.DataFrame | None], issues: list[Issue],
                area_tolerance: float = DEFAULT_AREA_TOLERANCE) -> None:
    """Checks that span tables: references, zone shares, land-cover totals, the network."""
    subunits = frames.get("subunits")
    if subunits is not None and not subunits.empty:
        shares = subunits[[f"share_{z}" for z in ZONES]].sum(axis=1)
        bad = (shares - 1.0).abs() > ZONE_SHARE_TOLERANCE
        for row, rec in _rows_where(subunits, bad)[:20]:
            issues.append(Issue("subunits.csv", f"zone shares of {rec['subunit_id']!r} sum to "
                                                f"{shares[row - 2]:.4f} (share_core + "
                                                "share_general + share_outside must be 1)",
                                row, "share_core"))
        if not subunits["subunit_id"].duplicated().any():
            issues.extend(check_network(subunits["subunit_id"], subunits["downstream_id"]))
    for table in ("land_cover", "point_sources", "species_habitat", "control_points",
                  "barriers"):
        _check_refs(frames, issues, table, "subunit_id", "subunits", "subunit_id", "subunit")
    _check_refs(frames, issues, "land_cover", "land_class", "land_classes", "land_class",
                "land class")
    _check_refs(frames, issues, "species_habitat", "species", "species", "species", "species")
    _check_refs(frames, issues, "actions", "leads_to", "land_classes", "land_class",
                "land class")
    _check_refs(frames, issues, "actions", "habitat_species", "species", "species", "species")
    _check_action_targets(frames, issues)
    _check_land_cover_totals(frames, issues, area_tolerance)
    _check_habitat_area(frames, issues)


def _check_action_targets(frames, issues: list[Issue]) -> None:
    actions, classes = frames.get("actions"), frames.get("land_classes")
    if actions is None or classes is None:
        return
    allowed = set(classes["land_class"]) | set(ACTION_TARGETS)
    bad = ~actions["applies_to"].isin(allowed)
    for row, rec in _rows_where(actions, bad)[:20]:
        issues.append(Issue("actions.csv", f"applies_to {rec['applies_to']!r} is neither a "
                                           "land class nor one of "
                                           f"{', '.join(ACTION_TARGETS)}", row, "applies_to"))
    land = actions["applies_to"].isin(set(classes["land_class"]))
    wrong_unit = land & (actions["unit"] != "ha")
    for row, rec in _rows_where(actions, wrong_unit)[:20]:
        issues.append(Issue("actions.csv", f"action on land class {rec['applies_to']!r} must "
                                           f"use unit ha (got {rec['unit']!r})", row, "unit"))


def _check_land_cover_totals(frames, issues: list[Issue], tolerance: float) -> None:
    subunits, cover = frames.get("subunits"), frames.get("land_cover")
    if subunits is None or cover is None or subunits["subunit_id"].duplicated().any():
        return
    totals = cover.groupby("subunit_id")["area_ha"].sum()
    area = subunits.set_index("subunit_id")["area_ha"]
    covered = totals.reindex(area.index).fillna(0.0)
    gap = (covered - area).abs()
    bad = (gap > tolerance * area.clip(lower=1e-9)).to_numpy()
    for pos in np.flatnonzero(bad)[:20]:
        sid = area.index[pos]
        issues.append(Issue("land_cover.csv", f"land cover of subunit {sid!r} sums to "
                                              f"{covered.iloc[pos]:.2f} ha but its area_ha in "
                                              f"subunits.csv is {area.iloc[pos]:.2f} ha "
                                              f"(must agree within {tolerance:.0%})",
                            None, "area_ha"))
    if bad.sum() > 20:
        issues.append(Issue("land_cover.csv", f"... and {int(bad.sum()) - 20} more subunits "
                                              "whose land cover does not add up", None,
                            "area_ha"))


def _check_habitat_area(frames, issues: list[Issue]) -> None:
    subunits, habitat = frames.get("subunits"), frames.get("species_habitat")
    if subunits is None or habitat is None or habitat.empty:
        return
    if subunits["subunit_id"].duplicated().any():
        return
    area = habitat["subunit_id"].map(subunits.set_index("subunit_id")["area_ha"])
    bad = area.notna() & (habitat["habitat_ha"] > area * (1 + 1e-9))
    for row, rec in _rows_where(habitat, bad)[:20]:
        issues.append(Issue("species_habitat.csv", f"habitat of {rec['habitat_ha']:g} ha "
                                                   f"exceeds the area of subunit "
                                                   f"{rec['subunit_id']!r}", row, "habitat_ha"))
