"""What ``dss solve`` prints: a summary that stays short at any study size.

At most :data:`TOP` items per list (largest first, by spend or by change), then
``… and N more, see <file>``; ``--all`` prints every item. Names come from the study's
``name`` / ``name_zh`` columns in the language ``--lang`` chooses. Long steps show a
spinner with the step and the elapsed time on a terminal's standard error (nothing in pipes
and logs).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd
import typer

from dss.report.i18n import Words, study_names, words
from dss.results.report import fmt

TOP = 8
"""Items shown per list without --all."""

NAME_WIDTH = 34
"""Longest name shown on the console (longer names are cut with an ellipsis)."""

STEPS = {"read": "Reading and checking the inputs", "solve": "Building and solving the model",
         "write": "Writing the results", "report": "Reading the run and drawing the report",
         "baseline": "Computing the baseline", "compare": "Comparing the scenarios"}


@contextmanager
def step_status() -> Iterator[Callable[[str], None]]:
    """A ``step(name)`` callback showing the current step, a spinner and the elapsed time on
    a terminal's standard error (silent in pipes and logs; gone when the command ends)."""
    if not _may_be_terminal():  # what rich would decide, without importing it
        yield lambda _step: None
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    if not console.is_terminal:
        yield lambda _step: None
        return
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=console, transient=True) as bars:
        task = bars.add_task("", total=None)

        def step(name: str) -> None:
            bars.update(task, description=f"{STEPS.get(name, name)}...")

        yield step


def _may_be_terminal() -> bool:
    """Whether rich could see standard error as a terminal: a tty, or told so by the
    environment (``FORCE_COLOR``, ``TTY_COMPATIBLE``)."""
    import os
    import sys

    if "FORCE_COLOR" in os.environ or "TTY_COMPATIBLE" in os.environ:
        return True
    try:
        return sys.stderr is not None and sys.stderr.isatty()
    except (AttributeError, ValueError):  # no stream, or a closed one
        return False


def short(text: str, width: int = NAME_WIDTH) -> str:
    """A name cut to ``width`` characters (Chinese characters count double)."""
    out, used = "", 0
    for ch in text:
        w = 2 if ord(ch) > 0x2E80 else 1
        if used + w > width - 1:
            return out + "…"
        out, used = out + ch, used + w
    return out


def more(shown: int, total: int, file: str, echo: Callable[[str], None] = typer.echo) -> None:
    """The ``… and N more`` line when a list was cut."""
    if total > shown:
        echo(f"  … and {total - shown:,} more, see {file} (or --all)")


def _summary_rows(summary: pd.DataFrame, currency: str, show_all: bool
                  ) -> list[tuple[str, str, str]]:
    values = summary.set_index("metric")
    rows = []
    for metric in ("objective", "spend", "budget", "gap"):
        if metric in values.index and values.loc[metric, "value"] is not None:
            unit = values.loc[metric, "unit"]
            rows.append((metric, fmt(values.loc[metric, "value"]),
                         "" if unit == "fraction" else unit))
    benefits = summary[summary["metric"].str.startswith("benefit ")].copy()
    benefits["value"] = pd.to_numeric(benefits["value"], errors="coerce")
    benefits = benefits[benefits["value"].abs() > 0]
    if show_all:
        rows += [(r.metric, fmt(r.value), r.unit) for r in benefits.itertuples(index=False)]
    else:  # one line per benefit component ("benefit water: sediment@x" -> "benefit water")
        component = benefits["metric"].str.split(":").str[0]
        for name, part in benefits.groupby(component, sort=False):
            terms = f" ({len(part):,} terms, see summary.csv)" if len(part) > 1 else ""
            rows.append((name, fmt(part["value"].sum()), f"{part['unit'].iloc[0]}{terms}"))
    for r in summary[summary["metric"].str.startswith("marginal ")].itertuples(index=False):
        value = float(r.value)
        if abs(value) > 0:
            key = r.metric.removeprefix("marginal ")
            if key.startswith("budget"):
                rows.append((f"value of one more {currency} of {key}", fmt(value),
                             f"{currency} of objective per {currency}"))
            else:
                rows.append((f"value of one more unit of {key}", fmt(value),
                             "objective per unit"))
    return rows


