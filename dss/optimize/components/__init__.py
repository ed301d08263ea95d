"""Built-in model components (importing this module registers them)."""

from dss.optimize.components import (
    benefits,
    constraints,
    fish_passage,
    habitat,
    livelihoods,
    objectives,
    scope,
    sequencing,
    stochastic,
)
from dss.optimize.components.base import Component, Params, Role, available, get, register

__all__ = ["Component", "Params", "Role", "available", "benefits", "constraints", "fish_passage",
           "get", "habitat", "livelihoods", "objectives", "register", "scope", "sequencing",
           "stochastic"]
