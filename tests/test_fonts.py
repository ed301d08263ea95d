"""Chinese in figures: a CJK font is found, its glyphs are used (no fallback boxes), and a
machine without one is told once."""

from __future__ import annotations

import io
import logging
import os
import warnings

import pytest

pytest.importorskip("matplotlib")

from matplotlib import font_manager  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from dss.results import fonts  # noqa: E402

LABEL = "宝兴河流域 穆坪镇 大熊猫"


def cjk_or_skip() -> str:
    font = fonts.cjk_font()
    if font is None:
        if os.environ.get("CI"):
            pytest.fail("no CJK font in CI: .ci/run must install fonts-noto-cjk")
        pytest.skip("no CJK font installed (apt-get install fonts-noto-cjk); CI installs one")
    return font


def test_a_chinese_label_is_drawn_with_a_cjk_font() -> None:
    font = cjk_or_skip()
    import matplotlib as mpl

    with warnings.catch_warnings():
        # matplotlib warns "Glyph ... missing from font(s)" for every box it draws instead
        warnings.simplefilter("error")
        with mpl.rc_context(fonts.font_rc(font)):
            fig = Figure()
            FigureCanvasAgg(fig)
            ax = fig.add_subplot()
            title = ax.set_title(LABEL)
            fig.savefig(io.BytesIO(), format="png")
            used = font_manager.fontManager._find_fonts_by_props(title.get_fontproperties())
    paths = [str(p) for p in used]
    # every character is drawn by a font of the chain that has its glyph, and the CJK font
    # (not DejaVu Sans, which has none) is the one that has them
    cjk_files = [p for p in paths if fonts.draws(p, LABEL)]
    assert cjk_files, paths
    assert not fonts.draws(font_manager.findfont("DejaVu Sans"), "宝")


def test_no_cjk_font_warns_once(monkeypatch: pytest.MonkeyPatch,
                                caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(fonts, "_installed", lambda: {"DejaVu Sans": "x.ttf"})
    monkeypatch.setattr(fonts, "_scan_new_fonts", lambda: 0)
    monkeypatch.setitem(fonts._WARNED, "done", False)
    fonts.cjk_font.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="dss.results.fonts"):
            assert fonts.cjk_font() is None
            fonts.cjk_font.cache_clear()
            assert fonts.cjk_font() is None
        warned = [r for r in caplog.records if "Chinese glyphs" in r.getMessage()]
        assert len(warned) == 1
        assert "fonts-noto-cjk" in warned[0].getMessage()
        assert fonts.font_rc(None) == {}
    finally:
        fonts.cjk_font.cache_clear()


def test_a_font_without_the_glyphs_is_not_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    dejavu = font_manager.findfont("DejaVu Sans")
    monkeypatch.setattr(fonts, "_installed", lambda: {"SimHei": dejavu})  # a fake "SimHei"
    monkeypatch.setattr(fonts, "_scan_new_fonts", lambda: 0)
    monkeypatch.setitem(fonts._WARNED, "done", True)
    fonts.cjk_font.cache_clear()
    try:
        assert fonts.cjk_font() is None
    finally:
        fonts.cjk_font.cache_clear()


def test_dss_plot_draws_chinese_names_with_the_cjk_font(tmp_path) -> None:
    """The spend figure names agencies and townships in English and Chinese, drawn without a
    single missing glyph."""
    cjk_or_skip()
    from pathlib import Path

    from dss.api import run_solve
    from dss.results.plots import plot_context, spend_figure

    root = Path(__file__).resolve().parents[1]
    run = run_solve(root / "models" / "baoxing.yaml", None, None, tmp_path)
    ctx = plot_context(run.folder)
    import matplotlib as mpl

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with mpl.rc_context(fonts.font_rc(fonts.cjk_font())):
            fig = spend_figure(ctx)
            FigureCanvasAgg(fig)
            fig.savefig(io.BytesIO(), format="png")
    labels = [t.get_text() for ax in fig.axes for t in ax.get_yticklabels()]
    assert any("林业和草原局" in t for t in labels), labels
    assert any("穆坪镇" in t for t in labels), labels
    assert any("退耕还林" in t for t in labels), labels
