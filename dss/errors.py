"""Error types and the located ``Issue`` record shared by every validation step.

Validation never raises at the first problem: each check appends ``Issue`` objects to a list,
and the caller raises one :class:`InputError` carrying all of them. The CLI prints them one per
line and exits non-zero without a traceback.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass

YAML_SUFFIXES: tuple[str, ...] = (".yaml", ".yml")
"""File name endings whose issues are located by line and key rather than row and column."""


@dataclass(frozen=True, slots=True)
class Issue:
    """One located problem in the user's input.

    Rendered as ``file, row N, column C: message``. In a YAML file (name ending in ``.yaml`` or
    ``.yml``) the row is a line and the column a dotted key: ``file, line N, key K: message``.

    Attributes:
        file: File name (or logical source) the problem is in.
        message: What is wrong, with what is allowed in brackets.
        row: Spreadsheet row number (the header is row 1, the first data row is row 2); the
            line number in a YAML file; None for whole-file problems.
        column: Column name (the dotted key in a YAML file), or None.
    """

    file: str
    message: str
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        yaml_file = self.file.lower().endswith(YAML_SUFFIXES)
        parts = [self.file]
        if self.row is not None:
            parts.append(f"{'line' if yaml_file else 'row'} {self.row}")
        if self.column is not None:
            parts.append(f"{'key' if yaml_file else 'column'} {self.column}")
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
        return "\n".join([head, *(f"  - {_one_line(str(issue))}" for issue in self.issues)])


def _one_line(text: str) -> str:
    """Fold line breaks (e.g. from a parser's message) so each issue stays on one line."""
    return re.sub(r"\s*\n\s*", " ", text.strip())


def did_you_mean(word: object, choices: Iterable[object], quote: bool = False) -> str:
    """``"did you mean X?"`` for the choice closest to ``word`` (case-insensitive), or ``""``.

    Args:
        word: The unknown name the user wrote.
        choices: The known names.
        quote: Show the suggestion in quotes (for values; column and key names are bare).
    """
    if not isinstance(word, str) or not word:
        return ""
    known = {str(c).lower(): str(c) for c in choices if isinstance(c, str) and c}
    match = known.get(word.lower())
    if match is None:
        close = difflib.get_close_matches(word.lower(), list(known), n=1, cutoff=0.75)
        match = known[close[0]] if close else None
    if match is None or match == word:
        return ""
    return f"did you mean {match!r}?" if quote else f"did you mean {match}?"


class GraphError(InputError):
    """The river network is not a valid dendritic, acyclic drainage tree."""


class ComponentError(DssError):
    """A model component is misconfigured or unknown."""

    exit_code = 2


class SolveError(DssError):
    """The solver is missing, crashed, or returned no usable answer."""

    exit_code = 5
