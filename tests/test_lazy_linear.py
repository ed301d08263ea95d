"""ArrayLinearExpression: a real Pyomo linear expression whose terms are made on demand.

Checked against a plain ``LinearExpression`` with the same terms: value, standard
representation, printing, an LP file written by Pyomo (and solved by HiGHS reading it, against
dss's own compiler), and Pyomo's in-place sums.
"""

from __future__ import annotations

from pathlib import Path

import highspy
import numpy as np
import pyomo.environ as pyo
import pytest
from pyomo.core.expr.numeric_expr import LinearExpression
from pyomo.repn import generate_standard_repn

from dss.optimize.core import HighsModel
from dss.optimize.lazy_linear import ArrayLinearExpression, array_linear


def _pair(seed: int = 0):
    rng = np.random.default_rng(seed)
    m = pyo.ConcreteModel()
    m.x = pyo.Var(range(6), bounds=(0, 4))
    m.y = pyo.Var(bounds=(0, 10))
    variables = [m.x[i] for i in range(6)]
    idx = np.array([4, 0, 2, 5])
    coefs = rng.uniform(-3, 3, 4)
    lazy = array_linear(variables, idx, coefs, 1.5, (m.y,), (-2.0,))
    plain = LinearExpression(constant=1.5, linear_coefs=coefs.tolist() + [-2.0],
                             linear_vars=[variables[i] for i in idx] + [m.y])
    return m, lazy, plain


def test_terms_are_made_only_on_demand_and_match() -> None:
    m, lazy, plain = _pair()
    assert isinstance(lazy, ArrayLinearExpression) and lazy._lazy is not None
    assert lazy.nargs() == plain.nargs() == 6
    assert lazy._lazy is not None  # counting the terms does not create them
    for i, v in enumerate(m.x.values()):
        v.set_value(0.5 * i)
    m.y.set_value(3.0)
    assert pyo.value(lazy) == pytest.approx(pyo.value(plain), rel=1e-12)
    assert lazy._lazy is None
    assert str(lazy) == str(plain)


def test_standard_repn_equals_the_plain_expression() -> None:
    _m, lazy, plain = _pair(1)
    a, b = generate_standard_repn(lazy), generate_standard_repn(plain)
    assert a.constant == b.constant
    assert [v.name for v in a.linear_vars] == [v.name for v in b.linear_vars]
    np.testing.assert_allclose(a.linear_coefs, b.linear_coefs)


def test_pyomo_writes_and_solves_it(tmp_path: Path) -> None:
    m, lazy, plain = _pair(2)
    m.c = pyo.Constraint(expr=lazy <= 5.0)
    m.o = pyo.Objective(expr=sum(m.x.values()) + m.y, sense=pyo.maximize)
    m.write(str(tmp_path / "lazy.lp"), io_options={"symbolic_solver_labels": True})
    n = pyo.ConcreteModel()
    n.x = pyo.Var(range(6), bounds=(0, 4))
    n.y = pyo.Var(bounds=(0, 10))
    plain2 = LinearExpression(constant=1.5, linear_coefs=[a.args[0] for a in plain.args[1:]],
                              linear_vars=[n.x[int(a.args[1].index())] if a.args[1] is not m.y
                                           else n.y for a in plain.args[1:]])
    n.c = pyo.Constraint(expr=plain2 <= 5.0)
    n.o = pyo.Objective(expr=sum(n.x.values()) + n.y, sense=pyo.maximize)
    n.write(str(tmp_path / "plain.lp"), io_options={"symbolic_solver_labels": True})
    assert (tmp_path / "lazy.lp").read_text() == (tmp_path / "plain.lp").read_text()
    # HiGHS reading Pyomo's file and HiGHS fed by dss's compiler reach the same optimum
    from_file = _highs_from_file(tmp_path / "lazy.lp")
    core = HighsModel(m, {})
    solution = core.solve()
    assert solution.status == "optimal"
    assert solution.objective == pytest.approx(from_file, rel=1e-9)
    core.write_values(solution.x)
    assert pyo.value(lazy) <= 5.0 + 1e-7


def _highs_from_file(path: Path, **options: float) -> float:
    """Optimal objective of an LP file read and solved by HiGHS alone."""
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    for key, value in options.items():
        highs.setOptionValue(key, value)
    highs.readModel(str(path))
    highs.run()
    assert "kOptimal" in str(highs.getModelStatus())
    return float(highs.getInfo().objective_function_value)


def test_in_place_sums_keep_the_original_intact() -> None:
    m, lazy, plain = _pair(3)
    total = lazy + 2.0 * m.x[1]
    for i, v in enumerate(m.x.values()):
        v.set_value(1.0 + i)
    m.y.set_value(0.5)
    assert pyo.value(total) == pytest.approx(pyo.value(plain) + 2.0 * 2.0, rel=1e-12)
    assert pyo.value(lazy) == pytest.approx(pyo.value(plain), rel=1e-12)
    assert lazy.nargs() == plain.nargs()


@pytest.mark.parametrize("fmt", ["nl", "gms", "bar"])
def test_other_pyomo_writers_accept_it(tmp_path: Path, fmt: str) -> None:
    m, lazy, _plain = _pair(4)
    m.c = pyo.Constraint(expr=lazy <= 5.0)
    m.o = pyo.Objective(expr=lazy + m.y, sense=pyo.maximize)
    m.write(str(tmp_path / f"model.{fmt}"))
    assert (tmp_path / f"model.{fmt}").stat().st_size > 0


def test_dss_model_solved_by_pyomo_itself_gives_the_same_plan(tmp_path: Path) -> None:
    """The compiled Baoxing model is an ordinary Pyomo model: Pyomo's own LP writer takes it,
    and HiGHS reading that file reaches dss's objective (dss hands HiGHS its own matrices)."""
    from dss.optimize.build import compile_problem
    from dss.optimize.problem import Problem
    from dss.optimize.solve import solve_built

    problem = Problem.from_model(Path(__file__).parents[1] / "models" / "baoxing.yaml")
    ours = solve_built(compile_problem(problem))
    built = compile_problem(problem)
    built.model.write(str(tmp_path / "baoxing.lp"))
    assert (tmp_path / "baoxing.lp").stat().st_size > 10_000
    gap = problem.config.solver.mip_gap
    theirs = _highs_from_file(tmp_path / "baoxing.lp", mip_rel_gap=gap)
    assert ours.status == "optimal", (ours.termination, ours.log[-500:])
    assert theirs == pytest.approx(ours.objective, rel=2 * gap)


def test_a_missing_pyomo_internal_is_named_with_the_pyomo_version(monkeypatch) -> None:
    """dss checks at import that the Pyomo internals it relies on exist; a missing one is
    named, with the installed Pyomo version, instead of a wrong model later."""
    from dss.optimize import pyomo_internals

    monkeypatch.setattr(pyomo_internals, "_NARGS", None)
    monkeypatch.setattr(pyomo_internals, "_NL_DISPATCH", {})
    with pytest.raises(pyomo_internals.PyomoInternalsError) as err:
        pyomo_internals._check()
    message = str(err.value)
    assert f"Pyomo {pyomo_internals.PYOMO_VERSION}" in message
    assert "`_nargs` slot" in message and "NL writer" in message
    assert "pyomo>=" in message
