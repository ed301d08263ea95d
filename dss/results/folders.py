"""Where results may be written, and the folder operations of an atomic run write.

Three promises live here:

- **Inside the results root.** :func:`run_folder` turns a study name and a run label into a
  folder ``<root>/<study>/<label>``. Both names must be plain (:mod:`dss.names`), and the
  resolved folder must lie inside the resolved root, or dss refuses (exit 2) before anything
  is solved or written.
- **Only dss's own folders are replaced.** :func:`check_replaceable` accepts a missing or
  empty folder, or one that carries dss's marker: a ``manifest.yaml`` written by dss. Anything
  else in the way is an error that names it.
- **Concurrent runs do not hurt each other.** Staging (``.<run>.tmp-<owner>-<token>``) and
  moved-aside (``.<run>.old-<owner>-<token>``) folders carry their owner: the process id and
  its start time. :func:`clean_stale` removes only those whose owner is gone, and the two
  renames of a swap (:func:`swap_into_place`) run under an exclusive lock on the study folder,
  so that of two simultaneous runs of one scenario both succeed and the last rename wins.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from dss.config.labels import set_label
from dss.errors import InputError, Issue
from dss.names import check_plain_name
from dss.safe_yaml import load_yaml

if TYPE_CHECKING:  # pragma: no cover
    from dss.config.loader import ResolvedModel

LOGGER = logging.getLogger(__name__)

MANIFEST = "manifest.yaml"
_MARKER_LIMIT = 64 * 1024 * 1024
"""Largest manifest read to recognise dss's marker."""


class UnsafePathError(InputError):
    """A results folder that would lie outside the results root, or replace a folder that
    dss did not write (exit code 2, nothing written)."""


def run_folder(root: Path | str, study: str, label: str, what: str = "run name",
               where: str = "--run-name") -> Path:
    """The run folder ``<root>/<study>/<label>``, checked to lie inside ``root``.

    Args:
        root: The results root (``--out``; ``results`` by default).
        study: The study name (the model's ``name``).
        label: The run label: a scenario key, ``a+b``, a ``--run-name`` or a folder name
            made from a command's options.
        what: What ``label`` is, for the message.
        where: Where ``label`` comes from (an option or a file), for the message.

    Raises:
        UnsafePathError: naming the offending name and the rule.
    """
    issues = check_plain_name(study, "study name", "model file", column="name")
    issues += check_plain_name(label, what, where)
    if issues:
        raise UnsafePathError(issues, "unsafe results folder")
    base = Path(root).resolve()
    folder = (base / study / label).resolve()
    if not folder.is_relative_to(base) or folder.parent.parent != base:
        raise UnsafePathError([Issue(str(Path(root) / study / label),
                                     f"resolves to {folder}, outside the results root {base} "
                                     "(a link inside the results folder points elsewhere; "
                                     "remove it or choose another --out)")],
                              "unsafe results folder")
    return Path(root) / study / label


def run_label(scenario: str, sets: list[str] | None = None,
              run_name: str | None = None) -> str:
    """The folder name of a run: ``run_name`` if given, else the scenario label, with the
    overrides when ``--set`` was used (``base+budget.total=3e7``, or ``+set-<hash>`` for
    overrides that are not plain text; see :func:`dss.config.labels.set_label`), so that
    trying an override never replaces a scenario's results."""
    if run_name:
        return run_name
    if not sets:
        return scenario

    return f"{scenario}+{set_label(sets)}"


def dss_kind(folder: Path) -> str | None:
    """The ``kind`` of a folder that carries dss's marker (``solve``, ``compare``...), or
    None. The marker is a ``manifest.yaml`` that dss wrote: a mapping with a ``kind`` and
    dss's version under ``versions`` (read with the bounded loader: a hostile manifest
    cannot hang this check)."""
    path = folder / MANIFEST
    try:
        if path.stat().st_size > _MARKER_LIMIT:
            return None
        manifest = load_yaml(path.read_text(encoding="utf-8"), str(path))
    except (OSError, UnicodeDecodeError, ValueError, InputError, yaml.YAMLError):
        return None
    if not isinstance(manifest, dict):
        return None
    kind, versions = manifest.get("kind"), manifest.get("versions")
    if isinstance(kind, str) and isinstance(versions, dict) and "dss" in versions:
        return kind
    return None


