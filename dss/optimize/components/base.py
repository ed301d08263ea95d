"""The component contract and the registry through which dss and researchers add components.

A component is one documented unit of an optimization model: a constraint group, a benefit
(valued in currency), an objective, or a penalty. It validates its own parameters (a frozen, strict
pydantic schema), checks data before anything is built, builds its Pyomo parts on its own
block, and reports its own results. Its docstring states its mathematics.

There is one contract and one registry for both problem families: ``family`` says which
model a component belongs to. ``allocation`` components (restoration actions over subunits,
:mod:`dss.optimize.components`) are named by ``type`` under ``components:`` of a model file;
``planning`` components are the park-design parts of :mod:`dss.planning`
(:class:`dss.planning.parts.Part`, a subclass of :class:`Component`), used in a
``kind: planning`` model or, through the ``park_zoning`` component, inside an allocation
model. ``dss components`` lists and documents both.

Researchers register components from their own module (``@dss.register``) or from an
installed package's ``dss.components`` entry point. A model file only names a registered
``type``; it never names code to import or run.
"""

from __future__ import annotations

import abc
import enum
import importlib
import logging
from importlib import metadata
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from dss.errors import ComponentError, InputError, Issue, did_you_mean
from dss.optimize.evaluate import value_at

if TYPE_CHECKING:  # pragma: no cover
    import pyomo.environ as pyo

    from dss.optimize.context import BuildContext

LOGGER = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "dss.components"

BUILTIN_FAMILIES = ("dss.optimize.components", "dss.planning.components")
"""Modules that register dss's own components, imported by name like entry points: the
allocation components first, then the park-design parts (a higher layer, loaded only when a
name is not found among the first or when everything is listed)."""

ELASTIC_PENALTY = 1e6
"""Penalty (currency per unit of relative shortfall) on elastic slacks: large enough that any
requirement that can be met is met."""


class Role(enum.Enum):
    """What a component contributes; the build order follows this order."""

    CONSTRAINT = "constraint"
    BENEFIT = "benefit"
    OBJECTIVE = "objective"
    PENALTY = "penalty"
    """An objective term that is always minimised (the penalties of park-design parts)."""


SOLVER_INFINITY = 1e15
"""HiGHS treats values of this size or more as infinite (see :mod:`dss.optimize.presolve`)."""


class Params(BaseModel):
    """Base of component parameter schemas: strict and immutable. Every number in them must
    be finite and smaller in size than :data:`SOLVER_INFINITY` (a value the solver cannot
    represent would turn into an infinite or undefined coefficient)."""

    model_config = ConfigDict(extra="forbid", frozen=True,
                              allow_inf_nan=False)

    @model_validator(mode="after")
    def _representable(self) -> Params:
        stack: list[object] = [getattr(self, name) for name in type(self).model_fields]
        while stack:
            value = stack.pop()
            if isinstance(value, dict):
                stack.extend(value.values())
            elif isinstance(value, list | tuple | set | frozenset):
                stack.extend(value)
            elif isinstance(value, BaseModel):
                stack.extend(getattr(value, n) for n in type(value).model_fields)
            elif isinstance(value, int | float) and not isinstance(value, bool) \
                    and abs(value) >= SOLVER_INFINITY:
                raise ValueError(f"{value:g} is too large for the solver (values of "
                                 f"{SOLVER_INFINITY:g} or more are treated as infinite; use "
                                 "smaller units)")
        return self


