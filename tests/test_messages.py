"""Messages a new user meets: each says what is wrong in the user's words, without Python."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from dss.cli import app
from dss.cli.analysis import zero_noise

ROOT = Path(__file__).resolve().parents[1]
BAOXING = ROOT / "models" / "baoxing.yaml"
PARK = ROOT / "models" / "baoxing_park.yaml"
RUNNER = CliRunner()
PYTHON_WORDS = ("unpack", "Traceback", "PydanticUndefined", "typing.", "Annotated[",
                "internal error")


def invoke(*args: object):
    return RUNNER.invoke(app, [str(a) for a in args])


def no_python(output: str) -> None:
    for word in PYTHON_WORDS:
        assert word not in output, (word, output)


def test_range_with_two_parts_says_what_is_missing(tmp_path: Path) -> None:
    result = invoke("sweep", BAOXING, "--range", "1e7:6e7", "--out", tmp_path)
    assert result.exit_code == 2
    assert "'1e7:6e7' has 2 parts, it needs three: START:STOP:N" in result.output
    assert "e.g. 1e7:6e7:6" in result.output
    no_python(result.output)
    result = invoke("sweep", BAOXING, "--range", "1e7:6e7:x", "--out", tmp_path)
    assert result.exit_code == 2 and "'x' is not N, a whole number of points" in result.output


def test_misspelt_component_in_set_gets_a_suggestion(tmp_path: Path) -> None:
    result = invoke("solve", BAOXING, "--set", "components.budjet.total=3e7", "--out", tmp_path)
    assert result.exit_code == 2
    assert "the model has no component 'budjet': did you mean components.budget?" in \
        result.output
    no_python(result.output)


def test_component_parameters_are_described_in_words() -> None:
    result = invoke("components", "budget")
    assert result.exit_code == 0
    no_python(result.output)
    assert "per_agency: mapping of str to float ≥ 0 (default: {})" in result.output
    assert "total: float or null (default: null)" in result.output
    for name in ("habitat", "load_limits", "equity", "zone_rules", "locks"):
        result = invoke("components", name)
        assert result.exit_code == 0
        no_python(result.output)


def test_plugin_that_is_not_importable_says_how_modules_are_found(tmp_path: Path) -> None:
    result = invoke("solve", BAOXING, "--plugin", "mypkg.comp", "--out", tmp_path)
    assert result.exit_code == 2
    assert "No module named 'mypkg'" in result.output
    assert "mypkg.comp means mypkg/comp.py there" in result.output
    assert "PYTHONPATH" in result.output
    result = invoke("solve", BAOXING, "--plugin", "plugins/comp.py", "--out", tmp_path)
    assert result.exit_code == 2
    assert "--plugin takes a module name, not a file: use --plugin comp and run dss from " \
           "plugins" in result.output


def test_species_without_a_survey_is_not_zero_animals(tmp_path: Path) -> None:
    result = invoke("baseline", BAOXING, "--out", tmp_path)
    assert result.exit_code == 0, result.output
    line = next(ln for ln in result.output.splitlines() if "golden_snub_nosed_monkey" in ln)
    assert "no survey count" in line and "0  animals" not in line
    assert any("giant_panda" in ln and "181" in ln and "animals" in ln
               for ln in result.output.splitlines())


def test_park_design_speaks_of_opportunity_cost_and_is_not_plotted(tmp_path: Path) -> None:
    result = invoke("solve", PARK, "--out", tmp_path)
    assert result.exit_code == 0, result.output
    assert "opportunity cost" in result.output
    assert not any(ln.strip().startswith("spend") for ln in result.output.splitlines())
    folder = tmp_path / "baoxing_park" / "base"
    result = invoke("plot", folder, "--out", tmp_path / "fig")
    assert result.exit_code == 2
    assert "is a park-design run (kind: planning)" in result.output
    assert "status optimal" not in result.output


def test_frontier_shows_round_off_as_zero(tmp_path: Path) -> None:
    assert zero_noise(6.53e-05, 26807.0) == 0.0
    assert zero_noise(12.0, 26807.0) == 12.0
    assert zero_noise(0.0, 0.0) == 0.0
    result = invoke("frontier", BAOXING, "--x", "reduction:qiaoqi_reservoir:sediment", "--y",
                    "habitat:giant_panda", "--points", "3", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    rows = [ln for ln in result.output.splitlines() if ln.strip().startswith(("endpoint",
                                                                              "interior"))]
    assert rows and not any("e-0" in ln for ln in rows), rows


def test_money_axes_read_in_millions() -> None:
    pytest.importorskip("matplotlib")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from dss.results.tradeoff import money_axis

    fig = Figure()
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.plot([1e7, 6e7], [1, 2])
    assert money_axis(ax.xaxis, [1e7, 6e7], "CNY") == "million CNY"
    assert ax.xaxis.get_major_formatter()(2e7, 0) == "20"
    assert money_axis(ax.yaxis, [1, 2], "t/yr") == "t/yr"
    fig.canvas.draw()
    assert ax.xaxis.get_offset_text().get_text() == ""  # no "1e7" above the axis
