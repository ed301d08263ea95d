"""Local loads and stocks per subunit: erosion (USLE + mass wasting), sediment delivered,
TN/TP exported (land plus point sources), carbon stock and habitat.

Mathematics, per land-cover row (subunit :math:`i`, class :math:`c`, area :math:`a_{ic}` ha):

- sheet and rill erosion :math:`E_{ic} = a_{ic} R_i K_i LS_i C_c P_c` (t/yr, USLE);
- mass-wasting yield :math:`M_{ic} = a_{ic} m_c` (t/yr), delivered straight to the stream
  (USLE does not cover landslides or quarries);
- sediment delivered to the reach :math:`S_{ic} = SDR_i E_{ic} + M_{ic}`;
- nutrient export :math:`N_{ic} = a_{ic} n_c`, :math:`P_{ic} = a_{ic} p_c` (kg/yr).

Per point source :math:`k` with :math:`PE_k` person-equivalents: discharge
:math:`N_k = PE_k\\,n^{pe}_k\\,(1 - \\tau_k \\eta^N_k)` where :math:`\\tau` is the treated share
and :math:`\\eta` the removal efficiency (same for P).

The local load of subunit :math:`i` is the sum over its rows; routing is in
:mod:`dss.network.routing`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dss.data.keys import sum_by
from dss.data.study import Study


def take(values: np.ndarray, at: np.ndarray) -> np.ndarray:
    """``values[at]``, NaN where ``at`` is -1 (as ``reindex`` gives for an unknown label)."""
    return np.append(np.asarray(values, dtype=float), np.nan)[at]


def class_positions(study: Study, classes: pd.Series | np.ndarray) -> np.ndarray:
    """Row of each land-class id in ``study.land_classes``, -1 where unknown.

    Raises:
        ValueError: if land-class ids repeat (as ``reindex`` does).
    """
    return study.key_index("land_classes").positions(classes)


def land_loads(study: Study) -> pd.DataFrame:
    """One row per (subunit, land class): area, erosion, delivered sediment, TN, TP, carbon.

    Columns: subunit_id, land_class, area_ha, gross_erosion_t, mass_wasting_t,
    sediment_t, tn_kg, tp_kg, carbon_t (all per year except carbon_t, a stock).
    Computed on each call, not kept with the study: it is quick (0.04 s at 100,000
    subunits) and large (31 MB there), and a solve would hold it while HiGHS runs.
    """
    return _land_loads(study)


def _land_loads(study: Study) -> pd.DataFrame:
    cover = study.land_cover
    sub = study.subunits
    cls = study.land_classes
    at = study.positions("land_cover", "subunit_id")
    kind = study.positions("land_cover", "land_class", "land_classes")
    area = cover["area_ha"].to_numpy()
    rkls = take((sub["usle_r"] * sub["usle_k"] * sub["usle_ls"]).to_numpy(), at)
    sdr = take(sub["sdr"].to_numpy(), at)
    # an unknown class reads as NaN, which is true
    agricultural = np.append(cls["agricultural"].to_numpy(dtype=bool), True)[kind]
    gross = area * rkls * take(cls["usle_c"].to_numpy(), kind) \
        * take(cls["usle_p"].to_numpy(), kind)
    mass = area * take(cls["mass_yield"].to_numpy(), kind)
    return pd.DataFrame({
        "subunit_id": cover["subunit_id"].to_numpy(),
        "land_class": cover["land_class"].to_numpy(),
        "area_ha": area,
        "gross_erosion_t": gross,
        "mass_wasting_t": mass,
        "sediment_t": sdr * gross + mass,
        "tn_kg": area * take(cls["tn_export"].to_numpy(), kind),
        "tp_kg": area * take(cls["tp_export"].to_numpy(), kind),
        "carbon_t": area * take(cls["carbon_stock"].to_numpy(), kind),
        "agricultural": agricultural,
    })


def point_loads(study: Study) -> pd.DataFrame:
    """One row per point source: raw and discharged TN and TP (kg/yr)."""
    ps = study.point_sources
    pe = ps["person_equivalents"].to_numpy(dtype=float)
    raw_tn = pe * ps["tn_per_pe"].to_numpy(dtype=float)
    raw_tp = pe * ps["tp_per_pe"].to_numpy(dtype=float)
    treated = ps["treated_share"].to_numpy(dtype=float)
    return pd.DataFrame({
        "source_id": ps["source_id"].to_numpy(),
        "subunit_id": ps["subunit_id"].to_numpy(),
        "kind": ps["kind"].to_numpy(),
        "person_equivalents": pe,
        "raw_tn_kg": raw_tn,
        "raw_tp_kg": raw_tp,
        "tn_kg": raw_tn * (1 - treated * ps["removal_tn"].to_numpy(dtype=float)),
        "tp_kg": raw_tp * (1 - treated * ps["removal_tp"].to_numpy(dtype=float)),
    })


def local_loads(study: Study, land: pd.DataFrame | None = None,
                points: pd.DataFrame | None = None) -> pd.DataFrame:
    """Local load of each subunit, aligned with ``study.subunits`` row order.

    Columns: subunit_id, sediment (t/yr), tn (kg/yr), tp (kg/yr), plus the parts
    gross_erosion_t, mass_wasting_t, tn_land, tn_point, tp_land, tp_point, carbon_t, and
    the loads from agricultural classes sediment_agri, tn_agri, tp_agri.
    Without ``land`` and ``points`` (the study's own), computed once per study (a shallow copy
    is returned).
    """
    if land is None and points is None:
        return study.memo("local_loads", lambda: _local_loads(
            study, land_loads(study), point_loads(study),
            study.positions("land_cover", "subunit_id"),
            study.positions("point_sources", "subunit_id"))).copy(deep=False)
    return _local_loads(study, land_loads(study) if land is None else land,
                        point_loads(study) if points is None else points)


def _local_loads(study: Study, land: pd.DataFrame, points: pd.DataFrame,
                 land_at: np.ndarray | None = None,
                 point_at: np.ndarray | None = None) -> pd.DataFrame:
    """:func:`local_loads` from given land and point loads (and their subunit positions)."""
    ids = study.subunits["subunit_id"]
    index = study.subunit_index
    by_land = sum_by(index, land["subunit_id"], land[
        ["gross_erosion_t", "mass_wasting_t", "sediment_t", "tn_kg", "tp_kg", "carbon_t"]],
        land_at)
    agricultural = land["agricultural"].to_numpy(dtype=bool)
    agri_land = land[agricultural]
    agri = sum_by(index, agri_land["subunit_id"], agri_land[["sediment_t", "tn_kg", "tp_kg"]],
                  None if land_at is None else land_at[agricultural])
    by_point = sum_by(index, points["subunit_id"], points[["tn_kg", "tp_kg"]], point_at)
    return pd.DataFrame({
        "subunit_id": ids.to_numpy(),
        "sediment": by_land["sediment_t"].to_numpy(),
        "tn": by_land["tn_kg"].to_numpy() + by_point["tn_kg"].to_numpy(),
        "tp": by_land["tp_kg"].to_numpy() + by_point["tp_kg"].to_numpy(),
        "gross_erosion_t": by_land["gross_erosion_t"].to_numpy(),
        "mass_wasting_t": by_land["mass_wasting_t"].to_numpy(),
        "tn_land": by_land["tn_kg"].to_numpy(),
        "tn_point": by_point["tn_kg"].to_numpy(),
        "tp_land": by_land["tp_kg"].to_numpy(),
        "tp_point": by_point["tp_kg"].to_numpy(),
        "carbon_t": by_land["carbon_t"].to_numpy(),
        "sediment_agri": agri["sediment_t"].to_numpy(),
        "tn_agri": agri["tn_kg"].to_numpy(),
        "tp_agri": agri["tp_kg"].to_numpy(),
    })


def retention(study: Study, pollutant: str) -> np.ndarray:
    """In-reach retention share of ``pollutant`` per subunit (subunits row order)."""
    return study.subunits[f"retention_{pollutant}"].to_numpy(dtype=float)


def forest_area(study: Study) -> pd.Series:
    """Forest area (classes flagged is_forest) per subunit id, ha."""
    forest_classes = set(study.land_classes.loc[study.land_classes["is_forest"], "land_class"])
    cover = study.land_cover
    mask = cover["land_class"].isin(forest_classes)
    return (cover[mask].groupby("subunit_id")["area_ha"].sum()
            .reindex(study.subunits["subunit_id"]).fillna(0.0))
