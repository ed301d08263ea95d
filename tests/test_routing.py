"""Routing of sediment, TN and TP down the river tree, and the river graph helpers.

Three kinds of evidence:

1. an independent hand computation on ``tests/data/tiny`` (6 subunits, a fork and a
   reservoir), compared with the tables ``dss baseline`` writes;
2. mass balance (local = retained + leaving at the outlets) on the Baoxing study and on a
   10,000-subunit synthetic basin;
3. property tests on random trees against a plain recursive reference implementation.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from dss.api import load
from dss.cli import app
from dss.data.study import Study, load_study
from dss.errors import GraphError
from dss.indicators.baseline import compute_baseline
from dss.indicators.loads import retention
from dss.network.graph import (
    build_graph,
    check_network,
    downstream_path,
    outlets,
    topological_order,
    upstream,
)
from dss.network.routing import Routing
from dss.synth import write_study

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "tests" / "data" / "tiny"
BAOXING = ROOT / "models" / "baoxing.yaml"
POLLUTANTS = ("sediment", "tn", "tp")
IDS = ["A", "B", "C", "D", "E", "F"]

# ---------------------------------------------------------------------------------------------
# Hand computation on tests/data/tiny
# ---------------------------------------------------------------------------------------------
#
# Tree (subunits.csv): A -> C, B -> C, C -> E, D -> E, E -> F; F is the outlet.
#
# USLE factors are the same in every subunit: R = 1000, K = 0.01, LS = 10, so R*K*LS = 100.
# Land classes (land_classes.csv), C*P and per-ha rates:
#   forest   C*P = 0.01 -> erosion 1 t/ha,   TN 2 kg/ha,  TP 0.1 kg/ha, mass_yield 0
#   cropland C*P = 0.1  -> erosion 10 t/ha,  TN 20 kg/ha, TP 1 kg/ha,   mass_yield 0
#   scar     C*P = 1    -> erosion 100 t/ha, TN 0,        TP 0,         mass_yield 50 t/ha
#
# Sediment delivered = sdr * gross erosion + mass wasting:
#   A: forest 90 ha -> 90 t, scar 10 ha -> 1000 t; gross 1090; sdr 0.5 -> 545 + 10*50 = 1045
#   B: forest 80 -> 80, cropland 20 -> 200; gross 280; sdr 0.5 -> 140
#   C: forest 50 -> 50; sdr 0.5 -> 25
#   D: forest 60 -> 60, cropland 40 -> 400; gross 460; sdr 0.4 -> 184
#   E: forest 25 -> 25, cropland 25 -> 250; gross 275; sdr 0.2 -> 55
#   F: forest 50 -> 50; sdr 0.2 -> 10
GROSS = {"A": 1090.0, "B": 280.0, "C": 50.0, "D": 460.0, "E": 275.0, "F": 50.0}
MASS = {"A": 500.0, "B": 0.0, "C": 0.0, "D": 0.0, "E": 0.0, "F": 0.0}
SED_LOCAL = {"A": 1045.0, "B": 140.0, "C": 25.0, "D": 184.0, "E": 55.0, "F": 10.0}
#
# Point sources (point_sources.csv), discharge = PE * per_pe * (1 - treated * removal):
#   P_E in E: 1000 PE; TN 1000*4*(1 - 0.5*0.6) = 2800 kg; TP 1000*0.6*(1 - 0.5*0.8) = 360 kg
#   P_D in D:  200 PE, untreated; TN 200*4 = 800 kg;      TP 200*0.6 = 120 kg
# TN = area * tn_export + point sources:
#   A: 90*2 = 180;  B: 80*2 + 20*20 = 560;  C: 50*2 = 100;  D: 60*2 + 40*20 + 800 = 1720
#   E: 25*2 + 25*20 + 2800 = 3350;  F: 50*2 = 100
TN_LOCAL = {"A": 180.0, "B": 560.0, "C": 100.0, "D": 1720.0, "E": 3350.0, "F": 100.0}
TN_POINT = {"A": 0.0, "B": 0.0, "C": 0.0, "D": 800.0, "E": 2800.0, "F": 0.0}
# TP = area * tp_export + point sources:
#   A: 90*0.1 = 9;  B: 8 + 20 = 28;  C: 5;  D: 6 + 40 + 120 = 166;  E: 2.5 + 25 + 360 = 387.5
#   F: 5
TP_LOCAL = {"A": 9.0, "B": 28.0, "C": 5.0, "D": 166.0, "E": 387.5, "F": 5.0}
LOCAL = {"sediment": SED_LOCAL, "tn": TN_LOCAL, "tp": TP_LOCAL}
#
# Retention (share of what enters a reach that stays there), A..F:
#   sediment 0, 0.1, 0.8, 0, 0.05, 0;  TN 0, 0.1, 0.2, 0, 0.05, 0;  TP 0, 0.1, 0.3, 0, 0.05, 0
#
# Outflow O = (1 - r) * (local + sum of children's outflows):
#   sediment: O_A = 1045;  O_B = 0.9*140 = 126;  O_C = 0.2*(25 + 1045 + 126) = 0.2*1196 = 239.2
#             O_D = 184;   O_E = 0.95*(55 + 239.2 + 184) = 0.95*478.2 = 454.29
#             O_F = 10 + 454.29 = 464.29
#   TN:       O_A = 180;   O_B = 0.9*560 = 504;   O_C = 0.8*(100 + 180 + 504) = 627.2
#             O_D = 1720;  O_E = 0.95*(3350 + 627.2 + 1720) = 0.95*5697.2 = 5412.34
#             O_F = 100 + 5412.34 = 5512.34
#   TP:       O_A = 9;     O_B = 0.9*28 = 25.2;   O_C = 0.7*(5 + 9 + 25.2) = 0.7*39.2 = 27.44
#             O_D = 166;   O_E = 0.95*(387.5 + 27.44 + 166) = 0.95*580.94 = 551.893
#             O_F = 5 + 551.893 = 556.893
OUTFLOW = {
    "sediment": {"A": 1045.0, "B": 126.0, "C": 239.2, "D": 184.0, "E": 454.29, "F": 464.29},
    "tn": {"A": 180.0, "B": 504.0, "C": 627.2, "D": 1720.0, "E": 5412.34, "F": 5512.34},
    "tp": {"A": 9.0, "B": 25.2, "C": 27.44, "D": 166.0, "E": 551.893, "F": 556.893},
}
# Retained = local + inflow - outflow; basin sediment: local 1459 = retained 994.71 + 464.29.
SED_RETAINED = {"A": 0.0, "B": 14.0, "C": 956.8, "D": 0.0, "E": 23.91, "F": 0.0}
#
# Transfer coefficients T[s, t] = product of (1 - r) over the path s -> t, both ends included:
#   to C (sediment): C 0.2;  A 1*0.2 = 0.2;  B 0.9*0.2 = 0.18
#   to F (sediment): F 1;  E 0.95;  D 1*0.95 = 0.95;  C 0.2*0.95 = 0.19;  A 1*0.2*0.95 = 0.19
#                    B 0.9*0.2*0.95 = 0.171
#   to F (TN):       F 1;  E 0.95;  D 0.95;  C 0.8*0.95 = 0.76;  A 0.76;  B 0.9*0.76 = 0.684
TRANSFER = {
    ("sediment", "C"): {"C": 0.2, "A": 0.2, "B": 0.18},
    ("sediment", "F"): {"F": 1.0, "E": 0.95, "D": 0.95, "C": 0.19, "A": 0.19, "B": 0.171},
    ("tn", "F"): {"F": 1.0, "E": 0.95, "D": 0.95, "C": 0.76, "A": 0.76, "B": 0.684},
}
# Check of the sediment at F from contributions T * local:
#   1045*0.19 + 140*0.171 + 25*0.19 + 184*0.95 + 55*0.95 + 10*1
#   = 198.55 + 23.94 + 4.75 + 174.8 + 52.25 + 10 = 464.29
SED_CONTRIB_F = {"A": 198.55, "B": 23.94, "C": 4.75, "D": 174.8, "E": 52.25, "F": 10.0}


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The baseline folder written by ``dss baseline tests/data/tiny``."""
    out = tmp_path_factory.mktemp("tiny_baseline")
    result = CliRunner().invoke(app, ["baseline", str(TINY), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out / "tiny" / "baseline"


@pytest.fixture(scope="module")
def tiny_study() -> Study:
    return load_study(TINY)


def _metric(subunits: pd.DataFrame, metric: str) -> dict[str, float]:
    rows = subunits[subunits["metric"] == metric]
    return dict(zip(rows["subunit_id"], rows["value"].astype(float), strict=True))


def _assert_close(actual: dict[str, float], expected: dict[str, float]) -> None:
    assert set(actual) == set(expected)
    for key, value in expected.items():
        assert actual[key] == pytest.approx(value, rel=1e-12, abs=1e-12), key


def test_tiny_local_loads_match_hand_computation(tiny_run: Path) -> None:
    subunits = pd.read_csv(tiny_run / "subunits.csv")
    _assert_close(_metric(subunits, "gross_erosion"), GROSS)
    _assert_close(_metric(subunits, "mass_wasting"), MASS)
    _assert_close(_metric(subunits, "tn_point"), TN_POINT)
    for p in POLLUTANTS:
        _assert_close(_metric(subunits, f"{p}_local"), LOCAL[p])


def test_tiny_outflows_match_hand_computation(tiny_run: Path) -> None:
    subunits = pd.read_csv(tiny_run / "subunits.csv")
    for p in POLLUTANTS:
        _assert_close(_metric(subunits, f"{p}_outflow"), OUTFLOW[p])
    _assert_close(_metric(subunits, "sediment_retained"), SED_RETAINED)
    assert _metric(subunits, "sediment_outflow")["C"] == 239.2  # exact as written (%.10g)


def test_tiny_control_points_match_hand_computation(tiny_run: Path) -> None:
    cps = pd.read_csv(tiny_run / "control_points.csv")
    loads = {(r.point_id, r.pollutant): r.load for r in cps.itertuples(index=False)}
    expected = {
        ("reservoir", "sediment"): 239.2, ("reservoir", "tn"): 627.2,
        ("reservoir", "tp"): 27.44,
        ("outlet", "sediment"): 464.29, ("outlet", "tn"): 5512.34, ("outlet", "tp"): 556.893,
    }
    assert set(loads) == set(expected)
    for key, value in expected.items():
        assert loads[key] == pytest.approx(value, rel=1e-12), key
    assert cps.set_index(["point_id", "pollutant"]).loc[("reservoir", "sediment"),
                                                        "subunit_id"] == "C"


def test_tiny_basin_mass_balance_by_hand(tiny_run: Path) -> None:
    basin = pd.read_csv(tiny_run / "basin.csv").set_index("metric")["value"]
    assert basin["sediment_local"] == pytest.approx(1459.0)
    assert basin["sediment_outlet"] == pytest.approx(464.29)
    assert basin["sediment_retained"] == pytest.approx(994.71)
    assert basin["tn_local"] == pytest.approx(sum(TN_LOCAL.values()))  # 6010
    assert basin["tn_outlet"] == pytest.approx(5512.34)
    assert basin["tp_outlet"] == pytest.approx(556.893)


@pytest.mark.parametrize(("pollutant", "target"), sorted(TRANSFER))
def test_tiny_transfer_coefficients_are_hand_products(tiny_study: Study, pollutant: str,
                                                      target: str) -> None:
    routing = tiny_study.routing
    sources, coef = routing.transfer(int(routing.index([target])[0]),
                                     retention(tiny_study, pollutant))
    got = dict(zip(routing.ids[sources], coef, strict=True))
    assert routing.ids[sources[0]] == target  # the target itself comes first
    _assert_close(got, TRANSFER[(pollutant, target)])


def test_tiny_contributions_sum_to_the_load(tiny_run: Path) -> None:
    contrib = pd.read_csv(tiny_run / "contributions.csv")
    cps = pd.read_csv(tiny_run / "control_points.csv").set_index(["point_id", "pollutant"])
    sums = contrib.groupby(["point_id", "pollutant"])["contribution"].sum()
    assert len(sums) == len(cps) == 6
    for key, total in sums.items():
        assert total == pytest.approx(cps.loc[key, "load"], rel=1e-9), key
    shares = contrib.groupby(["point_id", "pollutant"])["share"].sum()
    assert np.allclose(shares.to_numpy(), 1.0)
    sed_f = contrib[(contrib["point_id"] == "outlet") & (contrib["pollutant"] == "sediment")]
    _assert_close(dict(zip(sed_f["source_subunit"], sed_f["contribution"], strict=True)),
                  SED_CONTRIB_F)
    sed_c = contrib[(contrib["point_id"] == "reservoir") & (contrib["pollutant"] == "sediment")]
    assert set(sed_c["source_subunit"]) == {"A", "B", "C"}  # only what drains to C


# ---------------------------------------------------------------------------------------------
# Mass balance
# ---------------------------------------------------------------------------------------------


def _assert_mass_balance(study: Study) -> None:
    base = compute_baseline(study)
    out_idx = study.routing.index(outlets(study.graph))
    for p in POLLUTANTS:
        r = base.routed[p]
        local, retained, leaving = r.local.sum(), r.retained.sum(), r.outflow[out_idx].sum()
        assert local > 0
        assert (r.retained >= -1e-9 * local).all()
        assert abs(local - retained - leaving) <= 1e-9 * local, p
        assert base.basin_value(f"{p}_local") == pytest.approx(
            base.basin_value(f"{p}_retained") + base.basin_value(f"{p}_outlet"), rel=1e-9)


def test_mass_balance_baoxing() -> None:
    _, study = load(BAOXING)
    _assert_mass_balance(study)


def test_mass_balance_synthetic_10k(tmp_path: Path) -> None:
    model = write_study(tmp_path / "synth", 10_000, seed=11)
    study = load_study(model.parent)
    assert len(study.subunits) == 10_000
    _assert_mass_balance(study)


def test_mass_balance_with_several_outlets() -> None:
    rng = np.random.default_rng(5)
    ids, down = _random_forest(rng, 500, n_roots=7)
    routing = Routing(ids, down)
    local, ret = rng.uniform(0, 10, 500), rng.uniform(0, 1, 500)
    res = routing.route(local, ret)
    roots = np.array([d is None for d in down])
    assert roots.sum() == 7
    assert res.local.sum() == pytest.approx(res.retained.sum() + res.outflow[roots].sum(),
                                            rel=1e-12)


# ---------------------------------------------------------------------------------------------
# Property tests on random trees
# ---------------------------------------------------------------------------------------------


def _random_forest(rng: np.random.Generator, n: int, n_roots: int = 1
                   ) -> tuple[list[str], list[str | None]]:
    """Random drainage forest with shuffled ids: node k > n_roots - 1 drains into a node < k."""
    parent = np.full(n, -1)
    for k in range(n_roots, n):
        parent[k] = rng.integers(0, k)
    names = np.array([f"S{i}" for i in rng.permutation(n)], dtype=object)
    order = rng.permutation(n)  # table order unrelated to the tree
    ids = [str(names[k]) for k in order]
    down = [str(names[parent[k]]) if parent[k] >= 0 else None for k in order]
    return ids, down


def _reference_route(ids: list[str], down: list[str | None], local: np.ndarray,
                     ret: np.ndarray) -> np.ndarray:
    """Outflow of each subunit by plain recursion over children (the textbook equation)."""
    pos = {s: i for i, s in enumerate(ids)}
    children: dict[int, list[int]] = {i: [] for i in range(len(ids))}
    for i, d in enumerate(down):
        if d is not None:
            children[pos[d]].append(i)
    memo: dict[int, float] = {}

    def out(i: int) -> float:
        if i not in memo:
            memo[i] = (1.0 - ret[i]) * (local[i] + sum(out(c) for c in children[i]))
        return memo[i]

    return np.array([out(i) for i in range(len(ids))])


def _reference_transfer(ids: list[str], down: list[str | None], ret: np.ndarray,
                        target: int) -> dict[str, float]:
    """T[s, target] by walking down from every s and multiplying (1 - r) along the path."""
    pos = {s: i for i, s in enumerate(ids)}
    found = {}
    for s in range(len(ids)):
        coef, node = 1.0, s
        while True:
            coef *= 1.0 - ret[node]
            if node == target:
                found[ids[s]] = coef
                break
            if down[node] is None:
                break
            node = pos[down[node]]
    return found


@pytest.mark.parametrize("seed", range(8))
def test_route_matches_recursive_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 300))
    ids, down = _random_forest(rng, n, n_roots=int(rng.integers(1, 4)) if n > 3 else 1)
    local = rng.lognormal(0, 2, n)
    ret = np.where(rng.random(n) < 0.3, 0.0, rng.uniform(0, 1, n))
    res = Routing(ids, down).route(local, ret)
    ref = _reference_route(ids, down, local, ret)
    np.testing.assert_allclose(res.outflow, ref, rtol=1e-12)
    inflow = res.local + res.inflow
    np.testing.assert_allclose(res.retained, ret * inflow, rtol=1e-9, atol=1e-9 * inflow.max())


