"""Atomic writing of a run folder: tidy CSV tables, a Markdown report and a manifest.

Everything is written into a temporary sibling folder first, then swapped into place with
renames, so a crash, Ctrl-C or SIGKILL never leaves a half-written run: either the previous
results or the new ones are there, complete.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import os
import platform
import shutil
import sys
import time
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from importlib import metadata
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from dss.errors import DssError
from dss.gis.plan_layers import PLAN_FILE, staged_plan
from dss.results.folders import (
    check_replaceable,
    clean_stale,
    folder_lock,
    staging_name,
    swap_into_place,
)

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
    """The results folder cannot be written (no permission, full disk): exit code 9."""

    exit_code = 9


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

    The bytes are exactly those of ``DataFrame.to_csv``, which is used for any table the
    fast path does not handle (see :func:`_fast_plan`); the fast path formats each row with
    one format string, about three times faster on large tables.
    """
    frame = _preformat(frame)
    plan = _fast_plan(frame, path)
    if plan is None:
        frame.to_csv(path, index=False, float_format=FLOAT_FORMAT, lineterminator="\n",
                     encoding="utf-8")
        return
    header, row_format, columns = plan
    _write_text(path, _csv_chunks(header, row_format, columns, len(frame)))


def _preformat(frame: pd.DataFrame) -> pd.DataFrame:
    """Format the floats inside object columns with :data:`FLOAT_FORMAT` (NaN stays empty).

    The column is reassigned from a list, so pandas infers its dtype again (e.g. ints with
    NaN become a float column); the written bytes depend on that, so keep it this way.
    """
    mixed = [c for c in frame.columns if frame[c].dtype == object]
    if mixed:
        frame = frame.copy()
        for c in mixed:
            frame[c] = [FLOAT_FORMAT % v if isinstance(v, float) and v == v else v
                        for v in frame[c]]  # NaN stays empty
    return frame


_CHUNK_ROWS = 100_000
"""Rows formatted and written at a time by the fast CSV path."""

_COMPRESSED_SUFFIXES = (".gz", ".bz2", ".zip", ".xz", ".zst", ".tar", ".tgz")
"""File names that ``to_csv`` would compress (``compression="infer"``): left to pandas."""

_TEXT_TYPES = frozenset({str, int, bool, float, type(None), type(pd.NA)})
"""Value types the fast path writes from object and text columns; others go to pandas."""


def _csv_quote_chars() -> str:
    """The characters that make :mod:`csv` (QUOTE_MINIMAL, ``lineterminator="\\n"``)
    quote a field, found by asking the module itself (they vary between Python versions)."""
    quote = ""
    for char in ',"\n\r\t\x0b\x0c\x00 ;':
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow([f"a{char}b", "c"])
        if buffer.getvalue() != f"a{char}b,c\n":
            quote += char
    return quote


_QUOTE_CHARS = _csv_quote_chars()


def _quote(field: str) -> str:
    """One field as :mod:`csv` writes it with QUOTE_MINIMAL and doubled quote characters."""
    if any(char in field for char in _QUOTE_CHARS):
        return '"' + field.replace('"', '""') + '"'
    return field


def _quote_all(fields: list[str]) -> list[str]:
    """:func:`_quote` of each field; one search of the joined column when none needs it."""
    joined = "".join(fields)
    if any(char in joined for char in _QUOTE_CHARS):
        return [_quote(field) for field in fields]
    return fields


def _text_fields(values: list[Any]) -> list[str] | None:
    """The CSV fields of an object or text column's values (missing values empty, ints
    and bools as ``str``), or None if a value is of a type left to pandas."""
    types = set(map(type, values))
    if not types <= _TEXT_TYPES:
        return None
    if types <= {str}:
        return values
    fields = []
    for value in values:
        kind = type(value)
        if kind is str:
            fields.append(value)
        elif kind is int or kind is bool:
            fields.append(str(value))
        elif kind is float and value == value:
            return None  # a number in a text column: _preformat leaves none
        else:
            fields.append("")  # None, NaN, pd.NA
    return fields


