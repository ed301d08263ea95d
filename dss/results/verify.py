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
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo
import yaml
from pyomo.repn import generate_standard_repn

from dss.config.loader import ResolvedModel
from dss.config.model import ModelConfig
from dss.data.schema import POLLUTANTS, TABLES
from dss.data.study import load_study
from dss.errors import DssError, InputError, Issue
from dss.indicators.baseline import compute_baseline
from dss.indicators.loads import retention
from dss.optimize.build import compile_problem
from dss.optimize.components.benefits import LoadLimits
from dss.optimize.components.constraints import Budget
from dss.optimize.problem import Problem
from dss.results.saved_decisions import load_saved_decisions
from dss.results.writer import MANIFEST, file_sha256, write_csv
from dss.safe_yaml import load_yaml

REL_TOL = 1e-6
"""Relative tolerance of recomputed numbers (tables hold 10 significant digits)."""


class VerifyError(DssError):
    """A saved run does not match its inputs or its own tables."""

    exit_code = 8


@dataclass(frozen=True)
class Check:
    """One verification: its name, whether it passed, and what was found."""

    name: str
    ok: bool
    detail: str


@dataclass
class Verification:
    """The report of :func:`verify_run`."""

    folder: Path
    kind: str
    label: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every check passed."""
        return all(c.ok for c in self.checks)

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def add(self, name: str, problems: list[str], passed: str, limit: int = 8) -> None:
        """Record a check: passed (with ``passed`` as detail) if ``problems`` is empty."""
        if not problems:
            self.checks.append(Check(name, True, passed))
            return
        shown = problems[:limit]
        more = f" (and {len(problems) - limit} more)" if len(problems) > limit else ""
        self.checks.append(Check(name, False, "; ".join(shown) + more))


def _close(a: float, b: float, rel: float = REL_TOL, abs_: float = 1e-6) -> bool:
    if a is None or b is None or (isinstance(a, float) and math.isnan(a)):
        return a is b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a)
                          and math.isnan(b))
    return abs(a - b) <= max(abs_, rel * max(abs(a), abs(b)))


def _num(text: Any) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value


def _g(x: float) -> str:
    return f"{x:.10g}"


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
    built = compile_problem(problem)
    x = _read_allocation(report, built, alloc_path)
    if x is None:
        return
    load_saved_decisions(report, built, x)  # e.g. the zones of park_zoning
    _check_constraints(report, built, x)
    _check_spend(report, built, x, summary)
    _check_loads(report, built, x)
    _check_habitat(report, built, x)
    for comp in built.problem.components:  # a component's own independent re-check
        check = getattr(comp, "verify_plan", None)
        if check is not None:
            report.add(comp.name, *check(built.blocks[comp.name], built.ctx, x, report.folder))
    _check_objective(report, built, x, summary, manifest)


def _read_allocation(report: Verification, built, path: Path) -> np.ndarray | None:
    opts = built.ctx.options
    try:
        alloc = pd.read_csv(path, dtype={"subunit_id": str, "action_id": str},
                            keep_default_na=False, na_values=[""])
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as err:
        report.add("allocation", [f"allocation.csv cannot be read ({err})"], "")
        return None
    missing = [c for c in ("subunit_id", "action_id", "amount") if c not in alloc]
    if missing:
        report.add("allocation", [f"allocation.csv has no column {', '.join(missing)}"], "")
        return None
    phased = built.ctx.phasing is not None  # with planning years, options are per year too
    if phased and "year" not in alloc:
        report.add("allocation", ["allocation.csv has no column year (the model has planning "
                                  "years)"], "")
        return None
    years = opts["year"].tolist() if phased else [None] * len(opts)
    key = {(s, a, y): k for k, (s, a, y) in enumerate(zip(
        opts["subunit_id"], opts["action_id"], years, strict=True))}
    cap = opts["capacity"].to_numpy(float)
    integer = opts["integer"].to_numpy(bool)
    unit_cost = opts["unit_cost"].to_numpy(float)
    fixed = opts["fixed_cost"].to_numpy(float)
    x = np.zeros(len(opts))
    problems = []
    seen: set[int] = set()
    listed_costs: list[tuple[str, int, object]] = []
    for row, rec in enumerate(alloc.itertuples(index=False), start=2):
        year = _num(rec.year) if phased else None
        k = key.get((rec.subunit_id, rec.action_id,
                     int(year) if year is not None and math.isfinite(year) else year))
        amount = _num(rec.amount)
        where = (f"allocation.csv row {row} ({rec.subunit_id} {rec.action_id}"
                 + (f" {rec.year})" if phased else ")"))
        if k is None:
            problems.append(f"{where}: not a possible option of the model")
            continue
        if k in seen:
            problems.append(f"{where}: listed twice")
            continue
        seen.add(k)
        if amount is None or not math.isfinite(amount) or amount < 0:
            problems.append(f"{where}: amount {rec.amount!r} is not a number >= 0")
            continue
        x[k] = amount
        if amount > cap[k] * (1 + REL_TOL) + 1e-9:
            problems.append(f"{where}: amount {_g(amount)} exceeds the capacity {_g(cap[k])}")
        if integer[k] and abs(amount - round(amount)) > 1e-6:
            problems.append(f"{where}: amount {_g(amount)} is not a whole number")
        if "cost_cny" in alloc:
            listed_costs.append((where, k, rec.cost_cny))
    paid = built.ctx.fixed_paid(x)  # with years, the first start of a pair pays it
    for where, k, text in listed_costs:
        cost = unit_cost[k] * x[k] + (fixed[k] if paid[k] else 0.0)
        listed = _num(text)
        if listed is None or not _close(listed, cost):
            problems.append(f"{where}: cost_cny {text} but the amount costs {_g(cost)}")
    report.add("allocation", problems, f"{len(alloc)} rows name possible options, within "
                                       "capacity, with their costs")
    return x


def _assign(built, x: np.ndarray) -> None:
    """Set the model's variables to the plan ``x`` (the decisions and what follows)."""
    ctx = built.ctx
    for var, value in zip(ctx.amount_vars, x, strict=True):
        var.set_value(float(value), skip_validation=True)
    paid = ctx.fixed_paid(x)  # with years: the first start year of a pair
    for k, var in ctx.used_vars.items():
        var.set_value(1.0 if paid[k] else 0.0, skip_validation=True)
    costs = _costs(built, x)
    towns = ctx.options["township"].to_numpy()
    for g, var in ctx.township_spend.items():
        var.set_value(float(costs[towns == g].sum()), skip_validation=True)
    for comp in built.problem.components:  # e.g. the segments of benefit curves
        comp.assign_auxiliary(built.blocks[comp.name], ctx, x)
    for block in built.blocks.values():
        for var in block.component_data_objects(pyo.Var, descend_into=True):
            if var.value is None and not var.fixed:
                lb = var.lb
                var.set_value(0.0 if lb is None or lb <= 0 else lb, skip_validation=True)