def test_route_on_a_long_chain() -> None:
    n = 800  # one long stem: tree height equals n
    ids = [f"R{i}" for i in range(n)]
    down = [f"R{i + 1}" if i + 1 < n else None for i in range(n)]
    rng = np.random.default_rng(1)
    local, ret = rng.uniform(0, 5, n), rng.uniform(0, 0.01, n)
    routing = Routing(ids, down)
    assert routing.depth.tolist() == list(range(n - 1, -1, -1))
    res = routing.route(local, ret)
    expected = 0.0
    for i in range(n):
        expected = (1 - ret[i]) * (local[i] + expected)
    assert res.outflow[-1] == pytest.approx(expected, rel=1e-12)


def test_route_is_linear() -> None:
    rng = np.random.default_rng(42)
    ids, down = _random_forest(rng, 400, n_roots=3)
    routing = Routing(ids, down)
    ret = rng.uniform(0, 1, 400)
    x, y = rng.uniform(0, 100, 400), rng.normal(0, 50, 400)
    a, b = 2.5, -0.75
    combined = routing.route(a * x + b * y, ret)
    rx, ry = routing.route(x, ret), routing.route(y, ret)
    for field in ("outflow", "inflow", "retained"):
        np.testing.assert_allclose(getattr(combined, field),
                                   a * getattr(rx, field) + b * getattr(ry, field),
                                   rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_transfer_matches_path_products_and_route(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    n = 200
    ids, down = _random_forest(rng, n, n_roots=2)
    routing = Routing(ids, down)
    ret, local = rng.uniform(0, 0.9, n), rng.uniform(0, 10, n)
    res = routing.route(local, ret)
    for target in rng.choice(n, 10, replace=False):
        sources, coef = routing.transfer(int(target), ret)
        assert sources[0] == target
        assert len(set(sources.tolist())) == len(sources)
        got = dict(zip(routing.ids[sources], coef, strict=True))
        expected = _reference_transfer(ids, down, ret, int(target))
        assert set(got) == set(expected)
        for s, value in expected.items():
            assert got[s] == pytest.approx(value, rel=1e-12)
        assert (coef * local[sources]).sum() == pytest.approx(res.outflow[target], rel=1e-12)


def test_transfer_of_several_pollutants_at_once() -> None:
    rng = np.random.default_rng(21)
    ids, down = _random_forest(rng, 120, n_roots=2)
    routing = Routing(ids, down)
    ret = rng.uniform(0, 0.9, (120, 3))
    for target in (0, 7, 60):
        sources, coefs = routing.transfer(target, ret)
        assert coefs.shape == (len(sources), 3)
        for j in range(3):
            one_sources, one = routing.transfer(target, ret[:, j])
            np.testing.assert_array_equal(one_sources, sources)
            np.testing.assert_allclose(coefs[:, j], one, rtol=0, atol=0)


def test_unit_load_gives_transfer_coefficients() -> None:
    """Routing a unit load from one source reproduces its transfer coefficient downstream."""
    rng = np.random.default_rng(9)
    ids, down = _random_forest(rng, 150)
    routing = Routing(ids, down)
    ret = rng.uniform(0, 0.5, 150)
    outlet = int(np.flatnonzero(routing.down < 0)[0])
    sources, coef = routing.transfer(outlet, ret)
    for k in rng.choice(len(sources), 10, replace=False):
        unit = np.zeros(150)
        unit[sources[k]] = 1.0
        assert routing.route(unit, ret).outflow[outlet] == pytest.approx(coef[k], rel=1e-12)


# ---------------------------------------------------------------------------------------------
# Graph
# ---------------------------------------------------------------------------------------------


def _issues(ids: list[str], down: list[str | None]) -> list[str]:
    return [str(i) for i in check_network(pd.Series(ids, dtype=object),
                                          pd.Series(down, dtype=object))]


def test_check_network_accepts_the_tiny_tree(tiny_study: Study) -> None:
    sub = tiny_study.subunits
    assert check_network(sub["subunit_id"], sub["downstream_id"]) == []


def test_check_network_names_the_cycle() -> None:
    issues = check_network(pd.Series(["A", "B", "C", "D"]), pd.Series(["B", "A", "D", None]))
    assert len(issues) == 1
    assert "cycle: A -> B -> A" in issues[0].message
    assert issues[0].row == 2 and issues[0].column == "downstream_id"


def test_check_network_names_a_longer_cycle_and_no_outlet() -> None:
    messages = _issues(["P", "Q", "R"], ["Q", "R", "P"])
    assert any("cycle: P -> Q -> R -> P" in m for m in messages)
    assert any("no outlet" in m for m in messages)
    assert len(messages) == 2


def test_check_network_reports_a_dangling_downstream_id() -> None:
    issues = check_network(pd.Series(["Alpha", "Beta", "Gamma"]),
                           pd.Series(["Gamma", "Gama", None]))
    assert len(issues) == 1
    assert "downstream subunit 'Gama' does not exist" in issues[0].message
    assert "did you mean 'Gamma'?" in issues[0].message
    assert (issues[0].row, issues[0].column) == (3, "downstream_id")


def test_check_network_reports_a_self_loop() -> None:
    issues = check_network(pd.Series(["A", "B"]), pd.Series(["A", None]))
    assert len(issues) == 1
    assert "'A' drains into itself" in issues[0].message
    assert issues[0].row == 2


def test_check_network_reports_no_outlet() -> None:
    messages = _issues(["A", "B"], ["B", "X"])
    assert any("no outlet" in m for m in messages)
    assert any("'X' does not exist" in m for m in messages)
    messages = _issues(["A"], ["A"])
    assert any("no outlet" in m for m in messages)
    assert any("drains into itself" in m for m in messages)


def test_check_network_uses_given_row_numbers() -> None:
    issues = check_network(pd.Series(["A", "B"]), pd.Series(["B", "A"]),
                           rows=np.array([10, 12]))
    assert [i.row for i in issues if "cycle" in i.message] == [10]


def test_build_graph_raises_with_every_problem() -> None:
    frame = pd.DataFrame({"subunit_id": ["A", "B", "C", "D"],
                          "downstream_id": ["B", "A", "C", "Z"]})
    with pytest.raises(GraphError) as err:
        build_graph(frame)
    text = str(err.value)
    assert "A -> B -> A" in text and "'C' drains into itself" in text and "'Z'" in text
    assert "no outlet" in text
    assert len(err.value.issues) == 4


def test_graph_helpers_on_the_tiny_tree(tiny_study: Study) -> None:
    graph = tiny_study.graph
    assert sorted(graph.edges) == [("A", "C"), ("B", "C"), ("C", "E"), ("D", "E"), ("E", "F")]
    assert outlets(graph) == ["F"]
    assert upstream(graph, "C") == {"A", "B"}
    assert upstream(graph, "C", include_self=True) == {"A", "B", "C"}
    assert upstream(graph, "E") == {"A", "B", "C", "D"}
    assert upstream(graph, "A") == set()
    assert downstream_path(graph, "A") == ["A", "C", "E", "F"]
    assert downstream_path(graph, "B", include_self=False) == ["C", "E", "F"]
    assert downstream_path(graph, "F") == ["F"]
    order = topological_order(graph)
    assert order == ["A", "B", "C", "D", "E", "F"]
    where = {s: i for i, s in enumerate(order)}
    assert all(where[u] < where[v] for u, v in graph.edges)


def test_routing_index_structure_on_the_tiny_tree(tiny_study: Study) -> None:
    routing = tiny_study.routing
    assert routing.ids.tolist() == IDS
    assert routing.depth.tolist() == [3, 3, 2, 2, 1, 0]
    assert routing.down.tolist() == [2, 2, 4, 4, 5, -1]
    f = int(routing.index(["F"])[0])
    assert sorted(routing.ids[routing.upstream_of(f)]) == IDS
    assert sorted(routing.ids[routing.upstream_of(2)]) == ["A", "B", "C"]
    with pytest.raises(KeyError, match="Z"):
        routing.index(["A", "Z"])


def test_routing_accepts_empty_strings_as_outlets() -> None:
    routing = Routing(["A", "B", "C"], ["C", "C", ""])
    assert routing.down.tolist() == [2, 2, -1]
    res = routing.route(np.array([1.0, 2.0, 3.0]), np.array([0.5, 0.0, 0.1]))
    assert res.outflow[2] == pytest.approx(0.9 * (3 + 0.5 + 2))


def test_inflow_measured_point_sees_what_enters_the_reservoir_reach():
    """A reservoir point measures the load entering its reach, before it traps it.

    Tiny tree: A, B -> C (reservoir, sediment retention 0.8). Entering C's reach: C's local
    load plus the outflows of A and B; the transfer from C itself is 1 (not 0.2) and from A is
    1 (A has no retention), from B 0.9 (B retains 10 %).
    """
    from dss.data.study import load_study
    from dss.indicators.baseline import route_all
    from dss.indicators.loads import local_loads, retention

    study = load_study(TINY)
    local = local_loads(study)
    routed = route_all(study, local)["sediment"]
    routing = study.routing
    c = int(routing.index(["C"])[0])
    entering = routing.load_at(routed, c, inflow=True)
    assert entering == pytest.approx(1045.0 + 0.9 * 140.0 + 25.0)
    assert routing.load_at(routed, c) == pytest.approx(0.2 * entering)
    sources, coef = routing.transfer(c, retention(study, "sediment"), inflow=True)
    by_id = dict(zip(study.subunits["subunit_id"].to_numpy()[sources], coef, strict=True))
    assert by_id == pytest.approx({"C": 1.0, "A": 1.0, "B": 0.9})
    assert float(np.dot(coef, local["sediment"].to_numpy()[sources])) == pytest.approx(entering)


@pytest.mark.parametrize("seed", range(6))
def test_delivery_value_equals_weighted_path_products(seed: int) -> None:
    """V_s = sum_t w_out_t T_st + w_in_t T_in_st, checked against walking down from every
    source (the textbook path products), with outflow and inflow points and several roots."""
    rng = np.random.default_rng(300 + seed)
    n = int(rng.integers(2, 250))
    ids, down = _random_forest(rng, n, n_roots=int(rng.integers(1, 4)) if n > 3 else 1)
    routing = Routing(ids, down)
    ret = np.where(rng.random(n) < 0.2, 1.0, rng.uniform(0, 0.9, n))  # some trap everything
    at_outlet, at_inflow = np.zeros(n), np.zeros(n)
    for t in rng.choice(n, min(n, 12), replace=False):
        (at_inflow if rng.random() < 0.4 else at_outlet)[t] += rng.uniform(0.1, 5.0)
    pos = {s: i for i, s in enumerate(ids)}
    expected = np.zeros(n)
    for i in range(n):  # walk down from every source, multiplying (1 - r) along the path
        passing, node = 1.0, i
        while True:
            expected[i] += at_inflow[node] * passing  # entering node's reach: before its r
            passing *= 1.0 - ret[node]
            expected[i] += at_outlet[node] * passing  # leaving node's outlet
            if down[node] is None:
                break
            node = pos[down[node]]
    got = routing.delivery_value(ret, at_outlet, at_inflow)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
