"""Fish passage: connectivity against brute-force path walks, and the optimum against
exhaustive enumeration of barrier choices (each with the land allocation solved as an LP).

The reference values here come from this file's own reading of the CSV files and its own
walk up the tree from each section, one barrier at a time; nothing uses
:mod:`dss.network.barriers` to produce an expected value.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dss.network.barriers import (
    accessible_habitat,
    dci_potamodromous,
    section_tree,
)
from dss.optimize.problem import Problem
from dss.optimize.results import result_tables
from dss.synth_fish import write_fish_study

# ---------------------------------------------------------------------------------------------
# Brute-force references
# ---------------------------------------------------------------------------------------------


def _read(folder: Path) -> dict[str, pd.DataFrame]:
    return {name: pd.read_csv(folder / f"{name}.csv", keep_default_na=False, na_values=[""])
            for name in ("subunits", "barriers", "barrier_options", "fish_habitat")}


def _walk_tree(tables: dict[str, pd.DataFrame]) -> tuple[dict, dict, dict]:
    """(barrier -> barrier downstream or None, barrier -> passability, section habitat)
    for the synthetic studies: one barrier per subunit, at its downstream end, so a
    barrier's downstream barrier is the one of the downstream subunit."""
    sub = tables["subunits"]
    down_sub = dict(zip(sub["subunit_id"], sub["downstream_id"], strict=True))
    bar = tables["barriers"]
    at = dict(zip(bar["subunit_id"], bar["barrier_id"], strict=True))
    down = {}
    for b, s in zip(bar["barrier_id"], bar["subunit_id"], strict=True):
        d = down_sub[s]
        down[b] = at.get(d) if isinstance(d, str) else None
    passability = dict(zip(bar["barrier_id"], bar["passability"].astype(float), strict=True))
    hab = tables["fish_habitat"]
    habitat = {at.get(s): h * q for s, h, q in zip(hab["subunit_id"], hab["habitat"],
                                                   hab["quality"], strict=True)}
    return down, passability, habitat


def _path(b, down) -> list:
    out = []
    while b is not None:
        out.append(b)
        b = down[b]
    return out


def _accessible_walk(down, passability, habitat, restored=None) -> float:
    """Sum over sections of habitat times the product of passabilities on its path."""
    total = 0.0
    for section, h in habitat.items():  # section None = below every barrier
        prod = 1.0
        for b in _path(section, down) if section is not None else []:
            prod *= passability[b]
        total += h * prod
    for b, km in (restored or {}).items():  # restored reach lies below barrier b
        prod = 1.0
        for k in _path(down[b], down) if down[b] is not None else []:
            prod *= passability[k]
        total += km * prod
    return total


def _dci_walk(down, pair, length) -> float:
    sections = list(length)
    total = sum(length.values())
    value = 0.0
    for s, t in itertools.product(sections, sections):
        ps = _path(s, down) if s is not None else []
        pt = _path(t, down) if t is not None else []
        between = set(ps) ^ set(pt)  # barriers on one path but not both
        prod = 1.0
        for b in between:
            prod *= pair[b]
        value += prod * length[s] * length[t]
    return 100.0 * value / total**2


def _options(tables) -> dict[str, list[dict]]:
    opts = tables["barrier_options"]
    bar = tables["barriers"].set_index("barrier_id")
    per: dict[str, list[dict]] = {}
    for rec in opts.to_dict("records"):
        p = rec["passability"]
        kind = rec["kind"]
        if pd.isna(p):
            p = 1.0 if kind == "remove" else float(bar.loc[rec["barrier_id"], "passability"])
        restored = float(bar.loc[rec["barrier_id"], "dewatered_km"]) if kind in (
            "remove", "eflow") else 0.0
        per.setdefault(rec["barrier_id"], []).append(
            {"id": rec["option_id"], "p": float(p), "cost": float(rec["capital_cost"]),
             "restored": restored})
    return per


