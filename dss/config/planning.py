"""The ``planning:`` section of a model file (``kind: planning``): strict, documented schema.

Everything a scenario may change is a mapping, so dotted overrides reach it
(``planning.rules.core_population.max: 2000``, ``planning.boundary.penalty: 0``). Names of
units, zones, attributes and features are checked against the study when the problem is
built (:mod:`dss.planning.study`), with located messages.

This module imports nothing heavy: :mod:`dss.config.model` uses it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    """Unknown keys are errors; instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True,
                              allow_inf_nan=False)


class FeatureSpec(_Strict):
    """A feature: a per-unit attribute whose amount targets count."""

    attribute: str
    """Unit attribute giving the amount, e.g. ``habitat:giant_panda`` (ha),
    ``habitat_q:giant_panda`` (quality-weighted ha), ``individuals:giant_panda``,
    ``carbon_t``, ``forest_ha`` (see ``dss.planning.study.ATTRIBUTES``)."""
    name: str = ""
    """Display name (default: the feature's key)."""
    contributions: dict[str, float] = Field(default_factory=dict)
    """Share of the amount each zone holds (default 1 in every zone), as Marxan with Zones'
    zone contributions."""
    zone_attributes: dict[str, str] = Field(default_factory=dict)
    """Zone -> unit attribute giving the amount held in that zone (zones not named use
    ``attribute``): a full unit x feature x zone amount table (prioritizr's zone-specific
    feature data) instead of one amount times a zone share."""
    factor: float = 1.0
    """Multiplier of the amounts; negative for a feature that a unit harms (e.g. ``-1`` on
    ``population`` to count people as a negative amount)."""


class TargetSpec(_Strict):
    """A representation target on a feature, held in a zone group."""

    feature: str
    """Feature key (of ``features``)."""
    zones: list[str] | None = None
    """Zones whose holdings count (default: every zone)."""
    relative: float | None = Field(None, ge=0, le=1)
    """Share of the feature's total amount in the study."""
    absolute: float | None = Field(None, ge=0)
    """Amount in the feature's unit."""
    weight: float | None = None
    """Weight in the max-features and min-shortfall objectives (default: 1)."""
    sense: Literal[">=", "<=", "="] = ">="
    """``>=``: hold at least the target; ``<=``: at most (an upper-bound target); ``=``:
    exactly (prioritizr's target ``sense``)."""

    @model_validator(mode="after")
    def _one_amount(self) -> TargetSpec:
        if (self.relative is None) == (self.absolute is None):
            raise ValueError("give exactly one of relative or absolute")
        return self


class RuleSpec(_Strict):
    """A linear rule on a unit attribute summed over a zone group (e.g. people in the core)."""

    attribute: str
    """Unit attribute summed, e.g. ``population``, ``hydropower_mw``, ``farmland_ha``."""
    zones: list[str] | None = None
    """Zones whose units count (default: every zone)."""
    max: float | None = None
    """Upper limit of the sum."""
    min: float | None = None
    """Lower limit of the sum."""

    @model_validator(mode="after")
    def _a_limit(self) -> RuleSpec:
        if self.max is None and self.min is None:
            raise ValueError("give max, min or both")
        return self


class ObjectiveSpec(_Strict):
    """The objective."""

    type: Literal["min_set", "max_utility", "max_features", "min_shortfall",
                  "min_largest_shortfall", "min_penalties", "max_cover"] = "min_set"
    """min_set: least cost meeting every target; min_penalties: least penalty meeting every
    target (budget optional); the others work under ``budget``."""
    budget: float | dict[str, float] | None = None
    """Budget (cost units) for every objective but min_set: one number, or zone -> budget
    (per-zone budgets; zones not named are unlimited)."""
    weights: dict[str, float] = Field(default_factory=dict)
    """Feature weights (default 1)."""
    tie_breaker: bool = False
    """prioritizr's small cost term for max_utility, max_features and max_cover: of equally
    good plans, the cheapest."""

    @model_validator(mode="after")
    def _budget(self) -> ObjectiveSpec:
        if self.type not in ("min_set", "min_penalties") and self.budget is None:
            raise ValueError(f"the {self.type} objective needs a budget")
        values = self.budget.values() if isinstance(self.budget, dict) else [self.budget]
        if any(v is not None and v < 0 for v in values):
            raise ValueError("budgets must be >= 0")
        if self.tie_breaker and self.type not in ("max_utility", "max_features", "max_cover"):
            raise ValueError("tie_breaker applies to max_utility, max_features and max_cover")
        return self


class BoundarySpec(_Strict):
    """Boundary-length penalty (BLM) from a shared-boundary table."""

    table: str = "boundaries.csv"
    """Shared-boundary table in the inputs folder: ``subunit_a, subunit_b, length_km``
    (``subunit_a == subunit_b``: the unit's boundary with the outside of the study)."""
    penalty: float = 0.0
    """Cost per unit of boundary length (the BLM); 0 keeps the table for adjacency only;
    negative spreads the plan out instead of clumping it."""
    edge_factor: float = Field(1.0, ge=0)
    """Weight of the study's outer boundary (0: a park continuing beyond the study area
    pays nothing along it)."""
    zones: list[str] | None = None
    """Zone group whose perimeter is penalised (default: every zone)."""


class GroupSpec(_Strict):
    """A zone group (contiguity)."""

    zones: list[str] | None = None
    """Zones forming the group (default: every zone)."""


