"""The core commands of ``dss``: baseline, validate, inputs, synth, solve, components,
compare and plot (see :mod:`dss.cli` for the exit codes)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from dss.cli.common import (
    DEFAULT_MODEL,
    MAX_CONSOLE_POINTS,
    STATE,
    ModelArg,
    OutOpt,
    PluginOpt,
    ScenarioOpt,
    SetOpt,
    _guard,
    _import_plugins,
    app,
    collection_paused,
    echo_rows,
    resolve_model_path,
)
from dss.errors import InputError, Issue


@app.command()
@_guard
def baseline(model: ModelArg = DEFAULT_MODEL, out: OutOpt = Path("results")) -> None:
    """Compute the baseline indicators of a study and write results/<study>/baseline/."""
    from dss.api import run_baseline
    from dss.cli.console import step_status
    from dss.results.report import baseline_summary, fmt

    start = time.perf_counter()
    with step_status() as step:
        step("baseline")
        run = run_baseline(resolve_model_path(model), out)
    basin = run.baseline.tables["basin"]
    typer.echo(f"Baseline of {run.title} ({len(run.study.subunits):,} subunits)")
    echo_rows([(r.label, fmt(r.value), r.unit)
               for r in baseline_summary(basin).itertuples(index=False)])
    cps = run.baseline.tables["control_points"]
    if len(cps):
        typer.echo("Control points (routed load):")
        wide = cps.pivot_table(index="point_id", columns="pollutant", values="load",
                               sort=False)
        shown = wide.head(MAX_CONSOLE_POINTS)
        echo_rows([(pid, ", ".join(f"{p} {fmt(v)} {u}" for p, v, u in (
            ("sediment", r.get("sediment"), "t/yr"), ("TN", r.get("tn"), "kg/yr"),
            ("TP", r.get("tp"), "kg/yr"))), "") for pid, r in shown.iterrows()])
        if len(wide) > len(shown):
            typer.echo(f"  ... and {len(wide) - len(shown):,} more (control_points.csv)")
    typer.echo(f"Wrote {run.folder} in {time.perf_counter() - start:.1f} s "
               f"(report: {run.folder / 'report.md'})")


@app.command()
@_guard
@collection_paused
def validate(model: ModelArg = DEFAULT_MODEL,
             scenario: Annotated[list[str] | None, typer.Option(
                 "--scenario", "-s", help="Scenario to apply (repeatable).")] = None,
             set_: Annotated[list[str] | None, typer.Option(
                 "--set", help="Override KEY=VALUE (repeatable).")] = None) -> None:
    """Check a model file and its input tables exactly as dss solve does before it builds
    (schema, component parameters, tables, cross-references, solver options, presolve);
    report every problem found."""
    from dss.api import check_model

    checked = check_model(resolve_model_path(model), scenario, set_)
    resolved = checked.model
    typer.echo(f"{resolved.path.name} [{resolved.scenario}]: valid ({checked.summary})")
    for issue in checked.warnings or []:
        typer.secho(f"  warning: {issue}", fg=typer.colors.YELLOW, err=True)
    STATE["quick_exit"] = True  # nothing to write or wait for: see exit_process


@app.command()
@_guard
def inputs(table: Annotated[str | None, typer.Argument(
        help="Show one table only.")] = None) -> None:
    """Document the input tables: columns, types, units, defaults, descriptions."""
    from dss.data.docs import describe_tables

    typer.echo(describe_tables(table))


@app.command()
@_guard
def synth(out_dir: Annotated[Path, typer.Argument(help="Folder to write the study into.")],
          subunits: Annotated[int, typer.Option("--subunits", "-n", min=1,
                                                help="Number of subunits.")] = 100,
          seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
          actions: Annotated[int, typer.Option("--actions", min=1,
                                               help="Number of actions.")] = 8,
          overwrite: Annotated[bool, typer.Option("--overwrite",
                                                  help="Replace an existing study.")] = False
          ) -> None:
    """Write a valid synthetic study (random dendritic basin) of any size."""
    from dss.synth import write_study

    start = time.perf_counter()
    path = write_study(out_dir, subunits, seed=seed, n_actions=actions, overwrite=overwrite)
    typer.echo(f"Wrote synthetic study with {subunits:,} subunits to {path.parent} "
               f"in {time.perf_counter() - start:.1f} s; run: dss baseline {path}")


def _echo_extra_tables(tables: dict) -> None:
    """Short console lines for the tables of the stochastic and livelihoods components."""
    from dss.results.report import fmt

    if "scenario_benefit" in tables:
        typer.echo("Benefit in each scenario of the uncertain inputs:")
        echo_rows([(f"{r.scenario} (p {r.probability:.3g})", fmt(r.benefit), r.unit)
                   for r in tables["scenario_benefit"].head(MAX_CONSOLE_POINTS).itertuples()])
    if "stochastic_value" in tables:
        value = tables["stochastic_value"]
        echo_rows([(r.metric, fmt(r.value), r.unit) for r in value.itertuples(index=False)])
        if value["meaning"].str.contains("breaks").any():
            typer.echo("  the plan made on the average numbers breaks a limit in some "
                       "scenario (stochastic_value.csv)")
    if "livelihoods" in tables:
        wide = tables["livelihoods"].pivot(index="township", columns="metric",
                                           values="value")
        typer.echo("Livelihoods (net income change per resident and year, job-years):")
        echo_rows([(str(g), fmt(r["net_per_resident_year"]), f"CNY/(person yr), "
                    f"{fmt(r['job_years'])} job-years") for g, r in wide.iterrows()])


@app.command()
@_guard
@collection_paused
def solve(model: ModelArg = DEFAULT_MODEL,
          scenario: ScenarioOpt = None,
          set_: SetOpt = None,
          out: OutOpt = Path("results"),
          plugin: PluginOpt = None,
          run_name: Annotated[str | None, typer.Option(
              "--run-name", help="Results folder name (default: the scenario; with --set, "
                                 "<scenario>+<key>=<value>, e.g. base+budget.total=3e7).")]
          = None,
          show_all: Annotated[bool, typer.Option(
              "--all", help="Print every allocation and control point, not the largest.")]
          = False,
          lang: Annotated[str, typer.Option(
              "--lang", help="Names on the console: en (English) or zh (Chinese).")] = "en",
          write_model: Annotated[Path | None, typer.Option(
              "--write-model", help="Also write the exact model handed to HiGHS to this "
                                    "file (.mps or .lp), to solve it with HiGHS alone.",
              show_default=False)] = None,
          ) -> None:
    """Solve the model (allocation, or park design for kind: planning) and write
    results/<study>/<scenario>/."""
    from dss.api import run_solve
    from dss.cli.console import echo_solve, step_status
    from dss.report.i18n import check_lang

    try:
        lang = check_lang(lang)
    except ValueError as err:
        raise InputError([Issue("--lang", str(err))], "cannot solve") from None
    _import_plugins(plugin)
    from dss.optimize.model_file import check_model_path, writing_model

    model_file = check_model_path(write_model) if write_model is not None else None
    start = time.perf_counter()
    with step_status() as step, writing_model(model_file) as wrote:
        run = run_solve(resolve_model_path(model), scenario, set_, out, run_name=run_name,
                        progress=step)
    if model_file is not None and not wrote["written"]:
        typer.secho(f"  warning: --write-model: {model_file} was not written (only an "
                    "allocation model's solve writes its HiGHS model)",
                    fg=typer.colors.YELLOW, err=True)
    if run.kind == "planning":  # kind: planning (park design); dss.planning.report
        from dss.planning.report import echo_run

        raise typer.Exit(echo_run(run, echo_rows, time.perf_counter() - start))
    result = run.result
    echo_solve(run, lang, show_all, echo_rows)
    if result.status == "infeasible":
        _echo_infeasibility(result.shortfalls)
    _echo_extra_tables(run.tables)
    typer.echo(f"Wrote {run.folder} in {time.perf_counter() - start:.1f} s")
    STATE["quick_exit"] = True  # every file is written and the duals are in: see exit_process
    if result.exit_code:
        raise typer.Exit(result.exit_code)


@app.command()
@_guard
def components(type_name: Annotated[str | None, typer.Argument(
        help="Show one component type in full.")] = None,
        plugin: PluginOpt = None
        ) -> None:
    """List the registered model components, or document one (parameters and math)."""
    import inspect

    from dss.attribute_docs import field_doc
    from dss.optimize.components.base import available, get

    _import_plugins(plugin)
    if type_name is None:
        for name, klass in available().items():
            doc = (inspect.getdoc(klass) or "").splitlines()[0]
            typer.echo(f"  {name:<22} {klass.role.value:<10} {doc}")
        return
    klass = get(type_name)
    typer.echo(f"{type_name} ({klass.role.value}): {inspect.getdoc(klass)}\n\nParameters:")
    from dss.cli.console import default_text, type_text

    for field_name, info in klass.Params.model_fields.items():
        typer.echo(f"  {field_name}: {type_text(info.annotation)} (default: "
                   f"{default_text(info)})\n      {field_doc(klass.Params, field_name, info)}")


@app.command()
@_guard
def compare(
        runs: Annotated[list[Path] | None, typer.Argument(
            help="Run folders to compare (results/<study>/<scenario>), all of one study.",
            show_default=False)] = None,
        model: Annotated[Path | None, typer.Option(
            "--model", "-m", help="Model file whose scenarios to compare (solves those "
                                  "without a current run folder).", show_default=False)] = None,
        scenario: Annotated[list[str] | None, typer.Option(
            "--scenario", "-s", help="Scenario of --model to compare (repeatable; a+b "
                                     "combines; default: base and every scenario).",
            show_default=False)] = None,
        baseline: Annotated[str | None, typer.Option(
            "--baseline", "-b", help="Scenario the differences are taken against (default: "
                                     "the first).", show_default=False)] = None,
        out: Annotated[Path | None, typer.Option(
            "--out", "-o", help="Comparison folder (default: results/<study>/compare).",
            show_default=False)] = None,
        results: Annotated[Path, typer.Option(
            "--results", help="Results root where --model runs are found and written.")]
        = Path("results"),
        rerun: Annotated[bool, typer.Option(
            "--rerun", help="Solve every --model scenario again, even if current.")] = False,
        ) -> None:
    """Compare scenarios side by side: tidy CSVs, comparison.md and comparison.xlsx.

    Run folders: dss compare results/baoxing/base results/baoxing/double_budget

    Or a model's scenarios: dss compare -m models/baoxing.yaml -s base -s core_strict
    """
    from dss.api import scenario_runs
    from dss.results.compare import compare_runs, write_comparison
    from dss.results.report import fmt

    if runs and (model is not None or scenario):
        raise InputError([Issue("dss compare", "give run folders, or --model with --scenario, "
                                               "not both")], "cannot compare")
    if not runs and model is None and not scenario:
        raise InputError([Issue("dss compare", "nothing to compare: give run folders (dss "
                                               "compare results/baoxing/base results/baoxing/"
                                               "double_budget) or --model and --scenario")],
                         "cannot compare")
    start = time.perf_counter()
    from dss.cli.console import step_status

    folders = list(runs or [])
    with step_status() as step:
        step("compare")
        if not folders:
            folders = scenario_runs(resolve_model_path(model or DEFAULT_MODEL), scenario,
                                    results, rerun)
        cmp = compare_runs(folders, baseline)
        folder = write_comparison(cmp, out)
    summary = cmp.items["summary"].set_index("metric")
    typer.echo(f"{cmp.title}: {len(cmp.runs)} scenarios, differences from {cmp.baseline}")
    rows = []
    for run in cmp.runs:
        parts = []
        for metric in ("objective", "spend"):
            if metric not in summary.index:
                continue
            value, base = summary.loc[metric, run.name], summary.loc[metric, cmp.baseline]
            text = f"{metric} {fmt(value)} CNY"
            if run.name != cmp.baseline and isinstance(value, float) and \
                    isinstance(base, float) and value == value and base == base:
                text += " (same)" if value == base else \
                    f" ({'+' if value > base else '-'}{fmt(abs(value - base))})"
            parts.append(text)
        rows.append((run.name, run.status, ", ".join(parts)))
    echo_rows(rows)
    typer.echo(f"Wrote {folder} (comparison.md, comparison.xlsx, {len(cmp.tables)} tables) "
               f"in {time.perf_counter() - start:.1f} s")


@app.command()
@_guard
def plot(
        run: Annotated[Path, typer.Argument(
            help="Run folder written by dss solve (results/<study>/<scenario>).",
            show_default=False)],
        out: Annotated[Path | None, typer.Option(
            "--out", "-o", help="Folder for the figures (default: the run folder).",
            show_default=False)] = None,
        format_: Annotated[str, typer.Option(
            "--format", "-f", help="Comma-separated file formats: png, svg, pdf.")] = "png",
        color_by: Annotated[str, typer.Option(
            "--color-by", help="Subunit indicator colouring the network map (a metric of "
                               "subunits.csv, e.g. sediment_local; add :before or :change).")]
        = "spend",
        inputs_dir: Annotated[Path | None, typer.Option(
            "--inputs", help="Study input folder (default: the one recorded in the run's "
                             "manifest).", show_default=False)] = None,
        ) -> None:
    """Draw a run: river network map, spend by action/agency/township, loads at control
    points."""
    from dss.results.plots import write_plots

    start = time.perf_counter()
    formats = [f.strip().lower().lstrip(".") for f in format_.split(",") if f.strip()]
    paths = write_plots(run, out, formats, color_by, inputs_dir)
    typer.echo(f"Wrote {len(paths)} figure{'s' if len(paths) != 1 else ''} in "
               f"{time.perf_counter() - start:.1f} s:")
    for path in paths:
        typer.echo(f"  {path}")


def _echo_infeasibility(short) -> None:
    """Print why a study is infeasible: shortfalls, the conflicting set, the least budget."""
    from dss.results.report import fmt

    kind = short["kind"] if "kind" in short else None
    reqs = short[kind == "requirement"] if kind is not None else short
    budget = short[kind == "budget"] if kind is not None else short.iloc[:0]
    if len(reqs) and (reqs["shortfall"] > 0).any():
        typer.secho("Requirements that cannot be met (least shortfall):", fg=typer.colors.RED)
        echo_rows([(r.requirement, fmt(r.shortfall), r.unit)
                   for r in reqs.itertuples(index=False) if r.shortfall > 0])
    conflict = reqs[reqs["in_conflict"].astype(bool)] if "in_conflict" in reqs else reqs[:0]
    if len(conflict):
        typer.secho("Smallest set of conflicting requirements (with the budget, land, zone, "
                    "lock and equity rules):", fg=typer.colors.RED)
        echo_rows([(f"{r.component}: {r.requirement}", f"target {fmt(r.target)}", r.unit)
                   for r in conflict.itertuples(index=False)])
    else:
        typer.secho("No load, habitat or carbon requirement explains it: the hard constraints "
                    "(budget, zone rules, locks, equity, land) conflict with each other.",
                    fg=typer.colors.RED)
    for r in budget.itertuples(index=False):
        typer.secho(f"Budget: {r.note}.", fg=typer.colors.RED)
