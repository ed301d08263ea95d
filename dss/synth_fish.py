"""Synthetic river networks with barriers and barrier options (tests and benchmarks).

A random tree of ``n`` subunits (subunit ``S0`` is the outlet; each other subunit drains to
a random earlier one), one barrier per subunit except the outlet, fish habitat in every
subunit, and ``options`` options per barrier (remove, fishway, e-flow) with random costs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

KINDS = ("remove", "fishway", "eflow")


def _write(folder: Path, name: str, header: list[str], rows: list[list[object]]) -> None:
    lines = [",".join(header)] + [",".join("" if v is None else str(v) for v in r)
                                  for r in rows]
    (folder / f"{name}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_fish_study(folder: Path | str, barriers: int, options: int = 2, seed: int = 0,
                     budget_share: float = 0.1, partial: bool = True, land: bool = False,
                     resident: bool = False) -> Path:
    """Write a study and its ``model.yaml`` into ``folder``; returns the model file.

    Args:
        barriers: Number of barriers (one per non-outlet subunit).
        options: Options per barrier (1 to 3: remove, fishway, e-flow).
        seed: Random seed.
        budget_share: Budget as a share of the total option cost.
        partial: Random partial passabilities today (else 0).
        land: Value the land action (reforestation, 1,000 CNY/ha, 40 t/ha/yr of sediment
            kept out of the outlet at 0.5 CNY/t) so that it competes for the budget; without
            it the action is in the catalogue but worth nothing.
        resident: Value the species as resident (DCI_p) instead of migratory.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    n = barriers + 1
    down = [None] + [f"S{int(rng.integers(0, i))}" for i in range(1, n)]
    _write(folder, "subunits", ["subunit_id", "name", "downstream_id", "area_ha", "township",
                                "usle_r", "usle_k", "usle_ls", "sdr", "stream_km"],
           [[f"S{i}", f"S{i}", down[i], 100, f"t{i % 2}", 100, 1, 1, 1, 5] for i in range(n)])
    _write(folder, "land_classes", ["land_class", "name", "usle_c", "usle_p", "tn_export",
                                    "tp_export"],
           [["crop", "crop", 0.5, 1, 2, 0.1], ["forest", "forest", 0.1, 1, 2, 0.1]])
    _write(folder, "land_cover", ["subunit_id", "land_class", "area_ha"],
           [[f"S{i}", "crop", 100] for i in range(n)])
    _write(folder, "species", ["species", "name"], [["fish", "fish"]])
    _write(folder, "actions", ["action_id", "name", "applies_to", "unit", "leads_to",
                               "capital_cost", "agency"],
           [["reforest", "reforest", "crop", "ha", "forest", 1000, "forestry"]])
    pass_now = np.round(rng.uniform(0, 0.6, size=n), 2) if partial else np.zeros(n)
    _write(folder, "barriers", ["barrier_id", "name", "subunit_id", "passability",
                                "dewatered_km", "status"],
           [[f"B{i}", f"B{i}", f"S{i}", pass_now[i], round(float(rng.uniform(0, 3)), 2),
             "active"] for i in range(1, n)])
    rows = []
    total = 0.0
    for i in range(1, n):
        for j in range(options):
            kind = KINDS[j]
            cost = float(rng.integers(1, 100)) * 1000
            p = "" if kind == "remove" else (round(float(rng.uniform(pass_now[i], 1)), 2)
                                             if kind == "fishway" else "")
            rows.append([f"B{i}-{kind}", f"B{i}", kind, p, cost,
                         "water" if i % 3 else "fisheries"])
            total += cost
    _write(folder, "barrier_options", ["option_id", "barrier_id", "kind", "passability",
                                       "capital_cost", "agency"], rows)
    _write(folder, "fish_habitat", ["species", "subunit_id", "habitat", "quality"],
           [["fish", f"S{i}", round(float(rng.uniform(1, 20)), 2),
             round(float(rng.uniform(0.3, 1)), 2)] for i in range(n)])
    components: dict = {
        "objective": {"type": "max_benefit"},
        "budget": {"type": "budget", "total": float(round(budget_share * total))},
        "land": {"type": "land"},
        "fish": {"type": "fish_passage", "species": {"fish": {
            "movement": "resident" if resident else "migratory", "value": 1000.0}}},
    }
    if land:
        _write(folder, "control_points", ["point_id", "name", "subunit_id", "kind",
                                          "cares_tn", "cares_tp"],
               [["out", "outlet", "S0", "outlet", "false", "false"]])
        components["water"] = {"type": "delivered_reduction", "values": {"sediment": 0.5}}
    model = {"name": "fish", "inputs": ".", "settings": {"horizon_years": 1},
             "solver": {"mip_gap": 0.0, "threads": 1, "time_limit": 600},
             "components": components}
    path = folder / "model.yaml"
    path.write_text(yaml.safe_dump(model, sort_keys=False), encoding="utf-8")
    return path