class NeighbourSpec(_Strict):
    """Each unit of the group has at least ``k`` neighbours in it."""

    k: int = Field(1, ge=1)
    """Least number of neighbours."""
    zones: list[str] | None = None
    """Zone group (default: every zone)."""
    clamp: bool = False
    """Lower ``k`` to the neighbours a unit can have (locked-out ones not counted) and
    exempt locked-in units (prioritizr's ``clamp``)."""


class FeatureContiguitySpec(_Strict):
    """Each feature held in one connected piece of the group (prioritizr's feature
    contiguity constraints)."""

    zones: list[str] | None = None
    """Zone group (default: every zone)."""
    features: list[str] | None = None
    """Feature keys (default: every feature with a target)."""


class ManualLockSpec(_Strict):
    """A manual lock: one unit's share in one zone (prioritizr's manual locked
    constraints)."""

    unit: str
    """Unit id."""
    zone: str
    """Zone."""
    status: float = Field(ge=0, le=1)
    """Share of the unit in the zone (0 or 1; fractions need ``decisions: proportion``)."""


class ManualBoundSpec(_Strict):
    """Manual bounds on one unit's share in one zone (prioritizr's manual bounded
    constraints)."""

    unit: str
    """Unit id."""
    zone: str
    """Zone."""
    lower: float = Field(0.0, ge=0, le=1)
    """Least share."""
    upper: float = Field(1.0, ge=0, le=1)
    """Largest share."""


class ConnectivitySpec(_Strict):
    """Symmetric connectivity bonus from the shared-boundary lengths."""

    penalty: float
    """Factor :math:`p` (positive: a reward per km of shared boundary inside the group)."""
    zones: list[str] | None = None
    """Zone group (default: every zone)."""


class RiverSpec(_Strict):
    """Asymmetric connectivity along the river graph: a unit in the group whose upstream
    units are not pays a penalty."""

    penalty: float = Field(ge=0)
    """Cost per unit of dependence left unprotected."""
    hops: int = Field(1, ge=1)
    """How many steps upstream count."""
    decay: float = Field(0.5, ge=0, le=1)
    """Weight of each further step upstream."""
    weight: str | None = None
    """Unit attribute weighting each upstream unit (default: 1 each), e.g. ``area_ha``."""
    zones: list[str] | None = None
    """Zone group (default: every zone)."""


class PortfolioSpec(_Strict):
    """Several distinct plans by no-good cuts, and each unit's selection frequency."""

    solutions: int = Field(5, ge=1, le=100)
    """Number of plans."""
    gap: float | None = Field(None, ge=0)
    """Keep only plans within this relative gap of the optimum."""


class IrreplaceabilitySpec(_Strict):
    """Replacement cost of every allocation in the optimal plan (one re-solve each)."""

    zones: list[str] | None = None
    """Zones whose allocations are evaluated (default: every zone)."""


class PlanningSpec(_Strict):
    """A conservation-planning or park-design problem (``kind: planning``)."""

    source: Literal["study", "marxan"] = "study"
    """Planning units: the study's subunits, or a Marxan project in the inputs folder."""
    marxan: str = "input.dat"
    """The Marxan ``input.dat``, relative to the inputs folder (``source: marxan``)."""
    zones: list[str] = Field(default_factory=lambda: ["core", "general", "outside"])
    """Zones (``source: study``)."""
    park_zones: list[str] = Field(default_factory=lambda: ["core", "general"])
    """Zones that form the park, for reports."""
    mandatory_allocation: bool = True
    """Every unit goes to exactly one zone (else: at most one)."""
    decisions: Literal["binary", "proportion"] = "binary"
    """Whole units, or shares of units."""
    costs: dict[str, dict[str, float]] = Field(default_factory=dict)
    """Zone -> unit attribute -> cost per unit of the attribute (opportunity costs)."""
    features: dict[str, FeatureSpec] = Field(default_factory=dict)
    """Features by key."""
    targets: dict[str, TargetSpec] = Field(default_factory=dict)
    """Targets by name."""
    rules: dict[str, RuleSpec] = Field(default_factory=dict)
    """Linear rules by name."""
    locked_in: dict[str, list[str]] = Field(default_factory=dict)
    """Unit -> zones it must be in (one of them)."""
    locked_out: dict[str, list[str]] = Field(default_factory=dict)
    """Unit -> zones it must not be in."""
    objective: ObjectiveSpec = ObjectiveSpec()
    """The objective."""
    boundary: BoundarySpec | None = None
    """Boundary table and penalty (needed by contiguity and neighbour constraints)."""
    contiguity: GroupSpec | None = None
    """The group must be connected."""
    neighbours: NeighbourSpec | None = None
    """Neighbour constraints."""
    feature_contiguity: FeatureContiguitySpec | None = None
    """Feature contiguity constraints."""
    manual_locks: list[ManualLockSpec] = Field(default_factory=list)
    """Manual locks per unit and zone."""
    manual_bounds: list[ManualBoundSpec] = Field(default_factory=list)
    """Manual bounds per unit and zone."""
    unavailable: dict[str, list[str]] = Field(default_factory=dict)
    """Unit -> zones it cannot be allocated to (prioritizr's NA cost); relative targets
    still count its amounts."""
    connectivity: ConnectivitySpec | None = None
    """Symmetric connectivity penalty."""
    river_connectivity: RiverSpec | None = None
    """Asymmetric connectivity along the river graph."""
    portfolio: PortfolioSpec | None = None
    """Distinct near-optimal plans."""
    irreplaceability: IrreplaceabilitySpec | None = None
    """Replacement cost of the plan's allocations."""
    evaluate_current: bool = False
    """Evaluate the current zoning (each unit in its largest zone share) instead of
    optimising: the contrast run for ``dss compare``."""
