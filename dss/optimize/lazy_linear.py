"""A Pyomo linear expression whose terms are created only when something asks for them.

Pyomo stores :math:`\\sum_j c_j x_j` as one ``MonomialTermExpression`` object per term;
creating them cost about 2 µs a term, a second for the 445,000-option objective of a
100,000-subunit basin, and dss never reads them: the matrix compiler and the evaluator take
the arrays the context remembers (:meth:`dss.optimize.context.BuildContext.linear`).
:class:`ArrayLinearExpression` is a genuine ``LinearExpression`` (writers, ``value``,
``generate_standard_repn`` and printing all work) that keeps the option indices and
coefficients as NumPy arrays and builds its term objects on first access to its arguments.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression
from pyomo.repn import ampl, linear, standard_repn


def _args_slot() -> Any:
    for klass in LinearExpression.__mro__:
        if "_args_" in klass.__dict__:
            return klass.__dict__["_args_"]
    raise ImportError("this Pyomo release stores expression arguments differently")


_SLOT = _args_slot()


class ArrayLinearExpression(LinearExpression):
    """``constant + sum_j coefs[j] * variables[idx[j]] + sum(c * v for v, c in others)``.

    Args:
        args: As ``LinearExpression`` (Pyomo itself creates copies this way).
        lazy: ``(variables, idx, coefs, constant, other_vars, other_coefs)``: the terms,
            created on first access to the expression's arguments.
    """

    __slots__ = ("_lazy",)

    def __init__(self, args: Any = None, constant: Any = None, linear_coefs: Any = None,
                 linear_vars: Any = None, *, lazy: tuple | None = None) -> None:
        if lazy is None:
            self._lazy = None
            super().__init__(args, constant, linear_coefs, linear_vars)
            return
        self._lazy = lazy
        _variables, idx, _coefs, constant, other_vars, _other_coefs = lazy
        self._nargs = len(idx) + len(other_vars) + (1 if constant else 0)

    @property
    def _args_(self) -> list:
        lazy = self._lazy
        if lazy is not None:
            variables, idx, coefs, constant, other_vars, other_coefs = lazy
            args: list = [float(constant)] if constant else []
            args.extend(map(MonomialTermExpression,
                            zip(coefs.tolist(), [variables[i] for i in idx.tolist()],
                                strict=True)))
            args.extend(map(MonomialTermExpression, zip(other_coefs, other_vars, strict=True)))
            _SLOT.__set__(self, args)
            self._lazy = None
        return _SLOT.__get__(self)

    @_args_.setter
    def _args_(self, value: list) -> None:
        _SLOT.__set__(self, value)


def _register_with_pyomo() -> None:
    """Pyomo's expression walkers dispatch on the exact class of a node; give ours the
    handlers of its parent (``generate_standard_repn``, the linear/quadratic visitors behind
    the LP writer and the solver interfaces, the NL writer's visitor). Checked by
    ``tests/test_lazy_linear.py`` (LP, NL, GAMS and BARON files, a Pyomo HiGHS solve)."""

    for table in ("_repn_collectors", "_linear_repn_collectors"):
        collectors = getattr(standard_repn, table, None)
        if collectors is not None and LinearExpression in collectors:
            collectors[ArrayLinearExpression] = collectors[LinearExpression]
    dispatchers = (getattr(getattr(linear, "LinearRepnVisitor", None),
                           "before_child_dispatcher", None),  # LP writer, solver interfaces
                   getattr(ampl, "_before_child_handlers", None))  # NL writer
    for dispatcher in dispatchers:
        if dispatcher is not None and LinearExpression in dispatcher:
            dispatcher[ArrayLinearExpression] = dispatcher[LinearExpression]


_register_with_pyomo()


def array_linear(variables: list[Any], idx: np.ndarray, coefs: np.ndarray, constant: float,
                 other_vars: tuple, other_coefs: tuple) -> ArrayLinearExpression:
    """An :class:`ArrayLinearExpression` over ``variables[idx]`` (terms made on demand)."""
    return ArrayLinearExpression(lazy=(variables, idx, coefs, float(constant), other_vars,
                                       other_coefs))