def _enumerate(tables, budget: float) -> tuple[float, dict]:
    """Best accessible habitat over every combination of at most one option per barrier."""
    down, passability, habitat = _walk_tree(tables)
    per = _options(tables)
    barriers = sorted(per)
    best, best_plan = -1.0, {}
    choices = [[None, *per[b]] for b in barriers]
    for combo in itertools.product(*choices):
        cost = sum(o["cost"] for o in combo if o is not None)
        if cost > budget + 1e-6:
            continue
        p = dict(passability)
        restored = {}
        for b, o in zip(barriers, combo, strict=True):
            if o is not None:
                p[b] = o["p"]
                if o["restored"]:
                    restored[b] = o["restored"]
        value = _accessible_walk(down, p, habitat, restored)
        if value > best + 1e-9:
            best, best_plan = value, {b: o["id"] for b, o in zip(barriers, combo, strict=True)
                                      if o is not None}
    return best, best_plan


# ---------------------------------------------------------------------------------------------
# Evaluation = brute-force path walks (property test)
# ---------------------------------------------------------------------------------------------


@st.composite
def trees(draw):
    n = draw(st.integers(1, 12))
    parents = [draw(st.integers(-1, i - 1)) for i in range(n)]
    p_up = [draw(st.sampled_from([0.0, 0.25, 0.5, 0.8, 1.0])) for _ in range(n)]
    p_down = [draw(st.sampled_from([0.3, 0.6, 1.0])) for _ in range(n)]
    h = [draw(st.floats(0, 10, allow_nan=False).map(lambda x: round(x, 4)))
         for _ in range(n + 1)]
    return parents, p_up, p_down, h


@settings(max_examples=150, deadline=None)
@given(trees())
def test_accessible_habitat_and_dci_equal_path_walks(tree):
    parents, p_up, p_down, h = tree
    n = len(parents)
    # subunit i+1 holds barrier i; its downstream subunit is parents[i]+1 (0 = outlet)
    sub_ids = np.array([f"S{i}" for i in range(n + 1)], dtype=object)
    sub_down = np.array([-1] + [p + 1 for p in parents])
    barriers = pd.DataFrame({"barrier_id": [f"B{i}" for i in range(n)],
                             "subunit_id": sub_ids[1:]})
    tree_ = section_tree(sub_ids, sub_down, barriers)
    assert tree_.n_sections == n + 1
    up = np.concatenate([p_up, [1.0]])
    pair = np.concatenate([np.multiply(p_up, p_down), [1.0]])
    habitat = np.concatenate([h[1:], [h[0]]])
    down = {f"B{i}": (f"B{parents[i]}" if parents[i] >= 0 else None) for i in range(n)}
    walk_h = {f"B{i}": h[i + 1] for i in range(n)} | {None: h[0]}
    expected = _accessible_walk(down, dict(zip(down, p_up, strict=True)), walk_h)
    assert accessible_habitat(tree_.parent, up, habitat) == pytest.approx(expected, abs=1e-9)
    if sum(h) > 0:
        expected_dci = _dci_walk(down, dict(zip(down, pair[:n], strict=True)), walk_h)
        assert dci_potamodromous(tree_.parent, pair, habitat) == pytest.approx(
            expected_dci, abs=1e-9)


def test_sections_follow_file_order_and_named_links():
    """Two barriers in one subunit chain in file order; a named link wins."""
    sub_ids = np.array(["A", "B", "C"], dtype=object)
    sub_down = np.array([-1, 0, 0])  # B and C drain to the outlet A
    barriers = pd.DataFrame({"barrier_id": ["b1", "b2", "c1", "a1"],
                             "subunit_id": ["B", "B", "C", "A"],
                             "downstream_barrier_id": [None, None, "b2", None]})
    tree = section_tree(sub_ids, sub_down, barriers)
    assert tree.parent.tolist() == [3, 0, 1, 4, -1]  # b1 -> a1 -> outlet; b2 -> b1; c1 -> b2
    assert tree.subunit_section.tolist() == [3, 1, 2]


# ---------------------------------------------------------------------------------------------
# Optimum = enumeration; monotone in the budget
# ---------------------------------------------------------------------------------------------


def _fish(result) -> pd.DataFrame:
    """fish.csv's optimised metric per species (its first row; DCI rows follow)."""
    return result_tables(result)["fish"].drop_duplicates("species").set_index("species")


