"""Parameter sweeps: every point equals a fresh solve, parallel runs equal serial ones."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from dss.cli import app
from dss.errors import InputError
from dss.optimize.problem import Problem
from dss.optimize.sweep import sweep
from dss.optimize.sweep_params import parse_values, rhs_target, with_param
from dss.optimize.sweep_workers import DependencyError, chunks
from dss.synth import write_study

TINY = Path(__file__).parent / "data" / "tiny" / "model.yaml"
BUDGET = "components.budget.total"
EXACT = dict(mip_gap=0.0)


@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> Path:
    """A 200-subunit synthetic basin (MIP: lumpy actions with fixed costs)."""
    return write_study(tmp_path_factory.mktemp("synth") / "s200", 200, seed=1)


def fresh(path: Path, param: str, value: float) -> Problem:
    """The problem built from scratch with the parameter set on the command line."""
    return Problem.from_model(path, sets=[f"{param}={value!r}"]).with_solver(**EXACT)


def comparable(table: pd.DataFrame) -> pd.DataFrame:
    """The table without its timings."""
    return table.drop(columns=["solve_seconds"])


@pytest.fixture(scope="module")
def synth_sweep(synth):
    """A serial budget sweep of the synthetic basin (shared by several tests)."""
    problem = Problem.from_model(synth).with_solver(**EXACT)
    budget = problem.component("budget").params.total
    values = list(np.linspace(0.1, 2.0, 8) * budget)
    return problem, values, sweep(problem, BUDGET, values)


@pytest.mark.parametrize("which", ["tiny", "synth"])
def test_every_point_equals_a_fresh_solve(which, synth, synth_sweep):
    if which == "synth":
        path, (_, values, result) = synth, synth_sweep
    else:
        path = TINY
        values = [0.0, 5e4, 1e5, 2.5e5, 5e5, 7.5e5, 1.2e6]
        result = sweep(Problem.from_model(TINY).with_solver(**EXACT), BUDGET, values)
    assert result.engine == "persistent"
    table = result.table
    assert list(table["value"]) == sorted(values)
    for row in table.itertuples(index=False):
        expected = fresh(path, BUDGET, row.value).solve()
        assert row.status == expected.status == "optimal"
        assert math.isclose(row.objective, expected.objective, rel_tol=1e-6, abs_tol=1e-6), \
            (row.value, row.objective, expected.objective)


@pytest.mark.parametrize("which", ["tiny", "synth"])
def test_objective_non_decreasing_and_marginals(which, synth_sweep):
    if which == "synth":
        _, _, result = synth_sweep
    else:
        result = sweep(Problem.from_model(TINY).with_solver(**EXACT), BUDGET,
                       parse_values(range_="0:1.5e6:7"))
    table = result.table
    objective = table["objective"].to_numpy()
    assert np.all(np.diff(objective) >= -1e-6 * np.abs(objective[1:]).clip(1.0))
    marginal = table["marginal_benefit_per_cny"].to_numpy()
    expected = np.diff(objective) / np.diff(table["value"].to_numpy())
    assert np.isnan(marginal[0])
    np.testing.assert_allclose(marginal[1:], expected, rtol=1e-12)
    spend = table["spend_cny"].to_numpy()
    assert np.all(spend <= table["value"].to_numpy() * (1 + 1e-7) + 1e-6)
    benefits = [c for c in table if c.startswith("benefit ")]
    assert benefits, "each benefit term has a column"
    np.testing.assert_allclose(table[benefits].sum(axis=1), objective, rtol=1e-6)
    dual = table["budget_dual_per_cny"].to_numpy()
    assert np.isfinite(dual).all() and (dual >= -1e-9).all()


@pytest.fixture(scope="module")
def tiny_lp(tmp_path_factory) -> Path:
    """The tiny study with every action continuous and without fixed costs (an LP)."""
    folder = tmp_path_factory.mktemp("tiny_lp")
    for path in TINY.parent.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    actions = pd.read_csv(folder / "actions.csv", dtype=str, keep_default_na=False)
    actions["integer"] = "false"
    actions["fixed_cost"] = "0"
    actions.to_csv(folder / "actions.csv", index=False)
    return folder / "model.yaml"


def test_lp_sweep_duals_bracket_the_finite_differences(tiny_lp):
    """On an LP the curve is concave: lambda_i <= m_i <= lambda_{i-1}."""
    problem = Problem.from_model(tiny_lp).with_solver(**EXACT)
    result = sweep(problem, BUDGET, [5e4, 1e5, 2e5, 3e5, 4e5, 6e5, 9e5])
    t = result.table
    m, d = t["marginal_benefit_per_cny"].to_numpy(), t["budget_dual_per_cny"].to_numpy()
    assert np.isfinite(d).all()
    for i in range(1, len(t)):
        assert d[i] - 1e-7 <= m[i] <= d[i - 1] + 1e-7, (i, d, m)
    for row in t.itertuples(index=False):
        expected = fresh(tiny_lp, BUDGET, row.value).solve()
        assert math.isclose(row.objective, expected.objective, rel_tol=1e-9)


def test_workers_give_identical_results(synth_sweep):
    problem, values, serial = synth_sweep
    parallel = sweep(problem, BUDGET, values, workers=2)
    assert parallel.backend == "processes" and parallel.workers == 2
    pd.testing.assert_frame_equal(comparable(parallel.table), comparable(serial.table))


def test_dask_cluster_gives_identical_results(synth_sweep):
    distributed = pytest.importorskip(
        "distributed", reason="dask[distributed] is not installed (pip install 'dss[dask]')")
    problem, values, serial = synth_sweep
    with distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1,
                                  dashboard_address=None) as cluster:
        remote = sweep(problem, BUDGET, values, dask=cluster.scheduler_address)
    assert remote.backend == "dask" and remote.workers == 2
    pd.testing.assert_frame_equal(comparable(remote.table), comparable(serial.table))


def test_warm_start_reaches_the_same_objectives(synth_sweep):
    problem, values, serial = synth_sweep
    warm = sweep(problem, BUDGET, values, warm_start=True)
    np.testing.assert_allclose(warm.table["objective"], serial.table["objective"], rtol=1e-6)


def test_relaxation_first_points_are_exact_mip_optima():
    """Baoxing: low budgets are solved by an integral LP relaxation, higher ones fall back
    to the MIP; every point equals an independent MIP solve with a zero gap, and each
    relaxation plan is integral where it must be and within its budget (recomputed from
    the plan, not read from the solver)."""
    from dss.optimize.build import compile_problem
    from dss.optimize.persistent import PersistentModel, amounts_from

    model = Path(__file__).resolve().parents[1] / "models" / "baoxing.yaml"
    problem = Problem.from_model(model).with_solver(**EXACT)
    values = [4e6, 9e6, 2e7, 4e7]
    result = sweep(problem, BUDGET, values)
    table = result.table
    assert set(table["method"]) == {"relaxation", "mip"}, table[["value", "method"]]
    for row in table.itertuples(index=False):
        expected = fresh(model, BUDGET, row.value).solve()
        assert row.status == expected.status == "optimal"
        assert math.isclose(row.objective, expected.objective, rel_tol=1e-7), row
    # the same persistent path, plans checked against the budget and integrality
    built = compile_problem(problem)
    pm = PersistentModel(built)
    row = pm.row(built.blocks["budget"].total)
    lower, _upper = pm.row_bounds(row)
    pm.start_from_relaxation({row: (lower, 1e7)})
    opts = built.ctx.options
    for value in values:
        pm.set_row_bounds(row, None, value)
        sol = pm.solve()
        x = amounts_from(pm, sol.x)
        integer = opts["integer"].to_numpy(bool)
        np.testing.assert_array_equal(x[integer], np.round(x[integer]))
        spend = float(opts["unit_cost"].to_numpy(float) @ x
                      + opts["fixed_cost"].to_numpy(float) @ (x > 1e-9))
        assert spend <= value * (1 + 1e-9), (value, spend, sol.method)
        if sol.method == "relaxation":
            assert sol.gap == 0.0 and sol.bound == sol.objective


@pytest.mark.parametrize("which", ["synth", "baoxing"])
def test_relaxation_first_single_solves_equal_the_mip(which, synth):
    """``solver.relaxation_first``: the same optimum as the MIP path (both with a zero gap),
    a plan within the budget and integral where it must be, recomputed from the plan."""
    path = synth if which == "synth" else (
        Path(__file__).resolve().parents[1] / "models" / "baoxing.yaml")
    plain = Problem.from_model(path).with_solver(**EXACT, relaxation_first=False).solve()
    first = Problem.from_model(path).with_solver(**EXACT, relaxation_first=True).solve()
    assert plain.method == "mip" and first.method in ("relaxation", "mip")
    assert first.status == plain.status == "optimal"
    assert math.isclose(first.objective, plain.objective, rel_tol=1e-9), (first.objective,
                                                                          plain.objective)
    opts = first.built.ctx.options
    x = first.amounts
    integer = opts["integer"].to_numpy(bool)
    np.testing.assert_array_equal(x[integer], np.round(x[integer]))
    spend = float(opts["unit_cost"].to_numpy(float) @ x
                  + opts["fixed_cost"].to_numpy(float) @ (x > 1e-9))
    budget = first.built.problem.component("budget").params.total
    assert spend <= budget * (1 + 1e-9)
    if first.method == "relaxation":
        assert first.gap == 0.0 and "the MIP was not run" in first.log
    if which == "synth":  # fixed costs and continuous amounts: an integral relaxation here
        assert first.method == "relaxation"


def test_other_rhs_parameters_use_the_persistent_model(synth):
    problem = Problem.from_model(synth).with_solver(**EXACT)
    param = "components.carbon.minimum"
    assert rhs_target(problem, param) is not None
    result = sweep(problem, param, [0.0, 1e4, 3e4])
    assert result.engine == "persistent"
    for row in result.table.itertuples(index=False):
        expected = fresh(synth, param, row.value).solve()
        assert row.status == expected.status
        if expected.objective is not None:
            assert math.isclose(row.objective, expected.objective, rel_tol=1e-6)


def test_generic_parameter_rebuilds_each_point():
    problem = Problem.from_model(TINY).with_solver(**EXACT)
    param = "components.water.values.sediment"
    result = sweep(problem, param, [50, 100, 200])
    assert result.engine == "rebuild"
    assert "marginal_objective_per_unit" in result.table
    for row in result.table.itertuples(index=False):
        assert math.isclose(row.objective, fresh(TINY, param, row.value).solve().objective,
                            rel_tol=1e-9)
    objective = result.table["objective"].to_numpy()
    assert np.all(np.diff(objective) > 0)


def test_with_param_validates_and_keeps_other_components():
    problem = Problem.from_model(TINY)
    changed = with_param(problem, BUDGET, 1e6)
    assert changed.component("budget").params.total == 1e6
    assert problem.component("budget").params.total == 500000
    assert changed.names == problem.names
    assert changed.config.components["budget"]["total"] == 1e6
    with pytest.raises(InputError, match="no component named 'budgte'.*budget"):
        with_param(problem, "components.budgte.total", 1.0)
    with pytest.raises(InputError):
        with_param(problem, BUDGET, -1.0)
    assert with_param(problem, "solver.mip_gap", 0.01).config.solver.mip_gap == 0.01


def test_values_parsing_and_chunks():
    assert parse_values("1e7, 2e7,3e7") == [1e7, 2e7, 3e7]
    assert parse_values(range_="0:10:3") == [0.0, 5.0, 10.0]
    for bad in ({"values": "1,x"}, {"range_": "1:2"}, {}, {"values": "1", "range_": "1:2:2"}):
        with pytest.raises(InputError):
            parse_values(**bad)
    assert chunks([1, 2, 3, 4, 5], 2) == [[1, 2, 3], [4, 5]]
    assert chunks([1.0], 4) == [[1.0]]


def test_missing_dask_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(DependencyError, match=r"pip install 'dss\[dask\]'"):
        sweep(Problem.from_model(TINY), BUDGET, [1e5, 2e5], dask="tcp://127.0.0.1:1")


def test_cli_sweep_writes_table_plot_and_manifest(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["sweep", str(TINY), "--values", "1e5,3e5,6e5", "--out",
                                 str(tmp_path)])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "tiny" / "sweep-total"
    assert {p.name for p in folder.iterdir()} == {"sweep.csv", "sweep.png", "manifest.yaml"}
    table = pd.read_csv(folder / "sweep.csv")
    assert list(table["value"]) == [1e5, 3e5, 6e5]
    assert {"status", "objective", "spend_cny", "gap", "marginal_benefit_per_cny",
            "budget_dual_per_cny"} <= set(table.columns)
    assert "sweep of components.budget.total, 3 points" in result.output
    assert (folder / "sweep.png").read_bytes()[:4] == b"\x89PNG"
    assert set(table["method"]) <= {"relaxation", "mip", "lp"}
    relaxed = int((table["method"] == "relaxation").sum())
    assert (f"{relaxed} of 3 points optimal from their LP relaxation" in result.output) \
        == (relaxed > 0)


def test_cli_sweep_reports_bad_input(tmp_path):
    runner = CliRunner()
    bad = runner.invoke(app, ["sweep", str(TINY), "--param", "components.budget.totl",
                              "--values", "1e5", "--out", str(tmp_path)])
    assert bad.exit_code == 2
    assert "totl" in bad.output
    negative = runner.invoke(app, ["sweep", str(TINY), "--values", "1e5,-2",
                                   "--out", str(tmp_path)])
    assert negative.exit_code == 2
    assert "components.budget.total=-2" in negative.output
    both = runner.invoke(app, ["sweep", str(TINY), "--out", str(tmp_path)])
    assert both.exit_code == 2 and "--range" in both.output
    assert not (tmp_path / "tiny").exists()


@pytest.mark.parametrize("engine", ["persistent", "rebuild"])
def test_points_without_a_plan_do_not_stop_the_sweep(engine):
    """A budget below the cost of a locked-in action has no plan; the others do."""
    from dss.optimize.components.constraints import Locks

    problem = Problem.from_model(TINY).with_solver(**EXACT).add(
        Locks("locks", locked_in={"A": {"scar_reveg": 5.0}}))
    result = sweep(problem, BUDGET, [1e4, 5e5, 1e6], engine=engine)
    table = result.table
    assert list(table["status"]) == ["infeasible", "optimal", "optimal"]
    assert np.isnan(table["objective"].iat[0])
    for row in table.iloc[1:].itertuples(index=False):
        expected = with_param(problem, BUDGET, row.value).solve()
        assert math.isclose(row.objective, expected.objective, rel_tol=1e-9)


def test_worker_errors_cross_process_boundaries():
    import pickle

    from dss.optimize.sweep_workers import WorkerError

    err = pickle.loads(pickle.dumps(WorkerError("budget: bad", 3)))
    assert isinstance(err, WorkerError) and err.exit_code == 3 and str(err) == "budget: bad"


def test_progress_is_reported_through_the_callback():
    events: list[tuple[str, int, int]] = []
    problem = Problem.from_model(TINY)
    sweep(problem, BUDGET, [1e5, 2e5, 3e5], progress=lambda *e: events.append(e))
    builds = [e for e in events if e[0] == "build"]
    solves = [e for e in events if e[0] == "solve"]
    assert builds[-1] == ("build", len(problem.components) + 1, len(problem.components) + 1)
    assert solves == [("solve", 1, 3), ("solve", 2, 3), ("solve", 3, 3)]
