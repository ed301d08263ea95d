"""``dss montecarlo``: a saved plan evaluated on draws of the uncertain inputs.

The plan (``allocation.csv`` of a solve run) is rebuilt on the run's recorded configuration
and its study inputs, evaluated on the nominal inputs and on every scenario
(:mod:`dss.uncertainty.evaluate`), and summarised, with scenario probabilities
:math:`p_s` (:math:`1/N` for draws), as

- mean :math:`\\bar v = \\sum_s p_s v_s`, standard deviation, and for draws the standard
  error of the mean :math:`\\sigma / \\sqrt{N}`;
- quantiles :math:`q_\\alpha = \\min\\{v_s : \\sum_{r: v_r \\le v_s} p_r \\ge \\alpha\\}`
  (the inverted empirical distribution, NumPy's ``inverted_cdf`` for equal weights);
- the probability that a limit or target is met, :math:`\\sum_s p_s [v_s \\le \\bar L_s]`.

Files written into the run folder (all or none): ``montecarlo.csv`` (statistics),
``montecarlo_draws.csv`` (every scenario's values), ``montecarlo.yaml`` (draws, seed and the
hash of the uncertainty table: the same seed gives the same files) and, with matplotlib,
``montecarlo.png``.
"""

from __future__ import annotations

import logging
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from dss.config.model import ModelConfig
from dss.data.schema import POLLUTANT_UNITS
from dss.errors import InputError, Issue
from dss.optimize.build import make_context
from dss.optimize.components.scenario_data import option_map
from dss.optimize.problem import Problem
from dss.results.runs import RunFolder, load_run_study, read_run
from dss.results.writer import OutputError, write_csv
from dss.uncertainty.evaluate import Outcomes, evaluate_plan
from dss.uncertainty.parallel import Report, evaluate_parallel
from dss.uncertainty.scenarios import ScenarioSet, scenario_set

LOGGER = logging.getLogger(__name__)

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
MET_TOLERANCE = 1e-9
"""Relative tolerance of "a limit is met" (as the solver's feasibility)."""


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The smallest value whose cumulative weight reaches ``q`` (inverted empirical CDF)."""
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order])
    at = int(np.searchsorted(cum, q * cum[-1] - 1e-12))
    return float(values[order][min(at, len(values) - 1)])


def statistics(values: np.ndarray, p: np.ndarray, drawn: bool) -> dict[str, float]:
    """Mean, spread and quantiles of one quantity over the scenarios."""
    mean = float(np.dot(p, values))
    sd = float(np.sqrt(max(np.dot(p, (values - mean) ** 2), 0.0)))
    n = len(values)
    out = {"mean": mean, "sd": sd,
           "std_error": sd * np.sqrt(n / max(n - 1, 1)) / np.sqrt(n) if drawn else np.nan,
           "min": float(values.min()), "max": float(values.max())}
    for q in QUANTILES:
        out[f"p{round(100 * q):02d}"] = weighted_quantile(values, p, q)
    return out


@dataclass
class MonteCarloResult:
    """A plan's outcomes on the nominal inputs and on every scenario."""

    problem: Problem
    scenarios: ScenarioSet
    nominal: Outcomes
    outcomes: Outcomes
    backend: str

    def quantities(self) -> list[tuple[str, str, str, str, np.ndarray, float, str]]:
        """(quantity, item, pollutant, unit, values, nominal value, kind) of every reported
        quantity; kind ``value`` or ``met`` (a 0/1 whether a limit or target holds)."""
        o, n = self.outcomes, self.nominal
        cur = self.problem.config.settings.currency
        rows = []
        for (t, p), after in o.after.items():
            unit = POLLUTANT_UNITS[p]
            rows.append(("load_before", t, p, unit, o.before[(t, p)], n.before[(t, p)][0],
                         "value"))
            rows.append(("load_after", t, p, unit, after, n.after[(t, p)][0], "value"))
        for (t, p), limit in o.limits.items():
            met = (o.after[(t, p)] <= limit * (1 + MET_TOLERANCE) + MET_TOLERANCE)
            nominal_met = n.after[(t, p)][0] <= n.limits[(t, p)][0] * (1 + MET_TOLERANCE) \
                + MET_TOLERANCE
            rows.append(("limit", t, p, POLLUTANT_UNITS[p], limit, n.limits[(t, p)][0],
                         "value"))
            rows.append(("limit_met", t, p, "probability", met.astype(float),
                         float(nominal_met), "met"))
        for s, need in o.habitat_required.items():
            gain = o.habitat_gain[s]
            rows.append(("habitat_gain", s, "", "ha", gain, n.habitat_gain[s][0], "value"))
            rows.append(("habitat_target_met", s, "", "probability",
                         (gain >= need - 1e-6).astype(float),
                         float(n.habitat_gain[s][0] >= n.habitat_required[s][0] - 1e-6),
                         "met"))
        for name, values in o.benefit.items():
            rows.append(("benefit", name, "", cur, values, n.benefit[name][0], "value"))
        rows.append(("benefit", "total", "", cur, o.total_benefit,
                     float(n.total_benefit[0]), "value"))
        rows.append(("spend", "total", "", cur, o.spend, float(n.spend[0]), "value"))
        return rows

    def table(self) -> pd.DataFrame:
        """``montecarlo.csv``: one row per quantity and statistic (tidy, with units)."""
        names = _names(self.problem)
        p = self.scenarios.probabilities
        drawn = self.scenarios.source == "drawn"
        records = []
        for quantity, item, pollutant, unit, values, nominal, kind in self.quantities():
            name, name_zh = names.get(item, ("", ""))
            base = {"quantity": quantity, "item": item, "name": name, "name_zh": name_zh,
                    "pollutant": pollutant}
            if kind == "met":
                stats = {"nominal": nominal, "probability": float(np.dot(p, values))}
                if drawn:
                    prob = stats["probability"]
                    stats["std_error"] = float(np.sqrt(prob * (1 - prob) / len(values)))
            else:
                stats = {"nominal": nominal, **statistics(np.asarray(values, float), p, drawn)}
            for stat, value in stats.items():
                if kind != "met" and stat == "std_error" and not drawn:
                    continue
                records.append({**base, "statistic": stat, "value": value,
                                "unit": "fraction" if stat == "probability" else unit})
        return pd.DataFrame(records, columns=["quantity", "item", "name", "name_zh",
                                              "pollutant", "statistic", "value", "unit"])

    def draws_table(self) -> pd.DataFrame:
        """``montecarlo_draws.csv``: every scenario's value of every quantity."""
        names = list(self.scenarios.names)
        p = self.scenarios.probabilities
        parts = []
        for quantity, item, pollutant, unit, values, _nominal, _kind in self.quantities():
            parts.append(pd.DataFrame({"scenario": names, "probability": p,
                                       "quantity": quantity, "item": item,
                                       "pollutant": pollutant,
                                       "value": np.asarray(values, dtype=float),
                                       "unit": unit}))
        return pd.concat(parts, ignore_index=True)


