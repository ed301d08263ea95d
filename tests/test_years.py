"""Planning years (multi-period phasing): regression without years, hand-solved cases,
enumeration of small instances, and invariants recomputed from the result tables.

The enumeration tests compute, independently of :mod:`dss.optimize.phasing`, each start's
discounted, maturity-weighted benefit, the money it spends in each year, the land it uses
and the precedence shares, list every integer plan, and compare the best with the solver's.
Per-unit full effects come from the model without years (tested elsewhere).
"""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from test_optimality import action_row, class_row, point_row, subunit_row, write_study

from dss.api import run_solve
from dss.errors import InputError
from dss.optimize.problem import Problem
from dss.results.verify import verify_run
from dss.synth import write_study as write_synthetic_study

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).parent / "data" / "baoxing_no_years"
TINY = Path(__file__).parent / "data" / "tiny"


# ---------------------------------------------------------------------------------------------
# Without years: exactly as before
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", ["base", "reservoir_target"])
def test_without_years_the_bundled_tables_are_unchanged_byte_for_byte(tmp_path, scenario):
    """tests/data/baoxing_no_years holds the tables dss wrote before planning years existed
    (regenerate only for an intended change of the bundled study)."""
    run = run_solve(ROOT / "models" / "baoxing.yaml",
                    None if scenario == "base" else [scenario], results_root=tmp_path)
    for golden in sorted((GOLDEN / scenario).glob("*.csv")):
        assert (run.folder / golden.name).read_bytes() == golden.read_bytes(), golden.name


def _tiny_model(tmp_path: Path, settings: dict, components: dict | None = None) -> Path:
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    model = yaml.safe_load((folder / "model.yaml").read_text(encoding="utf-8"))
    model["settings"].update(settings)
    model["components"].update(components or {})
    (folder / "model.yaml").write_text(yaml.safe_dump(model, sort_keys=False), encoding="utf-8")
    return folder / "model.yaml"


def test_one_year_without_maturation_gives_the_plan_without_years(tmp_path):
    plain = Problem.from_model(_tiny_model(tmp_path / "a", {})).solve()
    one = Problem.from_model(_tiny_model(tmp_path / "b", {"years": [2017]})).solve()
    assert one.built.ctx.phasing is not None
    assert one.objective == pytest.approx(plain.objective, rel=1e-9)
    np.testing.assert_allclose(one.amounts, plain.amounts, atol=1e-7)
    cols = ["subunit_id", "action_id", "unit_cost", "d_sediment", "d_tn", "habitat_gain"]
    pd.testing.assert_frame_equal(one.built.ctx.options[cols], plain.built.ctx.options[cols])


@pytest.mark.parametrize(("settings", "component", "needle"), [
    ({"years": [2017, 2019]}, None, "consecutive"),
    ({"discount_rate": 0.03}, None, "need settings.years"),
    ({"maturation": {"sewage": [0.5, 1.0]}}, None, "need settings.years"),
    ({"years": [2017, 2018], "benefit_horizon": 2017}, None, "before the last planning year"),
    ({}, {"budget": {"type": "budget", "per_year": {2017: 1.0}}}, "need planning years"),
    ({"years": [2017, 2018]}, {"budget": {"type": "budget", "per_year": {2017: 1.0}}},
     "one budget for each planning year"),
    ({"years": [2017]}, {"p": {"type": "precedence", "rules": [
        {"action": "sewage", "requires": "nope"}]}}, "unknown action 'nope'"),
    ({}, {"c": {"type": "yearly_capacity", "per_action": {"sewage": 1}}}, "need planning"),
    ({"years": [2017]}, {"limits": {"type": "load_limits", "year": 2050}}, "outside"),
])
def test_bad_year_settings_are_clear_errors(tmp_path, settings, component, needle):
    with pytest.raises(InputError) as err:
        Problem.from_model(_tiny_model(tmp_path, settings, component)).solve()
    assert needle in str(err.value)


# ---------------------------------------------------------------------------------------------
# Hand-solved cases
# ---------------------------------------------------------------------------------------------
#
# One subunit S (outlet point at S, no retention, R K LS SDR = 100). Land: 2 ha crop
# (C 0.5 -> forest C 0.1: 40 t/yr kept out per ha), 1 ha scar (mass yield 100 t/ha/yr,
# revegetated to forest: 100 + 50 - 10 = 140 t/yr per ha), 1 hazard site (dam traps
# min(100, local sediment) = 100 t/yr). Sediment is worth 1 CNY/t, horizon H.


