"""``dss workplan RUN_DIR``: work plans per agency and township, and the implementation rules.

Registers itself on :data:`dss.cli.app` when its command is run. The work is done by
:mod:`dss.results.workplan`; this module only prints what was written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dss.cli import _guard, app


@app.command()
@_guard
def workplan(
        run: Annotated[Path, typer.Argument(
            help="Run folder written by dss solve (results/<study>/<scenario>).",
            show_default=False)],
        out: Annotated[Path | None, typer.Option(
            "--out", "-o", help="Folder for the work plans (default: RUN/workplans).")] = None,
        inputs: Annotated[Path | None, typer.Option(
            "--inputs", help="Study input folder (default: the one the run recorded).")] = None,
        ) -> None:
    """Write work plans: per agency (Excel and CSV), per township, and rules.md with the
    implementation rules in Chinese and English."""
    from dss.results.workplan import write_work_plans

    target, plan = write_work_plans(run, out, inputs)
    lines = plan.lines
    typer.echo(f"Work plans of {plan.run.study}/{plan.run.name}: {len(lines)} lines of work, "
               f"{len(plan.rules)} implementation rules")
    for agency, (zh, en) in plan.agencies.items():
        mine = lines[lines["agency_id"] == agency]
        towns = mine["township"].nunique()
        typer.echo(f"  {zh} {en}: {len(mine)} lines in {towns} township"
                   f"{'s' if towns != 1 else ''}, {mine['cost_cny'].sum():,.0f} CNY")
    typer.echo(f"Wrote {target}")
