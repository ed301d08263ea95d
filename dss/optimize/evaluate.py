"""Values of model expressions at a plan, from NumPy arrays where possible.

Evaluating a Pyomo expression walks it term by term; the objective and the cost rows have
one term per option, so reporting on a large basin took longer than the solve. The walk of
:func:`dss.optimize.matrix.collect_linear` (the one the matrix compiler uses) takes the
expressions made by :meth:`BuildContext.linear` as their arrays, so a value is a dot
product:

.. math:: f(x) = a_0 + \\sum_j a_j x_{k_j}

Variables other than the option amounts are taken at their current Pyomo value (the solve
loads the plan into them).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dss.optimize.context import BuildContext
from dss.optimize.matrix import collect_linear


def value_at(expr: Any, ctx: BuildContext, amounts: np.ndarray) -> float:
    """Value of ``expr`` when the options take the amounts ``amounts``.

    Args:
        expr: A linear Pyomo expression (or a number).
        ctx: The build context whose :meth:`~BuildContext.linear` made the expression's
            large parts.
        amounts: Amount of every option (the plan).

    Raises:
        SolveError: if the expression is not linear.
    """
    cols, coefs, constant = collect_linear(expr, ctx, {}, ctx.n_options)
    return float(np.dot(coefs, amounts[cols]) + constant)
