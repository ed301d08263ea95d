"""CLI commands for scenario analysis (budget sweeps, trade-off frontiers).

They register themselves on :data:`dss.cli.app` when one of them is run. Progress bars (rich,
shipped with typer) are drawn here only, from the ``progress(stage, done, total)`` callback the
library reports through; they appear on a terminal's standard error and stay silent in pipes
and logs.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from dss.cli import DEFAULT_MODEL, _guard, _import_plugins, app, echo_rows, resolve_model_path
from dss.cli.common import PluginOpt, ScenarioOpt, SetOpt

STAGES = {"build": "Building the model", "solve": "Solving"}


@contextmanager
def progress_bars() -> Iterator:
    """A ``progress(stage, done, total)`` callback drawing one bar per stage on stderr."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = Console(stderr=True)
    with Progress(TextColumn("{task.description:<20}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=console,
                  transient=True, disable=not console.is_terminal) as bars:
        tasks: dict[str, int] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bars.add_task(STAGES.get(stage, stage), total=total)
            bars.update(tasks[stage], completed=done, total=total)

        yield update


NOISE = 1e-6
"""Values smaller than this share of a column's largest are solver round-off: shown as 0."""


def _scale(values) -> float:
    import numpy as np

    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    return float(np.abs(finite).max()) if finite.size else 0.0


def zero_noise(value: float, scale: float) -> float:
    """``value``, or 0 when it is round-off next to ``scale`` (e.g. 6.5e-05 t/yr among
    thousands of t/yr)."""
    return 0.0 if abs(value) <= NOISE * scale else value


@app.command()
@_guard
def sweep(model: Annotated[Path, typer.Argument(
              help="Model YAML file, or a folder holding model.yaml.")] = DEFAULT_MODEL,
          param: Annotated[str, typer.Option(
              "--param", "-p", help="Dotted numeric parameter to sweep.")]
          = "components.budget.total",
          values: Annotated[str | None, typer.Option(
              "--values", help="Comma-separated values, e.g. 1e7,2e7,4e7.")] = None,
          range_: Annotated[str | None, typer.Option(
              "--range", help="START:STOP:N, N evenly spaced values including both ends.")]
          = None,
          scenario: ScenarioOpt = None,
          set_: SetOpt = None,
          workers: Annotated[int, typer.Option(
              "--workers", "-w", min=1, help="Local worker processes (contiguous chunks of "
                                             "values, one model per worker).")] = 1,
          dask: Annotated[str | None, typer.Option(
              "--dask", help="Run the chunks on a Dask cluster: scheduler address, e.g. "
                             "tcp://10.0.0.5:8786 (needs the optional dask extra).")] = None,
          warm: Annotated[bool, typer.Option(
              "--warm", help="Keep HiGHS's basis and incumbent between points (faster; "
                             "results may then depend on --workers among equally good "
                             "plans).")] = False,
          out: Annotated[Path, typer.Option("--out", "-o", help="Results root folder.")]
          = Path("results"),
          plugin: PluginOpt = None,
          ) -> None:
    """Re-solve over values of one parameter (the budget by default): the
    cost-effectiveness curve and the marginal benefit of one more yuan.

    Writes results/<study>/sweep-<last key part>/sweep.csv and sweep.png. A parameter that
    only moves a constraint's right-hand side (budget total, per agency or township; carbon
    minimum) is swept on one model loaded into HiGHS once; any other is rebuilt per point.

    Example: dss sweep --range 1e7:6e7:11 --workers 2
    """
    from dss.api import run_sweep
    from dss.optimize.sweep_params import parse_values
    from dss.results.report import fmt

    _import_plugins(plugin)
    points = parse_values(values, range_)
    start = time.perf_counter()
    with progress_bars() as progress:
        run = run_sweep(resolve_model_path(model), param, points, scenario, set_, out,
                        workers=workers, dask=dask, warm_start=warm, progress=progress)
    result = run.result
    table = result.table
    cur = run.problem.config.settings.currency
    mcol = next(c for c in table if c.startswith("marginal_"))
    typer.echo(f"{run.problem.config.name} [{run.problem.model.scenario}]: sweep of {param}, "
               f"{len(table)} points ({result.engine} model, {result.backend}"
               f"{f' x{result.workers}' if result.workers > 1 else ''}) in "
               f"{result.seconds:.1f} s")
    unit = result.units.get(mcol, "")
    dual = f"budget_dual_per_{cur.lower()}"
    spend = f"spend_{cur.lower()}"
    rows = []
    for _, r in table.iterrows():
        text = f"objective {fmt(r['objective'])} {cur}, spend {fmt(r[spend])}"
        if r[mcol] == r[mcol]:
            text += f", marginal {fmt(r[mcol])}"
        if r[dual] == r[dual]:
            text += f", dual {fmt(r[dual])}"
        rows.append((fmt(r["value"]), r["status"], text))
    echo_rows(rows)
    typer.echo(f"  marginal: change in objective per unit of {param.split('.')[-1]} since the "
               f"previous point; dual: LP / fixed-MIP dual of the budget total ({unit})")
    relaxed = int((table["method"] == "relaxation").sum()) if "method" in table else 0
    if relaxed:
        typer.echo(f"  {relaxed} of {len(table)} points optimal from their LP relaxation "
                   "(integral, so no branching was needed); the others solved as MIPs")
    bad = table[table["status"] != "optimal"]
    if len(bad):
        typer.secho(f"{len(bad)} point{'s' if len(bad) != 1 else ''} not optimal: "
                    + ", ".join(f"{fmt(v)} {s}" for v, s in zip(bad["value"], bad["status"],
                                                                   strict=True)),
                    fg=typer.colors.YELLOW, err=True)
    note = "" if run.plot == "written" else f" (plot {run.plot})"
    typer.echo(f"Wrote {run.folder}{note} in {time.perf_counter() - start:.1f} s")
    if (table["status"] == "error").any():
        raise typer.Exit(5)


@app.command()
@_guard
def frontier(model: Annotated[Path, typer.Argument(
                 help="Model YAML file, or a folder holding model.yaml.")] = DEFAULT_MODEL,
             x: Annotated[str, typer.Option(
                 "--x", help="Metric held at ε: reduction:<point>:<pollutant>, "
                             "habitat:<species>, carbon, benefit or cost.")] = "cost",
             y: Annotated[str, typer.Option(
                 "--y", help="Metric optimised at each ε (same choices).")] = "benefit",
             points: Annotated[int, typer.Option(
                 "--points", "-n", min=2, help="Grid points, both endpoints included.")] = 11,
             scenario: ScenarioOpt = None,
             set_: SetOpt = None,
             out: Annotated[Path, typer.Option("--out", "-o", help="Results root folder.")]
             = Path("results"),
             plugin: PluginOpt = None,
             ) -> None:
    """Trade-off between two metrics by the ε-constraint method: best y for each level of
    x, under the model's constraints (budget, land, zones...).

    Writes results/<study>/frontier-<x>-vs-<y>/: frontier.csv (non-dominated points),
    points.csv, plans.csv, no_regret.csv (actions in every frontier plan) and frontier.png.

    Example: dss frontier --x reduction:qiaoqi_reservoir:sediment --y habitat:giant_panda
    """
    from dss.api import run_frontier
    from dss.results.report import fmt

    _import_plugins(plugin)
    start = time.perf_counter()
    with progress_bars() as progress:
        run = run_frontier(resolve_model_path(model), x, y, points, scenario, set_, out,
                           progress=progress)
    result = run.result
    cur = run.problem.config.settings.currency
    front = result.frontier
    typer.echo(f"{run.problem.config.name} [{run.problem.model.scenario}]: {result.y.name} "
               f"against {result.x.name}, {len(front)} non-dominated of "
               f"{len(result.points)} points in {result.seconds:.1f} s")
    sx, sy = _scale(front["x"]), _scale(front["y"])
    echo_rows([(f"{r.role:<10}",
                f"x {fmt(zero_noise(r.x, sx))} {result.x.unit(cur)}, "
                f"y {fmt(zero_noise(r.y, sy))} {result.y.unit(cur)}",
                f"spend {fmt(zero_noise(r.spend, _scale(front['spend'])))} {cur}, {r.status}")
               for r in front.itertuples(index=False)])
    if len(front) == 1:
        typer.echo("The two metrics do not conflict here: one plan is best for both.")
    nr = result.no_regret
    typer.echo(f"No-regret actions (in every frontier plan): {len(nr)}")
    echo_rows([(f"{r.subunit_id} {r.action_id}",
                (fmt(r.min_amount) if fmt(r.min_amount) == fmt(r.max_amount) else
                 f"{fmt(r.min_amount)} to {fmt(r.max_amount)}") + f" {r.unit}", "")
               for r in nr.head(8).itertuples(index=False)])
    if len(nr) > 8:
        typer.echo(f"  ... and {len(nr) - 8} more in no_regret.csv")
    note = "" if run.plot == "written" else f" (plot {run.plot})"
    typer.echo(f"Wrote {run.folder}{note} in {time.perf_counter() - start:.1f} s")