def _solve(model: Path, budget: float | None = None):
    sets = None if budget is None else [f"components.budget.total={float(budget)!r}"]
    return Problem.from_model(model, sets=sets).solve()


CASES = [(6, 3, 11), (9, 2, 12), (12, 1, 13), (7, 3, 14), (10, 2, 15)]


@pytest.mark.parametrize(("n", "options", "seed"), CASES)
def test_optimum_equals_enumeration_at_several_budgets(tmp_path, n, options, seed):
    model = write_fish_study(tmp_path, n, options, seed=seed)
    tables = _read(tmp_path)
    total = float(tables["barrier_options"]["capital_cost"].sum())
    previous = -1.0
    for share in (0.0, 0.05, 0.15, 0.3, 1.0):
        budget = round(share * total)
        expected, _plan = _enumerate(tables, budget)
        result = _solve(model, budget)
        assert result.status == "optimal"
        fish = _fish(result)
        assert fish.loc["fish", "after"] == pytest.approx(expected, rel=1e-7, abs=1e-7)
        # the objective is value * gain, and the gain is what the path walk says
        before = _enumerate(tables, 0.0)[0]
        assert result.objective == pytest.approx(1000.0 * (expected - before), rel=1e-6,
                                                 abs=1e-5)
        assert fish.loc["fish", "after"] >= previous - 1e-9  # more budget, never less
        previous = fish.loc["fish", "after"]


def test_budget_zero_is_today(tmp_path):
    model = write_fish_study(tmp_path, 10, 2, seed=3)
    tables = _read(tmp_path)
    down, passability, habitat = _walk_tree(tables)
    result = _solve(model, 0.0)
    fish = _fish(result)
    assert fish.loc["fish", "before"] == pytest.approx(
        _accessible_walk(down, passability, habitat), rel=1e-12)
    assert fish.loc["fish", "after"] == pytest.approx(fish.loc["fish", "before"])


@pytest.mark.parametrize("seed", [21, 22])
def test_resident_dci_optimum_equals_enumeration(tmp_path, seed):
    model = write_fish_study(tmp_path, 6, 2, seed=seed, resident=True)
    tables = _read(tmp_path)
    down, passability, habitat = _walk_tree(tables)
    per = _options(tables)
    total = float(tables["barrier_options"]["capital_cost"].sum())
    for share in (0.1, 0.4):
        budget = round(share * total)
        best = -1.0
        barriers = sorted(per)
        for combo in itertools.product(*[[None, *per[b]] for b in barriers]):
            if sum(o["cost"] for o in combo if o is not None) > budget + 1e-6:
                continue
            p = dict(passability)  # passability_down = passability in these studies
            for b, o in zip(barriers, combo, strict=True):
                if o is not None:
                    p[b] = o["p"]
            best = max(best, _dci_walk(down, {b: v * v for b, v in p.items()}, habitat))
        result = _solve(model, budget)
        fish = _fish(result)
        assert fish.loc["fish", "after"] == pytest.approx(best, rel=1e-7)


# ---------------------------------------------------------------------------------------------
# Joint optimum with land actions = enumeration over barrier choices, land as an LP each
# ---------------------------------------------------------------------------------------------


def _land_lp(folder: Path, budget: float) -> float:
    """Best sediment value of reforestation alone, for a budget (fractional knapsack: every
    subunit delivers 100 * (0.5 - 0.1) = 40 t/ha/yr to the outlet without retention, valued
    0.5 CNY/t, at 1000 CNY/ha, 100 ha each)."""
    n = len(pd.read_csv(folder / "subunits.csv"))
    hectares = min(budget / 1000.0, 100.0 * n)
    return hectares * 40 * 0.5


