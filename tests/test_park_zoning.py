"""The park and the watershed in one model (``park_zoning``), proven against enumeration.

Small random studies of three subunits: every zoning (core / general / outside per subunit)
times every whole-number amount of the two actions is enumerated with this file's own
arithmetic (park cost, boundary length, connectivity, targets with restored habitat,
carbon and habitat values, budget, zone rules), and the joint model must equal the best.
The sequential way (the park designed alone first, then the restoration inside it) is never
better than the joint model, and on some studies strictly worse.
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pyomo.environ as pyo
import pytest
import yaml

from dss.errors import InputError
from dss.optimize.components import available, get
from dss.optimize.components.base import register, unregister
from dss.optimize.problem import Problem
from dss.planning.parts import Part
from dss.planning.problem import PlanningProblem

ZONES = ("core", "general", "outside")
UNITS = ("A", "B", "C")
PAIRS = (("A", "B"), ("B", "C"), ("A", "C"))
CARBON = {"crop": 10.0, "forest": 100.0, "rock": 0.0}
AREA = 100.0


def _csv(folder: Path, name: str, rows: list[dict]) -> None:
    pd.DataFrame(rows).to_csv(folder / f"{name}.csv", index=False)


def make_case(rng: np.random.Generator) -> dict:
    """Random data of one small study (everything the enumeration needs)."""
    return {
        "population": rng.integers(0, 50, 3).astype(float),
        "habitat": rng.integers(0, 40, 3).astype(float),
        "quality": np.round(rng.uniform(0.5, 1.0, 3), 2),
        "length": {p: float(rng.integers(1, 4)) for p in PAIRS if p != ("A", "C")
                   or rng.random() < 0.5},
        "border": rng.integers(0, 3, 3).astype(float),
        "cost_core": float(rng.integers(50, 400)), "cost_general": float(rng.integers(5, 60)),
        "area_core": float(rng.integers(0, 30)), "area_general": float(rng.integers(0, 10)),
        "blm": float(rng.choice([0.0, 20.0, 100.0])),
        "park_share": float(rng.choice([0.5, 0.7])), "core_share": float(rng.choice([0.0, 0.4])),
        "reforest_cost": float(rng.integers(500, 2000)),
        "patrol_cost": float(rng.integers(100, 800)),
        "gain": float(rng.choice([2.0, 5.0])),
        "carbon_value": float(rng.integers(5, 30)), "habitat_value": float(rng.integers(100, 2000)),
        "budget": float(rng.integers(1000, 6000)),
    }


def write_case(folder: Path, case: dict, sequential: bool = False) -> Path:
    """The study folder and model file of a case."""
    folder.mkdir(parents=True, exist_ok=True)
    _csv(folder, "subunits", [{
        "subunit_id": u, "name": u, "name_zh": u, "downstream_id": d, "area_ha": AREA,
        "township": "t1", "share_core": 0.0, "share_general": 0.0, "share_outside": 1.0,
        "population": case["population"][i], "usle_r": 100.0, "usle_k": 0.1, "usle_ls": 1.0,
        "sdr": 0.1, "retention_sediment": 0.0, "retention_tn": 0.0, "retention_tp": 0.0,
        "stream_km": 1.0, "hazard_sites": 0} for i, (u, d) in enumerate(
            zip(UNITS, ("B", "C", None), strict=True))])
    _csv(folder, "land_classes", [
        {"land_class": c, "name": c, "usle_c": 0.1, "usle_p": 1.0, "tn_export": 1.0,
         "tp_export": 0.1, "mass_yield": 0.0, "carbon_stock": CARBON[c]} for c in CARBON])
    _csv(folder, "land_cover", [{"subunit_id": u, "land_class": c, "area_ha": a}
                                for u in UNITS for c, a in (("crop", 2.0), ("forest", 2.0),
                                                             ("rock", 96.0))])
    action = {"unit": "ha", "annual_cost": 0.0, "fixed_cost": 0.0, "integer": True,
              "agency": "agency", "sediment_removal": 0.0, "tn_removal": 0.0,
              "tp_removal": 0.0, "sediment_trap": 0.0}
    _csv(folder, "actions", [
        {"action_id": "reforest", "name": "reforest", "applies_to": "crop",
         "leads_to": "forest", "capital_cost": case["reforest_cost"], "habitat_species": "",
         "habitat_gain": 0.0, **action},
        {"action_id": "patrol", "name": "patrol", "applies_to": "forest", "leads_to": "",
         "capital_cost": case["patrol_cost"], "habitat_species": "sp",
         "habitat_gain": case["gain"], **action}])
    _csv(folder, "control_points", [{"point_id": "out", "name": "out", "subunit_id": "C",
                                     "kind": "outlet", "cares_sediment": True,
                                     "cares_tn": False, "cares_tp": False, "weight": 1.0}])
    _csv(folder, "species", [{"species": "sp", "name": "sp", "name_zh": "sp",
                              "scientific_name": "sp", "status": "-"}])
    _csv(folder, "species_habitat", [
        {"species": "sp", "subunit_id": u, "habitat_ha": case["habitat"][i],
         "quality": case["quality"][i], "individuals": 0} for i, u in enumerate(UNITS)])
    _csv(folder, "boundaries", [
        {"subunit_a": a, "subunit_b": b, "length_km": v, "kind": "ridge"}
        for (a, b), v in case["length"].items()] + [
        {"subunit_a": u, "subunit_b": u, "length_km": case["border"][i], "kind": "county_border"}
        for i, u in enumerate(UNITS) if case["border"][i] > 0])
    design = {
        "zones": list(ZONES),
        "costs": {"core": {"population": case["cost_core"], "area_ha": case["area_core"]},
                  "general": {"population": case["cost_general"],
                              "area_ha": case["area_general"]}},
        "features": {"sp": {"attribute": "habitat_q:sp"}},
        "targets": {"park": {"feature": "sp", "zones": ["core", "general"],
                             "relative": case["park_share"]},
                    "core": {"feature": "sp", "zones": ["core"], "relative": case["core_share"]}},
        "boundary": {"table": "boundaries.csv", "penalty": case["blm"], "edge_factor": 1.0,
                     "zones": ["core", "general"]},
        "contiguity": {"zones": ["core", "general"]},
    }
    model = {
        "name": "joint", "inputs": ".", "settings": {"horizon_years": 1},
        "solver": {"mip_gap": 0.0, "threads": 1, "time_limit": 60},
        "components": {
            "objective": {"type": "max_benefit"},
            "budget": {"type": "budget", "total": case["budget"]},
            "land": {"type": "land"},
            "habitat": {"type": "habitat", "species": {"sp": {"value": case["habitat_value"]}}},
            "carbon": {"type": "carbon", "value": case["carbon_value"]},
            "zones": {"type": "park_zoning", "sequential": sequential, "design": design,
                      "rules": {"core": {"forbidden": ["reforest"]},
                                "outside": {"forbidden": ["patrol"]}}},
        }}
    path = folder / ("sequential.yaml" if sequential else "model.yaml")
    path.write_text(yaml.safe_dump(model, sort_keys=False), encoding="utf-8")
    return path


def _connected(members: list[str], case: dict) -> bool:
    graph = nx.Graph()
    graph.add_nodes_from(members)
    graph.add_edges_from(p for p in case["length"] if p[0] in members and p[1] in members)
    return len(members) <= 1 or nx.is_connected(graph)


def park_cost(zoning: tuple[int, ...], case: dict) -> float:
    """Opportunity cost plus the boundary penalty of a zoning (this file's arithmetic)."""
    area = AREA
    cost = 0.0
    for i, z in enumerate(zoning):
        if ZONES[z] == "core":
            cost += case["cost_core"] * case["population"][i] + case["area_core"] * area
        elif ZONES[z] == "general":
            cost += case["cost_general"] * case["population"][i] + case["area_general"] * area
    park = [1.0 if ZONES[z] != "outside" else 0.0 for z in zoning]
    index = {u: i for i, u in enumerate(UNITS)}
    perimeter = sum(v * abs(park[index[a]] - park[index[b]]) for (a, b), v in
                    case["length"].items())
    perimeter += sum(case["border"][i] * park[i] for i in range(3))
    return cost + case["blm"] * perimeter


def enumerate_best(case: dict, zonings: list[tuple[int, ...]] | None = None) -> float:
    """The best objective over every zoning and every whole-number plan."""
    quality_habitat = case["habitat"] * case["quality"]
    total = quality_habitat.sum()
    carbon = case["carbon_value"] * (CARBON["forest"] - CARBON["crop"])
    best = -np.inf
    plans = list(itertools.product(range(3), repeat=6))  # (reforest, patrol) x 3 units
    for zoning in zonings or list(itertools.product(range(3), repeat=3)):
        members = [u for u, z in zip(UNITS, zoning, strict=True) if ZONES[z] != "outside"]
        if not _connected(members, case):
            continue
        cost = park_cost(zoning, case)
        for plan in plans:
            refo, patrol = np.array(plan[0::2], float), np.array(plan[1::2], float)
            if any(ZONES[z] == "core" and refo[i] > 0 or ZONES[z] == "outside"
                   and patrol[i] > 0 for i, z in enumerate(zoning)):
                continue
            if case["reforest_cost"] * refo.sum() + case["patrol_cost"] * patrol.sum() \
                    > case["budget"] + 1e-9:
                continue
            gained = case["gain"] * patrol
            park = np.array([ZONES[z] != "outside" for z in zoning])
            core = np.array([ZONES[z] == "core" for z in zoning])
            if (quality_habitat + gained)[park].sum() < case["park_share"] * total - 1e-9:
                continue
            if (quality_habitat + gained)[core].sum() < case["core_share"] * total - 1e-9:
                continue
            value = carbon * refo.sum() + case["habitat_value"] * gained.sum() - cost
            best = max(best, value)
    return best


def design_alone(case: dict) -> list[tuple[int, ...]]:
    """Zonings of least park cost meeting the targets without restoration."""
    quality_habitat = case["habitat"] * case["quality"]
    total = quality_habitat.sum()
    found: dict[tuple[int, ...], float] = {}
    for zoning in itertools.product(range(3), repeat=3):
        members = [u for u, z in zip(UNITS, zoning, strict=True) if ZONES[z] != "outside"]
        park = np.array([ZONES[z] != "outside" for z in zoning])
        core = np.array([ZONES[z] == "core" for z in zoning])
        if _connected(members, case) and \
                quality_habitat[park].sum() >= case["park_share"] * total - 1e-9 and \
                quality_habitat[core].sum() >= case["core_share"] * total - 1e-9:
            found[zoning] = park_cost(zoning, case)
    least = min(found.values())
    return [z for z, c in found.items() if c <= least + 1e-6 * max(1.0, abs(least))]


CASES = 12


@pytest.fixture(scope="module")
def solved(tmp_path_factory) -> list[tuple[dict, float, float, pd.DataFrame]]:
    rng = np.random.default_rng(20261206)
    out = []
    for k in range(CASES):
        case = make_case(rng)
        folder = tmp_path_factory.mktemp(f"case{k}")
        joint = Problem.from_model(write_case(folder, case)).solve()
        sequential = Problem.from_model(write_case(folder, case, sequential=True)).solve()
        assert joint.status == sequential.status == "optimal", k
        zoning = joint.built.problem.components[-1].plan_tables(joint.built, joint)["zoning"]
        out.append((case, joint.objective, sequential.objective, zoning))
    return out


def test_joint_equals_enumeration(solved) -> None:
    for k, (case, joint, _seq, _zoning) in enumerate(solved):
        assert joint == pytest.approx(enumerate_best(case), rel=1e-7, abs=1e-6), k


def test_sequential_equals_enumeration_inside_the_park_designed_alone(solved) -> None:
    for k, (case, _joint, seq, _zoning) in enumerate(solved):
        # the sequential plan is the best restoration inside one of the least-cost designs
        options = [enumerate_best(case, [z]) for z in design_alone(case)]
        assert any(seq == pytest.approx(v, rel=1e-7, abs=1e-6) for v in options), k


def test_joint_is_never_worse_and_sometimes_better(solved) -> None:
    gains = [joint - seq for _case, joint, seq, _z in solved]
    assert min(gains) >= -1e-6
    assert sum(g > 1e-6 for g in gains) >= 1, gains


def test_zoning_table_has_one_zone_per_subunit(solved) -> None:
    for _case, _joint, _seq, zoning in solved:
        assert sorted(zoning["unit"]) == list(UNITS)
        assert set(zoning["zone"]) <= set(ZONES)


def test_one_registry_lists_both_families() -> None:
    names = available()
    assert names["park_zoning"].family == "allocation"
    for part in ("min_set", "boundary_penalty", "contiguity", "locked_in"):
        assert names[part].family == "planning"
        assert names[part].math()  # documented the same way: the docstring's mathematics
    assert get("zone_rules").family == "allocation"


def test_a_park_design_part_in_an_allocation_model_is_refused(tmp_path: Path) -> None:
    case = make_case(np.random.default_rng(1))
    path = write_case(tmp_path, case)
    model = yaml.safe_load(path.read_text(encoding="utf-8"))
    model["components"]["perimeter"] = {"type": "boundary_penalty", "penalty": 1.0}
    path.write_text(yaml.safe_dump(model), encoding="utf-8")
    with pytest.raises(InputError) as err:
        Problem.from_model(path)
    (issue,) = err.value.issues
    assert issue.column == "components.perimeter.type"
    assert "park-design part" in issue.message and "park_zoning" in issue.message


def test_bad_design_is_located(tmp_path: Path) -> None:
    case = make_case(np.random.default_rng(2))
    path = write_case(tmp_path, case)
    model = yaml.safe_load(path.read_text(encoding="utf-8"))
    zones = model["components"]["zones"]
    zones["design"]["objective"] = {"type": "min_penalties"}
    zones["design"]["targets"]["park"]["feature"] = "spp"
    zones["rules"]["centre"] = {"forbidden": ["patrl"]}
    model["components"]["old_rules"] = {"type": "zone_rules"}
    path.write_text(yaml.safe_dump(model), encoding="utf-8")
    with pytest.raises(InputError) as err:
        Problem.from_model(path).solve()
    columns = {i.column for i in err.value.issues}
    assert "components.zones.design.objective.type" in columns
    assert "components.zones.rules.centre" in columns
    assert "components.zones.rules.centre.forbidden" in columns
    assert "components.zones.rules" in columns  # the zone_rules component must go


def test_a_researchers_park_design_part_is_written_as_a_component() -> None:
    """A part with ``build(block, ctx)`` only, registered with the one ``register``: at most
    two units selected. Four units with costs 1, 1, 1, 10 and one feature (amounts 1.5,
    1.5, 1.5, 4; target 4): without it the least cost set is {1, 2, 3} (cost 3, 4.5 held);
    no two of the first three hold 4, so with it the answer is {4} (cost 10)."""
    @register
    @dataclasses.dataclass(frozen=True)
    class AtMostTwo(Part):
        """At most two units selected: :math:`\\sum_i y_i \\le 2`."""

        type_name = "at_most_two"
        kind = "constraint"

        def build(self, block, ctx) -> None:
            block.cap = pyo.Constraint(expr=sum(ctx.y(i, (0,)) for i in range(ctx.n)) <= 2)

    try:
        units = pd.DataFrame({"id": [1, 2, 3, 4], "cost": [1.0, 1.0, 1.0, 10.0]})
        amounts = pd.DataFrame({"feature": "f", "unit": [1, 2, 3, 4],
                                "amount": [1.5, 1.5, 1.5, 4.0]})
        problem = (PlanningProblem.from_tables(units, ["f"], amounts).add_min_set_objective()
                   .add_absolute_targets(4.0))
        free = problem.solve()
        capped = problem._add_constraint(AtMostTwo()).solve()
        assert free.objective == pytest.approx(3.0)
        assert list(free.selected()) == [1.0, 1.0, 1.0, 0.0]
        assert capped.objective == pytest.approx(10.0)
        assert list(capped.selected()) == [0.0, 0.0, 0.0, 1.0]
        assert get("at_most_two") is AtMostTwo and AtMostTwo.family == "planning"
        assert AtMostTwo.math().startswith("At most two units")
    finally:
        unregister("at_most_two")
