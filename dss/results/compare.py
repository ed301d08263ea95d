"""Compare scenarios side by side: stacked tidy tables, a Markdown report and an Excel workbook.

Runs are read back from their folders (:mod:`dss.results.runs`) and stacked on a ``scenario``
key, as PyPSA's ``NetworkCollection`` stacks networks: every comparison table is tidy and
long, one row per (scenario, item, metric), with the value, its unit and its difference from
the baseline scenario (``delta_vs_<baseline>``, the scenario's value minus the baseline's)::

    from dss.results.compare import compare_runs, write_comparison

    cmp = compare_runs(["results/baoxing/base", "results/baoxing/double_budget"])
    cmp.tables["summary"]             # scenario, metric, value, unit, delta_vs_base
    write_comparison(cmp, "results/baoxing/compare")

Tables: ``summary`` (objective, spend, budget, gap, status, options used, each benefit and each
marginal value), ``control_points`` (routed load after the plan, per point and pollutant),
``species`` (habitat after the plan, and whether its target is met), ``spend_by_agency``,
``spend_by_township``, ``spend_by_zone`` and ``spend_by_action`` (sums of the allocation
table's cost, with each group's share of spend), ``allocations`` (amount and cost per
subunit and action) and ``scenarios`` (what was compared, from where).

Where a scenario with a plan has no row for an item (no spend in a township, an action not
chosen), its value is 0; a scenario without a plan (infeasible, solver error) has no rows in
the plan tables.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from dss.errors import InputError, Issue, did_you_mean
from dss.results.compare_display import comparison_markdown
from dss.results.compare_tables import MARKDOWN, SPECS, WORKBOOK, Comparison, fill_tables
from dss.results.compare_workbook import comparison_workbook
from dss.results.folders import check_replaceable, run_folder
from dss.results.runs import MANIFEST, RunFolder, read_run
from dss.results.writer import file_sha256, make_manifest, write_run

LOGGER = logging.getLogger(__name__)

COMPARE_KIND = "compare"


def stack_tables(runs: Sequence[RunFolder], stem: str) -> pd.DataFrame:
    """One result table of every run, stacked on a leading ``scenario`` column.

    Runs without the table (no plan) contribute no rows.
    """
    frames = [run.tables[stem].assign(scenario=run.name) for run in runs if stem in run.tables]
    if not frames:
        return pd.DataFrame({"scenario": pd.Series(dtype=object)})
    data = pd.concat(frames, ignore_index=True)
    return data[["scenario", *[c for c in data.columns if c != "scenario"]]]


def read_runs(folders: Sequence[Path | str]) -> list[RunFolder]:
    """Read run folders for a comparison; every unreadable one is reported at once.

    Raises:
        InputError: if a folder is not a solve run, the runs belong to different studies,
            or two runs have the same scenario label.
    """
    runs: list[RunFolder] = []
    issues: list[Issue] = []
    for folder in folders:
        try:
            runs.append(read_run(folder))
        except InputError as err:
            issues.extend(err.issues)
    if issues:
        raise InputError(issues, "cannot compare")
    if not runs:
        raise InputError([Issue("dss compare", "no runs given (pass run folders, or --model "
                                               "with --scenario)")], "cannot compare")
    studies = {run.study for run in runs}
    if len(studies) > 1:
        first = runs[0].study
        raise InputError([Issue(str(run.folder), f"is a run of study {run.study!r}, the first "
                                                 f"run is of study {first!r} (compare runs of "
                                                 "one study)")
                          for run in runs if run.study != first], "cannot compare")
    seen: dict[str, Path] = {}
    for run in runs:
        if run.name in seen:
            same = seen[run.name].resolve() == run.folder.resolve()
            issues.append(Issue(str(run.folder), (
                "given twice" if same else
                f"has the same scenario label {run.name!r} as {seen[run.name]}")
                + " (each scenario can be compared once)"))
        seen.setdefault(run.name, run.folder)
    if issues:
        raise InputError(issues, "cannot compare")
    return runs


def compare_runs(folders: Sequence[Path | str], baseline: str | None = None,
                 inputs_dir: Path | None = None) -> Comparison:
    """Read run folders and build every comparison table.

    Args:
        folders: Run folders of one study (``results/<study>/<scenario>``).
        baseline: Scenario the differences are taken against (default: the first).
        inputs_dir: Study input folder for Chinese names (default: from the manifests).

    Raises:
        InputError: on unreadable runs, mixed studies or an unknown baseline.
    """
    runs = read_runs(folders)
    names = [run.name for run in runs]
    if baseline is None:
        baseline = names[0]
    elif baseline not in names:
        hint = did_you_mean(baseline, names, quote=True)
        raise InputError([Issue("--baseline", f"{baseline!r} is not one of the scenarios "
                                              f"compared ({hint + ' ' if hint else ''}"
                                              f"compared: {', '.join(names)})")],
                         "cannot compare")
    cmp = Comparison(runs[0].study, runs[0].title, baseline, runs)
    fill_tables(cmp, inputs_dir)
    return cmp


# --- writing -----------------------------------------------------------------------------


def default_out(runs: Sequence[RunFolder]) -> Path:
    """``<parent>/compare`` when every run folder has the same parent (normally
    ``results/<study>``), else ``results/<study>/compare``."""
    parents = {run.folder.resolve().parent for run in runs}
    if len(parents) == 1:
        return runs[0].folder.parent / "compare"
    return run_folder("results", runs[0].study, "compare", "comparison folder",
                      f"{runs[0].folder / MANIFEST} (config.name)")


def write_comparison(cmp: Comparison, out: Path | str | None = None) -> Path:
    """Write the tidy CSVs, ``comparison.md`` and ``comparison.xlsx`` atomically.

    Args:
        cmp: The comparison.
        out: Target folder (default: :func:`default_out`). It is replaced as a whole, so it
            must be new, empty, or an earlier comparison.

    Returns:
        The folder written.

    Raises:
        InputError: if ``out`` holds something else.
        MissingDependencyError: if openpyxl is not installed.
        OutputError: if the folder cannot be written.
    """
    target = Path(out) if out is not None else default_out(cmp.runs)
    check_replaceable(target, (COMPARE_KIND,))  # before the workbook is made
    workbook = comparison_workbook(cmp)
    markdown = comparison_markdown(cmp)
    runs = {f"runs/{run.name}/{MANIFEST}": file_sha256(run.folder / MANIFEST)
            for run in cmp.runs}
    manifest = make_manifest(COMPARE_KIND, runs, None, {
        "study": cmp.study, "baseline": cmp.baseline,
        "scenarios": [{"name": run.name, "status": run.status,
                       "folder": _relative(run.folder, target)} for run in cmp.runs]})
    tables = {"scenarios": cmp.tables["scenarios"],
              **{name: cmp.tables[name] for name in SPECS}}
    write_run(target, tables, manifest, {MARKDOWN: markdown, WORKBOOK: workbook},
              (COMPARE_KIND,))
    return target


def _relative(path: Path, start: Path) -> str:
    try:
        return Path(os.path.relpath(path.resolve(), start.resolve())).as_posix()
    except ValueError:
        return path.resolve().as_posix()
