"""High-level functions shared by the CLI and Python users: load, run, write."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pyomo.common.gc_manager import PauseGC

from dss.config.loader import BASE_SCENARIO, ResolvedModel, load_model
from dss.data.study import Study, load_study
from dss.errors import InputError, Issue
from dss.indicators.baseline import Baseline, compute_baseline
from dss.optimize.build import prepare
from dss.optimize.frontier import frontier, plans_table
from dss.optimize.metrics import parse_metric
from dss.optimize.problem import Problem
from dss.optimize.results import plan_tables, result_tables
from dss.optimize.stochastic_value import value_tables
from dss.optimize.sweep import sweep
from dss.planning.run import prepare_planning, run_planning
from dss.results.folders import check_replaceable, locations, run_folder, run_label
from dss.results.report import baseline_report, solve_report
from dss.results.runs import MANIFEST
from dss.results.tradeoff import PlotUnavailable, frontier_figure, sweep_figure
from dss.results.writer import StagedRun, file_sha256, make_manifest, write_run
from dss.safe_yaml import load_yaml

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


@dataclass
class CheckedModel:
    """A model that passed every check ``dss solve`` makes before it builds or solves."""

    model: ResolvedModel
    summary: str
    """What was checked, for the console (subunits, actions, components...)."""
    warnings: list = field(default_factory=list)
    """Numerically risky data found by presolve (:class:`~dss.errors.Issue`)."""


def check_model(model_path: Path | str, scenarios: list[str] | None = None,
                sets: list[str] | None = None) -> CheckedModel:
    """Run exactly the checks that :func:`run_solve` runs before it builds: the model
    schema with every component's parameters, the input tables, the cross-references from
    the model into the tables, the solver options and presolve (``dss validate``).

    Raises:
        InputError: every problem found, located.
    """
    resolved = load_model(model_path, scenarios, sets)
    if resolved.config.kind == "planning":
        prepared = prepare_planning(resolved)
        data = prepared.problem.data
        return CheckedModel(resolved, f"{len(data.units):,} planning units, "
                                      f"{len(data.zones)} zones", [])

    study = load_study(resolved.inputs_dir, resolved.config.name,
                       resolved.config.settings.area_tolerance)
    problem = Problem.from_config(study, resolved.config, resolved)
    _, warnings = prepare(problem)
    return CheckedModel(resolved, f"{len(study.subunits):,} subunits, {len(study.actions)} "
                                  f"actions, {len(study.control_points)} control points, "
                                  f"{len(problem.components)} components", warnings)


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
    folder = run_folder(results_root, resolved.config.name, "baseline")
    manifest = make_manifest("baseline", input_hashes(resolved, study), resolved.raw,
                             locations(resolved, folder))
    write_run(folder, result.tables, manifest, {"report.md": report})
    return BaselineRun(resolved, study, result, folder)


@dataclass
class SolveRun:
    """A solved (or failed) scenario and where its results were written."""

    problem: object
    result: object
    tables: dict
    folder: Path | None
    kind: str = "allocation"
    """``allocation``, or ``planning`` for a :class:`dss.planning.run.PlanningRun`."""


def run_solve(model_path: Path | str, scenarios: list[str] | None = None,
              sets: list[str] | None = None, results_root: Path | str = "results",
              write: bool = True, run_name: str | None = None,
              progress: Callable[[str], None] | None = None) -> SolveRun:
    """Solve a model (with scenario overrides) and write ``results/<study>/<scenario>/``.

    Results are written atomically; a run without a plan (infeasible, error) writes its
    summary and the infeasibility explanation but never a partial allocation. A run with
    ``--set`` overrides goes to ``<scenario>+<key>=<value>`` (:func:`set_label`) unless
    ``run_name`` is given, so trying an override never replaces a scenario's results.
    ``progress(step)`` is told each step as it starts: ``read``, ``solve``, ``write``. A
    ``kind: planning`` model goes to :func:`dss.planning.run.run_planning` (park design,
    conservation planning).
    """
    resolved_model = load_model(model_path, scenarios, sets)
    if resolved_model.config.kind == "planning":  # park design / conservation planning
        return run_planning(resolved_model, sets, results_root, write,  # type: ignore
                            run_name)

    with PauseGC():  # no garbage cycles worth a collection pass here (see compile_problem)
        return _solve_and_write(model_path, scenarios, sets, results_root, write, run_name,
                                progress or (lambda _step: None))


def _solve_and_write(model_path: Path | str, scenarios: list[str] | None,
                     sets: list[str] | None, results_root: Path | str, write: bool,
                     run_name: str | None, progress: Callable[[str], None]) -> SolveRun:
    """:func:`run_solve` for an allocation model."""
    progress("read")
    problem = Problem.from_model(model_path, scenarios, sets)
    resolved = problem.model
    label = run_label(resolved.scenario if resolved is not None else "base", sets, run_name)
    folder = run_folder(results_root, problem.config.name, label) if write else None
    if folder is not None:
        check_replaceable(folder)  # refuse before solving, not after
    progress("solve")
    result = problem.solve()
    progress("write")
    plan = {**plan_tables(result), **value_tables(result)}
    if folder is None:
        return SolveRun(problem, result, result_tables(result, plan), None)
    manifest = make_manifest(
        "solve", input_hashes(resolved, problem.study), resolved.raw,
        {"scenario": label, "overrides": list(sets or []), **locations(resolved, folder),
         "solver": {"status": result.status, "termination": result.termination,
                    "objective": result.objective, "bound": result.bound,
                    "gap": result.gap, "method": result.method,
                    "build_seconds": round(result.build_seconds, 3),
                    "solve_seconds": round(result.solve_seconds, 3)}})

    with StagedRun(folder) as run:
        for stem, frame in plan.items():  # while the duals may still be solving
            run.table(stem, frame)
        tables = result_tables(result, plan)
        for stem, frame in tables.items():
            if stem not in plan:
                run.table(stem, frame)
        scenario_doc = problem.config.scenarios.get(resolved.scenario)
        run.file("solver.log", result.log)
        run.file("report.md", solve_report(
            problem.config.title or problem.config.name, label, tables,
            scenario_doc.description if scenario_doc else ""))
        run.commit(manifest)
    return SolveRun(problem, result, tables, folder)


def _run_label(resolved: ResolvedModel | None, sets: list[str] | None) -> str:
    """Suffix naming a run's scenario and overrides: ``""`` for the base model, else
    ``+<scenario>`` and/or ``+set-<hash>`` (as :func:`run_solve` names its folders)."""
    scenario = resolved.scenario if resolved is not None else "base"
    label = run_label(scenario, sets)
    return "" if label == "base" else "+" + label.removeprefix("base+")


def _figure_or_note(draw) -> tuple[dict[str, bytes], str]:
    """``draw()`` (files ``{name: png}``) and ``"written"``, or no file and why not."""
    try:
        return draw(), "written"
    except PlotUnavailable as err:
        LOGGER.warning("%s", err)
        return {}, f"skipped: {err}"


@dataclass
class SweepRun:
    """A finished parameter sweep and where it was written."""

    problem: object
    result: object
    folder: Path | None
    plot: str = ""


def run_sweep(model_path: Path | str, param: str, values: list[float],
              scenarios: list[str] | None = None, sets: list[str] | None = None,
              results_root: Path | str = "results", workers: int = 1, dask: object = None,
              warm_start: bool = False, progress=None, write: bool = True) -> SweepRun:
    """Sweep one parameter (:func:`dss.optimize.sweep.sweep`) and write
    ``results/<study>/sweep-<last key part>[+<scenario>][+set-<hash>]/``: ``sweep.csv``,
    ``sweep.png`` (with matplotlib) and ``manifest.yaml``.
    """
    problem = Problem.from_model(model_path, scenarios, sets)
    resolved = problem.model
    folder = None
    if write:
        name = f"sweep-{param.split('.')[-1]}{_run_label(resolved, sets)}"
        folder = run_folder(results_root, problem.config.name, name, "sweep folder name",
                            "--param")
        check_replaceable(folder)
    result = sweep(problem, param, values, workers=workers, dask=dask,
                   warm_start=warm_start, progress=progress)
    plot = ""
    if folder is not None:
        title = f"{problem.config.name}: sweep of {param}"
        files, plot = _figure_or_note(lambda: {"sweep.png": sweep_figure(result, title)})
        manifest = make_manifest(
            "sweep", input_hashes(resolved, problem.study), resolved.raw,
            {"scenario": resolved.scenario, "overrides": list(sets or []),
             **locations(resolved, folder),
             "sweep": {"param": param, "values": [float(v) for v in result.table["value"]],
                       "engine": result.engine, "backend": result.backend,
                       "workers": result.workers, "warm_start": result.warm_start,
                       "seconds": round(result.seconds, 3), "plot": plot,
                       "units": result.units}})
        write_run(folder, {"sweep": result.table}, manifest, files)
    return SweepRun(problem, result, folder, plot)


@dataclass
class FrontierRun:
    """A finished trade-off frontier and where it was written."""

    problem: object
    result: object
    folder: Path | None
    plot: str = ""


def run_frontier(model_path: Path | str, x: str, y: str, points: int = 11,
                 scenarios: list[str] | None = None, sets: list[str] | None = None,
                 results_root: Path | str = "results", progress=None,
                 write: bool = True) -> FrontierRun:
    """Compute an ε-constraint frontier (:func:`dss.optimize.frontier.frontier`) and write
    ``results/<study>/frontier-<x>-vs-<y>[+<scenario>][+set-<hash>]/``: ``frontier.csv``
    (non-dominated points), ``points.csv`` (every point solved, with a dominated flag),
    ``plans.csv`` (each frontier plan), ``no_regret.csv``, ``frontier.png`` and
    ``manifest.yaml``.
    """
    mx, my = parse_metric(x), parse_metric(y)
    problem = Problem.from_model(model_path, scenarios, sets)
    resolved = problem.model
    folder = None
    if write:
        name = f"frontier-{mx.slug}-vs-{my.slug}{_run_label(resolved, sets)}"
        folder = run_folder(results_root, problem.config.name, name, "frontier folder name",
                            "--x/--y")
        check_replaceable(folder)
    result = frontier(problem, mx, my, points=points, progress=progress)
    plot = ""
    if folder is not None:
        title = f"{problem.config.name}: {my.name} vs {mx.name}"
        files, plot = _figure_or_note(
            lambda: {"frontier.png": frontier_figure(result, title)})

        def labelled(table):
            out = table.copy()
            out.insert(out.columns.get_loc("x"), "x_metric", mx.name)
            out.insert(out.columns.get_loc("y"), "y_metric", my.name)
            return out

        manifest = make_manifest(
            "frontier", input_hashes(resolved, problem.study), resolved.raw,
            {"scenario": resolved.scenario, "overrides": list(sets or []),
             **locations(resolved, folder),
             "frontier": {"x": mx.name, "y": my.name, "points": points,
                          "non_dominated": len(result.frontier),
                          "no_regret": len(result.no_regret),
                          "seconds": round(result.seconds, 3), "plot": plot,
                          "units": result.units}})
        write_run(folder, {"frontier": labelled(result.frontier),
                           "points": labelled(result.points),
                           "plans": plans_table(result), "no_regret": result.no_regret},
                  manifest, files)
    return FrontierRun(problem, result, folder, plot)


def scenario_runs(model_path: Path | str, scenarios: Sequence[str] | None,
                  results_root: Path | str = "results", rerun: bool = False) -> list[Path]:
    """Run folders for scenarios of a model: reused when current, solved otherwise.

    A folder ``results/<study>/<scenario>`` is reused when it is a solve run of the same
    resolved configuration and the same input hashes; otherwise the scenario is solved with
    :func:`run_solve` (which writes it there).

    Args:
        model_path: The model file.
        scenarios: Scenario names (``a+b`` applies ``a`` then ``b``); default: ``base`` and
            every scenario in the model file.
        results_root: Results root folder.
        rerun: Solve every scenario again even when its folder is current.

    Raises:
        InputError: listing every unknown scenario at once.
    """

    if not scenarios:
        declared = load_model(model_path).config.scenarios
        scenarios = [BASE_SCENARIO, *declared]
    specs = [[p for p in s.split("+") if p] or [BASE_SCENARIO] for s in scenarios]
    issues: list[Issue] = []
    loaded = []
    for spec in specs:
        try:
            loaded.append(load(model_path, spec))
        except InputError as err:
            issues.extend(i for i in err.issues if i not in issues)
    if issues:
        raise InputError(issues, "cannot compare")
    folders: list[Path] = []
    for spec, (resolved, study) in zip(specs, loaded, strict=True):
        folder = run_folder(results_root, resolved.config.name, resolved.scenario,
                            "scenario", "--scenario")
        current = False
        if not rerun and (folder / MANIFEST).is_file():
            try:
                manifest = load_yaml((folder / MANIFEST).read_text(encoding="utf-8"),
                                     str(folder / MANIFEST))
                current = (isinstance(manifest, dict) and manifest.get("kind") == "solve"
                           and not manifest.get("overrides")
                           and manifest.get("inputs_sha256") == input_hashes(resolved, study)
                           and manifest.get("config") == resolved.raw
                           and (folder / "summary.csv").is_file())
            except (OSError, UnicodeDecodeError, yaml.YAMLError):
                current = False
        if current:
            LOGGER.info("reusing %s (same configuration and inputs)", folder)
        else:
            LOGGER.info("solving scenario %s", resolved.scenario)
            run = run_solve(model_path, spec, None, results_root)
            folder = run.folder  # type: ignore[assignment]
        folders.append(folder)
    return folders
