"""Write Marxan files: the Marxan-like outputs of a solve (``<SCENNAME>_best.csv``,
``_mv.csv``, ``_sum.csv``, ``_ssoln.csv``) and their reading back, and whole projects
(:func:`write_marxan`, used to build synthetic projects for tests and benchmarks).

- ``<SCENNAME>_best.csv``: ``PUID,SOLUTION``.
- ``<SCENNAME>_mv.csv``: missing values, Marxan's header and ``yes``/``no`` against
  ``MISSLEVEL``.
- ``<SCENNAME>_sum.csv``: the run summary.
- ``<SCENNAME>_ssoln.csv``: selection counts of a portfolio.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dss.planning.penalties import Penalty

if TYPE_CHECKING:  # pragma: no cover
    from dss.planning.marxan import MarxanProject
    from dss.planning.portfolio import Portfolio
    from dss.planning.solve import PlanningResult

MV_HEADER = ["Conservation Feature", "Feature Name", "Target", "Amount Held",
             "Occurrence Target ", "Occurrences Held", "Separation Target ",
             "Separation Achieved", "Target Met", "MPM"]
"""Marxan's missing-values header, trailing spaces included (``output.cpp``)."""

SUM_HEADER = ["Run_Number", "Score", "Cost", "Planning_Units", "Connectivity",
              "Connectivity_Total", "Connectivity_In", "Connectivity_Edge", "Connectivity_Out",
              "Connectivity_In_Fraction", "Penalty", "Shortfall", "Missing_Values", "MPM"]
"""Marxan's run-summary header."""


def _write(frame: pd.DataFrame, path: Path, quote_header: bool = False) -> None:
    text = frame.to_csv(index=False, lineterminator="\n", float_format="%.10g")
    if quote_header:
        head, _, rest = text.partition("\n")
        text = ",".join(f'"{h}"' for h in frame.columns) + "\n" + rest
    path.write_text(text, encoding="utf-8")


def write_marxan(folder: Path | str, pu: pd.DataFrame, spec: pd.DataFrame,
                 puvspr: pd.DataFrame, bound: pd.DataFrame | None = None, blm: float = 0.0,
                 scenario: str = "output", extra: dict[str, Any] | None = None) -> Path:
    """Write a Marxan project: ``input.dat`` and ``input/{pu,spec,puvspr,bound}.dat``.

    Args:
        folder: Project folder (created).
        pu: ``id, cost, status`` (+ any columns).
        spec: ``id, prop`` or ``target``, ``spf``, ``name``.
        puvspr: ``species, pu, amount`` (sorted by pu, as Marxan prefers).
        bound: ``id1, id2, boundary``, or None.
        blm: The boundary length modifier.
        scenario: ``SCENNAME``.
        extra: More ``input.dat`` keys.

    Returns:
        The ``input.dat`` path.
    """
    folder = Path(folder)
    (folder / "input").mkdir(parents=True, exist_ok=True)
    (folder / "output").mkdir(exist_ok=True)
    _write(pu, folder / "input" / "pu.dat")
    _write(spec, folder / "input" / "spec.dat")
    _write(puvspr.sort_values(["pu", "species"]), folder / "input" / "puvspr.dat")
    params = {"BLM": f"{blm:g}", "PROP": "0.5", "RANDSEED": "-1", "NUMREPS": "10",
              "NUMITNS": "1000000", "STARTTEMP": "-1", "NUMTEMP": "10000", "COSTTHRESH": "0",
              "THRESHPEN1": "0", "THRESHPEN2": "0", "INPUTDIR": "input", "PUNAME": "pu.dat",
              "SPECNAME": "spec.dat", "PUVSPRNAME": "puvspr.dat", "SCENNAME": scenario,
              "SAVERUN": "3", "SAVEBEST": "3", "SAVESUMMARY": "3", "SAVESCEN": "3",
              "SAVETARGMET": "3", "SAVESUMSOLN": "3", "OUTPUTDIR": "output", "RUNMODE": "1",
              "MISSLEVEL": "1", "ITIMPTYPE": "0", "HEURTYPE": "-1", "CLUMPTYPE": "0",
              "VERBOSITY": "2"}
    if bound is not None:
        _write(bound, folder / "input" / "bound.dat")
        params["BOUNDNAME"] = "bound.dat"
    params.update({k: str(v) for k, v in (extra or {}).items()})
    lines = ["Input file for Annealing program.", "",
             "This file was written by dss (dss.planning.marxan_outputs.write_marxan).", ""]
    lines += [f"{k} {v}" for k, v in params.items()]
    path = folder / "input.dat"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def best_table(project: MarxanProject, result: PlanningResult) -> pd.DataFrame:
    """``PUID, SOLUTION`` of a plan (Marxan's ``_best.csv``)."""
    selected = result.selected() > 0.5
    return pd.DataFrame({"PUID": project.pu["id"].astype(np.int64),
                         "SOLUTION": selected.astype(int)})


