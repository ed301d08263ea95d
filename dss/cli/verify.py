"""``dss verify RUN_DIR``: re-check a saved run against its inputs.

Registers itself on :data:`dss.cli.app` when its command is run. The checks are in
:mod:`dss.results.verify`; this module only prints the report. Exit code 0 when every check
passes, 8 when any fails (2 when the folder is not a run folder).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dss.cli import _guard, _import_plugins, app


@app.command()
@_guard
def verify(
        run: Annotated[Path, typer.Argument(
            help="Run folder written by dss solve or dss baseline (results/<study>/<run>).",
            show_default=False)],
        plugin: Annotated[list[str] | None, typer.Option(
            "--plugin", help="Import a Python module that registers components (as for the "
                             "solve that wrote the run).")] = None,
        ) -> None:
    """Re-check a saved run: input and output hashes, the plan against every constraint,
    routed loads and the objective recomputed; exits non-zero on any mismatch."""
    from dss.results.verify import VerifyError, verify_run

    _import_plugins(plugin)
    report = verify_run(run)
    typer.echo(f"Verifying {run} ({report.kind}, {report.label})")
    for check in report.checks:
        mark = "PASS" if check.ok else "FAIL"
        typer.secho(f"  {mark}  {check.name}: {check.detail}",
                    fg=None if check.ok else typer.colors.RED)
    if not report.ok:
        n = len(report.failed)
        raise VerifyError(f"{n} check{'s' if n != 1 else ''} failed: "
                          + ", ".join(c.name for c in report.failed))
    typer.echo(f"All {len(report.checks)} checks passed.")
