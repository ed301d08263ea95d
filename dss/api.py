"""High-level functions shared by the CLI and Python users: load, run, write."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from dss.config.loader import ResolvedModel, load_model
from dss.data.study import Study, load_study
from dss.indicators.baseline import Baseline, compute_baseline
from dss.results.report import baseline_report
from dss.results.writer import file_sha256, make_manifest, write_run

LOGGER = logging.getLogger(__name__)


@dataclass
class BaselineRun:
    """A computed and written baseline."""

    model: ResolvedModel
    study: Study
    baseline: Baseline
    folder: Path

    @property
    def title(self) -> str:
        """Study title for display."""
        return self.model.config.title or self.model.config.name


def load(model_path: Path | str, scenarios: list[str] | None = None,
         sets: list[str] | None = None) -> tuple[ResolvedModel, Study]:
    """Load and validate a model file and its study inputs."""
    resolved = load_model(model_path, scenarios, sets)
    study = load_study(resolved.inputs_dir, resolved.config.name,
                       resolved.config.settings.area_tolerance)
    return resolved, study


def input_hashes(resolved: ResolvedModel, study: Study) -> dict[str, str]:
    """SHA-256 of the model file and of every input table read."""
    hashes = {f"inputs/{k}": v for k, v in study.hashes.items()}
    hashes[f"model/{resolved.path.name}"] = file_sha256(resolved.path)
    return hashes


def run_baseline(model_path: Path | str, results_root: Path | str = "results") -> BaselineRun:
    """Compute a study's baseline and write it to ``results/<study>/baseline/``."""
    resolved, study = load(model_path)
    result = compute_baseline(study)
    report = baseline_report(study, result.tables, resolved.config.title)
    manifest = make_manifest("baseline", input_hashes(resolved, study), resolved.raw)
    folder = Path(results_root) / resolved.config.name / "baseline"
    write_run(folder, result.tables, manifest, {"report.md": report})
    return BaselineRun(resolved, study, result, folder)


@dataclass
class SolveRun:
    """A solved (or failed) scenario and where its results were written."""

    problem: object
    result: object
    tables: dict
    folder: Path | None


def run_solve(model_path: Path | str, scenarios: list[str] | None = None,
              sets: list[str] | None = None, results_root: Path | str = "results",
              write: bool = True, run_name: str | None = None) -> SolveRun:
    """Solve a model (with scenario overrides) and write ``results/<study>/<scenario>/``.

    Results are written atomically; a run without a plan (infeasible, error) writes its
    summary and the infeasibility explanation but never a partial allocation. A run with
    ``--set`` overrides goes to ``<scenario>+set-<hash>`` unless ``run_name`` is given, so
    trying an override never replaces a scenario's results.
    """
    from dss.optimize.problem import Problem
    from dss.optimize.results import result_tables

    problem = Problem.from_model(model_path, scenarios, sets)
    result = problem.solve()
    tables = result_tables(result)
    folder = None
    if write:
        resolved = problem.model
        label = resolved.scenario if resolved is not None else "base"
        if run_name:
            label = run_name
        elif sets:
            digest = hashlib.sha256("\n".join(sets).encode("utf-8")).hexdigest()[:8]
            label = f"{label}+set-{digest}"
        folder = Path(results_root) / problem.config.name / label
        manifest = make_manifest(
            "solve", input_hashes(resolved, problem.study), resolved.raw,
            {"scenario": label, "overrides": list(sets or []),
             "solver": {"status": result.status, "termination": result.termination,
                        "objective": result.objective, "bound": result.bound,
                        "gap": result.gap, "build_seconds": round(result.build_seconds, 3),
                        "solve_seconds": round(result.solve_seconds, 3)}})
        from dss.results.report import solve_report

        scenario_doc = problem.config.scenarios.get(resolved.scenario)
        report = solve_report(problem.config.title or problem.config.name, label, tables,
                              scenario_doc.description if scenario_doc else "")
        write_run(folder, tables, manifest, {"solver.log": result.log, "report.md": report})
    return SolveRun(problem, result, tables, folder)