class Component(abc.ABC):
    """Base of every model component.

    Subclasses set ``type_name`` (the YAML ``type``), ``role`` and ``Params``, document their
    formulation in the class docstring, and implement :meth:`build`.
    """

    type_name: ClassVar[str]
    role: ClassVar[Role]
    family: ClassVar[str] = "allocation"
    """The model it belongs to: ``allocation`` (``components:`` of a model file) or
    ``planning`` (a park-design part, :class:`dss.planning.parts.Part`)."""
    Params: ClassVar[type[Params]] = Params
    elastic_capable: ClassVar[bool] = False
    """Whether the component can turn its requirements into penalised slacks (used to
    explain infeasibility)."""

    def __init__(self, name: str, **params: Any) -> None:
        self.name = name
        try:
            self.params = self.Params.model_validate(params)
        except ValidationError as err:
            issues = []
            for e in err.errors():
                loc = ".".join(str(p) for p in ("components", name, *e["loc"]))
                if e["type"] == "extra_forbidden":
                    known = list(self.Params.model_fields)
                    hint = did_you_mean(str(e["loc"][-1]), known)
                    msg = (f"unknown parameter ({hint + ' ' if hint else ''}known: "
                           f"{', '.join(known)}; see `dss components {self.type_name}`)")
                else:
                    value = e.get("input")
                    shown = isinstance(value, str | int | float | bool) or value is None
                    msg = (e["msg"].removeprefix("Value error, ")
                           + (f" (got {value!r}; see `dss components {self.type_name}`)"
                              if shown else f" (see `dss components {self.type_name}`)"))
                issues.append(Issue("model", msg, None, loc))
            raise InputError(issues, f"invalid parameters for component {name!r}") from None
        self.elastic = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    def check(self, ctx: BuildContext) -> list[Issue]:
        """Data-level checks before building (unknown ids, impossible values)."""
        return []

    @abc.abstractmethod
    def build(self, block: pyo.Block, ctx: BuildContext) -> None:
        """Add this component's variables, expressions and constraints to ``block``."""

    def benefit_terms(self, block: pyo.Block, ctx: BuildContext) -> dict[str, Any]:
        """Currency-valued benefit expressions (label -> expression), maximised."""
        return {}

    def benefit_values(self, block: pyo.Block, ctx: BuildContext, amounts: np.ndarray
                       ) -> dict[str, float]:
        """Value of each benefit term at a plan (label -> currency).

        The default evaluates :meth:`benefit_terms` (see :mod:`dss.optimize.evaluate`);
        override it with array arithmetic when the terms are large.
        """
        return {label: value_at(term, ctx, amounts)
                for label, term in self.benefit_terms(block, ctx).items()}

    def benefit_objective(self, block: pyo.Block, ctx: BuildContext) -> Any:
        """This component's total benefit for the objective (default: sum of its terms).

        Override to return one aggregated linear expression when the terms share many
        variables; the labelled terms stay available for reporting.
        """
        terms = list(self.benefit_terms(block, ctx).values())
        return sum(terms, 0.0) if terms else None

    def assign_auxiliary(self, block: pyo.Block, ctx: BuildContext, amounts: Any) -> None:
        """Set this component's own variables to what a plan implies (used by ``dss verify``
        to re-check a saved plan; default: the component has none)."""
        return None

    def plan_tables(self, built: Any, result: Any) -> dict[str, pd.DataFrame]:
        """Result tables this component adds to a run with a plan (file stem -> tidy table),
        e.g. ``barriers.csv`` or ``scenario_benefit.csv``.

        Args:
            built: The compiled model (:class:`dss.optimize.build.Built`); this component's
                block is ``built.blocks[self.name]``.
            result: The solve result (:class:`dss.optimize.solve.Result`); the plan is
                ``result.amounts``.
        """
        return {}

    def penalty_terms(self, block: pyo.Block, ctx: BuildContext) -> dict[str, Any]:
        """Currency-valued penalty expressions, always minimised (elastic slacks)."""
        return {}

    def report(self, block: pyo.Block, ctx: BuildContext, amounts: Any) -> dict[str, pd.DataFrame]:
        """Extra result tables of this component (file stem -> tidy table)."""
        return {}

    def spec(self) -> dict[str, Any]:
        """The YAML mapping that recreates this component."""
        return {"type": self.type_name, **self.params.model_dump(exclude_defaults=True)}


_REGISTRY: dict[str, type[Component]] = {}
_ENTRY_POINTS_LOADED = False


def register(cls: type[Component] | None = None, *, replace: bool = False):
    """Register a component class under its ``type_name`` (usable as a decorator).

    Raises:
        ComponentError: if the name is taken and ``replace`` is false.
    """
    def _register(klass: type[Component]) -> type[Component]:
        name = getattr(klass, "type_name", None)
        if not name or not isinstance(name, str):
            raise ComponentError(f"{klass.__name__} has no type_name")
        if not (isinstance(klass, type) and issubclass(klass, Component)):
            raise ComponentError(f"{klass!r} is not a dss Component subclass")
        existing = _REGISTRY.get(name)
        if existing is not None and existing is not klass and not replace:
            raise ComponentError(f"component type {name!r} is already registered by "
                                 f"{existing.__module__}.{existing.__name__} (pass "
                                 "replace=True to override it)")
        _REGISTRY[name] = klass
        return klass

    return _register(cls) if cls is not None else _register


def unregister(type_name: str) -> None:
    """Remove a registered component type (tests and plugins)."""
    _REGISTRY.pop(type_name, None)


def _load_entry_points() -> None:
    global _ENTRY_POINTS_LOADED
    if _ENTRY_POINTS_LOADED:
        return
    _ENTRY_POINTS_LOADED = True
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            klass = ep.load()
        except Exception as err:  # noqa: BLE001 - a broken plugin must not break dss
            LOGGER.warning("could not load component plugin %s: %s", ep.name, err)
            continue
        if isinstance(klass, type) and issubclass(klass, Component) and \
                klass.type_name not in _REGISTRY:
            register(klass)


def get(type_name: str, family: str | None = None) -> type[Component]:
    """The component class registered as ``type_name``.

    Args:
        type_name: The registered name (a model file's ``type``).
        family: Refuse a class of another family (``allocation`` or ``planning``), with a
            message that says where it belongs.
    """
    _builtin()
    if type_name not in _REGISTRY:
        _builtin(everything=True)
    if type_name not in _REGISTRY:
        _load_entry_points()
    try:
        klass = _REGISTRY[type_name]
    except KeyError:
        known = [n for n, k in _REGISTRY.items() if family is None or k.family == family]
        hint = did_you_mean(type_name, known, quote=True)
        raise ComponentError(f"unknown component type {type_name!r} ("
                             f"{hint + ' ' if hint else ''}available: "
                             f"{', '.join(sorted(known))})") from None
    if family is not None and klass.family != family:
        where = ("a park-design part: it belongs in the `planning:` section of a "
                 "`kind: planning` model, or in an allocation model through a `park_zoning` "
                 "component's `design`" if klass.family == "planning" else
                 f"a component of {klass.family} models")
        raise ComponentError(f"component type {type_name!r} is {where} (see `dss components "
                             f"{type_name}`)")
    return klass


def available() -> dict[str, type[Component]]:
    """Every registered component type of both families, including entry-point plugins."""
    _builtin(everything=True)
    _load_entry_points()
    return dict(sorted(_REGISTRY.items()))


def _builtin(everything: bool = False) -> None:
    """Import the built-in components (they register themselves): the allocation
    components, and with ``everything`` the park-design parts too."""
    for module in BUILTIN_FAMILIES if everything else BUILTIN_FAMILIES[:1]:
        importlib.import_module(module)
