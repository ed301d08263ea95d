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

Barrier options (``barrier_options.csv``) follow as binary rows, after the sorted rows
(:mod:`dss.optimize.fish_options`).

Habitat gain :math:`h_k` (quality-weighted ha per unit) goes to ``habitat_species``.
Cost per unit :math:`c_k = \\text{capital} + H \\cdot \\text{annual}` over the horizon
:math:`H` years; ``fixed_cost`` :math:`f_k` is paid once per subunit where :math:`x_k > 0`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dss.data.keys import IdIndex, sum_by
from dss.data.schema import ACTION_TARGETS
from dss.data.study import Study
from dss.indicators.loads import class_positions, land_loads, local_loads, point_loads, take
from dss.optimize.fish_options import with_barrier_options

OPTION_COLUMNS = [
    "subunit_id", "action_id", "unit", "resource", "capacity", "unit_cost", "fixed_cost",
    "integer", "agency", "township", "zone", "d_sediment", "d_tn", "d_tp", "d_carbon",
    "habitat_species", "habitat_gain", "reconnected_km", "resource_capacity",
]

_EFFECTS = ("capacity", "d_sediment", "d_tn", "d_tp", "d_carbon")
"""Per-option numbers each kind of option computes itself."""


@dataclass
class _Part:
    """Options of one kind as arrays, one entry per option, in the order they are found.

    Attributes:
        sub: Position of the option's subunit in :class:`_Subunits`.
        act: Row of the option's action in ``study.actions``.
        resource: The resource each option uses, as a position in :func:`_resources`.
        effects: Capacity and per-unit effects (:data:`_EFFECTS`).
        sample: The first option as a frame, built as the options table's pieces always
            were: concatenating these gives the column types of the table.
    """

    sub: np.ndarray
    act: np.ndarray
    resource: np.ndarray
    effects: dict[str, np.ndarray]
    sample: pd.DataFrame


@dataclass
class _Subunits:
    """Subunit ids with their positions, plus ids only land cover names (unknown ones)."""

    ids: np.ndarray
    index: IdIndex
    cover_at: np.ndarray
    """Position of each land-cover row's subunit in :attr:`ids`."""

    @classmethod
    def of(cls, study: Study) -> _Subunits:
        """The study's subunits and those its land cover names."""
        index = study.subunit_index
        ids = index.ids
        at = study.positions("land_cover", "subunit_id")
        if (at < 0).any():  # not in subunits.csv: give them positions after the table's
            names = study.land_cover["subunit_id"].to_numpy(dtype=object)[at < 0]
            unknown = pd.unique(names)
            at = at.copy()
            at[at < 0] = len(ids) + pd.Index(unknown, dtype=object).get_indexer(names)
            ids = np.concatenate([ids, unknown])
        return cls(ids, index, at)

    def lookup(self, values: np.ndarray) -> np.ndarray:
        """``values`` (one per subunit) extended with NaN for the unknown ids."""
        extra = len(self.ids) - len(values)
        return np.concatenate([np.asarray(values, dtype=object), np.full(extra, np.nan, object)])


def _resources(study: Study) -> np.ndarray:
    """Names of the resources options use: the land classes, then :data:`ACTION_TARGETS`."""
    return np.concatenate([study.land_classes["land_class"].to_numpy(dtype=object),
                           np.asarray(ACTION_TARGETS, dtype=object)])


def _land_options(study: Study, actions: pd.DataFrame, land: pd.DataFrame,
                  subunits: _Subunits) -> _Part | None:
    """Options of actions done on a land class: one per land-cover row and action on it."""
    targets = class_positions(study, actions["applies_to"])
    rows = np.flatnonzero(targets >= 0)
    if not len(rows):
        return None
    cover = np.flatnonzero(land["area_ha"].to_numpy() > 0)
    left, right = _match(study.positions("land_cover", "land_class", "land_classes")[cover],
                         targets[rows], len(study.land_classes))
    if not len(left):
        return None
    row, act = cover[left], rows[right]
    sub = study.subunits
    at = subunits.cover_at[row]
    rkls = take((sub["usle_r"] * sub["usle_k"] * sub["usle_ls"]).to_numpy(), at)
    sdr = take(sub["sdr"].to_numpy(), at)
    before = targets[act]
    leads_to = actions["leads_to"]
    has_target = (leads_to.notna() & (leads_to != "")).to_numpy()
    after = np.where(has_target[act], class_positions(study, leads_to.to_numpy())[act], before)
    classes = study.land_classes

    def of(column: str, kind: np.ndarray) -> np.ndarray:
        return take(classes[column].to_numpy(), kind)

    c_after = actions["usle_c_after"].to_numpy(dtype=float)[act]
    c_after = np.where(np.isnan(c_after), of("usle_c", after), c_after)
    s_before = sdr * rkls * of("usle_c", before) * of("usle_p", before) \
        + of("mass_yield", before)
    s_after = sdr * rkls * c_after * of("usle_p", after) + of("mass_yield", after)
    n_before, n_after = of("tn_export", before), of("tn_export", after)
    p_before, pp_after = of("tp_export", before), of("tp_export", after)

    def removal(column: str) -> np.ndarray:
        return actions[column].to_numpy()[act]

    effects = {
        "capacity": land["area_ha"].to_numpy()[row],
        "d_sediment": s_before - s_after + removal("sediment_removal") * s_after,
        "d_tn": n_before - n_after + removal("tn_removal") * n_after,
        "d_tp": p_before - pp_after + removal("tp_removal") * pp_after,
        "d_carbon": of("carbon_stock", after) - of("carbon_stock", before),
    }
    sample = pd.DataFrame({
        "subunit_id": subunits.ids[at[:1]], "action_id": actions["action_id"].to_numpy()[act[:1]],
        "resource": land["land_class"].to_numpy(dtype=object)[row[:1]],
        **{k: v[:1] for k, v in effects.items()}})
    return _Part(at, act, before, effects, sample)  # resource: the land class


