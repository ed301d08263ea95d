"""What every ``dss`` command shares: the Typer application (whose commands load lazily),
the global options, model-path resolution, error reporting and plugin import.

Commands live in modules of :mod:`dss.cli` that register themselves on :data:`app` when
imported (``@app.command()``); :data:`COMMANDS` names the module of each command, so that
``dss <command>`` imports only that module (and ``dss --help`` no library module at all).
"""

from __future__ import annotations

import importlib
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from typer.core import TyperGroup

from dss.errors import DssError, InputError, Issue

COMMANDS: dict[str, str] = {
    "baseline": "dss.cli.core", "validate": "dss.cli.core", "inputs": "dss.cli.core",
    "synth": "dss.cli.core", "solve": "dss.cli.core", "components": "dss.cli.core",
    "compare": "dss.cli.core", "plot": "dss.cli.core",
    "sweep": "dss.cli.analysis", "frontier": "dss.cli.analysis",
    "coordinate": "dss.cli.coordinate", "example": "dss.cli.example",
    "montecarlo": "dss.cli.montecarlo", "report": "dss.cli.report",
    "verify": "dss.cli.verify", "workplan": "dss.cli.workplan",
    "optipass": "dss.cli.fish", "import": "dss.cli.gis_import",
}
"""Each command and the module that registers it, in the order ``dss --help`` lists them (a
new command: its module registers on :data:`app`, and one line here names it)."""


class LazyGroup(TyperGroup):
    """The ``dss`` command group: a command's module is imported when the command is asked
    for (click's lazy-loading group pattern), so a command imports only what it needs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command, registered or not yet imported, in :data:`COMMANDS`' order."""
        order = list(COMMANDS)
        names = list(dict.fromkeys([*self.commands, *order]))
        return sorted(names, key=lambda n: order.index(n) if n in COMMANDS else len(order))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._made = {id(info) for info in (*app.registered_commands, *app.registered_groups)}

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command, importing its module first if it is not registered yet."""
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            importlib.import_module(COMMANDS[cmd_name])
            view = typer.Typer(rich_markup_mode=app.rich_markup_mode,
                               pretty_exceptions_short=app.pretty_exceptions_short)
            view.registered_commands = [c for c in app.registered_commands
                                        if id(c) not in self._made]
            view.registered_groups = [g for g in app.registered_groups
                                      if id(g) not in self._made]
            self._made |= {id(info) for info in (*view.registered_commands,
                                                 *view.registered_groups)}
            for name, command in typer.main.get_group(view).commands.items():
                self.commands.setdefault(name, command)
        return self.commands.get(cmd_name)


app = typer.Typer(
    name="dss",
    cls=LazyGroup,
    help="Decision support for river-basin ecosystem management (Pyomo + HiGHS).",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)

DEFAULT_MODEL = Path("models") / "baoxing.yaml"
MAX_CONSOLE_POINTS = 12
"""Control points listed on the console; the rest are in the result tables."""
STATE = {"debug": False, "quick_exit": False}
"""``quick_exit``: set by a command whose results are all written and whose process can end
without tearing down what the operating system frees anyway (see :func:`exit_process`)."""
LOGGER = logging.getLogger("dss")

ModelArg = Annotated[Path, typer.Argument(
    help="Model YAML file, or a folder holding model.yaml (default: the Baoxing study).")]
OutOpt = Annotated[Path, typer.Option("--out", "-o", help="Results root folder.")]
ScenarioOpt = Annotated[list[str] | None, typer.Option(
    "--scenario", "-s", help="Scenario to apply (repeatable, applied in order).")]
SetOpt = Annotated[list[str] | None, typer.Option(
    "--set", help="Override KEY=VALUE, e.g. components.budget.total=4e7 (repeatable).")]
PluginOpt = Annotated[list[str] | None, typer.Option(
    "--plugin", help="Import a Python module that registers components.")]


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", "-d", help="Show tracebacks.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress.")] = False,
) -> None:
    STATE["debug"] = debug
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr, force=True)


def resolve_model_path(model: Path) -> Path:
    """Accept a model file or a folder containing ``model.yaml``; the default model is the
    bundled Baoxing study when the current folder has no ``models/baoxing.yaml``."""
    if model.is_dir():
        candidate = model / "model.yaml"
        if candidate.is_file():
            return candidate
        raise InputError([Issue(str(model), "folder has no model.yaml (pass the model file "
                                            "itself)")], "cannot load model")
    if not model.exists():
        from dss.examples import bundled_model, missing_model_hint

        bundled = bundled_model() if model == DEFAULT_MODEL else None
        if bundled is not None:
            return bundled
        raise InputError([Issue(str(model), f"model file not found ({missing_model_hint(model)})")],
                         "cannot load model")
    return model


def exit_process(code: int) -> None:
    """End the process with ``code`` after flushing the console and the log, skipping the
    interpreter's teardown (freeing every Pyomo object of a large model one by one took 0.3 s
    at 10,000 subunits and 0.7 s at 100,000; the operating system frees the memory at once).

    Only for the console entry point, once a command has set ``STATE["quick_exit"]``: its
    files are written, closed and renamed into place, its background work is finished.
    """
    import os

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be shown
            pass
    logging.shutdown()
    os._exit(code)


def collection_paused(func):
    """Run a command with Python's cyclic garbage collector off, left off when the command
    lets the process end quickly (``STATE["quick_exit"]``).

    The library pauses the collector while it makes a model's objects; switched back on, its
    first pass would scan them all (about 1 s at 100,000 subunits) just before the process
    ends and frees them at once.
    """
    import functools
    import gc

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return func(*args, **kwargs)
        finally:
            if was_enabled and not STATE["quick_exit"]:
                gc.enable()
    return wrapper


def fail(err: BaseException) -> None:
    """Print a user error (no traceback unless --debug) and exit with its code."""
    if STATE["debug"]:
        raise err
    if isinstance(err, DssError):
        typer.secho(f"error: {err}", fg=typer.colors.RED, err=True)
        raise typer.Exit(err.exit_code)
    typer.secho(f"internal error: {type(err).__name__}: {err} (rerun with --debug and report "
                "it)", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


def _silence_stdout() -> None:
    """Point standard output at the null device, so that the interpreter's final flush
    does not fail again on a closed pipe."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def _guard(func):
    """Run a command body, mapping user errors to messages and exit codes."""
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except typer.Exit:
            raise
        except KeyboardInterrupt:
            typer.secho("interrupted: nothing was written", fg=typer.colors.RED, err=True)
            # every `finally` has run, nothing is staged: end without the interpreter's
            # teardown, which aborts on HiGHS threads stopped mid-search (exit_process)
            STATE["quick_exit"] = True
            raise typer.Exit(130) from None
        except BrokenPipeError:  # e.g. `dss solve | head`: the reader has gone
            _silence_stdout()
            raise typer.Exit(141) from None
        except Exception as err:  # noqa: BLE001 - the one place that reports every error
            fail(err)
    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    wrapper.__annotations__ = func.__annotations__
    wrapper.__wrapped__ = func
    return wrapper


