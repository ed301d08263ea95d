"""``dss solve --write-model FILE``: HiGHS alone, reading the file, finds dss's optimum."""

from __future__ import annotations

from pathlib import Path

import highspy
import pytest
import yaml
from typer.testing import CliRunner

from dss.cli import app
from dss.config.loader import load_model
from dss.optimize.solve import highs_options
from dss.synth import write_study

RUNNER = CliRunner()
TINY = Path(__file__).parent / "data" / "tiny" / "model.yaml"


def highs_alone(path: Path, model: Path) -> tuple[str, float, int, int]:
    """Status, objective, columns and integer columns of the file solved by HiGHS alone."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    assert h.readModel(str(path)) == highspy.HighsStatus.kOk
    for key, value in highs_options(load_model(model).config.solver).items():
        h.setOptionValue(key, value)
    h.run()
    lp = h.getLp()
    n_int = sum(1 for t in lp.integrality_ if t == highspy.HighsVarType.kInteger)
    return (h.modelStatusToString(h.getModelStatus()), h.getInfo().objective_function_value,
            lp.num_col_, n_int)


@pytest.mark.parametrize("suffix", [".mps", ".lp"])
def test_the_written_model_solves_to_the_same_objective(suffix: str, tmp_path: Path) -> None:
    model = write_study(tmp_path / "study", 300, seed=3, n_actions=8)
    target = tmp_path / f"model{suffix}"
    res = RUNNER.invoke(app, ["solve", str(model), "--out", str(tmp_path / "out"),
                              "--write-model", str(target)])
    assert res.exit_code == 0, res.output
    manifest = yaml.safe_load(next((tmp_path / "out").glob("*/base/manifest.yaml"))
                              .read_text(encoding="utf-8"))
    status, objective, n_col, n_int = highs_alone(target, model)
    assert status == "Optimal"
    assert objective == pytest.approx(manifest["solver"]["objective"], rel=1e-9)
    assert n_int > 0  # the integrality travelled with the file (the synthetic model is a MIP)
    assert n_col > n_int


def test_the_written_lp_of_the_tiny_study(tmp_path: Path) -> None:
    target = tmp_path / "tiny.mps"
    res = RUNNER.invoke(app, ["solve", str(TINY), "--out", str(tmp_path / "out"),
                              "--write-model", str(target)])
    assert res.exit_code == 0, res.output
    manifest = yaml.safe_load(next((tmp_path / "out").glob("*/base/manifest.yaml"))
                              .read_text(encoding="utf-8"))
    status, objective, _n_col, _n_int = highs_alone(target, TINY)
    assert status == "Optimal"
    assert objective == pytest.approx(manifest["solver"]["objective"], rel=1e-9)


def test_a_bad_model_file_name_is_refused_before_solving(tmp_path: Path) -> None:
    res = RUNNER.invoke(app, ["solve", str(TINY), "--out", str(tmp_path / "out"),
                              "--write-model", str(tmp_path / "no" / "model.txt")])
    assert res.exit_code == 2
    assert "must end in .mps or .lp" in res.output
    assert "does not exist" in res.output
    assert not (tmp_path / "out").exists()  # nothing was solved or written
