"""``dss solve`` on a ``kind: planning`` model: build, solve, evaluate and write a run folder.

The run folder (``results/<study>/<scenario>/``, written atomically by
:func:`dss.results.writer.write_run`) holds:

- ``summary.csv``: status, objective, cost (``spend``), gap, times, units and cost per zone,
  boundary length and connected pieces of the park, targets met, each rule's value; for a
  study, the same measures of the current zoning (``... (current)``);
- ``zoning.csv`` (study): unit, proposed ``zone``, ``previous_zone`` (the current dominant
  zone from ``subunits.csv``), ``changed``, current shares, cost and attributes;
- ``zone_comparison.csv``, ``zone_changes.csv``, ``zone_transitions.csv`` and
  ``comparison.md`` (study): area, people, farmland, hydropower, every feature and cost per
  zone, proposed against current; the units that change zone;
- ``targets.csv`` (held, met, shortfall; with the current zoning's for a study),
  ``features.csv`` (representation per zone), ``rules.csv``;
- ``units.csv`` and Marxan's ``output_best.csv``, ``output_mv.csv``, ``output_sum.csv``
  (Marxan source);
- ``irreplaceability.csv``, ``portfolio.csv``, ``portfolio_solutions.csv``,
  ``selection_frequency.csv`` when asked for; ``shortfalls.csv`` when infeasible;
- ``report.md``, ``solver.log`` and ``manifest.yaml`` (``kind: solve``, so ``dss compare``
  reads planning runs too).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dss.config.loader import ResolvedModel, read_yaml_located
from dss.config.marxan import is_marxan_input
from dss.data.study import load_study
from dss.errors import InputError, Issue
from dss.planning.constraints import LinearConstraint
from dss.planning.evaluate import (
    Evaluation,
    evaluate,
    objective_terms,
    objective_value,
    replacement_cost,
)
from dss.planning.marxan import MarxanProject, read_marxan
from dss.planning.marxan_keys import apply_marxan_keys
from dss.planning.marxan_outputs import marxan_tables
from dss.planning.portfolio import Portfolio, portfolio
from dss.planning.problem import PlanningProblem
from dss.planning.report import comparison_markdown, planning_report
from dss.planning.solve import PlanningResult, SolverOptions
from dss.planning.study import StudyPlanning, build_study_problem
from dss.planning.zoning_tables import (
    transition_matrix,
    zone_changes,
    zone_comparison,
    zoning_table,
)
from dss.results.folders import check_replaceable, locations, run_folder, run_label
from dss.results.writer import file_sha256, make_manifest, write_run

LOGGER = logging.getLogger(__name__)

EVALUATED = "evaluated"
"""Status of a run that evaluates the current zoning instead of optimising (exit code 0)."""


@dataclass
class PlanningRun:
    """A solved (or evaluated) planning model and where it was written.

    Attributes:
        model: The resolved model.
        problem: The planning problem.
        result: The solve result.
        evaluation: Evaluation of the plan (None without a plan).
        tables: Every table written, by file stem.
        folder: The run folder (None when not written).
        study: The study-based problem (None for a Marxan project).
        marxan: The Marxan project (None for a study).
        current: Evaluation of the current zoning (study only).
    """

    model: ResolvedModel
    problem: PlanningProblem
    result: PlanningResult
    evaluation: Evaluation | None
    tables: dict[str, pd.DataFrame]
    folder: Path | None
    study: StudyPlanning | None = None
    marxan: MarxanProject | None = None
    current: Evaluation | None = None
    portfolio: Portfolio | None = None
    texts: dict[str, str] = field(default_factory=dict)
    kind: str = "planning"

    @property
    def exit_code(self) -> int:
        """CLI exit code (0 for an evaluated current zoning)."""
        return 0 if self.result.status == EVALUATED else self.result.exit_code


def _park_groups(spec_zones: list[str], park: list[str]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    if park:
        groups["park"] = park
    for zone in spec_zones:
        groups[zone] = [zone]
    return groups


def _summary(run: PlanningRun) -> pd.DataFrame:
    """Headline metrics (``metric, value, unit``)."""
    result, problem = run.result, run.problem
    cost_unit = "CNY" if run.study is not None else "-"
    length_unit = "km" if run.study is not None else "-"
    rows: list[tuple[str, Any, str]] = [
        ("status", result.status, "-"),
        ("termination", result.termination, "-"),
        ("objective", result.objective, cost_unit if problem.objective is not None and
         problem.objective.name == "min_set" else "-"),
        ("objective_sense", problem.objective.name if problem.objective else "", "-"),
        ("bound", result.bound, cost_unit),
        ("gap", result.gap, "fraction"),
    ]
    if result.solution is not None:
        rows.append(("spend", float((problem.data.cost * result.solution).sum()), cost_unit))
    budget = getattr(problem.objective, "budget", None)
    if budget is not None:
        rows.append(("budget", budget, cost_unit))
    for label, value in result.terms.items():
        rows.append((f"term {label}", value, cost_unit))
    rows += [("units", problem.data.n_units, "count"),
             ("build_time", result.build_seconds, "s"),
             ("solve_time", result.solve_seconds, "s")]
    for label, ev in (("", run.evaluation), (" (current)", run.current)):
        if ev is None:
            continue
        for r in ev.summary.itertuples(index=False):
            if not label and (r.metric == "objective" or r.metric.startswith("term ")):
                continue  # the solve's own objective and terms are listed above
            unit = r.unit
            if r.metric.startswith(("cost", "term")):
                unit = cost_unit
            if r.metric.startswith("boundary"):
                unit = length_unit
            rows.append((f"{r.metric}{label}", r.value, unit))
        for t in ev.targets.itertuples(index=False):
            rows.append((f"target {t.target}{label}", t.relative_held, "share of total"))
    for part in problem.constraints:
        if isinstance(part, LinearConstraint) and result.solution is not None:
            rows.append((f"rule {part.name}", part.value(result.solution),
                         f"{part.sense} {part.threshold:g}"))
    return pd.DataFrame(rows, columns=["metric", "value", "unit"])


def _rules(run: PlanningRun) -> pd.DataFrame:
    rows = []
    data = run.problem.data
    current = run.study.current_plan() if run.study is not None else None
    for part in run.problem.constraints:
        if not isinstance(part, LinearConstraint):
            continue
        rows.append({"rule": part.name,
                     "zones": "+".join(data.zones[z] for z in part.zones),
                     "sense": part.sense, "threshold": part.threshold,
                     "value": part.value(run.result.solution)
                     if run.result.solution is not None else math.nan,
                     "value_current": part.value(current) if current is not None else math.nan})
    return pd.DataFrame(rows, columns=["rule", "zones", "sense", "threshold", "value",
                                       "value_current"])


def _targets(run: PlanningRun) -> pd.DataFrame:
    table = run.evaluation.targets.copy() if run.evaluation is not None else pd.DataFrame()
    if run.current is not None and len(table):
        table["held_current"] = run.current.targets["held"].to_numpy()
        table["relative_held_current"] = run.current.targets["relative_held"].to_numpy()
        table["met_current"] = run.current.targets["met"].to_numpy()
    return table


def _units_table(run: PlanningRun) -> pd.DataFrame:
    data = run.problem.data
    table = data.units.copy()
    if run.result.solution is not None:
        for k, zone in enumerate(data.zones):
            table[f"solution_{zone}" if data.n_zones > 1 else "solution"] = \
                run.result.solution[:, k]
    return table


@dataclass
class PreparedPlanning:
    """A planning model read and checked, ready to solve (see :func:`prepare_planning`).

    Attributes:
        problem: The planning problem.
        study: The study-based problem (None for a Marxan project).
        marxan: The Marxan project (None for a study).
        hashes: SHA-256 of the model file and every input read.
        lines: Line of every key of the model file.
    """

    problem: PlanningProblem
    study: StudyPlanning | None
    marxan: MarxanProject | None
    hashes: dict[str, str]
    lines: dict


def prepare_planning(resolved: ResolvedModel) -> PreparedPlanning:
    """Every check made before a planning model is solved: the ``planning`` section, the
    study tables or the Marxan project, and the problem built from them. ``dss validate``
    runs exactly this.

    Raises:
        InputError: every problem at once, located.
    """
    config = resolved.config
    spec = config.planning

    lines = {} if is_marxan_input(resolved.path) else read_yaml_located(resolved.path)[1]
    if spec is None:
        raise InputError([Issue(resolved.path.name, "kind: planning needs a planning section "
                                                    "(units, zones, costs, features, targets;"
                                                    " see dss/config/planning.py)",
                                lines.get(("kind",)), "planning")], "invalid model file")
    study_planning = project = None
    hashes: dict[str, str] = {f"model/{resolved.path.name}": file_sha256(resolved.path)}
    if spec.source == "study":
        study = load_study(resolved.inputs_dir, config.name, config.settings.area_tolerance)
        study_planning = build_study_problem(study, spec, resolved.inputs_dir,
                                             resolved.path.name, lines)
        problem = study_planning.problem
        hashes.update({f"inputs/{k}": v for k, v in study.hashes.items()})
        if spec.boundary is not None:
            path = resolved.inputs_dir / spec.boundary.table
            hashes[f"inputs/{spec.boundary.table}"] = file_sha256(path)
    else:
        project = read_marxan(resolved.inputs_dir / spec.marxan)
        blm = spec.boundary.penalty if spec.boundary is not None else None
        problem = project.problem(blm)

        problem = apply_marxan_keys(problem, spec, resolved.path.name, lines)
        hashes[f"inputs/{spec.marxan}"] = file_sha256(project.input_file)
        for key in ("PUNAME", "SPECNAME", "PUVSPRNAME", "BOUNDNAME"):
            name = project.params[key]
            if name:
                path = project.folder / project.params["INPUTDIR"] / name
                hashes[f"inputs/{project.params['INPUTDIR']}/{name}"] = file_sha256(path)
    if spec.evaluate_current and study_planning is None:
        raise InputError([Issue(resolved.path.name, "evaluate_current needs source: study "
                                                    "(a Marxan project has no current "
                                                    "zoning)",
                                lines.get(("planning", "evaluate_current")),
                                "planning.evaluate_current")], "invalid planning section")
    issues = problem.check()  # what compiling the problem would refuse, located in the model
    if issues:
        raise InputError([_in_model_file(issue, resolved.path.name, lines) for issue in issues],
                         "invalid planning problem")
    return PreparedPlanning(problem, study_planning, project, hashes, lines)


def _in_model_file(issue: Issue, model_file: str, lines: dict) -> Issue:
    """An issue of the assembled problem (file label ``problem``, the column naming the
    part) located at the model file's ``planning`` section instead."""
    if issue.file != "problem":
        return issue
    key = ("planning", *(issue.column.split(".") if issue.column else ()))
    line = lines.get(key) or lines.get(("planning",))
    return Issue(model_file, issue.message, line, ".".join(key))


