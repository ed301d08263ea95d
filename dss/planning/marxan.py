"""Marxan projects in: read ``input.dat`` and its tables, and pose the exact problem.

Read (:func:`read_marxan`):

- ``input.dat``: ``KEY value`` lines (other lines are comments). Used: ``INPUTDIR``,
  ``OUTPUTDIR``, ``PUNAME``, ``SPECNAME``, ``PUVSPRNAME``, ``BOUNDNAME``, ``BLM``,
  ``SCENNAME``, ``MISSLEVEL``, ``ASYMMETRICCONNECTIVITY``. Simulated-annealing settings
  (``NUMREPS``, ``NUMITNS``, ``STARTTEMP``, ``RUNMODE``, ...) have no meaning for an exact
  solve and are kept but not used.
- ``pu.dat``: ``id, cost, status`` (+ ``xloc, yloc``...): status 2 is locked in, 3 locked
  out, 0 and 1 free (1 only seeds Marxan's annealing).
- ``spec.dat``: ``id, prop`` or ``target``, ``spf``, ``name`` (+ ``targetocc``): ``prop > 0``
  gives a target of that share of the feature's total amount (it overrides ``target``, as in
  Marxan); ``targetocc`` a target on the number of units holding the feature. ``spf`` weighs
  soft targets in Marxan; here targets are hard, so it is kept for the records only.
- ``puvspr.dat``: ``species, pu, amount``.
- ``bound.dat``: ``id1, id2, boundary``; ``id1 == id2`` is a unit's fixed (external)
  boundary. With ``ASYMMETRICCONNECTIVITY 1`` rows are directed connections (a selected
  ``id1`` pays when ``id2`` is not selected, as Marxan's ``connectionorigon``).

Files may be comma- or tab-separated (Marxan accepts both). Every problem in every file is
reported at once, located as ``file, row N, column C``.

Solve (:meth:`MarxanProject.problem`): the minimum set with hard targets, Marxan's objective
:math:`\\sum_i c_i x_i + \\text{BLM} \\sum b_{ij} [\\,x_i \\ne x_j] + \\text{BLM} \\sum_i
b_{ii} x_i` solved to proven optimality by HiGHS, instead of simulated annealing with species
penalty factors.

Write: :mod:`dss.planning.marxan_outputs` (Marxan-like outputs of a solve, and projects for
tests and benchmarks). Cells of the tables are read and checked by
:mod:`dss.planning.marxan_cells`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from dss.errors import InputError, Issue
from dss.planning.marxan_cells import _ids, _numbers, _read_table, _unique, _unknown
from dss.planning.problem import PlanningData, PlanningProblem

LOGGER = logging.getLogger(__name__)

INPUT_KEYS = ("INPUTDIR", "OUTPUTDIR", "PUNAME", "SPECNAME", "PUVSPRNAME", "BOUNDNAME", "BLM",
              "SCENNAME", "MISSLEVEL", "ASYMMETRICCONNECTIVITY")
"""``input.dat`` keys that shape the exact solve."""

DEFAULTS = {"INPUTDIR": "input", "OUTPUTDIR": "output", "PUNAME": "pu.dat",
            "SPECNAME": "spec.dat", "PUVSPRNAME": "puvspr.dat", "BOUNDNAME": "",
            "BLM": "0", "SCENNAME": "output", "MISSLEVEL": "1", "ASYMMETRICCONNECTIVITY": "0"}


@dataclass
class MarxanProject:
    """A Marxan project read from disk.

    Attributes:
        input_file: The ``input.dat`` read.
        params: Every ``KEY value`` of ``input.dat`` (defaults filled in).
        pu: ``pu.dat`` (``id`` as text, ``cost``, ``status`` and any other columns).
        spec: ``spec.dat`` (``id`` as text, ``name``, ``target``, ``prop``, ``spf``,
            ``targetocc``).
        puvspr: ``puvspr.dat`` (``species``, ``pu`` as text, ``amount``).
        bound: ``bound.dat`` (``id1``, ``id2`` as text, ``boundary``), or None.
        notes: Settings read but not used by the exact solve.
    """

    input_file: Path
    params: dict[str, str]
    pu: pd.DataFrame
    spec: pd.DataFrame
    puvspr: pd.DataFrame
    bound: pd.DataFrame | None
    notes: list[str] = field(default_factory=list)

    @property
    def folder(self) -> Path:
        """The project folder (where ``input.dat`` is)."""
        return self.input_file.parent

    @property
    def blm(self) -> float:
        """The boundary length modifier."""
        return float(self.params["BLM"])

    @property
    def asymmetric(self) -> bool:
        """Whether ``bound.dat`` holds directed connections."""
        return self.params["ASYMMETRICCONNECTIVITY"].strip() not in ("0", "")

    @property
    def scenario(self) -> str:
        """``SCENNAME``: the prefix of output files."""
        return self.params["SCENNAME"] or "output"

    @property
    def output_dir(self) -> Path:
        """``OUTPUTDIR`` (relative to the project folder)."""
        return self.folder / self.params["OUTPUTDIR"]

    @property
    def misslevel(self) -> float:
        """Share of a target that counts as met in the missing-values file."""
        return float(self.params["MISSLEVEL"])

    def data(self) -> PlanningData:
        """Planning data: one zone (``selected``), pu costs, features (with an
        ``occ:<id>`` feature per occurrence target) and boundaries."""
        features = self.spec[["id", "name"]].copy()
        amounts = self.puvspr.rename(columns={"species": "feature", "pu": "unit"})
        occ = self.spec[self.spec["targetocc"] > 0]
        if len(occ):
            features = pd.concat([features, pd.DataFrame({
                "id": "occ:" + occ["id"], "name": occ["name"] + " (occurrences)"})],
                ignore_index=True)
            present = amounts[amounts["feature"].isin(occ["id"]) & (amounts["amount"] > 0)]
            amounts = pd.concat([amounts, pd.DataFrame({
                "feature": "occ:" + present["feature"], "unit": present["unit"],
                "amount": 1.0})], ignore_index=True)
        bound = None
        if self.bound is not None and not self.asymmetric:
            bound = self.bound
        files = {"units": self.params["PUNAME"], "features": self.params["SPECNAME"],
                 "amounts": self.params["PUVSPRNAME"], "boundary": self.params["BOUNDNAME"]}
        return PlanningData.from_tables(self.pu, features, amounts[["feature", "unit", "amount"]],
                                        cost="cost", boundary=bound, files=files)

    def problem(self, blm: float | None = None) -> PlanningProblem:
        """The exact Marxan problem: minimum set, hard targets, status locks, BLM.

        Args:
            blm: Boundary length modifier (default: ``BLM`` of ``input.dat``).
        """
        blm = self.blm if blm is None else float(blm)
        problem = PlanningProblem(self.data()).add_min_set_objective()
        spec = self.spec
        totals = self.puvspr.groupby("species")["amount"].sum()
        targets = {}
        for row in spec.itertuples(index=False):
            total = float(totals.get(row.id, 0.0))
            amount = row.prop * total if row.prop > 0 else row.target
            if amount > 0:
                targets[row.id] = float(amount)
            if row.targetocc > 0:
                targets[f"occ:{row.id}"] = float(row.targetocc)
        if targets:
            problem = problem.add_absolute_targets(targets)
        # relative targets are reported as such in the missing values
        prop = {r.id: r.prop for r in spec.itertuples(index=False) if r.prop > 0}
        if prop:
            ids = problem.data.feature_ids
            problem = replace(problem, targets=tuple(
                replace(t, relative=float(prop[ids[t.feature]])) if ids[t.feature] in prop
                else t for t in problem.targets))
        locked_in = self.pu.loc[self.pu["status"] == 2, "id"].tolist()
        locked_out = self.pu.loc[self.pu["status"] == 3, "id"].tolist()
        if locked_in:
            problem = problem.add_locked_in_constraints(locked_in)
        if locked_out:
            problem = problem.add_locked_out_constraints(locked_out)
        if blm != 0 and self.bound is not None:  # negative: spread the plan out
            if self.asymmetric:
                b = self.bound
                pairs = b[b["id1"] != b["id2"]].rename(columns={"boundary": "value"})
                fixed_cost = b[b["id1"] == b["id2"]].groupby("id1")["boundary"].sum()
                problem = problem.add_asym_connectivity_penalties(blm, pairs, name="connectivity")
                if len(fixed_cost):
                    problem = problem.add_linear_penalties(blm, fixed_cost.reindex(
                        problem.data.unit_ids).fillna(0.0).to_numpy(), name="fixed_boundary")
            else:
                problem = problem.add_boundary_penalties(blm, edge_factor=1.0)
        return problem


# ----------------------------------------------------------------------------- reading


def read_input_dat(path: Path) -> dict[str, str]:
    """``KEY value`` pairs of ``input.dat`` (first word upper-case letters and digits);
    defaults filled in for the keys dss uses.

    Raises:
        InputError: if the file is missing or is not text.
    """
    if not path.is_file():
        raise InputError([Issue(str(path), "Marxan input file not found (pass input.dat or "
                                           "the folder holding it)")], "cannot read Marxan "
                                                                       "project")
    try:
        text = path.read_bytes().decode("utf-8-sig", errors="strict")
    except UnicodeDecodeError:
        text = path.read_bytes().decode("latin-1")
    params = dict(DEFAULTS)
    for line in text.splitlines():
        parts = line.strip().split(None, 1)
        if not parts or not parts[0].isupper() or not parts[0].replace("_", "").isalnum():
            continue
        params[parts[0]] = parts[1].strip() if len(parts) > 1 else ""
    return params


def read_marxan(path: Path | str) -> MarxanProject:
    """Read a Marxan project from its ``input.dat`` (or the folder holding it).

    Raises:
        InputError: listing every problem in every file, located by file, row and column.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "input.dat"
    params = read_input_dat(path)
    issues: list[Issue] = []
    try:
        blm = float(params["BLM"])
        if not math.isfinite(blm) or blm < 0:
            raise ValueError
    except ValueError:
        issues.append(Issue(path.name, f"BLM {params['BLM']!r} is not a number >= 0", None,
                            "BLM"))
    for key in ("MISSLEVEL",):
        try:
            float(params[key])
        except ValueError:
            issues.append(Issue(path.name, f"{key} {params[key]!r} is not a number", None, key))
    inputdir = path.parent / params["INPUTDIR"]
    names = {k: params[k] for k in ("PUNAME", "SPECNAME", "PUVSPRNAME")}
    pu = _read_table(inputdir / names["PUNAME"], names["PUNAME"], issues)
    spec = _read_table(inputdir / names["SPECNAME"], names["SPECNAME"], issues)
    puvspr = _read_table(inputdir / names["PUVSPRNAME"], names["PUVSPRNAME"], issues)
    bound = None
    if params["BOUNDNAME"]:
        bound = _read_table(inputdir / params["BOUNDNAME"], params["BOUNDNAME"], issues)
    notes = []
    pu_out = spec_out = amounts_out = bound_out = None
    if pu is not None:
        name = names["PUNAME"]
        ids = _ids(pu, "id", name, issues)
        _unique(ids, pu, name, "id", issues)
        cost = _numbers(pu, "cost", name, issues, default=1.0, minimum=0.0)
        status = _numbers(pu, "status", name, issues, default=0.0, integer=True)
        rows = pu.attrs["rows"]
        bad = ~status.isin([0, 1, 2, 3]).to_numpy()
        for pos in np.flatnonzero(bad)[:10]:
            issues.append(Issue(name, f"status {status.iloc[pos]:g} is not 0, 1, 2 or 3 "
                                      "(0/1 free, 2 locked in, 3 locked out)", int(rows[pos]),
                                "status"))
        pu_out = pd.DataFrame({"id": ids, "cost": cost, "status": status.astype(int)})
        for extra in pu.columns:
            if extra not in ("id", "cost", "status"):
                pu_out[extra] = pd.to_numeric(pu[extra], errors="coerce")
    if spec is not None:
        name = names["SPECNAME"]
        ids = _ids(spec, "id", name, issues)
        _unique(ids, spec, name, "id", issues)
        if "prop" not in spec.columns and "target" not in spec.columns and \
                "targetocc" not in spec.columns:
            issues.append(Issue(name, "needs a prop or a target column (or targetocc)", 1))
        prop = _numbers(spec, "prop", name, issues, default=0.0, minimum=0.0)
        rows = spec.attrs["rows"]
        for pos in np.flatnonzero((prop > 1).to_numpy())[:10]:
            issues.append(Issue(name, f"prop {prop.iloc[pos]:g} is above 1 (a share of the "
                                      "feature's total, 0 to 1)", int(rows[pos]), "prop"))
        spec_out = pd.DataFrame({
            "id": ids,
            "name": spec["name"] if "name" in spec.columns else ids,
            "target": _numbers(spec, "target", name, issues, default=0.0, minimum=0.0),
            "prop": prop,
            "spf": _numbers(spec, "spf", name, issues, default=0.0, minimum=0.0),
            "targetocc": _numbers(spec, "targetocc", name, issues, default=0.0, minimum=0.0),
        })
        spec_out["name"] = spec_out["name"].where(spec_out["name"].astype(str) != "", ids)
        for unused in ("target2", "sepnum", "sepdistance", "ptarget1d", "ptarget2d"):
            if unused in spec.columns and (pd.to_numeric(spec[unused], errors="coerce")
                                           .fillna(0) > 0).any():
                notes.append(f"{name}: {unused} (clumping, separation or probability "
                             "targets) is not supported by the exact solve and is ignored")
    if puvspr is not None:
        name = names["PUVSPRNAME"]
        amounts_out = pd.DataFrame({
            "species": _ids(puvspr, "species", name, issues),
            "pu": _ids(puvspr, "pu", name, issues),
            "amount": _numbers(puvspr, "amount", name, issues, minimum=0.0)})
        if spec_out is not None:
            _unknown(amounts_out["species"], set(spec_out["id"]), puvspr, name, "species",
                     "feature", issues)
        if pu_out is not None:
            _unknown(amounts_out["pu"], set(pu_out["id"]), puvspr, name, "pu",
                     "planning unit", issues)
        dup = amounts_out.duplicated(["species", "pu"]).to_numpy()
        for pos in np.flatnonzero(dup)[:10]:
            issues.append(Issue(name, f"species {amounts_out['species'].iloc[pos]} is listed "
                                      f"twice for pu {amounts_out['pu'].iloc[pos]}",
                                int(puvspr.attrs["rows"][pos]), "pu"))
    if bound is not None:
        name = params["BOUNDNAME"]
        bound_out = pd.DataFrame({"id1": _ids(bound, "id1", name, issues),
                                  "id2": _ids(bound, "id2", name, issues),
                                  "boundary": _numbers(bound, "boundary", name, issues)})
        if pu_out is not None:
            for column in ("id1", "id2"):
                _unknown(bound_out[column], set(pu_out["id"]), bound, name, column,
                         "planning unit", issues)
    if issues:
        raise InputError(issues, f"invalid Marxan project {path}")
    for key in ("NUMREPS", "NUMITNS", "STARTTEMP", "COOLFAC", "NUMTEMP", "RUNMODE",
                "HEURTYPE", "ITIMPTYPE", "CLUMPTYPE", "COSTTHRESH", "PROBABILITYWEIGHTING"):
        if key in params:
            notes.append(f"{path.name}: {key} is a heuristic setting; the exact solve does not "
                         "use it")
    for note in notes:
        LOGGER.info("%s", note)
    project = MarxanProject(path, params, pu_out, spec_out, amounts_out, bound_out, notes)
    LOGGER.info("read Marxan project %s: %d planning units, %d features, %d amounts, BLM %g",
                path, len(pu_out), len(spec_out), len(amounts_out), project.blm)
    return project
