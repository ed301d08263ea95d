"""The matrix compiler's bulk read of column bounds equals Pyomo's public API."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from dss.optimize.columns import column_data as _column_data
from dss.optimize.columns import column_data_public as _column_data_public


def _model() -> pyo.ConcreteModel:
    m = pyo.ConcreteModel()
    m.p = pyo.Param(initialize=3.5, mutable=True)
    m.a = pyo.Var(range(5), within=pyo.NonNegativeReals, bounds=(None, 4))
    m.b = pyo.Var(within=pyo.Binary)
    m.c = pyo.Var(within=pyo.Integers, bounds=(-2.5, 7.2))
    m.d = pyo.Var(within=pyo.Reals)
    m.e = pyo.Var(within=pyo.NonNegativeIntegers, bounds=(1, 3))
    m.e.fix(2)
    m.f = pyo.Var(bounds=(-1, m.p))  # a bound held as a Param: the public path
    m.g = pyo.Var(within=pyo.PercentFraction)
    m.h = pyo.Var(within=pyo.NonPositiveReals, bounds=(-5, 2))
    m.i = pyo.Var(within=pyo.RangeSet(0.5, 10.5, 1))  # steps of 1 from 0.5: not integer
    m.j = pyo.Var(within=pyo.Integers)
    m.j.setlb(-3)
    return m


def test_bulk_bounds_equal_the_public_api() -> None:
    m = _model()
    plain = [*m.a.values(), m.b, m.c, m.d, m.e, m.g, m.h, m.i, m.j]
    for columns in (plain, [*plain, m.f], [m.f, *plain]):
        bulk, public = _column_data(columns), _column_data_public(columns)
        for got, want in zip(bulk, public, strict=True):
            np.testing.assert_array_equal(got, want)
    lower, upper, integer = _column_data(plain)
    assert (lower[5], upper[5], integer[5]) == (0.0, 1.0, True)  # binary
    assert (lower[8], upper[8], integer[8]) == (2.0, 2.0, False)  # fixed at 2
    assert integer[11] == bool(m.i.is_integer())
    assert (lower[12], upper[12], integer[12]) == (-3.0, np.inf, True)
