"""The one declaration of every input table: columns, types, units, defaults and documentation.

Validation (:mod:`dss.data.tables`) and documentation (``dss inputs``) are both generated from
:data:`TABLES`, so the two can never disagree. A study is a folder holding one CSV per table
(UTF-8, header row, comma separated); optional tables may be absent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

DType = Literal["str", "float", "int", "bool"]

ZONES: tuple[str, ...] = ("core", "general", "outside")
"""National-park zones: core protection, general control, and outside the park."""

POLLUTANTS: tuple[str, ...] = ("sediment", "tn", "tp")
"""Routed pollutants: sediment (t/yr), total nitrogen (kg/yr), total phosphorus (kg/yr)."""

POLLUTANT_UNITS: dict[str, str] = {"sediment": "t/yr", "tn": "kg/yr", "tp": "kg/yr"}

ACTION_TARGETS: tuple[str, ...] = ("point_sources", "barriers", "hazard_sites", "stream")
"""Non-land things an action may apply to (besides a land-class id)."""


@dataclass(frozen=True, slots=True)
class Column:
    """One column of an input table.

    Attributes:
        name: Header name in the CSV.
        dtype: Cell type after parsing.
        unit: Physical unit, or "-" when dimensionless or categorical.
        description: What the column means, for users.
        required: Whether the header must be present (cells may still use ``default``).
        default: Value used for an absent optional column or an empty optional cell.
        minimum: Smallest allowed value (numbers only).
        maximum: Largest allowed value (numbers only).
        allowed: Allowed values (strings only).
        nullable: Whether an empty cell is allowed and kept as missing.
    """

    name: str
    dtype: DType
    unit: str
    description: str
    required: bool = False
    default: object = None
    minimum: float | None = None
    maximum: float | None = None
    allowed: tuple[str, ...] | None = None
    nullable: bool = False

    def rule(self) -> str:
        """Human-readable statement of what a valid cell looks like."""
        if self.allowed:
            text = "one of " + ", ".join(self.allowed)
        elif self.dtype == "bool":
            text = "true or false"
        elif self.dtype in ("float", "int"):
            kind = "an integer" if self.dtype == "int" else "a number"
            lo = "" if self.minimum is None else f" >= {self.minimum:g}"
            hi = "" if self.maximum is None else f" <= {self.maximum:g}"
            text = kind + (lo + ("," if lo and hi else "") + hi)
        else:
            text = "text"
        return text + (", or empty" if self.nullable else "")


@dataclass(frozen=True, slots=True)
class Table:
    """One input table (one CSV file in a study folder)."""

    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    required: bool = True
    provenance: str = field(default="")

    @property
    def file(self) -> str:
        """File name of this table inside a study folder."""
        return f"{self.name}.csv"

    def column(self, name: str) -> Column:
        """The column called ``name``."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        """Declared column names, in order."""
        return [c.name for c in self.columns]


def _share(name: str, what: str, default: float | None = 0.0, required: bool = False) -> Column:
    return Column(name, "float", "fraction", what, required, default, 0.0, 1.0)


SUBUNITS = Table(
    "subunits",
    "Watershed subunits (planning units): one row each, linked into a drainage tree.",
    key=("subunit_id",),
    columns=(
        Column("subunit_id", "str", "-", "Unique subunit id.", required=True),
        Column("name", "str", "-", "Display name (English).", required=True),
        Column("name_zh", "str", "-", "Display name (Chinese).", default=""),
        Column(
            "downstream_id", "str", "-",
            "Subunit this one drains into; empty at an outlet.", nullable=True, default=None,
        ),
        Column("area_ha", "float", "ha", "Total area.", required=True, minimum=0.0),
        Column("township", "str", "-", "Township (administrative unit) it belongs to.",
               required=True),
        Column("branch", "str", "-", "River branch, for reporting.", default=""),
        _share("share_core", "Share of the area in the national park core protection zone."),
        _share("share_general", "Share of the area in the national park general control zone."),
        _share("share_outside", "Share of the area outside the national park.", default=1.0),
        Column("population", "float", "persons", "Resident population.", default=0.0,
               minimum=0.0),
        Column("usle_r", "float", "MJ mm/(ha h yr)", "USLE rainfall erosivity R.",
               required=True, minimum=0.0),
        Column("usle_k", "float", "t ha h/(ha MJ mm)", "USLE soil erodibility K.",
               required=True, minimum=0.0),
        Column("usle_ls", "float", "-", "USLE slope length-steepness factor LS.",
               required=True, minimum=0.0),
        _share("sdr", "Hillslope sediment delivery ratio: share of eroded soil reaching the "
               "stream.", default=None, required=True),
        _share("retention_sediment", "Share of sediment entering this subunit's reach "
               "(local plus upstream) retained in it (a reservoir traps most)."),
        _share("retention_tn", "Share of TN entering the reach retained in it."),
        _share("retention_tp", "Share of TP entering the reach retained in it."),
        Column("stream_km", "float", "km", "Length of stream channel (riparian actions).",
               default=0.0, minimum=0.0),
        Column("hazard_sites", "int", "sites", "Geohazard sites (landslides, debris flows, "
               "collapses).", default=0, minimum=0),
    ),
)

LAND_CLASSES = Table(
    "land_classes",
    "Land-cover classes with their erosion and nutrient-export coefficients.",
    key=("land_class",),
    columns=(
        Column("land_class", "str", "-", "Unique land-class id.", required=True),
        Column("name", "str", "-", "Display name (English).", required=True),
        Column("name_zh", "str", "-", "Display name (Chinese).", default=""),
        Column("usle_c", "float", "-", "USLE cover-management factor C.", required=True,
               minimum=0.0, maximum=1.0),
        Column("usle_p", "float", "-", "USLE support-practice factor P.", default=1.0,
               minimum=0.0, maximum=1.0),
        Column("tn_export", "float", "kg/(ha yr)", "Total nitrogen export coefficient.",
               required=True, minimum=0.0),
        Column("tp_export", "float", "kg/(ha yr)", "Total phosphorus export coefficient.",
               required=True, minimum=0.0),
        Column("mass_yield", "float", "t/(ha yr)", "Direct sediment yield to the stream from "
               "mass wasting (landslide scars, quarries), outside USLE.", default=0.0,
               minimum=0.0),
        Column("carbon_stock", "float", "t C/ha", "Carbon stock (above + below ground).",
               default=0.0, minimum=0.0),
        Column("is_forest", "bool", "-", "Counts towards forest cover.", default=False),
        Column("agricultural", "bool", "-", "Field runoff from this class can be intercepted "
               "by riparian buffers (stream actions).", default=False),
    ),
)

LAND_COVER = Table(
    "land_cover",
    "Land cover per subunit, long format: one row per (subunit, land class).",
    key=("subunit_id", "land_class"),
    columns=(
        Column("subunit_id", "str", "-", "Subunit id (subunits.csv).", required=True),
        Column("land_class", "str", "-", "Land-class id (land_classes.csv).", required=True),
        Column("area_ha", "float", "ha", "Area of this class in the subunit.", required=True,
               minimum=0.0),
    ),
)

POINT_SOURCES = Table(
    "point_sources",
    "Sewage point sources from residents and tourists, in person-equivalents.",
    key=("source_id",),
    required=False,
    columns=(
        Column("source_id", "str", "-", "Unique source id.", required=True),
        Column("subunit_id", "str", "-", "Subunit it discharges in.", required=True),
        Column("kind", "str", "-", "Origin of the sewage.", required=True,
               allowed=("resident", "tourist")),
        Column("person_equivalents", "float", "PE", "Served population in person-equivalents.",
               required=True, minimum=0.0),
        Column("tn_per_pe", "float", "kg/(PE yr)", "Raw TN load per person-equivalent.",
               default=4.0, minimum=0.0),
        Column("tp_per_pe", "float", "kg/(PE yr)", "Raw TP load per person-equivalent.",
               default=0.6, minimum=0.0),
        _share("treated_share", "Share of the PE already connected to treatment."),
        _share("removal_tn", "TN removal efficiency of the existing treatment.", default=0.5),
        _share("removal_tp", "TP removal efficiency of the existing treatment.", default=0.5),
    ),
)

SPECIES = Table(
    "species",
    "Species (conservation features).",
    key=("species",),
    required=False,
    columns=(
        Column("species", "str", "-", "Unique species id.", required=True),
        Column("name", "str", "-", "Common name (English).", required=True),
        Column("name_zh", "str", "-", "Common name (Chinese).", default=""),
        Column("scientific_name", "str", "-", "Scientific name.", default=""),
        Column("status", "str", "-", "Protection status (e.g. national class I).", default=""),
    ),
)

SPECIES_HABITAT = Table(
    "species_habitat",
    "Habitat of each species per subunit.",
    key=("species", "subunit_id"),
    required=False,
    columns=(
        Column("species", "str", "-", "Species id (species.csv).", required=True),
        Column("subunit_id", "str", "-", "Subunit id.", required=True),
        Column("habitat_ha", "float", "ha", "Habitat area.", required=True, minimum=0.0),
        _share("quality", "Habitat quality (1 = best).", default=1.0),
        Column("individuals", "float", "animals", "Estimated individuals (survey).",
               default=0.0, minimum=0.0),
    ),
)

CONTROL_POINTS = Table(
    "control_points",
    "Reservoirs, intakes, monitoring sections and outlets where routed loads matter.",
    key=("point_id",),
    required=False,
    columns=(
        Column("point_id", "str", "-", "Unique control-point id.", required=True),
        Column("name", "str", "-", "Display name (English).", required=True),
        Column("name_zh", "str", "-", "Display name (Chinese).", default=""),
        Column("subunit_id", "str", "-", "Subunit at whose outlet the point sits.",
               required=True),
        Column("kind", "str", "-", "Kind of point.", required=True,
               allowed=("reservoir", "intake", "monitoring", "outlet")),
        Column("measures", "str", "-", "Which load the point sees: outflow = what leaves "
               "the subunit's outlet (after its reach retention); inflow = what enters the "
               "subunit's reach (e.g. sediment INTO a reservoir, before it traps it).",
               default="outflow", allowed=("outflow", "inflow")),
        Column("cares_sediment", "bool", "-", "Sediment matters here.", default=True),
        Column("cares_tn", "bool", "-", "Total nitrogen matters here.", default=True),
        Column("cares_tp", "bool", "-", "Total phosphorus matters here.", default=True),
        Column("limit_sediment", "float", "t/yr", "Upper limit on routed sediment.",
               nullable=True, minimum=0.0),
        Column("limit_tn", "float", "kg/yr", "Upper limit on routed TN.", nullable=True,
               minimum=0.0),
        Column("limit_tp", "float", "kg/yr", "Upper limit on routed TP.", nullable=True,
               minimum=0.0),
        Column("weight", "float", "-", "Weight of the point's beneficiaries.", default=1.0,
               minimum=0.0),
    ),
)

BARRIERS = Table(
    "barriers",
    "Hydropower stations and other river barriers.",
    key=("barrier_id",),
    required=False,
    columns=(
        Column("barrier_id", "str", "-", "Unique barrier id.", required=True),
        Column("name", "str", "-", "Display name.", default=""),
        Column("subunit_id", "str", "-", "Subunit the barrier sits in.", required=True),
        Column("kind", "str", "-", "Type of station.", default="diversion",
               allowed=("diversion", "dam", "weir")),
        Column("capacity_mw", "float", "MW", "Installed capacity.", default=0.0, minimum=0.0),
        _share("passability", "Share of fish that pass (1 = no barrier).", default=0.0),
        Column("dewatered_km", "float", "km", "Length of the reach dewatered by diversion.",
               default=0.0, minimum=0.0),
        Column("status", "str", "-", "Operating status.", required=True,
               allowed=("active", "exited")),
        Column("downstream_barrier_id", "str", "-", "Next barrier downstream (empty: derived "
               "from the river graph: the previous barrier of the same subunit in file order, "
               "else the last barrier of the nearest downstream subunit that has one, else "
               "the outlet).", nullable=True),
        Column("passability_down", "float", "fraction", "Share of fish that pass downstream "
               "(empty: same as passability, which is the upstream share).", nullable=True,
               minimum=0.0, maximum=1.0),
    ),
)

BARRIER_OPTIONS = Table(
    "barrier_options",
    "What can be done at each barrier (at most one option per barrier is chosen).",
    key=("option_id",),
    required=False,
    columns=(
        Column("option_id", "str", "-", "Unique option id.", required=True),
        Column("barrier_id", "str", "-", "Barrier the option is for.", required=True),
        Column("kind", "str", "-", "remove (or decommission), fishway (or nature-like "
               "bypass), eflow (ecological-flow retrofit), other.", required=True,
               allowed=("remove", "fishway", "eflow", "other")),
        Column("name", "str", "-", "Display name (English).", default=""),
        Column("name_zh", "str", "-", "Display name (Chinese).", default=""),
        Column("passability", "float", "fraction", "Upstream passability after the option "
               "(empty: 1 for remove, the barrier's own otherwise).", nullable=True,
               minimum=0.0, maximum=1.0),
        Column("passability_down", "float", "fraction", "Downstream passability after the "
               "option (empty: as passability after).", nullable=True, minimum=0.0,
               maximum=1.0),
        Column("restored_km", "float", "km", "Dewatered reach below the barrier returned to "
               "habitat (empty: the barrier's dewatered_km for remove and eflow, 0 "
               "otherwise).", nullable=True, minimum=0.0),
        Column("capital_cost", "float", "CNY", "One-off cost.", default=0.0, minimum=0.0),
        Column("annual_cost", "float", "CNY/yr", "Recurring cost per year.", default=0.0,
               minimum=0.0),
        Column("lost_mwh", "float", "MWh/yr", "Generation lost per year.", default=0.0,
               minimum=0.0),
        Column("tariff", "float", "CNY/MWh", "Price of the lost generation.", default=0.0,
               minimum=0.0),
        Column("agency", "str", "-", "Paying agency.", required=True),
    ),
)

FISH_HABITAT = Table(
    "fish_habitat",
    "River habitat per reach and fish species, placed between barriers.",
    key=("species", "subunit_id", "barrier_id"),
    required=False,
    columns=(
        Column("species", "str", "-", "Species id (species.csv).", required=True),
        Column("subunit_id", "str", "-", "Subunit whose reach holds the habitat.",
               required=True),
        Column("barrier_id", "str", "-", "Barrier just downstream of the habitat (empty: "
               "above the subunit's last barrier, or in the section its outlet drains to).",
               nullable=True),
        Column("habitat", "float", "km or ha", "Habitat amount.", required=True, minimum=0.0),
        Column("unit", "str", "-", "Unit of habitat (one per species).", default="km",
               allowed=("km", "ha")),
        _share("quality", "Habitat quality weight (0-1).", default=1.0),
    ),
)

ACTIONS = Table(
    "actions",
    "Catalogue of restoration and conservation actions, with unit costs and effects.",
    key=("action_id",),
    columns=(
        Column("action_id", "str", "-", "Unique action id.", required=True),
        Column("name", "str", "-", "Display name (English).", required=True),
        Column("name_zh", "str", "-", "Display name (Chinese).", default=""),
        Column("applies_to", "str", "-",
               "Land-class id the action is done on, or one of point_sources, barriers, "
               "hazard_sites, stream.", required=True),
        Column("unit", "str", "-", "Unit of the decision amount.", required=True,
               allowed=("ha", "dam", "PE", "km", "station")),
        Column("leads_to", "str", "-", "Land class the treated land becomes (its C, P, "
               "export and carbon apply after).", nullable=True),
        Column("usle_c_after", "float", "-", "Cover factor after treatment, when the class "
               "is kept (overrides leads_to's C).", nullable=True, minimum=0.0, maximum=1.0),
        Column("capital_cost", "float", "CNY/unit", "One-off cost per unit.", default=0.0,
               minimum=0.0),
        Column("annual_cost", "float", "CNY/(unit yr)", "Recurring cost per unit and year.",
               default=0.0, minimum=0.0),
        Column("fixed_cost", "float", "CNY", "One-off cost per subunit where the action is "
               "used at all (makes the action lumpy).", default=0.0, minimum=0.0),
        Column("integer", "bool", "-", "Amount must be a whole number (dams, stations).",
               default=False),
        Column("agency", "str", "-", "Owning agency (forestry, environment, water, ...).",
               required=True),
        _share("sediment_removal", "Extra share of the treated unit's delivered sediment "
               "removed (beyond any cover change)."),
        _share("tn_removal", "Share of the treated unit's TN load removed."),
        _share("tp_removal", "Share of the treated unit's TP load removed."),
        Column("sediment_trap", "float", "t/(unit yr)", "Sediment trapped per unit (check "
               "dams).", default=0.0, minimum=0.0),
        Column("habitat_species", "str", "-", "Species whose habitat the action creates "
               "(empty: none).", nullable=True),
        Column("habitat_gain", "float", "ha/unit", "Quality-weighted habitat gained per unit.",
               default=0.0, minimum=0.0),
        Column("reconnected_km", "float", "km/unit", "River length reconnected per unit "
               "(barrier actions).", default=0.0, minimum=0.0),
        Column("maturity_years", "float", "yr", "Years after its start year until the action "
               "has its full effect (linear ramp; 0: full effect from the start year). Used "
               "only with settings.years.", default=0.0, minimum=0.0),
    ),
)

TOWNSHIPS = Table(
    "townships",
    "Display names of the townships named in subunits.csv (for reports, figures, consoles).",
    key=("township",),
    required=False,
    columns=(
        Column("township", "str", "-", "Township id, as in subunits.csv.", required=True),
        Column("name", "str", "-", "Display name (English).", required=True),
        Column("name_zh", "str", "-", "Display name (Chinese).", default=""),
    ),
)

AGENCY_LEVELS: tuple[str, ...] = ("county", "city", "province", "national")
"""Administrative level of an agency."""

MANDATE_BENEFITS: tuple[str, ...] = ("habitat", "carbon", *POLLUTANTS)
"""Benefits an agency may be charged with (the ``mandate`` column of agencies.csv)."""

AGENCIES = Table(
    "agencies",
    "Agencies that own actions and budgets, and the benefits each is charged with.",
    key=("agency_id",),
    required=False,
    columns=(
        Column("agency_id", "str", "-", "Unique agency id, as named in actions.agency.",
               required=True),
        Column("name", "str", "-", "Display name (English).", required=True),
        Column("name_zh", "str", "-", "Display name (Chinese).", default=""),
        Column("level", "str", "-", "Administrative level.", default="county",
               allowed=AGENCY_LEVELS),
        Column("mandate", "str", "-",
               "Benefits the agency is charged with, separated by ';': habitat, carbon, "
               "sediment, tn or tp, each optionally narrowed after ':' to a species "
               "(habitat:giant_panda), a control-point kind (sediment:reservoir) or a "
               "control point (tn:muping_intake); empty: none.", default=""),
    ),
)

UNCERTAINTY = Table(
    "uncertainty",
    "Uncertain input numbers: one line per value (or per column with row *), with its "
    "distribution; lines sharing a group move together (dss montecarlo, stochastic "
    "components).",
    key=("table", "row", "column"),
    required=False,
    columns=(
        Column("table", "str", "-", "Input table holding the uncertain number.",
               required=True),
        Column("row", "str", "-", "Id of the row (the table's key; two-part keys as "
               "`first/second`, e.g. E1/cropland), or * for every row.", required=True),
        Column("column", "str", "-", "Numeric column of the table.", required=True),
        Column("distribution", "str", "-", "Distribution: triangular (low, mode, high), "
               "uniform (low, high), normal (mean = mode, sd), lognormal (median = mode, "
               "sd of the log).", default="triangular",
               allowed=("triangular", "uniform", "normal", "lognormal")),
        Column("apply", "str", "-", "scale: the draw multiplies the table's value (low, "
               "mode, high are factors such as 0.7, 1, 1.4); value: the draw is the value "
               "itself.", default="scale", allowed=("scale", "value")),
        Column("low", "float", "-", "Lowest value (triangular, uniform; a lower clip for "
               "normal and lognormal).", nullable=True),
        Column("mode", "float", "-", "Most likely value (triangular), mean (normal) or "
               "median (lognormal).", nullable=True),
        Column("high", "float", "-", "Highest value (triangular, uniform; an upper clip "
               "for normal and lognormal).", nullable=True),
        Column("sd", "float", "-", "Standard deviation (normal) or of the log (lognormal).",
               nullable=True, minimum=0.0),
        Column("group", "str", "-", "Correlation group: lines of one group take the same "
               "quantile in every draw (one rainfall factor for the whole basin); empty: "
               "independent.", default=""),
        Column("source", "str", "-", "Where the range comes from.", default=""),
    ),
)

UNCERTAINTY_SCENARIOS = Table(
    "uncertainty_scenarios",
    "Named scenarios of the uncertain numbers, with probabilities: one line per changed "
    "value (a line with an empty table changes nothing).",
    key=("scenario", "table", "row", "column"),
    required=False,
    columns=(
        Column("scenario", "str", "-", "Scenario name.", required=True),
        Column("probability", "float", "fraction", "Probability of the scenario (the same "
               "on each of its lines; all scenarios sum to 1).", required=True,
               minimum=0.0, maximum=1.0),
        Column("table", "str", "-", "Input table holding the number.", default=""),
        Column("row", "str", "-", "Id of the row, or * for every row.", default=""),
        Column("column", "str", "-", "Numeric column of the table.", default=""),
        Column("apply", "str", "-", "scale: multiply the table's value; value: replace it.",
               default="scale", allowed=("scale", "value")),
        Column("value", "float", "-", "Factor or value.", nullable=True),
        Column("description", "str", "-", "What the scenario stands for.", default=""),
    ),
)

ACTION_LIVELIHOODS = Table(
    "action_livelihoods",
    "What each action does to the income of the people who live where it is done "
    "(livelihoods component): income lost, eco-compensation, wages, jobs and tourism, per "
    "unit of the action.",
    key=("action_id",),
    required=False,
    columns=(
        Column("action_id", "str", "-", "Action id (actions.csv).", required=True),
        Column("income_lost", "float", "CNY/(unit yr)", "Farm or use income households lose "
               "(crops on converted cropland, grazing, collection).", default=0.0,
               minimum=0.0),
        Column("income_lost_core", "float", "CNY/(unit yr)", "Extra income lost where the "
               "subunit lies in the national park core zone (times its core share): "
               "restricted use.", default=0.0, minimum=0.0),
        Column("compensation", "float", "CNY/(unit yr)", "Eco-compensation paid to the "
               "households (Grain for Green, forest ecological compensation).", default=0.0,
               minimum=0.0),
        Column("compensation_years", "float", "yr", "Legal period of the compensation; "
               "empty: the whole planning horizon.", nullable=True, minimum=0.0),
        Column("wages", "float", "CNY/(unit yr)", "Recurring local wages (ranger posts, "
               "upkeep).", default=0.0, minimum=0.0),
        Column("jobs", "float", "posts/unit", "Recurring local posts (full-time equivalent).",
               default=0.0, minimum=0.0),
        Column("works_wages", "float", "CNY/unit", "One-off local wages of the works.",
               default=0.0, minimum=0.0),
        Column("works_job_years", "float", "person-years/unit", "One-off local work of the "
               "works.", default=0.0, minimum=0.0),
        Column("tourism", "float", "CNY/(unit yr)", "Tourism income the action brings to "
               "the township.", default=0.0, minimum=0.0),
        Column("source", "str", "-", "Where the numbers come from.", default=""),
    ),
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        SUBUNITS, LAND_CLASSES, LAND_COVER, POINT_SOURCES, SPECIES, SPECIES_HABITAT,
        CONTROL_POINTS, BARRIERS, ACTIONS, TOWNSHIPS, AGENCIES, BARRIER_OPTIONS, FISH_HABITAT,
        UNCERTAINTY, UNCERTAINTY_SCENARIOS, ACTION_LIVELIHOODS,
    )
}
"""Every table of a study, by name, in reading order."""
