"""Re-check a saved run folder against its inputs (``dss verify RUN_DIR``).

A run folder's ``manifest.yaml`` records the SHA-256 of every file written and of every
input read, where the model file and the input tables are (relative to the run folder), and
the resolved configuration (scenario overrides and ``--set`` values applied). From these,
:func:`verify_run` checks, and reports each check as passed or failed:

1. **outputs**: every file listed in the manifest is there with the recorded hash (a
   hand-edited table fails here first);
2. **inputs**: the model file and every input table still have the recorded hashes (no
   table added or removed since);
3. for a solve, the model is rebuilt from the recorded configuration and the current
   inputs, and the plan in ``allocation.csv`` is checked against it:

   - **allocation**: every row names a possible option, amounts within capacity, whole
     numbers for whole-unit actions, and its cost column recomputed;
   - **constraints**: every constraint of the model (budget, land and resource capacity,
     zone rules, locks, equity, load limits, targets, mass balance) holds for the plan;
   - **spend**: the total and per-agency spend recomputed from the plan, against the
     budget and ``summary.csv``;
   - **routed loads**: the loads at every control point recomputed from the plan with
     :mod:`dss.network.routing` (independently of the optimizer's expressions), against
     ``control_points.csv`` and the limits;
   - **habitat**: the gain per species recomputed, against ``species.csv``;
   - **objective**: the objective recomputed from the plan, against ``summary.csv`` and the
     manifest;
4. for a baseline, every table recomputed from the current inputs, byte for byte.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from dss.config.loader import ResolvedModel
from dss.config.model import ModelConfig
from dss.data.schema import TABLES
from dss.data.study import load_study
from dss.errors import DssError, InputError, Issue
from dss.indicators.baseline import compute_baseline
from dss.optimize.build import compile_problem
from dss.optimize.problem import Problem
from dss.results.verify_plan import check_plan
from dss.results.verify_report import REL_TOL, Check, Verification, VerifyError
from dss.results.writer import MANIFEST, file_sha256, write_csv
from dss.safe_yaml import load_yaml

__all__ = ["REL_TOL", "Check", "Verification", "VerifyError", "read_manifest", "verify_run"]


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of a run folder.

    Raises:
        InputError: if the folder or its manifest is missing or unreadable.
    """
    path = folder / MANIFEST
    if not folder.is_dir():
        raise InputError([Issue(str(folder), "run folder not found (give a folder written by "
                                             "dss solve or dss baseline, e.g. "
                                             "results/baoxing/base)")], "cannot verify")
    if not path.is_file():
        raise InputError([Issue(str(path), "no manifest.yaml: not a run folder written by dss "
                                           "(or an incomplete copy of one)")], "cannot verify")
    try:
        data = load_yaml(path.read_text(encoding="utf-8"), str(path))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise InputError([Issue(str(path), f"cannot read the manifest ({err})")],
                         "cannot verify") from None
    if not isinstance(data, dict):
        raise InputError([Issue(str(path), "the manifest is not a mapping")], "cannot verify")
    return data