def echo_solve(run: Any, lang: str, show_all: bool,
               echo_rows: Callable[[list[tuple[str, str, str]]], None]) -> None:
    """Print an allocation run's summary: headline, largest allocations, spend by agency and
    township, control points with the largest changes, infeasibility if any."""
    result = run.result
    w = words(lang, study_names(run.problem.study))
    currency = run.problem.config.settings.currency
    typer.echo(f"{run.problem.config.name} [{run.problem.model.scenario}]: {result.status} "
               f"(build {result.build_seconds:.1f} s, solve {result.solve_seconds:.1f} s)")
    echo_rows(_summary_rows(run.tables["summary"], currency, show_all))
    alloc = run.tables.get("allocation")
    if alloc is not None and len(alloc):
        _echo_allocation(alloc, w, show_all, echo_rows)
    cps = run.tables.get("control_points")
    if cps is not None and len(cps):
        _echo_points(cps, w, show_all, echo_rows)


def _echo_allocation(alloc: pd.DataFrame, w: Words, show_all: bool,
                     echo_rows: Callable[[list[tuple[str, str, str]]], None]) -> None:
    ordered = alloc.sort_values("cost_cny", ascending=False, kind="stable")
    shown = ordered if show_all else ordered.head(TOP)
    typer.echo(f"Largest allocations ({len(shown):,} of {len(alloc):,}, by spend):")
    echo_rows([(f"{short(w.name('subunit', r.subunit_id), 26)}  "
                f"{short(w.name('action', r.action_id))}",
                f"{fmt(r.amount)} {r.unit}",
                f"{fmt(r.cost_cny)} CNY, benefit/cost {fmt(r.benefit_per_cny)}")
               for r in shown.itertuples(index=False)])
    more(len(shown), len(alloc), "allocation.csv")
    for column, kind in (("agency", "agency"), ("township", "township")):
        by = alloc.groupby(column)["cost_cny"].sum().sort_values(ascending=False)
        top = by if show_all else by.head(TOP)
        parts = ", ".join(f"{short(w.name(kind, i), 24)} {fmt(v)}" for i, v in top.items())
        rest = f", … and {len(by) - len(top):,} more" if len(by) > len(top) else ""
        typer.echo(f"Spend by {kind} (CNY): {parts}{rest}")


def _echo_points(cps: pd.DataFrame, w: Words, show_all: bool,
                 echo_rows: Callable[[list[tuple[str, str, str]]], None]) -> None:
    change = (cps["before"] - cps["after"]).abs() / cps["before"].abs().where(
        cps["before"] != 0, 1.0)
    ordered = cps.assign(_change=change).sort_values("_change", ascending=False,
                                                      kind="stable")
    limit = ordered["limit"] if "limit" in ordered else pd.Series(float("nan"), ordered.index)
    near = ordered[limit.notna()]
    shown = ordered if show_all or len(cps) <= 3 * TOP // 2 else \
        pd.concat([near.head(TOP // 2), ordered.drop(near.head(TOP // 2).index).head(TOP)])
    title = "Control points (before -> after)" if len(shown) == len(cps) else \
        f"Control points with the largest changes ({len(shown):,} of {len(cps):,} rows)"
    typer.echo(f"{title}:")
    rows = []
    for r in shown.itertuples(index=False):
        lim = getattr(r, "limit", float("nan"))
        note = f"  (limit {fmt(lim)})" if lim == lim and lim is not None else ""
        name = w.name("point", r.point_id)
        label = str(r.point_id) if name == str(r.point_id) else f"{r.point_id} {name}"
        rows.append((f"{short(label, 36)} {r.pollutant}",
                     f"{fmt(r.before)} -> {fmt(r.after)}", f"{r.unit}{note}"))
    echo_rows(rows)
    more(len(shown), len(cps), "control_points.csv")


def type_text(annotation: Any) -> str:
    """A parameter's type in words: ``float ≥ 0``, ``mapping of str to float ≥ 0``."""
    import types
    import typing

    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        text = type_text(args[0])
        for meta in args[1:]:
            for attr, sign in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
                if getattr(meta, attr, None) is not None:
                    text += f" {sign} {getattr(meta, attr):g}"
        return text
    if origin in (typing.Union, types.UnionType):
        return " or ".join("null" if a is type(None) else type_text(a) for a in args)
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin is dict and len(args) == 2:
        return f"mapping of {type_text(args[0])} to {type_text(args[1])}"
    if origin in (list, tuple, set, frozenset) and args:
        return f"list of {type_text(args[0])}"
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def default_text(info: Any) -> str:
    """A parameter's default for people: ``required``, or the value (``{}`` for an empty
    mapping made by a factory)."""
    if info.is_required():
        return "required"
    value = info.get_default(call_default_factory=True)
    return "null" if value is None else repr(value)
