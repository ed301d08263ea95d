"""Tables of the basin itself: subunits, land classes and cover, point sources and the
control points where loads are measured."""

from __future__ import annotations

from dss.data.schema.columns import Column, Table, share

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
        share("share_core", "Share of the area in the national park core protection zone."),
        share("share_general", "Share of the area in the national park general control zone."),
        share("share_outside", "Share of the area outside the national park.", default=1.0),
        Column("population", "float", "persons", "Resident population.", default=0.0,
               minimum=0.0),
        Column("usle_r", "float", "MJ mm/(ha h yr)", "USLE rainfall erosivity R.",
               required=True, minimum=0.0),
        Column("usle_k", "float", "t ha h/(ha MJ mm)", "USLE soil erodibility K.",
               required=True, minimum=0.0),
        Column("usle_ls", "float", "-", "USLE slope length-steepness factor LS.",
               required=True, minimum=0.0),
        share("sdr", "Hillslope sediment delivery ratio: share of eroded soil reaching the "
               "stream.", default=None, required=True),
        share("retention_sediment", "Share of sediment entering this subunit's reach "
               "(local plus upstream) retained in it (a reservoir traps most)."),
        share("retention_tn", "Share of TN entering the reach retained in it."),
        share("retention_tp", "Share of TP entering the reach retained in it."),
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
        share("treated_share", "Share of the PE already connected to treatment."),
        share("removal_tn", "TN removal efficiency of the existing treatment.", default=0.5),
        share("removal_tp", "TP removal efficiency of the existing treatment.", default=0.5),
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
