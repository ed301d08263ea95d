"""The model definition schema (``models/*.yaml``): strict, frozen, documented field by field.

Unknown keys are errors. Component parameters are validated by each component's own schema
when the problem is built (:mod:`dss.optimize`), so this module stays independent of the
component registry.
"""

from __future__ import annotations

import os
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from dss.config.planning import PlanningSpec
from dss.names import PLAIN_NAME_RULE, plain_name_problem


class Strict(BaseModel):
    """Base for every config schema: unknown keys are errors and instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True,
                              allow_inf_nan=False)


class Settings(Strict):
    """Study-wide settings."""

    horizon_years: float = Field(10.0, gt=0)
    """Planning horizon: recurring (annual) costs are counted for this many years."""
    area_tolerance: float = Field(0.01, ge=0, le=0.5)
    """Allowed relative gap between a subunit's area and the sum of its land cover."""
    currency: str = "CNY"
    """Currency of every cost and budget."""
    years: list[int] | None = None
    """Planning years, consecutive and increasing (e.g. [2017, 2018, 2019]): each action may
    be started in each of them (see :mod:`dss.optimize.phasing`); none: one plan, as before."""
    benefit_horizon: int | None = None
    """Last year whose effects are counted (e.g. 2035); default: the first planning year plus
    ``horizon_years`` minus one. Only with ``years``."""
    discount_rate: float = Field(0.0, ge=0, lt=1)
    """Yearly discount rate of future effects (0.03 = 3 %). Only with ``years``."""
    maturation: dict[str, list[float]] = Field(default_factory=dict)
    """Action -> share of its full effect by years since its start, the start year first
    (e.g. ``[0, 0.1, 0.4, 0.8, 1]``): shares in [0, 1], never falling, the last 1 (it then
    holds). Replaces the linear ramp of ``maturity_years`` for that action (see
    :mod:`dss.optimize.phasing`). Only with ``years``."""

    @field_validator("years")
    @classmethod
    def _consecutive(cls, years: list[int] | None) -> list[int] | None:
        if years is None:
            return None
        if not years:
            raise ValueError("give at least one planning year, or leave years out")
        if any(b != a + 1 for a, b in zip(years, years[1:], strict=False)):
            raise ValueError(f"planning years must be consecutive and increasing (got {years})")
        return years

    @model_validator(mode="after")
    def _horizon_after_years(self) -> Settings:
        if self.years is None:
            if self.benefit_horizon is not None or self.discount_rate or self.maturation:
                raise ValueError("benefit_horizon, discount_rate and maturation need "
                                 "settings.years")
        elif self.benefit_horizon is not None and self.benefit_horizon < self.years[-1]:
            raise ValueError(f"benefit_horizon {self.benefit_horizon} is before the last "
                             f"planning year {self.years[-1]}")
        return self


class SolverConfig(Strict):
    """HiGHS options."""

    time_limit: float = Field(600.0, gt=0)
    """Wall-clock limit in seconds; the best plan found so far is returned, labelled."""
    mip_gap: float = Field(1e-4, ge=0, le=1)
    """Relative MIP gap at which HiGHS stops (0 = prove optimality)."""
    threads: int = Field(1, ge=0)
    """Solver threads: 1 up to this machine's cores, or 0 for HiGHS's choice (which never
    exceeds them). More threads than cores only slow HiGHS down, and a very large number
    makes it abort. A MIP with ``threads: k > 1`` runs as ``k`` concurrent branch-and-bound
    searches sharing their plans, stopped by the first to finish
    (:mod:`dss.optimize.concurrent`): faster on hard MIPs, but among plans of equal objective
    which one is reported can vary between runs; ``1`` is reproducible."""
    method: Literal["choose", "simplex", "ipm"] = "choose"
    """LP algorithm: HiGHS's choice, dual simplex, or interior point (with crossover).
    ``choose`` is the default; interior point was faster on a single measurement of the
    10,000-subunit synthetic basin (see :func:`dss.optimize.solve.highs_options`)."""
    presolve: bool = True
    """Run HiGHS presolve."""
    relaxation_first: bool = True
    """For a MIP, solve its LP relaxation first: when the relaxation's optimum is integral it
    is the MIP's optimum (gap 0) and the MIP is not run; otherwise the MIP runs as usual, one
    LP later. On by default: the synthetic basins' relaxations are integral (at 10,000
    subunits every result table is the same as the MIP path's; ``dss solve`` on 100,000
    subunits took 10.2 s instead of 16.1 s); ``false`` always runs the MIP. Budget sweeps
    always work this way."""
    log: bool = False
    """Echo the HiGHS log to the console (it is always kept in the run's manifest)."""


    @field_validator("threads")
    @classmethod
    def _threads_within_cores(cls, threads: int) -> int:
        cores = machine_cores()
        if threads > cores:
            raise ValueError(f"{threads} threads is more than this machine's {cores} cores "
                             f"(use 1 to {cores}, or 0 to let HiGHS choose)")
        return threads


def machine_cores() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


class Scenario(Strict):
    """A named override of the base model."""

    description: str = ""
    """What the scenario represents, for reports."""
    overrides: dict[str, Any] = Field(default_factory=dict)
    """Dotted keys and their new values, e.g. ``components.budget.total: 4.0e7``; a value of
    null removes a component."""


class ModelConfig(Strict):
    """A study's model definition: inputs, components, solver options and scenarios."""

    dss_version: str = "0.1"
    """Version of the model-file format."""
    kind: Literal["allocation", "planning"] = "allocation"
    """``allocation``: allocate restoration actions (``components``); ``planning``: a
    conservation-planning or national-park design problem (``planning``; ``dss.planning``)."""
    name: str
    """Study name; results go to ``results/<name>/<scenario>/``. A plain name
    (:mod:`dss.names`): letters of any script, digits, ``_ - + . =``, never ``..``, a hidden
    folder or a path."""
    title: str = ""
    """Human-readable title for reports."""
    description: str = ""
    """Longer description."""
    inputs: str
    """Folder holding the input tables, relative to the model file."""
    settings: Settings = Settings()
    """Study-wide settings."""
    solver: SolverConfig = SolverConfig()
    """HiGHS options."""
    components: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Model components keyed by instance name; each has a ``type`` and its parameters."""
    planning: PlanningSpec | None = None
    """The planning problem of a ``kind: planning`` model (units, zones, costs, features,
    targets, rules, spatial constraints and penalties)."""
    scenarios: dict[str, Scenario] = Field(default_factory=dict)
    """Named scenarios; ``base`` (the file as written) always exists. Each key names the
    results folder of its runs, so it is a plain name (:mod:`dss.names`) without ``+``
    (``a+b`` applies scenario ``a`` then ``b``)."""

    @field_validator("name")
    @classmethod
    def _plain_study_name(cls, name: str) -> str:
        problem = plain_name_problem(name)
        if problem is not None:
            raise ValueError(f"study name {problem}; it must be {PLAIN_NAME_RULE}")
        return name

    @field_validator("scenarios")
    @classmethod
    def _plain_scenario_keys(cls, scenarios: dict[str, Scenario]) -> dict[str, Scenario]:
        for key in scenarios:
            problem = plain_name_problem(key)
            if problem is None and "+" in key:
                problem = "contains '+' (which joins scenarios: a+b applies a, then b)"
            if problem is not None:
                raise ValueError(f"scenario key {key!r} {problem}; it names a results folder, "
                                 f"so it must be {PLAIN_NAME_RULE}, without +")
        return scenarios