def run_planning(resolved: ResolvedModel, sets: list[str] | None = None,
                 results_root: Path | str = "results", write: bool = True,
                 run_name: str | None = None) -> PlanningRun:
    """Build, solve, evaluate and (optionally) write a planning model.

    Raises:
        InputError: on a missing or invalid ``planning`` section, bad inputs or a bad
            Marxan project (every problem at once, located).
        SolveError: if HiGHS fails.
    """
    config = resolved.config
    options = SolverOptions.from_config(config.solver)
    folder = None
    if write:  # refuse an unsafe or occupied folder before solving
        folder = run_folder(results_root, config.name,
                            run_label(resolved.scenario, sets, run_name))
        check_replaceable(folder)
    prepared = prepare_planning(resolved)
    spec = config.planning
    problem, study_planning, project = prepared.problem, prepared.study, prepared.marxan
    hashes = prepared.hashes
    if spec.evaluate_current:
        plan = study_planning.current_plan()
        result = PlanningResult(problem, EVALUATED, "evaluated", objective_value(problem, plan),
                                None, None, plan, _terms(problem, plan), 0.0, 0.0,
                                "current zoning evaluated, no solve\n")
    else:
        result = problem.solve(options)
    groups = _park_groups(list(problem.data.zones), list(spec.park_zones)) \
        if study_planning is not None else None
    edge = spec.boundary.edge_factor if spec.boundary is not None else 1.0
    evaluation = evaluate(problem, result.solution, groups, edge_factor=edge) \
        if result.solution is not None else None
    current = None
    if study_planning is not None and not spec.evaluate_current:
        current = evaluate(problem, study_planning.current_plan(), groups, edge_factor=edge)
    run = PlanningRun(resolved, problem, result, evaluation, {}, None, study_planning, project,
                      current)
    tables: dict[str, pd.DataFrame] = {}
    if result.solution is not None:
        if spec.irreplaceability is not None and result.status == "optimal":
            tables["irreplaceability"] = replacement_cost(problem, result, options,
                                                          spec.irreplaceability.zones)
        if spec.portfolio is not None and result.status == "optimal":
            run.portfolio = portfolio(problem, spec.portfolio.solutions, spec.portfolio.gap,
                                      options)
            tables["portfolio"] = run.portfolio.plans()
            tables["portfolio_solutions"] = run.portfolio.solutions()
            tables["selection_frequency"] = run.portfolio.frequency()
    tables = {"summary": _summary(run), **tables}
    if evaluation is not None:
        tables["targets"] = _targets(run)
        tables["features"] = evaluation.features
        tables["rules"] = _rules(run)
        if study_planning is not None:
            zoning = zoning_table(study_planning, result.solution)
            tables["zoning"] = zoning
            tables["zone_comparison"] = zone_comparison(study_planning, result.solution)
            tables["zone_changes"] = zone_changes(zoning)
            tables["zone_transitions"] = transition_matrix(zoning, list(problem.data.zones))
        else:
            tables["units"] = _units_table(run)
    if project is not None and result.solution is not None:
        tables.update(marxan_tables(project, result, run.portfolio))
    if len(result.shortfalls):
        tables["shortfalls"] = result.shortfalls
    run.tables = tables

    texts = {"report.md": planning_report(run), "solver.log": result.log}
    if study_planning is not None and evaluation is not None:
        texts["comparison.md"] = comparison_markdown(run)
    run.texts = texts
    if folder is not None:
        label = folder.name
        manifest = make_manifest("solve", hashes, resolved.raw, {
            "scenario": label, "overrides": list(sets or []), "planning": True,
            **locations(resolved, folder),
            "solver": {"status": result.status, "termination": result.termination,
                       "objective": result.objective, "bound": result.bound,
                       "gap": result.gap, "build_seconds": round(result.build_seconds, 3),
                       "solve_seconds": round(result.solve_seconds, 3)}})
        write_run(folder, tables, manifest, texts)
        run.folder = folder
    return run


def _terms(problem: PlanningProblem, plan: np.ndarray) -> dict[str, float]:
    """Objective terms of a plan evaluated without a solve."""
    return objective_terms(problem, plan)
