"""dss: decision support for river-basin ecosystem management.

A Pyomo model solved by HiGHS allocates restoration and conservation effort across watershed
subunits under a budget; a networkx river graph carries upstream effects downstream.
"""

from dss.data.study import Study, load_study
from dss.errors import DssError, InputError, Issue

__version__ = "0.1.0"

__all__ = ["DssError", "InputError", "Issue", "Study", "__version__", "load_study"]
