"""Planning data and the immutable, composable planning problem.

:class:`PlanningData` holds the planning units (an id, a cost per zone, any numeric attributes
such as population or farmland), the zones, the features with their amount in each unit and
each zone's contribution to each feature, and the shared boundaries between units (Marxan's
``bound.dat`` convention: a row with ``id1 == id2`` is a unit's external boundary).

:class:`PlanningProblem` follows prioritizr: every ``add_*`` method returns a new problem, so a
base problem can be varied freely. The last objective added is used; targets, constraints and
penalties accumulate::

    base = PlanningProblem(data).add_relative_targets(0.3)
    cheap = base.add_min_set_objective()
    compact = cheap.add_boundary_penalties(penalty=2.0)
    budgeted = base.add_min_shortfall_objective(budget=100.0)

Problems found when adding a part (unknown unit, zone or feature; a negative budget) raise an
:class:`~dss.errors.InputError` located at the argument (``problem, column budget: ...``);
problems of the whole (locked in and out at once, no targets for a target objective) are
reported together when the problem is compiled.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np
import pandas as pd

from dss.errors import InputError, Issue, did_you_mean
from dss.planning.amounts import cost_column, zone_amount_table
from dss.planning.api import Budget, PrioritizrMethods
from dss.planning.constraints import (
    ContiguityConstraint,
    LinearConstraint,
    LockedInConstraint,
    LockedOutConstraint,
    MandatoryAllocationConstraint,
    NeighborConstraint,
)
from dss.planning.objectives import (
    MaxFeaturesObjective,
    MaxUtilityObjective,
    MinLargestShortfallObjective,
    MinSetObjective,
    MinShortfallObjective,
    Objective,
)
from dss.planning.parts import Part
from dss.planning.penalties import (
    AsymConnectivityPenalty,
    BoundaryPenalty,
    ConnectivityPenalty,
    LinearPenalty,
)
from dss.planning.solve import solve

if TYPE_CHECKING:  # pragma: no cover
    from dss.planning.solve import PlanningResult, SolverOptions

LOGGER = logging.getLogger(__name__)

SOURCE = "problem"
"""File label of issues raised by the Python API (the argument is the column)."""

SELECTED = "selected"
"""The zone of a problem without zones: a unit is selected or not."""


def _fail(message: str, column: str | None = None, file: str = SOURCE,
          row: int | None = None) -> InputError:
    return InputError([Issue(file, message, row, column)], "invalid planning problem")


# ----------------------------------------------------------------------------- boundaries


@dataclass(frozen=True, eq=False)
class Boundary:
    """Shared boundaries between planning units (unit positions, not ids).

    Attributes:
        i: First unit of each internal pair (``i < j``, each pair once).
        j: Second unit of each pair.
        length: Shared boundary length (or any symmetric pairwise weight) of each pair.
        external: Boundary of each unit with the outside of the study area (``id1 == id2``
            rows; zero where absent).
    """

    i: np.ndarray
    j: np.ndarray
    length: np.ndarray
    external: np.ndarray

    @classmethod
    def from_pairs(cls, n: int, a: np.ndarray, b: np.ndarray, length: np.ndarray
                   ) -> Boundary:
        """Build from pairs of unit positions; ``a == b`` is external; repeats are summed
        (as Marxan adds every line of ``bound.dat``)."""
        a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
        length = np.asarray(length, dtype=float)
        external = np.zeros(n)
        self_loop = a == b
        np.add.at(external, a[self_loop], length[self_loop])
        lo = np.minimum(a, b)[~self_loop]
        hi = np.maximum(a, b)[~self_loop]
        frame = pd.DataFrame({"i": lo, "j": hi, "length": length[~self_loop]})
        frame = frame.groupby(["i", "j"], as_index=False, sort=True)["length"].sum()
        return cls(frame["i"].to_numpy(np.int64), frame["j"].to_numpy(np.int64),
                   frame["length"].to_numpy(float), external)

    @property
    def n_pairs(self) -> int:
        """Number of internal pairs."""
        return len(self.i)


# ----------------------------------------------------------------------------- data


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
            raise _fail("a zone group needs at least one zone (known: "
                        f"{', '.join(self.zones)})", column)
        out = []
        for name in names:
            if name not in self.zones:
                hint = did_you_mean(name, self.zones, quote=True)
                raise _fail(f"unknown zone {name!r} ({hint + ' ' if hint else ''}known: "
                            f"{', '.join(self.zones)})", column)
            out.append(self.zones.index(name))
        return tuple(sorted(set(out)))

    def feature_position(self, feature: str | int, column: str = "feature") -> int:
        """Position of a feature id."""
        ids = self.feature_ids
        key = str(feature)
        if key not in ids:
            hint = did_you_mean(key, ids, quote=True)
            raise _fail(f"unknown feature {key!r} ({hint + ' ' if hint else ''}known: "
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
                raise _fail(f"unknown unit attribute {data!r} ({hint + ' ' if hint else ''}"
                            f"known: {', '.join(known)})", column)
            values = pd.to_numeric(self.units[data], errors="coerce").to_numpy(float)
        elif isinstance(data, pd.Series) and not isinstance(data.index, pd.RangeIndex):
            values = data.reindex(self.units["id"].astype(str)).to_numpy(float)
        else:
            values = np.asarray(data, dtype=float)
        if values.shape not in ((self.n_units,), (self.n_units, self.n_zones)):
            raise _fail(f"needs one value per planning unit ({self.n_units}) or per unit and "
                        f"zone ({self.n_units} x {self.n_zones}); got shape {values.shape}",
                        column)
        if not np.isfinite(values).all():
            raise _fail("values must be finite numbers (missing or non-numeric values "
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
                    amounts: pd.DataFrame, *, cost: str | Mapping[str, str | float] |
                    np.ndarray = "cost", zones: Sequence[str] | None = None,
                    contributions: Mapping[str, Mapping[str, float]] | np.ndarray | None = None,
                    boundary: pd.DataFrame | None = None,
                    files: Mapping[str, str] | None = None) -> PlanningData:
        """Build and validate planning data from tidy tables.

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
        return cls(units.reset_index(drop=True), zones_t, np.nan_to_num(cost_m, nan=0.0),
                   feats.reset_index(drop=True), amount_m, contrib, bnd, zone_amounts=zone_m,
                   unavailable=unavailable if unavailable.any() else None)


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


