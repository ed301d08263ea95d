"""Scenarios of the uncertain input numbers: drawn from ``uncertainty.csv`` or named in
``uncertainty_scenarios.csv``.

Drawing. Each line :math:`\\ell` of ``uncertainty.csv`` has a distribution :math:`F_\\ell`. A
draw :math:`d` takes one uniform quantile :math:`u_{dg} \\sim U(0, 1)` per correlation group
:math:`g` (a line without a group is a group of its own) and sets
:math:`v_{d\\ell} = F_\\ell^{-1}(u_{d,g(\\ell)})`: lines of one group move together (perfect
rank correlation), groups are independent. The quantiles come from one NumPy generator
seeded with ``seed`` in a fixed order (draw-major, groups in order of first appearance), so
a seed gives the same draws whatever the number of workers. Every draw has probability
:math:`1/N`.

Inverse distribution functions (with :math:`a, c, b` = low, mode, high):

- triangular: :math:`a + \\sqrt{u (b - a)(c - a)}` for :math:`u < (c - a)/(b - a)`, else
  :math:`b - \\sqrt{(1 - u)(b - a)(b - c)}`;
- uniform: :math:`a + u (b - a)`;
- normal: :math:`c + \\sigma \\Phi^{-1}(u)`; lognormal: :math:`c \\exp(\\sigma \\Phi^{-1}(u))`
  (both clipped to [low, high] where given).
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

from dss.data.study import Study
from dss.data.uncertain import Change, Target, changed_study, resolve, with_frames
from dss.errors import InputError, Issue

MEAN_SCENARIO = "mean"
"""Name of the scenario at the expected inputs."""


@dataclass(frozen=True)
class ScenarioSet:
    """Scenarios of the uncertain numbers.

    Attributes:
        names: Scenario names (``draw_1`` ... for drawn ones).
        probabilities: Probability of each (they sum to 1).
        changes: The changes that make each scenario's study from the nominal one.
        source: ``drawn`` or ``named``.
    """

    names: tuple[str, ...]
    probabilities: np.ndarray
    changes: tuple[tuple[Change, ...], ...]
    source: str

    def __len__(self) -> int:
        return len(self.names)

    def study(self, nominal: Study, s: int) -> Study:
        """The study of scenario ``s``."""
        return changed_study(nominal, self.changes[s])

    def subset(self, which: np.ndarray | list[int]) -> ScenarioSet:
        """Some of the scenarios, probabilities renormalised."""
        which = list(which)
        p = self.probabilities[which]
        return ScenarioSet(tuple(self.names[i] for i in which), p / p.sum(),
                           tuple(self.changes[i] for i in which), self.source)


def _targets(study: Study, table: pd.DataFrame, file: str) -> list[Target]:
    frames = {name: study.table(name) for name in
              ("subunits", "land_classes", "land_cover", "point_sources", "species",
               "species_habitat", "control_points", "barriers", "actions")}
    out, issues = [], []
    for i, rec in enumerate(table.to_dict("records")):
        target, problem, where = resolve(frames, rec["table"], rec["row"], rec["column"])
        if problem:  # load_study reports these; a study built in Python may not have
            issues.append(Issue(file, problem, i + 2, where))
        out.append(target)
    if issues:
        raise InputError(issues, f"invalid {file}")
    return out


def inverse_cdf(spec: pd.DataFrame, u: np.ndarray) -> np.ndarray:
    """Values of each line (columns) at the quantiles ``u`` (draws x lines)."""
    out = np.empty_like(u)
    normal = NormalDist()
    z = None
    for j, rec in enumerate(spec.to_dict("records")):
        q = u[:, j]
        lo, mode, hi = rec["low"], rec["mode"], rec["high"]
        kind = rec["distribution"]
        if kind == "triangular":
            cut = (mode - lo) / (hi - lo) if hi > lo else 0.0
            left = lo + np.sqrt(q * (hi - lo) * (mode - lo))
            right = hi - np.sqrt((1 - q) * (hi - lo) * (hi - mode))
            out[:, j] = np.where(q < cut, left, right)
            continue
        if kind == "uniform":
            out[:, j] = lo + q * (hi - lo)
            continue
        if z is None:
            z = np.vectorize(normal.inv_cdf, otypes=[float])(np.clip(u, 1e-12, 1 - 1e-12))
        sd = rec["sd"]
        values = mode + sd * z[:, j] if kind == "normal" else mode * np.exp(sd * z[:, j])
        low = -np.inf if pd.isna(lo) else lo
        high = np.inf if pd.isna(hi) else hi
        out[:, j] = np.clip(values, low, high)
    return out


def quantiles(spec: pd.DataFrame, draws: int, seed: int) -> np.ndarray:
    """Uniform quantiles per draw and line (draws x lines), shared within a group."""
    groups: dict[str, int] = {}
    column = []
    for j, g in enumerate(spec["group"].fillna("").astype(str)):
        key = g if g else f"\0line{j}"
        column.append(groups.setdefault(key, len(groups)))
    rng = np.random.default_rng(seed)
    u = rng.random((draws, len(groups)))
    return u[:, np.asarray(column, dtype=np.int64)] if len(column) else u[:, :0]


def drawn_scenarios(study: Study, draws: int, seed: int) -> ScenarioSet:
    """``draws`` scenarios drawn from the study's ``uncertainty.csv`` (equally likely).

    Raises:
        InputError: if the study has no uncertainty table or ``draws`` < 1.
    """
    spec = study.uncertainty
    if draws < 1:
        raise InputError([Issue("--draws", f"needs at least one draw (got {draws})")],
                         "invalid draws")
    if spec is None or not len(spec):
        raise InputError([Issue("uncertainty.csv", "the study declares no uncertain numbers "
                                "(add uncertainty.csv to its inputs folder; see `dss inputs "
                                "uncertainty`)")], "nothing is uncertain")
    targets = _targets(study, spec, "uncertainty.csv")
    values = inverse_cdf(spec, quantiles(spec, draws, seed))
    applies = spec["apply"].tolist()
    changes = tuple(tuple(Change(t, a, float(v)) for t, a, v in
                          zip(targets, applies, row, strict=True)) for row in values)
    width = len(str(draws))
    names = tuple(f"draw_{d + 1:0{width}d}" for d in range(draws))
    return ScenarioSet(names, np.full(draws, 1.0 / draws), changes, "drawn")


def named_scenarios(study: Study) -> ScenarioSet:
    """The scenarios of the study's ``uncertainty_scenarios.csv``, in order of appearance.

    Raises:
        InputError: if the study has no such table.
    """
    table = study.uncertainty_scenarios
    if table is None or not len(table):
        raise InputError([Issue("uncertainty_scenarios.csv", "the study names no scenarios "
                                "(add uncertainty_scenarios.csv to its inputs folder; see "
                                "`dss inputs uncertainty_scenarios`)")], "no named scenarios")
    changing = table[table["table"] != ""]
    targets = dict(zip(changing.index, _targets(study, changing, "uncertainty_scenarios.csv"),
                       strict=True))
    names = list(dict.fromkeys(table["scenario"]))
    probabilities = table.groupby("scenario", sort=False)["probability"].first()
    changes = []
    for name in names:
        mine = changing[changing["scenario"] == name]
        changes.append(tuple(Change(targets[i], a, float(v)) for i, a, v in
                             zip(mine.index, mine["apply"], mine["value"], strict=True)))
    p = probabilities.reindex(names).to_numpy(float)
    return ScenarioSet(tuple(names), p / p.sum(), tuple(changes), "named")


def scenario_set(study: Study, source: str, draws: int = 100, seed: int = 1) -> ScenarioSet:
    """Drawn (``source="drawn"``) or named (``"named"``) scenarios of a study."""
    if source == "named":
        return named_scenarios(study)
    return drawn_scenarios(study, draws, seed)


def mean_study(nominal: Study, scenarios: ScenarioSet) -> Study:
    """The study at the expected inputs: every uncertain cell at its probability-weighted
    mean over the scenarios (the "average numbers" a deterministic plan is made on)."""
    touched: dict[tuple[str, str], None] = {}
    for changes in scenarios.changes:
        for c in changes:
            touched[(c.target.table, c.target.column)] = None
    if not touched:
        return nominal
    sums = {key: np.zeros(len(nominal.table(key[0]))) for key in touched}
    for s, p in enumerate(scenarios.probabilities):
        study = scenarios.study(nominal, s)
        for table, column in touched:
            sums[(table, column)] += p * study.table(table)[column].to_numpy(dtype=float)
    frames: dict[str, pd.DataFrame] = {}
    for (table, column), values in sums.items():
        frame = frames.setdefault(table, nominal.table(table).copy())
        frame[column] = values
    return with_frames(nominal, frames)
