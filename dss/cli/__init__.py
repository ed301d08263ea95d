"""The ``dss`` command line. It parses, calls the library, formats errors and sets exit codes.

Exit codes: 0 success (optimal); 1 unexpected internal error; 2 invalid input or model;
3 infeasible; 4 unbounded; 5 solver error; 6 time limit or gap not closed (a feasible plan was
written, labelled with its gap); 7 feasible, not proven optimal; 8 ``dss verify`` found a
mismatch; 9 the results cannot be written (no permission, disk full); 130 interrupted; 141
standard output closed by its reader (e.g. ``| head``).

The commands are in the modules of this package, each loaded only when its command runs
(:class:`dss.cli.common.LazyGroup`; the list is :data:`dss.cli.common.COMMANDS`).
"""

from __future__ import annotations

from dss.cli import core  # noqa: F401  (registers the core commands)
from dss.cli.common import (  # noqa: F401  (the names command modules import from here)
    COMMANDS,
    DEFAULT_MODEL,
    LOGGER,
    MAX_CONSOLE_POINTS,
    STATE,
    ModelArg,
    OutOpt,
    _guard,
    _import_plugins,
    _silence_stdout,
    app,
    echo_rows,
    exit_process,
    fail,
    plugin_hint,
    resolve_model_path,
)


def main() -> None:
    """Console entry point (ends quickly after a command that allows it, see
    :func:`dss.cli.common.exit_process`)."""
    try:
        app()
    except SystemExit as done:
        if not STATE["quick_exit"]:
            raise
        code = done.code if isinstance(done.code, int) else 0 if done.code is None else 1
        exit_process(code)


if __name__ == "__main__":
    main()
