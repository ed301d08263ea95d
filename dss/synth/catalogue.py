"""What the synthetic studies are made of: land classes, species, the action catalogue,
agencies, the rates of point features and the named random streams (:mod:`dss.synth`)."""

from __future__ import annotations

from typing import Any

import numpy as np

FLOAT_FORMAT = "%.12g"
"""Format of float cells; values are rounded before writing, so this never adds digits."""

TOWNSHIP_SIZE = 50
"""Mean number of subunits per township."""

PARK_FRACTION = 0.35
"""Share of the subunits lying (partly) inside the national park."""

RESERVOIR_RATE = 0.01
BARRIER_RATE = 0.05
MONITORING_RATE = 0.001
TOURIST_RATE = 0.01

_TREE_OFFSET_SCALE = 0.5
"""Parent of node ``i`` is about ``i - 1 - Exp(1) * 0.5 * sqrt(i)``: depth grows ~ sqrt(n)."""

_NUM_TRIBUTARY_NAMES = 9
"""Largest tributaries of the main stem that get their own ``branch`` name."""

# Land classes: usle_c, usle_p, tn_export kg/(ha yr), tp_export kg/(ha yr), mass_yield t/(ha yr),
# carbon_stock t C/ha, is_forest; then land-cover generation parameters: probability weight of
# being present in a subunit and Dirichlet concentration of its share.
LAND_CLASS_ROWS: tuple[dict[str, Any], ...] = (
    dict(land_class="forest", name="Forest", name_zh="有林地", usle_c=0.003, usle_p=1.0,
         tn_export=2.0, tp_export=0.10, mass_yield=0.0, carbon_stock=150.0, is_forest=True),
    dict(land_class="shrub", name="Shrubland", name_zh="灌木林地", usle_c=0.02, usle_p=1.0,
         tn_export=2.5, tp_export=0.15, mass_yield=0.0, carbon_stock=40.0, is_forest=False),
    dict(land_class="grassland", name="Grassland", name_zh="草地", usle_c=0.04, usle_p=1.0,
         tn_export=3.0, tp_export=0.20, mass_yield=0.0, carbon_stock=30.0, is_forest=False),
    dict(land_class="cropland", name="Sloping cropland", name_zh="坡耕地", usle_c=0.1,
         usle_p=0.8, tn_export=15.0, tp_export=1.2, mass_yield=0.0, carbon_stock=40.0,
         is_forest=False, agricultural=True),
    dict(land_class="orchard", name="Orchard and tea garden", name_zh="园地", usle_c=0.06,
         usle_p=0.9, tn_export=20.0, tp_export=1.5, mass_yield=0.0, carbon_stock=50.0,
         is_forest=False, agricultural=True),
    dict(land_class="landslide_scar", name="Landslide scar", name_zh="滑坡迹地", usle_c=1.0,
         usle_p=1.0, tn_export=3.0, tp_export=0.5, mass_yield=80.0, carbon_stock=5.0,
         is_forest=False),
    dict(land_class="built", name="Built-up land", name_zh="建设用地", usle_c=0.01, usle_p=1.0,
         tn_export=10.0, tp_export=1.0, mass_yield=0.0, carbon_stock=10.0, is_forest=False),
    dict(land_class="water", name="Water", name_zh="水域", usle_c=0.0, usle_p=1.0,
         tn_export=5.0, tp_export=0.2, mass_yield=0.0, carbon_stock=0.0, is_forest=False),
)

_CLASS_PRESENCE = np.array([6.0, 2.0, 1.5, 1.5, 0.5, 0.4, 0.8, 0.6])
"""Relative weight of each land class being one of a subunit's 3-6 classes."""

_CLASS_ALPHA = np.array([4.0, 1.5, 1.0, 1.0, 0.6, 0.25, 0.3, 0.3])
"""Dirichlet concentration of each present class's share."""

_NATURAL = ("forest", "shrub", "grassland")
"""Classes that can hold species habitat."""

SPECIES_ROWS: tuple[dict[str, Any], ...] = (
    dict(species="giant_panda", name="Giant panda", name_zh="大熊猫",
         scientific_name="Ailuropoda melanoleuca", status="national class I"),
    dict(species="golden_monkey", name="Golden snub-nosed monkey", name_zh="川金丝猴",
         scientific_name="Rhinopithecus roxellana", status="national class I"),
    dict(species="takin", name="Takin", name_zh="羚牛", scientific_name="Budorcas taxicolor",
         status="national class I"),
    dict(species="musk_deer", name="Forest musk deer", name_zh="林麝",
         scientific_name="Moschus berezovskii", status="national class I"),
    dict(species="red_panda", name="Red panda", name_zh="小熊猫",
         scientific_name="Ailurus fulgens", status="national class II"),
    dict(species="tufted_deer", name="Tufted deer", name_zh="毛冠鹿",
         scientific_name="Elaphodus cephalophus", status="national class II"),
)

