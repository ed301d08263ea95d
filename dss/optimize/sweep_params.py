"""The parameter a sweep varies: a dotted model key set on a copy of the problem, the
requirements whose right-hand side it is (re-solved in place), and the values
(``--values``/``--range``) parsed (:mod:`dss.optimize.sweep`)."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
from pydantic import ValidationError

from dss.config.loader import _validation_issues, set_dotted
from dss.config.model import ModelConfig
from dss.errors import InputError, Issue, did_you_mean
from dss.optimize.components.benefits import Carbon
from dss.optimize.components.constraints import Budget
from dss.optimize.problem import Problem

LOGGER = logging.getLogger(__name__)


def with_param(problem: Problem, param: str, value: Any) -> Problem:
    """A new problem with one dotted parameter set, validated like ``--set``.

    ``components.<name>.<key...>`` re-creates that component from its own parameters with
    the key changed (so components added in Python are kept); ``solver.*`` and
    ``settings.*`` change the configuration. The input tables are never re-read.

    Raises:
        InputError: on an unknown component or key, or an invalid value.
    """
    parts = param.split(".")
    if parts[0] == "components":
        if len(parts) < 3:
            raise InputError([Issue("--param", f"{param!r}: write components.<name>.<key>, "
                                               "e.g. components.budget.total")],
                             "invalid sweep parameter")
        name = parts[1]
        if name not in problem.names:
            hint = did_you_mean(name, problem.names)
            raise InputError([Issue("--param", f"no component named {name!r} ("
                                               f"{hint + ' ' if hint else ''}have: "
                                               f"{', '.join(problem.names)})")],
                             "invalid sweep parameter")
        comp = problem.component(name)
        params = {k: v for k, v in comp.spec().items() if k != "type"}
        set_dotted(params, ".".join(parts[2:]), value, "--param", param)
        new = type(comp)(name, **params)
        components = tuple(new if c.name == name else c for c in problem.components)
        specs = dict(problem.config.components)
        if name in specs:
            specs[name] = new.spec()
        config = problem.config.model_copy(update={"components": specs})
        return replace(problem, components=components, config=config)
    if parts[0] in ("solver", "settings") and len(parts) == 2:
        if param == "settings.area_tolerance":
            raise InputError([Issue("--param", "settings.area_tolerance changes how the "
                                               "input tables are read; it cannot be swept")],
                             "invalid sweep parameter")
        raw = problem.config.model_dump()
        set_dotted(raw, param, value, "--param", param)
        try:
            config = ModelConfig.model_validate(raw)
        except ValidationError as err:
            raise InputError(_validation_issues(err, "--param"), "invalid sweep value"
                             ) from None
        return replace(problem, config=config)
    raise InputError([Issue("--param", f"{param!r} cannot be swept (sweep components.<name>."
                                       "<key>, solver.<option> or settings.<key>)")],
                     "invalid sweep parameter")


@dataclass(frozen=True)
class RhsTarget:
    """The one constraint row whose bound a parameter sets.

    Attributes:
        component: Component name.
        constraint: Name of the constraint on the component's block.
        index: Constraint index (None for a scalar constraint).
        side: ``upper`` or ``lower`` bound of the row.
    """

    component: str
    constraint: str
    index: Any
    side: Literal["upper", "lower"]

    def locate(self, built: Any) -> Any:
        """The Pyomo constraint data in a built model (None if it was not created)."""
        block = built.blocks.get(self.component)
        con = None if block is None else block.component(self.constraint)
        if con is None:
            return None
        if self.index is None:
            return con if not con.is_indexed() else None
        return con[self.index] if self.index in con else None


RHS_PARAMETERS: dict[str, str] = {
    "budget total": "components.<budget>.total -> <budget>.total (upper bound)",
    "budget per_agency": "components.<budget>.per_agency.<g> -> <budget>.agency[g] (upper)",
    "budget per_township": "components.<budget>.per_township.<g> -> <budget>.township[g] "
                           "(upper)",
    "carbon minimum": "components.<carbon>.minimum -> <carbon>.floor (lower bound)",
}
"""Parameters that only change one row's bound, swept on the persistent engine."""


def rhs_target(problem: Problem, param: str) -> RhsTarget | None:
    """The row a parameter bounds, if it only changes a right-hand side (else None)."""
    parts = param.split(".")
    if parts[0] != "components" or len(parts) < 3 or parts[1] not in problem.names:
        return None
    comp = problem.component(parts[1])
    rest = parts[2:]
    if isinstance(comp, Budget):
        if rest == ["total"]:
            return RhsTarget(comp.name, "total", None, "upper")
        if len(rest) == 2 and rest[0] == "per_agency":
            return RhsTarget(comp.name, "agency", rest[1], "upper")
        if len(rest) == 2 and rest[0] == "per_township":
            return RhsTarget(comp.name, "township", rest[1], "upper")
    if isinstance(comp, Carbon) and rest == ["minimum"]:
        return RhsTarget(comp.name, "floor", None, "lower")
    return None


def budget_name(problem: Problem) -> str | None:
    """Name of the first budget component with a total (whose dual is reported)."""
    for comp in problem.components:
        if isinstance(comp, Budget) and comp.params.total is not None:
            return comp.name
    return None


def _number(text: str, what: str) -> float:
    """A number from the command line, or ValueError saying which part is not one."""
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{text.strip()!r} is not {what or 'a number'}") from None


def parse_values(values: str | None = None, range_: str | None = None) -> list[float]:
    """Sweep values from ``--values 1e7,2e7`` or ``--range START:STOP:N`` (N points,
    both ends included).

    Raises:
        InputError: if both or neither are given, or a number is malformed.
    """
    if (values is None) == (range_ is None):
        raise InputError([Issue("--values/--range", "give exactly one of --values V1,V2,... "
                                                    "or --range START:STOP:N")],
                         "invalid sweep values")
    where = "--values" if values is not None else "--range"
    example = "write --values 1e7,2e7,3e7 or --range 1e7:5e7:5 (START:STOP:N)"
    if range_ is not None and len(range_.split(":")) != 3:
        parts = len(range_.split(":"))
        raise InputError([Issue(where, f"{range_!r} has {parts} part{'s' if parts != 1 else ''}"
                                       f", it needs three: START:STOP:N, the first and last "
                                       f"value and how many points, e.g. "
                                       f"{range_.rstrip(':')}:6" if parts == 2 else
                                f"{range_!r} is not START:STOP:N; {example}")],
                         "invalid sweep values")
    try:
        if values is not None:
            out = [_number(v, "a number") for v in values.replace(";", ",").split(",")
                   if v.strip()]
        else:
            start, stop, n = range_.split(":")
            count = int(_number(n, "N, a whole number of points"))
            if count < 1 or count != _number(n, ""):
                raise ValueError(f"N must be a whole number of points, at least 1, not {n!r}")
            out = np.linspace(_number(start, "a number (START)"),
                              _number(stop, "a number (STOP)"), count).tolist()
    except ValueError as err:
        raise InputError([Issue(where, f"cannot read {values or range_!r}: {err}; {example}")],
                         "invalid sweep values") from None
    if not out or not all(math.isfinite(v) for v in out):
        raise InputError([Issue("--values", "give at least one finite number")],
                         "invalid sweep values")
    return out