def echo_rows(rows: list[tuple[str, str, str]]) -> None:
    """Print aligned label / value / unit rows."""
    width = max((len(r[0]) for r in rows), default=0)
    vwidth = max((len(r[1]) for r in rows), default=0)
    for label, value, unit in rows:
        typer.echo(f"  {label:<{width}}  {value:>{vwidth}}  {unit}")




def plugin_hint(name: str) -> str:
    """How to name a plugin module that could not be imported."""
    import os

    path = Path(name)
    if name.endswith(".py") or os.sep in name or "/" in name:
        module = path.stem
        folder = path.parent if str(path.parent) not in ("", ".") else Path(".")
        return (f"--plugin takes a module name, not a file: use --plugin {module} and run dss "
                f"from {folder}, or put {folder} on PYTHONPATH")
    return (f"--plugin takes a module name on the Python path or in the current folder "
            f"{os.getcwd()}: {name} means {name.replace('.', '/')}.py there; for a module "
            "elsewhere, add its folder to PYTHONPATH or pip install its package")


def _import_plugins(modules: list[str] | None) -> None:
    """Import user modules that register components (named on the command line only).

    Modules are found on ``sys.path`` and, like ``python -m``, in the current folder (the
    ``dss`` console script does not put it on the path by itself); the current folder comes
    last so it never shadows an installed package.
    """
    import importlib
    import os

    if modules and os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.append(os.getcwd())
    for name in modules or []:
        try:
            importlib.import_module(name)
        except ImportError as err:
            raise InputError([Issue("--plugin", f"cannot import {name!r}: {err} "
                                                f"({plugin_hint(name)})")],
                             "cannot load plugin") from None
