"""Marxan's real Tasmania project (``tests/data/marxan_tasmania``: 1,751 hexagons, 17
features, 5,256 boundary rows, BLM 1) read and solved by dss, its plans checked against
answers computed here from the raw files alone: the BLM-0 optimum of a MILP built directly
with highspy, and each plan's score and targets recomputed from ``output_best.csv``."""

from __future__ import annotations

from pathlib import Path

import highspy
import numpy as np
import pandas as pd
import pytest

from dss.planning.marxan import read_marxan
from dss.planning.marxan_outputs import read_best, read_mv, write_marxan_outputs
from dss.planning.solve import SolverOptions

DATA = Path(__file__).parent / "data" / "marxan_tasmania"


def raw() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``pu.dat``, ``spec.dat``, ``puvspr.dat`` and ``bound.dat`` as pandas reads them."""
    folder = DATA / "input"
    return (pd.read_csv(folder / "pu.dat"), pd.read_csv(folder / "spec.dat"),
            pd.read_csv(folder / "puvspr.dat"), pd.read_csv(folder / "bound.dat", sep="\t"))


def targets(spec: pd.DataFrame, puvspr: pd.DataFrame) -> pd.Series:
    """Each species' target: ``prop`` x its total amount (Marxan's definition)."""
    totals = puvspr.groupby("species")["amount"].sum()
    return spec.set_index("id")["prop"] * totals


def independent_min_set(pu: pd.DataFrame, spec: pd.DataFrame, puvspr: pd.DataFrame) -> float:
    """The BLM-0 optimum: least cost meeting every target, status 2 in and 3 out, as a MILP
    built here with highspy's own API (not dss's compiler)."""
    pos = {u: k for k, u in enumerate(pu["id"])}
    goal = targets(spec, puvspr)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", 0.0)
    lower = (pu["status"] == 2).astype(float).to_numpy()
    upper = (pu["status"] != 3).astype(float).to_numpy()
    h.addVars(len(pu), lower, upper)
    h.changeColsCost(len(pu), np.arange(len(pu), dtype=np.int32), pu["cost"].to_numpy(float))
    h.changeColsIntegrality(len(pu), np.arange(len(pu), dtype=np.int32),
                            np.full(len(pu), highspy.HighsVarType.kInteger))
    for species, rows in puvspr.groupby("species"):
        cols = np.array([pos[u] for u in rows["pu"]], dtype=np.int32)
        h.addRow(float(goal[species]), highspy.kHighsInf, len(cols), cols,
                 rows["amount"].to_numpy(float))
    h.run()
    assert h.modelStatusToString(h.getModelStatus()) == "Optimal"
    return float(h.getInfo().objective_function_value)


def check_plan(folder: Path, blm: float, objective: float) -> None:
    """The written plan meets every target and is worth ``objective``, both recomputed from
    ``output_best.csv`` and the raw tables (boundary: Marxan's, external rows included)."""
    pu, spec, puvspr, bound = raw()
    best = read_best(folder / "output_best.csv")
    chosen = {int(u) for u in best[best == 1].index}
    assert not chosen & set(pu.loc[pu["status"] == 3, "id"])
    assert set(pu.loc[pu["status"] == 2, "id"]) <= chosen
    cost = pu.loc[pu["id"].isin(chosen), "cost"].sum()
    a, b = bound["id1"].isin(chosen), bound["id2"].isin(chosen)
    edge = np.where(bound["id1"] == bound["id2"], a, a != b)
    perimeter = float(bound["boundary"].to_numpy() @ edge)
    assert cost + blm * perimeter == pytest.approx(objective, rel=1e-9)
    held = puvspr[puvspr["pu"].isin(chosen)].groupby("species")["amount"].sum()
    goal = targets(spec, puvspr)
    assert (held.reindex(goal.index, fill_value=0.0) >= goal * (1 - 1e-9)).all()
    mv = read_mv(folder / "output_mv.csv").set_index("Conservation Feature")
    assert mv["Amount Held"].to_numpy() == pytest.approx(held.reindex(mv.index).to_numpy())
    assert (mv["Target Met"] == "yes").all()


def test_project_is_read_whole() -> None:
    project = read_marxan(DATA / "input.dat")
    assert (len(project.pu), len(project.spec), len(project.puvspr), len(project.bound)) == \
        (1751, 17, 4662, 5256)
    assert project.blm == 1.0
    data = project.problem().data
    external = project.bound[project.bound["id1"] == project.bound["id2"]]
    assert data.boundary.n_pairs == 5256 - len(external)  # each shared edge listed once
    assert data.boundary.external.sum() == pytest.approx(external["boundary"].sum())
    assert data.boundary.length.sum() + data.boundary.external.sum() == \
        pytest.approx(project.bound["boundary"].sum())


def test_blm0_optimum_equals_an_independent_milp(tmp_path: Path) -> None:
    project = read_marxan(DATA / "input.dat")
    result = project.problem(blm=0.0).solve(SolverOptions(gap=0.0, time_limit=60))
    assert result.status == "optimal" and result.gap == 0.0
    assert result.objective == pytest.approx(independent_min_set(*raw()[:3]), rel=1e-9)
    write_marxan_outputs(project, result, tmp_path)
    check_plan(tmp_path, 0.0, result.objective)


def test_blm1_plan_is_worth_its_recomputed_score(tmp_path: Path) -> None:
    """With the BLM (proof takes longer than a test should: benchmarks/bench_marxan.py
    --tasmania), the plan found within seconds meets the targets and its score is cost plus
    the boundary recomputed from bound.dat."""
    project = read_marxan(DATA / "input.dat")
    result = project.problem().solve(SolverOptions(gap=0.0, time_limit=5))
    assert result.has_plan and result.status in {"optimal", "feasible", "time_limit"}
    assert result.bound <= result.objective + 1e-6
    write_marxan_outputs(project, result, tmp_path)
    check_plan(tmp_path, 1.0, result.objective)
    assert result.terms["cost"] + result.terms["boundary"] == pytest.approx(result.objective)