@pytest.mark.parametrize("seed", [31, 32, 33])
def test_joint_optimum_equals_enumeration_with_land_lp(tmp_path, seed):
    model = write_fish_study(tmp_path, 6, 2, seed=seed, land=True)
    tables = _read(tmp_path)
    down, passability, habitat = _walk_tree(tables)
    per = _options(tables)
    before = _accessible_walk(down, passability, habitat)
    total = float(tables["barrier_options"]["capital_cost"].sum())
    for budget in (round(0.2 * total), round(0.6 * total)):
        best = -np.inf
        barriers = sorted(per)
        for combo in itertools.product(*[[None, *per[b]] for b in barriers]):
            cost = sum(o["cost"] for o in combo if o is not None)
            if cost > budget + 1e-6:
                continue
            p, restored = dict(passability), {}
            for b, o in zip(barriers, combo, strict=True):
                if o is not None:
                    p[b] = o["p"]
                    if o["restored"]:
                        restored[b] = o["restored"]
            fish = 1000.0 * (_accessible_walk(down, p, habitat, restored) - before)
            best = max(best, fish + _land_lp(tmp_path, budget - cost))
        result = _solve(model, budget)
        assert result.status == "optimal"
        assert result.objective == pytest.approx(best, rel=1e-7)


def test_barrier_costs_share_the_budget_and_agencies(tmp_path):
    model = write_fish_study(tmp_path, 8, 2, seed=5, land=True)
    result = _solve(model, 60000.0)
    tables = result_tables(result)
    summary = tables["summary"].set_index("metric")["value"]
    alloc = tables["allocation"]
    barriers = tables["barriers"]
    fish_cost = barriers.drop_duplicates("barrier_id")["cost_cny"].sum()
    assert float(summary["spend"]) == pytest.approx(alloc["cost_cny"].sum())
    assert float(summary["spend"]) <= 60000.0 + 1e-6
    assert alloc[alloc["unit"] == "option"]["cost_cny"].sum() == pytest.approx(fish_cost)
    chosen = barriers.drop_duplicates("barrier_id")
    assert (chosen["option_id"] != "").sum() == (alloc["unit"] == "option").sum()


# ---------------------------------------------------------------------------------------------
# OptiPass
# ---------------------------------------------------------------------------------------------

OPTIPASS = """BARID,REGION,FOCUS,DSID,USHAB,PREPASS,NPROJ,ACTION,COST,POSTPASS
1,east,Y,NA,10,0.5,2,1,100,1
1,east,Y,NA,10,0.5,2,2,40,0.8
2,east,Y,1,4,0.2,1,1,30,1
3,west,N,1,7,0.9,0,0,0,0.9
4,west,Y,3,20,0,2,1,500,1
4,west,Y,3,20,0,2,2,120,0.6
5,west,Y,2,3.5,0.75,1,1,10,1
"""


def test_optipass_round_trip_and_budget_zero(tmp_path):
    from dss.data.study import load_study
    from dss.optimize.optipass import (
        FOCUS,
        from_study,
        read_optipass,
        sweep,
        to_study,
        write_optipass,
    )

    source = tmp_path / "in.csv"
    source.write_text(OPTIPASS, encoding="utf-8")
    project = read_optipass(source)
    # budget-0 accessible habitat = sum_j h_j prod p_k, by hand:
    # 1: 10*.5 = 5; 2: 4*.2*.5 = .4; 3: 7*.9*.5 = 3.15; 4: 0; 5: 3.5*.75*.2*.5 = .2625
    assert project.accessible_habitat() == pytest.approx(5 + 0.4 + 3.15 + 0 + 0.2625)
    write_optipass(project, tmp_path / "out.csv")
    again = read_optipass(tmp_path / "out.csv")
    pd.testing.assert_frame_equal(project.table, again.table)
    to_study(project, tmp_path / "study")
    back = from_study(load_study(tmp_path / "study"))

    def meaning(table: pd.DataFrame) -> pd.DataFrame:  # FOCUS Y/N and 1/0 mean the same
        return table.assign(FOCUS=table["FOCUS"].map(FOCUS)).sort_values(
            ["BARID", "ACTION"]).reset_index(drop=True)

    pd.testing.assert_frame_equal(meaning(project.table), meaning(back.table),
                                  check_dtype=False)
    # OptiPass's own layout: tab-separated, ID and REG for BARID and REGION, FOCUS 1/0
    tabbed = OPTIPASS.replace(",", "\t").replace("BARID", "ID").replace("REGION", "REG")
    tabbed = tabbed.replace("\tY\t", "\t1\t").replace("\tN\t", "\t0\t")
    (tmp_path / "tabbed.txt").write_text(tabbed, encoding="utf-8")
    pd.testing.assert_frame_equal(meaning(read_optipass(tmp_path / "tabbed.txt").table),
                                  meaning(project.table))
    output = sweep(project, [0.0, 40.0, 150.0, 1000.0], tmp_path / "sweep").set_index("BUDGET")
    assert output.loc[0.0, "PTNL_HABITAT"] == pytest.approx(project.accessible_habitat())
    assert output.loc[0.0, "NETGAIN"] == pytest.approx(0.0)
    assert set(output["STATUS"]) == {"OPT"} and (output["%OPTGAP"].abs() < 1e-9).all()
    # budget 40: option 1#2 (p .8) -> 10*.8 + 4*.2*.8 + 7*.9*.8 + 3.5*.75*.2*.8 = 14.1
    # beats 2#1 + 5#1 (cost 40): 5 + 4*.5 + 6.3*.5 + 3.5*.5 = 11.9
    assert output.loc[40.0, "PTNL_HABITAT"] == pytest.approx(14.1)
    assert output.loc[40.0, "ACT_1"] == 2
    assert list(output["PTNL_HABITAT"]) == sorted(output["PTNL_HABITAT"])
    assert output.loc[1000.0, "ACT_3"] == 0  # FOCUS N: never acted on


