"""``dss montecarlo``: a saved plan on draws of the uncertain inputs.

The tiny six-subunit study (tests/data/tiny) is copied with an uncertainty table and solved
once into a temporary results root. Independent answers: the load at the mean inputs is
recomputed by writing the mean factor into subunits.csv and running ``dss solve``'s own
result tables on that study (fixed plan, no sampling code involved); distribution moments are
the textbook ones.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from dss.api import run_solve
from dss.cli import app
from dss.data.study import load_study
from dss.errors import InputError
from dss.optimize.problem import Problem
from dss.uncertainty.evaluate import evaluate_plan
from dss.uncertainty.montecarlo import montecarlo, plan_amounts, weighted_quantile
from dss.uncertainty.scenarios import ScenarioSet, drawn_scenarios, inverse_cdf, quantiles

TINY = Path(__file__).resolve().parent / "data" / "tiny"
RUNNER = CliRunner()
RAIN = (0.7, 1.0, 1.6)
"""Triangular factor on every subunit's rainfall erosivity (one group)."""

UNCERTAINTY = f"""table,row,column,distribution,apply,low,mode,high,sd,group,source
subunits,*,usle_r,triangular,scale,{RAIN[0]},{RAIN[1]},{RAIN[2]},,rain,test
land_classes,scar,mass_yield,uniform,scale,0.5,,1.5,,,test
"""


def invoke(*args: object):
    return RUNNER.invoke(app, [str(a) for a in args])