def check_replaceable(target: Path, kinds: tuple[str, ...] | None = None) -> None:
    """Refuse to replace a folder that dss did not write.

    Args:
        target: The folder a run is about to be swapped into.
        kinds: Accepted manifest kinds (any dss kind when None), e.g. ``("compare",)``:
            ``dss compare --out`` replaces only an earlier comparison.

    Raises:
        UnsafePathError: naming the folder and how to proceed.
    """
    if not target.exists() and not target.is_symlink():
        return
    if target.is_symlink() or not target.is_dir():
        raise UnsafePathError([Issue(str(target), "exists and is not a folder that dss wrote "
                                                  "(a file or a link); move it away or choose "
                                                  "another name or --out")],
                              "will not replace it")
    kind = dss_kind(target)
    if kind is not None and (kinds is None or kind in kinds):
        return
    with contextlib.suppress(OSError):
        if not any(target.iterdir()):
            return
    if kinds is not None:
        what = f"not an earlier {' or '.join(_KIND_NAMES.get(k, k) for k in kinds)}"
    else:
        what = "not a folder that dss wrote (it has no dss manifest.yaml)"
    raise UnsafePathError([Issue(str(target), f"exists and is {what}; dss replaces the whole "
                                              "folder it writes and never one it did not "
                                              "make, so choose a new or empty folder, or move "
                                              "this one away")], "will not replace it")


_KIND_NAMES = {"compare": "comparison", "workplan": "work plan", "coordination": "coordination"}


# --- owners of staging folders ---------------------------------------------------------------


def _start_time(pid: int) -> str | None:
    """A process's start time in clock ticks since boot (Linux), or None where unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return None
    fields = stat[stat.rfind(b")") + 2:].split()
    return fields[19].decode() if len(fields) > 19 else None


def owner_tag() -> str:
    """This process's owner tag, ``<pid>-<start time>``, for staging folder names."""
    pid = os.getpid()
    return f"{pid}-{_start_time(pid) or 0}"


def owner_alive(tag: str) -> bool:
    """Whether the process named by an owner tag still runs (the same process, not a later
    one that reuses its id). An unreadable tag counts as alive: it is left alone."""
    pid_text, _, start = tag.partition("-")
    if not pid_text.isdigit():
        return True
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    now = _start_time(pid)
    return now is None or start in ("", "0") or now == start


def staging_name(name: str, stage: str, token: str) -> str:
    """``.<name>.<stage>-<owner>-<token>`` with ``stage`` ``tmp`` or ``old``."""
    return f".{name}.{stage}-{owner_tag()}-{token}"


def _owner_of(entry: str, name: str, stage: str) -> str | None:
    """The owner tag in a staging folder name of run ``name``, or None if it is not one."""
    prefix = f".{name}.{stage}-"
    if not entry.startswith(prefix):
        return None
    parts = entry[len(prefix):].split("-")
    return "-".join(parts[:2]) if len(parts) >= 3 else ""


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """An exclusive advisory lock on a folder (POSIX ``flock`` on the folder itself; no
    lock file is left behind). Where ``flock`` is not available it does nothing."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def clean_stale(parent: Path, name: str) -> None:
    """Clean up after killed runs of ``parent/name``: restore a moved-aside old run and
    remove staging folders, but only those whose owner process is gone (a live run's
    folders, and other runs' folders, are left alone)."""
    if not parent.is_dir():
        return
    for path in parent.iterdir():
        for stage in ("tmp", "old"):
            owner = _owner_of(path.name, name, stage)
            if owner is None or owner_alive(owner):
                continue
            if stage == "old" and not (parent / name).exists():
                LOGGER.warning("restoring %s, moved aside by a run that was killed",
                               parent / name)
                os.rename(path, parent / name)
            else:
                shutil.rmtree(path, ignore_errors=True)


def swap_into_place(staging: Path, target: Path, token: str,
                    kinds: tuple[str, ...] | None = None, pause=None) -> None:
    """Replace ``target`` by ``staging`` with two renames under the study folder's lock; the
    old run is removed last, after the lock is released.

    If the second rename fails, the old run is moved back before the error propagates.

    Args:
        staging: The complete staging folder.
        target: The run folder.
        token: This write's token (names the moved-aside folder).
        kinds: Manifest kinds ``target`` may hold (see :func:`check_replaceable`).
        pause: Test hook called between the renames.
    """
    old = target.parent / staging_name(target.name, "old", token)
    moved = False
    with folder_lock(target.parent):
        check_replaceable(target, kinds)  # again: something may have appeared meanwhile
        if target.exists():
            os.rename(target, old)
            moved = True
        try:
            if pause is not None:
                pause()
            os.rename(staging, target)
        except BaseException:
            if moved and not target.exists():
                os.rename(old, target)
            raise
    shutil.rmtree(old, ignore_errors=True)


def locations(resolved: ResolvedModel, folder: Path) -> dict[str, str]:
    """Where a run's model file and input tables are, relative to its run folder.

    Recorded in the manifest as ``model_file`` and ``inputs_dir`` (POSIX paths relative to the
    run folder, so a results tree moved together with its study still resolves), for tools
    that read a run folder later (``dss plot``, ``dss compare``). A path that cannot be made
    relative (another drive) is recorded absolute.
    """
    def rel(path: Path) -> str:
        try:
            return Path(os.path.relpath(path.resolve(), Path(folder).resolve())).as_posix()
        except ValueError:
            return path.resolve().as_posix()

    return {"model_file": rel(resolved.path), "inputs_dir": rel(resolved.inputs_dir)}