def _costs(built, x: np.ndarray) -> np.ndarray:
    opts = built.ctx.options
    return opts["unit_cost"].to_numpy(float) * x + np.where(
        built.ctx.fixed_paid(x), opts["fixed_cost"].to_numpy(float), 0.0)


def _check_constraints(report: Verification, built, x: np.ndarray) -> None:
    """Every constraint of the rebuilt model holds for the plan."""
    _assign(built, x)
    problems = []
    count = 0
    for con in built.model.component_data_objects(pyo.Constraint, active=True,
                                                  descend_into=True):
        if con.parent_component().local_name == "spend_def":
            continue  # the spend variables are set from the plan itself
        count += 1
        body = pyo.value(con.body, exception=False)
        if body is None:
            continue
        lower, upper = con.lb, con.ub
        low = lower is not None and body < lower - 1e-9 * max(1.0, abs(lower))
        high = upper is not None and body > upper + 1e-9 * max(1.0, abs(upper))
        if not (low or high):
            continue
        # amounts are saved with 10 significant digits: allow for that, relative to the
        # size of the terms that make up the row, not only to its bound
        tol = 1e-6 * max(1.0, abs(lower or 0.0), abs(upper or 0.0), _scale(con.body))
        if low and body < lower - tol:
            problems.append(f"{con.name}: {_g(body)} is below its lower bound {_g(lower)}")
        if high and body > upper + tol:
            problems.append(f"{con.name}: {_g(body)} is above its upper bound {_g(upper)}")
    report.add("constraints", problems, f"all {count} constraints of the model hold for the "
                                        "plan (budget, land, zone rules, locks, equity, limits, "
                                        "targets)")


