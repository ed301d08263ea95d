"""A plan's penalty is reported from the plan itself (:func:`dss.planning.solve.settle_penalties`):
slack left in the boundary's auxiliary columns by a plan accepted before optimality must not
inflate the reported boundary penalty or objective."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import pytest
from test_planning_reductions import grid_case, problem_of

from dss.planning.compile import compile_problem
from dss.planning.solve import read_solution, settle_penalties


def loaded_plan(model, x: np.ndarray, slack: float) -> None:
    """Load plan ``x`` into the Pyomo model with every boundary difference column at
    ``|x_i - x_j| + slack`` (capped at 1), as a feasible but not optimal point holds it."""
    for i, v in enumerate(x):
        model.x(i, 0).set_value(float(v))
    bnd = model.data.boundary
    keep = np.flatnonzero(bnd.length != 0)
    z = next(c for c in model.m.component_objects(pyo.Var, descend_into=True)
             if c.local_name == "pair_z")
    for k, (a, b) in enumerate(zip(bnd.i[keep], bnd.j[keep], strict=True)):
        z[k].set_value(min(1.0, abs(x[a] - x[b]) + slack))


@pytest.mark.parametrize("slack", [0.0, 1.0])
def test_the_boundary_penalty_is_the_plans_own(slack):
    case = grid_case(5)
    n, cost, amounts, pairs, external, targets, blm = case
    problem = problem_of(*case)
    model = compile_problem(problem)
    x = (np.arange(n) % 3 == 0).astype(float)
    loaded_plan(model, x, slack)
    plan = read_solution(model)
    terms = {t.label: t.value() for t in model.terms if t.role != "tie_breaker"}
    compiled = model.objective_value()
    perimeter = external @ x + sum(v * abs(x[a] - x[b]) for a, b, v in pairs)
    change = settle_penalties(model, plan, terms)
    assert terms["boundary"] == pytest.approx(blm * perimeter)
    assert compiled + change == pytest.approx(cost @ x + blm * perimeter)
    if slack == 0.0:
        assert change == 0.0  # a term without slack is left exactly as compiled
    else:
        assert change < 0.0
