"""Built-in model components (importing this module registers them)."""

from dss.optimize.components import benefits, constraints, livelihoods, objectives, stochastic
from dss.optimize.components.base import Component, Params, Role, available, get, register

__all__ = ["Component", "Params", "Role", "available", "benefits", "constraints", "get",
           "livelihoods", "objectives", "register", "stochastic"]
