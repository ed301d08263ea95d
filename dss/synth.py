"""Synthetic river-basin studies of any size, for tests, demonstrations and benchmarks.

:func:`generate_study` builds one frame per table of :data:`dss.data.schema.TABLES`, and
:func:`write_study` writes them as a study folder (one CSV per table plus ``model.yaml``). The
data are invented but plausible for a mountain basin in south-west China: a random dendritic
drainage tree, lognormal subunit areas, USLE factors, land cover, villages, reservoirs, small
hydropower stations, protected species and a catalogue of restoration actions.

Generation is fully vectorised (no Python loop over subunits) and deterministic: the same
arguments always give byte-identical files. Every random quantity is drawn from its own child
stream of ``numpy.random.default_rng(seed)``, so adding a new attribute later does not change
the existing ones. Areas are generated in integer hundredths of a hectare, so a subunit's land
cover sums to its ``area_ha`` exactly as written.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from dss.data.schema import TABLES, Table
from dss.errors import DssError

logger = logging.getLogger(__name__)

__all__ = [
    "ACTION_TEMPLATES",
    "LAND_CLASS_ROWS",
    "SPECIES_ROWS",
    "StudyExistsError",
    "SynthError",
    "generate_study",
    "synthetic_model_config",
    "write_study",
]

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


class SynthError(DssError):
    """Invalid arguments for the synthetic study generator."""

    exit_code = 2


class StudyExistsError(SynthError, FileExistsError):
    """The output folder already holds a study and overwriting was not requested."""


# ---------------------------------------------------------------------------------------------
# Drainage tree
# ---------------------------------------------------------------------------------------------


def _random_tree(rng: np.random.Generator, n: int) -> np.ndarray:
    """Parent index of each node (-1 at the outlet, node 0); parents have smaller indices.

    Node ``i`` drains into ``i - 1 - floor(E * c * sqrt(i))`` with ``E ~ Exp(1)``: short hops
    make long chains, the occasional long hop makes a tributary join further down. The depth of
    the tree grows about like ``sqrt(n)`` (Hack's law gives main-stem length ~ area**0.57).
    """
    idx = np.arange(n, dtype=np.int64)
    hop = np.floor(rng.exponential(1.0, n) * _TREE_OFFSET_SCALE * np.sqrt(idx)).astype(np.int64)
    parent = np.maximum(idx - 1 - hop, 0)
    parent[0] = -1
    return parent


def _path_reduce(parent: np.ndarray, values: np.ndarray, op: np.ufunc) -> np.ndarray:
    """Reduce ``values`` with ``op`` over each node and all its ancestors (pointer jumping)."""
    acc = values.copy()
    up = parent.copy()
    while True:
        live = up >= 0
        if not live.any():
            return acc
        safe = np.where(live, up, 0)
        acc = np.where(live, op(acc, acc[safe]), acc)
        up = np.where(live, up[safe], -1)


def _subtree_sizes(parent: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """Number of nodes in each node's subtree (itself included), accumulated level by level."""
    n = len(parent)
    size = np.ones(n, dtype=np.int64)
    order = np.argsort(depth, kind="stable")
    bounds = np.concatenate(([0], np.cumsum(np.bincount(depth))))
    for level in range(len(bounds) - 2, 0, -1):  # deepest level first; a loop over levels
        nodes = order[bounds[level]:bounds[level + 1]]
        np.add.at(size, parent[nodes], size[nodes])
    return size


def _preorder(parent: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Depth-first (pre-order) position of each node; children visited by increasing index."""
    n = len(parent)
    child = np.arange(1, n)
    by_parent = child[np.argsort(parent[child], kind="stable")]
    sizes = size[by_parent]
    before = np.cumsum(sizes) - sizes
    first = np.ones(len(by_parent), dtype=bool)
    first[1:] = parent[by_parent[1:]] != parent[by_parent[:-1]]
    group_start = np.maximum.accumulate(np.where(first, np.arange(len(by_parent)), 0))
    step = np.zeros(n, dtype=np.int64)
    step[by_parent] = 1 + before - before[group_start]
    return _path_reduce(parent, step, np.add)


def _branches(parent: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Branch label of each node: the main stem, one of the largest tributaries, or minor.

    The main stem follows the child with the largest subtree upstream from the outlet.
    """
    n = len(parent)
    child = np.arange(1, n)
    # Children sorted by parent, then largest subtree first, then index: first of each group
    # is its parent's main child.
    order = np.lexsort((child, -size[child], parent[child]))
    ranked = child[order]
    first = np.ones(len(ranked), dtype=bool)
    first[1:] = parent[ranked[1:]] != parent[ranked[:-1]]
    on_main = np.zeros(n, dtype=np.int64)
    on_main[0] = 1
    on_main[ranked[first]] = 1
    main = _path_reduce(parent, on_main, np.minimum).astype(bool)
    # Mouth of each tributary: the first node (going downstream) whose parent is on the stem.
    safe_parent = np.maximum(parent, 0)
    is_mouth = ~main & main[safe_parent]
    jump = np.where(main | is_mouth, np.arange(n), safe_parent)
    while True:
        nxt = jump[jump]
        if np.array_equal(nxt, jump):
            break
        jump = nxt
    labels = np.full(n, "Minor tributaries", dtype=object)
    labels[main] = "Main stem"
    mouths = np.flatnonzero(is_mouth)
    big = mouths[np.lexsort((mouths, -size[mouths]))][:_NUM_TRIBUTARY_NAMES]
    names = np.full(n, "", dtype=object)
    names[big] = [f"Tributary {k + 1}" for k in range(len(big))]
    named = ~main & (names[jump] != "")
    labels[named] = names[jump[named]]
    return labels


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def _ids(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded ids such as ``S000123`` (vectorised)."""
    if len(numbers) == 0:
        return np.zeros(0, dtype=object)
    digits = np.char.zfill(np.asarray(numbers, dtype=np.int64).astype(str), width)
    return np.char.add(prefix, digits).astype(object)


def _labels(prefix: str, numbers: np.ndarray) -> np.ndarray:
    """Display names such as ``Reservoir 3`` (vectorised)."""
    if len(numbers) == 0:
        return np.zeros(0, dtype=object)
    return np.char.add(prefix, np.asarray(numbers, dtype=np.int64).astype(str)).astype(object)


def _pick(rng: np.random.Generator, candidates: np.ndarray, count: int) -> np.ndarray:
    """``count`` distinct candidates (sorted), or none if there are none."""
    count = min(count, len(candidates))
    if count <= 0:
        return np.zeros(0, dtype=np.int64)
    return np.sort(rng.choice(candidates, count, replace=False))


def _rate_count(n: int, rate: float) -> int:
    """About ``rate * n`` items, at least one when there is more than one subunit."""
    return max(1, round(rate * n)) if n > 1 else 0


def _thousandths(weights: np.ndarray) -> np.ndarray:
    """Rows of positive weights as integer thousandths that sum to exactly 1000.

    Rounds the cumulative shares, so every share is within 0.001 of its exact value and none
    is negative.
    """
    cum = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
    edges = np.rint(cum * 1000).astype(np.int64)
    edges[:, -1] = 1000
    return np.diff(edges, axis=1, prepend=0)


def _frame(table: Table, columns: dict[str, Any]) -> pd.DataFrame:
    """A frame with exactly the declared columns of ``table``, in order and in declared types."""
    missing = [c.name for c in table.columns if c.name not in columns]
    extra = [name for name in columns if name not in table.names]
    if missing or extra:  # a bug in this module, not a user error
        raise AssertionError(f"{table.name}: missing {missing}, unexpected {extra}")
    df = pd.DataFrame({c.name: columns[c.name] for c in table.columns})
    for col in table.columns:
        if col.dtype == "float":
            df[col.name] = df[col.name].astype(np.float64)
        elif col.dtype == "int":
            df[col.name] = df[col.name].astype(np.int64)
        elif col.dtype == "bool":
            df[col.name] = df[col.name].astype(bool)
        else:
            df[col.name] = df[col.name].astype(object)
    return df


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------


def _land_classes() -> pd.DataFrame:
    """The fixed land-class table."""
    cols = {name: [row.get(name, TABLES["land_classes"].column(name).default)
                   for row in LAND_CLASS_ROWS] for name in TABLES["land_classes"].names}
    return _frame(TABLES["land_classes"], cols)


def _land_cover(rng: np.random.Generator, area_raw: np.ndarray, core: np.ndarray
                ) -> np.ndarray:
    """Area of each land class per subunit in integer hundredths of a hectare (n x classes).

    Each subunit holds 3 to 6 classes (weighted draw without replacement via Gumbel top-k),
    with Dirichlet shares; forest is favoured and cropland disfavoured in the park core.
    """
    n, k = len(area_raw), len(LAND_CLASS_ROWS)
    names = [row["land_class"] for row in LAND_CLASS_ROWS]
    count = rng.integers(3, 7, n)
    keys = np.log(_CLASS_PRESENCE)[None, :] + rng.gumbel(size=(n, k))
    rank = np.empty((n, k), dtype=np.int64)
    np.put_along_axis(rank, np.argsort(-keys, axis=1), np.arange(k)[None, :], axis=1)
    present = rank < count[:, None]
    alpha = np.broadcast_to(_CLASS_ALPHA, (n, k)).copy()
    alpha[:, names.index("forest")] *= 1.0 + 2.0 * core
    for cls in ("cropland", "orchard", "built"):
        alpha[:, names.index(cls)] *= 1.0 - 0.8 * core
    weight = rng.gamma(alpha) * present
    # Guard against all-zero rows from underflow of tiny gamma draws.
    weight = np.where(present, np.maximum(weight, 1e-9), 0.0)
    share = weight / weight.sum(axis=1, keepdims=True)
    cents = np.rint(share * area_raw[:, None] * 100.0).astype(np.int64)
    return np.where(present, np.maximum(cents, 1), 0)


def _subunits(rngs: dict[str, np.random.Generator], n: int) -> tuple[pd.DataFrame, dict]:
    """The subunits frame plus intermediate arrays the other tables are built from."""
    width = len(str(n))
    parent = _random_tree(rngs["tree"], n)
    idx = np.arange(n, dtype=np.int64)
    depth = _path_reduce(parent, (idx > 0).astype(np.int64), np.add)
    size = _subtree_sizes(parent, depth)
    pre = _preorder(parent, size)
    branch = _branches(parent, size)
    ids = _ids("S", idx + 1, width)
    downstream = np.where(parent >= 0, ids[np.maximum(parent, 0)], None)

    # Townships: about TOWNSHIP_SIZE subunits each, contiguous in depth-first order (so each is
    # a few neighbouring sub-basins), with jittered block boundaries.
    n_town = max(1, round(n / TOWNSHIP_SIZE))
    rng = rngs["township"]
    cuts = np.unique(np.rint((np.arange(1, n_town) + rng.uniform(-0.35, 0.35, n_town - 1))
                             * n / n_town).astype(np.int64))
    town_of_pos = np.searchsorted(cuts, np.arange(n), side="right")
    town_idx = town_of_pos[pre]
    townships = _ids("T", np.arange(1, n_town + 1), max(4, len(str(n_town))))[town_idx]

    # National park: a contiguous stretch of the depth-first order, core in its middle.
    rng = rngs["park"]
    n_park = round(PARK_FRACTION * n)
    start = int(rng.integers(0, n - n_park + 1))
    in_park = (pre >= start) & (pre < start + n_park)
    rel = (pre - start + 0.5) / max(n_park, 1)
    centre = np.where(in_park, 1.0 - np.abs(2.0 * rel - 1.0), 0.0)
    zone_w = rng.gamma(np.stack([0.1 + 3.0 * centre, np.ones(n), 0.1 + 2.0 * (1 - centre)], 1))
    zone_w = np.maximum(zone_w, 1e-12)
    milli = np.where(in_park[:, None], _thousandths(zone_w), np.array([0, 0, 1000]))
    core = milli[:, 0] / 1000.0
    park = (milli[:, 0] + milli[:, 1]) / 1000.0

    # Area and land cover (area is the exact sum of the rounded class areas).
    area_raw = rngs["area"].lognormal(np.log(1000.0), 0.6, n)
    cover = _land_cover(rngs["land_cover"], area_raw, core)
    area_cents = cover.sum(axis=1)
    area = area_cents / 100.0
    class_names = [row["land_class"] for row in LAND_CLASS_ROWS]

    # Soil and terrain: R varies by township, LS is steeper in the (mountain) park.
    rng = rngs["soil"]
    r_town = rng.uniform(2500.0, 5500.0, n_town)
    usle_r = np.rint(np.clip(r_town[town_idx] + rng.normal(0.0, 150.0, n), 2000.0, 6000.0))
    usle_k = np.round(rng.uniform(0.02, 0.04, n), 4)
    usle_ls = np.round(np.clip(rng.lognormal(np.log(6.0), 0.45, n) + 4.0 * park, 2.0, 20.0), 2)
    sdr = np.round(np.clip(0.4 * (area / 100.0) ** -0.2 * rng.uniform(0.7, 1.3, n),
                           0.05, 0.4), 3)

    # Hydrology: reach retention (reservoirs trap most sediment), channel length, hazards.
    rng = rngs["hydrology"]
    reservoirs = _pick(rng, idx[1:], _rate_count(n, RESERVOIR_RATE))
    ret_sed = rng.uniform(0.0, 0.05, n)
    ret_sed[reservoirs] = rng.uniform(0.5, 0.9, len(reservoirs))
    ret_tn = rng.uniform(0.0, 0.1, n)
    ret_tp = rng.uniform(0.0, 0.1, n)
    stream_km = np.round(area / 100.0 * rng.uniform(0.5, 1.0, n), 2)
    scar_ha = cover[:, class_names.index("landslide_scar")] / 100.0
    hazard = rng.poisson(area / 1000.0 * (0.1 + 0.03 * usle_ls) + scar_ha / 25.0)

    # Population: villages in about 45 % of the subunits, fewer in the park core, a few towns.
    rng = rngs["population"]
    village = rng.random(n) < 0.45 * (1.0 - core)
    people = np.maximum(np.rint(rng.lognormal(np.log(250.0), 0.9, n)), 5.0)
    people = np.where(rng.random(n) < 0.02, people * 10.0, people)
    population = np.where(village, people, 0.0)

    frame = _frame(TABLES["subunits"], {
        "subunit_id": ids,
        "name": _labels("Subunit ", idx + 1),
        "name_zh": _labels("子流域", idx + 1),
        "downstream_id": downstream,
        "area_ha": area,
        "township": townships,
        "branch": branch,
        "share_core": milli[:, 0] / 1000.0,
        "share_general": milli[:, 1] / 1000.0,
        "share_outside": milli[:, 2] / 1000.0,
        "population": population,
        "usle_r": usle_r,
        "usle_k": usle_k,
        "usle_ls": usle_ls,
        "sdr": sdr,
        "retention_sediment": np.round(ret_sed, 3),
        "retention_tn": np.round(ret_tn, 3),
        "retention_tp": np.round(ret_tp, 3),
        "stream_km": stream_km,
        "hazard_sites": hazard,
    })
    extra = dict(ids=ids, cover=cover, park=park, core=core, reservoirs=reservoirs,
                 depth=depth, stream_km=stream_km, population=population)
    return frame, extra


def _land_cover_frame(ids: np.ndarray, cover: np.ndarray) -> pd.DataFrame:
    """Long land-cover table from the (subunit x class) matrix of hundredths of a hectare."""
    rows, cls = np.nonzero(cover)
    names = np.array([row["land_class"] for row in LAND_CLASS_ROWS], dtype=object)
    return _frame(TABLES["land_cover"], {
        "subunit_id": ids[rows], "land_class": names[cls], "area_ha": cover[rows, cls] / 100.0,
    })


def _point_sources(rng: np.random.Generator, ids: np.ndarray, population: np.ndarray,
                   park: np.ndarray) -> pd.DataFrame:
    """One resident source per inhabited subunit, plus tourist sources in the park."""
    resident = np.flatnonzero(population > 0)
    tourist = _pick(rng, np.flatnonzero(park > 0), _rate_count(len(ids), TOURIST_RATE))
    where = np.concatenate([resident, tourist])
    m, n_res = len(where), len(resident)
    pe = np.concatenate([population[resident],
                         np.maximum(np.rint(rng.lognormal(np.log(200.0), 0.8, len(tourist))),
                                    10.0)])
    big = pe >= 2000
    treated = np.where(big, rng.uniform(0.6, 0.95, m), rng.uniform(0.0, 0.6, m))
    kind = np.where(np.arange(m) < n_res, "resident", "tourist").astype(object)
    return _frame(TABLES["point_sources"], {
        "source_id": _ids("PS", np.arange(1, m + 1), max(4, len(str(m)))),
        "subunit_id": ids[where],
        "kind": kind,
        "person_equivalents": pe,
        "tn_per_pe": np.round(rng.uniform(3.5, 4.5, m), 2),
        "tp_per_pe": np.round(rng.uniform(0.5, 0.7, m), 2),
        "treated_share": np.round(treated, 3),
        "removal_tn": np.round(rng.uniform(0.3, 0.6, m), 3),
        "removal_tp": np.round(rng.uniform(0.4, 0.8, m), 3),
    })


def _species_rows(rng: np.random.Generator) -> np.ndarray:
    """Indices into :data:`SPECIES_ROWS` of the 3-5 species of this study, in table order."""
    count = int(rng.integers(3, 6))
    return np.sort(rng.choice(len(SPECIES_ROWS), count, replace=False))


def _species(chosen: np.ndarray) -> pd.DataFrame:
    """The species table of the chosen :data:`SPECIES_ROWS`."""
    table = TABLES["species"]
    return _frame(table, {c: [SPECIES_ROWS[i][c] for i in chosen] for c in table.names})


def _species_habitat(rng: np.random.Generator, chosen: np.ndarray, ids: np.ndarray,
                     cover: np.ndarray, park: np.ndarray) -> pd.DataFrame:
    """Sparse habitat: each species in a random subset of subunits, mostly in the park.

    Habitat never exceeds the subunit's forest + shrub + grassland area as written.
    """
    names = [row["land_class"] for row in LAND_CLASS_ROWS]
    natural = cover[:, [names.index(c) for c in _NATURAL]].sum(axis=1)
    parts: list[pd.DataFrame] = []
    for sp in chosen:  # a loop over the few species
        p = _SPECIES_PRESENCE[sp] * (0.1 + 0.9 * park)
        draw = rng.random(len(ids))
        frac = rng.uniform(0.1, 1.0, len(ids))
        quality = np.round(rng.uniform(0.3, 1.0, len(ids)), 3)
        noise = rng.lognormal(0.0, 0.5, len(ids))
        cents = np.floor(natural * frac).astype(np.int64)
        rows = np.flatnonzero((draw < p) & (cents >= 1))
        habitat = cents[rows] / 100.0
        individuals = np.round(habitat * _SPECIES_DENSITY[sp] * quality[rows] * noise[rows], 1)
        parts.append(pd.DataFrame({
            "species": np.full(len(rows), SPECIES_ROWS[sp]["species"], dtype=object),
            "subunit_id": ids[rows], "habitat_ha": habitat, "quality": quality[rows],
            "individuals": individuals,
        }))
    merged = pd.concat(parts, ignore_index=True)
    return _frame(TABLES["species_habitat"], {c: merged[c].to_numpy() for c in merged.columns})


def _control_points(rng: np.random.Generator, ids: np.ndarray, reservoirs: np.ndarray
                    ) -> pd.DataFrame:
    """The outlet, one point per reservoir and a few monitoring sections; no limits set."""
    n = len(ids)
    monitoring = _pick(rng, np.arange(1, n), _rate_count(n, MONITORING_RATE))
    n_r, n_m = len(reservoirs), len(monitoring)
    r_num, m_num = np.arange(1, n_r + 1), np.arange(1, n_m + 1)
    where = np.concatenate([[0], reservoirs, monitoring]).astype(np.int64)
    m = len(where)
    kind = np.array(["outlet"] + ["reservoir"] * n_r + ["monitoring"] * n_m, dtype=object)
    return _frame(TABLES["control_points"], {
        "point_id": np.concatenate([["outlet"], _ids("RES", r_num, max(3, len(str(n_r)))),
                                    _ids("MON", m_num, max(3, len(str(n_m))))]),
        "name": np.concatenate([["Basin outlet"], _labels("Reservoir ", r_num),
                                _labels("Monitoring section ", m_num)]),
        "name_zh": np.concatenate([["流域出口"], _labels("水库", r_num),
                                   _labels("监测断面", m_num)]),
        "subunit_id": ids[where],
        "kind": kind,
        "measures": np.where(kind == "reservoir", "inflow", "outflow").astype(object),
        "cares_sediment": kind != "monitoring",
        "cares_tn": np.ones(m, dtype=bool),
        "cares_tp": np.ones(m, dtype=bool),
        "limit_sediment": np.full(m, np.nan),
        "limit_tn": np.full(m, np.nan),
        "limit_tp": np.full(m, np.nan),
        "weight": np.where(kind == "reservoir", 2.0, 1.0),
    })


def _barriers(rng: np.random.Generator, ids: np.ndarray, stream_km: np.ndarray
              ) -> pd.DataFrame:
    """Small hydropower stations in about 5 % of the subunits; a quarter already exited."""
    n = len(ids)
    where = _pick(rng, np.arange(n), _rate_count(n, BARRIER_RATE))
    m = len(where)
    kinds = np.array(["diversion", "dam", "weir"], dtype=object)
    kind_idx = rng.choice(3, m, p=[0.7, 0.15, 0.15])
    exited = rng.random(m) < 0.25
    pass_lo = np.array([0.0, 0.0, 0.2])[kind_idx]
    pass_hi = np.array([0.3, 0.1, 0.6])[kind_idx]
    passability = np.where(exited, rng.uniform(0.5, 1.0, m), rng.uniform(pass_lo, pass_hi))
    dewatered = np.where(kind_idx == 0,
                         np.minimum(rng.uniform(0.5, 8.0, m), stream_km[where]), 0.0)
    num = np.arange(1, m + 1)
    return _frame(TABLES["barriers"], {
        "barrier_id": _ids("HP", num, max(4, len(str(m)))),
        "name": _labels("Hydropower station ", num),
        "subunit_id": ids[where],
        "kind": kinds[kind_idx],
        "capacity_mw": np.round(rng.lognormal(np.log(2.0), 0.8, m), 2),
        "passability": np.round(passability, 3),
        "dewatered_km": np.round(dewatered, 2),
        "status": np.where(exited, "exited", "active").astype(object),
        "downstream_barrier_id": np.full(m, np.nan, dtype=object),  # derived from the tree
        "passability_down": np.full(m, np.nan),  # same as passability
    })


def _barrier_options(barriers: pd.DataFrame) -> pd.DataFrame:
    """Removal at every barrier (the lost generation of 4,000 h a year at 250 CNY/MWh for an
    active station) and a fishway (passability 0.7) at every active one; no random draws."""
    active = (barriers["status"] == "active").to_numpy()
    ids = barriers["barrier_id"].to_numpy(dtype=object)
    mw = barriers["capacity_mw"].to_numpy(float)
    rows = {c: [] for c in TABLES["barrier_options"].names}

    def add(mask: np.ndarray, kind: str, zh: str, passability: float, capital: float,
            lost: np.ndarray) -> None:
        n = int(mask.sum())
        for name, values in (("option_id", ids[mask] + f"-{kind}"), ("barrier_id", ids[mask]),
                             ("kind", [kind] * n), ("name", [f"{kind} {b}" for b in ids[mask]]),
                             ("name_zh", [zh.format(b) for b in ids[mask]]),
                             ("passability", [passability] * n),
                             ("passability_down", [np.nan] * n), ("restored_km", [np.nan] * n),
                             ("capital_cost", [capital] * n), ("annual_cost", [0.0] * n),
                             ("lost_mwh", lost[mask]), ("tariff", [250.0] * n),
                             ("agency", ["water"] * n)):
            rows[name].extend(list(values))

    add(np.ones(len(ids), bool), "remove", "拆除{}", 1.0, 1.0e6,
        np.where(active, mw * 4000.0, 0.0))
    add(active, "fishway", "{}鱼道", 0.7, 2.0e6, mw * 80.0)
    frame = _frame(TABLES["barrier_options"], rows)
    return frame.sort_values("option_id", kind="stable").reset_index(drop=True)


def _fish_habitat(ids: np.ndarray, stream_km: np.ndarray, species: str) -> pd.DataFrame:
    """River habitat of the first species: a tenth of each subunit's stream length (the
    main channel), quality 1; no random draws."""
    n = len(ids)
    return _frame(TABLES["fish_habitat"], {
        "species": np.full(n, species, dtype=object), "subunit_id": ids,
        "barrier_id": np.full(n, np.nan, dtype=object),
        "habitat": np.round(0.1 * stream_km, 3), "unit": np.full(n, "km", dtype=object),
        "quality": np.ones(n)})


def _uncertainty(actions: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Uncertain numbers of a synthetic study (the same for every size and seed): one basin
    rainfall factor, delivery ratios, landslide and cropland yields, the first action's
    cost (each line its own group but rainfall and the cropland yields); and three named
    rainfall years."""
    first = str(actions["action_id"].iat[0])
    lines = [("subunits", "*", "usle_r", "triangular", 0.7, 1.0, 1.4, "rainfall"),
             ("subunits", "*", "sdr", "triangular", 0.75, 1.0, 1.25, "delivery"),
             ("land_classes", "landslide_scar", "mass_yield", "triangular", 0.4, 1.0, 2.0,
              "landslides"),
             ("land_classes", "cropland", "tn_export", "triangular", 0.7, 1.0, 1.3, "farm"),
             ("land_classes", "cropland", "tp_export", "triangular", 0.7, 1.0, 1.3, "farm"),
             ("actions", first, "capital_cost", "uniform", 0.9, np.nan, 1.3, "cost")]
    spec = _frame(TABLES["uncertainty"], {
        "table": [r[0] for r in lines], "row": [r[1] for r in lines],
        "column": [r[2] for r in lines], "distribution": [r[3] for r in lines],
        "apply": ["scale"] * len(lines), "low": [r[4] for r in lines],
        "mode": [r[5] for r in lines], "high": [r[6] for r in lines],
        "sd": [np.nan] * len(lines), "group": [r[7] for r in lines],
        "source": ["synthetic"] * len(lines)})
    years = [("typical", 0.6, 1.0), ("wet", 0.25, 1.35), ("dry", 0.15, 0.7)]
    scenarios = _frame(TABLES["uncertainty_scenarios"], {
        "scenario": [y[0] for y in years], "probability": [y[1] for y in years],
        "table": ["subunits"] * 3, "row": ["*"] * 3, "column": ["usle_r"] * 3,
        "apply": ["scale"] * 3, "value": [y[2] for y in years],
        "description": ["synthetic rainfall year"] * 3})
    return {"uncertainty": spec, "uncertainty_scenarios": scenarios}


def _action_livelihoods(actions: pd.DataFrame) -> pd.DataFrame:
    """Livelihood figures of the synthetic actions: cropland conversion loses 8,250 CNY/ha/yr
    of crops and is compensated 3,600 CNY/ha/yr for 5 years (as Grain for Green); every
    action's annual cost is paid as local wages, a quarter of its capital cost as local works
    (one job-year per 30,000 CNY)."""
    n = len(actions)
    cropland = (actions["applies_to"] == "cropland").to_numpy()
    annual = actions["annual_cost"].to_numpy(float)
    works = 0.25 * actions["capital_cost"].to_numpy(float)
    return _frame(TABLES["action_livelihoods"], {
        "action_id": actions["action_id"].to_numpy(),
        "income_lost": np.where(cropland, 8250.0, 0.0), "income_lost_core": np.zeros(n),
        "compensation": np.where(cropland, 3600.0, 0.0),
        "compensation_years": np.full(n, 5.0),
        "wages": annual, "jobs": np.round(annual / 30000.0, 6),
        "works_wages": works, "works_job_years": np.round(works / 30000.0, 6),
        "tourism": np.zeros(n), "source": ["synthetic"] * n})


def _actions(n_actions: int, species0: str | None) -> pd.DataFrame:
    """``n_actions`` actions from :data:`ACTION_TEMPLATES`, cycled as dearer, stronger variants.

    Variant ``v`` (2, 3, ...) costs ``1 + 0.5 (v - 1)`` times more and removes or traps more.
    """
    rows = []
    for k in range(n_actions):  # a loop over the (few) actions
        row = {**_ACTION_DEFAULTS, **ACTION_TEMPLATES[k % len(ACTION_TEMPLATES)]}
        cycle = k // len(ACTION_TEMPLATES)
        if row["habitat_species"] == SPECIES_TOKEN:
            row["habitat_species"] = species0
            if species0 is None:
                row["habitat_gain"] = 0.0
        if cycle:
            factor = 1.0 + 0.5 * cycle
            row["action_id"] = f"{row['action_id']}_{cycle + 1}"
            row["name"] = f"{row['name']} (variant {cycle + 1})"
            row["name_zh"] = f"{row['name_zh']}（方案{cycle + 1}）"
            for key in ("capital_cost", "annual_cost", "fixed_cost"):
                row[key] = round(row[key] * factor, 2)
            for key in ("sediment_removal", "tn_removal", "tp_removal"):
                row[key] = round(1.0 - (1.0 - row[key]) / factor, 3) if row[key] else 0.0
            for key in ("sediment_trap", "habitat_gain", "reconnected_km"):
                row[key] = round(row[key] * (1.0 + 0.25 * cycle), 3)
        rows.append(row)
    table = TABLES["actions"]
    return _frame(table, {c: [row[c] for row in rows] for c in table.names})


AGENCY_ROWS: tuple[dict[str, str], ...] = (
    {"agency_id": "forestry", "name": "Forestry and Grassland Bureau", "name_zh": "林业和草原局",
     "level": "county", "mandate": "habitat;carbon"},
    {"agency_id": "water", "name": "Water Resources Bureau", "name_zh": "水利局",
     "level": "county", "mandate": "sediment:reservoir;sediment:intake"},
    {"agency_id": "environment", "name": "Ecology and Environment Bureau",
     "name_zh": "生态环境局", "level": "city", "mandate": "tn;tp"},
    {"agency_id": "natural_resources", "name": "Natural Resources Bureau",
     "name_zh": "自然资源局", "level": "county", "mandate": "sediment"},
)
"""The agencies of a synthetic study: those its action templates name, with mandates."""


def _agencies() -> pd.DataFrame:
    """The agencies table of a synthetic study (:data:`AGENCY_ROWS`)."""
    table = TABLES["agencies"]
    return _frame(table, {c: [row[c] for row in AGENCY_ROWS] for c in table.names})


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


def _check_args(n_subunits: int, seed: int, n_actions: int) -> None:
    """Raise :class:`SynthError` unless every argument is an integer in range."""
    for label, value, lowest in (("n_subunits", n_subunits, 1), ("seed", seed, 0),
                                 ("n_actions", n_actions, 1)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < lowest:
            raise SynthError(f"{label} must be an integer >= {lowest} (got {value!r})")


def generate_study(n_subunits: int, seed: int = 0, n_actions: int = 8
                   ) -> dict[str, pd.DataFrame]:
    """Generate a synthetic study in memory.

    Args:
        n_subunits: Number of subunits (>= 1); subunit ``S...1`` is the single outlet.
        seed: Random seed (>= 0); the same arguments always give identical frames.
        n_actions: Number of actions in the catalogue (>= 1).

    Returns:
        One frame per table of :data:`dss.data.schema.TABLES`, in that order, each with
        exactly the declared columns in declared order and dtypes.

    Raises:
        SynthError: if an argument is out of range.
    """
    _check_args(n_subunits, seed, n_actions)
    n, seed, n_actions = int(n_subunits), int(seed), int(n_actions)
    rngs = dict(zip(_STREAMS, np.random.default_rng(seed).spawn(len(_STREAMS)), strict=True))
    subunits, x = _subunits(rngs, n)
    chosen = _species_rows(rngs["species"])
    tables = {
        "subunits": subunits,
        "land_classes": _land_classes(),
        "land_cover": _land_cover_frame(x["ids"], x["cover"]),
        "point_sources": _point_sources(rngs["point_sources"], x["ids"], x["population"],
                                        x["park"]),
        "species": _species(chosen),
        "species_habitat": _species_habitat(rngs["habitat"], chosen, x["ids"], x["cover"],
                                            x["park"]),
        "control_points": _control_points(rngs["control_points"], x["ids"], x["reservoirs"]),
        "barriers": _barriers(rngs["barriers"], x["ids"], x["stream_km"]),
        "actions": _actions(n_actions, SPECIES_ROWS[chosen[0]]["species"]),
        "townships": _townships(subunits["township"]),
        "agencies": _agencies(),
    }
    tables["barrier_options"] = _barrier_options(tables["barriers"])
    tables["fish_habitat"] = _fish_habitat(x["ids"], x["stream_km"],
                                           str(tables["species"]["species"].iloc[0]))


    tables.update(_uncertainty(tables["actions"]))
    tables["action_livelihoods"] = _action_livelihoods(tables["actions"])
    logger.info("generated synthetic study: %d subunits (tree depth max %d, mean %.1f), "
                "%d land-cover rows, %d point sources, %d habitat rows, %d barriers, "
                "%d actions", n, int(x["depth"].max()), float(x["depth"].mean()),
                len(tables["land_cover"]), len(tables["point_sources"]),
                len(tables["species_habitat"]), len(tables["barriers"]), n_actions)
    return {name: tables[name] for name in TABLES}


AGENCY_NAMES: tuple[tuple[str, str, str], ...] = (
    ("environment", "Ecology and Environment Bureau", "生态环境局"),
    ("forestry", "Forestry and Grassland Bureau", "林业和草原局"),
    ("natural_resources", "Natural Resources Bureau", "自然资源局"),
    ("water", "Water Resources Bureau", "水利局"))
"""Display names of the synthetic actions' agencies."""


def _townships(ids: pd.Series) -> pd.DataFrame:
    """Display names of the synthetic townships (``T0001``: Township 1, 第1乡)."""
    unique = pd.unique(ids.astype(str))
    numbers = [t.lstrip("T").lstrip("0") or "0" for t in unique]
    return _frame(TABLES["townships"], {
        "township": unique, "name": [f"Township {n}" for n in numbers],
        "name_zh": [f"第{n}乡" for n in numbers]})


def synthetic_model_config(name: str | None, n_subunits: int, seed: int,
                           species: list[str] | None = None) -> dict[str, Any]:
    """The ``model.yaml`` mapping of a synthetic study (inputs in the same folder).

    Args:
        name: Study name; ``synth_<n_subunits>_s<seed>`` when None.
        n_subunits: Number of subunits, for the default name and the description.
        seed: Random seed, for the default name and the description.
        species: Species ids of the study (valued by the habitat component); default: the
            species this seed draws.

    Returns:
        A mapping with ``name``, ``title``, ``description`` and ``inputs: "."``.
    """
    if species is None:
        rngs = dict(zip(_STREAMS, np.random.default_rng(seed).spawn(len(_STREAMS)),
                        strict=True))
        species = [SPECIES_ROWS[i]["species"] for i in _species_rows(rngs["species"])]
    return {
        "name": name or f"synth_{n_subunits}_s{seed}",
        "title": f"Synthetic basin with {n_subunits} subunits (seed {seed})",
        "description": (f"Invented data generated by dss.synth (dss synth --subunits "
                        f"{n_subunits} --seed {seed}); plausible for a mountain basin but "
                        "not a real place."),
        "inputs": ".",
        "solver": {"time_limit": 1800, "mip_gap": 1e-4, "threads": 1},
        "components": {
            "objective": {"type": "max_benefit"},
            "budget": {"type": "budget", "total": float(SYNTH_BUDGET_PER_SUBUNIT * n_subunits)},
            "land": {"type": "land"},
            "water": {"type": "delivered_reduction",
                      "values": {"sediment": 20.0, "tn": 30.0, "tp": 300.0}},
            "habitat": {"type": "habitat",
                        "species": {s: {"value": 2000.0} for s in species}},
            "carbon": {"type": "carbon", "value": 150.0},
            "zones": {"type": "zone_rules", "core": {"forbidden": ["check_dam"]}},
        },
    }


SYNTH_BUDGET_PER_SUBUNIT = 50_000.0
"""Budget of a synthetic study per subunit (CNY over the horizon)."""


def _csv_text(df: pd.DataFrame, table: Table) -> str:
    """CSV text of one table: booleans as true/false, empty cells for missing values."""
    out = df.copy(deep=False)
    for col in table.columns:
        if col.dtype == "bool":
            out[col.name] = np.where(df[col.name].to_numpy(), "true", "false")
    return out.to_csv(index=False, float_format=FLOAT_FORMAT, lineterminator="\n")


def write_study(out_dir: Path, n_subunits: int, seed: int = 0, n_actions: int = 8,
                name: str | None = None, *, overwrite: bool = False) -> Path:
    """Generate a synthetic study and write it as a study folder.

    Writes one ``<table>.csv`` per table (UTF-8, header row) and ``model.yaml``.

    Args:
        out_dir: Folder to write into; created if missing.
        n_subunits: Number of subunits (>= 1).
        seed: Random seed (>= 0).
        n_actions: Number of actions in the catalogue (>= 1).
        name: Study name in ``model.yaml`` (default ``synth_<n>_s<seed>``).
        overwrite: Replace the files of an existing study in ``out_dir``.

    Returns:
        Path of the written ``model.yaml``.

    Raises:
        StudyExistsError: if ``out_dir`` already holds a study (``subunits.csv`` or
            ``model.yaml``) and ``overwrite`` is False.
        SynthError: if an argument is out of range.
    """
    out_dir = Path(out_dir)
    _check_args(n_subunits, seed, n_actions)
    model_path = out_dir / "model.yaml"
    existing = [p.name for p in (out_dir / TABLES["subunits"].file, model_path) if p.exists()]
    if out_dir.exists() and not out_dir.is_dir():
        raise SynthError(f"{out_dir} exists and is not a folder")
    if existing and not overwrite:
        raise StudyExistsError(f"{out_dir} already holds a study ({', '.join(existing)}); "
                               "choose another folder or pass overwrite to replace it")
    tables = generate_study(n_subunits, seed, n_actions)
    out_dir.mkdir(parents=True, exist_ok=True)
    for table_name, df in tables.items():
        table = TABLES[table_name]
        (out_dir / table.file).write_text(_csv_text(df, table), encoding="utf-8", newline="")
    config = synthetic_model_config(name, n_subunits, seed,
                                    list(tables["species"]["species"]))
    model_path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True),
                          encoding="utf-8", newline="")
    logger.info("wrote synthetic study %s to %s", config["name"], out_dir)
    return model_path