def _scale(expr) -> float:
    """Largest magnitude of the terms of a linear expression at the current values."""
    repn = generate_standard_repn(expr, compute_values=True)
    terms = [abs(c * (v.value or 0.0)) for c, v in zip(repn.linear_coefs, repn.linear_vars,
                                                        strict=True)]
    return max([abs(repn.constant or 0.0), *terms])


def _check_spend(report: Verification, built, x: np.ndarray, summary: dict[str, str]) -> None:
    costs = _costs(built, x)
    spend = float(costs.sum())
    problems = []
    listed = _num(summary.get("spend"))
    if listed is None or not _close(listed, spend):
        problems.append(f"summary.csv spend is {summary.get('spend')} but the plan costs "
                        f"{_g(spend)}")
    for comp in built.problem.components:
        if isinstance(comp, Budget) and comp.params.total is not None and \
                spend > comp.params.total * (1 + REL_TOL) + 1e-6:
            problems.append(f"the plan costs {_g(spend)}, above the budget "
                            f"{_g(comp.params.total)} ({comp.name}.total)")
    phasing = built.ctx.phasing
    for year in phasing.years if phasing is not None else ():
        coef, fixed_now = phasing.spend_coefficients(year)
        paid = float((coef * x).sum() + np.where(built.ctx.fixed_paid(x) & fixed_now,
                                                  built.ctx.options["fixed_cost"].to_numpy(
                                                      float), 0.0).sum())
        listed = _num(summary.get(f"spend year {year}"))
        if listed is None or not _close(listed, paid):
            problems.append(f"summary.csv spend year {year} is {summary.get(f'spend year {year}')}"
                            f" but the plan spends {_g(paid)} that year")
    agencies = pd.Series(costs).groupby(built.ctx.options["agency"].to_numpy()).sum()
    for agency, value in agencies.items():
        listed = _num(summary.get(f"spend agency {agency}"))
        if listed is not None and not _close(listed, float(value)):
            problems.append(f"summary.csv spend agency {agency} is {_g(listed)} but the plan "
                            f"spends {_g(float(value))}")
    report.add("spend", problems, f"the plan costs {_g(spend)} CNY, as reported, within the "
                                  "budget")


