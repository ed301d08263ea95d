"""High-level functions shared by the CLI and Python users: load, run, write."""

from __future__ import annotations

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
