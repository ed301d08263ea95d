"""Systematic conservation planning and national-park design (prioritizr's grammar, Marxan's data).

A :class:`~dss.planning.problem.PlanningProblem` selects planning units (or assigns them to
zones such as a national park's core and general-control zones) to meet feature targets at
least cost, or to do as well as possible under a budget. It compiles to one mixed-integer
linear program solved exactly by HiGHS (through Pyomo), as dss's allocation model is::

    from dss.planning import PlanningProblem

    problem = (PlanningProblem.from_tables(units, features, amounts, boundary=bound)
               .add_min_set_objective()
               .add_relative_targets(0.3)
               .add_boundary_penalties(1.0)
               .add_contiguity_constraints())
    result = problem.solve()

Modules: :mod:`~dss.planning.problem` (data and the problem), :mod:`~dss.planning.objectives`,
:mod:`~dss.planning.constraints`, :mod:`~dss.planning.penalties` (one small class each, with
its mathematics), :mod:`~dss.planning.api` (more of prioritizr's calls),
:mod:`~dss.planning.extra_objectives` (minimum penalties, maximum cover),
:mod:`~dss.planning.targets` (target senses), :mod:`~dss.planning.bounds` (manual locks and
bounds), :mod:`~dss.planning.adjacency` (flow connectivity, feature contiguity, ``clamp``),
:mod:`~dss.planning.amounts` (zone amounts, NA costs), :mod:`~dss.planning.solve` (compile
and solve),
:mod:`~dss.planning.evaluate` (evaluation and irreplaceability),
:mod:`~dss.planning.portfolio` (distinct near-optimal plans), :mod:`~dss.planning.marxan`
(Marxan projects in; outputs in :mod:`~dss.planning.marxan_outputs`),
:mod:`~dss.planning.study` (planning units from a dss study:
the park-design model; its prioritizr keys in :mod:`~dss.planning.study_extras`),
:mod:`~dss.config.marxan` (``dss solve input.dat``) and :mod:`~dss.planning.run`
(``dss solve`` on ``kind: planning``).

Names are imported lazily, so that importing one planning module does not load them all.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "PlanningData": "dss.planning.problem",
    "PlanningProblem": "dss.planning.problem",
    "Target": "dss.planning.problem",
    "PlanningResult": "dss.planning.solve",
    "SolverOptions": "dss.planning.solve",
    "evaluate": "dss.planning.evaluate",
    "replacement_cost": "dss.planning.evaluate",
    "portfolio": "dss.planning.portfolio",
    "read_marxan": "dss.planning.marxan",
    "write_marxan": "dss.planning.marxan_outputs",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'dss.planning' has no attribute {name!r}")

    return getattr(importlib.import_module(module), name)
