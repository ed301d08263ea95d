"""Tables of species and river connectivity: species, their habitat, barriers, barrier options
and fish habitat."""

from __future__ import annotations

from dss.data.schema.columns import Column, Table, share

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
        share("quality", "Habitat quality (1 = best).", default=1.0),
        Column("individuals", "float", "animals", "Estimated individuals (survey).",
               default=0.0, minimum=0.0),
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
        share("passability", "Share of fish that pass (1 = no barrier).", default=0.0),
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
        share("quality", "Habitat quality weight (0-1).", default=1.0),
    ),
)
