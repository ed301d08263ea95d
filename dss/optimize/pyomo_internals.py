"""Every use dss makes of Pyomo's private internals, checked when this module is imported.

dss relies on a few parts of Pyomo that are not its public API. They all live here, so a new
Pyomo release that changes them fails loudly, at import, naming the Pyomo version and the
missing piece, instead of producing a wrong model:

- ``_args_`` (the slot holding an expression's arguments) and ``_nargs`` (their count) of
  Pyomo's expression classes: :class:`ArrayLinearExpression` fills them on demand;
- the writers' dispatch tables, which pick a handler by the exact class of an expression
  node: ``pyomo.repn.standard_repn._repn_collectors`` (``generate_standard_repn``), the
  LP writer's before-child dispatcher (``pyomo.repn.linear``) and the NL writer's
  ``_before_child_handlers`` (``pyomo.repn.ampl``); :class:`ArrayLinearExpression` is given
  the handlers of ``LinearExpression``;
- a variable's stored ``_lb``, ``_ub`` and ``_domain``, read in bulk by
  :func:`stored_bounds` for the hundreds of thousands of columns of a large basin (the
  public ``var.bounds`` path, :func:`dss.optimize.columns.column_data_public`, is the
  reference it is tested against).

The supported range is the one ``pyproject.toml`` declares and ``.ci/run`` tests (its lowest
and its latest release).
"""

from __future__ import annotations

import importlib
from operator import attrgetter
from typing import Any

import numpy as np
import pyomo.environ as pyo
import pyomo.version
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression
from pyomo.repn import standard_repn

PYOMO_VERSION = pyomo.version.version


class PyomoInternalsError(ImportError):
    """The installed Pyomo lacks a piece of its internals dss relies on."""


def _fail(missing: list[str]) -> PyomoInternalsError:
    return PyomoInternalsError(
        f"dss cannot use Pyomo {PYOMO_VERSION}: it lacks {'; '.join(missing)}. Install a "
        "Pyomo release in the range dss declares (pyproject.toml, e.g. "
        "`pip install 'pyomo>=6.8,<7'`), or report this Pyomo release as unsupported")


def _slot(name: str) -> Any:
    """The slot descriptor ``name`` of Pyomo's expression classes (None if absent)."""
    for klass in LinearExpression.__mro__:
        found = klass.__dict__.get(name)
        if found is not None and hasattr(found, "__set__"):
            return found
    return None


def _first(candidates: list[tuple[str, str]]) -> Any:
    """The first ``module.attribute`` of the candidates that exists (None if none)."""
    for module_name, attribute in candidates:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        found = module
        for part in attribute.split("."):
            found = getattr(found, part, None)
            if found is None:
                break
        if found is not None:
            return found
    return None


_ARGS = _slot("_args_")
_NARGS = _slot("_nargs")
_LP_DISPATCH = _first([("pyomo.repn.linear", "LinearRepnVisitor.before_child_dispatcher"),
                       ("pyomo.repn.linear", "_before_child_dispatcher")])
_NL_DISPATCH = _first([("pyomo.repn.ampl", "_before_child_handlers")])
_REPN_COLLECTORS = getattr(standard_repn, "_repn_collectors", None)


def _check() -> None:
    """Raise :class:`PyomoInternalsError` naming every piece this Pyomo lacks."""
    missing = []
    if _ARGS is None:
        missing.append("the `_args_` slot of its expression classes")
    if _NARGS is None:
        missing.append("the `_nargs` slot of its expression classes")
    for name, table in (("pyomo.repn.standard_repn._repn_collectors", _REPN_COLLECTORS),
                        ("the LP writer's before-child dispatcher (pyomo.repn.linear)",
                         _LP_DISPATCH),
                        ("the NL writer's `_before_child_handlers`", _NL_DISPATCH)):
        if table is None or LinearExpression not in table:
            missing.append(f"{name} (with a LinearExpression entry)")
    probe = pyo.ConcreteModel()
    probe.v = pyo.Var(bounds=(0, 1))
    for name in ("_lb", "_ub", "_domain"):
        if not hasattr(probe.v, name):
            missing.append(f"the `{name}` attribute of a variable")
    if missing:
        raise _fail(missing)


