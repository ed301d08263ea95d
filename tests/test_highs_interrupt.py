"""Ctrl+C while HiGHS runs (:func:`dss.optimize.highs.relay_log`): it reaches Python inside
HiGHS's log callback, which ends HiGHS's run with an error status; dss raises it again as a
KeyboardInterrupt (the CLI then says "interrupted: nothing was written", exit 130) instead
of reporting a solver failure, and the next run is unaffected."""

from __future__ import annotations

import pytest
from test_planning_reductions import grid_case, problem_of

from dss.optimize import highs as core
from dss.optimize.core import HighsModel
from dss.planning.compile import compile_problem
from dss.planning.solve import SolverOptions, highs_settings


class CtrlC:
    """A log callback as Python runs it when Ctrl+C is pressed during the solve (armed)."""

    armed = False

    def __call__(self, _message: str) -> None:
        if self.armed:
            raise KeyboardInterrupt


@pytest.mark.parametrize("threads", [1, 2])
def test_ctrl_c_in_the_solver_is_an_interruption_not_a_failure(threads):
    problem = problem_of(*grid_case(3))
    settings = highs_settings(SolverOptions(gap=0.0, threads=threads))
    ctrl_c = CtrlC()
    interrupted = HighsModel(compile_problem(problem).m, settings, log=ctrl_c)
    ctrl_c.armed = True  # pressed once HiGHS runs (some versions log while loading)
    with pytest.raises(KeyboardInterrupt):
        interrupted.solve()
    assert not core._CTRL_C.is_set()  # raised once
    lines: list[str] = []
    solution = HighsModel(compile_problem(problem).m, settings, log=lines.append).solve()
    assert solution.status == "optimal" and lines
