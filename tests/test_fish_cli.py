"""Fish passage end to end: the Baoxing ``fish_passage`` scenario, ``dss verify`` on it,
``dss optipass`` commands and located errors for bad barrier tables."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from dss.cli import app

ROOT = Path(__file__).resolve().parents[1]
BAOXING = ROOT / "models" / "baoxing.yaml"
RUNNER = CliRunner()


def test_baoxing_fish_passage_scenario_solves_and_verifies(tmp_path):
    result = RUNNER.invoke(app, ["solve", str(BAOXING), "-s", "fish_passage", "--out",
                                 str(tmp_path)])
    assert result.exit_code == 0, result.output
    run = tmp_path / "baoxing" / "fish_passage"
    table = pd.read_csv(run / "fish.csv")
    fish = table.drop_duplicates("species").set_index("species")  # the optimised metric first
    assert fish.loc["ya_fish", "metric"] == "accessible_habitat"
    assert fish.loc["ya_fish", "before"] == 0.0  # every active station is impassable today
    assert fish.loc["ya_fish", "after"] >= 5.0 - 1e-9
    barriers = pd.read_csv(run / "barriers.csv", keep_default_na=False)
    assert len(barriers) == 47
    chosen = barriers[barriers["option_id"] != ""]
    alloc = pd.read_csv(run / "allocation.csv", keep_default_na=False)
    options = alloc[alloc["unit"] == "option"]
    assert sorted(options["action_id"]) == sorted(chosen["option_id"])
    assert options["cost_cny"].sum() == pytest.approx(chosen["cost_cny"].sum())
    summary = pd.read_csv(run / "summary.csv").set_index("metric")["value"]
    assert float(summary["spend"]) <= 6.0e7 * (1 + 1e-9)
    # the habitat opened per barrier adds up to the gain (no restored reach is chosen
    # without its barrier being passed, so restored km are in the gain as well)
    restored = fish.loc["ya_fish", "gain"] - chosen["habitat_opened"].sum()
    assert restored >= -1e-9
    dci = table.set_index("metric")["after"]
    assert 0 < dci["dci_d"] <= 100 and 0 < dci["dci_p"] <= 100
    verify = RUNNER.invoke(app, ["verify", str(run)])
    assert verify.exit_code == 0, verify.output
    assert "PASS  fish" in verify.output


def test_verify_catches_a_tampered_fish_table(tmp_path):
    result = RUNNER.invoke(app, ["solve", str(BAOXING), "-s", "fish_passage", "--out",
                                 str(tmp_path)])
    assert result.exit_code == 0, result.output
    run = tmp_path / "baoxing" / "fish_passage"
    fish = pd.read_csv(run / "fish.csv")
    fish.loc[0, "after"] = fish.loc[0, "after"] + 1.0
    fish.to_csv(run / "fish.csv", index=False)
    verify = RUNNER.invoke(app, ["verify", str(run)])
    assert verify.exit_code == 8
    assert "FAIL  fish" in verify.output


def _copy_study(tmp_path: Path) -> Path:
    folder = tmp_path / "study"
    shutil.copytree(ROOT / "inputs" / "baoxing", folder)
    model = (ROOT / "models" / "baoxing.yaml").read_text(encoding="utf-8").replace(
        "inputs: ../inputs/baoxing", "inputs: .")
    (folder / "model.yaml").write_text(model, encoding="utf-8")
    return folder


def test_bad_barrier_tables_are_located(tmp_path):
    folder = _copy_study(tmp_path)
    options = pd.read_csv(folder / "barrier_options.csv", keep_default_na=False)
    options.loc[0, "barrier_id"] = "HP99"
    options.loc[1, "kind"] = "ladder"
    options.loc[2, "option_id"] = "eflow_retrofit"
    options.to_csv(folder / "barrier_options.csv", index=False)
    barriers = pd.read_csv(folder / "barriers.csv", keep_default_na=False)
    barriers["downstream_barrier_id"] = ""
    barriers.loc[3, "downstream_barrier_id"] = "HP05"
    barriers.loc[4, "downstream_barrier_id"] = "HP04"
    barriers.to_csv(folder / "barriers.csv", index=False)
    result = RUNNER.invoke(app, ["validate", str(folder / "model.yaml"), "-s", "fish_passage"])
    assert result.exit_code == 2
    text = result.output
    assert "barrier_options.csv, row 2, column barrier_id" in text and "HP99" in text
    assert "barrier_options.csv, row 3, column kind" in text
    assert "cycle" in text and "HP04" in text
    bad = pd.read_csv(folder / "barrier_options.csv", keep_default_na=False)
    bad.loc[0, "barrier_id"] = "HP01"
    bad.loc[1, "kind"] = "fishway"
    bad.to_csv(folder / "barrier_options.csv", index=False)
    barriers["downstream_barrier_id"] = ""
    barriers.to_csv(folder / "barriers.csv", index=False)
    result = RUNNER.invoke(app, ["validate", str(folder / "model.yaml"), "-s", "fish_passage"])
    assert result.exit_code == 2
    assert "barrier_options.csv, row 4, column option_id" in result.output


def test_fish_species_without_habitat_is_a_model_error(tmp_path):
    result = RUNNER.invoke(app, ["validate", str(BAOXING), "-s", "fish_passage", "--set",
                                 "components.fish.species.giant_panda.value=1"])
    assert result.exit_code == 2
    assert "giant_panda" in result.output and "fish_habitat.csv" in result.output


def test_optipass_commands(tmp_path):
    table = tmp_path / "op.csv"
    table.write_text("BARID,REGION,FOCUS,DSID,USHAB,PREPASS,NPROJ,ACTION,COST,POSTPASS\n"
                     "a,r,1,NA,5,0.5,1,1,10,1\nb,r,1,a,10,0,1,1,10,0.5\n", encoding="utf-8")
    out = tmp_path / "results"
    result = RUNNER.invoke(app, ["optipass", "run", str(table), "--budgets", "0,10,20",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    output = pd.read_csv(out / "optipass" / "op" / "output.csv").set_index("BUDGET")
    # budget 10: a -> 5 + 10*0*1 = 5, or b -> 2.5 + 10*.5*.5 = 5; budget 20: 5 + 10*.5 = 10
    assert output.loc[0.0, "PTNL_HABITAT"] == pytest.approx(2.5)
    assert output.loc[10.0, "PTNL_HABITAT"] == pytest.approx(5.0)
    assert output.loc[20.0, "PTNL_HABITAT"] == pytest.approx(10.0)
    assert (output.loc[20.0, ["ACT_a", "ACT_b"]] == 1).all()
    study = tmp_path / "study"
    result = RUNNER.invoke(app, ["optipass", "import", str(table), str(study)])
    assert result.exit_code == 0, result.output
    again = RUNNER.invoke(app, ["optipass", "import", str(table), str(study)])
    assert again.exit_code == 2
    back = tmp_path / "back.csv"
    result = RUNNER.invoke(app, ["optipass", "export", str(back), "-m", str(study)])
    assert result.exit_code == 0, result.output
    assert pd.read_csv(back).equals(pd.read_csv(table))
    bad = RUNNER.invoke(app, ["optipass", "run", str(table), "--budgets", "-1"])
    assert bad.exit_code == 2


def test_barriers_are_drawn_on_the_network_map():
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    from dss.results.plot_barriers import draw_barriers

    table = pd.DataFrame({"barrier_id": ["b1", "b1", "b2", "b3"],
                          "subunit_id": ["A", "A", "B", "B"],
                          "option_kind": ["fishway", "fishway", "", "remove"]})
    ax = Figure().subplots()
    handles = draw_barriers(ax, table, {"A": (0, 1), "B": (0, 0)}, {"A": "B", "B": None}, False)
    assert [h.get_label() for h in handles] == ["fishway or bypass", "barrier, kept as it is",
                                                "barrier removed"]
    assert len(ax.collections) == 3  # one marker per barrier, not per (barrier, species) row


def test_barrier_options_can_be_locked_in_and_out(tmp_path):
    """Locks name a barrier option like an action (subunit, option id). Forcing an e-flow
    retrofit at HP03 (E2, above the impassable Qiaoqi dam: it opens nothing) costs money
    and changes nothing for the fish; forbidding the fishway at the outlet station HP47 (M9)
    leaves only its 401 M CNY removal to reach any habitat: the 5 km target fails."""
    def solve(name: str, *sets: str):
        args = ["solve", str(BAOXING), "-s", "fish_passage", "--out", str(tmp_path),
                "--run-name", name]
        for item in sets:
            args += ["--set", item]
        return RUNNER.invoke(app, args)

    result = solve("locked_in", "components.locks.locked_in={E2: {HP03-eflow: 1}}")
    assert result.exit_code == 0, result.output
    barriers = pd.read_csv(tmp_path / "baoxing" / "locked_in" / "barriers.csv",
                           keep_default_na=False).set_index("barrier_id")
    assert barriers.loc["HP03", "option_id"] == "HP03-eflow"
    assert barriers.loc["HP03", "habitat_opened"] == 0.0
    result = solve("locked_out", "components.locks.locked_out={M9: [HP47-fishway]}")
    assert result.exit_code == 3, result.output
    assert (tmp_path / "baoxing" / "locked_out" / "shortfalls.csv").is_file()
