"""``dss example``: copy a bundled example study out to edit it (registered on
:data:`dss.cli.app` when its command is run)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dss.cli import _guard, app


@app.command()
@_guard
def example(
        name: Annotated[str, typer.Argument(help="Example study: baoxing.")],
        dest: Annotated[Path, typer.Argument(help="Folder to copy it into (gets models/ and "
                                                  "inputs/).")] = Path("."),
        ) -> None:
    """Copy a bundled example study (model files and input tables) into a folder.

    Example: dss example baoxing mystudy && cd mystudy && dss solve models/baoxing.yaml
    """
    from dss.examples import copy_example

    model = copy_example(name, dest)
    typer.echo(f"Copied the {name} study to {dest}: model {model}, inputs in "
               f"{dest / 'inputs' / name}; run: dss solve {model}")