def _names(problem: Problem) -> dict[str, tuple[str, str]]:
    """English and Chinese names of control points and species, by id."""
    out = {}
    for table, key in (("control_points", "point_id"), ("species", "species")):
        frame = problem.study.table(table)
        for rec in frame.to_dict("records"):
            out[rec[key]] = (rec.get("name", ""), rec.get("name_zh", "") or "")
    return out


def rebuild(run: RunFolder) -> Problem:
    """The problem a run was solved from: its recorded configuration on its inputs."""
    try:
        config = ModelConfig.model_validate(run.config)
    except Exception as err:  # noqa: BLE001 - pydantic ValidationError, reported as text
        raise InputError([Issue(str(run.folder / "manifest.yaml"),
                                f"the recorded configuration is not valid ({err})")],
                         "cannot rebuild the run") from None
    return Problem.from_config(load_run_study(run), config)


def plan_amounts(run: RunFolder, problem: Problem) -> np.ndarray:
    """The run's plan as the amount of every option of its study.

    Raises:
        InputError: located at allocation.csv rows that name no option of the study.
    """
    options = make_context(problem).options
    alloc = run.tables.get("allocation")
    if alloc is None:
        raise InputError([Issue(str(run.folder), f"has no plan (status {run.status}; see its "
                                                 "summary.csv)")], "nothing to evaluate")
    alloc = alloc.astype({"subunit_id": str, "action_id": str})
    where = option_map(alloc, options)
    bad = np.flatnonzero(where < 0)
    if len(bad):
        raise InputError([Issue(str(run.folder / "allocation.csv"),
                                f"{alloc['subunit_id'].iat[i]} {alloc['action_id'].iat[i]} is "
                                "not an option of the study now (its inputs changed since the "
                                "run: solve it again)", int(i) + 2, "action_id")
                          for i in bad[:20]], "the plan does not fit the study")
    x = np.zeros(len(options))
    x[where] = alloc["amount"].to_numpy(float)
    return x


def montecarlo(run_dir: Path | str, draws: int = 1000, seed: int = 1, workers: int = 1,
               dask: Any = None, named: bool = False,
               progress: Report | None = None) -> tuple[RunFolder, MonteCarloResult]:
    """Evaluate a run's plan on drawn (or the named) scenarios of its uncertain inputs."""
    run = read_run(run_dir)
    problem = rebuild(run)
    x = plan_amounts(run, problem)
    scenarios = scenario_set(problem.study, "named" if named else "drawn", draws, seed)
    nominal = evaluate_plan(problem, x, ScenarioSet(("nominal",), np.ones(1), ((),),
                                                    "nominal"))
    outcomes, backend = evaluate_parallel(problem, x, scenarios, workers, dask, progress)
    return run, MonteCarloResult(problem, scenarios, nominal, outcomes, backend)


def write_montecarlo(run: RunFolder, result: MonteCarloResult, seed: int,
                     figure: bytes | None) -> list[Path]:
    """Write the Monte Carlo files into the run folder: staged as hidden files, then each
    renamed into place, so a failure leaves the previous files as they were."""
    study = result.problem.study
    meta = {"draws": len(result.scenarios), "seed": seed if result.scenarios.source == "drawn"
            else None, "scenarios": result.scenarios.source,
            "uncertainty_sha256": {k: v for k, v in study.hashes.items()
                                   if k.startswith("uncertainty")}}
    files: dict[str, Any] = {"montecarlo.csv": result.table(),
                             "montecarlo_draws.csv": result.draws_table(),
                             "montecarlo.yaml": yaml.safe_dump(meta, sort_keys=True)}
    if figure is not None:
        files["montecarlo.png"] = figure
    token = uuid.uuid4().hex[:8]
    staged: list[tuple[Path, Path]] = []
    try:
        for name, content in files.items():
            final = run.folder / name
            temp = run.folder / f".{name}.tmp-{token}"
            staged.append((temp, final))
            if isinstance(content, pd.DataFrame):
                write_csv(content, temp)
            elif isinstance(content, bytes):
                temp.write_bytes(content)
            else:
                temp.write_text(content, encoding="utf-8")
        for temp, final in staged:
            os.replace(temp, final)
    except OSError as err:
        raise OutputError(f"cannot write the Monte Carlo results to {run.folder}: "
                          f"{err.strerror or err}") from err
    finally:
        for temp, _ in staged:
            if temp.exists():
                temp.unlink()
    return [final for _, final in staged]

