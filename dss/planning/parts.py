"""The contract of a planning-problem part (objective, constraint or penalty).

A part is a :class:`dss.optimize.components.Component` of the ``planning`` family: the one
extension contract and registry of dss (``dss components`` lists and documents both
families). Each part is a small frozen dataclass, registered under its ``type_name`` when its
class is defined in :mod:`dss.planning` (a researcher's part registers with
``@dss.optimize.components.register``, as a restoration component does). Its class
docstring states its mathematics; it checks itself against the problem's data
(:meth:`Part.check`, every problem reported at once) and adds its variables, constraints
and objective terms to its own Pyomo block (:meth:`Part.compile`). Notation used in every docstring:

- :math:`i, j` planning units, :math:`z` zones, :math:`f` features, :math:`t` targets;
- :math:`x_{iz} \\in \\{0,1\\}` (binary decisions) or :math:`[0,1]` (proportion decisions):
  unit :math:`i` is (the share of unit :math:`i` that is) allocated to zone :math:`z`;
- :math:`y_i^G = \\sum_{z \\in G} x_{iz}`: unit :math:`i` is in the zone group :math:`G`
  (by default every zone, i.e. "selected");
- :math:`c_{iz}` cost, :math:`a_{fi}` amount of feature :math:`f` in unit :math:`i`,
  :math:`k_{fz}` contribution of zone :math:`z` to feature :math:`f` (1 by default);
- :math:`h_t = \\sum_i \\sum_{z \\in Z_t} k_{f_t z} a_{f_t i} x_{iz}` the amount held for
  target :math:`t` (feature :math:`f_t` in the zones :math:`Z_t`) and :math:`T_t` its target.
"""

from __future__ import annotations

import abc
import inspect
import re
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import ConfigDict, Field, create_model

from dss.errors import Issue
from dss.optimize.components.base import Component, Params, Role, register

if TYPE_CHECKING:  # pragma: no cover
    import pyomo.environ as pyo

    from dss.planning.compile import Model
    from dss.planning.problem import PlanningProblem


_ROLES = {"objective": Role.OBJECTIVE, "constraint": Role.CONSTRAINT, "penalty": Role.PENALTY}


class _PartParams(Params):
    """Base of the parameter schemas generated for park-design parts: their fields are
    described explicitly, so pydantic reads no attribute docstrings from source (that search
    walks every loaded module per schema: most of `dss validate`'s time)."""

    model_config = ConfigDict(use_attribute_docstrings=False)


class Part(Component):
    """Base of objectives, constraints and penalties.

    The component contract for planning problems: :meth:`check` receives the
    :class:`~dss.planning.problem.PlanningProblem` and :meth:`build` (which calls
    :meth:`compile`) the :class:`~dss.planning.compile.Model` being compiled. ``Params``
    lists the dataclass fields (for ``dss components``).
    """

    family: ClassVar[str] = "planning"
    kind: ClassVar[str] = "part"
    role: ClassVar[Role] = Role.CONSTRAINT
    elastic: ClassVar[bool] = False
    order: ClassVar[int] = 50
    """Compile order: locks first (others read them), then constraints, objective, penalties."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.role = _ROLES.get(cls.kind, Role.CONSTRAINT)
        if "type_name" not in cls.__dict__:
            named = cls.__dict__.get("name")
            cls.type_name = named if isinstance(named, str) else re.sub(
                r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()
        if "build" in cls.__dict__ and "compile" not in cls.__dict__:
            cls.compile = _compile_by_build  # a part written as a component: build only
        fields = {n: (Any, Field(description=f"{a} (a field of the part)"))
                  for n, a in _fields(cls).items()}
        cls.Params = create_model(f"{cls.__name__}Params", __base__=_PartParams, **fields)
        concrete = not getattr(cls.compile, "__isabstractmethod__", False)
        if concrete and cls.__module__.startswith("dss.planning."):
            register(cls)

    @property
    def label(self) -> str:
        """Name of the part's Pyomo block and of its rows in reports."""
        return getattr(self, "name", "") or type(self).__name__

    def check(self, problem: PlanningProblem) -> list[Issue]:
        """Problems with this part on this problem's data (empty when fine)."""
        return []

    @abc.abstractmethod
    def compile(self, model: Model, block: pyo.Block) -> None:
        """Add this part's variables, constraints and objective terms to ``block``."""

    def build(self, block: pyo.Block, ctx: Model) -> None:
        """The component contract's build: :meth:`compile` on the planning model ``ctx``.

        A part may implement ``build(block, ctx)`` instead of :meth:`compile`, as a
        restoration component does; ``ctx`` is then the planning model being compiled."""
        self.compile(ctx, block)

    @classmethod
    def math(cls) -> str:
        """The class docstring: the part's mathematics."""
        return inspect.getdoc(cls) or ""


def _fields(cls: type) -> dict[str, str]:
    """The dataclass fields a part class declares (name -> annotation), bases first."""
    out: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        for name, annotation in vars(klass).get("__annotations__", {}).items():
            text = annotation if isinstance(annotation, str) else getattr(
                annotation, "__name__", str(annotation))
            if not text.startswith(("ClassVar", "typing.ClassVar")):
                out[name] = text
    return out


def _compile_by_build(self: Part, model: Model, block: pyo.Block) -> None:
    """:meth:`Part.compile` of a part that implements ``build``."""
    self.build(block, model)
