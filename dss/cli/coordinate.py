"""``dss coordinate [MODEL] [-s SCENARIO]``: what coordination between agencies is worth.

Registers itself on :data:`dss.cli.app` when its command is run. The plans are
solved by :mod:`dss.optimize.coordinate` and written by :mod:`dss.results.coordination`;
this module prints the headline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dss.cli import (
    DEFAULT_MODEL,
    ModelArg,
    OutOpt,
    _guard,
    _import_plugins,
    app,
    resolve_model_path,
)
from dss.cli.common import PluginOpt, ScenarioOpt, SetOpt


@app.command()
@_guard
def coordinate(
        model: ModelArg = DEFAULT_MODEL,
        scenario: ScenarioOpt = None,
        set_: SetOpt = None,
        out: OutOpt = Path("results"),
        pooled: Annotated[bool, typer.Option(
            "--pooled/--no-pooled", help="Also solve the pooled plan (money moves between "
                                         "agencies).")] = True,
        plugin: PluginOpt = None,
        ) -> None:
    """Solve the siloed, integrated and pooled plans and write
    results/<study>/coordination/: the value of coordination in money and in tonnes."""
    from dss.api import input_hashes
    from dss.optimize.coordinate import coordinate as solve_plans
    from dss.optimize.problem import Problem
    from dss.results.coordination import KIND, headline, write_coordination
    from dss.results.folders import check_replaceable, run_folder

    _import_plugins(plugin)
    problem = Problem.from_model(resolve_model_path(model), scenario, set_)
    target = run_folder(out, problem.config.name, "coordination")
    check_replaceable(target, (KIND,))
    coord = solve_plans(problem, pooled=pooled)
    resolved = problem.model
    tables = write_coordination(coord, target, input_hashes(resolved, problem.study),
                                resolved.raw, resolved.scenario)
    head = headline(tables["coordination"])
    typer.echo(f"{problem.config.name} [{resolved.scenario}]: coordination of "
               f"{len(coord.agencies)} agencies (siloed order: "
               f"{', '.join(a.agency_id for a in coord.agencies)})")
    for plan in ("siloed", "integrated", "pooled"):
        if plan in head:
            typer.echo(f"  {plan:<11} benefit {head[plan]:>16,.0f} CNY")
    typer.echo(f"  value of coordination (integrated - siloed): "
               f"{head['integrated_minus_siloed']:,.0f} CNY "
               f"({head['integrated_minus_siloed_pct']:+.1f} %)")
    if "pooled" in head:
        typer.echo(f"  value of pooling budgets (pooled - integrated): "
                   f"{head['pooled_minus_integrated']:,.0f} CNY")
    table = tables["coordination"]
    deltas = table[(table["plan"] == "integrated") & table["metric"].str.startswith(
        ("reduction ", "habitat gain ", "carbon gain")) & (table["delta_vs_siloed"].abs() > 0.5)]
    if len(deltas):
        typer.echo("  integrated - siloed in each indicator's unit:")
        for rec in deltas.head(12).itertuples(index=False):
            typer.echo(f"    {rec.metric:<42} {rec.delta_vs_siloed:>+14,.1f} {rec.unit}")
    typer.echo(f"Wrote {target}")
