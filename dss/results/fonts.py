"""Finding a font that draws Chinese in figures.

matplotlib's default font (DejaVu Sans) has no Chinese glyphs: a label such as 宝兴 comes out
as empty boxes, with only a warning per glyph. :func:`cjk_font` looks for an installed font
that has them (Noto Sans CJK, Source Han Sans, SimHei, Microsoft YaHei, WenQuanYi...), checks
that it really holds the glyphs, and says once, through logging, when there is none. A font
installed after matplotlib built its font cache is found too: the system font folders are
scanned again for CJK fonts the cache does not know.

matplotlib is imported only when a function here is called (it is an optional dependency).
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

LOGGER = logging.getLogger(__name__)

CJK_FONTS: tuple[str, ...] = (
    "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
    "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "SimHei", "Microsoft YaHei", "PingFang SC",
    "Heiti SC", "Noto Sans CJK TC", "Source Han Sans TC", "Noto Sans CJK JP",
    "Arial Unicode MS", "Noto Serif CJK SC", "Source Han Serif SC")
"""Fonts with Chinese glyphs, most preferred first (simplified-Chinese sans serif first)."""

PROBE = "宝兴河流域"
"""Characters a font must draw to be used (the study's own name)."""

_CJK_FILE = re.compile(r"cjk|han ?sans|hanserif|wqy|wenquanyi|simhei|simsun|msyh|yahei|"
                       r"pingfang|heiti|droidsansfallback|unicode", re.IGNORECASE)
_WARNED = {"done": False}


def draws(font_path: str, text: str = PROBE) -> bool:
    """Whether the font file has a glyph for every character of ``text``."""
    from matplotlib.ft2font import FT2Font

    try:
        face = FT2Font(font_path)
    except (OSError, RuntimeError, ValueError):
        return False
    return all(face.get_char_index(ord(ch)) != 0 for ch in text if not ch.isspace())


def _installed() -> dict[str, str]:
    """Font family name to file, for every font matplotlib knows."""
    from matplotlib import font_manager

    return {f.name: f.fname for f in font_manager.fontManager.ttflist}


def _scan_new_fonts() -> int:
    """Add CJK font files the font cache does not know yet (installed after it was built)."""
    from matplotlib import font_manager

    known = {f.fname for f in font_manager.fontManager.ttflist}
    added = 0
    for path in font_manager.findSystemFonts():
        if path in known or not _CJK_FILE.search(path):
            continue
        try:
            font_manager.fontManager.addfont(path)
            added += 1
        except (OSError, RuntimeError, ValueError):
            continue
    return added


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """Name of an installed font that draws Chinese, or None (logged once as a warning)."""
    for attempt in range(2):
        installed = _installed()
        for name in CJK_FONTS:
            if name in installed and draws(installed[name]):
                return name
        if attempt == 0 and not _scan_new_fonts():
            break
    if not _WARNED["done"]:
        _WARNED["done"] = True
        LOGGER.warning("no font with Chinese glyphs is installed (looked for %s): figures "
                       "show English names only. Install one, e.g. Noto Sans CJK "
                       "(Debian/Ubuntu: apt-get install fonts-noto-cjk)",
                       ", ".join(CJK_FONTS[:6]) + ", ...")
    return None


def font_rc(font: str | None) -> dict[str, object]:
    """matplotlib rc settings that draw Latin text in DejaVu Sans and Chinese in ``font``."""
    if font is None:
        return {}
    return {"font.family": ["DejaVu Sans", font]}
