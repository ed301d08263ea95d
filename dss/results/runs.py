"""Reading a written run folder back: its manifest, its result tables and its study inputs.

``dss compare`` and ``dss plot`` work from run folders (``results/<study>/<scenario>/``), not
from a live solve, so that a policymaker can compare and draw runs made earlier, elsewhere or
by someone else. Every problem is reported as a located :class:`~dss.errors.InputError`
(exit code 2), never as a traceback.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from dss.data.study import load_study
from dss.errors import DssError, InputError, Issue
from dss.safe_yaml import load_yaml

LOGGER = logging.getLogger(__name__)

MANIFEST = "manifest.yaml"
RESULT_TABLES: tuple[str, ...] = ("summary", "allocation", "subunits", "control_points",
                                  "species", "shortfalls", "barriers")
"""Result tables read back from a solve run (those present; only ``summary`` is required)."""


class MissingDependencyError(DssError):
    """An optional package (the ``report`` extra) is needed but not installed."""

    exit_code = 2


def require(module: str, feature: str) -> Any:
    """Import an optional dependency, or explain how to install it.

    Args:
        module: Module to import, e.g. ``"openpyxl"``.
        feature: What needs it, for the message, e.g. ``"dss compare (Excel workbook)"``.

    Raises:
        MissingDependencyError: naming the ``dss[report]`` extra.
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        package = module.split(".")[0]
        raise MissingDependencyError(
            f"{feature} needs the Python package {package!r}, which is not installed: "
            f"install dss[report] (python -m pip install \"dss[report]\", or from a clone "
            f"python -m pip install -e \".[report]\")") from None


@dataclass
class RunFolder:
    """A run folder read back from disk.

    Attributes:
        folder: The run folder.
        manifest: The parsed ``manifest.yaml``.
        tables: Result tables present in the folder, by file stem.
    """

    folder: Path
    manifest: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """Scenario label: the manifest's ``scenario`` (the folder name if absent)."""
        return str(self.manifest.get("scenario") or self.folder.name)

    @property
    def config(self) -> dict[str, Any]:
        """The resolved model configuration recorded in the manifest."""
        config = self.manifest.get("config")
        return config if isinstance(config, dict) else {}

    @property
    def study(self) -> str:
        """Study name (the model's ``name``)."""
        return str(self.config.get("name") or self.folder.parent.name)

    @property
    def title(self) -> str:
        """Study title for display (the study name if the model has no title)."""
        return str(self.config.get("title") or self.study)

    @property
    def kind(self) -> str:
        """``solve`` or ``baseline``."""
        return str(self.manifest.get("kind") or "")

    @property
    def status(self) -> str:
        """Solver status (``optimal``, ``infeasible``, ...)."""
        solver = self.manifest.get("solver")
        if isinstance(solver, dict) and solver.get("status"):
            return str(solver["status"])
        return str(self.summary_value("status") or "unknown")

    @property
    def has_plan(self) -> bool:
        """Whether the run wrote a plan (an allocation table)."""
        return "allocation" in self.tables

    @property
    def description(self) -> str:
        """Description of the run's scenario(s) from the model file, if any."""
        scenarios = self.config.get("scenarios")
        if not isinstance(scenarios, dict):
            return ""
        texts = []
        for part in self.name.split("+"):
            entry = scenarios.get(part)
            if isinstance(entry, dict) and entry.get("description"):
                texts.append(" ".join(str(entry["description"]).split()))
        return " ".join(texts)

    def summary_value(self, metric: str) -> Any:
        """One value of ``summary.csv`` (None if absent)."""
        summary = self.tables.get("summary")
        if summary is None:
            return None
        rows = summary.loc[summary["metric"] == metric, "value"]
        return rows.iloc[0] if len(rows) else None

    def inputs_dir(self) -> Path | None:
        """The study's input folder, or None if it cannot be found.

        Uses the manifest's ``inputs_dir`` (relative to the run folder, written since dss 0.1
        by ``dss solve`` and ``dss baseline``). For older runs it looks for the model's
        ``inputs`` folder next to the usual model folders (``models/`` in the current folder or
        beside ``results/``) and accepts a candidate only if its ``subunits.csv`` has the hash
        recorded in the manifest.
        """
        recorded = self.manifest.get("inputs_dir")
        if isinstance(recorded, str) and recorded:
            path = Path(recorded)
            path = path if path.is_absolute() else (self.folder / path)
            if path.is_dir():
                return path.resolve()
            LOGGER.warning("%s: the inputs folder recorded in the manifest (%s) does not exist",
                           self.folder, recorded)
        inputs = self.config.get("inputs")
        if not isinstance(inputs, str):
            return None
        want = (self.manifest.get("inputs_sha256") or {}).get("inputs/subunits.csv")
        roots = [Path.cwd() / "models", Path.cwd()]
        parents = self.folder.resolve().parents
        if len(parents) > 2:
            roots += [parents[2] / "models", parents[2]]
        for root in roots:
            candidate = root / inputs
            subunits = candidate / "subunits.csv"
            if subunits.is_file() and want and _sha256(subunits) == want:
                LOGGER.info("%s: found the study inputs at %s by their hash", self.folder,
                            candidate)
                return candidate.resolve()
        return None

    def inputs_changed(self, inputs_dir: Path) -> list[str]:
        """Input tables whose hash differs from the one recorded at run time."""
        recorded = self.manifest.get("inputs_sha256") or {}
        changed = []
        for key, digest in recorded.items():
            if not str(key).startswith("inputs/"):
                continue
            path = inputs_dir / str(key).removeprefix("inputs/")
            if not path.is_file() or _sha256(path) != digest:
                changed.append(path.name)
        return changed


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _not_a_run(folder: Path, message: str) -> InputError:
    return InputError([Issue(str(folder), message)], "not a dss run folder")


