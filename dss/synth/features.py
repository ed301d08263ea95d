"""What lives and is built in a synthetic basin: species and habitat, control points,
barriers and their options, fish habitat, uncertainty, actions, livelihoods and agencies
(:mod:`dss.synth`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dss.data.schema import TABLES
from dss.synth.catalogue import (
    _ACTION_DEFAULTS,
    _NATURAL,
    _SPECIES_DENSITY,
    _SPECIES_PRESENCE,
    ACTION_TEMPLATES,
    BARRIER_RATE,
    LAND_CLASS_ROWS,
    MONITORING_RATE,
    SPECIES_ROWS,
    SPECIES_TOKEN,
)
from dss.synth.frames import _frame, _ids, _labels, _pick, _rate_count


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
