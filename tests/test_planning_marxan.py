"""Marxan interoperability: a synthetic project is written, read, solved exactly, its outputs
written and read back; bad projects are reported file by file, row by row."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from dss.cli import app
from dss.errors import InputError
from dss.planning.marxan import read_marxan
from dss.planning.marxan_outputs import (
    MV_HEADER,
    read_best,
    read_mv,
    write_marxan,
    write_marxan_outputs,
)
from dss.planning.portfolio import portfolio
from dss.planning.solve import SolverOptions

EXACT = SolverOptions(gap=0.0, abs_gap=1e-9, time_limit=30)


def grid_project(folder: Path, rows: int = 3, cols: int = 4, blm: float = 0.5, seed: int = 3,
                 asymmetric: bool = False) -> Path:
    """A rows x cols grid of unit squares: random integer costs, three species with
    presence in some cells, prop / target / occurrence targets, one locked-in and one
    locked-out cell, shared edges of length 1 and outer edges as id1 == id2 rows."""
    rng = np.random.default_rng(seed)
    n = rows * cols
    pu = pd.DataFrame({"id": np.arange(1, n + 1), "cost": rng.integers(1, 10, n),
                       "status": 0})
    pu.loc[pu["id"] == 1, "status"] = 2
    pu.loc[pu["id"] == n, "status"] = 3
    spec = pd.DataFrame({"id": [1, 2, 3], "prop": [0.4, 0.0, 0.0], "target": [0, 3, 0],
                         "targetocc": [0, 0, 2], "spf": [10, 10, 10],
                         "name": ["oak", "newt", "orchid"]})
    amounts = []
    for species in (1, 2, 3):
        for unit in rng.choice(n, 6, replace=False):
            amounts.append((species, int(unit) + 1, float(rng.integers(1, 4))))
    puvspr = pd.DataFrame(amounts, columns=["species", "pu", "amount"])
    edges = []
    for r, c in itertools.product(range(rows), range(cols)):
        i = r * cols + c + 1
        if c + 1 < cols:
            edges.append((i, i + 1, 1.0))
        if r + 1 < rows:
            edges.append((i, i + cols, 1.0))
        outer = (r == 0) + (r == rows - 1) + (c == 0) + (c == cols - 1)
        if outer:
            edges.append((i, i, float(outer)))
    bound = pd.DataFrame(edges, columns=["id1", "id2", "boundary"])
    extra = {"ASYMMETRICCONNECTIVITY": 1} if asymmetric else None
    return write_marxan(folder, pu, spec, puvspr, bound, blm=blm, extra=extra)


def brute_force(project) -> float:
    """Least cost + BLM x perimeter over every plan meeting the targets and the locks
    (all plans at once, as a 0/1 matrix)."""
    pu, spec, puvspr, bound = project.pu, project.spec, project.puvspr, project.bound
    ids = pu["id"].tolist()
    pos = {u: k for k, u in enumerate(ids)}
    status = pu["status"].to_numpy()
    free = np.flatnonzero(status < 2)
    plans = np.zeros((2 ** len(free), len(ids)))
    plans[:, free] = np.array(list(itertools.product((0, 1), repeat=len(free))))
    plans[:, status == 2] = 1.0
    ok = np.ones(len(plans), dtype=bool)
    for r in spec.itertuples(index=False):
        rows = puvspr[puvspr["species"] == r.id]
        amount = np.zeros(len(ids))
        amount[[pos[u] for u in rows["pu"]]] = rows["amount"].to_numpy()
        target = r.prop * amount.sum() if r.prop > 0 else r.target
        ok &= plans @ amount >= target - 1e-9
        ok &= plans @ (amount > 0) >= r.targetocc
    a = plans[:, [pos[u] for u in bound["id1"]]]
    b = plans[:, [pos[u] for u in bound["id2"]]]
    outer = (bound["id1"] == bound["id2"]).to_numpy()
    cut = np.where(outer, a, np.abs(a - b))
    score = plans @ pu["cost"].to_numpy(float) + project.blm * cut @ bound["boundary"].to_numpy()
    return float(score[ok].min())


def test_round_trip(tmp_path: Path) -> None:
    input_dat = grid_project(tmp_path / "proj")
    assert (tmp_path / "proj" / "input" / "bound.dat").is_file()
    project = read_marxan(input_dat)
    assert project.blm == 0.5 and len(project.pu) == 12 and project.scenario == "output"
    assert any("heuristic setting" in note for note in project.notes)
    problem = project.problem()
    result = problem.solve(EXACT)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(brute_force(project))
    paths = write_marxan_outputs(project, result)
    assert set(paths) == {"output_best", "output_mv", "output_sum"}
    assert paths["output_best"].parent == tmp_path / "proj" / "output"
    assert paths["output_best"].read_text().splitlines()[0] == "PUID,SOLUTION"
    best = read_best(paths["output_best"])
    assert best.index.tolist() == [str(i) for i in range(1, 13)]
    assert best.tolist() == (result.selected() > 0.5).astype(int).tolist()
    assert best["1"] == 1 and best["12"] == 0  # locked in, locked out
    head = paths["output_mv"].read_text().splitlines()[0]
    assert head == ",".join(f'"{h}"' for h in MV_HEADER)
    mv = read_mv(paths["output_mv"])
    assert mv["Target Met"].tolist() == ["yes", "yes", "yes"]
    assert (mv["Amount Held"] >= mv["Target"] - 1e-9).all()
    total_oak = project.puvspr.loc[project.puvspr["species"] == "1", "amount"].sum()
    assert mv.loc[0, "Target"] == pytest.approx(0.4 * total_oak)
    assert mv.loc[2, "Occurrences Held"] >= 2
    summary = pd.read_csv(paths["output_sum"])
    assert summary["Score"].iloc[0] == pytest.approx(result.objective)
    assert summary["Missing_Values"].iloc[0] == 0
    # the written solution, read back, is worth the same
    chosen = set(best[best == 1].index)
    cost = project.pu.loc[project.pu["id"].isin(chosen), "cost"].sum()
    assert summary["Cost"].iloc[0] == pytest.approx(cost)


def test_blm_override_and_portfolio(tmp_path: Path) -> None:
    project = read_marxan(grid_project(tmp_path / "proj", blm=0.5))
    compact = project.problem(blm=5.0).solve(EXACT)
    loose = project.problem(blm=0.0).solve(EXACT)
    assert compact.terms["boundary"] / 5.0 <= (project.problem().solve(EXACT)
                                               .terms["boundary"] / 0.5) + 1e-9
    assert "boundary" not in loose.terms
    pf = portfolio(project.problem(), 3, options=EXACT)
    paths = write_marxan_outputs(project, pf.results[0], tmp_path / "out", pf)
    ssoln = pd.read_csv(paths["output_ssoln"])
    assert ssoln["number"].max() <= 3 and ssoln.loc[0, "number"] == 3  # unit 1 locked in


@pytest.mark.parametrize("blm", [0.0, 0.5, 5.0])
def test_summary_connectivity_is_the_plans_boundary_whatever_the_blm(tmp_path: Path,
                                                                     blm: float) -> None:
    """``output_sum.csv``'s Connectivity is the plan's perimeter recomputed here from
    ``bound.dat`` (external rows included), also when the plan was solved with another BLM
    than input.dat's 0.5, or with none."""
    project = read_marxan(grid_project(tmp_path / "proj", blm=0.5))
    result = project.problem(blm=blm).solve(EXACT)
    x = dict(zip(project.problem().data.unit_ids, result.selected() > 0.5, strict=True))
    perimeter = sum(r.boundary * (x[r.id1] if r.id1 == r.id2 else x[r.id1] != x[r.id2])
                    for r in project.bound.itertuples(index=False))
    assert perimeter > 0
    paths = write_marxan_outputs(project, result, tmp_path / "out")
    summary = pd.read_csv(paths["output_sum"])
    assert summary["Connectivity"].iloc[0] == pytest.approx(perimeter)
    assert summary["Score"].iloc[0] == pytest.approx(summary["Cost"].iloc[0] + blm * perimeter)


