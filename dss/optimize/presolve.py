"""Presolve: cheap checks of a problem's data before its Pyomo model is built.

:func:`presolve` runs in :func:`dss.optimize.build.compile_problem` once the build context
(options, loads, routing) exists and every component has passed its own ``check``. It finds:

- **warnings**, for numerically risky data that HiGHS may solve imprecisely: an option
  coefficient (cost, effect, capacity) above :data:`BIG`, or a family of coefficients whose
  non-zero magnitudes span more than :data:`RANGE`. Each names the table and row the value
  comes from. They are logged, returned, and written with the results (``warnings.csv``).
- **errors** (:class:`~dss.errors.InputError`, exit code 2), for a problem that is trivially
  infeasible or meaningless, each with its reason:

  - no decision option at all, or every option locked out (by locks or zone rules);
  - an option that must be used (locked in, or required by a zone rule) but may not be;
  - a budget (total, per agency, per township) below the cost of what is locked in or
    required;
  - a target larger than all that exists: a habitat target above the largest possible
    gain, a carbon floor above the largest possible stock gain, or a load limit that
    needs a larger reduction than all possible upstream reductions together can deliver
    (then no budget suffices);
  - a coefficient that is not a finite number (an overflow of huge input values).

Every bound here (:mod:`dss.optimize.option_bounds`) is a relaxation (each option alone at
its largest allowed amount; land shared between actions and budgets ignored), so an error is
certain: the problem has no solution whatever the budget. Conflicts that only the solver can
see are explained after the solve (:func:`dss.optimize.solve.explain_infeasibility`).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from dss.data.schema import POLLUTANT_UNITS
from dss.errors import InputError, Issue
from dss.optimize.components.benefits import Carbon, Habitat, LoadLimits
from dss.optimize.components.coefficients import objective_coefficients
from dss.optimize.components.constraints import Budget
from dss.optimize.context import BuildContext
from dss.optimize.option_bounds import OptionBounds, most_reduction, option_bounds
from dss.optimize.problem import Problem, relocate
from dss.optimize.year_checks import check_year_budgets

LOGGER = logging.getLogger(__name__)

BIG = 1e9
"""Option coefficients larger than this (in magnitude) get a warning."""
RANGE = 1e9
"""Non-zero coefficients of one kind spanning a wider ratio than this get a warning."""
SOLVER_LIMIT = 1e15
"""Coefficients this large are errors: HiGHS treats matrix values above 1e15
(``large_matrix_value``) as infinite and may then return a plan that breaks the constraints."""
MAX_WARNINGS = 10
"""Warnings per kind before the rest are summarised in one line."""
TOLERANCE = 1e-9
"""Relative tolerance of the infeasibility tests (they must never reject a solvable model)."""

_COEFFICIENTS: tuple[tuple[str, str, str, str], ...] = (
    # (option column, what it is, unit, table the value comes from)
    ("unit_cost", "cost per unit (one-off plus annual over the horizon)", "CNY", "actions"),
    ("fixed_cost", "fixed cost", "CNY", "actions"),
    ("capacity", "capacity", "units", "subunits"),
    ("d_sediment", "sediment reduction per unit", "t/yr", "subunits"),
    ("d_tn", "TN reduction per unit", "kg/yr", "subunits"),
    ("d_tp", "TP reduction per unit", "kg/yr", "subunits"),
    ("d_carbon", "carbon stock change per unit", "t C", "subunits"),
    ("habitat_gain", "habitat gain per unit", "ha", "actions"),
)


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.4g}"


def presolve(problem: Problem, ctx: BuildContext) -> list[Issue]:
    """Check a problem before building it.

    Returns:
        Warnings about numerically risky data (also logged), each located by table and row.

    Raises:
        InputError: listing every reason the problem is trivially infeasible or meaningless.
    """
    errors: list[Issue] = []
    warnings = _numerics(problem, ctx, errors)
    if ctx.n_options == 0:
        errors.append(Issue("actions.csv", "no decision options: no action in actions.csv "
                                           "applies to anything in the study (land classes in "
                                           "land_cover.csv, untreated point sources, hazard "
                                           "sites, active barriers or stream km), so there is "
                                           "nothing to plan"))
    elif not errors:
        bounds = option_bounds(problem, ctx)
        _check_bounds(problem, ctx, bounds, errors)
        if not errors:
            _check_budgets(problem, ctx, bounds, errors)
            check_year_budgets(problem, ctx, errors)  # with planning years
            _check_targets(problem, ctx, bounds, errors)
    if errors:
        raise InputError(relocate(errors, problem.source),
                         "the problem cannot be solved as posed")
    for issue in warnings:
        LOGGER.warning("%s", issue)
    return warnings


def _numerics(problem: Problem, ctx: BuildContext, errors: list[Issue]) -> list[Issue]:
    """Non-finite or unrepresentable coefficients (errors); huge ones and wide ranges
    (warnings). One message per input row, naming the options it affects."""
    opts = ctx.options
    study = ctx.study
    warnings: list[Issue] = []
    if not len(opts):
        return warnings
    act_rows = pd.Series(study.row_numbers("actions"), index=study.actions["action_id"])
    sub_rows = pd.Series(study.row_numbers("subunits"), index=study.subunits["subunit_id"])
    act_rows = act_rows[~act_rows.index.duplicated()]
    sub_rows = sub_rows[~sub_rows.index.duplicated()]

    def where(table: str, k: int) -> tuple[str, int | None, str]:
        """File, row and the id the coefficient of option ``k`` comes from."""
        if table == "actions":
            a = opts["action_id"].iat[k]
            return "actions.csv", int(act_rows.get(a, 0)) or None, f"action {a!r}"
        if table == "model":
            return "model", None, ""
        s = opts["subunit_id"].iat[k]
        return "subunits.csv", int(sub_rows.get(s, 0)) or None, f"subunit {s!r}"

    def label(k: int) -> str:
        return f"{opts['action_id'].iat[k]!r} in {opts['subunit_id'].iat[k]!r}"

    def grouped(table: str, ks: np.ndarray, text, sink: list[Issue], key: str | None) -> None:
        """One issue per input row (or model key) over the options ``ks``, capped."""
        by: dict[tuple, list[int]] = {}
        for k in ks:
            by.setdefault(where(table, int(k))[:2], []).append(int(k))
        for n, ((file, row), members) in enumerate(sorted(by.items(), key=str)):
            if n == MAX_WARNINGS:
                sink.append(Issue(file, f"... and {len(by) - MAX_WARNINGS} more rows with the "
                                        "same problem", None, key))
                break
            more = f" (and {len(members) - 1} more)" if len(members) > 1 else ""
            sink.append(Issue(file, text(members[0], more), row, key))

    families = [(column, what, unit, table, opts[column].to_numpy(float), None)
                for column, what, unit, table in _COEFFICIENTS]
    for name, coef in objective_coefficients(problem, ctx).items():
        families.append(("objective", f"objective coefficient of component {name!r}",
                         "CNY per unit", "model", coef, f"components.{name}"))
    for _column, what, unit, table, values, key in families:
        bad = np.flatnonzero(~np.isfinite(values))
        grouped(table, bad, lambda k, more, what=what, values=values: (
            f"the {what} of {label(k)}{more} is {values[k]} (not a finite number: input values so "
            "large that they overflow; check the units)"), errors, key)
        if len(bad):
            continue
        size = np.abs(values)
        too_big = np.flatnonzero(size >= SOLVER_LIMIT)
        grouped(table, too_big, lambda k, more, what=what, values=values, unit=unit: (
            f"the {what} of {label(k)}{more} is {values[k]:.4g} {unit}: the solver cannot use "
            f"values of {SOLVER_LIMIT:.0e} or more (it would treat them as infinite and "
            "return a wrong plan); check the units"), errors, key)
        if len(too_big):
            continue
        huge = np.flatnonzero(size > BIG)
        grouped(table, huge, lambda k, more, what=what, values=values, unit=unit: (
            f"the {what} of {label(k)}{more} is {values[k]:.4g} {unit}, above {BIG:.0e}: the "
            "solver may lose precision (check the units, or rescale)"), warnings, key)
        nonzero = np.flatnonzero(size > 0)
        if len(nonzero) >= 2:
            hi = int(nonzero[np.argmax(size[nonzero])])
            lo = int(nonzero[np.argmin(size[nonzero])])
            if size[hi] > RANGE * size[lo]:
                file, row, _ = where(table, hi)
                lo_file, lo_row, _ = where(table, lo)
                at = f", {lo_file} row {lo_row}" if lo_row else ""
                warnings.append(Issue(file, f"the {what} ranges from {size[lo]:.4g} "
                                            f"({label(lo)}{at}) to {size[hi]:.4g} {unit} "
                                            f"({label(hi)}): a ratio above {RANGE:.0e} that "
                                            "the solver may not resolve (check the units)",
                                      row, key))
    return warnings


def _check_bounds(problem: Problem, ctx: BuildContext, bounds: OptionBounds,
                  errors: list[Issue]) -> None:
    """Every option locked out; an option that must be used but may not be."""
    opts = ctx.options
    if (bounds.upper <= 1e-12).all():
        who = sorted(set(bounds.upper_by) - {""})
        errors.append(Issue("model", "every decision option is locked out (by "
                                     f"{', '.join(who) or 'the model'}): there is nothing "
                                     "left to plan", None,
                            f"components.{who[0]}" if who else "components"))
        return
    clash = np.flatnonzero(bounds.lower > bounds.upper * (1 + TOLERANCE) + 1e-9)
    for k in clash[:MAX_WARNINGS]:
        errors.append(Issue("model", f"action {opts['action_id'].iat[k]!r} in subunit "
                                     f"{opts['subunit_id'].iat[k]!r} must be at least "
                                     f"{_fmt(bounds.lower[k])} {opts['unit'].iat[k]} "
                                     f"({bounds.lower_by[k]}) but at most "
                                     f"{_fmt(bounds.upper[k])} "
                                     f"({bounds.upper_by[k] or 'capacity'})",
                            None, f"components.{bounds.lower_by[k]}"))


def _locked_cost(ctx: BuildContext, bounds: OptionBounds) -> np.ndarray:
    """Least cost of each option given its lower bound."""
    opts = ctx.options
    return (opts["unit_cost"].to_numpy(float) * bounds.lower
            + np.where(bounds.lower > 1e-12, opts["fixed_cost"].to_numpy(float), 0.0))


def _check_budgets(problem: Problem, ctx: BuildContext, bounds: OptionBounds,
                   errors: list[Issue]) -> None:
    """Each budget must cover what is locked in or required."""
    cost = _locked_cost(ctx, bounds)
    if not (cost > 0).any():
        return
    opts = ctx.options
    who = ", ".join(sorted(set(bounds.lower_by[cost > 0]) - {""}))

    def check(limit: float, spent: float, key: str, what: str) -> None:
        if spent > limit * (1 + TOLERANCE) + 1e-6:
            errors.append(Issue("model", f"{what} of {_fmt(limit)} CNY is below the "
                                         f"{_fmt(spent)} CNY that the actions locked in or "
                                         f"required by {who} cost: no plan fits (raise it to "
                                         f"at least {_fmt(spent)} CNY, or lock in less)",
                                None, key))

    for comp in problem.components:
        if not isinstance(comp, Budget):
            continue
        p = comp.params
        if p.total is not None:
            check(p.total, float(cost.sum()), f"components.{comp.name}.total", "the budget")
        for field, column in (("per_agency", "agency"), ("per_township", "township")):
            spent = pd.Series(cost).groupby(opts[column].to_numpy()).sum()
            for group, limit in getattr(p, field).items():
                check(limit, float(spent.get(group, 0.0)),
                      f"components.{comp.name}.{field}.{group}", f"the {column} budget of "
                                                                 f"{group!r}")


def _check_targets(problem: Problem, ctx: BuildContext, bounds: OptionBounds,
                   errors: list[Issue]) -> None:
    """Targets larger than all that the actions together can achieve."""
    opts = ctx.options
    upper, lower = bounds.upper, bounds.lower
    for comp in problem.components:
        if isinstance(comp, Habitat):
            species = opts["habitat_species"].to_numpy()
            gain = opts["habitat_gain"].to_numpy(float)
            for s in sorted(comp.params.species):
                need = comp.required(ctx, s)
                if need is None or not np.isfinite(need):
                    continue
                most = float((gain * upper)[species == s].sum())
                if need > most * (1 + TOLERANCE) + 1e-9:
                    errors.append(Issue("model", f"the target for {s!r} needs a habitat gain of "
                                                 f"{_fmt(need)} ha, but all possible actions "
                                                 f"together add at most {_fmt(most)} ha: no "
                                                 "budget suffices", None,
                                        f"components.{comp.name}.species.{s}"))
        elif isinstance(comp, Carbon) and comp.params.minimum is not None:
            d = opts["d_carbon"].to_numpy(float)
            most = float((np.clip(d, 0, None) * upper + np.clip(d, None, 0) * lower).sum())
            need = comp.params.minimum
            if np.isfinite(need) and need > most + TOLERANCE * abs(most) + 1e-9:
                errors.append(Issue("model", f"the carbon floor of {_fmt(need)} t C is above "
                                             f"the largest possible carbon stock gain, "
                                             f"{_fmt(most)} t C: no budget suffices", None,
                                    f"components.{comp.name}.minimum"))
        elif isinstance(comp, LoadLimits):
            for (point, p), limit in comp.targets(ctx).items():
                base = ctx.baseline_load(point, p)
                need = base - limit
                if not np.isfinite(need) or need <= 0:
                    continue
                most = most_reduction(ctx, bounds, point, p)
                if need > most * (1 + TOLERANCE) + 1e-9:
                    unit = POLLUTANT_UNITS[p]
                    errors.append(Issue("model", f"the limit of {_fmt(limit)} {unit} of {p} at "
                                                 f"{point!r} needs a reduction of {_fmt(need)} "
                                                 f"{unit} from its baseline of {_fmt(base)} "
                                                 f"{unit}, but all possible upstream actions "
                                                 f"together can remove at most {_fmt(most)} "
                                                 f"{unit} there: no budget suffices", None,
                                        _limit_key(comp, point, p)))


def _limit_key(comp: LoadLimits, point: str, pollutant: str) -> str:
    """The model key that sets a load limit (the reductions, limits, or the table)."""
    for field in ("reductions", "limits"):
        if pollutant in getattr(comp.params, field).get(point, {}):
            return f"components.{comp.name}.{field}.{point}.{pollutant}"
    return f"components.{comp.name}"