def read_run(folder: Path | str, kinds: tuple[str, ...] = ("solve",)) -> RunFolder:
    """Read a run folder: its manifest and every result table present.

    Args:
        folder: A folder written by ``dss solve`` (``results/<study>/<scenario>``).
        kinds: Accepted manifest kinds.

    Raises:
        InputError: located at the folder or file, if it is not a readable run of an
            accepted kind.
    """
    folder = Path(folder)
    if not folder.exists():
        raise _not_a_run(folder, "folder not found (pass a run folder such as "
                                 "results/baoxing/base, written by dss solve)")
    if not folder.is_dir():
        raise _not_a_run(folder, "not a folder (pass a run folder such as results/baoxing/base, "
                                 "not a file in it)")
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise _not_a_run(folder, f"no {MANIFEST}: not a dss run folder (pass a folder written "
                                 "by dss solve, e.g. results/baoxing/base)")
    try:
        manifest = load_yaml(manifest_path.read_text(encoding="utf-8"), str(manifest_path))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise InputError([Issue(str(manifest_path), f"cannot read the manifest ({_first(err)})")],
                         "not a dss run folder") from None
    if not isinstance(manifest, dict) or "kind" not in manifest:
        raise InputError([Issue(str(manifest_path), "not a dss manifest (no `kind`)")],
                         "not a dss run folder")
    run = RunFolder(folder, manifest)
    if run.kind not in kinds:
        raise _not_a_run(folder, f"is a {run.kind or 'unknown'} run (this command needs a "
                                 f"{' or '.join(kinds)} run, written by dss {kinds[0]})")
    issues = []
    for stem in RESULT_TABLES:
        path = folder / f"{stem}.csv"
        if not path.is_file():
            continue
        try:
            table = pd.read_csv(path, encoding="utf-8", keep_default_na=False, na_values=[""])
        except (OSError, UnicodeDecodeError, ValueError) as err:
            issues.append(Issue(str(path), f"cannot read the table ({_first(err)})"))
            continue
        run.tables[stem] = table
    if "summary" not in run.tables and not issues:
        issues.append(Issue(str(folder), "summary.csv is missing (the run folder is "
                                         "incomplete; solve the scenario again)"))
    if issues:
        raise InputError(issues, "cannot read run folder")
    summary = run.tables["summary"]
    missing = {"metric", "value", "unit"} - set(summary.columns)
    if missing:
        raise InputError([Issue(str(folder / "summary.csv"), f"missing columns "
                                f"{', '.join(sorted(missing))} (not a dss summary table)")],
                         "cannot read run folder")
    summary["value"] = summary["value"].map(_number_or_text)
    return run


def _number_or_text(value: Any) -> Any:
    """A summary value as a float when it is numeric, else unchanged text."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _first(err: BaseException) -> str:
    """The first line of an error message."""
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


def load_run_study(run: RunFolder, inputs_dir: Path | None = None):
    """Load the study inputs of a run (validated), for names and the river network.

    Args:
        run: The run folder.
        inputs_dir: Input folder to use instead of the one recorded in the manifest.

    Returns:
        The :class:`~dss.data.study.Study`.

    Raises:
        InputError: if the inputs cannot be found or are invalid now.
    """
    folder = Path(inputs_dir) if inputs_dir is not None else run.inputs_dir()
    if folder is None:
        raise InputError([Issue(str(run.folder / MANIFEST),
                                "cannot find the study's input tables (the manifest records "
                                "no inputs_dir; pass --inputs DIR, or solve the scenario again)")],
                         "cannot locate the study inputs")
    if not folder.is_dir():
        raise InputError([Issue(str(folder), "inputs folder not found")],
                         "cannot locate the study inputs")
    changed = run.inputs_changed(folder)
    if changed:
        LOGGER.warning("%s: input tables changed since the run (%s); names and the network "
                       "are read from the current files", run.folder, ", ".join(changed))
    settings = run.config.get("settings") if isinstance(run.config.get("settings"), dict) else {}
    tolerance = settings.get("area_tolerance")
    if isinstance(tolerance, int | float):
        return load_study(folder, run.study, float(tolerance))
    return load_study(folder, run.study)
