"""Tables, chart and folder of ``dss coordinate`` (see :mod:`dss.optimize.coordinate`).

Written atomically to ``<results>/<study>/coordination/``:

- ``coordination.csv``: per plan (siloed, integrated, pooled) and metric: the total benefit,
  the objective, spend (total and per agency), each benefit term, each agency's mandate
  benefit, the load after the plan and its reduction at every control point, habitat gain
  per species, carbon gain and the number of load limits and habitat targets missed, each
  with its unit and ``delta_vs_siloed`` (the plan minus the siloed plan);
- ``cross_benefits.csv``: per plan, the benefit (CNY) that each agency's spending produced
  for each agency's mandate (a benefit in two mandates counts for both; ``(none)`` for
  benefits no agency is charged with);
- ``siloed_steps.csv``: each agency's siloed solve in order: budget, spend, its mandate
  benefit at the plan so far (the solve's objective) and the part its own actions add;
- ``allocations.csv``: the amount and cost of every funded option in each plan;
- ``coordination.md`` and ``coordination.png`` (with the ``report`` extra).
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from dss.data.mandates import covers
from dss.optimize.coordinate import NONE, PLANS, Coordination, term_scope
from dss.optimize.plan_effects import option_costs
from dss.optimize.results import allocation_table, control_point_table, species_table
from dss.optimize.solve import Result
from dss.results.runs import require
from dss.results.writer import make_manifest, write_run

LOGGER = logging.getLogger(__name__)

KIND = "coordination"
TOLERANCE = 1e-6


def _benefit_by_term(result: Result, amounts: np.ndarray | None = None) -> dict[str, float]:
    x = result.amounts if amounts is None else amounts
    return result.built.benefit_values(x)


def mandate_benefit(coord: Coordination, values: dict[str, float]) -> dict[str, float]:
    """Agency -> the benefit of its mandate's terms in ``values`` (label -> CNY)."""
    out = {a: 0.0 for a in coord.mandates()}
    for label, value in values.items():
        scope = term_scope(coord.problem, label)
        if scope is None:
            continue
        for agency, mandate in coord.mandates().items():
            if covers(list(mandate), scope[0], scope[1]):
                out[agency] += value
    return out


def metrics_table(coord: Coordination) -> pd.DataFrame:
    """``coordination.csv``: one row per plan and metric (see the module docstring)."""
    rows: list[tuple[str, str, float, str]] = []
    for plan, result in coord.results.items():
        values = _benefit_by_term(result)
        costs = option_costs(result)
        opts = result.built.ctx.options
        x = result.amounts
        rows.append((plan, "benefit", float(sum(values.values())), "CNY"))
        rows.append((plan, "objective", float(result.objective), "CNY"))
        rows.append((plan, "spend", float(costs.sum()), "CNY"))
        by_agency = pd.Series(costs).groupby(opts["agency"].to_numpy()).sum()
        for agency in [a.agency_id for a in coord.agencies]:
            rows.append((plan, f"spend agency {agency}", float(by_agency.get(agency, 0.0)),
                         "CNY"))
        for agency, value in mandate_benefit(coord, values).items():
            rows.append((plan, f"mandate benefit {agency}", value, "CNY"))
        for label, value in sorted(values.items()):
            rows.append((plan, f"benefit {label}", value, "CNY"))
        rows += _spend_by_year(plan, result)
        cps = control_point_table(result)
        for rec in cps.itertuples(index=False):
            when = f" {rec.year}" if "year" in cps.columns else ""  # with planning years
            rows.append((plan, f"load after {rec.point_id} {rec.pollutant}{when}", rec.after,
                         rec.unit))
            rows.append((plan, f"reduction {rec.point_id} {rec.pollutant}{when}",
                         rec.reduction, rec.unit))
        missed = cps["limit"].notna() & (cps["after"] > cps["limit"] * (1 + TOLERANCE)
                                         + TOLERANCE)
        species = species_table(result)
        for rec in species.itertuples(index=False):
            when = f" {rec.year}" if "year" in species.columns else ""
            rows.append((plan, f"habitat gain {rec.species}{when}", rec.gain, "ha"))
        phasing = result.built.ctx.phasing
        carbon = opts["d_carbon"].to_numpy(float) if phasing is None else \
            phasing.effect_at("d_carbon", None)  # at the benefit horizon
        rows.append((plan, "carbon gain", float((carbon * x).sum()), "t C"))
        rows.append((plan, "load limits missed", float(missed.sum()), "count"))
        rows.append((plan, "habitat targets missed",
                     float((species["target_met"] == False).sum()), "count"))  # noqa: E712
    table = pd.DataFrame(rows, columns=["plan", "metric", "value", "unit"])
    siloed = table[table["plan"] == "siloed"].set_index("metric")["value"]
    table["delta_vs_siloed"] = table["value"] - table["metric"].map(siloed)
    return table


