"""Marxan problems with a boundary penalty against enumeration: the boundary compiled as
:math:`z_{ij} \\ge |y_i - y_j|` and units fixed out by :mod:`dss.planning.reductions` keep the
optimal objective that enumerating every plan finds (computed here from the raw arrays)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from dss.planning.problem import PlanningProblem
from dss.planning.reductions import marxan_like, never_selected
from dss.planning.solve import SolverOptions

EXACT = SolverOptions(gap=0.0, abs_gap=1e-9, time_limit=30)


def grid_case(seed: int, rows: int = 3, cols: int = 4):
    """A random Marxan-like problem on a grid: some units hold no feature at all."""
    rng = np.random.default_rng(seed)
    n = rows * cols
    cost = rng.integers(0, 8, n).astype(float)
    amounts = rng.uniform(0, 5, (3, n)) * (rng.uniform(size=(3, n)) < 0.5)
    amounts[:, rng.choice(n, 3, replace=False)] = 0.0  # units that hold nothing
    pairs = []
    for r in range(rows):
        for c in range(cols):
            i = r * cols + c
            if c + 1 < cols:
                pairs.append((i, i + 1, float(rng.integers(1, 3))))
            if r + 1 < rows:
                pairs.append((i, i + cols, float(rng.integers(1, 3))))
    external = np.array([float((r in (0, rows - 1)) + (c in (0, cols - 1)))
                         for r in range(rows) for c in range(cols)])
    targets = 0.3 * amounts.sum(axis=1)
    blm = float(rng.choice([0.5, 1.0, 2.0]))
    return n, cost, amounts, pairs, external, targets, blm


def problem_of(n, cost, amounts, pairs, external, targets, blm, locked_in=()):
    units = pd.DataFrame({"id": [str(i) for i in range(n)], "cost": cost})
    rows = [{"feature": f"f{f}", "unit": str(i), "amount": amounts[f, i]}
            for f in range(amounts.shape[0]) for i in range(n) if amounts[f, i] != 0]
    bound = pd.DataFrame([{"id1": str(a), "id2": str(b), "boundary": v} for a, b, v in pairs]
                         + [{"id1": str(i), "id2": str(i), "boundary": e}
                            for i, e in enumerate(external) if e])
    problem = (PlanningProblem.from_tables(units, [f"f{f}" for f in range(len(amounts))],
                                           pd.DataFrame(rows), boundary=bound)
               .add_min_set_objective()
               .add_absolute_targets({f"f{f}": float(t) for f, t in enumerate(targets)})
               .add_boundary_penalties(blm))
    if locked_in:
        problem = problem.add_locked_in_constraints([str(i) for i in locked_in])
    return problem


def enumerate_best(n, cost, amounts, pairs, external, targets, blm, allowed=None,
                   locked_in=()):
    """Least cost + BLM x perimeter over every plan meeting the targets."""
    best = np.inf
    for bits in itertools.product((0, 1), repeat=n):
        x = np.array(bits, dtype=float)
        if any(x[i] == 0 for i in locked_in):
            continue
        if allowed is not None and (x[~allowed] > 0).any():
            continue
        if ((amounts @ x) < targets - 1e-9).any():
            continue
        perimeter = external @ x + sum(v * abs(x[a] - x[b]) for a, b, v in pairs)
        best = min(best, cost @ x + blm * perimeter)
    return best


@pytest.mark.parametrize("seed", range(12))
def test_boundary_and_reductions_keep_the_enumerated_optimum(seed):
    case = grid_case(seed)
    n, cost, amounts, pairs, external, targets, blm = case
    problem = problem_of(*case)
    assert marxan_like(problem)
    result = problem.solve(EXACT)
    best = enumerate_best(*case)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(best, abs=1e-6)
    # dropping the fixed-out units keeps the optimum (the reduction is exact)
    out = never_selected(problem)
    assert enumerate_best(*case, allowed=~out) == pytest.approx(best, abs=1e-9)
    # and the plan returned holds none of them
    assert not (result.selected()[out] > 0.5).any()


def test_a_hole_is_filled_and_an_expensive_empty_unit_is_fixed_out():
    # 3 x 3 grid: the centre holds nothing and costs 1, less than the 4 shared edges it can
    # remove: kept; the corners hold nothing and cost at least their 2 shared edges minus
    # their 2 outer edges: fixed out
    n = 9
    cost = np.array([10, 1, 1, 1, 1, 1, 1, 1, 1], dtype=float)
    amounts = np.zeros((1, n))
    amounts[0, [1, 3, 5, 7]] = 1.0
    pairs = [(0, 1, 1.0), (1, 2, 1.0), (3, 4, 1.0), (4, 5, 1.0), (6, 7, 1.0), (7, 8, 1.0),
             (0, 3, 1.0), (3, 6, 1.0), (1, 4, 1.0), (4, 7, 1.0), (2, 5, 1.0), (5, 8, 1.0)]
    external = np.array([2, 1, 2, 1, 0, 1, 2, 1, 2], dtype=float)
    targets = np.array([4.0])
    problem = problem_of(n, cost, amounts, pairs, external, targets, 1.0)
    out = never_selected(problem)
    assert out.tolist() == [True, False, True, False, False, False, True, False, True]
    result = problem.solve(EXACT)
    # the four holders plus the centre: cost 5, perimeter 12 (a plus sign), not 16 + 0
    assert result.selected().tolist() == [0, 1, 0, 1, 1, 1, 0, 1, 0]
    assert result.objective == pytest.approx(17.0)
    assert result.objective == pytest.approx(enumerate_best(n, cost, amounts, pairs, external,
                                                            targets, 1.0))


def test_no_reduction_outside_marxan_problems():
    case = grid_case(3)
    problem = problem_of(*case)
    other = problem.add_linear_constraints(100.0, "<=", "cost")
    assert not marxan_like(other) and not never_selected(other).any()
    spread = problem_of(*case[:-1], -1.0)  # a negative BLM rewards boundary
    assert not marxan_like(spread) and not never_selected(spread).any()
    locked = problem_of(*case, locked_in=tuple(np.flatnonzero(never_selected(problem))))
    assert not never_selected(locked)[np.flatnonzero(never_selected(problem))].any()
