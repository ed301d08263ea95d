"""Tables of who acts and what they can do: actions, townships, agencies and their mandates,
and the livelihood effects of actions."""

from __future__ import annotations

from dss.data.schema.columns import POLLUTANTS, Column, Table, share

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
        share("sediment_removal", "Extra share of the treated unit's delivered sediment "
               "removed (beyond any cover change)."),
        share("tn_removal", "Share of the treated unit's TN load removed."),
        share("tp_removal", "Share of the treated unit's TP load removed."),
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
