"""Result tables and ``dss verify`` checks of the park-zoning component
(:class:`dss.planning.park_zoning.ParkZoning`).

Every number here is recomputed from the zoning and the plan with array arithmetic on the
design's data (feature amounts, costs, the boundary table), independently of the model's
expressions: targets held (designed plus restored habitat), the park's cost, connectivity
(networkx), and the actions each zone allows.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np
import pandas as pd
import pyomo.environ as pyo

from dss.planning.compile import Model, compile_parts
from dss.planning.solve import SolverOptions, solve_model
from dss.planning.study import attribute_unit

if TYPE_CHECKING:  # pragma: no cover
    from dss.optimize.context import BuildContext
    from dss.planning.park_zoning import ParkZoning

TOLERANCE = 1e-6
"""Relative tolerance of recomputed numbers (tables hold 10 significant digits)."""


def restored_per_unit(comp: ParkZoning, ctx: BuildContext, feature: int,
                      amounts: np.ndarray) -> np.ndarray | None:
    """Quality-weighted habitat the plan restores in each unit for a feature (None when
    the feature does not count restored habitat)."""
    gain = comp.restored_gain(ctx, feature) if comp.params.restored_habitat_counts else None
    if gain is None:
        return None
    n = comp.design(ctx).problem.data.n_units
    return np.bincount(comp.unit_of_option(ctx), weights=gain * np.asarray(amounts, float),
                       minlength=n)


def cost_terms(comp: ParkZoning, ctx: BuildContext, plan: np.ndarray) -> dict[str, float]:
    """The park's cost terms of a zoning (labels as the model's penalty terms)."""
    problem = comp.design(ctx).problem
    out = {"park cost": float((problem.data.cost * plan).sum())}
    for part in problem.penalties:
        out[f"park {part.label}"] = float(part.value(problem.data, plan))
    return out


def design_table(comp: ParkZoning, ctx: BuildContext, plan: np.ndarray,
                 amounts: np.ndarray) -> pd.DataFrame:
    """``park_design.csv``: each target's amount held by the zoning (``designed``), by the
    habitat the plan restores in the target's zones (``restored``), their sum, the target
    and whether it is met; then the park's cost terms (CNY)."""
    problem = comp.design(ctx).problem
    data = problem.data
    spec = comp.params.design
    names = list(spec.targets) if len(spec.targets) == len(problem.targets) else \
        data.feature_ids
    rows = []
    for j, t in enumerate(problem.targets):
        zones = list(t.zones)
        designed = float((data.feature_matrix(t.feature)[:, zones] * plan[:, zones]).sum())
        restored = 0.0
        per_unit = restored_per_unit(comp, ctx, t.feature, amounts) if t.sense == ">=" \
            else None
        if per_unit is not None:
            restored = float(per_unit[plan[:, zones].sum(axis=1) > 0.5].sum())
        held = designed + restored
        slack = TOLERANCE * max(1.0, abs(t.amount))
        met = {">=": held >= t.amount - slack, "<=": held <= t.amount + slack,
               "=": abs(held - t.amount) <= slack}[t.sense]
        key = data.feature_ids[t.feature]
        rows.append({"item": "target", "name": names[j] if names is not data.feature_ids
                     else key, "feature": key,
                     "zones": "+".join(data.zones[z] for z in zones), "sense": t.sense,
                     "designed": designed, "restored": restored, "value": held,
                     "required": t.amount, "met": met,
                     "unit": attribute_unit(spec.features[key].attribute)})
    for label, value in cost_terms(comp, ctx, plan).items():
        rows.append({"item": "cost", "name": label, "feature": "", "zones": "", "sense": "",
                     "designed": value, "restored": 0.0, "value": value,
                     "required": np.nan, "met": None, "unit": "CNY"})
    return pd.DataFrame(rows, columns=["item", "name", "feature", "zones", "sense", "designed",
                                       "restored", "value", "required", "met", "unit"])