def verify_run(folder: Path | str) -> Verification:
    """Re-check a saved run against its inputs (see the module docstring)."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    kind = str(manifest.get("kind", "?"))
    report = Verification(folder, kind, str(manifest.get("scenario", kind)))
    _check_outputs(report, manifest)
    model_path, inputs_dir = _check_inputs(report, manifest)
    if inputs_dir is None or not inputs_dir.is_dir():
        return report
    config = manifest.get("config")
    try:
        if kind == "baseline":
            _check_baseline(report, inputs_dir, config)
        elif kind == "solve":
            _check_solve(report, manifest, inputs_dir, config, model_path)
    except InputError as err:
        report.add("rebuild", [f"cannot rebuild the run from its configuration and the current "
                               f"inputs: {'; '.join(str(i) for i in err.issues)}"], "")
    except DssError as err:
        report.add("rebuild", [f"cannot rebuild the run: {err}"], "")
    return report


def _check_outputs(report: Verification, manifest: dict[str, Any]) -> None:
    outputs = manifest.get("outputs_sha256") or {}
    problems = []
    for name, digest in sorted(outputs.items()):
        path = report.folder / name
        if not path.is_file():
            problems.append(f"{name} is missing")
        elif file_sha256(path) != digest:
            problems.append(f"{name} differs from the file written (edited or damaged after "
                            "the run)")
    report.add("outputs", problems, f"{len(outputs)} files match the hashes in the manifest")


def _resolve(folder: Path, recorded: Any) -> Path | None:
    if not isinstance(recorded, str) or not recorded:
        return None
    path = Path(recorded)
    return path if path.is_absolute() else (folder / path)


def _check_inputs(report: Verification, manifest: dict[str, Any]
                  ) -> tuple[Path | None, Path | None]:
    """Compare the recorded input hashes with the current model file and tables."""
    folder = report.folder
    model_path = _resolve(folder, manifest.get("model_file"))
    inputs_dir = _resolve(folder, manifest.get("inputs_dir"))
    if model_path is None or inputs_dir is None:
        report.add("inputs", ["the manifest does not record where the model file and input "
                              "tables are (a run written by an older dss): rerun it"], "")
        return None, None
    recorded = manifest.get("inputs_sha256") or {}
    problems = []
    tables = 0
    for key, digest in sorted(recorded.items()):
        where, _, name = str(key).partition("/")
        path = model_path if where == "model" else inputs_dir / name
        if where == "model" and path.name != name:
            path = model_path.parent / name
        if where == "inputs":
            tables += 1
        if not path.is_file():
            problems.append(f"{path} is gone (it was read by the run)")
        elif file_sha256(path) != digest:
            problems.append(f"{path.name} changed since the run (its hash differs)")
    if inputs_dir.is_dir():

        for table in TABLES.values():
            if f"inputs/{table.file}" not in recorded and (inputs_dir / table.file).is_file():
                problems.append(f"{table.file} was added to {inputs_dir.name}/ since the run")
    else:
        problems.append(f"the inputs folder {inputs_dir} is gone")
    report.add("inputs", problems, f"the model file {model_path.name} and {tables} input "
                                   "tables are unchanged since the run")
    return model_path, inputs_dir


def _config(config: Any, inputs_dir: Path):

    if not isinstance(config, dict):
        raise InputError([Issue(MANIFEST, "the manifest holds no configuration")],
                         "cannot verify")
    try:
        model = ModelConfig.model_validate(config)
    except Exception as err:  # noqa: BLE001 - pydantic ValidationError, reported as text
        raise InputError([Issue(MANIFEST, f"the recorded configuration is not valid ({err})")],
                         "cannot verify") from None
    study = load_study(inputs_dir, model.name, model.settings.area_tolerance)
    return model, study


def _check_baseline(report: Verification, inputs_dir: Path, config: Any) -> None:

    _model, study = _config(config, inputs_dir)
    tables = compute_baseline(study).tables
    problems = []
    for stem, frame in tables.items():
        path = report.folder / f"{stem}.csv"
        buffer = io.BytesIO()
        write_csv(frame, buffer)  # type: ignore[arg-type]
        if not path.is_file():
            problems.append(f"{path.name} is missing")
        elif path.read_bytes() != buffer.getvalue():
            problems.append(f"{path.name} differs from the baseline recomputed from the inputs")
    report.add("tables", problems, f"{len(tables)} tables recomputed from the inputs are "
                                   "identical, byte for byte")


# ----------------------------------------------------------------------------------- solve


def _summary(folder: Path) -> dict[str, str]:
    path = folder / "summary.csv"
    if not path.is_file():
        return {}
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    return dict(zip(table["metric"], table["value"], strict=True))


def _check_solve(report: Verification, manifest: dict[str, Any], inputs_dir: Path,
                 config: Any, model_path: Path | None) -> None:

    model, study = _config(config, inputs_dir)
    resolved = None
    if model_path is not None:
        resolved = ResolvedModel(model, model_path, str(manifest.get("scenario", "base")),
                                 config)
    problem = Problem.from_config(study, model, resolved)
    summary = _summary(report.folder)
    status = summary.get("status") or (manifest.get("solver") or {}).get("status")
    alloc_path = report.folder / "allocation.csv"
    if not alloc_path.is_file():
        report.add("plan", [] if status in ("infeasible", "unbounded", "error") else
                   [f"allocation.csv is missing but the status is {status!r}"],
                   f"no plan to check (status {status})")
        return
    check_plan(report, compile_problem(problem), alloc_path, summary, manifest)