def test_asymmetric_connectivity(tmp_path: Path) -> None:
    """With ASYMMETRICCONNECTIVITY 1, a selected id1 pays when id2 is not selected."""
    project = read_marxan(grid_project(tmp_path / "proj", asymmetric=True))
    problem = project.problem()
    assert [p.name for p in problem.penalties] == ["connectivity", "fixed_boundary"]
    result = problem.solve(EXACT)
    x = (result.selected() > 0.5).astype(float)
    ids = problem.data.unit_ids
    pos = {u: k for k, u in enumerate(ids)}
    b = project.bound
    pen = sum(r.boundary * (x[pos[r.id1]] if r.id1 == r.id2 else
                            x[pos[r.id1]] * (1 - x[pos[r.id2]]))
              for r in b.itertuples(index=False))
    cost = float(project.pu["cost"].to_numpy() @ x)
    assert result.objective == pytest.approx(cost + project.blm * pen)


def test_tab_separated_and_defaults(tmp_path: Path) -> None:
    folder = tmp_path / "tabs"
    (folder / "input").mkdir(parents=True)
    (folder / "input.dat").write_text("Comments first\nBLM 0\nINPUTDIR input\n",
                                      encoding="utf-8")
    (folder / "input" / "pu.dat").write_text("id\tcost\n1\t2\n2\t1\n", encoding="utf-8")
    (folder / "input" / "spec.dat").write_text("id\ttarget\tname\n7\t1\tfrog\n",
                                               encoding="utf-8")
    (folder / "input" / "puvspr.dat").write_text("species\tpu\tamount\n7\t1\t1\n7\t2\t1\n",
                                                 encoding="utf-8")
    project = read_marxan(folder)
    assert project.pu["status"].tolist() == [0, 0] and project.bound is None
    result = project.problem().solve(EXACT)
    assert result.objective == pytest.approx(1.0)


