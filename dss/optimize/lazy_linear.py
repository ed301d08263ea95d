"""A Pyomo linear expression whose terms are created only when something asks for them.

Pyomo stores :math:`\\sum_j c_j x_j` as one ``MonomialTermExpression`` object per term;
creating them cost about 2 µs a term, a second for the 445,000-option objective of a
100,000-subunit basin, and dss never reads them: the matrix compiler and the evaluator take
the arrays the context remembers (:meth:`dss.optimize.context.BuildContext.linear`).
:class:`~dss.optimize.pyomo_internals.ArrayLinearExpression` is a genuine
``LinearExpression`` (writers, ``value``, ``generate_standard_repn`` and printing all work)
that keeps the option indices and coefficients as NumPy arrays and builds its term objects on
first access to its arguments. It fills Pyomo's private argument slots, so it lives with
every other use of Pyomo internals in :mod:`dss.optimize.pyomo_internals`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dss.optimize.pyomo_internals import ArrayLinearExpression

__all__ = ["ArrayLinearExpression", "array_linear", "array_linear_row"]


def array_linear(variables: list[Any], idx: np.ndarray, coefs: np.ndarray, constant: float,
                 other_vars: tuple, other_coefs: tuple) -> ArrayLinearExpression:
    """An :class:`ArrayLinearExpression` over ``variables[idx]`` (terms made on demand)."""
    return ArrayLinearExpression(lazy=(variables, idx, coefs, float(constant), other_vars,
                                       other_coefs))


def array_linear_row(variables: list[Any], idx: np.ndarray, coefs: np.ndarray, first: int,
                     end: int, other_vars: tuple, other_coefs: tuple) -> ArrayLinearExpression:
    """:func:`array_linear` over ``idx[first:end]`` and ``coefs[first:end]`` (no constant),
    holding the whole arrays and the bounds instead of two views: a row of a compressed
    layout in about 170 bytes less."""
    return ArrayLinearExpression(lazy=(variables, idx, coefs, 0.0, other_vars, other_coefs,
                                       first, end))
