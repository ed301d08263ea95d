"""Built-in model components (importing this module registers them)."""

from dss.optimize.components import (
    benefits,
    constraints,
    habitat,
    objectives,
    scope,
    sequencing,
)
from dss.optimize.components.base import Component, Params, Role, available, get, register

__all__ = ["Component", "Params", "Role", "available", "benefits", "constraints", "get",
           "habitat", "objectives", "register", "scope", "sequencing"]