def test_bad_project_is_located(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    grid_project(folder)
    inp = folder / "input"
    (inp / "pu.dat").write_text("id,cost,status\n1,3,0\n1,x,5\n3,-1,0\n", encoding="utf-8")
    (inp / "spec.dat").write_text("id,prop,spf,name\n1,1.5,10,oak\n", encoding="utf-8")
    (inp / "puvspr.dat").write_text("species,pu,amount\n1,1,2\n9,3,1\n1,8,1\n",
                                    encoding="utf-8")
    (inp / "bound.dat").write_text("id1,id2,boundary\n1,3,1\n1,44,1\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_marxan(folder / "input.dat")
    text = str(err.value)
    for needle in ("pu.dat, row 3, column id: duplicate id 1",
                   "pu.dat, row 3, column cost: not a number: 'x'",
                   "pu.dat, row 3, column status: status 5 is not 0, 1, 2 or 3",
                   "pu.dat, row 4, column cost: -1 is below 0",
                   "spec.dat, row 2, column prop: prop 1.5 is above 1",
                   "puvspr.dat, row 3, column species: unknown feature 9",
                   "puvspr.dat, row 4, column pu: unknown planning unit 8",
                   "bound.dat, row 3, column id2: unknown planning unit 44"):
        assert needle in text, text


def test_missing_project(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="Marxan input file not found"):
        read_marxan(tmp_path / "nothing")


def test_dss_solve_on_a_marxan_model(tmp_path: Path) -> None:
    """``dss solve`` on a ``kind: planning`` model whose source is a Marxan project."""
    grid_project(tmp_path / "proj")
    model = tmp_path / "marxan.yaml"
    model.write_text(yaml.safe_dump({
        "name": "grid", "kind": "planning", "inputs": "proj",
        "solver": {"mip_gap": 0.0},
        "planning": {"source": "marxan", "marxan": "input.dat",
                     "portfolio": {"solutions": 2}}}), encoding="utf-8")
    result = CliRunner().invoke(app, ["solve", str(model), "--out", str(tmp_path / "res")])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "res" / "grid" / "base"
    for name in ("summary.csv", "units.csv", "targets.csv", "output_best.csv",
                 "output_mv.csv", "output_sum.csv", "output_ssoln.csv", "manifest.yaml",
                 "report.md"):
        assert (folder / name).is_file(), name
    manifest = yaml.safe_load((folder / "manifest.yaml").read_text(encoding="utf-8"))
    assert manifest["kind"] == "solve" and manifest["planning"] is True
    assert manifest["solver"]["status"] == "optimal"
    project = read_marxan(tmp_path / "proj")
    summary = pd.read_csv(folder / "summary.csv").set_index("metric")["value"]
    assert float(summary["objective"]) == pytest.approx(brute_force(project))
