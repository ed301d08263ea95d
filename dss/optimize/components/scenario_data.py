"""The options' coefficients on every scenario of the uncertain inputs, for the stochastic
components (sample average approximation).

The decisions are the options of the nominal study; only outcomes differ between
scenarios. Each scenario's study (:mod:`dss.uncertainty.scenarios`, which depends on the data
layer only) goes through :func:`dss.optimize.precompute.context_for`, the path every solve takes,
and its per-option numbers are carried onto the nominal options by (subunit, action):

- benefit per unit :math:`b_{sk}`:
  :func:`~dss.optimize.components.coefficients.objective_coefficients` of the benefit
  components;
- delivered reduction per unit :math:`a_{sk}^{tp}` and baseline load :math:`L^0_{s,tp}` at a
  control point: :meth:`BuildContext.transfer` and :meth:`BuildContext.baseline_load`.

An option a scenario lacks (its capacity is 0 there) contributes nothing in it. Computed once
per build and scenario set (shared by every stochastic component through ``ctx.memo``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dss.optimize.components.base import Role
from dss.optimize.components.coefficients import objective_coefficients
from dss.optimize.context import BuildContext
from dss.optimize.precompute import context_for
from dss.uncertainty.scenarios import scenario_set


@dataclass
class ScenarioData:
    """Per-scenario data on the nominal options.

    Attributes:
        names: Scenario names.
        probabilities: :math:`p_s` (sum 1).
        benefit: :math:`b_{sk}`, shape (scenarios, options).
        contexts: Each scenario's build context.
        maps: For each scenario, the nominal option of each of its options (-1: none).
    """

    names: tuple[str, ...]
    probabilities: np.ndarray
    benefit: np.ndarray
    contexts: list[BuildContext]
    maps: list[np.ndarray]

    def reduction(self, s: int, point: str, pollutant: str) -> tuple[np.ndarray, np.ndarray]:
        """Nominal options and their delivered reduction per unit at a point in scenario
        ``s`` (summed where two scenario options map to one nominal option)."""
        idx, coef = self.contexts[s].transfer(point, pollutant)
        nominal = self.maps[s][idx]
        keep = nominal >= 0
        n = self.benefit.shape[1]
        dense = np.bincount(nominal[keep], weights=coef[keep], minlength=n)
        at = np.flatnonzero(dense)
        return at, dense[at]

    def baseline_load(self, s: int, point: str, pollutant: str) -> float:
        """Routed load at a point in scenario ``s`` without any plan."""
        return self.contexts[s].baseline_load(point, pollutant)


def option_map(options: pd.DataFrame, among: pd.DataFrame) -> np.ndarray:
    """Row of each option of ``options`` among the options ``among``, by (subunit, action)
    (-1 where ``among`` has no such option). Option tables are sorted by (subunit,
    action), so two tables with the same keys map row to row."""
    if len(options) == len(among) and np.array_equal(
            options["subunit_id"].to_numpy(), among["subunit_id"].to_numpy()) and \
            np.array_equal(options["action_id"].to_numpy(), among["action_id"].to_numpy()):
        return np.arange(len(options))
    index = pd.MultiIndex.from_arrays([among["subunit_id"], among["action_id"]])
    return index.get_indexer(pd.MultiIndex.from_arrays([options["subunit_id"],
                                                        options["action_id"]]))


def benefit_per_unit(ctx: BuildContext) -> np.ndarray:
    """Currency benefit per unit of each option of ``ctx``, summed over the benefit
    components (their objective coefficients)."""
    roles = {c.name: c.role for c in ctx.components}
    total = np.zeros(ctx.n_options)
    for name, coef in objective_coefficients(ctx, ctx).items():
        if roles.get(name) is Role.BENEFIT:
            total += coef
    return total


def scenario_data(ctx: BuildContext, source: str, draws: int, seed: int,
                  only: int | None = None) -> ScenarioData:
    """The scenarios of ``ctx``'s study (drawn from ``uncertainty.csv`` or named in
    ``uncertainty_scenarios.csv``), or the one numbered ``only`` (from 0, wait-and-see), with
    their coefficients on the nominal options (computed once per build)."""
    key = ("scenario_data", source, draws if source == "drawn" else None,
           seed if source == "drawn" else None, only)
    return ctx.memo(key, lambda: _compute(ctx, source, draws, seed, only))


def _compute(ctx: BuildContext, source: str, draws: int, seed: int,
             only: int | None) -> ScenarioData:
    scenarios = scenario_set(ctx.study, source, draws, seed)
    if only is not None:
        scenarios = scenarios.subset([only])
    n = ctx.n_options
    benefit = np.zeros((len(scenarios), n))
    contexts, maps = [], []
    for s in range(len(scenarios)):
        sctx = context_for(scenarios.study(ctx.study, s), ctx.config, ctx.components)
        where = option_map(sctx.options, ctx.options)
        per_unit = benefit_per_unit(sctx)
        keep = where >= 0
        benefit[s] = np.bincount(where[keep], weights=per_unit[keep], minlength=n)
        contexts.append(sctx)
        maps.append(where)
    return ScenarioData(scenarios.names, scenarios.probabilities, benefit, contexts, maps)


LOW_RANK_TOLERANCE = 1e-11
"""Singular values below this share of the largest are taken as zero."""
LOW_RANK_CHECK = 1e-9
"""Largest reconstruction error of a factorisation, as a share of the largest entry."""


def factorised(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """:math:`M = W V` where the rows of :math:`V` are a few of the scenarios' own rows,
    when the rows of :math:`M` (scenarios x options) have a rank :math:`r` below half their
    number, exact to rounding (checked); else None.

    A few uncertain factors drive every scenario's coefficients, so their rank is small
    (found from the singular values). :math:`r` spanning rows are picked greedily (largest
    remaining norm, Gram-Schmidt), so the shared rows :math:`y_j = V_j x` are a basis
    scenario's value, in its units, and :math:`W` (least squares) holds modest weights: the
    model holds :math:`r` shared rows and each scenario's value as
    :math:`\\sum_j W_{sj} y_j`, instead of one dense row per scenario.
    """
    rows, _cols = matrix.shape
    if rows < 4:
        return None
    sigma = np.linalg.svd(matrix, compute_uv=False)
    if not len(sigma) or sigma[0] <= 0:
        return None
    rank = int((sigma > LOW_RANK_TOLERANCE * sigma[0]).sum())
    if 2 * rank >= rows:
        return None
    residual = matrix.copy()
    chosen = []
    for _ in range(rank):
        k = int(np.argmax(np.einsum("ij,ij->i", residual, residual)))
        chosen.append(k)
        q = residual[k] / np.linalg.norm(residual[k])
        residual -= np.outer(residual @ q, q)
    basis = matrix[chosen]
    weights = np.linalg.lstsq(basis.T, matrix.T, rcond=None)[0].T
    weights[np.abs(weights) < 1e-12] = 0.0
    weights[chosen] = np.eye(rank)
    scale = float(np.abs(matrix).max())
    if np.abs(weights @ basis - matrix).max() > LOW_RANK_CHECK * scale:
        return None
    return weights, basis
