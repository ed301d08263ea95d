"""``dss montecarlo RUN_DIR``: a saved plan on draws of the uncertain inputs.

Registers itself on :data:`dss.cli.app` when its command is run. The work is in
:mod:`dss.uncertainty.montecarlo`; this module prints the summary.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from dss.cli import _guard, _import_plugins, app
from dss.cli.analysis import progress_bars
from dss.cli.common import PluginOpt


@app.command()
@_guard
def montecarlo(
        run: Annotated[Path, typer.Argument(
            help="Run folder written by dss solve (results/<study>/<run>).",
            show_default=False)],
        draws: Annotated[int, typer.Option("--draws", "-n", min=1,
                                           help="Number of draws.")] = 1000,
        seed: Annotated[int, typer.Option("--seed", help="Seed of the draws: the same seed "
                                                         "gives the same results.")] = 1,
        workers: Annotated[int, typer.Option("--workers", "-w", min=1, help="Local worker "
                                             "processes (contiguous chunks of draws).")] = 1,
        dask: Annotated[str | None, typer.Option(
            "--dask", help="Evaluate the chunks on a Dask cluster: scheduler address (needs "
                           "the optional dask extra).")] = None,
        named: Annotated[bool, typer.Option(
            "--named", help="Use the named scenarios of uncertainty_scenarios.csv, with "
                            "their probabilities, instead of draws.")] = False,
        plugin: PluginOpt = None,
        ) -> None:
    """Evaluate a saved plan on N draws of the uncertain inputs (uncertainty.csv): loads at
    every control point with quantiles, the probability that each limit and target is met,
    and benefit quantiles, into montecarlo.csv and montecarlo.png in the run folder.

    Example: dss montecarlo results/baoxing/base --draws 1000 --seed 1
    """
    from dss.results.report import fmt
    from dss.results.runs import MissingDependencyError
    from dss.uncertainty.montecarlo import montecarlo as run_mc
    from dss.uncertainty.montecarlo import write_montecarlo

    _import_plugins(plugin)
    start = time.perf_counter()
    with progress_bars() as progress:
        folder, result = run_mc(run, draws, seed, workers, dask, named, progress)
    figure, note = None, ""
    try:
        from dss.uncertainty.chart import montecarlo_figure

        figure = montecarlo_figure(result, folder.title)
    except MissingDependencyError as err:
        note = f" (no chart: {err})"
    written = write_montecarlo(folder, result, seed, figure)
    table = result.table()
    cur = result.problem.config.settings.currency
    n = len(result.scenarios)
    typer.echo(f"{folder.title} [{folder.name}]: the plan on {n} {result.scenarios.source} "
               f"scenarios ({result.backend}"
               f"{f' x{workers}' if workers > 1 and result.backend != 'serial' else ''})")

    def stat(quantity, item, pollutant, name):
        rows = table[(table["quantity"] == quantity) & (table["item"] == item)
                     & (table["pollutant"] == pollutant) & (table["statistic"] == name)]
        return rows["value"].iloc[0] if len(rows) else float("nan")

    rows = []
    loads = table[(table["quantity"] == "load_after") & (table["statistic"] == "mean")]
    for rec in loads.itertuples(index=False):
        low = stat("load_after", rec.item, rec.pollutant, "p05")
        high = stat("load_after", rec.item, rec.pollutant, "p95")
        text = f"mean {fmt(rec.value)}, 5-95 % {fmt(low)} to {fmt(high)} {rec.unit}"
        prob = stat("limit_met", rec.item, rec.pollutant, "probability")
        if prob == prob:
            text += (f"; limit {fmt(stat('limit', rec.item, rec.pollutant, 'nominal'))} met "
                     f"in {prob:.1%} of the draws")
        rows.append((f"{rec.item} {rec.pollutant}", text))
    width = max((len(r[0]) for r in rows), default=0)
    for label, text in rows:
        typer.echo(f"  {label:<{width}}  {text}")
    targets = table[(table["quantity"] == "habitat_target_met")
                    & (table["statistic"] == "probability")]
    for rec in targets.itertuples(index=False):
        typer.echo(f"  habitat target {rec.item} met in {rec.value:.1%}")
    typer.echo(f"  benefit: mean {fmt(stat('benefit', 'total', '', 'mean'))} {cur}, 5-95 % "
               f"{fmt(stat('benefit', 'total', '', 'p05'))} to "
               f"{fmt(stat('benefit', 'total', '', 'p95'))} (nominal "
               f"{fmt(stat('benefit', 'total', '', 'nominal'))})")
    if result.outcomes.dropped.max(initial=0.0) > 1e-9:
        k = int((result.outcomes.dropped > 1e-9).sum())
        typer.echo(f"  in {k} scenarios part of the plan did not fit (smaller capacities)")
    typer.echo(f"Wrote {', '.join(p.name for p in written)} to {folder.folder}{note} in "
               f"{time.perf_counter() - start:.1f} s")