def one_subunit(actions: list[dict]) -> dict[str, list[dict]]:
    return {
        "subunits": [subunit_row("S", None, 3.0, sites=1)],
        "land_classes": [class_row("crop", 0.5), class_row("forest", 0.1),
                         class_row("scar", 0.5, mass=100.0)],
        "land_cover": [{"subunit_id": "S", "land_class": "crop", "area_ha": 2.0},
                       {"subunit_id": "S", "land_class": "scar", "area_ha": 1.0}],
        "actions": actions,
        "control_points": [point_row("out", "S")],
    }


def solve_years(tmp_path: Path, tables: dict, components: dict, settings: dict,
                horizon: float) -> tuple[object, dict[tuple[str, str, int], float]]:
    path = write_study(tmp_path, tables, {"objective": {"type": "max_benefit"},
                                          "land": {"type": "land"},
                                          "water": {"type": "delivered_reduction",
                                                    "values": {"sediment": 1.0}},
                                          **components}, horizon=horizon)
    model = yaml.safe_load(path.read_text(encoding="utf-8"))
    model["settings"].update(settings)
    path.write_text(yaml.safe_dump(model, sort_keys=False), encoding="utf-8")
    result = Problem.from_model(path).solve()
    opts = result.built.ctx.options
    plan = {(s, a, int(y)): float(x) for s, a, y, x in zip(
        opts["subunit_id"], opts["action_id"], opts["year"], result.amounts, strict=True)
        if x > 1e-9}
    return result, plan


def test_maturation_starts_the_slow_action_first_by_hand(tmp_path):
    # Years 1, 2, benefits to year 3, no discount, H = 3, one unit a year (cost 1 each,
    # budget 1 a year). Scar revegetation (140 t/ha) matures over 2 years: started in year 1
    # its shares are 0, 1/2, 1 (sum 1.5); in year 2: 0, 1/2 (sum 0.5). A dam (100 t) has
    # its full effect at once: 3 years from year 1, 2 from year 2. Benefit = H * sum / 3:
    #   revegetation in year 1, dam in year 2: 140 * 1.5 + 100 * 2 = 410
    #   dam in year 1, revegetation in year 2: 100 * 3 + 140 * 0.5 = 370
    # The slow action goes first (it would lose more by waiting).
    actions = [{**action_row("reveg", "scar", leads_to="forest", capital=1.0, integer=True),
                "maturity_years": 2},
               action_row("dam", "hazard_sites", unit="dam", capital=1.0, integer=True,
                          trap=100.0)]
    actions[1]["maturity_years"] = 0
    result, plan = solve_years(tmp_path, one_subunit(actions),
                               {"budget": {"type": "budget", "per_year": {1: 1.0, 2: 1.0}}},
                               {"years": [1, 2], "benefit_horizon": 3}, horizon=3)
    assert plan == {("S", "reveg", 1): 1.0, ("S", "dam", 2): 1.0}
    assert result.objective == pytest.approx(410.0)


