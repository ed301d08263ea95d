"""A Marxan ``input.dat`` as a ``kind: planning`` model: ``dss solve path/to/input.dat``.

The model is the one a user would write by hand (see README, "Marxan projects")::

    name: <project folder>
    kind: planning
    inputs: .
    planning: {source: marxan, marxan: input.dat}

so the problem, the run folder and the manifest are exactly those of that model file.
Light on purpose: :mod:`dss.config.loader` calls it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from dss.names import plain_name_problem

MARXAN_SUFFIX = ".dat"
"""A model path ending in this is a Marxan ``input.dat``."""


def is_marxan_input(path: Path) -> bool:
    """Whether a model path names a Marxan ``input.dat`` (any ``*.dat`` file)."""
    return path.suffix.lower() == MARXAN_SUFFIX


def marxan_model(path: Path) -> dict[str, Any]:
    """The model mapping of a Marxan project: named after its folder (made a plain name),
    inputs in that folder, solved exactly with the project's BLM."""
    folder = path.resolve().parent
    name = re.sub(r"[^\w.+=-]", "_", folder.name).lstrip(".") or "marxan"
    if plain_name_problem(name) is not None:
        name = "marxan"
    return {"name": name, "kind": "planning", "inputs": ".",
            "planning": {"source": "marxan", "marxan": path.name}}