def read_zoning(comp: ParkZoning, ctx: BuildContext, folder: Path | str
                ) -> tuple[np.ndarray | None, list[str]]:
    """The zoning saved in a run folder's ``zoning.csv`` as a plan (units x zones), and
    every problem with the file (missing, unknown or repeated subunits, unknown zones)."""
    data = comp.design(ctx).problem.data
    path = Path(folder) / "zoning.csv"
    if not path.is_file():
        return None, [f"zoning.csv is missing (the model has the park_zoning component "
                      f"{comp.name!r})"]
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    if not {"unit", "zone"} <= set(table.columns):
        return None, ["zoning.csv needs the columns unit and zone"]
    ids = data.unit_ids
    where = {u: i for i, u in enumerate(ids)}
    plan = np.zeros((len(ids), data.n_zones))
    problems = []
    for row, (unit, zone) in enumerate(zip(table["unit"], table["zone"], strict=True),
                                       start=2):
        if unit not in where:
            problems.append(f"zoning.csv row {row}: unknown subunit {unit!r}")
        elif zone not in data.zones:
            problems.append(f"zoning.csv row {row}: unknown zone {zone!r} for {unit} "
                            f"(zones: {', '.join(data.zones)})")
        elif plan[where[unit]].any():
            problems.append(f"zoning.csv row {row}: subunit {unit} is listed twice")
        else:
            plan[where[unit], data.zones.index(zone)] = 1.0
    missing = [u for u in ids if not plan[where[u]].any()]
    if missing:
        problems.append(f"zoning.csv gives no zone to {', '.join(missing)}")
    return plan, problems


def load_zoning(comp: ParkZoning, block: pyo.Block, ctx: BuildContext, amounts: np.ndarray,
                folder: Path | str) -> tuple[list[str], str]:
    """Set the model's zone decisions from ``zoning.csv`` and the design's own variables
    (boundary products, contiguity flows, restored habitat) to what they take with that
    zoning, so that ``dss verify`` checks every row of the model at the saved plan."""
    plan, problems = read_zoning(comp, ctx, folder)
    if problems or plan is None:
        return problems, ""
    for k, value in enumerate(plan.ravel()):
        block.zone[k].set_value(float(value), skip_validation=True)
    problems.extend(_design_values(comp, block, ctx, plan))
    problem = comp.design(ctx).problem
    most = np.zeros(problem.data.n_units)
    for j, t in enumerate(problem.targets):
        w = block.component(f"restored_w_{j}")
        if w is None:
            continue
        gain = comp.restored_gain(ctx, t.feature)
        unit = comp.unit_of_option(ctx)
        most[:] = 0.0
        np.add.at(most, unit, gain * ctx.options["capacity"].to_numpy(float))
        made = restored_per_unit(comp, ctx, t.feature, amounts)
        inside = plan[:, list(t.zones)].sum(axis=1) > 0.5
        for k, i in enumerate(np.unique(unit[gain > 0])):
            w[k].set_value(float(min(1.0, made[i] / most[i])) if inside[i] else 0.0,
                           skip_validation=True)
    return problems, (f"zoning.csv gives one zone to each of the {problem.data.n_units} "
                      "subunits; loaded into the model")


def _design_values(comp: ParkZoning, block: pyo.Block, ctx: BuildContext,
                   plan: np.ndarray) -> list[str]:
    """Solve the design's own variables with the zoning fixed (targets left out: they may
    count restored habitat, which :func:`check_zoning` checks) and copy them to ``block``."""
    problem = dataclasses.replace(comp.design(ctx).problem, targets=())
    model = Model(problem)
    compile_parts(problem, model, model.m, prefix="design_")  # as the component did
    for k, value in enumerate(plan.ravel()):  # fixed after the parts, as they were built
        model.decisions[k].fix(float(value))
    model.m.objective = pyo.Objective(expr=sum((t.sign * t.expr for t in model.terms), 0.0),
                                      sense=pyo.minimize)
    result = solve_model(model, SolverOptions.from_config(ctx.config.solver))
    if not result.has_plan:
        return [f"the saved zoning breaks the park design's rules, locks or contiguity "
                f"({result.status} with the zoning fixed)"]
    for name, sub in model.blocks.items():
        mine = block.component(f"design_{name}")
        for var in sub.component_data_objects(pyo.Var, descend_into=True):
            target = mine.find_component(var.getname(fully_qualified=True, relative_to=sub))
            if target is not None and var.value is not None:
                target.set_value(float(var.value), skip_validation=True)
    return []