# ----------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class Target:
    """One representation target: hold at least ``amount`` of a feature in a zone group.

    Attributes:
        feature: Feature position.
        zones: Zone positions whose holdings count (:math:`Z_t`).
        amount: Absolute target :math:`T_t` (feature units).
        relative: The relative target it came from (share of the feature's total), or None.
        weight: Weight in the max-features and min-shortfall objectives (None: the feature's
            weight).
    """

    feature: int
    zones: tuple[int, ...]
    amount: float
    relative: float | None = None
    weight: float | None = None
    sense: str = ">="
    """``>=`` (hold at least), ``<=`` (hold at most, an upper-bound target) or ``=``."""


# ----------------------------------------------------------------------------- problem


@dataclass(frozen=True, eq=False)
class PlanningProblem(PrioritizrMethods):
    """A planning problem: data plus an objective, targets, decisions, constraints and
    penalties. Immutable: every ``add_*`` returns a new problem (more ``add_*`` methods in
    :class:`~dss.planning.api.PrioritizrMethods`)."""

    data: PlanningData
    objective: Objective | None = None
    decisions: str = "binary"
    targets: tuple[Target, ...] = ()
    feature_weights: tuple[float, ...] | None = None
    constraints: tuple[Part, ...] = ()
    penalties: tuple[Part, ...] = ()

    # -- construction ----------------------------------------------------------------------

    @classmethod
    def from_tables(cls, units: pd.DataFrame, features: pd.DataFrame | Sequence[str],
                    amounts: pd.DataFrame, **kwargs: Any) -> PlanningProblem:
        """A problem over :meth:`PlanningData.from_tables` (same arguments)."""
        return cls(PlanningData.from_tables(units, features, amounts, **kwargs))

    @property
    def binary(self) -> bool:
        """Whether decisions are binary."""
        return self.decisions == "binary"

    def parts(self) -> list[Part]:
        """Every part in compile order (locks first, penalties last)."""
        parts: list[Part] = [*self.constraints]
        if self.objective is not None:
            parts.append(self.objective)
        parts.extend(self.penalties)
        return sorted(parts, key=lambda p: p.order)

    def weights(self) -> np.ndarray:
        """Feature weights (1 when not set)."""
        if self.feature_weights is None:
            return np.ones(self.data.n_features)
        return np.asarray(self.feature_weights, dtype=float)

    def target_weights(self) -> np.ndarray:
        """Weight of each target: its own, else its feature's."""
        w = self.weights()
        return np.array([t.weight if t.weight is not None else w[t.feature]
                         for t in self.targets], dtype=float)

    def target_labels(self) -> list[str]:
        """``feature`` or ``feature@zone+zone`` for each target."""
        out = []
        all_zones = tuple(range(self.data.n_zones))
        for t in self.targets:
            name = self.data.feature_ids[t.feature]
            if t.zones != all_zones:
                name += "@" + "+".join(self.data.zones[z] for z in t.zones)
            out.append(name)
        return out

    # -- objectives ------------------------------------------------------------------------

    def add_min_set_objective(self) -> PlanningProblem:
        """Minimise cost (plus penalties) so that every target is met."""
        return replace(self, objective=MinSetObjective())

    def add_max_utility_objective(self, budget: Budget, tie_breaker: bool = False
                                  ) -> PlanningProblem:
        """Maximise the weighted amount of every feature held, under a budget (one number,
        or one per zone). ``tie_breaker``: prioritizr's small cost term, so that ties go to
        the cheapest plan (:func:`dss.planning.extra_objectives.add_tie_breaker`)."""
        return replace(self, objective=MaxUtilityObjective(self._budget(budget), tie_breaker))

    def add_max_features_objective(self, budget: Budget, tie_breaker: bool = False
                                   ) -> PlanningProblem:
        """Maximise the (weighted) number of targets met, under a budget (one number, or
        one per zone); ``tie_breaker`` as in :meth:`add_max_utility_objective`."""
        return replace(self, objective=MaxFeaturesObjective(self._budget(budget), tie_breaker))

    def add_min_shortfall_objective(self, budget: Budget) -> PlanningProblem:
        """Minimise the weighted sum of relative target shortfalls, under a budget."""
        return replace(self, objective=MinShortfallObjective(self._budget(budget)))

    def add_min_largest_shortfall_objective(self, budget: Budget) -> PlanningProblem:
        """Minimise the largest relative target shortfall, under a budget."""
        return replace(self, objective=MinLargestShortfallObjective(self._budget(budget)))

    # -- targets and weights ---------------------------------------------------------------

    def _per_feature(self, values: float | Sequence[float] | Mapping[str, float],
                     column: str) -> dict[int, float]:
        if isinstance(values, Mapping):
            return {self.data.feature_position(f, column): float(v) for f, v in values.items()}
        if np.isscalar(values):
            return dict.fromkeys(range(self.data.n_features), float(values))  # type: ignore[arg-type]
        seq = [float(v) for v in values]  # type: ignore[union-attr]
        if len(seq) != self.data.n_features:
            raise _fail(f"needs one value per feature ({self.data.n_features}); got "
                        f"{len(seq)}", column)
        return dict(enumerate(seq))

    def add_absolute_targets(self, targets: float | Sequence[float] | Mapping[str, float],
                             zones: str | Sequence[str] | None = None) -> PlanningProblem:
        """Add targets in feature units (one for all, one per feature, or by feature id),
        held in ``zones`` (default: any zone)."""
        group = self.data.zone_positions(zones)
        new = []
        for f, amount in self._per_feature(targets, "targets").items():
            if not np.isfinite(amount) or amount < 0:
                raise _fail(f"target {amount:g} for {self.data.feature_ids[f]!r} must be a "
                            "number >= 0", "targets")
            new.append(Target(f, group, amount))
        return replace(self, targets=(*self.targets, *new))

    def add_relative_targets(self, targets: float | Sequence[float] | Mapping[str, float],
                             zones: str | Sequence[str] | None = None) -> PlanningProblem:
        """Add targets as shares of each feature's total amount :math:`\\sum_i a_{fi}`."""
        group = self.data.zone_positions(zones)
        new = []
        for f, share in self._per_feature(targets, "targets").items():
            if not 0.0 <= share <= 1.0:
                raise _fail(f"relative target {share:g} for {self.data.feature_ids[f]!r} "
                            "must be between 0 and 1", "targets")
            new.append(Target(f, group, share * self.data.group_total(f, group),
                              relative=share))
        return replace(self, targets=(*self.targets, *new))

    def add_manual_targets(self, rows: Iterable[Mapping[str, Any]]) -> PlanningProblem:
        """Add targets from rows with ``feature``, ``target``, optional ``type``
        (``absolute``/``relative``), ``sense`` (``>=``, ``<=`` for an upper bound, ``=``),
        ``zones`` and ``weight`` (prioritizr's ``add_manual_targets``)."""
        out = self
        for row in rows:
            kind = str(row.get("type", "absolute"))
            zones = row.get("zones")
            feature = {str(row["feature"]): float(row["target"])}
            if kind == "relative":
                out = out.add_relative_targets(feature, zones)
            elif kind == "absolute":
                out = out.add_absolute_targets(feature, zones)
            else:
                raise _fail(f"unknown target type {kind!r} (absolute or relative)", "type")
            sense = str(row.get("sense") or ">=")
            if sense not in (">=", "<=", "="):
                raise _fail(f"unknown target sense {sense!r} (>=, <= or =)", "sense")
            weight = row.get("weight")
            last = replace(out.targets[-1], sense=sense,
                           weight=None if weight is None else float(weight))
            out = replace(out, targets=(*out.targets[:-1], last))
        return out

    def add_feature_weights(self, weights: Sequence[float] | Mapping[str, float]
                            ) -> PlanningProblem:
        """Set feature weights (used by max utility, max features and min shortfall)."""
        w = self.weights()
        for f, value in self._per_feature(weights, "weights").items():
            if not np.isfinite(value):
                raise _fail("weights must be finite numbers", "weights")
            w[f] = value
        return replace(self, feature_weights=tuple(float(v) for v in w))

    # -- decisions -------------------------------------------------------------------------

    def add_binary_decisions(self) -> PlanningProblem:
        """Each unit is wholly allocated to a zone, or not at all (the default)."""
        return replace(self, decisions="binary")

    def add_proportion_decisions(self) -> PlanningProblem:
        """Any share of each unit may be allocated to each zone (an LP)."""
        return replace(self, decisions="proportion")

    # -- constraints -----------------------------------------------------------------------

    def _add_constraint(self, part: Part) -> PlanningProblem:
        return replace(self, constraints=(*self.constraints, part))

    def add_locked_in_constraints(self, units: Iterable[Any],
                                  zones: str | Sequence[str] | None = None) -> PlanningProblem:
        """Lock units into a zone group (default: any zone, i.e. "selected")."""
        return self._add_constraint(LockedInConstraint(
            tuple(self.data.unit_positions(units).tolist()), self.data.zone_positions(zones)))

    def add_locked_out_constraints(self, units: Iterable[Any],
                                   zones: str | Sequence[str] | None = None) -> PlanningProblem:
        """Lock units out of a zone group (default: every zone)."""
        return self._add_constraint(LockedOutConstraint(
            tuple(self.data.unit_positions(units).tolist()), self.data.zone_positions(zones)))

    def add_linear_constraints(self, threshold: float, sense: str,
                               data: str | Sequence[float] | np.ndarray | pd.Series,
                               zones: str | Sequence[str] | None = None,
                               name: str = "") -> PlanningProblem:
        """Add :math:`\\sum_i \\sum_{z \\in G} d_{i(z)} x_{iz}` (sense) threshold; ``data``
        names a units column or gives one value per unit (or per unit and zone)."""
        if sense not in ("<=", ">=", "="):
            raise _fail(f"unknown sense {sense!r} (<=, >= or =)", "sense")
        if not np.isfinite(float(threshold)):
            raise _fail("threshold must be a finite number", "threshold")
        values = self.data.unit_values(data)
        label = name or (data if isinstance(data, str) else f"linear_{len(self.constraints)}")
        return self._add_constraint(LinearConstraint(
            label, values, self.data.zone_positions(zones), sense, float(threshold)))

    def add_neighbor_constraints(self, k: int, zones: str | Sequence[str] | None = None,
                                 clamp: bool = False) -> PlanningProblem:
        """Each unit in the zone group has at least ``k`` neighbours in the group; with
        ``clamp`` (prioritizr's default), ``k`` is lowered to the neighbours a unit can
        have, and locked-in units are exempt."""
        if int(k) != k or k < 1:
            raise _fail(f"k must be a whole number >= 1 (got {k!r})", "k")
        return self._add_constraint(NeighborConstraint(int(k), self.data.zone_positions(zones),
                                                       bool(clamp)))

    def add_contiguity_constraints(self, zones: str | Sequence[str] | None = None
                                   ) -> PlanningProblem:
        """The units in the zone group form one connected set (binary decisions only)."""
        return self._add_constraint(ContiguityConstraint(self.data.zone_positions(zones)))

    def add_mandatory_allocation_constraints(self) -> PlanningProblem:
        """Every unit is allocated to exactly one zone."""
        return self._add_constraint(MandatoryAllocationConstraint())

    # -- penalties -------------------------------------------------------------------------

    def _add_penalty(self, part: Part) -> PlanningProblem:
        return replace(self, penalties=(*self.penalties, part))

    def add_boundary_penalties(self, penalty: float, edge_factor: float = 1.0,
                               zones: str | Sequence[str] | None = None,
                               name: str = "boundary") -> PlanningProblem:
        """Penalise the boundary length of the zone group (Marxan's BLM)."""
        if self.data.boundary is None:
            raise _fail("boundary penalties need a boundary table (id1, id2, boundary)",
                        "boundary")
        _finite(penalty, "penalty")  # negative: spreading instead of clumping
        _nonneg(edge_factor, "edge_factor")
        return self._add_penalty(BoundaryPenalty(name, float(penalty), float(edge_factor),
                                                 self.data.zone_positions(zones)))

    def _pairs(self, data: pd.DataFrame | None, column: str) -> tuple[np.ndarray, ...]:
        if data is None:
            bnd = self.data.boundary
            if bnd is None:
                raise _fail("give the pairwise data (id1, id2, value), or a boundary table",
                            column)
            return bnd.i, bnd.j, bnd.length
        cols = [c for c in ("id1", "id2") if c not in data.columns]
        value = "value" if "value" in data.columns else "boundary"
        if cols or value not in data.columns:
            raise _fail("pairwise data needs columns id1, id2, value", column)
        a = self.data.unit_positions(data["id1"], column)
        b = self.data.unit_positions(data["id2"], column)
        v = pd.to_numeric(data[value], errors="coerce").to_numpy(float)
        if not np.isfinite(v).all():
            raise _fail("pairwise values must be finite numbers", column)
        keep = a != b
        return a[keep], b[keep], v[keep]

    def add_connectivity_penalties(self, penalty: float, data: pd.DataFrame | None = None,
                                   zones: str | Sequence[str] | None = None,
                                   name: str = "connectivity") -> PlanningProblem:
        """Reward selecting connected pairs together (symmetric; Önal & Briers 2002).
        ``data``: ``id1, id2, value`` (each unordered pair once; default: the boundary
        lengths)."""
        a, b, v = self._pairs(data, "data")
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        frame = pd.DataFrame({"i": lo, "j": hi, "v": v}).groupby(["i", "j"], as_index=False)
        agg = frame["v"].sum()
        _finite(penalty, "penalty")
        return self._add_penalty(ConnectivityPenalty(
            name, float(penalty), agg["i"].to_numpy(np.int64), agg["j"].to_numpy(np.int64),
            agg["v"].to_numpy(float), self.data.zone_positions(zones)))

    def add_asym_connectivity_penalties(self, penalty: float, data: pd.DataFrame,
                                        zones: str | Sequence[str] | None = None,
                                        name: str = "asym_connectivity") -> PlanningProblem:
        """Penalise a unit in the group whose connected partner is not (directional;
        Beger et al. 2010). ``data``: ``id1, id2, value``: ``id1`` depends on ``id2``."""
        a, b, v = self._pairs(data, "data")
        _finite(penalty, "penalty")
        if (v < 0).any():
            raise _fail("asymmetric connectivity values must be >= 0", "data")
        return self._add_penalty(AsymConnectivityPenalty(
            name, float(penalty), a, b, v, self.data.zone_positions(zones)))

    def add_linear_penalties(self, penalty: float,
                             data: str | Sequence[float] | np.ndarray | pd.Series,
                             zones: str | Sequence[str] | None = None,
                             name: str = "linear") -> PlanningProblem:
        """Penalise :math:`p \\sum_i d_i y_i^G` (e.g. human pressure)."""
        _finite(penalty, "penalty")
        return self._add_penalty(LinearPenalty(name, float(penalty), self.data.unit_values(data),
                                               self.data.zone_positions(zones)))

    # -- solving ---------------------------------------------------------------------------

    def check(self) -> list[Issue]:
        """Every problem with the assembled problem (empty when it can be compiled)."""
        issues: list[Issue] = []
        if self.objective is None:
            issues.append(Issue(SOURCE, "no objective: add one (add_min_set_objective, "
                                        "add_max_utility_objective, ...)", None, "objective"))
        for part in self.parts():
            issues.extend(part.check(self))
        return issues

    def solve(self, options: SolverOptions | None = None) -> PlanningResult:
        """Compile and solve with HiGHS (:func:`dss.planning.solve.solve`)."""
        return solve(self, options)

    def without_objective_penalties(self) -> PlanningProblem:
        """The same problem without penalties (for reporting cost alone)."""
        return replace(self, penalties=())

    def describe(self) -> str:
        """One line per part: the problem's formulation at a glance."""
        d = self.data
        lines = [f"{d.n_units} planning units, {d.n_features} features, zones: "
                 f"{', '.join(d.zones)}; {self.decisions} decisions; {len(self.targets)} "
                 "targets"]
        for part in self.parts():
            doc = part.math().splitlines()[0] if part.math() else ""
            lines.append(f"  {part.kind:<10} {part.label:<22} {doc}")
        return "\n".join(lines)


def _nonneg(value: float, column: str) -> None:
    if not np.isfinite(float(value)) or float(value) < 0:
        raise _fail(f"{column} must be a finite number >= 0 (got {value!r})", column)


def _finite(value: float, column: str) -> None:
    if not np.isfinite(float(value)):
        raise _fail(f"{column} must be a finite number (got {value!r})", column)
