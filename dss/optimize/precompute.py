"""The sparse data every component builds from: the decision options, the baseline local
loads and their routing down the river, and the planning years (a :class:`BuildContext`).

Below the model builder (:mod:`dss.optimize.build`), so that a component can precompute the
same data for a variant of the study (e.g. each scenario of a stochastic objective) without
calling back into the core.
"""

from __future__ import annotations

from typing import Any

from dss.config.model import ModelConfig
from dss.data.study import Study
from dss.indicators.baseline import route_all
from dss.indicators.loads import local_loads
from dss.optimize.context import BuildContext
from dss.optimize.options import build_options
from dss.optimize.phasing import phase


def context_for(study: Study, config: ModelConfig, components: tuple[Any, ...],
                source: str = "model") -> BuildContext:
    """Precompute the options, loads, routing and planning years of ``study`` under
    ``config`` for ``components`` (``source``: the model file name, to locate problems)."""
    settings = config.settings
    fish = any(c.type_name == "fish_passage" for c in components)
    options = build_options(study, settings.horizon_years, barrier_options=fish)
    phasing = None
    if settings.years is not None:  # one option per (subunit, action, start year)
        options, phasing = phase(study, settings, options, source)
    local = local_loads(study)
    return BuildContext(study=study, config=config, options=options, local=local,
                        routed=route_all(study, local), components=tuple(components),
                        phasing=phasing)


def make_context(problem: Any) -> BuildContext:
    """:func:`context_for` a :class:`~dss.optimize.problem.Problem` (its study, configuration,
    components and model file)."""
    return context_for(problem.study, problem.config, problem.components, problem.source)
