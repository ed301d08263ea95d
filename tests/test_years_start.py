"""The working-set start of a phased LP (dss.optimize.year_start) changes the time, never the
optimum: each plan is compared with the same model solved from scratch by HiGHS."""

from __future__ import annotations

import numpy as np
import pytest
from test_years import phased_synthetic_study

from dss.optimize.build import compile_problem
from dss.optimize.forms import LinearForm
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


def test_a_working_set_without_an_optimum_is_dropped_and_the_bounds_restored(tmp_path):
    path, _model = phased_synthetic_study(tmp_path / "study", 0)
    built = compile_problem(Problem.from_model(path))
    pm = PersistentModel(built)
    m = pm.matrix
    keep = working_set(built.ctx, m.cost, m.maximize, m.col_lower, study_budget(built.problem))
    outside = np.flatnonzero(~keep)[:5]
    # require some work that only options outside the working set can do
    pm.add_row(LinearForm(outside.astype(np.int32), np.ones(len(outside)), 0.0),
               float(m.col_upper[outside].min()) / 2, None)
    relaxed = pm._lp_copy(presolve=False)  # the LP relaxation, as the solve makes it
    assert start_basis(relaxed, keep, m.col_lower, m.col_upper, "on") is None
    lp = relaxed.getLp()
    np.testing.assert_array_equal(np.asarray(lp.col_lower_), m.col_lower)
    np.testing.assert_array_equal(np.asarray(lp.col_upper_), m.col_upper)
    basis = start_basis(relaxed, np.ones(len(keep), bool), m.col_lower, m.col_upper, "on")
    assert basis is not None  # the whole model is its own working set


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
