"""The contract of a planning-problem part (objective, constraint or penalty).

Each part is a small frozen dataclass. Its class docstring states its mathematics; it checks
itself against the problem's data (:meth:`Part.check`, every problem reported at once) and
adds its variables, constraints and objective terms to its own Pyomo block
(:meth:`Part.compile`). Notation used in every docstring:

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
from typing import TYPE_CHECKING, ClassVar

from dss.errors import Issue

if TYPE_CHECKING:  # pragma: no cover
    import pyomo.environ as pyo

    from dss.planning.compile import Model
    from dss.planning.problem import PlanningProblem


class Part(abc.ABC):
    """Base of objectives, constraints and penalties."""

    kind: ClassVar[str] = "part"
    order: ClassVar[int] = 50
    """Compile order: locks first (others read them), then constraints, objective, penalties."""

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

    @classmethod
    def math(cls) -> str:
        """The class docstring: the part's mathematics."""
        return inspect.getdoc(cls) or ""