def _match(left: np.ndarray, right: np.ndarray, kinds: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i, j) with ``left[i] == right[j]`` in the order of an inner merge: by ``i``,
    then by ``j``. Keys are in ``range(kinds)``; -1 on the left matches nothing."""
    order = np.argsort(right, kind="stable")
    counts = np.bincount(right, minlength=kinds)
    first = np.cumsum(counts) - counts
    key = np.maximum(left, 0)
    many = np.where(left >= 0, counts[key], 0)
    pairs = np.repeat(np.arange(len(left)), many)
    within = np.arange(len(pairs)) - np.repeat(np.cumsum(many) - many, many)
    return pairs, order[first[key][pairs] + within]


def _resource_options(study: Study, actions: pd.DataFrame, local: pd.DataFrame,
                      points: pd.DataFrame) -> list[_Part]:
    """Options of actions on point sources, hazard sites, barriers and streams."""
    sub = study.subunits
    ids = sub["subunit_id"].to_numpy()
    index = study.subunit_index
    # the action treats untreated PE, so their raw load per PE is what it removes a share of
    share = 1 - study.point_sources["treated_share"].to_numpy(float)
    by_sub = sum_by(index, points["subunit_id"], pd.DataFrame({
        "untreated": points["person_equivalents"] * share,
        "untreated_tn": points["raw_tn_kg"] * share,
        "untreated_tp": points["raw_tp_kg"] * share}))
    pe = by_sub["untreated"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        tn_pe = np.where(pe > 0, by_sub["untreated_tn"].to_numpy() / pe, 0.0)
        tp_pe = np.where(pe > 0, by_sub["untreated_tp"].to_numpy() / pe, 0.0)
    active = study.barriers[study.barriers["status"] == "active"]
    stations = sum_by(index, active["subunit_id"],
                      pd.DataFrame({"n": np.ones(len(active))}))["n"].to_numpy()
    sites = sub["hazard_sites"].to_numpy(float)
    km = sub["stream_km"].to_numpy(float)
    sed = local["sediment"].to_numpy()
    parts = []
    for row, act in enumerate(actions.itertuples(index=False)):
        kind = act.applies_to
        zeros = np.zeros(len(ids))
        d_sed, d_tn, d_tp = zeros, zeros, zeros
        if kind == "point_sources":
            cap = pe
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
        keep = np.flatnonzero(cap > 0)
        effects = {"capacity": cap[keep], "d_sediment": np.broadcast_to(d_sed, cap.shape)[keep],
                   "d_tn": np.broadcast_to(d_tn, cap.shape)[keep],
                   "d_tp": np.broadcast_to(d_tp, cap.shape)[keep],
                   "d_carbon": np.zeros(len(keep))}
        sample = pd.DataFrame({
            "subunit_id": ids[keep[:1]], "action_id": act.action_id, "resource": kind,
            **{k: v[:1] for k, v in effects.items() if k != "d_carbon"}, "d_carbon": 0.0})
        resource = len(study.land_classes) + ACTION_TARGETS.index(kind)
        parts.append(_Part(keep, np.full(len(keep), row), np.full(len(keep), resource),
                           effects, sample))
    return parts


def build_options(study: Study, horizon_years: float, barrier_options: bool = False
                  ) -> pd.DataFrame:
    """Every feasible (subunit, action) option with capacity, cost and per-unit effects.

    Rows are sorted by (subunit_id, action_id) so builds are deterministic; the row position
    is the option's index in the model. With ``barrier_options`` (a model with a
    ``fish_passage`` component), the rows of ``barrier_options.csv`` follow.
    """
    options = _action_options(study, horizon_years)
    return with_barrier_options(options, study, horizon_years) if barrier_options else options


def _action_options(study: Study, horizon_years: float) -> pd.DataFrame:
    """The (subunit, action) options of :func:`build_options`."""
    land = land_loads(study)
    points = point_loads(study)
    local = local_loads(study)
    actions = study.actions
    subunits = _Subunits.of(study)
    land_part = _land_options(study, actions, land, subunits)
    resource_parts = _resource_options(study, actions, local, points)
    parts = ([land_part] if land_part is not None else []) + resource_parts
    if not any(len(p.sub) for p in parts):
        return pd.DataFrame(columns=OPTION_COLUMNS)
    samples = [land_part.sample] if land_part is not None else []
    if resource_parts:
        samples.append(pd.concat([p.sample for p in resource_parts], ignore_index=True))
    types = pd.concat([f for f in samples if len(f)], ignore_index=True).dtypes

    def joined(get) -> np.ndarray:
        return np.concatenate([get(p) for p in parts])

    effects = {k: joined(lambda p, k=k: p.effects[k]) for k in _EFFECTS}
    keep = effects["capacity"] > 0
    sub, act = joined(lambda p: p.sub)[keep], joined(lambda p: p.act)[keep]
    resource = joined(lambda p: p.resource)[keep]
    effects = {k: v[keep] for k, v in effects.items()}
    return _finish(study, horizon_years, subunits, sub, act, resource, effects, types)


def _finish(study: Study, horizon_years: float, subunits: _Subunits, sub: np.ndarray,
            act: np.ndarray, resource: np.ndarray, effects: dict[str, np.ndarray],
            types: pd.Series) -> pd.DataFrame:
    """Round integer capacities, sort by (subunit_id, action_id) and add the action's and the
    subunit's columns."""
    actions = study.actions
    integer = actions["integer"].to_numpy(dtype=bool)[act]
    capacity = effects["capacity"].astype(float)
    rounded = capacity.copy()
    rounded[integer] = np.floor(capacity[integer] + 1e-9)
    # text columns take the type pandas gives them over every option before rounding
    per_action = {
        "unit": actions["unit"].to_numpy(), "agency": actions["agency"].to_numpy(),
        "habitat_species": actions["habitat_species"].where(
            actions["habitat_species"].notna() & (actions["habitat_species"] != ""),
            None).to_numpy()}
    per_subunit = {"township": subunits.lookup(study.subunits["township"].to_numpy()),
                   "zone": subunits.lookup(study.zone().to_numpy())}
    used_actions = np.flatnonzero(np.bincount(act, minlength=len(actions)))
    used_subunits = np.flatnonzero(np.bincount(sub, minlength=len(subunits.ids)))
    text_types = {k: pd.Series(v[used_actions]).dtype for k, v in per_action.items()}
    text_types |= {k: pd.Series(v[used_subunits]).dtype for k, v in per_subunit.items()}
    keep = np.flatnonzero(rounded > 0)
    order = keep[_sort_order(study, subunits, sub[keep], act[keep])]
    sub, act = sub[order], act[order]
    columns = {
        "subunit_id": pd.Series(subunits.ids[sub], dtype=types["subunit_id"]),
        "action_id": pd.Series(actions["action_id"].to_numpy()[act], dtype=types["action_id"]),
        "unit": per_action["unit"][act],
        "resource": pd.Series(_resources(study)[resource[order]], dtype=types["resource"]),
        "capacity": rounded[order],
        "unit_cost": (actions["capital_cost"] + horizon_years * actions["annual_cost"])
        .to_numpy()[act],
        "fixed_cost": actions["fixed_cost"].to_numpy()[act],
        "integer": integer[order],
        "agency": per_action["agency"][act],
        "township": per_subunit["township"][sub],
        "zone": per_subunit["zone"][sub],
        **{k: effects[k][order] for k in ("d_sediment", "d_tn", "d_tp", "d_carbon")},
        "habitat_species": per_action["habitat_species"][act],
        "habitat_gain": actions["habitat_gain"].to_numpy()[act],
        "reconnected_km": actions["reconnected_km"].to_numpy()[act],
        "resource_capacity": capacity[order],
    }
    for name, dtype in text_types.items():
        columns[name] = pd.Series(columns[name], dtype=dtype)
    return pd.DataFrame(columns)


def _sort_order(study: Study, subunits: _Subunits, sub: np.ndarray,
                act: np.ndarray) -> np.ndarray:
    """Positions of the options in (subunit_id, action_id) order (stable)."""
    actions = IdIndex(study.actions["action_id"])
    sub_rank, act_rank = subunits.index.rank, actions.rank
    if sub_rank is None or act_rank is None or len(subunits.ids) > len(sub_rank):
        keys = pd.DataFrame({"subunit_id": subunits.ids[sub],
                             "action_id": actions.ids[act]})
        return keys.sort_values(["subunit_id", "action_id"], kind="stable").index.to_numpy()
    return np.lexsort((act_rank[act], sub_rank[sub]))