def study_copy(folder: Path, uncertainty: str = UNCERTAINTY) -> Path:
    shutil.copytree(TINY, folder)
    (folder / "uncertainty.csv").write_text(uncertainty, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("mc")
    study = study_copy(base / "tiny")
    run = run_solve(study / "model.yaml", None, None, base / "results")
    assert run.result.status == "optimal"
    return run.folder


def test_same_seed_same_files_whatever_the_workers(solved: Path) -> None:
    first = invoke("montecarlo", solved, "--draws", 60, "--seed", 7)
    assert first.exit_code == 0, first.output
    files = {n: (solved / n).read_bytes() for n in
             ("montecarlo.csv", "montecarlo_draws.csv", "montecarlo.yaml")}
    again = invoke("montecarlo", solved, "--draws", 60, "--seed", 7, "--workers", 2)
    assert again.exit_code == 0, again.output
    for name, content in files.items():
        assert (solved / name).read_bytes() == content, name
    other = invoke("montecarlo", solved, "--draws", 60, "--seed", 8)
    assert other.exit_code == 0
    assert (solved / "montecarlo.csv").read_bytes() != files["montecarlo.csv"]
    assert (solved / "montecarlo.png").read_bytes().startswith(b"\x89PNG")
    assert "the plan on 60 drawn scenarios" in first.output


def test_mean_of_a_linear_indicator_converges_to_its_value_at_the_mean_inputs(
        solved: Path, tmp_path: Path) -> None:
    """Loads are linear in the erosivity factor and in the scar yield factor, so their mean
    over draws must be their value at the mean factors, within a few standard errors."""
    run, result = montecarlo(solved, draws=400, seed=3)
    table = result.table()

    def stat(quantity: str, item: str, pollutant: str, name: str) -> float:
        rows = table[(table["quantity"] == quantity) & (table["item"] == item)
                     & (table["pollutant"] == pollutant) & (table["statistic"] == name)]
        return float(rows["value"].iloc[0])

    # independent answer: the study with the mean factors written into its tables
    mean_rain = sum(RAIN) / 3
    study_dir = study_copy(tmp_path / "mean")
    subunits = pd.read_csv(study_dir / "subunits.csv", dtype=str, keep_default_na=False)
    subunits["usle_r"] = (subunits["usle_r"].astype(float) * mean_rain).map(repr)
    subunits.to_csv(study_dir / "subunits.csv", index=False)
    classes = pd.read_csv(study_dir / "land_classes.csv", dtype=str, keep_default_na=False)
    classes["mass_yield"] = classes["mass_yield"].astype(float).map(repr)  # factor mean 1
    classes.to_csv(study_dir / "land_classes.csv", index=False)
    problem = Problem.from_model(study_dir / "model.yaml")
    x = plan_amounts(run, problem)
    nominal = evaluate_plan(problem, x, ScenarioSet(("at_mean",), np.ones(1), ((),), "x"))
    for point, pollutant in (("reservoir", "sediment"), ("outlet", "sediment")):
        for quantity, values in (("load_before", nominal.before), ("load_after",
                                                                   nominal.after)):
            at_mean = float(values[(point, pollutant)][0])
            mean = stat(quantity, point, pollutant, "mean")
            error = stat(quantity, point, pollutant, "std_error")
            assert error > 0
            assert abs(mean - at_mean) < 4 * error, (quantity, point, mean, at_mean, error)
    # the nutrient loads do not depend on the uncertain numbers: no spread at all
    assert stat("load_after", "outlet", "tn", "sd") == pytest.approx(0.0, abs=1e-6)


def test_nominal_column_is_the_solved_plans_control_point_table(solved: Path) -> None:
    _run, result = montecarlo(solved, draws=5, seed=1)
    cps = pd.read_csv(solved / "control_points.csv")
    table = result.table()
    nominal = table[(table["quantity"] == "load_after") & (table["statistic"] == "nominal")]
    merged = nominal.merge(cps, left_on=["item", "pollutant"],
                           right_on=["point_id", "pollutant"])
    assert len(merged) == len(cps)
    np.testing.assert_allclose(merged["value"], merged["after"], rtol=1e-9)
    benefit = table[(table["quantity"] == "benefit") & (table["item"] == "total")
                    & (table["statistic"] == "nominal")]["value"].iloc[0]
    summary = pd.read_csv(solved / "summary.csv")
    objective = float(summary.loc[summary["metric"] == "objective", "value"].iloc[0])
    assert benefit == pytest.approx(objective, rel=1e-9)  # max_benefit, no cost weight


def test_triangular_and_uniform_draws_have_their_textbook_moments() -> None:
    spec = pd.DataFrame({"distribution": ["triangular", "uniform", "normal", "lognormal"],
                         "low": [1.0, 2.0, np.nan, np.nan], "mode": [2.0, np.nan, 5.0, 2.0],
                         "high": [4.0, 6.0, np.nan, np.nan], "sd": [np.nan, np.nan, 0.5, 0.1],
                         "group": ["", "", "", ""]})
    values = inverse_cdf(spec, quantiles(spec, 200_000, 11))
    a, c, b = 1.0, 2.0, 4.0
    assert values[:, 0].mean() == pytest.approx((a + b + c) / 3, abs=0.01)
    var = (a * a + b * b + c * c - a * b - a * c - b * c) / 18
    assert values[:, 0].var() == pytest.approx(var, rel=0.02)
    assert values[:, 0].min() >= a and values[:, 0].max() <= b
    assert values[:, 1].mean() == pytest.approx(4.0, abs=0.01)
    assert values[:, 2].mean() == pytest.approx(5.0, abs=0.01)
    assert values[:, 2].std() == pytest.approx(0.5, rel=0.02)
    assert np.median(values[:, 3]) == pytest.approx(2.0, rel=0.01)


def test_a_group_moves_together_and_independent_lines_do_not() -> None:
    spec = pd.DataFrame({"distribution": ["uniform"] * 3, "low": [0.0] * 3,
                         "mode": [np.nan] * 3, "high": [1.0] * 3, "sd": [np.nan] * 3,
                         "group": ["g", "g", ""]})
    u = quantiles(spec, 2000, 5)
    assert np.array_equal(u[:, 0], u[:, 1])
    assert abs(np.corrcoef(u[:, 0], u[:, 2])[0, 1]) < 0.1


def test_weighted_quantile_is_numpys_inverted_cdf_for_equal_weights() -> None:
    rng = np.random.default_rng(0)
    v = rng.normal(size=37)
    for q in (0.05, 0.25, 0.5, 0.75, 0.95):
        assert weighted_quantile(v, np.full(37, 1 / 37), q) == pytest.approx(
            np.quantile(v, q, method="inverted_cdf"))


def test_named_scenarios_are_weighted_by_their_probabilities(solved: Path,
                                                            tmp_path: Path) -> None:
    study = load_study(solved.parent.parent.parent / "tiny")
    assert len(drawn_scenarios(study, 3, 1)) == 3
    folder = tmp_path / "named"
    study_copy(folder)
    (folder / "uncertainty_scenarios.csv").write_text(
        "scenario,probability,table,row,column,apply,value\n"
        "dry,0.25,subunits,*,usle_r,scale,0.5\n"
        "usual,0.75,,,,scale,\n", encoding="utf-8")
    run = run_solve(folder / "model.yaml", None, None, tmp_path / "results")
    _run, result = montecarlo(run.folder, named=True)
    before = result.outcomes.before[("reservoir", "sediment")]
    mean = result.table().query(
        "quantity == 'load_before' and item == 'reservoir' and pollutant == 'sediment' "
        "and statistic == 'mean'")["value"].iloc[0]
    assert mean == pytest.approx(0.25 * before[0] + 0.75 * before[1])
    assert before[0] < before[1]


@pytest.mark.parametrize("line, where", [
    ("subunit,*,usle_r,triangular,scale,0.7,1,1.3,,,", "column table"),
    ("subunits,Z9,usle_r,triangular,scale,0.7,1,1.3,,,", "column row"),
    ("subunits,*,township,triangular,scale,0.7,1,1.3,,,", "column column"),
    ("subunits,*,usle_r,triangular,scale,0.7,1.5,1.3,,,", "column mode"),
    ("subunits,*,usle_r,normal,scale,,1,,,,", "column sd"),
])
def test_a_bad_uncertainty_line_is_located(tmp_path: Path, line: str, where: str) -> None:
    folder = study_copy(tmp_path / "bad", "table,row,column,distribution,apply,low,mode,high,"
                                          "sd,group,source\n" + line + "\n")
    with pytest.raises(InputError) as err:
        load_study(folder)
    text = str(err.value)
    assert "uncertainty.csv, row 2, " + where in text, text
    result = invoke("validate", folder / "model.yaml")
    assert result.exit_code == 2
    assert "uncertainty.csv, row 2" in result.output


def test_scenario_probabilities_must_sum_to_one(tmp_path: Path) -> None:
    folder = study_copy(tmp_path / "p")
    (folder / "uncertainty_scenarios.csv").write_text(
        "scenario,probability,table,row,column,apply,value\n"
        "a,0.5,subunits,*,usle_r,scale,1.2\na,0.4,subunits,A,sdr,scale,1.1\n"
        "b,0.3,,,,scale,\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_study(folder)
    text = str(err.value)
    assert "row 3, column probability: scenario 'a' has probability 0.4" in text
    assert "sum to 0.8" in text


def test_montecarlo_without_uncertainty_or_plan_is_a_clear_error(tmp_path: Path) -> None:
    run = run_solve(TINY / "model.yaml", None, None, tmp_path / "results")
    result = invoke("montecarlo", run.folder, "--draws", 5)
    assert result.exit_code == 2
    assert "declares no uncertain numbers" in result.output
    result = invoke("montecarlo", tmp_path, "--draws", 5)
    assert result.exit_code == 2
    assert "no manifest.yaml" in result.output


def test_dask_cluster_gives_the_same_outcomes(solved: Path) -> None:
    distributed = pytest.importorskip(
        "distributed", reason="dask[distributed] is not installed (pip install 'dss[dask]')")
    _run, serial = montecarlo(solved, draws=12, seed=2)
    with distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1,
                                  dashboard_address=None) as cluster:
        _run, remote = montecarlo(solved, draws=12, seed=2, dask=cluster.scheduler_address)
    assert remote.backend == "dask"
    pd.testing.assert_frame_equal(remote.table(), serial.table())


def test_limits_of_a_stochastic_plan_are_judged_on_every_draw(tmp_path: Path) -> None:
    """A robust limit over the named scenarios, then the plan on draws: the probability
    that the limit is met is the share of draws whose load after the plan is within it."""
    folder = study_copy(tmp_path / "robust")
    (folder / "uncertainty_scenarios.csv").write_text(
        "scenario,probability,table,row,column,apply,value\n"
        "wet,0.5,subunits,*,usle_r,scale,1.3\nusual,0.5,,,,scale,\n", encoding="utf-8")
    model = yaml.safe_load((folder / "model.yaml").read_text(encoding="utf-8"))
    model["components"]["robust"] = {"type": "chance_limits", "scenarios": "named",
                                      "reductions": {"outlet": {"sediment": 0.05}}}
    (folder / "model.yaml").write_text(yaml.safe_dump(model, allow_unicode=True),
                                       encoding="utf-8")
    run = run_solve(folder / "model.yaml", None, None, tmp_path / "results")
    assert run.result.status == "optimal"
    _run, result = montecarlo(run.folder, draws=50, seed=1)
    o = result.outcomes
    key = ("outlet", "sediment")
    np.testing.assert_allclose(o.limits[key], 0.95 * o.before[key])
    share = float(np.mean(o.after[key] <= o.limits[key] * (1 + 1e-9) + 1e-9))
    table = result.table()
    met = table.query("quantity == 'limit_met' and item == 'outlet' and pollutant == "
                      "'sediment' and statistic == 'probability'")["value"].iloc[0]
    assert met == pytest.approx(share)


def test_a_plan_never_treats_more_than_a_draw_has(tmp_path: Path) -> None:
    """With the cropland the plan converts gone in every draw, that conversion cannot be
    placed: it is reported as dropped."""
    folder = study_copy(tmp_path / "gone")
    run = run_solve(folder / "model.yaml", None, None, tmp_path / "results")
    alloc = pd.read_csv(run.folder / "allocation.csv")
    converted = alloc[alloc["action_id"] == "gfg_forest"]
    assert len(converted)
    where = str(converted["subunit_id"].iat[0])
    (folder / "uncertainty.csv").write_text(
        UNCERTAINTY + f"land_cover,{where}/cropland,area_ha,uniform,value,0,,0,,,test\n",
        encoding="utf-8")
    _run, result = montecarlo(run.folder, draws=3, seed=1)
    np.testing.assert_allclose(result.outcomes.dropped, converted["amount"].iat[0])


@pytest.mark.parametrize("cells", [
    "subunits,*,usle_r,/etc/passwd,scale,0.7,1,1.3,,,",
    "subunits,*,usle_r,triangular,sideways,0.7,1,1.3,,,",
    ",,,triangular,scale,x,y,z,,,",
    "land_cover,E1/cropland/x,area_ha,uniform,value,1,,2,,,",
])
def test_garbled_uncertainty_lines_are_located_errors(tmp_path: Path, cells: str) -> None:
    folder = study_copy(tmp_path / "garbled", "table,row,column,distribution,apply,low,"
                                              "mode,high,sd,group,source\n" + cells + "\n")
    result = invoke("validate", folder / "model.yaml")
    assert result.exit_code == 2, result.output
    assert "uncertainty.csv, row 2" in result.output
    assert "internal error" not in result.output


def test_benefits_valued_by_curves_count_at_their_curve(tmp_path: Path) -> None:
    """The bundled model values water and habitat through concave curves: the plan's
    nominal benefit in the Monte Carlo table is the solve's objective (curved benefits are
    evaluated by their components, not by linear coefficients that leave them out)."""
    root = Path(__file__).resolve().parents[1]
    run = run_solve(root / "models" / "baoxing.yaml", None, None, tmp_path)
    assert run.result.status == "optimal"
    _run, result = montecarlo(run.folder, draws=3, seed=1)
    table = result.table()
    benefit = table[(table["quantity"] == "benefit") & (table["item"] == "total")
                    & (table["statistic"] == "nominal")]["value"].iloc[0]
    assert benefit == pytest.approx(run.result.objective, rel=1e-9)


def test_a_stochastic_objective_refuses_curved_benefits() -> None:
    """Scenario coefficients are linear: a curved benefit would be left out silently, so
    validation names each curve instead."""
    result = invoke("validate", Path(__file__).resolve().parents[1] / "models" / "baoxing.yaml",
                    "--set", "components.objective={type: stochastic_benefit, "
                             "scenarios: named}")
    assert result.exit_code == 2, result.output
    assert "components.water.curves" in result.output
    assert "components.habitat.species.giant_panda.curve" in result.output
