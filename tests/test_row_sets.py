"""Rows made from arrays (BuildContext.linear_rows / register_rows) compile to exactly the
matrix the compiler's walk over each row gives."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import pytest
from test_years import phased_synthetic_study

from dss.optimize.build import compile_problem
from dss.optimize.matrix import compile_matrix
from dss.optimize.problem import Problem

FIELDS = ("start", "index", "value", "row_lower", "row_upper", "col_lower", "col_upper",
          "cost")


@pytest.mark.parametrize("seed", [0, 1])
def test_rows_from_arrays_compile_as_the_walk_does(tmp_path, seed):
    path, _model = phased_synthetic_study(tmp_path / "study", seed)
    built = compile_problem(Problem.from_model(path))
    names = {s.component.local_name for s in built.ctx.row_sets.values()}
    assert {"share", "used_link", "used_once"} <= names  # with other variables too
    fast = compile_matrix(built.model, built.ctx)
    built.ctx.row_sets.clear()  # every row walked, as any other constraint
    walked = compile_matrix(built.model, built.ctx)
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(fast, name), getattr(walked, name), name)
    assert [c.name for c in fast.rows] == [c.name for c in walked.rows]


def test_a_deactivated_row_of_a_row_set_is_left_out(tmp_path):
    path, _model = phased_synthetic_study(tmp_path / "study", 0)
    built = compile_problem(Problem.from_model(path))
    before = compile_matrix(built.model, built.ctx)
    first = next(iter(built.blocks["land"].share.values()))
    first.deactivate()
    after = compile_matrix(built.model, built.ctx)
    assert after.n_rows == before.n_rows - 1 and first not in after.con_row


def test_array_rows_hold_their_bounds(tmp_path):
    path, _model = phased_synthetic_study(tmp_path / "study", 1)
    built = compile_problem(Problem.from_model(path))
    block = pyo.Block()
    built.model.add_component("extra", block)
    con = built.ctx.array_rows(block, "rows", [("a", 1), ("b", 2), ("c", 3)],
                               np.array([0, 1, 2, 3]), np.array([1.0, 2.0, 0.0, 1.0]),
                               np.array([0, 2, 3, 4]), np.array([-np.inf, 1.0, 2.0]),
                               np.array([5.0, np.inf, 2.0]))
    assert (con["a", 1].lb, con["a", 1].ub) == (None, 5.0)
    assert (con["b", 2].lb, con["b", 2].ub) == (1.0, None)
    assert con["c", 3].equality and con["c", 3].ub == 2.0
    m = compile_matrix(built.model, built.ctx)
    rows = [m.con_row[con[k]] for k in con]
    assert m.row_upper[rows].tolist() == [5.0, np.inf, 2.0]
    dense = np.zeros((3, 4))
    for j in range(4):
        for e in range(m.start[j], m.start[j + 1]):
            if m.index[e] in rows:
                dense[rows.index(m.index[e]), j] = m.value[e]
    assert dense.tolist() == [[1, 2, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1]]


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