def mv_table(project: MarxanProject, result: PlanningResult) -> pd.DataFrame:
    """Missing values of a plan (Marxan's ``_mv.csv``): target, amount held, occurrence
    target and occurrences held, ``Target Met`` (``yes`` when held / target >= MISSLEVEL,
    empty without a target) and ``MPM`` (the least share of a target met, at most 1)."""
    selected = result.selected() > 0.5
    held_units = set(project.pu.loc[selected, "id"])
    amounts = project.puvspr[project.puvspr["pu"].isin(held_units)]
    held = amounts.groupby("species")["amount"].sum()
    occ = amounts[amounts["amount"] > 0].groupby("species").size()
    totals = project.puvspr.groupby("species")["amount"].sum()
    rows = []
    for r in project.spec.itertuples(index=False):
        target = r.prop * float(totals.get(r.id, 0.0)) if r.prop > 0 else r.target
        amount = float(held.get(r.id, 0.0))
        occurrences = int(occ.get(r.id, 0))
        met, mpm = "", 1.0
        if target > 0:
            met = "yes" if amount / target >= project.misslevel - 1e-9 else "no"
            mpm = min(mpm, amount / target)
        if r.targetocc > 0:
            ok = occurrences / r.targetocc >= project.misslevel - 1e-9
            met = "yes" if ok and met != "no" else "no"
            mpm = min(mpm, occurrences / r.targetocc)
        rows.append([int(r.id), r.name, target, amount, int(r.targetocc), occurrences, 0, 0,
                     met, mpm])
    return pd.DataFrame(rows, columns=MV_HEADER)


def connectivity(project: MarxanProject, result: PlanningResult) -> float:
    """The plan's boundary length (or, with ``ASYMMETRICCONNECTIVITY``, its connectivity
    cost) from ``bound.dat``, whatever BLM it was solved with (a model file's
    ``boundary.penalty``, or 0): the quantity the project's boundary penalties weigh, at
    BLM 1. 0 without ``bound.dat`` or a plan."""
    if project.bound is None or result.solution is None:
        return 0.0
    reference = project.problem(1.0)
    return float(sum(part.raw(reference.data, result.solution)
                     for part in reference.penalties if isinstance(part, Penalty)))


def sum_table(project: MarxanProject, result: PlanningResult, run: int = 1) -> pd.DataFrame:
    """Run summary (Marxan's ``_sum.csv``): score (objective), cost, planning units,
    connectivity (the boundary or connection cost), shortfall, missing values, MPM."""
    mv = mv_table(project, result)
    selected = result.selected() > 0.5
    cost = float(project.pu.loc[selected, "cost"].sum())
    raw = connectivity(project, result)
    short = (mv["Target"] - mv["Amount Held"]).clip(lower=0).sum()
    missing = int((mv["Target Met"] == "no").sum())
    return pd.DataFrame([[run, result.objective, cost, int(selected.sum()), raw, raw, 0.0, raw,
                          0.0, 0.0, 0.0, float(short), missing, float(mv["MPM"].min())
                          if len(mv) else 1.0]], columns=SUM_HEADER)


def ssoln_table(project: MarxanProject, portfolio: Portfolio) -> pd.DataFrame:
    """Summed solution: in how many plans of a portfolio each unit is selected."""
    freq = portfolio.frequency()
    return pd.DataFrame({"planning_unit": project.pu["id"].astype(np.int64).to_numpy(),
                         "number": freq["count"].astype(int).to_numpy()})


def marxan_tables(project: MarxanProject, result: PlanningResult,
                  portfolio: Portfolio | None = None) -> dict[str, pd.DataFrame]:
    """Marxan-like outputs of a solve, by file stem (``<SCENNAME>_best``, ...)."""
    scen = project.scenario
    tables = {}
    if result.solution is not None:
        tables[f"{scen}_best"] = best_table(project, result)
        tables[f"{scen}_mv"] = mv_table(project, result)
        tables[f"{scen}_sum"] = sum_table(project, result)
    if portfolio is not None and portfolio.results:
        tables[f"{scen}_ssoln"] = ssoln_table(project, portfolio)
    return tables


def write_marxan_outputs(project: MarxanProject, result: PlanningResult,
                         folder: Path | str | None = None,
                         portfolio: Portfolio | None = None) -> dict[str, Path]:
    """Write the Marxan-like outputs of a solve into ``folder`` (default ``OUTPUTDIR``).

    Returns:
        File stem -> path written.
    """
    folder = Path(folder) if folder is not None else project.output_dir
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for stem, table in marxan_tables(project, result, portfolio).items():
        path = folder / f"{stem}.csv"
        _write(table, path, quote_header=stem.endswith(("_mv", "_sum", "_ssoln")))
        out[stem] = path
    return out


def read_best(path: Path | str) -> pd.Series:
    """A ``_best.csv`` file back as a 0/1 Series indexed by PUID (as text)."""
    frame = pd.read_csv(path)
    frame.columns = [c.strip().strip('"').lower() for c in frame.columns]
    key = "puid" if "puid" in frame.columns else "planning_unit"
    value = "solution" if "solution" in frame.columns else frame.columns[1]
    return pd.Series(frame[value].to_numpy(int), index=frame[key].astype(str), name="solution")


def read_mv(path: Path | str) -> pd.DataFrame:
    """A ``_mv.csv`` file back as a frame (Marxan's header names, stripped)."""
    frame = pd.read_csv(path, keep_default_na=False)
    frame.columns = [c.strip() for c in frame.columns]
    return frame