def _check_loads(report: Verification, built, x: np.ndarray) -> None:
    """Routed loads at control points, recomputed from the plan with the routing module."""
    ctx = built.ctx
    study = ctx.study
    pos = ctx.option_subunit_pos
    phasing = ctx.phasing
    years = [None] if phasing is None else phasing.state_years
    limits: dict[tuple[str, str, int | None], float] = {}
    for comp in built.problem.components:
        if isinstance(comp, LoadLimits):
            when = None if phasing is None else (comp.params.year or phasing.end)
            for (t, p), value in comp.targets(ctx).items():
                limits[t, p, when] = min(limits.get((t, p, when), np.inf), value)
    path = report.folder / "control_points.csv"
    reported = {}
    if path.is_file():
        table = pd.read_csv(path, dtype={"point_id": str}, keep_default_na=False,
                            na_values=[""])
        if {"point_id", "pollutant", "after"} <= set(table.columns):
            when = table["year"] if "year" in table and phasing is not None else [None] * len(
                table)
            reported = {(r.point_id, r.pollutant, None if y is None else int(y)): _num(r.after)
                        for r, y in zip(table.itertuples(index=False), when, strict=True)}
    problems = []
    count = 0
    for year in years:
        routed = {}
        for p in POLLUTANTS:
            effect = ctx.options[f"d_{p}"].to_numpy(float) if phasing is None else \
                phasing.effect_at(f"d_{p}", year)  # with years: effects in that year
            reduction = np.zeros(study.routing.n)
            np.add.at(reduction, pos, effect * x)
            routed[p] = study.routing.route(ctx.local[p].to_numpy(float) - reduction,
                                            retention(study, p))
        in_year = "" if year is None else f" in {year}"
        for cp in study.control_points.itertuples(index=False):
            target = int(study.routing.index([cp.subunit_id])[0])
            inflow = getattr(cp, "measures", "outflow") == "inflow"
            for p in POLLUTANTS:
                count += 1
                after = study.routing.load_at(routed[p], target, inflow)
                limit = limits.get((cp.point_id, p, year))
                if limit is not None and after > limit + 1e-6 * max(1.0, abs(limit)):
                    problems.append(f"{p} at {cp.point_id}{in_year}: routed load {_g(after)} "
                                    f"is above its limit {_g(limit)}")
                listed = reported.get((cp.point_id, p, year))
                if reported and (listed is None or not _close(listed, after)):
                    problems.append(f"control_points.csv {p} at {cp.point_id}{in_year}: after "
                                    f"is {listed} but routing the plan gives {_g(after)}")
    report.add("routed loads", problems, f"{count} loads at control points, routed from the "
                                         "plan, match the table and the limits")


def _check_habitat(report: Verification, built, x: np.ndarray) -> None:
    path = report.folder / "species.csv"
    if not path.is_file():
        return
    table = pd.read_csv(path, dtype={"species": str}, keep_default_na=False, na_values=[""])
    if not {"species", "gain"} <= set(table.columns):
        report.add("habitat", ["species.csv has no species/gain columns"], "")
        return
    opts = built.ctx.options
    phasing = built.ctx.phasing
    species = opts["habitat_species"].to_numpy()
    if phasing is not None and "year" not in table:
        report.add("habitat", ["species.csv has no year column (the model has planning "
                               "years)"], "")
        return
    problems = []
    for rec in table.itertuples(index=False):
        gain = (opts["habitat_gain"].to_numpy(float) if phasing is None else
                phasing.effect_at("habitat_gain", int(rec.year))) * x  # with years: that year's
        expected = float(gain[species == rec.species].sum())
        listed = _num(rec.gain)
        if listed is None or not _close(listed, expected):
            problems.append(f"species.csv {rec.species}: gain {rec.gain} but the plan gains "
                            f"{_g(expected)} ha")
    report.add("habitat", problems, f"habitat gains of {len(table)} species match the plan")


def _check_objective(report: Verification, built, x: np.ndarray, summary: dict[str, str],
                     manifest: dict[str, Any]) -> None:
    _assign(built, x)
    value = float(pyo.value(built.model.objective_function))
    problems = []
    listed = _num(summary.get("objective"))
    if listed is None or not _close(listed, value):
        problems.append(f"summary.csv objective is {summary.get('objective')} but the plan's "
                        f"objective is {_g(value)}")
    recorded = _num((manifest.get("solver") or {}).get("objective"))
    if recorded is not None and not _close(recorded, value):
        problems.append(f"the manifest's objective is {_g(recorded)} but the plan's is "
                        f"{_g(value)}")
    report.add("objective", problems, f"the objective recomputed from the plan, {_g(value)}, "
                                      "is the one reported")