def test_a_maturation_curve_replaces_the_ramp_by_hand(tmp_path):
    # As above, with revegetation on the curve [0, 0.25, 1] (maturity_years 2 is ignored):
    # started in year 1 its shares in years 1-3 are 0, 0.25, 1 (sum 1.25); in year 2: 0,
    # 0.25 (sum 0.25). Benefit = sum of shares * t/yr:
    #   revegetation in year 1, dam in year 2: 140 * 1.25 + 100 * 2 = 375
    #   dam in year 1, revegetation in year 2: 100 * 3 + 140 * 0.25 = 335
    actions = [{**action_row("reveg", "scar", leads_to="forest", capital=1.0, integer=True),
                "maturity_years": 2},
               {**action_row("dam", "hazard_sites", unit="dam", capital=1.0, integer=True,
                             trap=100.0), "maturity_years": 0}]
    budget = {"budget": {"type": "budget", "per_year": {1: 1.0, 2: 1.0}}}
    settings = {"years": [1, 2], "benefit_horizon": 3, "maturation": {"reveg": [0, 0.25, 1]}}
    result, plan = solve_years(tmp_path / "a", one_subunit(actions), budget, settings, 3)
    assert plan == {("S", "reveg", 1): 1.0, ("S", "dam", 2): 1.0}
    assert result.objective == pytest.approx(375.0)
    opts = result.built.ctx.options
    first = ((opts["action_id"] == "reveg") & (opts["year"] == 1)).to_numpy()
    np.testing.assert_allclose(result.built.ctx.phasing.share_at(2)[first], [0.25])
    # every problem with the curves at once, each at its action
    settings["maturation"] = {"reveg": [0.5, 1.2, 0.4], "nope": [1.0]}
    with pytest.raises(InputError) as err:
        solve_years(tmp_path / "b", one_subunit(actions), budget, settings, 3)
    text = str(err.value)
    assert "settings.maturation.reveg" in text and "between 0 and 1 (got 1.2)" in text
    assert "must never fall" in text and "the last share must be 1" in text
    assert "settings.maturation.nope" in text and "unknown action 'nope'" in text


def test_carry_over_lets_a_dearer_dam_wait_by_hand(tmp_path):
    # A dam costs 150; the budget is 100 a year for two years. Without carry-over no year
    # can pay for it; with carry-over year 2 has 200 and builds it (benefit 100 t * 1 year
    # of effect in year 2 of 2, horizon 2: 100 * 1 / 2 * 2 = 100).
    actions = [{**action_row("dam", "hazard_sites", unit="dam", capital=150.0, integer=True,
                             trap=100.0), "maturity_years": 0}]
    budget = {"type": "budget", "per_year": {1: 100.0, 2: 100.0}}
    settings = {"years": [1, 2], "benefit_horizon": 2}
    _, plan = solve_years(tmp_path / "a", one_subunit(actions), {"budget": budget}, settings, 2)
    assert plan == {}
    result, plan = solve_years(tmp_path / "b", one_subunit(actions),
                               {"budget": {**budget, "carry_over": True}}, settings, 2)
    assert plan == {("S", "dam", 2): 1.0}
    assert result.objective == pytest.approx(100.0)


def test_precedence_puts_the_dam_first_by_hand(tmp_path):
    # Scar revegetation (140 t/ha, 1 ha) requires the dam a year before; plenty of money.
    # Without the rule both start in year 1; with it revegetation waits for year 2.
    actions = [{**action_row("reveg", "scar", leads_to="forest", capital=1.0),
                "maturity_years": 0},
               {**action_row("dam", "hazard_sites", unit="dam", capital=1.0, integer=True,
                             trap=100.0), "maturity_years": 0}]
    settings = {"years": [1, 2], "benefit_horizon": 2}
    _, plan = solve_years(tmp_path / "a", one_subunit(actions), {}, settings, 2)
    assert plan == {("S", "reveg", 1): 1.0, ("S", "dam", 1): 1.0}
    rule = {"type": "precedence", "rules": [{"action": "reveg", "requires": "dam"}]}
    result, plan = solve_years(tmp_path / "b", one_subunit(actions), {"order": rule},
                               settings, 2)
    assert plan == {("S", "reveg", 2): 1.0, ("S", "dam", 1): 1.0}
    assert result.objective == pytest.approx(100 * 2 + 140 * 1)


