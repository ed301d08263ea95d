"""The subunits of a synthetic study: areas, soils, hydrology, land cover, population and
point sources (:mod:`dss.synth`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dss.data.schema import TABLES
from dss.synth.catalogue import (
    _CLASS_ALPHA,
    _CLASS_PRESENCE,
    LAND_CLASS_ROWS,
    PARK_FRACTION,
    RESERVOIR_RATE,
    TOURIST_RATE,
    TOWNSHIP_SIZE,
)
from dss.synth.frames import _frame, _ids, _labels, _pick, _rate_count, _thousandths
from dss.synth.tree import _branches, _path_reduce, _preorder, _random_tree, _subtree_sizes


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
