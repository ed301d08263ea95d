"""Names that become part of a path: one rule, checked in one place.

A study name, a scenario key, a run name (``--run-name``), and the folder names that
``dss sweep``, ``dss frontier`` and ``dss compare`` make from their options all end up as a
folder under the results root. A name taken from a model file or an option must never reach
outside that root, replace the root itself or hide a folder, so every such name is a *plain
name*:

- letters of any script (Chinese included), digits, ``_``, ``-``, ``+``, ``.`` and ``=``
  (``=`` lets a ``--set`` run be named after its override, e.g. ``base+budget.total=3e7``);
- not ``.`` or ``..``, not starting with ``.`` (a hidden folder, the form of dss's own
  staging folders), no separator, no drive, at most :data:`MAX_NAME_LENGTH` characters.

This module is the lowest layer (it imports only :mod:`dss.errors`), so the model schema,
the run writers and the CLI all use the same rule.
"""

from __future__ import annotations

import unicodedata

from dss.errors import InputError, Issue

MAX_NAME_LENGTH = 120
"""Longest plain name (file systems allow 255 bytes; a Chinese character takes 3)."""

_PUNCTUATION = frozenset("_-+.=")
PLAIN_NAME_RULE = ("a plain name: letters (any script), digits, _ - + . =, not starting with "
                   f"'.', at most {MAX_NAME_LENGTH} characters, no / or \\")
"""The rule, as messages state it."""


def plain_name_problem(name: object) -> str | None:
    """Why ``name`` is not a plain name, or None when it is one.

    Args:
        name: The candidate (anything a YAML file or option may hold).
    """
    if not isinstance(name, str):
        return f"must be text, not {type(name).__name__}"
    if not name:
        return "is empty"
    if len(name) > MAX_NAME_LENGTH:
        return f"is {len(name)} characters long (at most {MAX_NAME_LENGTH})"
    if "/" in name or "\\" in name:
        return "contains a path separator (give a name, not a path)"
    if name in {".", ".."}:
        return "names the results folder itself or its parent, not a new folder"
    if name.startswith("."):
        return "starts with '.' (a hidden folder)"
    for char in name:
        if char in _PUNCTUATION:
            continue
        category = unicodedata.category(char)
        if category[0] == "L" or category == "Nd" or category[0] == "M":
            continue  # letters, digits and combining marks of any script
        if char == ":":
            return "contains ':' (a drive or stream separator on Windows)"
        if char.isspace():
            return "contains a space (use _ or - instead)"
        return f"contains {char!r}"
    return None


def check_plain_name(name: object, what: str, where: str = "",
                     row: int | None = None, column: str | None = None) -> list[Issue]:
    """Issues (none or one) for a name that will become a folder.

    Args:
        name: The name.
        what: What it names, for the message (``run name``, ``scenario key``).
        where: The file or option it comes from (``--run-name``, ``baoxing.yaml``).
        row: Line of a YAML file, if known.
        column: Key in the file, if any.
    """
    problem = plain_name_problem(name)
    if problem is None:
        return []
    return [Issue(where or what, f"{what} {name!r} {problem}; it must be {PLAIN_NAME_RULE}",
                  row, column)]


def require_plain_name(name: object, what: str, where: str = "") -> str:
    """``name`` if it is a plain name.

    Raises:
        InputError: naming the option or file and the rule.
    """
    issues = check_plain_name(name, what, where)
    if issues:
        raise InputError(issues, "unsafe name")
    return str(name)
