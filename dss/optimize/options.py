"""Decision options: every feasible (subunit, action) pair, with its capacity, cost and effects.

This is the precomputed sparse data the Pyomo model is built from. One row per option
:math:`k = (i, a)`; the decision :math:`x_k \\ge 0` is the amount of action :math:`a` in
subunit :math:`i`, in the action's unit. All effects are per unit of :math:`x_k`.

Capacity (the resource the action uses in the subunit):

- land-class action on class :math:`c`: the area of :math:`c` in :math:`i` (ha);
- ``point_sources``: untreated person-equivalents :math:`\\sum_s PE_s (1 - \\tau_s)`;
- ``hazard_sites``: number of geohazard sites (one dam each);
- ``barriers``: number of active barriers (stations);
- ``stream``: stream length (km).

For an integer action the capacity is rounded down to whole units; ``resource_capacity`` keeps
the unrounded amount of the resource (shared by every action using it, see
:class:`~dss.optimize.components.constraints.LandAvailability` and
:class:`~dss.optimize.components.constraints.ZoneRules`).

Effects per unit (local, i.e. delivered to the subunit's own reach):

- land action, class :math:`c \\to c'` (``leads_to``) or cover factor :math:`C'`
  (``usle_c_after``): :math:`\\Delta S = s_c - s' + \\rho_S s'` with
  :math:`s = SDR_i R_i K_i LS_i C P + m` per ha; :math:`\\Delta N = n_c - n' + \\rho_N n'`;
  carbon :math:`\\Delta C = \\kappa_{c'} - \\kappa_c` (t C/ha at maturity);
- ``point_sources``: :math:`\\Delta N = \\rho_N \\bar n^{pe}`, :math:`\\Delta P = \\rho_P
  \\bar p^{pe}` per PE (mean raw load per PE of the subunit's untreated PE,
  :math:`\\bar n^{pe} = \\sum_s PE_s (1 - \\tau_s) n^{pe}_s / \\sum_s PE_s (1 - \\tau_s)`:
  only untreated PE can be treated, so full treatment removes exactly :math:`\\rho_N` of
  their raw load);
- ``hazard_sites``: :math:`\\Delta S = \\min(\\text{trap}, S_i / \\text{sites}_i)` per dam;
- ``stream``: :math:`\\Delta N = \\rho_N N^{agri}_i / L_i` per km: buffers intercept the
  field runoff of agricultural classes in proportion to the treated length (same for P and
  sediment);
- ``barriers``: reconnected river km per station.

Habitat gain :math:`h_k` (quality-weighted ha per unit) goes to ``habitat_species``.
Cost per unit :math:`c_k = \\text{capital} + H \\cdot \\text{annual}` over the horizon
:math:`H` years; ``fixed_cost`` :math:`f_k` is paid once per subunit where :math:`x_k > 0`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dss.data.study import Study
from dss.indicators.loads import land_loads, local_loads, point_loads

OPTION_COLUMNS = [
    "subunit_id", "action_id", "unit", "resource", "capacity", "unit_cost", "fixed_cost",
    "integer", "agency", "township", "zone", "d_sediment", "d_tn", "d_tp", "d_carbon",
    "habitat_species", "habitat_gain", "reconnected_km", "resource_capacity",
]


def _land_options(study: Study, actions: pd.DataFrame, land: pd.DataFrame) -> pd.DataFrame:
    """Options of actions done on a land class."""
    classes = study.land_classes.set_index("land_class")
    sub = study.subunits.set_index("subunit_id")
    land_actions = actions[actions["applies_to"].isin(classes.index)]
    if land_actions.empty:
        return pd.DataFrame()
    cover = land[land["area_ha"] > 0]
    merged = cover.merge(land_actions, left_on="land_class", right_on="applies_to",
                         suffixes=("", "_action"))
    if merged.empty:
        return pd.DataFrame()
    sid = merged["subunit_id"]
    rkls = (sub["usle_r"] * sub["usle_k"] * sub["usle_ls"]).reindex(sid).to_numpy()
    sdr = sub["sdr"].reindex(sid).to_numpy()
    before = classes.reindex(merged["land_class"])
    has_target = merged["leads_to"].notna() & (merged["leads_to"] != "")
    target_class = merged["leads_to"].where(has_target, merged["land_class"])
    after = classes.reindex(target_class)
    c_after = merged["usle_c_after"].astype(float).fillna(pd.Series(
        after["usle_c"].to_numpy(), index=merged.index)).to_numpy()
    p_after = after["usle_p"].to_numpy()
    s_before = sdr * rkls * before["usle_c"].to_numpy() * before["usle_p"].to_numpy() \
        + before["mass_yield"].to_numpy()
    mass_after = after["mass_yield"].to_numpy()
    s_after = sdr * rkls * c_after * p_after + mass_after
    n_before, n_after = before["tn_export"].to_numpy(), after["tn_export"].to_numpy()
    p_before, pp_after = before["tp_export"].to_numpy(), after["tp_export"].to_numpy()
    return pd.DataFrame({
        "subunit_id": sid.to_numpy(),
        "action_id": merged["action_id"].to_numpy(),
        "resource": merged["land_class"].to_numpy(),
        "capacity": merged["area_ha"].to_numpy(),
        "d_sediment": s_before - s_after + merged["sediment_removal"].to_numpy() * s_after,
        "d_tn": n_before - n_after + merged["tn_removal"].to_numpy() * n_after,
        "d_tp": p_before - pp_after + merged["tp_removal"].to_numpy() * pp_after,
        "d_carbon": after["carbon_stock"].to_numpy() - before["carbon_stock"].to_numpy(),
    })


def _resource_options(study: Study, actions: pd.DataFrame, local: pd.DataFrame,
                      points: pd.DataFrame) -> pd.DataFrame:
    """Options of actions on point sources, hazard sites, barriers and streams."""
    sub = study.subunits
    ids = sub["subunit_id"].to_numpy()
    # the action treats untreated PE, so their raw load per PE is what it removes a share of
    share = 1 - study.point_sources["treated_share"].to_numpy(float)
    untreated = points.assign(untreated=points["person_equivalents"] * share,
                              untreated_tn=points["raw_tn_kg"] * share,
                              untreated_tp=points["raw_tp_kg"] * share)
    by_sub = untreated.groupby("subunit_id")[["untreated", "untreated_tn", "untreated_tp"]]\
        .sum().reindex(ids).fillna(0.0)
    pe = by_sub["untreated"]
    with np.errstate(invalid="ignore", divide="ignore"):
        tn_pe = np.where(pe > 0, by_sub["untreated_tn"] / pe, 0.0)
        tp_pe = np.where(pe > 0, by_sub["untreated_tp"] / pe, 0.0)
    active = study.barriers[study.barriers["status"] == "active"]
    stations = active.groupby("subunit_id").size().reindex(ids).fillna(0).to_numpy(float)
    sites = sub["hazard_sites"].to_numpy(float)
    km = sub["stream_km"].to_numpy(float)
    sed = local["sediment"].to_numpy()
    parts = []
    for act in actions.itertuples(index=False):
        kind = act.applies_to
        zeros = np.zeros(len(ids))
        d_sed, d_tn, d_tp = zeros, zeros, zeros
        if kind == "point_sources":
            cap = pe.to_numpy()
            d_tn, d_tp = act.tn_removal * tn_pe, act.tp_removal * tp_pe
        elif kind == "hazard_sites":
            cap = sites
            with np.errstate(invalid="ignore", divide="ignore"):
                d_sed = np.minimum(act.sediment_trap, np.where(sites > 0, sed / sites, 0.0))
        elif kind == "barriers":
            cap = stations
        elif kind == "stream":
            cap = km
            with np.errstate(invalid="ignore", divide="ignore"):
                per_km = lambda total: np.where(km > 0, total / km, 0.0)  # noqa: E731
                d_tn = act.tn_removal * per_km(local["tn_agri"].to_numpy())
                d_tp = act.tp_removal * per_km(local["tp_agri"].to_numpy())
                d_sed = act.sediment_removal * per_km(local["sediment_agri"].to_numpy())
        else:
            continue
        keep = cap > 0
        parts.append(pd.DataFrame({
            "subunit_id": ids[keep], "action_id": act.action_id, "resource": kind,
            "capacity": cap[keep], "d_sediment": np.broadcast_to(d_sed, cap.shape)[keep],
            "d_tn": np.broadcast_to(d_tn, cap.shape)[keep],
            "d_tp": np.broadcast_to(d_tp, cap.shape)[keep], "d_carbon": 0.0,
        }))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def build_options(study: Study, horizon_years: float) -> pd.DataFrame:
    """Every feasible (subunit, action) option with capacity, cost and per-unit effects.

    Rows are sorted by (subunit_id, action_id) so builds are deterministic; the row position
    is the option's index in the model.
    """
    land = land_loads(study)
    points = point_loads(study)
    local = local_loads(study, land, points)
    actions = study.actions
    frames = [f for f in (_land_options(study, actions, land),
                          _resource_options(study, actions, local, points)) if len(f)]
    if not frames:
        return pd.DataFrame(columns=OPTION_COLUMNS)
    opts = pd.concat(frames, ignore_index=True)
    # the same action on the same class may appear once per land-cover row: one per subunit
    opts = opts[opts["capacity"] > 0]
    act = actions.set_index("action_id").reindex(opts["action_id"])
    sub = study.subunits.set_index("subunit_id").reindex(opts["subunit_id"])
    opts["unit"] = act["unit"].to_numpy()
    opts["unit_cost"] = (act["capital_cost"] + horizon_years * act["annual_cost"]).to_numpy()
    opts["fixed_cost"] = act["fixed_cost"].to_numpy()
    opts["integer"] = act["integer"].to_numpy(dtype=bool)
    opts["agency"] = act["agency"].to_numpy()
    opts["township"] = sub["township"].to_numpy()
    opts["zone"] = study.zone().reindex(opts["subunit_id"]).to_numpy()
    species = act["habitat_species"]
    opts["habitat_species"] = species.where(species.notna() & (species != ""), None).to_numpy()
    opts["habitat_gain"] = act["habitat_gain"].to_numpy()
    opts["reconnected_km"] = act["reconnected_km"].to_numpy()
    opts["resource_capacity"] = opts["capacity"].astype(float)
    if opts["integer"].any():
        opts.loc[opts["integer"], "capacity"] = np.floor(opts.loc[opts["integer"], "capacity"]
                                                         + 1e-9)
        opts = opts[opts["capacity"] > 0]
    opts = opts.sort_values(["subunit_id", "action_id"], kind="stable").reset_index(drop=True)
    return opts[OPTION_COLUMNS]