_SPECIES_PRESENCE = np.array([0.25, 0.3, 0.2, 0.35, 0.3, 0.4])
"""Chance that a species occurs in a subunit lying fully inside the park."""

_SPECIES_DENSITY = np.array([0.002, 0.05, 0.01, 0.02, 0.01, 0.03])
"""Individuals per hectare of best-quality habitat."""

SPECIES_TOKEN = "$species0"
"""Placeholder in :data:`ACTION_TEMPLATES` for the first generated species."""

_ACTION_DEFAULTS: dict[str, Any] = dict(
    name_zh="", leads_to=None, usle_c_after=np.nan, capital_cost=0.0, annual_cost=0.0,
    fixed_cost=0.0, integer=False, sediment_removal=0.0, tn_removal=0.0, tp_removal=0.0,
    sediment_trap=0.0, habitat_species=None, habitat_gain=0.0, reconnected_km=0.0,
    maturity_years=0.0,
)

ACTION_TEMPLATES: tuple[dict[str, Any], ...] = (
    dict(action_id="reforest_cropland", name="Convert sloping cropland to forest",
         name_zh="退耕还林", applies_to="cropland", unit="ha", leads_to="forest",
         capital_cost=15000.0, annual_cost=300.0, agency="forestry"),
    dict(action_id="scar_revegetation", name="Stabilise and revegetate landslide scars",
         name_zh="滑坡迹地生态修复", applies_to="landslide_scar", unit="ha", leads_to="shrub",
         capital_cost=60000.0, annual_cost=500.0, agency="natural_resources"),
    dict(action_id="hillside_closure", name="Close hillsides to grow shrubland into forest",
         name_zh="封山育林", applies_to="shrub", unit="ha", leads_to="forest", usle_c_after=0.01,
         capital_cost=1500.0, annual_cost=100.0, agency="forestry"),
    dict(action_id="forest_patrol", name="Anti-poaching and fire patrols in forest",
         name_zh="森林巡护", applies_to="forest", unit="ha", annual_cost=30.0,
         habitat_species=SPECIES_TOKEN, habitat_gain=0.2, agency="forestry"),
    dict(action_id="village_sewage", name="Village sewage treatment station",
         name_zh="农村生活污水处理", applies_to="point_sources", unit="PE", capital_cost=3000.0,
         annual_cost=150.0, fixed_cost=500000.0, tn_removal=0.6, tp_removal=0.8,
         agency="environment"),
    dict(action_id="check_dam", name="Check dam at a geohazard site", name_zh="拦沙坝",
         applies_to="hazard_sites", unit="dam", integer=True, capital_cost=400000.0,
         annual_cost=5000.0, sediment_trap=500.0, agency="water"),
    dict(action_id="riparian_buffer", name="Riparian vegetation buffer", name_zh="河岸缓冲带",
         applies_to="stream", unit="km", capital_cost=80000.0, annual_cost=2000.0,
         sediment_removal=0.2, tn_removal=0.2, tp_removal=0.3, agency="environment"),
    dict(action_id="eflow_retrofit", name="Ecological-flow retrofit of a hydropower station",
         name_zh="小水电生态流量改造", applies_to="barriers", unit="station", integer=True,
         capital_cost=2000000.0, annual_cost=50000.0, reconnected_km=3.0, agency="water"),
    dict(action_id="cropland_to_grass", name="Convert sloping cropland to grassland",
         name_zh="退耕还草", applies_to="cropland", unit="ha", leads_to="grassland",
         capital_cost=6000.0, annual_cost=200.0, agency="natural_resources"),
    dict(action_id="orchard_cover_crop", name="Cover crops and contour hedges in orchards",
         name_zh="园地生草覆盖", applies_to="orchard", unit="ha", usle_c_after=0.03,
         capital_cost=3000.0, annual_cost=400.0, tn_removal=0.15, tp_removal=0.2,
         agency="natural_resources"),
    dict(action_id="hydropower_exit", name="Decommission a small hydropower station",
         name_zh="小水电退出", applies_to="barriers", unit="station", integer=True,
         capital_cost=5000000.0, reconnected_km=8.0, agency="water"),
)
"""Action catalogue, in the order actions are taken; cycled with suffixed ids beyond its end."""

_STREAMS = (
    "tree", "area", "township", "park", "soil", "hydrology", "land_cover", "population",
    "point_sources", "species", "habitat", "control_points", "barriers",
)
"""Named child random streams, one per generated aspect (append only: order is part of the
reproducibility contract)."""