def test_agency_yearly_capacity_spreads_its_work_over_the_years_by_hand(tmp_path):
    # One agency's teams can treat 1 ha a year, whatever the action (both in ha). Years 1, 2,
    # benefits to year 2, H = 2, money enough. Per ha: revegetation 140 t (280 from year 1,
    # 140 from year 2), reforestation 40 t (80 from year 1, 40 from year 2). Without the
    # limit: 1 ha reveg + 2 ha reforest in year 1 = 440. With it: year 1 takes the
    # revegetation (280), year 2 one hectare of reforestation (40): 320.
    actions = [{**action_row("reveg", "scar", leads_to="forest", capital=1.0),
                "maturity_years": 0},
               {**action_row("reforest", "crop", leads_to="forest", capital=1.0),
                "maturity_years": 0}]
    settings = {"years": [1, 2], "benefit_horizon": 2}
    result, plan = solve_years(tmp_path / "a", one_subunit(actions), {}, settings, 2)
    assert result.objective == pytest.approx(440.0)
    teams = {"type": "yearly_capacity", "per_agency": {"agency": {"ha": 1.0}}}
    result, plan = solve_years(tmp_path / "b", one_subunit(actions), {"teams": teams},
                               settings, 2)
    assert plan == pytest.approx({("S", "reveg", 1): 1.0, ("S", "reforest", 2): 1.0})
    assert result.objective == pytest.approx(320.0)
    bad = {"type": "yearly_capacity", "per_agency": {"agency": {"dam": 1.0}, "nobody": {}}}
    with pytest.raises(InputError) as err:
        solve_years(tmp_path / "c", one_subunit(actions), {"teams": bad}, settings, 2)
    text = str(err.value)
    assert "no action of agency 'agency' is measured in 'dam' (its units: ha)" in text
    assert "unknown agency 'nobody'" in text and "components.teams.per_agency.nobody" in text


def test_budgets_below_the_required_work_are_refused_before_solving(tmp_path):
    # 1 ha of revegetation is locked in (capital 10, annual 1 a year). Years 1, 2, costs to
    # year 3: its cheapest start (year 2) costs 10 + 2 * 1 = 12 in all, and 10 + 1 = 11
    # within the planning years. A total of 11.5 and yearly budgets of 5 + 5 cannot pay.
    actions = [{**action_row("reveg", "scar", leads_to="forest", capital=10.0, annual=1.0),
                "maturity_years": 0}]
    locks = {"type": "locks", "locked_in": {"S": {"reveg": 1.0}}}
    settings = {"years": [1, 2], "benefit_horizon": 3}
    budget = {"type": "budget", "total": 11.5, "per_year": {1: 5.0, 2: 5.0}}
    with pytest.raises(InputError) as err:
        solve_years(tmp_path / "a", one_subunit(actions), {"budget": budget, "locks": locks},
                    settings, 3)
    text = str(err.value)
    assert ("key components.budget.total: the budget of 11.5 CNY is below the 12 CNY that "
            "the work required by locks costs") in text
    assert ("key components.budget.per_year: the sum of the yearly budgets of 10 CNY is "
            "below the 11 CNY") in text
    # budgets that cover it are accepted (year 2 spends the 11 with carry-over), and the
    # plan starts the work in the last year
    budget = {"type": "budget", "total": 12.0, "per_year": {1: 5.0, 2: 6.0},
              "carry_over": True}
    result, plan = solve_years(tmp_path / "b", one_subunit(actions),
                               {"budget": budget, "locks": locks}, settings, 3)
    assert result.status == "optimal" and plan == {("S", "reveg", 2): 1.0}


# ---------------------------------------------------------------------------------------------
# Enumeration of small instances
# ---------------------------------------------------------------------------------------------


def ramp(age: int, maturity: float) -> float:
    """Share of the full effect ``age`` years after the start (written out again here)."""
    if age < 0:
        return 0.0
    return 1.0 if maturity == 0 else min(1.0, age / maturity)


def benefit_weight(start: int, maturity: float, first: int, end: int, rate: float,
                   curve: list[float] | None = None) -> float:
    discount = [(1 + rate) ** -(t - first) for t in range(first, end + 1)]

    def share(age: int) -> float:
        if curve is None:
            return ramp(age, maturity)
        return 0.0 if age < 0 else curve[min(age, len(curve) - 1)]

    return sum(d * share(t - start)
               for d, t in zip(discount, range(first, end + 1), strict=True)) / sum(discount)


