"""Issue 20: prioritizr's features as calls and model-file keys, on hand-solved cases, the
Baoxing park model (invariants recomputed from the run's tables) and ``dss solve input.dat``.
The enumeration tests of the same features are in test_planning_prioritizr_bruteforce.py.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from test_planning_marxan import brute_force, grid_project
from typer.testing import CliRunner

from dss.cli import app
from dss.config.loader import load_model
from dss.errors import InputError
from dss.planning.adjacency import FeatureContiguityConstraint
from dss.planning.bounds import ManualBoundedConstraint, ManualLockedConstraint
from dss.planning.constraints import NeighborConstraint
from dss.planning.extra_objectives import MaxCoverObjective, MinPenaltiesObjective
from dss.planning.marxan import read_marxan
from dss.planning.problem import PlanningProblem
from dss.planning.solve import SolverOptions
from dss.planning.study import build_study_problem

ROOT = Path(__file__).resolve().parents[1]
PARK = ROOT / "models" / "baoxing_park.yaml"
EXACT = SolverOptions(gap=0.0, abs_gap=1e-9, time_limit=60)
RUNNER = CliRunner()


def line(n: int, amounts: list[list[float]], cost: list[float] | np.ndarray,
         zones: list[str] | None = None) -> PlanningProblem:
    """Units u0..u{n-1} in a row, each adjacent to the next (boundary 1)."""
    ids = [f"u{i}" for i in range(n)]
    rows = [{"feature": f"f{f}", "unit": ids[i], "amount": a}
            for f, values in enumerate(amounts) for i, a in enumerate(values) if a]
    bound = pd.DataFrame({"id1": ids[:-1], "id2": ids[1:], "boundary": 1.0})
    return PlanningProblem.from_tables(pd.DataFrame({"id": ids}),
                                       [f"f{f}" for f in range(len(amounts))],
                                       pd.DataFrame(rows), cost=np.asarray(cost, dtype=float),
                                       zones=zones, boundary=bound)


# ----------------------------------------------------------------------- hand-solved cases


def test_fractional_manual_lock_with_proportions() -> None:
    """u0 is locked at 0.5. Target 4 of f0 (amounts 2, 2, 4; costs 1, 3, 4): the rest of the
    target (3) comes from u1 at cost 1.5/unit-of-f (3/2) or u2 at 1 (4/4): u2 at 0.75.
    Cost 0.5 * 1 + 0.75 * 4 = 3.5."""
    p = (line(3, [[2, 2, 4]], [1, 3, 4]).add_proportion_decisions()
         .add_absolute_targets(4).add_min_set_objective()
         .add_manual_locked_constraints(pd.DataFrame({"pu": ["u0"], "status": [0.5]})))
    r = p.solve(EXACT)
    assert r.status == "optimal"
    assert r.solution[:, 0] == pytest.approx([0.5, 0.0, 0.75])
    assert r.objective == pytest.approx(3.5)
    with pytest.raises(InputError, match="fractional manual locks need proportion"):
        p.add_binary_decisions().solve(EXACT)


def test_manual_bounds_hand_solved() -> None:
    """Proportions; u2 (the cheapest per amount, 1) bounded to at most 0.25 holds 1 of the
    target 4 for cost 1; u1 (1.5 per amount) all of its 2 for 3; the last 1 from u0 (5 per
    amount): u0 at 0.5 for 5. Cost 9."""
    p = (line(3, [[2, 2, 4]], [10, 3, 4]).add_proportion_decisions()
         .add_absolute_targets(4).add_min_set_objective()
         .add_manual_bounded_constraints(pd.DataFrame(
             {"pu": ["u2"], "lower": [0.0], "upper": [0.25]})))
    r = p.solve(EXACT)
    assert r.solution[:, 0] == pytest.approx([0.5, 1.0, 0.25])
    assert r.objective == pytest.approx(9.0)


def test_na_cost_and_relative_target() -> None:
    """u0 (amount 6 of 10) has an NA cost: it cannot be selected, yet a 50 % target is 5
    (of the total 10, u0 included), met by u1 + u2 (2 + 2 < 5: infeasible) ... so with a
    40 % target (4) the plan is u1 + u2."""
    p = line(3, [[6, 2, 2]], [math.nan, 1, 1]).add_min_set_objective()
    assert p.add_relative_targets(0.5).targets[0].amount == pytest.approx(5.0)
    assert p.add_relative_targets(0.5).solve(EXACT).status == "infeasible"
    r = p.add_relative_targets(0.4).solve(EXACT)
    assert r.status == "optimal" and r.solution[:, 0].tolist() == [0, 1, 1]
    with pytest.raises(InputError, match="cannot be allocated to zone 'selected'"):
        p.add_relative_targets(0.4).add_manual_locked_constraints(
            pd.DataFrame({"pu": ["u0"], "status": [1]})).solve(EXACT)


def test_tie_breaker_prefers_the_cheaper_plan() -> None:
    """Max features, budget 10: u0 (cost 9) or u1 (cost 2) each meet the one target;
    with prioritizr's tie-breaker the cheaper u1 is chosen, and the reported objective and
    bound stay 1 (the tie-breaking term is left out)."""
    p = line(2, [[1, 1]], [9, 2]).add_absolute_targets(1)
    r = p.add_max_features_objective(10, tie_breaker=True).solve(EXACT)
    assert r.solution[:, 0].tolist() == [0, 1]
    assert r.objective == pytest.approx(1.0) and r.bound == pytest.approx(1.0)
    assert "tie_breaker" not in r.terms


def test_zone_amount_table_and_per_zone_budgets() -> None:
    """Two zones with their own amounts: a relative target over zone b is a share of the
    total in zone b (prioritizr's per-zone totals); per-zone budgets hold separately."""
    ids = ["u0", "u1", "u2"]
    amounts = pd.DataFrame({"feature": "f", "unit": ids * 2, "zone": ["a"] * 3 + ["b"] * 3,
                            "amount": [1, 1, 1, 4, 0, 4]})
    p = PlanningProblem.from_tables(pd.DataFrame({"id": ids}), ["f"], amounts,
                                    cost=np.array([[1, 5], [1, 5], [1, 1]], dtype=float),
                                    zones=["a", "b"])
    assert p.add_relative_targets(0.5, "b").targets[0].amount == pytest.approx(4.0)
    r = (p.add_relative_targets(0.5, "b").add_absolute_targets(1, "a")
         .add_min_shortfall_objective({"a": 1, "b": 1}).solve(EXACT))
    # zone b can afford only u2 (cost 1): 4 of the 4 target; zone a then takes u0 or u1
    assert r.objective == pytest.approx(0.0)
    assert r.solution[2].tolist() == [0, 1] and r.solution[:2, 0].sum() == 1
    with pytest.raises(InputError, match="one budget per zone"):
        p.add_max_utility_objective([1, 2, 3])


def test_upper_target_and_negative_amounts() -> None:
    """f1 is harmed by u1 (-3): max utility with budget 2 takes u0 and u2 (utility
    2 + 2 + 1 = 5, not u1's 4 - 3 = 1); an upper-bound target f0 <= 2 under min set
    with a lower one f1 >= 1 leaves exactly one f0 unit."""
    p = line(3, [[2, 4, 2], [0, -3, 1]], [1, 1, 1])
    r = p.add_max_utility_objective(2).solve(EXACT)
    assert r.solution[:, 0].tolist() == [1, 0, 1] and r.objective == pytest.approx(5.0)
    q = p.add_manual_targets([{"feature": "f0", "target": 2, "sense": "<="},
                              {"feature": "f1", "target": 1}]).add_min_set_objective()
    r = q.solve(EXACT)
    assert r.solution[:, 0].tolist() == [0, 0, 1]
    with pytest.raises(InputError, match="unknown target sense"):
        p.add_manual_targets([{"feature": "f0", "target": 2, "sense": "<"}])


def test_clamp_exempts_locked_in_and_ignores_locked_out() -> None:
    """A line of 3 with k = 2: no unit has 2 selectable neighbours, so without clamp
    nothing can be selected; with clamp u1 (2 neighbours, u0 locked out) needs 1."""
    p = line(3, [[1, 1, 1]], [1, 1, 1]).add_absolute_targets(1).add_min_set_objective()
    assert p.add_neighbor_constraints(2).solve(EXACT).status == "infeasible"
    q = p.add_locked_out_constraints(["u0"]).add_neighbor_constraints(2, clamp=True)
    r = q.solve(EXACT)
    assert r.status == "optimal" and r.solution[:, 0].tolist() == [0, 1, 1]
    # a locked-in unit is exempt: u0 alone is a valid plan
    r = p.add_locked_in_constraints(["u0"]).add_neighbor_constraints(2, clamp=True).solve(EXACT)
    assert r.solution[:, 0].tolist() == [1, 0, 0]


def test_feature_contiguity_and_min_penalties() -> None:
    """f0 sits at both ends of a line of 4 (amounts 2, 0, 0, 2; target 4): held in one
    piece it needs the middle units too (cost 4), not just the ends (cost 2). The minimum
    penalties objective then finds the least boundary meeting the same target."""
    p = line(4, [[2, 0, 0, 2]], [1, 1, 1, 1]).add_absolute_targets(4)
    assert p.add_min_set_objective().solve(EXACT).objective == pytest.approx(2.0)
    r = p.add_min_set_objective().add_feature_contiguity_constraints().solve(EXACT)
    assert r.objective == pytest.approx(4.0) and r.solution[:, 0].sum() == 4
    r = p.add_boundary_penalties(1.0).add_min_penalties_objective().solve(EXACT)
    assert r.objective == pytest.approx(0.0)  # all four: no internal boundary exposed
    with pytest.raises(InputError, match="needs penalties"):
        p.add_min_penalties_objective().solve(EXACT)


def test_negative_boundary_penalty_spreads() -> None:
    """BLM -1 rewards boundary. Two of four units in a line (target 2, costs 1, no outer
    edge): u0+u2 or u1+u3 cut all three shared edges (boundary 3), u0+u3 or u1+u2 two,
    neighbours one. Best: cost 2 - 3 = -1, with a gap between the two units."""
    p = line(4, [[1, 1, 1, 1]], [1, 1, 1, 1]).add_absolute_targets(2).add_min_set_objective()
    r = p.add_boundary_penalties(-1.0, edge_factor=0).solve(EXACT)
    assert np.flatnonzero(r.solution[:, 0]).tolist() in ([0, 2], [1, 3])
    assert r.objective == pytest.approx(-1.0)


def test_max_cover_hand_solved() -> None:
    """Three features; u0 holds f0 and f1 (cost 3), u1 f2 (cost 1), u2 f0 (cost 1):
    budget 4 covers all three with u0 + u1."""
    p = line(3, [[1, 0, 1], [1, 0, 0], [0, 1, 0]], [3, 1, 1])
    r = p.add_max_cover_objective(4).solve(EXACT)
    assert r.objective == pytest.approx(3.0) and r.solution[:, 0].tolist() == [1, 1, 0]
    assert p.add_max_cover_objective(2).solve(EXACT).objective == pytest.approx(2.0)


def test_bad_prioritizr_input_is_located() -> None:
    p = line(2, [[1, 1]], [1, 1])
    with pytest.raises(InputError) as err:
        p.add_manual_locked_constraints(pd.DataFrame(
            {"pu": ["u0", "zz"], "status": [2, "x"]}), "locks.csv")
    text = str(err.value)
    for needle in ("locks.csv, row 3, column pu: unknown planning unit 'zz'",
                   "locks.csv, row 2, column status: 2 is outside [0, 1]",
                   "locks.csv, row 3, column status: not a number: 'x'"):
        assert needle in text, text
    amounts = pd.DataFrame({"feature": ["f"], "unit": ["u0"], "zone": ["zz"], "amount": [1]})
    with pytest.raises(InputError, match="amounts, row 2, column zone: unknown zone 'zz'"):
        PlanningProblem.from_tables(pd.DataFrame({"id": ["u0"]}), ["f"], amounts,
                                    cost=np.ones((1, 2)), zones=["a", "b"])
    units = pd.DataFrame({"id": ["u0", "u1"], "cost": [None, "x"]})
    with pytest.raises(InputError, match="row 3, column cost: not a number: 'x'"):
        PlanningProblem.from_tables(units, ["f"], pd.DataFrame(
            {"feature": ["f"], "unit": ["u1"], "amount": [1]}))


# ------------------------------------------------------------------------- model files


def park_problem(tmp_path: Path, planning: dict) -> PlanningProblem:
    """The Baoxing park model with ``planning`` keys replaced, built as dss solve does."""
    model = yaml.safe_load(PARK.read_text(encoding="utf-8"))
    model["planning"].update(planning)
    model["inputs"] = str(ROOT / "inputs" / "baoxing")
    path = tmp_path / "park.yaml"
    path.write_text(yaml.safe_dump(model, allow_unicode=True), encoding="utf-8")
    from dss.data.study import load_study

    resolved = load_model(path)
    study = load_study(resolved.inputs_dir, "baoxing_park")
    return build_study_problem(study, resolved.config.planning, resolved.inputs_dir).problem


def test_every_key_reaches_its_call(tmp_path: Path) -> None:
    p = park_problem(tmp_path, {
        "objective": {"type": "max_cover", "budget": {"core": 1e8, "general": 5e7},
                      "tie_breaker": True},
        "neighbours": {"k": 2, "clamp": True, "zones": ["core", "general"]},
        "feature_contiguity": {"zones": ["core", "general"], "features": ["giant_panda"]},
        "manual_locks": [{"unit": "E1", "zone": "outside", "status": 1}],
        "manual_bounds": [{"unit": "E2", "zone": "core", "lower": 0, "upper": 0}],
        "unavailable": {"E3": ["core"]},
        "targets": {"people": {"feature": "people", "zones": ["core"], "absolute": 100,
                               "sense": "<="}},
        "features": {"giant_panda": {"attribute": "habitat:giant_panda",
                                     "zone_attributes": {"general": "forest_ha"}},
                     "people": {"attribute": "population", "factor": -1}},
        "boundary": {"table": "boundaries.csv", "penalty": -10.0},
    })
    assert isinstance(p.objective, MaxCoverObjective) and p.objective.tie_breaker
    assert p.objective.budget == (1e8, 5e7, math.inf)
    kinds = {type(c) for c in p.constraints}
    assert {NeighborConstraint, FeatureContiguityConstraint, ManualLockedConstraint,
            ManualBoundedConstraint} <= kinds
    assert next(c for c in p.constraints if isinstance(c, NeighborConstraint)).clamp
    assert p.targets[-1].sense == "<=" and p.data.unavailable is not None
    assert p.data.unavailable[p.data.unit_ids.index("E3"), 0]
    assert p.data.zone_amounts is not None and (p.data.amounts[1] <= 0).all()
    assert p.penalties[0].penalty == -10.0
    q = park_problem(tmp_path, {"objective": {"type": "min_penalties"}})
    assert isinstance(q.objective, MinPenaltiesObjective) and q.objective.budget is None


def test_bad_keys_are_located(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        park_problem(tmp_path, {"manual_locks": [{"unit": "E99", "zone": "core",
                                                  "status": 1}],
                                "unavailable": {"E1": ["cor"]},
                                "feature_contiguity": {"features": ["tiger"]}})
    text = str(err.value)
    for needle in ("planning.manual_locks.0.unit: unknown subunit 'E99'",
                   "planning.unavailable.E1: unknown zone 'cor'",
                   "planning.feature_contiguity.features: unknown feature 'tiger'"):
        assert needle in text, text


def test_park_with_prioritizr_keys_holds_them(tmp_path: Path) -> None:
    """dss solve on the park with an upper-bound target on people in the core, an NA cost
    and a manual lock: each holds in the written tables (people recounted from
    subunits.csv)."""
    model = yaml.safe_load(PARK.read_text(encoding="utf-8"))
    model["inputs"] = str(ROOT / "inputs" / "baoxing")
    model["planning"].pop("portfolio", None)
    model["planning"].pop("irreplaceability", None)
    model["planning"]["features"]["people"] = {"attribute": "population"}
    model["planning"]["targets"]["people_cap"] = {"feature": "people",
                                                  "zones": ["core"], "absolute": 2900,
                                                  "sense": "<="}
    model["planning"]["unavailable"] = {"E10": ["core"]}
    model["planning"]["manual_locks"] = [{"unit": "M9", "zone": "general", "status": 1}]
    path = tmp_path / "park.yaml"
    path.write_text(yaml.safe_dump(model, allow_unicode=True), encoding="utf-8")
    result = RUNNER.invoke(app, ["solve", str(path), "--out", str(tmp_path / "res")])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "res" / "baoxing_park" / "base"
    zoning = pd.read_csv(folder / "zoning.csv", keep_default_na=False).set_index("unit")
    su = pd.read_csv(ROOT / "inputs" / "baoxing" / "subunits.csv").set_index("subunit_id")
    assert zoning.loc["E10", "zone"] != "core" and zoning.loc["M9", "zone"] == "general"
    core = zoning.index[zoning["zone"] == "core"]
    assert su.loc[core, "population"].sum() <= 2900 + 1e-6
    targets = pd.read_csv(folder / "targets.csv")
    row = targets[targets["target"].str.startswith("people")].iloc[0]
    assert row["sense"] == "<=" and bool(row["met"])


def test_dss_solve_a_marxan_input_dat(tmp_path: Path) -> None:
    """``dss solve path/to/input.dat`` runs the Marxan project exactly (the brute-force
    optimum of test_planning_marxan)."""
    grid_project(tmp_path / "proj")
    result = RUNNER.invoke(app, ["solve", str(tmp_path / "proj" / "input.dat"), "--out",
                                 str(tmp_path / "res")])
    assert result.exit_code == 0, result.output
    summary = pd.read_csv(tmp_path / "res" / "proj" / "base" / "summary.csv")
    value = float(summary.set_index("metric")["value"]["objective"])
    assert value == pytest.approx(brute_force(read_marxan(tmp_path / "proj")))
    missing = RUNNER.invoke(app, ["solve", str(tmp_path / "nope" / "input.dat")])
    assert missing.exit_code == 2 and "nope" in missing.output and "not found" in missing.output


def test_marxan_project_with_a_negative_blm(tmp_path: Path) -> None:
    """A negative BLM (from a model file's boundary.penalty; input.dat keeps Marxan's
    BLM >= 0) spreads the reserve; the optimum equals enumeration."""
    project = read_marxan(grid_project(tmp_path / "proj"))
    result = project.problem(blm=-0.5).solve(EXACT)
    assert result.status == "optimal"
    project.params["BLM"] = "-0.5"  # the enumeration reads the project's BLM
    assert result.objective == pytest.approx(brute_force(project))


def test_marxan_model_with_prioritizr_keys(tmp_path: Path) -> None:
    """A Marxan project's model file may add contiguity and change the objective; the
    contiguous optimum equals enumeration of the connected plans; study-only keys are
    refused where they are written."""
    import itertools

    import networkx as nx

    grid_project(tmp_path / "proj", blm=0.0, seed=4)  # unconstrained optimum: 20, split
    model = {"name": "grid", "kind": "planning", "inputs": "proj",
             "solver": {"mip_gap": 0.0},
             "planning": {"source": "marxan", "marxan": "input.dat", "contiguity": {}}}
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(model), encoding="utf-8")
    result = RUNNER.invoke(app, ["solve", str(path), "--out", str(tmp_path / "res")])
    assert result.exit_code == 0, result.output
    summary = pd.read_csv(tmp_path / "res" / "grid" / "base" / "summary.csv")
    got = float(summary.set_index("metric")["value"]["objective"])
    project = read_marxan(tmp_path / "proj")
    pu, spec, puvspr, bound = project.pu, project.spec, project.puvspr, project.bound
    ids = pu["id"].tolist()
    pos = {u: k for k, u in enumerate(ids)}
    graph = nx.Graph()
    graph.add_nodes_from(range(len(ids)))
    graph.add_edges_from((pos[a], pos[b]) for a, b in zip(bound["id1"], bound["id2"],
                                                          strict=True) if a != b)
    status = pu["status"].to_numpy()
    free = np.flatnonzero(status < 2)
    best = math.inf
    for bits in itertools.product((0, 1), repeat=len(free)):
        x = (status == 2).astype(float)
        x[free] = bits
        if not nx.is_connected(graph.subgraph(np.flatnonzero(x).tolist())):
            continue
        ok = True
        for r in spec.itertuples(index=False):
            rows = puvspr[puvspr["species"] == r.id]
            amount = np.zeros(len(ids))
            amount[[pos[u] for u in rows["pu"]]] = rows["amount"].to_numpy()
            target = r.prop * amount.sum() if r.prop > 0 else r.target
            ok &= bool(x @ amount >= target - 1e-9) and bool(x @ (amount > 0) >= r.targetocc)
        if not ok:
            continue
        a = x[[pos[u] for u in bound["id1"]]]
        b = x[[pos[u] for u in bound["id2"]]]
        cut = np.where((bound["id1"] == bound["id2"]).to_numpy(), a, np.abs(a - b))
        best = min(best, float(x @ pu["cost"].to_numpy(float)
                               + project.blm * cut @ bound["boundary"].to_numpy()))
    assert got == pytest.approx(best) and got > brute_force(project) + 1
    model["planning"].update({"targets": {"t": {"feature": "1", "absolute": 1}},
                              "zones": ["a"]})
    path.write_text(yaml.safe_dump(model), encoding="utf-8")
    result = RUNNER.invoke(app, ["solve", str(path), "--out", str(tmp_path / "res2")])
    assert result.exit_code == 2
    assert "planning.zones: zones does not apply to a Marxan project" in result.output
    assert "planning.targets: targets does not apply" in result.output
