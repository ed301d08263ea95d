"""Shared pytest hooks."""

from __future__ import annotations

import sys


def pytest_terminal_summary(terminalreporter) -> None:
    """Report how many generated fuzz cases ran, their outcomes and time (tests/test_fuzz.py,
    tests/test_fuzz_baoxing.py)."""
    for module in list(sys.modules.values()):
        stats = vars(module).get("FUZZ_STATS") if hasattr(module, "__dict__") else None
        if not isinstance(stats, dict) or not (stats.get("baseline") or stats.get("solve")):
            continue
        total = stats["baseline"] + stats["solve"]
        outcomes = ", ".join(f"{k}: {v}" for k, v in sorted(stats["outcomes"].items()))
        terminalreporter.write_line(
            f"fuzz ({stats.get('label', module.__name__)}): {total} generated cases "
            f"({stats['baseline']} baseline, {stats['solve']} solve, each after dss validate, "
            f"which agreed every time) in {stats['seconds']:.1f} s ({stats['cpu']:.1f} s CPU); "
            f"{outcomes}")
