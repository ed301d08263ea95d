"""Habitat and carbon benefit components: quality-weighted habitat per species (with
optional diminishing returns and targets) and carbon-stock change."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pydantic import Field

from dss.errors import Issue
from dss.optimize.components.base import ELASTIC_PENALTY, Component, Params, Role, register
from dss.optimize.components.curves import (
    Curve,
    CurveBlock,
    concave_value,
    curve_problem,
    pro_rata,
)
from dss.optimize.context import BuildContext
from dss.optimize.phasing import year_problems


class SpeciesSpec(Params):
    """Habitat settings for one species."""

    value: float = Field(0.0, ge=0)
    """Value of one quality-weighted hectare gained (currency/ha)."""
    target_absolute: float | None = Field(None, ge=0)
    """Minimum quality-weighted habitat after the plan (ha)."""
    target_relative: float | None = Field(None, ge=0)
    """Minimum gain as a share of the baseline quality-weighted habitat."""
    curve: Curve | None = None
    """Diminishing returns: concave curve ``[[up_to, factor], ...]`` over the gain as a
    share of the baseline quality-weighted habitat (see
    :mod:`dss.optimize.components.curves`); none: every hectare is worth ``value``."""


class HabitatParams(Params):
    """Parameters of :class:`Habitat`."""

    species: dict[str, SpeciesSpec] = Field(default_factory=dict)
    """Species id -> value and targets."""
    year: int | None = None
    """With planning years: the year by which the targets must hold (the gains of that
    year, after maturation); default: the benefit horizon."""


@register
class Habitat(Component):
    """Habitat gain per species, its value, and conservation targets.

    With :math:`h_k` the quality-weighted habitat gained per unit of option :math:`k`
    (for the action's species) and baseline habitat :math:`H^0_s`:

    .. math::
        G_s = \\sum_{k \\in K_s} h_k x_k, \\quad H^0_s + G_s \\ge H^{abs}_s, \\quad
        G_s \\ge r_s H^0_s, \\quad \\text{benefit} = \\sum_s v_s G_s

    A species with a curve is valued by the concave curve of
    :mod:`dss.optimize.components.curves` with :math:`H^0_s` as its baseline:
    :math:`v_s \\sum_j \\varphi_j z_{sj}`.

    Pyomo: ``gain[s]``, ``target[s]`` (dual: cost of one more hectare), ``slack[s]``
    (elastic mode only), ``curve_seg``, ``curve_neg``, ``curve_split`` (curved species).

    With planning years, :math:`G_s` (valued) is the discounted, maturity-weighted gain, and
    the targets hold for the gain in the year ``year`` (default: the benefit horizon),
    :math:`\\sum_k \\bar h_k m_{a(k)}(t - y_k) x_k` with the full gains :math:`\\bar h`
    (``in_year[s]``; see :mod:`dss.optimize.phasing`).
    """

    type_name = "habitat"
    role = Role.BENEFIT
    Params = HabitatParams
    elastic_capable = True
    curves: CurveBlock | None = None

    def check(self, ctx: BuildContext) -> list[Issue]:
        known = set(ctx.study.species["species"])
        issues = [Issue("model", f"unknown species {s!r} (known: {', '.join(sorted(known))})",
                        None, f"components.{self.name}.species.{s}")
                  for s in self.params.species if s not in known]
        for s, spec in self.params.species.items():
            problem = curve_problem(spec.curve) if spec.curve is not None else None
            if problem:
                issues.append(Issue("model", problem, None,
                                    f"components.{self.name}.species.{s}.curve"))
        return issues + year_problems(self, ctx)

    def curved(self) -> list[str]:
        """Valued species with a curve."""
        return sorted(s for s, spec in self.params.species.items()
                      if spec.value and spec.curve)

    def gains(self, ctx: BuildContext, amounts: np.ndarray) -> dict[str, float]:
        """Quality-weighted habitat gain of each species at a plan (ha)."""
        species = ctx.options["habitat_species"].to_numpy()
        gain = ctx.options["habitat_gain"].to_numpy(float) * amounts
        return {s: float(gain[species == s].sum()) for s in self.params.species}

    def baseline(self, ctx: BuildContext, species: str) -> float:
        """Quality-weighted baseline habitat of a species (ha)."""
        hab = ctx.study.species_habitat
        mine = hab[hab["species"] == species]
        return float((mine["habitat_ha"] * mine["quality"]).sum())

    def required(self, ctx: BuildContext, species: str) -> float | None:
        """Minimum gain required for a species (ha), or None."""
        spec = self.params.species[species]
        base = self.baseline(ctx, species)
        needs = []
        if spec.target_absolute is not None:
            needs.append(spec.target_absolute - base)
        if spec.target_relative is not None:
            needs.append(spec.target_relative * base)
        return max(needs) if needs else None

    def build(self, block: pyo.Block, ctx: BuildContext) -> None:
        names = sorted(self.params.species)
        opts = ctx.options
        species = opts["habitat_species"].to_numpy()
        gain = opts["habitat_gain"].to_numpy(float)

        def gain_rule(_b, s):
            idx = np.flatnonzero(species == s)
            return ctx.linear(idx, gain[idx])

        block.gain = pyo.Expression(names, rule=gain_rule)
        self.needs = {s: self.required(ctx, s) for s in names}
        targeted = [s for s in names if self.needs[s] is not None]
        block.slack = pyo.Var(targeted, bounds=(0, 0 if not self.elastic else None))
        held = block.gain
        if ctx.phasing is not None:
            in_year = ctx.phasing.effect_at("habitat_gain", self.params.year)
            block.in_year = pyo.Expression(targeted, rule=lambda _b, s: ctx.linear(
                np.flatnonzero(species == s), in_year[species == s]))
            held = block.in_year
        block.target = pyo.Constraint(
            targeted, rule=lambda _b, s: held[s] + block.slack[s] >= self.needs[s])
        curved = self.curved()
        self.curves = CurveBlock(block, "curve", [
            (s, self.params.species[s].curve, self.baseline(ctx, s), block.gain[s])
            for s in curved]) if curved else None

    def benefit_terms(self, block: pyo.Block, ctx: BuildContext) -> dict[str, object]:
        curved = self.curves.values() if self.curves is not None else {}
        return {f"habitat {s}": spec.value * (curved[s] if s in curved else block.gain[s])
                for s, spec in sorted(self.params.species.items()) if spec.value}

    def benefit_values(self, block: pyo.Block, ctx: BuildContext, amounts: np.ndarray
                       ) -> dict[str, float]:
        gains = self.gains(ctx, amounts)
        out = {}
        for s, spec in sorted(self.params.species.items()):
            if spec.value:
                units = gains[s] if not spec.curve else concave_value(
                    spec.curve, self.baseline(ctx, s), gains[s])
                out[f"habitat {s}"] = float(spec.value * units)
        return out

    def assign_auxiliary(self, block: pyo.Block, ctx: BuildContext, amounts: np.ndarray
                         ) -> None:
        if self.curves is not None:
            self.curves.assign(self.gains(ctx, amounts))

    def curved_option_benefit(self, ctx: BuildContext, amounts: np.ndarray) -> np.ndarray:
        """Each option's share of the curved species' value, in proportion to its gain."""
        out = np.zeros(ctx.n_options)
        species = ctx.options["habitat_species"].to_numpy()
        gain = ctx.options["habitat_gain"].to_numpy(float) * amounts
        gains = self.gains(ctx, amounts)
        for s in self.curved():
            spec = self.params.species[s]
            value = spec.value * concave_value(spec.curve, self.baseline(ctx, s), gains[s])
            mine = species == s
            out[mine] += pro_rata(value, gains[s], gain[mine])
        return out

    def penalty_terms(self, block: pyo.Block, ctx: BuildContext) -> dict[str, object]:
        if not self.elastic:
            return {}
        return {f"shortfall habitat {s}": ELASTIC_PENALTY * block.slack[s]
                / max(abs(self.needs[s] or 0.0), 1.0) for s in block.slack}

    def report(self, block: pyo.Block, ctx: BuildContext, amounts) -> dict[str, pd.DataFrame]:
        rows = [{"component": self.name, "requirement": f"habitat gain {s}",
                 "target": self.needs[s], "unit": "ha",
                 "shortfall": float(pyo.value(block.slack[s]))} for s in block.slack]
        return {"requirements": pd.DataFrame(rows)}


class CarbonParams(Params):
    """Parameters of :class:`Carbon`."""

    value: float = Field(0.0, ge=0)
    """Value of one tonne of carbon stored (currency/t C)."""
    minimum: float | None = Field(None)
    """Minimum carbon stock gain (t C)."""


@register
class Carbon(Component):
    """Carbon sequestration: the change in carbon stock when land changes class.

    .. math:: \\Delta C = \\sum_k \\delta_k x_k \\;(\\text{t C}), \\quad
              \\Delta C \\ge C^{min}, \\quad \\text{benefit} = v\\,\\Delta C

    with :math:`\\delta_k` the stock difference between the class after and before
    (t C/ha, at maturity). Pyomo: ``gain``, ``floor`` (dual: cost of one more tonne),
    ``slack`` (elastic mode only: :math:`\\Delta C + s \\ge C^{min}`, penalised like the
    habitat targets, to explain infeasibility). With planning years the minimum holds for
    the stock gained by the benefit horizon (``at_horizon``, after maturation).
    """

    type_name = "carbon"
    role = Role.BENEFIT
    Params = CarbonParams
    elastic_capable = True

    def build(self, block: pyo.Block, ctx: BuildContext) -> None:
        idx = np.arange(ctx.n_options)
        block.gain = pyo.Expression(expr=ctx.linear(idx, ctx.options["d_carbon"].to_numpy(float)))
        if self.params.minimum is not None:
            held = block.gain
            if ctx.phasing is not None:  # the stock gained by the benefit horizon
                block.at_horizon = pyo.Expression(expr=ctx.linear(
                    idx, ctx.phasing.effect_at("d_carbon", None)))
                held = block.at_horizon
            block.slack = pyo.Var(bounds=(0, 0 if not self.elastic else None))
            block.floor = pyo.Constraint(expr=held + block.slack >= self.params.minimum)

    def penalty_terms(self, block: pyo.Block, ctx: BuildContext) -> dict[str, object]:
        if not self.elastic or self.params.minimum is None:
            return {}
        return {"shortfall carbon": ELASTIC_PENALTY * block.slack
                / max(abs(self.params.minimum), 1.0)}

    def report(self, block: pyo.Block, ctx: BuildContext, amounts) -> dict[str, pd.DataFrame]:
        if self.params.minimum is None:
            return {}
        rows = [{"component": self.name, "requirement": "carbon stock gain",
                 "target": self.params.minimum, "unit": "t C",
                 "shortfall": float(pyo.value(block.slack))}]
        return {"requirements": pd.DataFrame(rows)}

    def benefit_terms(self, block: pyo.Block, ctx: BuildContext) -> dict[str, object]:
        return {"carbon": self.params.value * block.gain} if self.params.value else {}
