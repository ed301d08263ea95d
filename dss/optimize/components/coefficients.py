"""The objective coefficient of every option, per built-in benefit component.

Used by presolve (to check the numbers' range), by the results (the benefit of each option)
and by the scenario data of stochastic components (the benefit per unit in each scenario).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from dss.optimize.components.base import Component, Role
from dss.optimize.components.benefits import Carbon, DeliveredReduction, Habitat
from dss.optimize.context import BuildContext


class HasComponents(Protocol):
    """Anything that lists a model's components (a problem, or a build context)."""

    components: tuple[Component, ...]


def objective_coefficients(problem: HasComponents, ctx: BuildContext) -> dict[str, np.ndarray]:
    """Objective coefficient of every option, per built-in benefit component (and the cost
    weight of a max_benefit objective); custom components and benefits valued by a curve
    (:mod:`dss.optimize.components.curves`) are not included."""
    opts = ctx.options
    out: dict[str, np.ndarray] = {}
    for comp in problem.components:
        if isinstance(comp, DeliveredReduction):
            out[comp.name] = comp.coefficients(ctx)
        elif isinstance(comp, Habitat):
            species = opts["habitat_species"].to_numpy()
            gain = opts["habitat_gain"].to_numpy(float)
            coef = np.zeros(len(opts))
            for s, spec in comp.params.species.items():
                if not spec.curve:  # a curved species is valued by its segments
                    coef += np.where(species == s, spec.value * gain, 0.0)
            out[comp.name] = coef
        elif isinstance(comp, Carbon):
            out[comp.name] = comp.params.value * opts["d_carbon"].to_numpy(float)
        elif comp.type_name == "livelihoods":
            out[comp.name] = comp.coefficients(ctx)
        elif comp.role is Role.OBJECTIVE and getattr(comp.params, "cost_weight", 0.0):
            out[comp.name] = comp.params.cost_weight * opts["unit_cost"].to_numpy(float)
    return out
