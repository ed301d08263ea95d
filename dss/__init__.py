"""dss: decision support for river-basin ecosystem management.

A Pyomo model solved by HiGHS allocates restoration and conservation effort across watershed
subunits under a budget; a networkx river graph carries upstream effects downstream.

``Study`` and ``load_study`` are imported on first use (PEP 562), so that ``import dss`` (and
``dss --help``) does not import pandas and networkx.
"""

from typing import Any

from dss.errors import DssError, InputError, Issue

__version__ = "0.1.0"

__all__ = ["DssError", "InputError", "Issue", "Study", "__version__", "load_study"]


def __getattr__(name: str) -> Any:
    if name in ("Study", "load_study"):
        from dss.data import study

        return getattr(study, name)
    raise AttributeError(f"module 'dss' has no attribute {name!r}")
