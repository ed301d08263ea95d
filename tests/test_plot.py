"""``dss plot``: figures of a run, and the river-network layout they use.

Baoxing's base scenario is solved once for the module into a temporary results root.
"""

from __future__ import annotations

import itertools
import shutil
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from dss.api import run_solve
from dss.cli import app
from dss.results.plot_style import plain
from dss.results.plots import write_plots
from dss.results.river_layout import tree_layout
from dss.results.runs import MissingDependencyError

ROOT = Path(__file__).resolve().parents[1]
BAOXING = ROOT / "models" / "baoxing.yaml"
RUNNER = CliRunner()
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FIGURES = ("network", "spend", "loads")


def invoke(*args: object):
    return RUNNER.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("results")
    run = run_solve(BAOXING, None, None, root)
    assert run.result.status == "optimal"
    return run.folder


@pytest.fixture(scope="module")
def plotted(run_dir: Path) -> tuple[Path, str]:
    result = invoke("plot", run_dir, "--format", "png,svg")
    assert result.exit_code == 0, result.output
    return run_dir, result.output


def test_writes_valid_png_and_svg_into_the_run_folder(plotted: tuple[Path, str]) -> None:
    folder, output = plotted
    for stem in FIGURES:
        png = folder / f"{stem}.png"
        svg = folder / f"{stem}.svg"
        assert str(png) in output and str(svg) in output
        data = png.read_bytes()
        assert data.startswith(PNG_SIGNATURE), stem
        assert len(data) > 30_000, (stem, len(data))
        root = ET.parse(svg).getroot()
        assert root.tag.endswith("svg"), stem
        assert svg.stat().st_size > 30_000, stem
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temp files left


def test_png_size_is_legible(plotted: tuple[Path, str]) -> None:
    folder, _ = plotted
    for stem in FIGURES:
        header = (folder / f"{stem}.png").read_bytes()[16:24]
        width, height = int.from_bytes(header[:4], "big"), int.from_bytes(header[4:], "big")
        assert width >= 1000 and height >= 700, (stem, width, height)


def test_out_folder_and_color_by(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "figs"
    result = invoke("plot", run_dir, "--out", out, "--color-by", "sediment_local:change")
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == ["loads.png", "network_sediment_local_change.png", "spend.png"]
    assert (out / "network_sediment_local_change.png").read_bytes().startswith(PNG_SIGNATURE)


def check_error(result, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in result.output, (needle, result.output)


def test_bad_input_is_located(run_dir: Path, tmp_path: Path) -> None:
    inputs = ROOT / "inputs" / "baoxing"
    check_error(invoke("plot", inputs), str(inputs), "not a dss run folder")
    check_error(invoke("plot", tmp_path / "nothing"), "folder not found")
    check_error(invoke("plot", run_dir, "--color-by", "sediment_locl"), "--color-by",
                "did you mean 'sediment_local'?")
    check_error(invoke("plot", run_dir, "--color-by", "spend:later"), "unknown view")
    check_error(invoke("plot", run_dir, "--format", "png,jpg", "--out", tmp_path / "f"),
                "--format", "'jpg'")
    assert not (tmp_path / "f").exists()


def test_run_without_recorded_inputs(run_dir: Path, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    old = tmp_path / "old" / "base"
    shutil.copytree(run_dir, old, ignore=shutil.ignore_patterns("*.png", "*.svg"))
    manifest = yaml.safe_load((old / "manifest.yaml").read_text(encoding="utf-8"))
    assert manifest["inputs_dir"]
    del manifest["inputs_dir"]
    (old / "manifest.yaml").write_text(yaml.safe_dump(manifest, allow_unicode=True),
                                       encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    check_error(invoke("plot", old), "manifest.yaml", "--inputs")
    result = invoke("plot", old, "--inputs", ROOT / "inputs" / "baoxing")
    assert result.exit_code == 0, result.output
    assert (old / "network.png").is_file()


def test_missing_matplotlib_is_explained(run_dir: Path, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(MissingDependencyError, match=r"install dss\[report\]"):
        write_plots(run_dir, tmp_path / "f")
    check_error(invoke("plot", run_dir, "--out", tmp_path / "g"), "matplotlib", "dss[report]")


def test_chinese_is_dropped_without_a_cjk_font() -> None:
    assert plain("Baoxing River basin (宝兴河流域), illustrative study") == \
        "Baoxing River basin, illustrative study"
    assert plain("Qiaoqi reservoir 硗碛水库") == "Qiaoqi reservoir"
    assert plain("宝兴河", keep_cjk=True) == "宝兴河"


# --- layout ------------------------------------------------------------------------------

SMALL = {  # subunit -> downstream: two outlets, a main stem, side branches of various sizes
    "h1": "a", "h2": "a", "a": "m1", "t1": "m1", "m1": "m2", "s1": "s2", "s2": "m2",
    "m2": "out", "leaf": "out", "out": None, "x1": "x0", "x2": "x0", "x0": None,
}


def check_layout(pos: dict[str, tuple[float, float]], down: dict[str, str | None]) -> None:
    """Every subunit strictly below (downstream of) its upstream ones; nodes apart; no
    crossing links."""
    for up, d in down.items():
        if d is not None:
            assert pos[d][1] < pos[up][1], (up, d)  # downstream is below
            assert pos[d][1] == pos[up][1] - 1
    by_level: dict[float, list[float]] = {}
    for x, y in pos.values():
        by_level.setdefault(y, []).append(x)
    for xs in by_level.values():
        xs.sort()
        assert all(b - a >= 1 for a, b in itertools.pairwise(xs))  # no overlapping nodes
    links = [(pos[u], pos[d]) for u, d in down.items() if d is not None]
    for (a0, a1), (b0, b1) in itertools.combinations(links, 2):
        if a1[1] != b1[1] or a1 == b1:
            continue  # different level bands, or links into the same node
        assert (a0[0] - b0[0]) * (a1[0] - b1[0]) >= 0, (a0, a1, b0, b1)  # order kept


def test_layout_of_a_small_forest() -> None:
    pos = tree_layout(list(SMALL), list(SMALL.values()))
    check_layout(pos, SMALL)
    assert pos["out"][1] == 0 and pos["x0"][1] == 0
    assert pos["m2"][0] == pos["out"][0] == pos["m1"][0]  # the main stem is straight
    assert pos["a"][0] == pos["m1"][0]
    assert min(x for x, _ in pos.values()) == 0
    assert max(pos[n][0] for n in ("h1", "h2", "a", "t1", "m1", "s1", "s2", "m2", "leaf",
                                   "out")) < min(pos[n][0] for n in ("x0", "x1", "x2"))


def test_layout_of_a_chain_and_of_baoxing() -> None:
    chain = {f"c{i}": (f"c{i + 1}" if i < 49 else None) for i in range(50)}
    pos = tree_layout(list(chain), list(chain.values()))
    check_layout(pos, chain)
    assert {x for x, _ in pos.values()} == {0.0}
    subunits = pd.read_csv(ROOT / "inputs" / "baoxing" / "subunits.csv",
                           keep_default_na=False)
    down = {s: (d or None) for s, d in zip(subunits["subunit_id"], subunits["downstream_id"],
                                           strict=True)}
    pos = tree_layout(list(down), list(down.values()))
    check_layout(pos, down)
    assert pos["M9"][1] == 0 and len(pos) == 27


def test_layout_rejects_a_cycle() -> None:
    with pytest.raises(ValueError, match="cycle"):
        tree_layout(["a", "b", "c"], ["b", "a", None])
