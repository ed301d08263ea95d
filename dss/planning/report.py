"""Markdown reports and console lines of a planning run (:mod:`dss.planning.run`)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pandas as pd
import typer

from dss.results.report import fmt

if TYPE_CHECKING:  # pragma: no cover
    from dss.planning.run import PlanningRun


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return fmt(value)
    return str(value)


def markdown_table(frame: pd.DataFrame, limit: int = 60) -> str:
    """A frame as a Markdown table (first ``limit`` rows)."""
    if frame.empty:
        return "_none_\n"
    head = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "| " + " | ".join("---" for _ in frame.columns) + " |"
    body = ["| " + " | ".join(_cell(v) for v in row) + " |"
            for row in frame.head(limit).itertuples(index=False)]
    more = [f"\n_... and {len(frame) - limit} more rows (CSV)_"] if len(frame) > limit else []
    return "\n".join([head, rule, *body, *more]) + "\n"


def _summary_value(run: PlanningRun, metric: str) -> Any:
    table = run.tables["summary"]
    rows = table.loc[table["metric"] == metric, "value"]
    return rows.iloc[0] if len(rows) else None


def headline(run: PlanningRun) -> list[tuple[str, str, str]]:
    """(label, value, unit) rows for the console and the reports."""
    rows = []
    summary = run.tables["summary"]
    wanted = ["objective", "spend", "gap", "boundary park", "pieces park", "targets met",
              "targets"]
    for metric in wanted:
        hit = summary[summary["metric"] == metric]
        if len(hit) and hit["value"].iloc[0] is not None:
            # a park design spends nothing: its cost is the opportunity cost of the zoning
            label = "opportunity cost" if metric == "spend" else metric
            rows.append((label, _cell(hit["value"].iloc[0]), str(hit["unit"].iloc[0])))
    for r in summary.itertuples(index=False):
        if r.metric.startswith(("units ", "rule ")) and "(current)" not in r.metric:
            rows.append((r.metric, _cell(r.value), str(r.unit)))
    return rows


def planning_report(run: PlanningRun) -> str:
    """``report.md`` of a planning run."""
    config = run.model.config
    result = run.result
    lines = [f"# {config.title or config.name}: {run.model.scenario}", "",
             f"Status: **{result.status}** ({result.termination}); objective "
             f"{_cell(result.objective)}; gap {_cell(result.gap)}; solve "
             f"{result.solve_seconds:.2f} s.", "", "```text", run.problem.describe(), "```", ""]
    lines += ["## Headline", "", markdown_table(pd.DataFrame(headline(run),
                                                            columns=["metric", "value",
                                                                     "unit"]))]
    if "targets" in run.tables:
        cols = [c for c in ("target", "zones", "target_amount", "held", "relative_held", "met",
                            "relative_held_current", "met_current")
                if c in run.tables["targets"].columns]
        lines += ["## Targets", "", markdown_table(run.tables["targets"][cols])]
    if "rules" in run.tables and len(run.tables["rules"]):
        lines += ["## Rules", "", markdown_table(run.tables["rules"])]
    if "zoning" in run.tables:
        cols = ["unit", "name", "previous_zone", "zone", "changed", "population", "cost"]
        lines += ["## Zoning", "", markdown_table(run.tables["zoning"][cols])]
        lines += ["See `comparison.md` for the contrast with the current zoning.", ""]
    for name in ("irreplaceability", "portfolio"):
        if name in run.tables:
            lines += [f"## {name.capitalize()}", "", markdown_table(run.tables[name])]
    if "shortfalls" in run.tables:
        lines += ["## Why no plan: least target shortfalls", "",
                  markdown_table(run.tables["shortfalls"])]
    return "\n".join(lines)


def comparison_markdown(run: PlanningRun) -> str:
    """``comparison.md``: the proposed zoning against the current one."""
    comp = run.tables["zone_comparison"]
    zoning = run.tables["zoning"]
    lines = [f"# Proposed zoning against the current zoning: {run.model.config.name} "
             f"[{run.model.scenario}]", "",
             "`current` puts each unit in its largest zone share (subunits.csv), as "
             "`zoning.csv`'s `previous_zone`; `current_shares` splits each unit by its zone "
             "shares (attributes assumed spread evenly over a unit).", ""]
    head = []
    for metric in ("spend", "boundary park", "pieces park", "targets met"):
        now = _summary_value(run, metric)
        before = _summary_value(run, f"{metric} (current)") if metric != "spend" else \
            _summary_value(run, "cost (current)")
        if now is not None:
            head.append({"metric": metric if metric != "spend" else "cost",
                         "current": before, "proposed": now})
    lines += ["## Headline", "", markdown_table(pd.DataFrame(head))]
    wide = comp.pivot_table(index=["metric", "unit"], columns="zone",
                            values=["current", "proposed"], aggfunc="first", sort=False)
    zones = [z for z in dict.fromkeys(comp["zone"])]
    rows = []
    for (metric, unit), values in wide.iterrows():
        row: dict[str, Any] = {"metric": metric, "unit": unit}
        for zone in zones:
            cur, new = values.get(("current", zone)), values.get(("proposed", zone))
            row[f"{zone} current"] = cur
            row[f"{zone} proposed"] = new
        rows.append(row)
    lines += ["## Totals per zone", "", markdown_table(pd.DataFrame(rows))]
    if "targets" in run.tables:
        t = run.tables["targets"]
        cols = [c for c in ("target", "zones", "relative_target", "relative_held_current",
                            "met_current", "relative_held", "met") if c in t.columns]
        lines += ["## Targets", "", markdown_table(t[cols])]
    if "rules" in run.tables and len(run.tables["rules"]):
        lines += ["## Rules", "", markdown_table(run.tables["rules"])]
    changes = run.tables["zone_changes"]
    lines += [f"## Units that change zone ({len(changes)} of {len(zoning)})", "",
              markdown_table(changes)]
    lines += ["## Transitions (units, current in rows, proposed in columns)", "",
              markdown_table(run.tables["zone_transitions"])]
    return "\n".join(lines)


def echo_run(run: PlanningRun, echo_rows: Any, seconds: float) -> int:
    """Print a planning run on the console (``dss solve``); returns its exit code.

    Args:
        run: The run.
        echo_rows: The CLI's aligned-rows printer (label, value, unit).
        seconds: Wall time of the whole command.
    """
    result = run.result
    config = run.model.config
    typer.echo(f"{config.name} [{run.model.scenario}]: {result.status} (planning: "
               f"{run.problem.data.n_units} units, {len(run.problem.targets)} targets; build "
               f"{result.build_seconds:.1f} s, solve {result.solve_seconds:.1f} s)")
    echo_rows(headline(run))
    if "zoning" in run.tables:
        zoning = run.tables["zoning"]
        changes = run.tables["zone_changes"]
        typer.echo("Zones (proposed <- current, units): " + ", ".join(
            f"{z} {int((zoning['zone'] == z).sum())} <- "
            f"{int((zoning['previous_zone'] == z).sum())}" for z in run.problem.data.zones))
        moved = ", ".join(f"{r.unit} {r.from_zone}->{r.to_zone}"
                          for r in changes.head(12).itertuples(index=False))
        more = f" ... and {len(changes) - 12} more" if len(changes) > 12 else ""
        typer.echo(f"Units that change zone ({len(changes)}): {moved}{more}")
    short = result.shortfalls
    if len(short) and (short["shortfall"] > 0).any():
        typer.secho("Targets that cannot be met (least shortfall):", fg=typer.colors.RED)
        echo_rows([(r.target, fmt(r.shortfall), f"of {fmt(r.target_amount)}")
                   for r in short.itertuples(index=False) if r.shortfall > 0])
    elif result.status == "infeasible":
        typer.secho("No target explains it: the hard constraints (locks, rules, contiguity, "
                    "budget) conflict with each other.", fg=typer.colors.RED)
    if run.folder is not None:
        typer.echo(f"Wrote {run.folder} in {seconds:.1f} s")
    return run.exit_code