def random_phasing_instance(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    n_years = int(rng.integers(2, 4))
    inst = {
        "years": list(range(1, n_years + 1)),
        "end": n_years + int(rng.integers(0, 3)),
        "rate": float(rng.choice([0.0, 0.05, 0.1])),
        "crop": {s: float(rng.integers(1, 3)) for s in ("U", "D")},
        "carry": bool(rng.integers(0, 2)),
        "lag": int(rng.integers(0, 2)) if rng.integers(0, 2) else None,  # None: no rule
        "actions": {
            "reforest": {"capital": float(rng.integers(1, 3)),
                         "annual": float(rng.choice([0.0, 0.5])),
                         "maturity": int(rng.integers(0, 4)),
                         "fixed": float(rng.choice([0.0, 1.0]))},
            "reveg": {"capital": float(rng.integers(1, 3)), "annual": 0.0,
                      "maturity": int(rng.integers(0, 3)), "fixed": 0.0},
            "dam": {"capital": float(rng.integers(1, 4)),
                    "annual": float(rng.choice([0.0, 0.25])), "maturity": 0, "fixed": 0.0},
        },
    }
    inst["budgets"] = {y: float(rng.integers(0, 4)) for y in inst["years"]}
    # a total budget (whole cost, annual costs to the horizon) in half of the instances,
    # from its own generator so the other draws stay as they were
    extra = np.random.default_rng(500 + seed)
    inst["total"] = float(extra.integers(1, 7)) if extra.integers(0, 2) else None
    # a maturation curve for reforestation in half of the instances
    inst["curve"] = ([float(v) for v in np.sort(extra.choice([0.0, 0.2, 0.5, 0.8], 2))]
                     + [1.0]) if extra.integers(0, 2) else None
    return inst


def phasing_tables(inst: dict) -> dict[str, list[dict]]:
    acts = inst["actions"]

    def row(aid: str, applies_to: str, **kw) -> dict:
        a = acts[aid]
        return {**action_row(aid, applies_to, capital=a["capital"], annual=a["annual"],
                             fixed=a["fixed"], integer=True, **kw),
                "maturity_years": a["maturity"]}

    return {
        "subunits": [subunit_row("U", "D", inst["crop"]["U"] + 1, sites=1),
                     subunit_row("D", None, inst["crop"]["D"] + 1, sites=1)],
        # scar: 100 * 0.5 + 200 = 250 t/ha/yr; revegetated to forest: 10 (240 kept out);
        # a dam traps 20 t: every start at maturity stays within the local load
        "land_classes": [class_row("crop", 0.5), class_row("forest", 0.1),
                         class_row("scar", 0.5, mass=200.0)],
        "land_cover": [{"subunit_id": s, "land_class": c, "area_ha": a}
                       for s in ("U", "D")
                       for c, a in (("crop", inst["crop"][s]), ("scar", 1.0))],
        "actions": [row("reforest", "crop", leads_to="forest"),
                    row("reveg", "scar", leads_to="forest"),
                    row("dam", "hazard_sites", unit="dam", trap=20.0)],
        "control_points": [point_row("out", "D")],
    }


def best_by_enumeration(inst: dict, full: dict[tuple[str, str], float],
                        capacity: dict[tuple[str, str], float]) -> float:
    """The best plan's benefit, over every integer plan of starts per year."""
    years, first, end, horizon = inst["years"], inst["years"][0], inst["end"], inst["end"]
    acts = inst["actions"]
    pairs = sorted(capacity)
    choices = []
    for s, a in pairs:  # every way to start at most the capacity over the years
        cap = int(capacity[s, a])
        choices.append([c for c in itertools.product(range(cap + 1), repeat=len(years))
                        if sum(c) <= cap])
    weight = {(a, y): benefit_weight(y, acts[a]["maturity"], first, end, inst["rate"],
                                     inst["curve"] if a == "reforest" else None)
              for a in acts for y in years}
    best = -1.0
    for plan in itertools.product(*choices):
        # an action with a fixed cost starts in one year per subunit, and pays it then
        if any(acts[a]["fixed"] and sum(1 for x in starts if x) > 1
               for (s, a), starts in zip(pairs, plan, strict=True)):
            continue
        spent, ok = 0.0, True
        first = {pair: next((y for y, x in zip(years, starts, strict=True) if x), None)
                 for pair, starts in zip(pairs, plan, strict=True)}
        for t in years:
            spend = sum(x * (acts[a]["capital"] * (y == t) + acts[a]["annual"] * (y <= t))
                        for (s, a), starts in zip(pairs, plan, strict=True)
                        for y, x in zip(years, starts, strict=True))
            spend += sum(acts[a]["fixed"] for (s, a) in pairs if first[s, a] == t)
            spent = spent + spend if inst["carry"] else spend
            limit = sum(b for y, b in inst["budgets"].items() if y <= t) if inst["carry"] \
                else inst["budgets"][t]
            if spent > limit + 1e-9:
                ok = False
                break
        if ok and inst["total"] is not None:  # the whole cost, each start's annual to E
            whole = sum(x * (acts[a]["capital"] + (end - y + 1) * acts[a]["annual"])
                        for (s, a), starts in zip(pairs, plan, strict=True)
                        for y, x in zip(years, starts, strict=True))
            whole += sum(acts[a]["fixed"] for (s, a) in pairs if first[s, a] is not None)
            ok = whole <= inst["total"] + 1e-9
        if ok and inst["lag"] is not None:
            starts = dict(zip(pairs, plan, strict=True))
            for s in ("U", "D"):
                for t in years:
                    done = sum(x for y, x in zip(years, starts[s, "reveg"], strict=True)
                               if y <= t) / capacity[s, "reveg"]
                    before = sum(x for y, x in zip(years, starts[s, "dam"], strict=True)
                                 if y <= t - inst["lag"]) / capacity[s, "dam"]
                    ok = ok and done <= before + 1e-9
        if not ok:
            continue
        value = sum(horizon * weight[a, y] * full[s, a] * x
                    for (s, a), starts in zip(pairs, plan, strict=True)
                    for y, x in zip(years, starts, strict=True))
        best = max(best, value)
    return best


@pytest.mark.parametrize("seed", range(16))
def test_phasing_maturation_carry_over_and_precedence_match_enumeration(tmp_path, seed):
    from dss.optimize.build import make_context

    inst = random_phasing_instance(seed)
    components = {"budget": {"type": "budget", "per_year": inst["budgets"],
                             "carry_over": inst["carry"], "total": inst["total"]}}
    if inst["lag"] is not None:
        components["order"] = {"type": "precedence", "rules": [
            {"action": "reveg", "requires": "dam", "lag_years": inst["lag"]}]}
    settings = {"years": inst["years"], "benefit_horizon": inst["end"],
                "discount_rate": inst["rate"]}
    if inst["curve"] is not None:
        settings["maturation"] = {"reforest": inst["curve"]}
    result, _plan = solve_years(tmp_path / "years", phasing_tables(inst), components,
                                settings, horizon=inst["end"])
    # full effects per unit from the model without years (sediment at the outlet, T = 1)
    plain = write_study(tmp_path / "plain", phasing_tables(inst),
                        {"objective": {"type": "max_benefit"}}, horizon=inst["end"])
    opts = make_context(Problem.from_model(plain)).options
    full = {(s, a): d for s, a, d in zip(opts["subunit_id"], opts["action_id"],
                                         opts["d_sediment"], strict=True)}
    capacity = {(s, a): c for s, a, c in zip(opts["subunit_id"], opts["action_id"],
                                             opts["capacity"], strict=True)}
    assert result.status == "optimal"
    assert result.objective == pytest.approx(best_by_enumeration(inst, full, capacity),
                                             rel=1e-7, abs=1e-7)


# ---------------------------------------------------------------------------------------------
# Invariants recomputed from the result tables of random synthetic studies
# ---------------------------------------------------------------------------------------------


def phased_synthetic_study(folder: Path, seed: int) -> tuple[Path, dict]:
    """A synthetic study with three planning years, random maturation, budgets per year and
    agency, carry-over and a precedence rule."""
    rng = np.random.default_rng(1000 + seed)
    path = write_synthetic_study(folder, n_subunits=30, seed=seed)
    actions = pd.read_csv(folder / "actions.csv", keep_default_na=False)
    actions["maturity_years"] = rng.integers(0, 5, len(actions)).astype(float)
    actions.to_csv(folder / "actions.csv", index=False)
    model = yaml.safe_load(path.read_text(encoding="utf-8"))
    total = model["components"]["budget"]["total"]
    years = [2020, 2021, 2022]
    shares = rng.dirichlet(np.ones(3))
    carry = bool(seed % 2)
    model["settings"] = {"horizon_years": 8, "years": years,
                         "discount_rate": float(rng.choice([0.0, 0.04]))}
    model["solver"]["mip_gap"] = 0.0
    model["components"]["budget"].update({
        "per_year": {y: float(round(s * total / 2)) for y, s in zip(years, shares, strict=True)},
        "per_agency_year": {"forestry": {y: float(round(total / 10)) for y in years}},
        "carry_over": carry})
    model["components"]["order"] = {"type": "precedence", "rules": [
        {"action": "scar_revegetation", "requires": "check_dam", "lag_years": 1}]}
    model["components"]["teams"] = {"type": "yearly_capacity",
                                    "per_action": {"reforest_cropland": 40.0},
                                    "per_agency": {"forestry": {"ha": 150.0}}}
    path.write_text(yaml.safe_dump(model, sort_keys=False), encoding="utf-8")
    return path, model


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_phased_plans_hold_every_rule_recomputed_from_the_tables(tmp_path, seed):
    path, model = phased_synthetic_study(tmp_path / "study", seed)
    run = run_solve(path, results_root=tmp_path / "results")
    assert run.result.status == "optimal"
    folder = run.folder
    alloc = pd.read_csv(folder / "allocation.csv", dtype={"subunit_id": str})
    summary = dict(pd.read_csv(folder / "summary.csv")[["metric", "value"]].to_numpy())
    actions = pd.read_csv(tmp_path / "study" / "actions.csv").set_index("action_id")
    years, end = model["settings"]["years"], 2020 + 8 - 1
    budget = model["components"]["budget"]
    assert len(alloc) and set(alloc["year"]) <= set(years)
    act = actions.loc[alloc["action_id"]]
    capital, annual = act["capital_cost"].to_numpy(), act["annual_cost"].to_numpy()
    # an action with a fixed cost starts in one year per subunit, and pays it then
    fixed = act["fixed_cost"].to_numpy()
    starts = alloc[fixed > 0].groupby(["subunit_id", "action_id"]).size()
    assert (starts <= 1).all()
    x, start = alloc["amount"].to_numpy(), alloc["year"].to_numpy()
    # each start pays its capital and fixed cost in its year, its annual cost to the horizon
    np.testing.assert_allclose(alloc["cost_cny"], (capital + (end - start + 1) * annual) * x
                               + fixed, rtol=1e-9)
    # money per year: as reported, within each year's budget (or the budgets so far)
    spent = 0.0
    forestry = 0.0
    for t in years:
        paid = capital * x * (start == t) + annual * x * (start <= t) + fixed * (start == t)
        assert float(summary[f"spend year {t}"]) == pytest.approx(paid.sum(), rel=1e-9)
        mine = (act["agency"] == "forestry").to_numpy()
        spent = spent + paid.sum() if budget["carry_over"] else paid.sum()
        forestry = forestry + paid[mine].sum() if budget["carry_over"] else paid[mine].sum()
        upto = [y for y in years if y <= t] if budget["carry_over"] else [t]
        assert spent <= sum(budget["per_year"][y] for y in upto) * (1 + 1e-7) + 1e-6
        assert forestry <= sum(budget["per_agency_year"]["forestry"][y] for y in upto) \
            * (1 + 1e-7) + 1e-6
        teams = x[(alloc["action_id"] == "reforest_cropland").to_numpy() & (start == t)]
        assert teams.sum() <= 40.0 + 1e-6
        hectares = mine & (act["unit"] == "ha").to_numpy() & (start == t)
        assert x[hectares].sum() <= 150.0 * (1 + 1e-9) + 1e-6
    # land and other resources are shared across the years
    total = alloc.groupby(["subunit_id", "action_id"]).agg(amount=("amount", "sum"),
                                                           capacity=("capacity", "first"))
    assert (total["amount"] <= total["capacity"] * (1 + 1e-9) + 1e-9).all()
    # precedence: scar revegetation started by t is at most the dams' share by t - 1
    capacity = run.result.built.ctx.options.groupby(["subunit_id", "action_id"])[
        "capacity"].first()
    for s in set(alloc["subunit_id"]):
        if (s, "scar_revegetation") not in capacity or (s, "check_dam") not in capacity:
            continue
        mine = alloc[alloc["subunit_id"] == s]
        for t in years:
            reveg = mine[(mine["action_id"] == "scar_revegetation") & (mine["year"] <= t)]
            dams = mine[(mine["action_id"] == "check_dam") & (mine["year"] <= t - 1)]
            assert reveg["amount"].sum() / capacity[s, "scar_revegetation"] <= \
                dams["amount"].sum() / capacity[s, "check_dam"] + 1e-7
    # habitat trajectory: each start's full gain times its maturity in the year
    species = pd.read_csv(folder / "species.csv")
    assert sorted(set(species["year"])) == [*years, end]
    for rec in species.itertuples(index=False):
        rows = alloc[alloc["habitat_species"] == rec.species]
        expected = sum(g * ramp(rec.year - y, m) for g, y, m in zip(
            rows["habitat_gain_ha"], rows["year"], rows["maturity_years"], strict=True))
        assert rec.gain == pytest.approx(expected, rel=1e-7, abs=1e-7)
    # the benefit weight of each start, written out again
    for rec in alloc.itertuples(index=False):
        assert rec.benefit_weight == pytest.approx(benefit_weight(
            rec.year, rec.maturity_years, 2020, end, model["settings"]["discount_rate"]))
    assert verify_run(folder).ok


def test_bundled_project_scenario_solves_and_verifies(tmp_path):
    run = run_solve(ROOT / "models" / "baoxing.yaml", ["project_2017_2019"],
                    results_root=tmp_path)
    assert run.result.status == "optimal"
    alloc = pd.read_csv(run.folder / "allocation.csv", dtype={"subunit_id": str})
    assert set(alloc["year"]) <= {2017, 2018, 2019}
    summary = dict(pd.read_csv(run.folder / "summary.csv")[["metric", "value"]].to_numpy())
    assert sum(float(summary[f"spend year {y}"]) for y in (2017, 2018, 2019)) <= 2.0e7 + 1e-3
    # the scars are revegetated only where (and after) the gully's check dam is built
    for rec in alloc[alloc["action_id"] == "landslide_revegetation"].itertuples(index=False):
        dams = alloc[(alloc["subunit_id"] == rec.subunit_id)
                     & (alloc["action_id"] == "gabion_check_dam") & (alloc["year"] < rec.year)]
        assert len(dams) or not (run.result.built.ctx.options["action_id"].eq(
            "gabion_check_dam") & run.result.built.ctx.options["subunit_id"].eq(
            rec.subunit_id)).any()
    assert verify_run(run.folder).ok


def test_work_plans_of_the_project_scenario_give_years_and_the_year_rules(tmp_path):
    from dss.results.workplan import write_work_plans

    run = run_solve(ROOT / "models" / "baoxing.yaml", ["project_2017_2019"],
                    results_root=tmp_path)
    out, _plan = write_work_plans(run.folder, None, None)
    plans = pd.concat([pd.read_csv(p) for p in sorted(out.glob("agency_*.csv"))])
    alloc = pd.read_csv(run.folder / "allocation.csv")
    assert sorted(plans["year"].unique()) == sorted(alloc["year"].unique())
    assert plans["cost_cny"].sum() == pytest.approx(alloc["cost_cny"].sum())
    rules = pd.read_csv(out / "rules.csv")
    text = " ".join(rules["rule_en"])
    assert "Spend in 2017: at most 6,000,000 CNY." in text
    assert "may be spent in later years" in text
    assert "Landslide-scar revegetation" in text and "a year" in text


def test_coordinate_plans_the_project_years_per_start_year():
    from dss.optimize.coordinate import coordinate
    from dss.results.coordination import metrics_table

    problem = Problem.from_model(ROOT / "models" / "baoxing.yaml", ["project_2017_2019"])
    coord = coordinate(problem)
    table = metrics_table(coord).set_index(["plan", "metric"])["value"]
    plans = ("siloed", "integrated", "pooled")
    benefit = {plan: table[plan, "benefit"] for plan in plans}
    assert benefit["integrated"] == pytest.approx(problem.solve().objective, rel=1e-9)
    assert benefit["siloed"] <= benefit["integrated"] <= benefit["pooled"] * (1 + 1e-9)
    # the siloed union is planned per start year and keeps the yearly budgets (carry-over)
    union = coord.results["siloed"]
    assert set(union.built.ctx.options.loc[union.amounts > 0, "year"]) <= {2017, 2018, 2019}
    paid = np.cumsum([table["siloed", f"spend year {t}"] for t in (2017, 2018, 2019)])
    assert (paid <= np.cumsum([6.0e6, 7.0e6, 7.0e6]) * (1 + 1e-9)).all()