def _spend_by_year(plan: str, result: Result) -> list[tuple[str, str, float, str]]:
    """``spend year <t>`` rows of a plan with planning years (none without years)."""
    ctx = result.built.ctx
    if ctx.phasing is None:
        return []
    fixed = ctx.options["fixed_cost"].to_numpy(float) * ctx.fixed_paid(result.amounts)
    rows = []
    for t in ctx.phasing.years:
        coef, pays = ctx.phasing.spend_coefficients(t)
        rows.append((plan, f"spend year {t}",
                     float(coef @ result.amounts + fixed[pays].sum()), "CNY"))
    return rows


def cross_table(coord: Coordination) -> pd.DataFrame:
    """``cross_benefits.csv``: benefit by spending agency and mandate agency, per plan.

    Each benefit term of the plan is shared among the spending agencies in proportion to
    what each one's options would deliver alone (the plan with every other agency's
    amounts set to zero). For a linear term those parts add up to the term by themselves;
    for a term valued by a concave curve they add up to more, and the shares scale them
    down to the term's value."""

    names = {a.agency_id: a.name_zh for a in [*coord.agencies, *coord.others]}
    spenders = [a.agency_id for a in coord.agencies]
    rows = []
    for plan, result in coord.results.items():
        opts = result.built.ctx.options
        agency_of = opts["agency"].to_numpy()
        whole = _benefit_by_term(result)
        alone = {g: _benefit_by_term(result, np.where(agency_of == g, result.amounts, 0.0))
                 for g in spenders}
        for label, value in whole.items():
            parts = np.array([alone[g][label] for g in spenders])
            if abs(parts.sum()) > 1e-12 and ((parts >= 0).all() or (parts <= 0).all()):
                for g, part in zip(spenders, parts * (value / parts.sum()), strict=True):
                    alone[g][label] = float(part)
        for spender in spenders:
            sums = dict.fromkeys([*coord.mandates(), NONE], 0.0)
            for label, value in alone[spender].items():
                scope = term_scope(coord.problem, label)
                owners = [] if scope is None else [
                    a for a, m in coord.mandates().items() if covers(list(m), *scope)]
                for owner in owners or [NONE]:
                    sums[owner] += value
            for owner, value in sums.items():
                rows.append((plan, spender, names.get(spender, spender), owner,
                             names.get(owner, owner), value, "CNY"))
    return pd.DataFrame(rows, columns=["plan", "agency", "agency_zh", "mandate_of",
                                       "mandate_of_zh", "benefit", "unit"])


def steps_table(coord: Coordination) -> pd.DataFrame:
    """``siloed_steps.csv``: each agency's siloed solve in order."""
    rows = []
    for order, agency in enumerate(coord.agencies, start=1):
        step = coord.steps[agency.agency_id]
        costs = option_costs(step)
        mine = step.built.ctx.options["agency"].to_numpy() == agency.agency_id
        own = sum(step.built.benefit_values(np.where(mine, step.amounts, 0.0)).values())
        rows.append({"order": order, "agency": agency.agency_id, "agency_zh": agency.name_zh,
                     "mandate": ";".join(str(i) for i in agency.mandate),
                     "budget": agency.budget, "spend": float(costs[mine].sum()),
                     "mandate_benefit": float(step.objective), "mandate_benefit_own": own,
                     "status": step.status, "unit": "CNY"})
    return pd.DataFrame(rows, columns=["order", "agency", "agency_zh", "mandate", "budget",
                                       "spend", "mandate_benefit", "mandate_benefit_own",
                                       "status", "unit"])


def allocations_table(coord: Coordination) -> pd.DataFrame:
    """``allocations.csv``: every funded option of each plan."""
    parts = []
    for plan, result in coord.results.items():
        table = allocation_table(result)[["subunit_id", "action_id", "agency", "township",
                                          "zone", "amount", "unit", "cost_cny"]]
        parts.append(table.assign(plan=plan))
    out = pd.concat(parts, ignore_index=True)
    return out[["plan", *[c for c in out.columns if c != "plan"]]]


def headline(table: pd.DataFrame) -> dict[str, float]:
    """Total benefit per plan, and integrated − siloed in CNY and in %."""
    benefit = table[table["metric"] == "benefit"].set_index("plan")["value"]
    out = {plan: float(benefit[plan]) for plan in PLANS if plan in benefit.index}
    out["integrated_minus_siloed"] = out["integrated"] - out["siloed"]
    out["integrated_minus_siloed_pct"] = (100 * out["integrated_minus_siloed"] / out["siloed"]
                                          if out["siloed"] else float("nan"))
    if "pooled" in out:
        out["pooled_minus_integrated"] = out["pooled"] - out["integrated"]
    return out