def _column_plan(column: pd.Series) -> tuple[str, list[Any]] | None:
    """A column's placeholder in the row format string and its values, or None if the fast
    path cannot reproduce ``to_csv`` for its dtype."""
    dtype = column.dtype
    if isinstance(dtype, np.dtype):
        if dtype == np.float64:
            values = column.tolist()
            missing = np.flatnonzero(np.isnan(column.to_numpy()))
            if not len(missing):
                return FLOAT_FORMAT, values
            fields = list(map(FLOAT_FORMAT.__mod__, values))
            for i in missing.tolist():
                fields[i] = ""
            return "%s", fields
        if dtype.kind in "iub":
            return "%s", column.tolist()
        if dtype.kind != "O":
            return None
    elif not isinstance(dtype, pd.StringDtype) and \
            not isinstance(column.array, (pd.arrays.IntegerArray, pd.arrays.BooleanArray)):
        return None
    fields = _text_fields(column.tolist())
    return None if fields is None else ("%s", _quote_all(fields))


def _fast_plan(frame: pd.DataFrame, path: Any) -> tuple[str, str, list[list[Any]]] | None:
    """Header line, row format string and column values for writing ``frame`` without
    ``to_csv``, or None to leave it to pandas.

    Pandas writes: frames with fewer than two columns (``csv`` quotes a lone empty field),
    labels that are not unique strings, dtypes other than float64, int, bool, object and
    text (nullable Int/boolean too), object values other than str, int, bool and missing,
    and targets other than a local file path (not compressed) or a buffered binary or
    text file object.
    """
    if not _plain_target(path) or frame.shape[1] < 2 or not frame.columns.is_unique:
        return None
    labels = list(frame.columns)
    if any(type(label) is not str for label in labels):
        return None
    placeholders, columns = [], []
    for _, column in frame.items():
        plan = _column_plan(column)
        if plan is None:
            return None
        placeholders.append(plan[0])
        columns.append(plan[1])
    return ",".join(_quote_all(labels)) + "\n", ",".join(placeholders) + "\n", columns


def _plain_target(path: Any) -> bool:
    """Whether ``path`` is a file object or a local path that ``to_csv`` would not compress."""
    if isinstance(path, (io.TextIOBase, io.BufferedIOBase)):
        return True
    if not isinstance(path, (str, os.PathLike)):
        return False
    name = os.fspath(path)
    return isinstance(name, str) and "://" not in name and \
        not name.lower().endswith(_COMPRESSED_SUFFIXES)


def _csv_chunks(header: str, row_format: str, columns: list[list[Any]],
                n_rows: int) -> Iterator[str]:
    """The CSV text: the header line, then :data:`_CHUNK_ROWS` formatted rows at a time."""
    yield header
    rows = zip(*columns, strict=True)
    for _ in range(0, n_rows, _CHUNK_ROWS):
        yield "".join(map(row_format.__mod__, islice(rows, _CHUNK_ROWS)))


def _write_text(path: Any, chunks: Iterable[str]) -> None:
    """Write text as UTF-8 to a path (no newline translation) or to a file object."""
    if isinstance(path, io.TextIOBase):
        for chunk in chunks:
            path.write(chunk)
    elif isinstance(path, io.BufferedIOBase):
        for chunk in chunks:
            path.write(chunk.encode("utf-8"))
    else:
        with open(os.path.expanduser(os.fspath(path)), "w", encoding="utf-8",
                  newline="") as fh:
            for chunk in chunks:
                fh.write(chunk)


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
              texts: dict[str, str | bytes] | None = None,
              kinds: tuple[str, ...] | None = None) -> Path:
    """Write a complete run folder atomically, replacing any previous run at ``target``.

    Args:
        target: The final run folder, e.g. ``results/baoxing/baseline``.
        tables: File stem -> table; each becomes ``<stem>.csv``.
        manifest: Written to ``manifest.yaml`` with the hashes of the files written.
        texts: Extra files (name -> content), e.g. the Markdown report; text is written as
            UTF-8, bytes as they are (e.g. an Excel workbook).
        kinds: Manifest kinds an existing ``target`` may hold (see
            :func:`dss.results.folders.check_replaceable`).

    Returns:
        The run folder.
    """
    with StagedRun(target, kinds) as run:
        for stem, frame in tables.items():
            run.table(stem, frame)
        for name, content in (texts or {}).items():
            run.file(name, content)
        return run.commit(manifest)


