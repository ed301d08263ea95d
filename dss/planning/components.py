"""The park-design parts and the park-zoning component, registered in dss's one component
registry (:data:`dss.optimize.components.base.BUILTIN_FAMILIES` imports this module)."""

from dss.planning import (  # noqa: F401 - importing registers the parts
    adjacency,
    bounds,
    constraints,
    extra_objectives,
    objectives,
    park_zoning,
    penalties,
)
