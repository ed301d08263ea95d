"""The report of ``dss verify``: checks passed or failed, and the tolerances and number
formats shared by the checks (:mod:`dss.results.verify`, :mod:`dss.results.verify_plan`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dss.errors import DssError

REL_TOL = 1e-6
"""Relative tolerance of recomputed numbers (tables hold 10 significant digits)."""


class VerifyError(DssError):
    """A saved run does not match its inputs or its own tables."""

    exit_code = 8


@dataclass(frozen=True)
class Check:
    """One verification: its name, whether it passed, and what was found."""

    name: str
    ok: bool
    detail: str


@dataclass
class Verification:
    """The report of :func:`verify_run`."""

    folder: Path
    kind: str
    label: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every check passed."""
        return all(c.ok for c in self.checks)

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def add(self, name: str, problems: list[str], passed: str, limit: int = 8) -> None:
        """Record a check: passed (with ``passed`` as detail) if ``problems`` is empty."""
        if not problems:
            self.checks.append(Check(name, True, passed))
            return
        shown = problems[:limit]
        more = f" (and {len(problems) - limit} more)" if len(problems) > limit else ""
        self.checks.append(Check(name, False, "; ".join(shown) + more))


def close_enough(a: float, b: float, rel: float = REL_TOL, abs_: float = 1e-6) -> bool:
    """Whether two recomputed numbers agree (NaN only with NaN)."""
    if a is None or b is None or (isinstance(a, float) and math.isnan(a)):
        return a is b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a)
                          and math.isnan(b))
    return abs(a - b) <= max(abs_, rel * max(abs(a), abs(b)))


def as_number(text: Any) -> float | None:
    """A table cell as a number, or None."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value


def fmt10(x: float) -> str:
    """A number with the 10 significant digits the tables hold."""
    return f"{x:.10g}"