class StagedRun:
    """A run folder written file by file into a hidden staging folder beside ``target``,
    then swapped into place by :meth:`commit` (see :func:`write_run`).

    Use it as a context manager: leaving the block without :meth:`commit` (an error,
    Ctrl-C) removes the staging folder and leaves any previous run untouched. Files can be
    written while other work goes on (e.g. the large tables while the duals still solve).
    An existing ``target`` is replaced only if dss wrote it (:mod:`dss.results.folders`);
    the staging folder's name carries this process as its owner, so a concurrent run's
    cleanup never removes it.
    """

    def __init__(self, target: Path, kinds: tuple[str, ...] | None = None) -> None:
        self.target = Path(target)
        self.kinds = kinds
        self.outputs: dict[str, str] = {}
        self.staging: Path | None = None
        self._token = uuid.uuid4().hex[:8]
        self._committed = False

    def __enter__(self) -> StagedRun:
        check_replaceable(self.target, self.kinds)
        parent = self.target.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
            with folder_lock(parent):
                clean_stale(parent, self.target.name)
            staging = parent / staging_name(self.target.name, "tmp", self._token)
            staging.mkdir()
        except OSError as err:
            raise OutputError(f"cannot create the results folder {parent}: "
                              f"{err.strerror or err} (check its permissions and free space, "
                              "or choose another --out)") from None
        self.staging = staging
        return self

    def __exit__(self, kind: Any, error: BaseException | None, _tb: Any) -> bool:
        if not self._committed and self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
        if isinstance(error, OSError) and not isinstance(error, OutputError):
            raise OutputError(f"cannot write results to {self.target}: "
                              f"{error.strerror or error}; the previous results there are "
                              "unchanged") from error
        return False

    def _path(self, name: str) -> Path:
        if self.staging is None:
            raise RuntimeError("StagedRun used outside its `with` block")
        return self.staging / name

    def table(self, stem: str, frame: pd.DataFrame) -> None:
        """Write ``<stem>.csv`` (see :func:`write_csv`)."""
        path = self._path(f"{stem}.csv")
        _test_pause()
        write_csv(frame, path)
        self.outputs[path.name] = file_sha256(path)

    def file(self, name: str, content: str | bytes) -> None:
        """Write a text (UTF-8) or binary file."""
        path = self._path(name)
        _test_pause()
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        self.outputs[name] = file_sha256(path)

    def commit(self, manifest: dict[str, Any]) -> Path:
        """Write ``manifest.yaml`` (with every file's hash) and swap the run into place."""
        staging = self._path(MANIFEST).parent
        self._geometry(manifest)
        manifest = {**manifest, "outputs_sha256": dict(sorted(self.outputs.items()))}
        with open(staging / MANIFEST, "w", encoding="utf-8") as fh:
            yaml.safe_dump(manifest, fh, allow_unicode=True, sort_keys=False)
            fh.flush()
            os.fsync(fh.fileno())
        swap_into_place(staging, self.target, self._token, self.kinds, pause=_test_pause)
        self._committed = True
        LOGGER.info("wrote %s", self.target)
        return self.target

    def _geometry(self, manifest: dict[str, Any]) -> None:
        """Add ``plan.gpkg`` when the run's study has ``subunits.gpkg`` (see
        :mod:`dss.gis.plan_layers`; needs the ``gis`` extra)."""
        tables = [name for name in self.outputs if name.endswith(".csv")]
        if not tables or manifest.get("kind") == "import":
            return

        scratch = self._path(f".scratch-{PLAN_FILE}")
        content = staged_plan(self.target, manifest, [self._path(t) for t in tables], scratch)
        scratch.unlink(missing_ok=True)
        if content is not None:
            self.file(PLAN_FILE, content)
