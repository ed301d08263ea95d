"""Result tables of the ``fish_passage`` component: ``barriers.csv`` and ``fish.csv``.

Both are computed from the chosen options by path products (:mod:`dss.network.barriers`),
not read from the model's auxiliary variables.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dss.data.study import Study
from dss.network.barriers import cumulative_passability
from dss.optimize.fish_network import FishNetwork

BARRIER_COLUMNS = [
    "barrier_id", "name", "subunit_id", "status", "downstream_section", "option_id",
    "option_kind", "option_name", "option_name_zh", "agency", "cost_cny",
    "passability_before", "passability_after", "cumulative_before", "cumulative_after",
    "restored_km", "species", "unit", "habitat_above", "accessible_before",
    "accessible_after", "habitat_opened",
]


def barrier_table(study: Study, net: FishNetwork, chosen: np.ndarray, cost: np.ndarray,
                  species: dict[str, Any]) -> pd.DataFrame:
    """One row per barrier and species: the option chosen, passabilities before and after,
    and the habitat above it (its section) accessible before and after.

    ``habitat_opened`` is the change of that section's accessible habitat (its habitat
    times the change of its cumulative passability); summed over barriers, plus restored
    reaches, it is the species' gain.
    """
    tree = net.tree
    n_b = tree.n_barriers
    none = np.full(n_b, -1)
    up0, _ = net.passabilities(none)
    up1, _ = net.passabilities(chosen)
    cum0 = cumulative_passability(tree.parent, up0)
    cum1 = cumulative_passability(tree.parent, up1)
    barriers = study.barriers
    has = chosen >= 0
    o = np.where(has, chosen, 0)
    opts = net.options

    def pick(column: str, empty: Any = "") -> np.ndarray:
        if not len(opts):
            return np.full(n_b, empty, dtype=object)
        return np.where(has, opts[column].to_numpy(dtype=object)[o], empty)

    below = tree.parent[:n_b]
    section_name = np.concatenate([tree.barrier_ids, np.array(
        [f"outlet {s}" for s in tree.outlet_ids], dtype=object)])
    base = pd.DataFrame({
        "barrier_id": tree.barrier_ids,
        "name": barriers["name"].to_numpy(dtype=object),
        "subunit_id": barriers["subunit_id"].to_numpy(dtype=object),
        "status": barriers["status"].to_numpy(dtype=object),
        "downstream_section": section_name[below],
        "option_id": pick("option_id"), "option_kind": pick("kind"),
        "option_name": pick("name"), "option_name_zh": pick("name_zh"),
        "agency": pick("agency"),
        "cost_cny": np.where(has, cost[o] if len(cost) else 0.0, 0.0),
        "passability_before": up0[:n_b], "passability_after": up1[:n_b],
        "cumulative_before": cum0[:n_b], "cumulative_after": cum1[:n_b],
        "restored_km": net.restored(chosen),
    })
    frames = []
    for sp in sorted(species) or [""]:
        h = net.habitat.get(sp, np.zeros(tree.n_sections))[:n_b]
        part = base.copy()
        part["species"] = sp
        part["unit"] = net.units.get(sp, "")
        part["habitat_above"] = h
        part["accessible_before"] = h * cum0[:n_b]
        part["accessible_after"] = h * cum1[:n_b]
        part["habitat_opened"] = part["accessible_after"] - part["accessible_before"]
        frames.append(part)
    return pd.concat(frames, ignore_index=True)[BARRIER_COLUMNS].sort_values(
        ["barrier_id", "species"], kind="stable").reset_index(drop=True)


def fish_table(species: dict[str, Any], metrics: dict[str, tuple[float, float]],
               units: dict[str, str],
               indices: dict[tuple[str, str], tuple[float, float]] | None = None
               ) -> pd.DataFrame:
    """Per species: the optimised metric, accessible habitat (migratory) or DCI_p
    (resident), before and after, with the target and whether it is met; then the other
    connectivity indices evaluated (``indices``: (species, dci_d or dci_p) -> values)."""
    rows = []
    for sp, spec in sorted(species.items()):
        if sp not in metrics:
            continue
        before, after = metrics[sp]
        migratory = spec.movement == "migratory"
        target = spec.target
        rows.append({
            "species": sp, "movement": spec.movement,
            "metric": "accessible_habitat" if migratory else "dci_p",
            "before": before, "after": after, "gain": after - before,
            "target": np.nan if target is None else target,
            "target_met": "" if target is None else bool(after >= target * (1 - 1e-9) - 1e-9),
            "unit": (f"{units.get(sp, 'km')} (quality-weighted)" if migratory else "percent"),
        })
        for (name, index), (before, after) in sorted((indices or {}).items()):
            if name == sp:
                rows.append({"species": sp, "movement": spec.movement, "metric": index,
                             "before": before, "after": after, "gain": after - before,
                             "target": np.nan, "target_met": "", "unit": "percent"})
    return pd.DataFrame(rows, columns=["species", "movement", "metric", "before", "after",
                                       "gain", "target", "target_met", "unit"])
