"""Readable names for runs made with ``--set`` overrides."""

from __future__ import annotations

import hashlib
import re

SET_LABEL_CHARS = re.compile(r"[^\W]|[-+.=]")
"""Characters a readable ``--set`` run name keeps: letters of any script, digits, ``_ - + . =``."""

MAX_SET_LABEL = 80
"""Longest readable ``--set`` part of a run name; longer ones use a hash."""


def set_label(sets: list[str]) -> str:
    """The part of a run name that says which ``--set`` overrides made it.

    ``components.budget.total=3e7`` gives ``budget.total=3e7`` (several are joined with
    ``+``). An override whose text holds other characters (spaces, ``/``, ``:``, brackets)
    or a label longer than :data:`MAX_SET_LABEL` gives ``set-<hash>`` instead.
    """
    parts = [s.strip().removeprefix("components.") for s in sets]
    text = "+".join(parts)
    if text and len(text) <= MAX_SET_LABEL and all(SET_LABEL_CHARS.fullmatch(c) for c in text) \
            and not text.startswith("."):
        return text
    return "set-" + hashlib.sha256("\n".join(sets).encode("utf-8")).hexdigest()[:8]
