"""``dss report``: the meeting-room report of a run or a comparison (registered on
:data:`dss.cli.app` when its command is run)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from dss.cli import _guard, app


@app.command()
@_guard
def report(
        folder: Annotated[Path, typer.Argument(
            help="Run folder (dss solve) or comparison folder (dss compare).",
            show_default=False)],
        lang: Annotated[str, typer.Option(
            "--lang", "-l", help="Language of the report: zh (Chinese) or en (English).")]
        = "zh",
        out: Annotated[Path | None, typer.Option(
            "--out", "-o", help="File or folder to write (default: report.html in FOLDER).",
            show_default=False)] = None,
        ) -> None:
    """Write one self-contained report.html (styles, charts and data inline; prints on A4).

    Examples: dss report results/baoxing/base --lang en; dss report results/baoxing/compare
    """
    from dss.cli.console import step_status
    from dss.report import write_report

    start = time.perf_counter()
    with step_status() as step:
        step("report")
        path = write_report(folder, lang, out)
    typer.echo(f"Wrote {path} ({path.stat().st_size / 1024:,.0f} kB) in "
               f"{time.perf_counter() - start:.1f} s")
