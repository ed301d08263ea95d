"""Values of model expressions at a plan, from NumPy arrays where possible.

Evaluating a Pyomo expression walks it term by term; the delivered reduction at a control
point has one term per upstream option, so reporting hundreds of points on a large basin
took longer than the solve. Expressions made by :meth:`BuildContext.linear` are remembered
with their arrays, so their value is one dot product:

.. math:: f(x) = a_0 + \\sum_j a_j x_{k_j}

Sums, constant multiples, negations and named expressions over such expressions are
walked; anything else falls back to :func:`pyomo.environ.value`, which needs the plan to
have been loaded into the Pyomo variables (the solve does that).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import (
    MonomialTermExpression,
    NegationExpression,
    ProductExpression,
    SumExpression,
)

from dss.optimize.context import BuildContext


def _constant(expr: Any) -> float | None:
    """The value of an expression that holds no variable, else None."""
    if isinstance(expr, int | float):
        return float(expr)
    if expr.is_potentially_variable():
        return None
    return float(pyo.value(expr))


def value_at(expr: Any, ctx: BuildContext, amounts: np.ndarray) -> float:
    """Value of ``expr`` when the options take the amounts ``amounts``.

    Args:
        expr: A Pyomo expression (or a number).
        ctx: The build context whose :meth:`~BuildContext.linear` made the expression's
            large parts.
        amounts: Amount of every option (the plan).
    """
    fixed = _constant(expr)
    if fixed is not None:
        return fixed
    terms = ctx.linear_terms(expr)
    if terms is not None:
        others = sum(c * float(pyo.value(v)) for v, c in
                     zip(terms.other_vars, terms.other_coefs, strict=True))
        return float(np.dot(terms.coefs, amounts[terms.idx]) + terms.constant + others)
    if expr.is_named_expression_type():
        return value_at(expr.expr, ctx, amounts)
    kind = type(expr)
    if kind is SumExpression:
        return sum(value_at(a, ctx, amounts) for a in expr.args)
    if kind is NegationExpression:
        return -value_at(expr.args[0], ctx, amounts)
    if kind in (ProductExpression, MonomialTermExpression):
        a, b = expr.args
        ca = _constant(a)
        if ca is not None:
            return ca * value_at(b, ctx, amounts)
        cb = _constant(b)
        if cb is not None:
            return cb * value_at(a, ctx, amounts)
    return float(pyo.value(expr))
