"""Barrier options as decision options: one binary option row per row of ``barrier_options.csv``.

Each option :math:`o` of barrier :math:`k` becomes an option row of the model (see
:mod:`dss.optimize.options`) with amount :math:`y_{ko} \\in \\{0, 1\\}`, so that its cost enters
the one cost path (township spend, total, agency and township budgets) and ``allocation.csv``:

.. math:: c_{ko} = \\text{capital} + H\\,(\\text{annual} + \\text{lost\\_mwh} \\cdot
          \\text{tariff})

over the horizon :math:`H`. Its resource is the barrier itself (``barrier <id>``, capacity
1); the ``fish_passage`` component adds :math:`\\sum_o y_{ko} \\le 1` (at most one option per
barrier). The rows exist only in models with a ``fish_passage`` component.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dss.data.study import Study

OPTION_UNIT = "option"
RESOURCE_PREFIX = "barrier "


def barrier_options(study: Study) -> pd.DataFrame:
    """``barrier_options.csv`` with every default resolved, plus the barrier's subunit.

    Columns added or filled: ``passability`` and ``passability_down`` after the option,
    ``restored_km``, ``subunit_id`` and ``barrier_pos`` (row of the barrier).
    """
    table = study.barrier_options
    if table is None or not len(table):
        return pd.DataFrame(columns=["option_id", "barrier_id", "kind", "name", "name_zh",
                                     "passability", "passability_down", "restored_km",
                                     "capital_cost", "annual_cost", "lost_mwh", "tariff",
                                     "agency", "subunit_id", "barrier_pos"])
    barriers = study.barriers
    pos = pd.Index(barriers["barrier_id"]).get_indexer(table["barrier_id"])
    own_up = barriers["passability"].to_numpy(float)[pos]
    down_col = barriers["passability_down"] if "passability_down" in barriers else None
    own_down = own_up if down_col is None else np.where(
        down_col.isna().to_numpy(), barriers["passability"].to_numpy(float),
        down_col.to_numpy(float))[pos]
    kind = table["kind"].to_numpy(dtype=object)
    up = table["passability"].to_numpy(float)
    up = np.where(np.isnan(up), np.where(kind == "remove", 1.0, own_up), up)
    down = table["passability_down"].to_numpy(float)
    down = np.where(np.isnan(down), np.where(kind == "remove", 1.0,
                                             np.where(np.isnan(table["passability"].to_numpy(
                                                 float)), own_down, up)), down)
    dewatered = barriers["dewatered_km"].to_numpy(float)[pos]
    restored = table["restored_km"].to_numpy(float)
    restored = np.where(np.isnan(restored),
                        np.where(np.isin(kind, ["remove", "eflow"]), dewatered, 0.0), restored)
    out = table.copy()
    out["passability"] = up
    out["passability_down"] = down
    out["restored_km"] = restored
    out["subunit_id"] = barriers["subunit_id"].to_numpy(dtype=object)[pos]
    out["barrier_pos"] = pos
    return out.reset_index(drop=True)


def option_cost(options: pd.DataFrame, horizon_years: float) -> np.ndarray:
    """:math:`c_{ko}` of each resolved barrier option (currency over the horizon)."""
    return (options["capital_cost"].to_numpy(float) + horizon_years * (
        options["annual_cost"].to_numpy(float)
        + options["lost_mwh"].to_numpy(float) * options["tariff"].to_numpy(float)))


def barrier_option_rows(study: Study, horizon_years: float, columns: list[str]
                        ) -> pd.DataFrame:
    """The option rows of the barrier options (in ``barrier_options.csv`` order)."""
    opts = barrier_options(study)
    n = len(opts)
    if not n:
        return pd.DataFrame(columns=columns)
    subunits = study.subunits.set_index("subunit_id")
    zone = study.zone()
    subs = opts["subunit_id"].to_numpy(dtype=object)
    frame = pd.DataFrame({
        "subunit_id": subs,
        "action_id": opts["option_id"].to_numpy(dtype=object),
        "unit": OPTION_UNIT,
        "resource": RESOURCE_PREFIX + opts["barrier_id"].astype(str).to_numpy(dtype=object),
        "capacity": np.ones(n),
        "unit_cost": option_cost(opts, horizon_years),
        "fixed_cost": np.zeros(n),
        "integer": np.ones(n, dtype=bool),
        "agency": opts["agency"].to_numpy(dtype=object),
        "township": subunits["township"].reindex(subs).to_numpy(dtype=object),
        "zone": zone.reindex(subs).to_numpy(dtype=object),
        "d_sediment": np.zeros(n), "d_tn": np.zeros(n), "d_tp": np.zeros(n),
        "d_carbon": np.zeros(n),
        "habitat_species": np.full(n, None, dtype=object),
        "habitat_gain": np.zeros(n),
        "reconnected_km": np.zeros(n),
        "resource_capacity": np.ones(n),
    })
    return frame[columns]


def with_barrier_options(options: pd.DataFrame, study: Study, horizon_years: float
                         ) -> pd.DataFrame:
    """``options`` followed by the barrier option rows (none without barrier options)."""
    rows = barrier_option_rows(study, horizon_years, list(options.columns))
    if not len(rows):
        return options
    if not len(options):
        return rows.reset_index(drop=True)
    return pd.concat([options, rows], ignore_index=True)
