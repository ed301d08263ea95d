"""The example studies that travel with the package (the Baoxing River basin).

In a built wheel the study's ``models/`` and ``inputs/baoxing/`` are copied into
``dss/bundled/`` (see ``setup.py``); in a source checkout or an editable install they are the
repository's own ``models/`` and ``inputs/``. Either way the model file's relative ``inputs``
path (``../inputs/baoxing``) holds, so ``dss solve`` works from any folder, and
:func:`copy_example` copies a study out for the user to edit.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from dss.errors import InputError, Issue, did_you_mean

EXAMPLES: dict[str, tuple[str, ...]] = {"baoxing": ("baoxing.yaml", "baoxing_park.yaml")}
"""Example studies: name -> model files (in ``models/``), whose inputs are copied with them."""


def bundled_root() -> Path | None:
    """The folder holding the bundled ``models/`` and ``inputs/``, or None if missing."""
    package = Path(__file__).resolve().parent
    for root in (package / "bundled", package.parent):
        if (root / "models" / "baoxing.yaml").is_file() and (root / "inputs").is_dir():
            return root
    return None


def bundled_model(name: str = "baoxing.yaml") -> Path | None:
    """Path of a bundled model file (e.g. ``baoxing.yaml``), or None."""
    root = bundled_root()
    path = root / "models" / name if root is not None else None
    return path if path is not None and path.is_file() else None


def copy_example(name: str, dest: Path | str) -> Path:
    """Copy an example study (its model files and input tables) into ``dest``.

    ``dest`` gets ``models/`` and ``inputs/<name>/``, the layout the model files expect.

    Returns:
        The main model file copied.

    Raises:
        InputError: for an unknown example, a missing bundle, or a ``dest`` that already
            holds the study.
    """
    if name not in EXAMPLES:
        hint = did_you_mean(name, EXAMPLES)
        known = ", ".join(EXAMPLES) + (f"; {hint}" if hint else "")
        raise InputError([Issue("dss example", f"unknown example {name!r} (known: {known})")],
                         "cannot copy the example")
    root = bundled_root()
    if root is None:
        raise InputError([Issue("dss example", "the bundled studies are not installed with "
                                               "this copy of dss (reinstall it with pip)")],
                         "cannot copy the example")
    dest = Path(dest)
    models = [root / "models" / f for f in EXAMPLES[name]]
    inputs_dirs = sorted({(m.parent / yaml.safe_load(m.read_text(encoding="utf-8"))["inputs"]
                           ).resolve() for m in models if m.is_file()})
    taken = [dest / "models" / m.name for m in models if (dest / "models" / m.name).exists()]
    taken += [dest / "inputs" / d.name for d in inputs_dirs if (dest / "inputs" / d.name).exists()]
    if taken:
        raise InputError([Issue(str(p), "already exists (choose an empty folder)")
                          for p in taken], "cannot copy the example")
    (dest / "models").mkdir(parents=True, exist_ok=True)
    for model in models:
        if model.is_file():
            shutil.copy2(model, dest / "models" / model.name)
    for folder in inputs_dirs:
        shutil.copytree(folder, dest / "inputs" / folder.name)
    return dest / "models" / EXAMPLES[name][0]


def missing_model_hint(model: Path) -> str:
    """What to do about a model file that does not exist: a close name in its folder, else
    the bundled study."""
    folder = model.parent if str(model.parent) else Path(".")
    if folder.is_dir():
        names = [p.name for p in folder.iterdir() if p.suffix in (".yaml", ".yml")]
        hint = did_you_mean(model.name, names)
        if hint:
            return f"{hint.rstrip('?')} in {folder}?" if str(folder) != "." else hint
        if names:
            return f"model files in {folder}: {', '.join(sorted(names)[:8])}"
    return ("run dss solve without a model file for the bundled Baoxing study, or copy it "
            "out with: dss example baoxing DIR")