_check()


class ArrayLinearExpression(LinearExpression):
    """``constant + sum_j coefs[j] * variables[idx[j]] + sum(c * v for v, c in others)``.

    A genuine ``LinearExpression`` (writers, ``value``, ``generate_standard_repn`` and printing
    all work) that keeps its terms as NumPy arrays and makes its term objects on first access
    to its arguments (see :mod:`dss.optimize.lazy_linear`).

    Args:
        args: As ``LinearExpression`` (Pyomo itself creates copies this way).
        lazy: ``(variables, idx, coefs, constant, other_vars, other_coefs)``: the terms,
            created on first access to the expression's arguments; with two more items
            ``(first, end)``, the terms are ``idx[first:end]`` and ``coefs[first:end]`` (a row
            of a compressed layout that shares its arrays, without a view per row).
    """

    __slots__ = ("_lazy",)

    def __init__(self, args: Any = None, constant: Any = None, linear_coefs: Any = None,
                 linear_vars: Any = None, *, lazy: tuple | None = None) -> None:
        if lazy is None:
            self._lazy = None
            super().__init__(args, constant, linear_coefs, linear_vars)
            return
        self._lazy = lazy
        size = lazy[7] - lazy[6] if len(lazy) == 8 else len(lazy[1])
        _NARGS.__set__(self, size + len(lazy[4]) + (1 if lazy[3] else 0))

    @property
    def _args_(self) -> list:
        lazy = self._lazy
        if lazy is not None:
            variables, idx, coefs, constant, other_vars, other_coefs = lazy[:6]
            if len(lazy) == 8:
                idx, coefs = idx[lazy[6]:lazy[7]], coefs[lazy[6]:lazy[7]]
            args: list = [float(constant)] if constant else []
            args.extend(map(MonomialTermExpression,
                            zip(coefs.tolist(), [variables[i] for i in idx.tolist()],
                                strict=True)))
            args.extend(map(MonomialTermExpression, zip(other_coefs, other_vars, strict=True)))
            _ARGS.__set__(self, args)
            self._lazy = None
        return _ARGS.__get__(self)

    @_args_.setter
    def _args_(self, value: list) -> None:
        _ARGS.__set__(self, value)


def _register_with_pyomo() -> None:
    """Pyomo's expression walkers dispatch on the exact class of a node; give
    :class:`ArrayLinearExpression` the handlers of its parent (``generate_standard_repn``,
    the LP writer's visitor, the NL writer's visitor). Checked by
    ``tests/test_lazy_linear.py`` (LP, NL, GAMS and BARON files)."""
    for table in (_REPN_COLLECTORS, getattr(standard_repn, "_linear_repn_collectors", None),
                  _LP_DISPATCH, _NL_DISPATCH):
        if table is not None and LinearExpression in table:
            table[ArrayLinearExpression] = table[LinearExpression]


_register_with_pyomo()

_PLAIN_BOUND_TYPES = {type(None), float, int}
"""Stored bound types :func:`stored_bounds` reads as they are."""


def stored_bounds(columns: list[Any]) -> tuple[np.ndarray, np.ndarray, list[Any]] | None:
    """The variables' own bounds (:math:`\\pm\\infty` where none) and their domains, read from
    the stored attributes in bulk; None when a stored bound is not a plain number (an
    expression or a mutable parameter: read those through ``var.bounds``)."""
    stored_lb = list(map(attrgetter("_lb"), columns))
    stored_ub = list(map(attrgetter("_ub"), columns))
    if not set(map(type, stored_lb)) | set(map(type, stored_ub)) <= _PLAIN_BOUND_TYPES:
        return None
    n = len(columns)
    inf = float("inf")
    lower = np.fromiter((-inf if v is None else v for v in stored_lb), dtype=float, count=n)
    upper = np.fromiter((inf if v is None else v for v in stored_ub), dtype=float, count=n)
    return lower, upper, [var._domain for var in columns]
