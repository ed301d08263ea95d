"""Presolve checks and the explanation of infeasibility (GitHub issue 6).

Presolve (:mod:`dss.optimize.presolve`): numerically risky data gets a located warning
(logged, written to ``warnings.csv``); a trivially infeasible or meaningless problem gets a
located error (exit 2) with its reason, before any solve.

Explanation (:func:`dss.optimize.solve.explain_infeasibility`): the least shortfall of each
requirement, the smallest conflicting set (deletion filter) and the least budget (or that
none suffices), in ``shortfalls.csv`` and on the console.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from dss.cli import app
from dss.errors import InputError
from dss.optimize.build import compile_problem
from dss.optimize.components.benefits import Carbon, Habitat, LoadLimits
from dss.optimize.components.constraints import Budget, Locks, ZoneRules
from dss.optimize.problem import Problem

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "data" / "tiny"
BAOXING = ROOT / "models" / "baoxing.yaml"
RUNNER = CliRunner()
PANDA_BASELINE = 80 * 0.9 + 60 * 0.5 + 30 * 0.5
"""Quality-weighted panda habitat of the tiny study (ha)."""


@pytest.fixture(scope="module")
def tiny() -> Problem:
    return Problem.from_model(TINY / "model.yaml")


def copy_tiny(tmp_path: Path) -> Path:
    folder = tmp_path / "study"
    shutil.copytree(TINY, folder)
    return folder


def set_cell(folder: Path, table: str, key: str, column: str, value: object) -> None:
    """Set ``column`` of the row whose first cell is ``key``."""
    path = folder / f"{table}.csv"
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    at = rows[0].index(column)
    for row in rows[1:]:
        if row[0] == key:
            row[at] = str(value)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def presolve_error(problem: Problem) -> list:
    with pytest.raises(InputError) as err:
        compile_problem(problem)
    assert err.value.summary == "the problem cannot be solved as posed"
    return err.value.issues


# ------------------------------------------------------------------------------ warnings


def test_huge_coefficient_is_a_located_warning(tmp_path: Path) -> None:
    folder = copy_tiny(tmp_path)
    set_cell(folder, "actions", "sewage", "capital_cost", "2e12")
    out = tmp_path / "out"
    result = RUNNER.invoke(app, ["solve", str(folder / "model.yaml"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert ("WARNING dss.optimize.presolve: actions.csv, row 4: the cost per unit (one-off "
            "plus annual over the horizon) of 'sewage' in ") in result.stderr
    assert "above 1e+09: the solver may lose precision" in result.stderr
    warnings = pd.read_csv(out / "tiny" / "base" / "warnings.csv")
    assert list(warnings.columns) == ["file", "row", "column", "message", "text"]
    row = warnings[warnings["message"].str.contains("cost per unit")].iloc[0]
    assert row["file"] == "actions.csv" and row["row"] == 4


def test_wide_range_is_a_warning(tmp_path: Path) -> None:
    folder = copy_tiny(tmp_path)
    set_cell(folder, "actions", "gfg_forest", "capital_cost", "0.00001")
    built = compile_problem(Problem.from_model(folder / "model.yaml"))
    (warning,) = [w for w in built.warnings if "ranges from" in w.message]
    assert warning.file == "actions.csv" and warning.row == 5  # check_dam, the largest
    assert "from 1e-05 ('gfg_forest' in 'B', actions.csv row 2) to 5e+05 CNY" in \
        warning.message


def test_clean_study_has_no_warnings(tiny: Problem) -> None:
    assert compile_problem(tiny).warnings == []


# -------------------------------------------------------------------------------- errors


def test_coefficient_the_solver_cannot_use_is_an_error(tmp_path: Path) -> None:
    """HiGHS treats matrix values above 1e15 as infinite and returned an 'optimal' plan
    spending 8.5e17 against a 500,000 budget: refused before solving."""
    folder = copy_tiny(tmp_path)
    set_cell(folder, "actions", "gfg_forest", "capital_cost", "1e16")
    result = RUNNER.invoke(app, ["solve", str(folder / "model.yaml"), "--out",
                                 str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert ("actions.csv, row 2: the cost per unit (one-off plus annual over the horizon) of "
            "'gfg_forest' in 'B' (and 2 more) is 1e+16 CNY: the solver cannot use values of "
            "1e+15 or more") in result.stderr
    assert not (tmp_path / "out").exists()


def test_huge_objective_value_is_an_error(tiny: Problem) -> None:
    # 1e14 CNY per t C is a valid parameter; times the carbon gained per hectare the
    # objective coefficient reaches the solver's infinity (1e15)
    (issue,) = presolve_error(tiny.add(Carbon("carbon", value=1e14)))
    assert issue.column == "components.carbon"
    assert "objective coefficient of component 'carbon'" in issue.message


def test_no_options_at_all(tmp_path: Path) -> None:
    folder = copy_tiny(tmp_path)
    for action in ("gfg_forest", "scar_reveg", "sewage", "check_dam"):
        set_cell(folder, "actions", action, "applies_to", "stream")
    for sub in "ABCDEF":
        set_cell(folder, "subunits", sub, "stream_km", 0)
    (issue,) = presolve_error(Problem.from_model(folder / "model.yaml"))
    assert issue.file == "actions.csv"
    assert issue.message.startswith("no decision options")


def test_every_option_locked_out(tiny: Problem) -> None:
    locks = Locks("locks", locked_out={s: "all" for s in "ABCDE"})
    (issue,) = presolve_error(tiny.add(locks))
    assert issue.column == "components.locks"
    assert "every decision option is locked out (by locks)" in issue.message


def test_every_option_forbidden_or_locked_out(tiny: Problem) -> None:
    zones = ZoneRules("zones", core={"forbidden": ["scar_reveg", "gfg_forest", "check_dam"]},
                      general={"allowed": []}, outside={"allowed": []})
    (issue,) = presolve_error(tiny.add(zones))
    assert "every decision option is locked out (by zones)" in issue.message


def test_locked_in_but_forbidden(tiny: Problem) -> None:
    problem = tiny.add(Locks("locks", locked_in={"A": {"scar_reveg": 5}})).add(
        ZoneRules("zones", core={"forbidden": ["scar_reveg"]}))
    (issue,) = presolve_error(problem)
    assert issue.column == "components.locks"
    assert issue.message == ("action 'scar_reveg' in subunit 'A' must be at least 5 ha "
                             "(locks) but at most 0 (zones)")


def test_agency_budget_below_locked_in_cost(tiny: Problem) -> None:
    problem = tiny.without("budget").add(Budget("budget", per_agency={"water": 600000})).add(
        Locks("locks", locked_in={"D": {"check_dam": 2}}))
    (issue,) = presolve_error(problem)
    assert issue.column == "components.budget.per_agency.water"
    assert "the agency budget of 'water' of 600,000 CNY is below the 1,000,000 CNY" in \
        issue.message


def test_zone_requirement_counts_as_locked_in(tiny: Problem) -> None:
    """Treating 100 % of the sewage in the zone outside the park costs more than 500,000."""
    (issue,) = presolve_error(tiny.add(ZoneRules("zones", outside={
        "required": {"sewage": 1.0}})))
    assert issue.column == "components.budget.total"
    assert "locked in or required by zones cost" in issue.message


def test_habitat_target_above_all_that_exists(tiny: Problem) -> None:
    # gfg_forest on all 85 ha of cropland adds 42.5 ha of quality-weighted habitat at most
    habitat = Habitat("habitat", species={"panda": {"target_absolute": PANDA_BASELINE + 50}})
    (issue,) = presolve_error(tiny.add(habitat))
    assert issue.column == "components.habitat.species.panda"
    assert ("needs a habitat gain of 50 ha, but all possible actions together add at most "
            "42.5 ha: no budget suffices") in issue.message


def test_carbon_floor_above_all_that_exists(tiny: Problem) -> None:
    (issue,) = presolve_error(tiny.add(Carbon("carbon", minimum=1e5)))
    assert issue.column == "components.carbon.minimum"
    assert "above the largest possible carbon stock gain, 9,075 t C" in issue.message


def test_load_limit_beyond_all_upstream_reductions(tiny: Problem) -> None:
    limits = LoadLimits("limits", reductions={"reservoir": {"sediment": 0.99}})
    (issue,) = presolve_error(tiny.add(limits))
    assert issue.column == "components.limits.reductions.reservoir.sediment"
    assert "all possible upstream actions together can remove at most" in issue.message
    assert "no budget suffices" in issue.message


def test_presolve_errors_are_all_reported_together(tiny: Problem) -> None:
    problem = tiny.add(Carbon("carbon", minimum=1e5)).add(
        Habitat("habitat", species={"panda": {"target_absolute": PANDA_BASELINE + 50}}))
    assert len(presolve_error(problem)) == 2


# -------------------------------------------------------------------------- explanation


def test_baoxing_limit_out_of_budget_names_the_limit_and_the_budget(tmp_path: Path) -> None:
    """Acceptance: halving the sediment into the Qiaoqi reservoir cannot be done with CNY 20
    million; dss names the limit, and the budget that would do it."""
    result = RUNNER.invoke(app, [
        "solve", str(BAOXING), "--set",
        "components.load_limits.reductions.qiaoqi_reservoir.sediment=0.5",
        "--set", "components.budget.per_agency={}",  # one budget, as the least budget is
        "--run-name", "halve", "--out", str(tmp_path)])
    assert result.exit_code == 3, result.output
    out = result.stdout
    assert "Smallest set of conflicting requirements" in out
    assert "load_limits: sediment at qiaoqi_reservoir" in out
    short = pd.read_csv(tmp_path / "baoxing" / "halve" / "shortfalls.csv",
                        keep_default_na=False)
    assert list(short.columns) == ["kind", "component", "requirement", "target", "unit",
                                   "shortfall", "in_conflict", "note"]
    req = short[short["kind"] == "requirement"].set_index("requirement")
    assert bool(req.loc["sediment at qiaoqi_reservoir", "in_conflict"])
    (budget,) = short[short["kind"] == "budget"].to_dict("records")
    least = float(budget["target"]) + float(budget["shortfall"])
    assert 2.0e7 < least < 2.2e7
    assert f"Budget: a budget of at least {least:,.0f} CNY meets every requirement" in out
    # and that budget is enough
    sets = ["components.load_limits.reductions.qiaoqi_reservoir.sediment=0.5",
            "components.budget.per_agency={}",
            f"components.budget.total={least * (1 + 1e-6):.2f}"]
    assert Problem.from_model(BAOXING, sets=sets).solve().status == "optimal"


def test_two_requirements_that_conflict_only_together(tiny: Problem) -> None:
    """The reservoir cut needs scar revegetation in A (~270,000 CNY), the panda target
    gfg_forest (250,000 CNY): each fits the 500,000 CNY budget, both do not."""
    problem = tiny.add(LoadLimits("limits", reductions={"reservoir": {"sediment": 0.8}})).add(
        Habitat("habitat", species={"panda": {"target_absolute": PANDA_BASELINE + 6.25}}))
    for alone in (problem.without("habitat"), problem.without("limits")):
        assert alone.solve().status == "optimal"
    result = problem.solve()
    assert result.status == "infeasible"
    short = result.shortfalls
    reqs = short[short["kind"] == "requirement"].set_index("requirement")
    assert reqs["in_conflict"].all() and len(reqs) == 2
    budget = short[short["kind"] == "budget"].iloc[0]
    least = float(budget["target"]) + float(budget["shortfall"])
    assert 500_000 < least < 600_000
    bigger = problem.without("budget").add(Budget("budget", total=least * (1 + 1e-6)))
    assert bigger.solve().status == "optimal"


def test_requirement_that_is_met_is_left_out_of_the_conflict(tiny: Problem) -> None:
    problem = tiny.add(LoadLimits("limits", reductions={"reservoir": {"sediment": 0.9},
                                                        "outlet": {"tp": 0.001}}))
    short = problem.solve().shortfalls
    conflict = short[(short["kind"] == "requirement") & short["in_conflict"]]
    assert list(conflict["requirement"]) == ["sediment at reservoir"]


def test_no_budget_suffices(tmp_path: Path) -> None:
    """A zone rule requires grass strips on half of D's cropland, so gfg_forest can use only
    the other half: the panda target is beyond reach with any budget (presolve, which takes
    each action alone, cannot see it; the min-cost re-solve does)."""
    folder = copy_tiny(tmp_path)
    with open(folder / "actions.csv", "a", encoding="utf-8") as fh:
        fh.write("grass_strips,Grass strips,,cropland,ha,,0.05,100,0,0,false,water,"
                 "0,0,0,0,,0,0\n")
    model = folder / "model.yaml"
    model.write_text(model.read_text(encoding="utf-8").replace("total: 500000", "total: 5e6")
                     + "  zones: {type: zone_rules, general: {required: {grass_strips: 1}}}\n"
                     "  habitat: {type: habitat, species: {panda: {target_absolute: "
                     f"{PANDA_BASELINE + 40}}}}}}}\n", encoding="utf-8")
    result = RUNNER.invoke(app, ["solve", str(model), "--out", str(tmp_path / "out")])
    assert result.exit_code == 3, result.output
    assert "habitat: habitat gain panda" in result.stdout
    assert "Budget: no budget suffices: even with unlimited money habitat gain panda cannot " \
           "be met under the land, zone rules, locks and equity rules." in result.stdout
    short = pd.read_csv(tmp_path / "out" / "tiny" / "base" / "shortfalls.csv")
    budget = short[short["kind"] == "budget"].iloc[0]
    assert pd.isna(budget["shortfall"]) and budget["note"].startswith("no budget suffices")


def test_hard_conflict_with_requirements_present(tiny: Problem) -> None:
    """Revegetating all of A is locked in (300,000 CNY, north) and no township may take more
    than half the spend: 600,000 CNY at least, above the budget. The elastic re-solve is
    infeasible too (no requirement explains it); the least budget still does."""
    from dss.optimize.components.constraints import Equity

    problem = tiny.add(Locks("locks", locked_in={"A": {"scar_reveg": "all"}})).add(
        Equity("equity", max_share=0.5)).add(Carbon("carbon", minimum=10.0))
    result = problem.solve()
    assert result.status == "infeasible"
    short = result.shortfalls
    assert list(short["kind"]) == ["budget"]  # no requirement is short: the rules conflict
    budget = short[short["kind"] == "budget"].iloc[0]
    assert float(budget["target"]) + float(budget["shortfall"]) == pytest.approx(600_000.0)