def check_zoning(comp: ParkZoning, ctx: BuildContext, amounts: np.ndarray,
                 folder: Path | str) -> tuple[list[str], str]:
    """``dss verify``: the saved zoning and plan against the design, recomputed here: one
    zone per subunit, every action in a zone that allows it (and required shares), every
    target held, the park connected where the design asks it, and the park's cost terms
    in ``summary.csv``."""
    plan, problems = read_zoning(comp, ctx, folder)
    if plan is None or problems:
        return problems, ""
    data = comp.design(ctx).problem.data
    spec = comp.params.design
    zone_of = plan.argmax(axis=1)
    unit = comp.unit_of_option(ctx)
    permitted, required = comp.zone_shares(ctx)
    x = np.asarray(amounts, float)
    opts = ctx.options
    for k in np.flatnonzero(x > 1e-9):
        if not permitted[k, zone_of[unit[k]]]:
            problems.append(f"{opts['action_id'].iat[k]} in {opts['subunit_id'].iat[k]} is "
                            f"not allowed in its zone {data.zones[zone_of[unit[k]]]}")
    for k in np.flatnonzero(required.max(axis=1) > 0):
        need = required[k, zone_of[unit[k]]]
        if x[k] < need - TOLERANCE * max(1.0, need):
            problems.append(f"{opts['action_id'].iat[k]} in {opts['subunit_id'].iat[k]}: "
                            f"{x[k]:g} below the {need:g} its zone requires")
    table = design_table(comp, ctx, plan, x)
    for row in table[table["item"] == "target"].itertuples():
        if not row.met:
            problems.append(f"target {row.name} in {row.zones}: {row.value:.10g} held "
                            f"({row.designed:.10g} designed + {row.restored:.10g} restored), "
                            f"{row.sense} {row.required:.10g} required")
    if spec.contiguity is not None:
        group = list(data.zone_positions(spec.contiguity.zones))
        members = set(np.flatnonzero(plan[:, group].sum(axis=1) > 0.5).tolist())
        bnd = data.boundary
        graph = nx.Graph()
        graph.add_nodes_from(members)
        graph.add_edges_from((int(a), int(b)) for a, b in zip(bnd.i, bnd.j, strict=True)
                             if a in members and b in members)
        if len(members) > 1 and not nx.is_connected(graph):
            problems.append(f"the zones {'+'.join(spec.contiguity.zones)} fall into "
                            f"{nx.number_connected_components(graph)} pieces")
    problems.extend(_summary_costs(comp, table, folder))
    return problems, (f"zoning recomputed: {len(table[table['item'] == 'target'])} targets "
                      "held, actions only where their zone allows them, the park's cost "
                      "as in summary.csv")


def _summary_costs(comp: ParkZoning, table: pd.DataFrame, folder: Path | str) -> list[str]:
    """The park's cost terms recomputed against ``summary.csv`` (shown negated there)."""
    path = Path(folder) / "summary.csv"
    if not path.is_file():
        return []
    summary = pd.read_csv(path, dtype=str).set_index("metric")["value"]
    problems = []
    for row in table[table["item"] == "cost"].itertuples():
        listed: Any = summary.get(f"benefit {comp.name}: {row.name}")
        if listed is None:
            problems.append(f"summary.csv has no row 'benefit {comp.name}: {row.name}'")
            continue
        if abs(-float(listed) - row.value) > TOLERANCE * max(1.0, abs(row.value)):
            problems.append(f"{row.name}: summary.csv says {-float(listed):.10g} CNY, the "
                            f"zoning costs {row.value:.10g}")
    return problems
