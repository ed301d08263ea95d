"""The data the ``fish_passage`` component builds from: sections, options and habitat as arrays.

Computed once per build context (:meth:`~dss.optimize.context.BuildContext.memo`), and used
alike by the component, its reports and ``dss verify``; the evaluation of a plan goes through
:mod:`dss.network.barriers` (path products), never through the model's variables.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dss.data.study import Study
from dss.network.barriers import (
    SectionTree,
    accessible_habitat,
    dci_diadromous,
    dci_potamodromous,
    section_tree,
)
from dss.optimize.fish_options import OPTION_UNIT, RESOURCE_PREFIX, barrier_options


@dataclass(frozen=True)
class FishNetwork:
    """Sections, barrier options and habitat of a study.

    Attributes:
        tree: The sections between barriers.
        pass_up, pass_pair: Passability of each section's barrier today, upstream and
            up times down (1 at outlet sections).
        options: Resolved barrier options (:func:`barrier_options`).
        option_rows: Row of each barrier option in the model's options table.
        option_section: Section (barrier) of each option.
        habitat: Species -> quality-weighted habitat per section.
        units: Species -> unit of its habitat (km or ha).
    """

    tree: SectionTree
    pass_up: np.ndarray
    pass_pair: np.ndarray
    options: pd.DataFrame
    option_rows: np.ndarray
    option_section: np.ndarray
    habitat: dict[str, np.ndarray]
    units: dict[str, str]

    def chosen(self, amounts: np.ndarray | None) -> np.ndarray:
        """Option chosen at each barrier (row of :attr:`options`, -1 for none)."""
        pick = np.full(self.tree.n_barriers, -1)
        if amounts is None or not len(self.option_rows):
            return pick
        on = np.flatnonzero(np.asarray(amounts)[self.option_rows] > 0.5)
        pick[self.option_section[on]] = on
        return pick

    def passabilities(self, chosen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(upstream, up times down) passability of every section under a choice."""
        up, pair = self.pass_up.copy(), self.pass_pair.copy()
        has = np.flatnonzero(chosen >= 0)
        o = chosen[has]
        up[has] = self.options["passability"].to_numpy(float)[o]
        pair[has] = up[has] * self.options["passability_down"].to_numpy(float)[o]
        return up, pair

    def restored(self, chosen: np.ndarray) -> np.ndarray:
        """Dewatered km restored below each barrier under a choice."""
        km = np.zeros(self.tree.n_barriers)
        has = np.flatnonzero(chosen >= 0)
        km[has] = self.options["restored_km"].to_numpy(float)[chosen[has]]
        return km

    def accessible(self, species: str, chosen: np.ndarray, restored_weight: float) -> float:
        """Accessible habitat of a species under a choice, restored reaches included
        (each counted with the cumulative passability of the section it lies in, the one
        below its barrier)."""
        up, _pair = self.passabilities(chosen)
        h = self.habitat.get(species, np.zeros(self.tree.n_sections)).copy()
        km = self.restored(chosen)
        parent = self.tree.parent[:self.tree.n_barriers]
        np.add.at(h, parent, restored_weight * km)
        return accessible_habitat(self.tree.parent, up, h)

    def dci(self, species: str, chosen: np.ndarray, form: str = "p") -> float:
        """:math:`DCI_p` (``form`` p) or :math:`DCI_d` (``form`` d), in percent, of a
        species under a choice (habitat amounts as section lengths)."""
        _up, pair = self.passabilities(chosen)
        length = self.habitat.get(species, np.zeros(self.tree.n_sections))
        if form == "d":
            return dci_diadromous(self.tree.parent, pair, length)
        return dci_potamodromous(self.tree.parent, pair, length)


def fish_network(study: Study, options: pd.DataFrame) -> FishNetwork:
    """The fish network of a study, with its options' rows in ``options`` (the model's)."""
    routing = study.routing
    barriers = study.barriers
    tree = section_tree(routing.ids, routing.down, barriers)
    n_b, n_s = tree.n_barriers, tree.n_sections
    up = np.ones(n_s)
    up[:n_b] = barriers["passability"].to_numpy(float)
    down = up.copy()
    if "passability_down" in barriers and n_b:
        given = barriers["passability_down"].to_numpy(float)
        down[:n_b] = np.where(np.isnan(given), up[:n_b], given)
    bopts = barrier_options(study)
    rows = np.flatnonzero((options["unit"] == OPTION_UNIT).to_numpy()
                          & options["resource"].astype(str).str.startswith(
                              RESOURCE_PREFIX).to_numpy())
    by_id = pd.Index(options["action_id"].to_numpy(dtype=object)[rows])
    at = by_id.get_indexer(bopts["option_id"].to_numpy(dtype=object))
    rows = np.where(at >= 0, rows[np.maximum(at, 0)] if len(rows) else -1, -1)
    habitat: dict[str, np.ndarray] = {}
    units: dict[str, str] = {}
    table = study.fish_habitat
    if table is not None and len(table):
        sub = routing.index(table["subunit_id"])
        bid = table["barrier_id"]
        named = bid.notna().to_numpy() & (bid.astype(str) != "").to_numpy()
        at = pd.Index(tree.barrier_ids).get_indexer(bid.to_numpy(dtype=object))
        section = np.where(named, at, tree.subunit_section[sub])
        weight = table["habitat"].to_numpy(float) * table["quality"].to_numpy(float)
        for sp, idx in table.groupby("species", sort=True).indices.items():
            h = np.zeros(n_s)
            np.add.at(h, section[idx], weight[idx])
            habitat[str(sp)] = h
            units[str(sp)] = str(table["unit"].iloc[idx[0]])
    return FishNetwork(tree, up, up * down, bopts, rows,
                       bopts["barrier_pos"].to_numpy(np.int64) if len(bopts)
                       else np.zeros(0, np.int64), habitat, units)
