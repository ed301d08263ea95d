"""The optimization problem: a study plus an immutable, ordered set of components.

``Problem`` mirrors prioritizr's grammar: every change returns a new problem, so a base
problem can be varied freely::

    problem = Problem.from_model("models/baoxing.yaml")
    richer = problem.add(MyComponent("mine", weight=2.0)).without("equity")
    result = richer.solve()
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from dss.config.loader import ResolvedModel, load_model
from dss.config.model import ModelConfig, SolverConfig
from dss.data.study import Study, load_study
from dss.errors import ComponentError, InputError, Issue, did_you_mean
from dss.optimize.components.base import Component, Role, get

if TYPE_CHECKING:  # pragma: no cover
    from dss.optimize.solve import Result

LOGGER = logging.getLogger(__name__)


def relocate(issues: list[Issue], source: str) -> list[Issue]:
    """Issues located in the logical source ``model`` re-labelled with the model file name,
    so they read ``baoxing.yaml, key components.budget.total: ...``."""
    return [Issue(source, i.message, i.row, i.column) if i.file == "model" else i
            for i in issues]


def components_from_config(specs: dict[str, dict[str, Any]], source: str = "model"
                           ) -> tuple[Component, ...]:
    """Instantiate components from the ``components`` mapping of a model file.

    Args:
        specs: Component name -> mapping with ``type`` and parameters.
        source: The model file name, to locate problems.

    Raises:
        InputError: listing every unknown type and invalid parameter.
    """
    built, issues = [], []
    for name, spec in specs.items():
        if not isinstance(spec, dict) or "type" not in spec:
            typed = [n for n, s in specs.items() if isinstance(s, dict) and "type" in s]
            hint = did_you_mean(name, typed)
            hint = hint.replace("did you mean ", "did you mean components.")
            message = (f"the model has no component {name!r}: {hint} (a new component "
                       "needs a `type`, see `dss components`)" if hint else
                       "each component needs a `type` (see `dss components`)")
            issues.append(Issue("model", message, None, f"components.{name}"))
            continue
        params = {k: v for k, v in spec.items() if k != "type"}
        try:
            klass = get(str(spec["type"]), family="allocation")
            built.append(klass(name, **params))
        except ComponentError as err:
            issues.append(Issue("model", str(err), None, f"components.{name}.type"))
        except InputError as err:
            issues.extend(err.issues)
    if issues:
        raise InputError(relocate(issues, source), "invalid components")
    return tuple(built)


@dataclass(frozen=True)
class Problem:
    """A study and the components that make up its optimization model."""

    study: Study
    config: ModelConfig
    components: tuple[Component, ...] = field(default_factory=tuple)
    model: ResolvedModel | None = None

    @classmethod
    def from_model(cls, path, scenarios: list[str] | None = None,
                   sets: list[str] | None = None) -> Problem:
        """Load a model file (with scenario overrides) and its study."""
        resolved = load_model(path, scenarios, sets)
        study = load_study(resolved.inputs_dir, resolved.config.name,
                           resolved.config.settings.area_tolerance)
        return cls.from_config(study, resolved.config, resolved)

    @classmethod
    def from_config(cls, study: Study, config: ModelConfig,
                    resolved: ResolvedModel | None = None) -> Problem:
        """Build a problem from an already loaded study and configuration."""
        source = resolved.path.name if resolved is not None else "model"
        return cls(study, config, components_from_config(config.components, source), resolved)

    @property
    def source(self) -> str:
        """Name of the model file (``model`` for a problem built in Python)."""
        return self.model.path.name if self.model is not None else "model"

    @property
    def names(self) -> list[str]:
        """Component instance names, in order."""
        return [c.name for c in self.components]

    def component(self, name: str) -> Component:
        """The component called ``name``."""
        for c in self.components:
            if c.name == name:
                return c
        raise KeyError(f"no component named {name!r} (have: {', '.join(self.names)})")

    def add(self, component: Component) -> Problem:
        """A new problem with ``component`` added (replacing one of the same name)."""
        kept = tuple(c for c in self.components if c.name != component.name)
        return replace(self, components=(*kept, component))

    def without(self, *names: str) -> Problem:
        """A new problem without the named components."""
        missing = [n for n in names if n not in self.names]
        if missing:
            raise KeyError(f"no component named {missing} (have: {', '.join(self.names)})")
        return replace(self, components=tuple(c for c in self.components
                                              if c.name not in names))

    def with_solver(self, **options: Any) -> Problem:
        """A new problem with solver options changed (time_limit, mip_gap, threads, ...)."""
        solver = SolverConfig.model_validate({**self.config.solver.model_dump(), **options})
        return replace(self, config=self.config.model_copy(update={"solver": solver}))

    def objective(self) -> Component:
        """The single objective component.

        Raises:
            InputError: if there is none or more than one.
        """
        objectives = [c for c in self.components if c.role is Role.OBJECTIVE]
        if len(objectives) != 1:
            found = ", ".join(c.name for c in objectives) or "none"
            raise InputError([Issue(self.source, f"exactly one objective component is "
                                                 f"needed (max_benefit or min_cost); found: "
                                                 f"{found}", None, "components")],
                             "invalid components")
        return objectives[0]

    def spec(self) -> dict[str, dict[str, Any]]:
        """The components as a model-file mapping (for manifests)."""
        return {c.name: c.spec() for c in self.components}

    def solve(self) -> Result:
        """Build and solve the model (see :func:`dss.optimize.solve.solve_problem`)."""
        from dss.optimize.solve import solve_problem

        return solve_problem(self)