def markdown(coord: Coordination, table: pd.DataFrame, cross: pd.DataFrame) -> str:
    """``coordination.md``: the headline, the plans side by side and the integrated matrix."""
    head = headline(table)
    title = coord.problem.config.title or coord.problem.config.name
    lines = [f"# 部门协同的价值 The value of coordination: {title}", "",
             f"- Siloed plan benefit: {head['siloed']:,.0f} CNY",
             f"- Integrated plan benefit: {head['integrated']:,.0f} CNY",
             f"- **Integrated − siloed: {head['integrated_minus_siloed']:,.0f} CNY "
             f"({head['integrated_minus_siloed_pct']:+.1f} %)**"]
    if "pooled" in head:
        lines += [f"- Pooled plan benefit: {head['pooled']:,.0f} CNY "
                  f"(pooled − integrated: {head['pooled_minus_integrated']:,.0f} CNY)"]
    wide = table.pivot_table(index=["metric", "unit"], columns="plan", values="value",
                             sort=False).reset_index()
    plans = [p for p in PLANS if p in wide.columns]
    lines += ["", "## Plans 方案", "", "| metric | unit | " + " | ".join(plans) + " |",
              "|---|---|" + "---:|" * len(plans)]
    for rec in wide.itertuples(index=False):
        cells = [f"{getattr(rec, p):,.2f}" for p in plans]
        lines.append(f"| {rec.metric} | {rec.unit} | " + " | ".join(cells) + " |")
    integrated = cross[cross["plan"] == "integrated"]
    matrix = integrated.pivot_table(index="agency", columns="mandate_of", values="benefit",
                                    sort=False)
    lines += ["", "## Integrated plan: whose spending helped whose mandate (CNY) "
              "跨部门效益", "", "| spending agency | " + " | ".join(matrix.columns) + " |",
              "|---|" + "---:|" * len(matrix.columns)]
    for agency, row in matrix.iterrows():
        lines.append(f"| {agency} | " + " | ".join(f"{v:,.0f}" for v in row) + " |")
    return "\n".join(lines) + "\n"


def chart(table: pd.DataFrame, cross: pd.DataFrame) -> bytes:
    """``coordination.png``: total benefit per plan, and the integrated plan's agency ×
    mandate matrix."""
    require("matplotlib", "dss coordinate (chart)")
    from matplotlib.figure import Figure

    head = headline(table)
    plans = [p for p in PLANS if p in head]
    fig = Figure(figsize=(11, 4.5))
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.6]})
    bars = left.bar(plans, [head[p] / 1e6 for p in plans],
                    color=["#b0b0b0", "#3b7dd8", "#2a9d6f"][:len(plans)])
    left.bar_label(bars, fmt="%.1f")
    left.set_ylabel("total benefit (million CNY)")
    left.set_title(f"integrated − siloed: {head['integrated_minus_siloed'] / 1e6:+.1f} M CNY "
                   f"({head['integrated_minus_siloed_pct']:+.1f} %)", fontsize=10)
    integrated = cross[cross["plan"] == "integrated"]
    matrix = integrated.pivot_table(index="agency", columns="mandate_of", values="benefit",
                                    sort=False)
    image = right.imshow(matrix.to_numpy() / 1e6, cmap="Blues", aspect="auto")
    right.set_xticks(range(len(matrix.columns)), list(matrix.columns), rotation=30,
                     ha="right")
    right.set_yticks(range(len(matrix.index)), list(matrix.index))
    right.set_xlabel("benefit in the mandate of")
    right.set_ylabel("spending agency")
    right.set_title("integrated plan: cross-agency benefit (million CNY)", fontsize=10)
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            right.text(j, i, f"{matrix.iat[i, j] / 1e6:.1f}", ha="center", va="center",
                       fontsize=8)
    fig.colorbar(image, ax=right)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120, metadata={"Software": "dss"})
    return buffer.getvalue()


def write_coordination(coord: Coordination, target: Path, inputs: dict[str, str],
                       config: dict | None, scenario: str) -> dict[str, pd.DataFrame]:
    """Write the coordination folder atomically; returns its tables."""
    table = metrics_table(coord)
    cross = cross_table(coord)
    tables = {"coordination": table, "cross_benefits": cross,
              "siloed_steps": steps_table(coord), "allocations": allocations_table(coord)}
    files = {"coordination.md": markdown(coord, table, cross),
             "coordination.png": chart(table, cross)}
    manifest = make_manifest(KIND, inputs, config, {
        "scenario": scenario, "plans": list(coord.results),
        "siloed_order": [a.agency_id for a in coord.agencies],
        "headline": headline(table)})
    write_run(target, tables, manifest, files, (KIND,))
    return tables
