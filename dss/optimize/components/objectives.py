"""Objective components: exactly one per model."""

from __future__ import annotations

import pyomo.environ as pyo
from pydantic import Field

from dss.optimize.components.base import Component, Params, Role, register
from dss.optimize.context import BuildContext


class MaxBenefitParams(Params):
    """Parameters of :class:`MaxBenefit`."""

    cost_weight: float = Field(0.0, ge=0)
    """Weight on spending subtracted from the benefit (0: spend the budget wherever it
    helps; 1: net benefit, spend only where benefit exceeds cost)."""


@register
class MaxBenefit(Component):
    """Maximise the total weighted benefit under the constraints (typically a budget).

    .. math:: \\max \\sum_{j \\in \\text{benefits}} B_j - \\lambda\\, C - \\sum_q \\Pi_q

    where :math:`B_j` are the currency-valued terms of the benefit components, :math:`C` the
    cost, :math:`\\lambda` = ``cost_weight``, and :math:`\\Pi_q` elastic penalties.
    """

    type_name = "max_benefit"
    role = Role.OBJECTIVE
    Params = MaxBenefitParams
    sense = pyo.maximize

    def build(self, block: pyo.Block, ctx: BuildContext) -> None:
        """The objective itself is assembled by the builder from collected terms."""


class MinCostParams(Params):
    """Parameters of :class:`MinCost` (none)."""


@register
class MinCost(Component):
    """Minimise the cost of meeting every target (load limits, habitat, carbon, zones).

    .. math:: \\min C + \\sum_q \\Pi_q

    Benefit values are ignored; targets come from the constraint components.
    """

    type_name = "min_cost"
    role = Role.OBJECTIVE
    Params = MinCostParams
    sense = pyo.minimize

    def build(self, block: pyo.Block, ctx: BuildContext) -> None:
        """The objective itself is assembled by the builder from collected terms."""
