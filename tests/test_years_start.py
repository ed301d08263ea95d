"""The working-set start of a phased LP (dss.optimize.year_start) changes the time, never the
optimum: each plan is compared with the same model solved from scratch by HiGHS."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from test_years import phased_synthetic_study

from dss.optimize import year_start
from dss.optimize.build import compile_problem
from dss.optimize.persistent import PersistentModel
from dss.optimize.problem import Problem
from dss.optimize.solve import solve_built
from dss.optimize.year_start import start_basis, study_budget, working_set


def _solve(path, monkeypatch=None, cold: bool = False):
    built = compile_problem(Problem.from_model(path))
    if cold:
        monkeypatch.setattr(PersistentModel, "start_from_working_set", lambda self: None)
    result = solve_built(built)
    if cold:
        monkeypatch.undo()
    return built, result


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_the_working_set_start_reaches_the_optimum_from_scratch(tmp_path, monkeypatch, seed):
    path, _model = phased_synthetic_study(tmp_path / "study", seed)
    built, fast = _solve(path)
    pm = PersistentModel(built)
    keep = working_set(built.ctx, pm.matrix.cost, pm.matrix.maximize, pm.matrix.col_lower,
                       study_budget(built.problem))
    assert keep is not None and 0 < keep.sum() < len(keep) / 2  # the start is used
    _built, cold = _solve(path, monkeypatch, cold=True)
    assert fast.status == cold.status == "optimal"
    assert fast.objective == pytest.approx(cold.objective, rel=1e-9)
    # the same plan's benefit, recomputed from its amounts
    assert sum(built.benefit_values(fast.amounts).values()) == pytest.approx(
        sum(_built.benefit_values(cold.amounts).values()), rel=1e-7)


def test_a_working_set_without_an_optimum_leaves_the_lp_to_start_from_scratch(tmp_path):
    path, _model = phased_synthetic_study(tmp_path / "study", 0)
    built = compile_problem(Problem.from_model(path))
    pm = PersistentModel(built)
    m = pm.matrix
    keep = working_set(built.ctx, m.cost, m.maximize, m.col_lower, study_budget(built.problem))
    found = start_basis(pm.highs, m, keep, pm.options)
    assert found is not None
    basis, used = found
    assert basis.valid and not used[~keep].any()
    assert sum(str(s).endswith("kBasic") for s in basis.col_status + basis.row_status) \
        == m.n_rows  # a basis of the whole LP
    # a row that only options left out of the working set fill, and must hold above 0
    col_of = np.repeat(np.arange(m.n_cols), np.diff(m.start))
    kept = np.ones(m.n_cols, bool)
    kept[:len(keep)] = keep
    alone = np.setdiff1d(np.unique(m.index), np.unique(m.index[kept[col_of]]))
    assert len(alone)  # e.g. the land of a pair left out
    lowered = replace(m, row_lower=np.where(np.arange(m.n_rows) == alone[0], 1e-3,
                                            m.row_lower))
    assert start_basis(pm.highs, lowered, keep, pm.options) is None
    # a budget that cannot hold: no optimum over the working set
    total = pm.row(built.blocks["budget"].total)
    broken = replace(m, row_upper=np.where(np.arange(m.n_rows) == total, -1.0, m.row_upper))
    assert start_basis(pm.highs, broken, keep, pm.options) is None


def test_no_working_set_without_a_budget_a_maximised_objective_or_years(tmp_path):
    path, _model = phased_synthetic_study(tmp_path / "study", 1)
    built = compile_problem(Problem.from_model(path))
    m = PersistentModel(built).matrix
    budget = study_budget(built.problem)
    assert budget is not None
    assert working_set(built.ctx, m.cost, False, m.col_lower, budget) is None
    assert working_set(built.ctx, m.cost, True, m.col_lower, None) is None
    other = m.cost.copy()
    other[-1] = 1.0  # a benefit on a column that is not an amount (a curve segment)
    assert working_set(built.ctx, other, True, m.col_lower, budget) is None
    assert working_set(built.ctx, m.cost, True, m.col_lower, 1e30) is None  # half or more


def test_a_working_set_too_small_for_the_plan_is_grown_then_dropped(tmp_path, monkeypatch):
    """A set of one pair is used by its own plan: grown once, still too small, dropped; the
    LP then starts from scratch and reaches the same optimum."""
    path, _model = phased_synthetic_study(tmp_path / "study", 3)
    built = compile_problem(Problem.from_model(path))
    pm = PersistentModel(built)
    pm.start_from_relaxation()
    calls = []
    real = year_start.start_basis
    monkeypatch.setattr(year_start, "MONEY_FACTOR", 1e-12)
    monkeypatch.setattr(year_start, "start_basis",
                        lambda *a, **k: calls.append(int(a[2].sum())) or real(*a, **k))
    pm.start_from_working_set()
    assert len(calls) == 2 and pm._reference_basis is None  # grown once, then dropped
    fast = pm.solve()
    monkeypatch.undo()
    _built, cold = _solve(path, monkeypatch, cold=True)
    assert fast.objective == pytest.approx(cold.objective, rel=1e-9)
