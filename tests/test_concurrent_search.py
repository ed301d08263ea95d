"""Concurrent MIP search (:mod:`dss.optimize.concurrent`): with ``threads: 2`` a MIP runs as
two HiGHS searches sharing plans; the optimum is still the one enumeration finds, statuses
and limits are those of one search, and the sharing logic hands a plan only when it is
better than the worker's own."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import numpy as np
import pytest
from test_planning_reductions import enumerate_best, grid_case, problem_of

from dss.optimize import concurrent
from dss.planning.solve import SolverOptions

RACE = SolverOptions(gap=0.0, abs_gap=1e-9, time_limit=30, threads=2)


@pytest.mark.parametrize("seed", range(6))
def test_two_searches_find_the_enumerated_optimum(seed, caplog):
    case = grid_case(seed, rows=3, cols=5)
    problem = problem_of(*case)
    with caplog.at_level(logging.INFO, logger="dss.optimize.concurrent"):
        result = problem.solve(RACE)
    assert "concurrent MIP search: 2 workers" in caplog.text
    assert result.status == "optimal"
    assert result.objective == pytest.approx(enumerate_best(*case), abs=1e-6)
    # the plan reported is the one whose objective is reported
    x = result.selected().astype(float)
    n, cost, amounts, pairs, external, targets, blm = case
    perimeter = external @ x + sum(v * abs(x[a] - x[b]) for a, b, v in pairs)
    assert cost @ x + blm * perimeter == pytest.approx(result.objective, abs=1e-6)
    assert ((amounts @ x) >= targets - 1e-9).all()


def test_one_thread_runs_one_search(caplog):
    problem = problem_of(*grid_case(1))
    with caplog.at_level(logging.INFO, logger="dss.optimize.concurrent"):
        result = problem.solve(SolverOptions(gap=0.0, threads=1))
    assert result.status == "optimal"
    assert "concurrent" not in caplog.text


def test_an_infeasible_mip_is_infeasible_with_two_searches():
    n, cost, amounts, pairs, external, targets, blm = grid_case(2)
    problem = problem_of(n, cost, amounts, pairs, external, amounts.sum(axis=1) * 2, blm)
    assert problem.solve(RACE).status == "infeasible"


def test_the_model_keeps_its_own_options_after_a_race():
    problem = problem_of(*grid_case(4))
    from dss.planning.compile import compile_problem
    from dss.planning.solve import load, solve_model

    model = compile_problem(problem)
    loaded = load(model, RACE)
    first = solve_model(model, RACE, loaded)
    highs = loaded.core.highs
    assert highs.getOptionValue("threads")[1] == 2
    assert highs.getOptionValue("random_seed")[1] == 0
    assert highs.getOptionValue("mip_heuristic_effort")[1] == pytest.approx(0.05)
    again = solve_model(model, RACE, loaded)  # the same instance races again
    assert again.objective == pytest.approx(first.objective, abs=1e-9)


def test_worker_options_differ_by_seed_and_role():
    base = {"threads": 2, "random_seed": 5, "mip_rel_gap": 0.0}
    prover, finder, third = (concurrent.worker_options(base, w) for w in (0, 1, 2))
    assert [o["random_seed"] for o in (prover, finder, third)] == [5, 6, 7]
    assert all(o["threads"] == 1 and o["mip_rel_gap"] == 0.0 for o in (prover, finder, third))
    assert "mip_heuristic_effort" not in prover and "mip_heuristic_effort" not in third
    assert finder["mip_heuristic_effort"] == concurrent.FINDER_OPTIONS["mip_heuristic_effort"]


class FakeEvent:
    """The parts of a highspy callback event the sharing callbacks read and write."""

    def __init__(self, objective: float = 0.0, x=None, own: float = float("inf")) -> None:
        self.data_out = SimpleNamespace(objective_function_value=objective,
                                        mip_solution=x, mip_primal_bound=own)
        self.given = None
        self.data_in = SimpleNamespace(user_interrupt=False, user_has_solution=False,
                                       setSolution=lambda x: setattr(self, "given", x))


class Hook(list):
    """A highspy callback event: ``+=`` subscribes."""

    def __iadd__(self, callback):
        self.append(callback)
        return self


class FakeHighs:
    """Collects the callbacks :func:`concurrent._attach` subscribes."""

    def __init__(self) -> None:
        self.cbMipImprovingSolution, self.cbMipUserSolution = Hook(), Hook()
        self.cbMipInterrupt = Hook()


def attached(shared, sense=1.0):
    highs = FakeHighs()
    concurrent._attach(highs, shared, sense)
    return (highs.cbMipImprovingSolution[0], highs.cbMipUserSolution[0],
            highs.cbMipInterrupt[0])


def test_a_better_plan_is_handed_once_and_only_to_a_worse_worker():
    shared = concurrent._Shared()
    improving_a, _, _ = attached(shared)
    _, user_b, interrupt_b = attached(shared)
    improving_a(FakeEvent(10.0, [1.0, 0.0]))
    assert shared.objective == 10.0 and shared.version == 1
    improving_a(FakeEvent(12.0, [1.0, 1.0]))  # not an improvement on the shared plan
    assert shared.objective == 10.0 and shared.version == 1
    event = FakeEvent(own=11.0)
    user_b(event)
    assert np.array_equal(event.given, [1.0, 0.0]) and shared.shared_plans == 1
    again = FakeEvent(own=11.0)
    user_b(again)  # already handed this version
    assert again.given is None
    improving_a(FakeEvent(9.0, [0.0, 1.0]))
    better_own = FakeEvent(own=8.0)
    user_b(better_own)  # the worker's own plan is better: nothing handed
    assert better_own.given is None
    stop = FakeEvent()
    interrupt_b(stop)
    assert stop.data_in.user_interrupt is False
    shared.stop.set()
    interrupt_b(stop)
    assert stop.data_in.user_interrupt is True
    stale = FakeEvent()
    stale.data_in.user_interrupt = True  # left by an earlier run of the same instance
    _, _, fresh_interrupt = attached(concurrent._Shared())
    fresh_interrupt(stale)
    assert stale.data_in.user_interrupt is False


def test_a_maximisation_shares_larger_objectives():
    shared = concurrent._Shared()
    improving, _, _ = attached(shared, sense=-1.0)
    _, user, _ = attached(shared, sense=-1.0)
    improving(FakeEvent(5.0, [1.0]))
    improving(FakeEvent(7.0, [0.0]))
    assert shared.objective == -7.0
    event = FakeEvent(own=6.0)
    user(event)
    assert np.array_equal(event.given, [0.0])


def test_a_time_limit_reports_the_best_plan_of_the_searches():
    # Marxan's Tasmania project with BLM 1 takes far longer than 3 s to prove: both
    # searches stop at the limit and the plan reported is worth the objective reported
    from pathlib import Path

    from dss.planning.evaluate import objective_value
    from dss.planning.marxan import read_marxan

    project = read_marxan(Path(__file__).parent / "data" / "marxan_tasmania" / "input.dat")
    problem = project.problem()
    result = problem.solve(SolverOptions(gap=0.0, time_limit=3.0, threads=2))
    assert result.status == "time_limit"
    assert result.solution is not None
    assert objective_value(problem, result.solution) == pytest.approx(result.objective,
                                                                      rel=1e-9)
    assert result.bound <= result.objective


def test_a_plan_of_another_length_is_not_shared():
    shared = concurrent._Shared(n_cols=2)
    improving, _, _ = attached(shared)
    improving(FakeEvent(3.0, [1.0, 0.0, 1.0]))  # not a plan of this model's columns
    assert shared.x is None and shared.version == 0
    improving(FakeEvent(4.0, [1.0, 0.0]))
    assert shared.objective == 4.0 and shared.version == 1
