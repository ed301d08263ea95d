"""Error types and the located ``Issue`` record shared by every validation step.

Validation never raises at the first problem: each check appends ``Issue`` objects to a list,
and the caller raises one :class:`InputError` carrying all of them. The CLI prints them one per
line and exits non-zero without a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Issue:
    """One located problem in the user's input.

    Attributes:
        file: File name (or logical source) the problem is in.
        message: What is wrong, with what is allowed in brackets.
        row: 1-based data row number (the header is row 0), or None for whole-file problems.
        column: Column (or dotted YAML key) name, or None.
    """

    file: str
    message: str
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        parts = [self.file]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column {self.column}")
        return ", ".join(parts) + f": {self.message}"


class DssError(Exception):
    """Base class of every error dss reports to a user (never a bug)."""

    exit_code: int = 1


class InputError(DssError):
    """Invalid input data or configuration; carries every problem found."""

    exit_code = 2

    def __init__(self, issues: list[Issue], summary: str = "invalid input") -> None:
        self.issues = list(issues)
        self.summary = summary
        super().__init__(self.render())

    def render(self) -> str:
        """All issues, one per line, under a one-line summary."""
        n = len(self.issues)
        head = f"{self.summary}: {n} problem{'s' if n != 1 else ''} found"
        return "\n".join([head, *(f"  - {issue}" for issue in self.issues)])


class GraphError(InputError):
    """The river network is not a valid dendritic, acyclic drainage tree."""


class ComponentError(DssError):
    """A model component is misconfigured or unknown."""

    exit_code = 2


class SolveError(DssError):
    """The solver is missing, crashed, or returned no usable answer."""

    exit_code = 5
