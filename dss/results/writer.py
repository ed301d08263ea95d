"""Atomic writing of a run folder: tidy CSV tables, a Markdown report and a manifest.

Everything is written into a temporary sibling folder first, then swapped into place with
renames, so a crash, Ctrl-C or SIGKILL never leaves a half-written run: either the previous
results or the new ones are there, complete.
"""

from __future__ import annotations

import hashlib
import logging
import os
import platform
import shutil
import sys
import time
import uuid
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from dss.errors import DssError

LOGGER = logging.getLogger(__name__)

FLOAT_FORMAT = "%.10g"
"""Fixed float formatting, so identical runs give identical bytes."""

MANIFEST = "manifest.yaml"

SLOW_WRITE_ENV = "DSS_TEST_SLOW_WRITE"
"""Test hook: seconds to sleep before each file of a run and between the two renames of the
swap, so that a test can kill a run mid-write (``tests/test_faults.py``). Unset normally."""


def _test_pause() -> None:
    """Sleep ``$DSS_TEST_SLOW_WRITE`` seconds if set (see :data:`SLOW_WRITE_ENV`)."""
    delay = os.environ.get(SLOW_WRITE_ENV)
    if delay:
        time.sleep(float(delay))


class OutputError(DssError):
    """The results folder cannot be written (a file in the way, no permission, full disk)."""

    exit_code = 2


def package_versions() -> dict[str, str]:
    """Versions of dss and the packages that shape its results."""
    versions = {"python": platform.python_version()}
    for pkg in ("dss", "pyomo", "highspy", "networkx", "pandas", "numpy", "pyyaml", "pydantic",
                "typer"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = "not installed"
    return versions


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write a table as UTF-8 CSV with fixed float formatting and Unix line endings.

    Floats inside text columns (e.g. the ``value`` column of ``summary.csv``, which mixes
    numbers and labels) get the same fixed format as float columns.
    """
    mixed = [c for c in frame.columns if frame[c].dtype == object]
    if mixed:
        frame = frame.copy()
        for c in mixed:
            frame[c] = [FLOAT_FORMAT % v if isinstance(v, float) and v == v else v
                        for v in frame[c]]  # NaN stays empty
    frame.to_csv(path, index=False, float_format=FLOAT_FORMAT, lineterminator="\n",
                 encoding="utf-8")


def make_manifest(kind: str, inputs: dict[str, str], config: dict[str, Any] | None,
                  extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The reproducibility record of one run."""
    manifest: dict[str, Any] = {
        "kind": kind,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": package_versions(),
        "platform": f"{platform.system()} {platform.machine()}",
        "command": " ".join(Path(a).name if i == 0 else a for i, a in enumerate(sys.argv)),
        "inputs_sha256": dict(sorted(inputs.items())),
        "config": config,
    }
    manifest.update(extra or {})
    return manifest


def write_run(target: Path, tables: dict[str, pd.DataFrame], manifest: dict[str, Any],
              texts: dict[str, str | bytes] | None = None) -> Path:
    """Write a complete run folder atomically, replacing any previous run at ``target``.

    Args:
        target: The final run folder, e.g. ``results/baoxing/baseline``.
        tables: File stem -> table; each becomes ``<stem>.csv``.
        manifest: Written to ``manifest.yaml`` with the hashes of the files written.
        texts: Extra files (name -> content), e.g. the Markdown report; text is written as
            UTF-8, bytes as they are (e.g. an Excel workbook).

    Returns:
        The run folder.
    """
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(f"cannot create the results folder {target.parent}: "
                          f"{err.strerror or err} (choose another --out)") from None
    clean_stale(target.parent, target.name)
    token = uuid.uuid4().hex[:8]
    staging = target.parent / f".{target.name}.tmp-{token}"
    staging.mkdir()
    try:
        outputs = {}
        for stem, frame in tables.items():
            path = staging / f"{stem}.csv"
            _test_pause()
            write_csv(frame, path)
            outputs[path.name] = file_sha256(path)
        for name, content in (texts or {}).items():
            path = staging / name
            _test_pause()
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
            outputs[name] = file_sha256(path)
        manifest = {**manifest, "outputs_sha256": dict(sorted(outputs.items()))}
        with open(staging / MANIFEST, "w", encoding="utf-8") as fh:
            yaml.safe_dump(manifest, fh, allow_unicode=True, sort_keys=False)
            fh.flush()
            os.fsync(fh.fileno())
        _swap_into_place(staging, target, token)
    except OSError as err:
        shutil.rmtree(staging, ignore_errors=True)
        raise OutputError(f"cannot write results to {target}: {err.strerror or err}; the "
                          "previous results there are unchanged") from err
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    LOGGER.info("wrote %s", target)
    return target


def _swap_into_place(staging: Path, target: Path, token: str) -> None:
    """Replace ``target`` by ``staging`` with two renames; the old run is removed last.

    If the second rename fails, the old run is moved back before the error propagates.
    """
    old = target.parent / f".{target.name}.old-{token}"
    moved = False
    if target.exists():
        os.rename(target, old)
        moved = True
    try:
        _test_pause()
        os.rename(staging, target)
    except BaseException:
        if moved and not target.exists():
            os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def clean_stale(parent: Path, name: str) -> None:
    """Clean up after a killed run of ``parent/name``: restore a moved-away old run and
    remove its staging folders (other runs' folders are left alone)."""
    if not parent.is_dir():
        return
    for path in parent.iterdir():
        if not path.name.startswith(f".{name}.tmp-") and \
                not path.name.startswith(f".{name}.old-"):
            continue
        if ".old-" in path.name:
            final = parent / path.name[1:].split(".old-")[0]
            if not final.exists():
                os.rename(path, final)
            else:
                shutil.rmtree(path, ignore_errors=True)
        elif path.name.startswith(".") and ".tmp-" in path.name:
            shutil.rmtree(path, ignore_errors=True)
