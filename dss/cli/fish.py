"""``dss optipass``: move between OptiPass tables and dss studies, and run OptiPass's sweep.

Registers itself on :data:`dss.cli.app` when its command is run. The work is in
:mod:`dss.optimize.optipass`; this module parses and prints.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dss.cli import DEFAULT_MODEL, _guard, app, resolve_model_path
from dss.errors import InputError, Issue

optipass_app = typer.Typer(help="OptiPass barrier tables: import, export, budget sweep.",
                           no_args_is_help=True)
app.add_typer(optipass_app, name="optipass")


def _empty_folder(folder: Path) -> None:
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise InputError([Issue(str(folder), "exists and is not an empty folder (choose a new "
                                             "folder for the study)")], "cannot write study")


@optipass_app.command("import")
@_guard
def import_(table: Annotated[Path, typer.Argument(help="OptiPass input table (CSV).")],
            study: Annotated[Path, typer.Argument(help="New folder for the dss study.")],
            budget: Annotated[float, typer.Option("--budget", min=0.0,
                                                  help="Budget of the model.")] = 0.0) -> None:
    """Convert an OptiPass input table into a dss study with its model.yaml."""
    from dss.optimize.optipass import read_optipass, to_study

    project = read_optipass(table)
    _empty_folder(study)
    model = to_study(project, study, budget)
    typer.echo(f"Wrote a study of {len(project.barriers):,} barriers and "
               f"{len(project.projects):,} projects to {study}; run: dss solve {model}")


@optipass_app.command("export")
@_guard
def export(out: Annotated[Path, typer.Argument(help="OptiPass table to write (CSV).")],
           model: Annotated[Path, typer.Option("--model", "-m", help="Model file or folder.")]
           = DEFAULT_MODEL) -> None:
    """Write a study's barriers, options and first fish species as an OptiPass table."""
    from dss.optimize.optipass import from_study, write_optipass
    from dss.optimize.problem import Problem

    if out.exists():
        raise InputError([Issue(str(out), "exists; choose a new file name")],
                         "cannot write the OptiPass table")
    problem = Problem.from_model(resolve_model_path(model))
    project = from_study(problem.study)
    write_optipass(project, out)
    typer.echo(f"Wrote {len(project.barriers):,} barriers to {out}")


@optipass_app.command("run")
@_guard
def run(table: Annotated[Path, typer.Argument(help="OptiPass input table (CSV).")],
        budgets: Annotated[str, typer.Option(
            "--budgets", help="Comma-separated budgets, e.g. 0,1e5,5e5.")] = "0",
        out: Annotated[Path, typer.Option("--out", "-o", help="Results root folder.")]
        = Path("results")) -> None:
    """Solve an OptiPass table at each budget; write OptiPass's output table to
    results/optipass/<table name>/output.csv."""
    import tempfile

    from dss.optimize.optipass import read_optipass, sweep
    from dss.results.folders import run_folder
    from dss.results.writer import file_sha256, make_manifest, write_run

    try:
        values = [float(v) for v in budgets.split(",") if v.strip()]
    except ValueError:
        values = []
    if not values or any(v < 0 or v != v for v in values):
        raise InputError([Issue("--budgets", f"{budgets!r} is not a comma-separated list of "
                                              "budgets >= 0")], "invalid option")
    project = read_optipass(table)
    target = run_folder(out, "optipass", table.stem, "table name", "the table's file name")
    with tempfile.TemporaryDirectory() as tmp:
        output = sweep(project, values, Path(tmp) / "study")
    manifest = make_manifest("optipass", {table.name: file_sha256(table)},
                             {"budgets": values})
    write_run(target, {"output": output}, manifest, kinds=("optipass",))
    for row in output.itertuples(index=False):
        typer.echo(f"  budget {row.BUDGET:>14,.0f}  {row.STATUS:<10} habitat "
                   f"{row.PTNL_HABITAT:,.4g}  gain {row.NETGAIN:,.4g}")
    typer.echo(f"Wrote {target / 'output.csv'}")
