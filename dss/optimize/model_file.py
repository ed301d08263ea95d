"""``dss solve --write-model FILE``: the exact model dss hands HiGHS, written to MPS or LP.

Anyone can then repeat a timing comparison with HiGHS alone (``benchmarks/bench_perf.py``
does): a process that imports only ``highspy``, reads the file and runs it with the options
of :func:`dss.optimize.solve.highs_options` solves the same matrix, bounds, integrality,
objective and offset that ``dss solve`` solves.

The file is requested for the duration of a ``with writing_model(path):`` block; the main
solve (:func:`dss.optimize.solve.solve_built`) calls :func:`write_requested` with its HiGHS
instance once the model is loaded. The file is written from a copy of that instance (HiGHS
names unnamed rows and columns when it writes, and the solved instance stays untouched),
with HiGHS's own writer (``writeModel``): rows are named ``r<i>`` and columns ``c<j>`` in
the order of :class:`dss.optimize.matrix.MatrixModel`.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dss.errors import DssError, InputError, Issue
from dss.optimize.highs import load, new_highs

LOGGER = logging.getLogger(__name__)

SUFFIXES = (".mps", ".lp")
"""File kinds HiGHS writes (chosen by the file's suffix)."""

_REQUEST: contextvars.ContextVar[dict | None] = contextvars.ContextVar("dss_write_model",
                                                                      default=None)


class ModelFileError(DssError):
    """The model file cannot be written (no permission, full disk): exit code 9, as for
    a results folder."""

    exit_code = 9


def check_model_path(path: Path) -> Path:
    """The model file to write, checked before anything is solved.

    Raises:
        InputError: for a suffix HiGHS cannot write or a folder that does not exist.
    """
    path = Path(path)
    issues = []
    if path.suffix.lower() not in SUFFIXES:
        issues.append(Issue("--write-model", f"{path}: the file name must end in .mps or "
                                             ".lp (the format is chosen by the suffix)"))
    if not path.parent.is_dir():
        issues.append(Issue("--write-model", f"{path}: folder {path.parent} does not exist "
                                             "(create it first)"))
    elif path.is_dir():
        issues.append(Issue("--write-model", f"{path} is a folder (give a file name)"))
    if issues:
        raise InputError(issues, "cannot write the model")
    return path


@contextlib.contextmanager
def writing_model(path: Path | None) -> Iterator[dict]:
    """Within the block, the main solve writes its HiGHS model to ``path`` (None: no file).

    Yields a record whose ``written`` entry tells whether the file was written.
    """
    record = {"path": None if path is None else Path(path), "written": False}
    token = _REQUEST.set(record if path is not None else None)
    try:
        yield record
    finally:
        _REQUEST.reset(token)


def write_requested(highs: Any) -> None:
    """Write ``highs``'s model to the requested file, if one is requested (once).

    Raises:
        ModelFileError: if HiGHS cannot write the file.
    """
    record = _REQUEST.get()
    if record is None or record["written"]:
        return
    path: Path = record["path"]
    copy = new_highs()  # output off: nothing reaches the run's solver.log
    load(copy, highs.getModel())  # the one loader of dss (optimize/highs.py)
    status = copy.writeModel(str(path))
    if "kError" in str(status):
        raise ModelFileError(f"cannot write the model to {path} (check the folder's "
                             "permissions and free space)")
    record["written"] = True
    LOGGER.info("model written to %s", path)
