"""Rows made from arrays (BuildContext.linear_rows / register_rows) compile to exactly the
matrix the compiler's walk over each row gives."""

from __future__ import annotations

import numpy as np
import pytest
from test_years import phased_synthetic_study

from dss.optimize.build import compile_problem
from dss.optimize.context import BuildContext
from dss.optimize.matrix import compile_matrix
from dss.optimize.problem import Problem

FIELDS = ("start", "index", "value", "row_lower", "row_upper", "col_lower", "col_upper",
          "cost")


def _matrices(path, monkeypatch, walk: bool):
    if walk:
        monkeypatch.setattr(BuildContext, "register_rows", lambda self, *a, **k: None)
    built = compile_problem(Problem.from_model(path))
    monkeypatch.undo()
    return built, compile_matrix(built.model, built.ctx)


@pytest.mark.parametrize("seed", [0, 1])
def test_rows_from_arrays_compile_as_the_walk_does(tmp_path, monkeypatch, seed):
    path, _model = phased_synthetic_study(tmp_path / "study", seed)
    built, fast = _matrices(path, monkeypatch, walk=False)
    assert any(s.component.local_name == "share" for s in built.ctx.row_sets.values())
    _built, walked = _matrices(path, monkeypatch, walk=True)
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(fast, name), getattr(walked, name), name)
    assert [c.name for c in fast.rows] == [c.name for c in walked.rows]


def test_a_deactivated_row_of_a_row_set_is_left_out(tmp_path, monkeypatch):
    path, _model = phased_synthetic_study(tmp_path / "study", 0)
    built, before = _matrices(path, monkeypatch, walk=False)
    share = built.blocks["land"].share
    first = next(iter(share.values()))
    first.deactivate()
    after = compile_matrix(built.model, built.ctx)
    assert after.n_rows == before.n_rows - 1 and first not in after.con_row


def test_linear_rows_are_the_linear_expressions_of_each_row(tmp_path):
    path, _model = phased_synthetic_study(tmp_path / "study", 2)
    ctx = compile_problem(Problem.from_model(path)).ctx
    idx = np.array([0, 1, 2, 0, 1, 3])
    coefs = np.array([1.0, 0.0, 2.0, 0.0, 0.0, -1.5])
    rows = ctx.linear_rows(idx, coefs, np.array([0, 3, 3, 5, 6]))
    expected = [([0, 2], [1.0, 2.0]), ([], []), ([], []), ([3], [-1.5])]
    for expr, (i, c) in zip(rows, expected, strict=True):
        terms = ctx.linear_terms(expr)
        assert terms.idx.tolist() == i and terms.coefs.tolist() == c
        one = ctx.linear_terms(ctx.linear(idx[:0] if not i else np.array(i),
                                          np.array(c, dtype=float)))
        assert one.idx.tolist() == terms.idx.tolist()
