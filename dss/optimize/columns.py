"""Bounds and integrality of the compiled columns, and the variable domains HiGHS can take.

A column's bounds are its variable's bounds intersected with its domain's; a fixed variable
stays a column with both bounds at its value. A domain must be an interval of reals or of
integers (``Reals``, ``Binary``, ``NonNegativeIntegers``, ``UnitInterval``...): a value set such
as {0, 2, 5} would be relaxed to its bounds, so it is refused (:func:`refuse_domain`).
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any

import numpy as np

from dss.errors import ComponentError
from dss.optimize.pyomo_internals import stored_bounds

INF = float("inf")


def _bound(value: Any, default: float) -> float:
    return default if value is None else float(value)


def column_data(columns: list[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bounds and integrality of each column (a fixed variable: both bounds at its value).

    Read in bulk from the variables' stored bounds and domains when every stored bound is a
    plain number or None (how dss and most models make variables,
    :func:`~dss.optimize.pyomo_internals.stored_bounds`); otherwise variable by variable
    through the public API (:func:`column_data_public`, the reference the bulk path is
    tested against).
    """
    stored = stored_bounds(columns)
    if stored is None:
        return column_data_public(columns)
    lower, upper, domains = stored
    fixed = np.fromiter(map(attrgetter("fixed"), columns), dtype=bool, count=len(columns))
    n = len(columns)
    first: dict[int, int] = {}  # domain id -> first column with that domain
    for j, domain in enumerate(domains):
        first.setdefault(id(domain), j)
    slot = {key: i for i, key in enumerate(first)}
    which = np.fromiter(map(slot.__getitem__, map(id, domains)), dtype=np.int64, count=n)
    dom_lower, dom_upper = np.empty(len(slot)), np.empty(len(slot))
    dom_integer = np.zeros(len(slot), bool)
    for i, j in enumerate(first.values()):
        refuse_domain(columns[j], domains[j])
        lb, ub = domains[j].bounds()
        dom_lower[i] = _bound(lb, -INF)
        dom_upper[i] = _bound(ub, INF)
        dom_integer[i] = columns[j].is_integer()
    lower = np.maximum(lower, dom_lower[which])
    upper = np.minimum(upper, dom_upper[which])
    integer = dom_integer[which].copy()
    for j in np.flatnonzero(fixed):
        lower[j] = upper[j] = float(columns[j].value or 0.0)
        integer[j] = False
    return lower, upper, integer


def column_data_public(columns: list[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`column_data` variable by variable through Pyomo's public API."""
    n = len(columns)
    lower, upper = np.empty(n), np.empty(n)
    integer = np.zeros(n, dtype=bool)
    integer_domain: dict[int, bool] = {}  # domain id -> integer? (a few shared domains)
    for j, var in enumerate(columns):
        if var.fixed:
            lower[j] = upper[j] = float(var.value or 0.0)
            continue
        lb, ub = var.bounds
        lower[j] = _bound(lb, -INF)
        upper[j] = _bound(ub, INF)
        is_integer = integer_domain.get(id(var.domain))
        if is_integer is None:
            refuse_domain(var, var.domain)
            is_integer = integer_domain[id(var.domain)] = var.is_integer()
        integer[j] = is_integer
    return lower, upper, integer


def refuse_domain(var: Any, domain: Any) -> None:
    """Refuse a variable whose domain is not an interval of reals or of integers (a set
    such as {0, 2, 5} would otherwise be relaxed to its bounds).

    Raises:
        ComponentError: naming the variable and its domain.
    """
    interval = domain.get_interval()
    if interval is None or interval[2] not in (0, 1):
        raise ComponentError(
            f"variable {var.name} has the domain {domain}, which dss cannot pass to HiGHS: "
            "use Reals, Integers, Binary or an interval of them, and write other value "
            "sets with binary variables and linear constraints")