def test_optipass_bad_table_is_located(tmp_path):
    from dss.errors import InputError
    from dss.optimize.optipass import read_optipass

    bad = tmp_path / "bad.csv"
    text = OPTIPASS.replace("1,east,Y,NA,10,0.5,2,2,40,0.8", "1,east,Q,NA,10,1.5,2,2,40,0.8")
    bad.write_text(text.replace("5,west,Y,2,", "5,west,Y,9,"), encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_optipass(bad)
    text = str(err.value)
    assert "row 3" in text and "PREPASS" in text and "FOCUS" in text
    assert "DSID '9'" in text


def test_optipass_example_4_potential_habitat(tmp_path):
    """OptiPass's Example 4, target 1 (barriers, habitat and passabilities from the example;
    the costs are ours, chosen so that B, C and E are the best plan at 300,000 as in
    OptiPass's run): PTNL_HABITAT 3.51 and NETGAIN 2.272, as OptiPass reports."""
    from dss.optimize.optipass import read_optipass, sweep

    rows = ["BARID,REGION,FOCUS,DSID,USHAB,PREPASS,NPROJ,ACTION,COST,POSTPASS",
            "A,r,Y,NA,2.1,0.4,1,1,250000,1", "B,r,Y,A,0.9,0,1,1,100000,1",
            "C,r,Y,B,4.3,0.3,1,1,100000,1", "D,r,N,A,1.7,0.5,0,0,0,0.5",
            "E,r,Y,D,1.2,0.2,1,1,100000,1", "F,r,Y,D,0.5,0.1,1,1,50000,1"]
    (tmp_path / "ex4.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    project = read_optipass(tmp_path / "ex4.csv")
    assert project.accessible_habitat() == pytest.approx(1.238)
    out = sweep(project, [300000.0], tmp_path / "study").iloc[0]
    assert out["PTNL_HABITAT"] == pytest.approx(3.51)
    assert out["NETGAIN"] == pytest.approx(2.272)
    assert [out[f"ACT_{b}"] for b in "ABCDEF"] == [0, 1, 1, 0, 1, 0]


def test_dci_d_is_accessible_habitat_with_two_way_passability(tmp_path):
    """DCI_d = 100 * sum_i l_i c_i0 / L with c_i0 the product of up x down passabilities on
    the path to the mouth (here passability_down = passability, so p^2)."""
    model = write_fish_study(tmp_path, 7, 2, seed=8)
    tables = _read(tmp_path)
    down, passability, habitat = _walk_tree(tables)
    table = result_tables(_solve(model, 0.0))["fish"].set_index("metric")
    squared = {b: p * p for b, p in passability.items()}
    expected = 100.0 * _accessible_walk(down, squared, habitat) / sum(habitat.values())
    assert table.loc["dci_d", "before"] == pytest.approx(expected, rel=1e-12)
    assert table.loc["dci_p", "before"] == pytest.approx(_dci_walk(down, squared, habitat),
                                                         rel=1e-12)
