"""Planning data: units with their costs per zone and numeric attributes, zones, features
with their amounts and each zone's contribution, and shared boundaries
(:class:`~dss.planning.boundary.Boundary`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from dss.errors import InputError, Issue, did_you_mean
from dss.planning.boundary import Boundary
from dss.planning.data_tables import SOURCE, fail, read_tables


@dataclass(frozen=True, eq=False)
class PlanningData:
    """The data of a planning problem.

    Attributes:
        units: One row per planning unit: ``id`` (text) plus numeric attributes that linear
            constraints and penalties can name (population, farmland_ha, ...).
        zones: Zone names (``("selected",)`` for a problem without zones).
        cost: Cost of allocating each unit to each zone, shape (units, zones).
        features: One row per feature: ``id`` and ``name``.
        amounts: Amount of each feature in each unit, shape (features, units), >= 0.
        contributions: Share of a feature's amount a zone holds, shape (features, zones);
            1 by default (Marxan with Zones' ``zonecontrib``).
        boundary: Shared boundaries, or None.
        adjacency: Extra neighbour pairs (unit positions) for neighbour and contiguity
            constraints when there is no boundary table, or None.
        zone_amounts: Amount of each feature in each unit when allocated to each zone,
            shape (features, units, zones) (prioritizr's zone-specific amounts; replaces
            ``amounts`` x ``contributions``), or None.
        unavailable: Where a unit cannot be allocated to a zone (prioritizr's NA cost),
            shape (units, zones), or None.
    """

    units: pd.DataFrame
    zones: tuple[str, ...]
    cost: np.ndarray
    features: pd.DataFrame
    amounts: np.ndarray
    contributions: np.ndarray
    boundary: Boundary | None = None
    adjacency: tuple[tuple[int, int], ...] | None = None
    zone_amounts: np.ndarray | None = None
    unavailable: np.ndarray | None = None
    _index: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        ids = self.units["id"].astype(str).tolist()
        self._index.update({u: k for k, u in enumerate(ids)})

    @property
    def n_units(self) -> int:
        """Number of planning units."""
        return len(self.units)

    @property
    def n_zones(self) -> int:
        """Number of zones."""
        return len(self.zones)

    @property
    def n_features(self) -> int:
        """Number of features."""
        return len(self.features)

    @property
    def unit_ids(self) -> list[str]:
        """Unit ids, in order."""
        return self.units["id"].astype(str).tolist()

    @property
    def feature_ids(self) -> list[str]:
        """Feature ids, in order."""
        return self.features["id"].astype(str).tolist()

    def totals(self) -> np.ndarray:
        """Total amount of each feature over every unit: :math:`\\sum_i a_{fi}` (units with
        NA costs included, negative amounts counted as they are)."""
        return self.amounts.sum(axis=1)

    def feature_matrix(self, f: int) -> np.ndarray:
        """Amount of feature ``f`` held by each unit in each zone, shape (units, zones):
        :math:`a_{fiz}` of a zone-amount table, else :math:`k_{fz} a_{fi}`."""
        if self.zone_amounts is not None:
            return self.zone_amounts[f]
        return np.outer(self.amounts[f], self.contributions[f])

    def group_total(self, f: int, zones: tuple[int, ...]) -> float:
        """Total of feature ``f`` that relative targets over the zone group take shares of:
        :math:`\\sum_i \\sum_{z \\in G} a_{fiz}` with a zone-amount table (prioritizr's
        per-zone totals), else :math:`\\sum_i a_{fi}`."""
        if self.zone_amounts is not None:
            return float(self.zone_amounts[f][:, list(zones)].sum())
        return float(self.amounts[f].sum())

    # -- name resolution (located errors) --------------------------------------------------

    def unit_positions(self, units: Iterable[Any], column: str = "units") -> np.ndarray:
        """Positions of unit ids (text or numbers); every unknown id is reported at once."""
        positions, issues = [], []
        for u in units:
            key = str(int(u)) if isinstance(u, (int, np.integer)) else str(u)
            if key not in self._index:
                hint = did_you_mean(key, self._index, quote=True)
                issues.append(Issue(SOURCE, f"unknown planning unit {key!r}"
                                            f"{' (' + hint + ')' if hint else ''}", None,
                                    column))
            else:
                positions.append(self._index[key])
        if issues:
            raise InputError(issues, "invalid planning problem")
        return np.asarray(positions, dtype=np.int64)

    def zone_positions(self, zones: str | Sequence[str] | None, column: str = "zones"
                       ) -> tuple[int, ...]:
        """Positions of a zone group (None: every zone)."""
        if zones is None:
            return tuple(range(self.n_zones))
        names = [zones] if isinstance(zones, str) else list(zones)
        if not names:
            raise fail("a zone group needs at least one zone (known: "
                        f"{', '.join(self.zones)})", column)
        out = []
        for name in names:
            if name not in self.zones:
                hint = did_you_mean(name, self.zones, quote=True)
                raise fail(f"unknown zone {name!r} ({hint + ' ' if hint else ''}known: "
                            f"{', '.join(self.zones)})", column)
            out.append(self.zones.index(name))
        return tuple(sorted(set(out)))

    def feature_position(self, feature: str | int, column: str = "feature") -> int:
        """Position of a feature id."""
        ids = self.feature_ids
        key = str(feature)
        if key not in ids:
            hint = did_you_mean(key, ids, quote=True)
            raise fail(f"unknown feature {key!r} ({hint + ' ' if hint else ''}known: "
                        f"{', '.join(ids[:12])}{', ...' if len(ids) > 12 else ''})", column)
        return ids.index(key)

    def unit_values(self, data: str | Sequence[float] | np.ndarray | pd.Series,
                    column: str = "data") -> np.ndarray:
        """Per-unit values: the name of a numeric ``units`` column, or one value per unit
        (a sequence, or a Series indexed by unit id), or one per unit and zone."""
        if isinstance(data, str):
            if data not in self.units.columns or data == "id":
                known = [c for c in self.units.columns if c != "id"]
                hint = did_you_mean(data, known)
                raise fail(f"unknown unit attribute {data!r} ({hint + ' ' if hint else ''}"
                            f"known: {', '.join(known)})", column)
            values = pd.to_numeric(self.units[data], errors="coerce").to_numpy(float)
        elif isinstance(data, pd.Series) and not isinstance(data.index, pd.RangeIndex):
            values = data.reindex(self.units["id"].astype(str)).to_numpy(float)
        else:
            values = np.asarray(data, dtype=float)
        if values.shape not in ((self.n_units,), (self.n_units, self.n_zones)):
            raise fail(f"needs one value per planning unit ({self.n_units}) or per unit and "
                        f"zone ({self.n_units} x {self.n_zones}); got shape {values.shape}",
                        column)
        if not np.isfinite(values).all():
            raise fail("values must be finite numbers (missing or non-numeric values "
                        "found)", column)
        return values

    # -- spatial structure -----------------------------------------------------------------

    def neighbour_pairs(self) -> np.ndarray:
        """Adjacent unit pairs ``(i, j)``, ``i < j``: boundary pairs with a positive shared
        length, plus any explicit adjacency. Shape (pairs, 2)."""
        pairs: set[tuple[int, int]] = set()
        if self.boundary is not None:
            keep = self.boundary.length > 0
            pairs.update(zip(self.boundary.i[keep].tolist(), self.boundary.j[keep].tolist(),
                             strict=True))
        for a, b in self.adjacency or ():
            if a != b:
                pairs.add((min(a, b), max(a, b)))
        return np.array(sorted(pairs), dtype=np.int64).reshape(-1, 2)

    def graph(self) -> nx.Graph:
        """Adjacency graph over unit positions (every unit is a node)."""
        g = nx.Graph()
        g.add_nodes_from(range(self.n_units))
        g.add_edges_from(map(tuple, self.neighbour_pairs().tolist()))
        return g

    # -- construction ----------------------------------------------------------------------


    @classmethod
    def from_tables(cls, units: pd.DataFrame, features: pd.DataFrame | Sequence[str],
                    amounts: pd.DataFrame, **kwargs: Any) -> PlanningData:
        """Build and validate planning data from tidy tables
        (:func:`dss.planning.data_tables.read_tables`).

        Args:
            units: Planning units: an ``id`` column plus numeric attributes.
            features: Features: a frame with ``id`` (and optional ``name``), or a list of ids.
            amounts: Long table ``feature, unit, amount`` (amounts may be negative), or
                ``feature, unit, zone, amount``: the full unit x feature x zone table.
            **kwargs: ``cost`` (a column, a mapping zone -> column or constant, or an array
                (units, zones); NaN is an NA cost), ``zones``, ``contributions``,
                ``boundary`` (Marxan-style ``id1, id2, boundary``) and ``files`` (file
                label of each table), as in :func:`~dss.planning.data_tables.read_tables`.

        Raises:
            InputError: listing every problem found, located by file, row and column.
        """
        return cls(**read_tables(units, features, amounts, **kwargs))
