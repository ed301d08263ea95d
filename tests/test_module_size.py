"""No module of dss is longer than :data:`LIMIT` lines (ARCHITECTURE.md, "Small modules"),
except those in :data:`EXCEPTIONS`, which may not grow: split one, then remove its entry."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 400

EXCEPTIONS: dict[str, int] = {
    # module: its length when listed (the most it may have); owner, who splits it
}
"""Modules over the limit today, with their current length; the integrator shrinks this."""


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_no_module_over_the_limit() -> None:
    too_long = []
    for path in sorted((ROOT / "dss").rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        allowed = max(LIMIT, EXCEPTIONS.get(name, 0))
        if _lines(path) > allowed:
            too_long.append(f"{name}: {_lines(path)} lines (at most {allowed}; split it into "
                            "modules with one job each)")
    assert not too_long, "\n".join(too_long)


def test_exceptions_are_still_needed() -> None:
    """An exception for a module that is gone or back under the limit is removed."""
    stale = [f"{name} ({'gone' if not (ROOT / name).is_file() else _lines(ROOT / name)})"
             for name in EXCEPTIONS
             if not (ROOT / name).is_file() or _lines(ROOT / name) <= LIMIT]
    assert not stale, f"remove from EXCEPTIONS in tests/test_module_size.py: {stale}"
