"""What the report of a park-design run (``kind: planning``) shows: the proposed zoning
against today's, the conservation targets, and the cost."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from dss.report import figures
from dss.report.i18n import Words, words
from dss.report.run import KeyFigure, RunReport, Section, _provenance, load_names, money
from dss.report.tables import make_table
from dss.results.fonts import cjk_font
from dss.results.report import fmt
from dss.results.runs import RunFolder

ZONES = ("core", "general", "outside")


def is_park_design(run: RunFolder) -> bool:
    """Whether a run folder holds a park design (``kind: planning`` with a zoning)."""
    return bool(run.manifest.get("planning")) or (run.folder / "zoning.csv").is_file()


def _read(folder: Path, name: str) -> pd.DataFrame | None:
    path = folder / f"{name}.csv"
    if not path.is_file():
        return None
    return pd.read_csv(path, encoding="utf-8", keep_default_na=False, na_values=[""])


def build_park_report(run: RunFolder, lang: str) -> RunReport:
    """Gather the report of a park-design run in ``lang``."""
    study, names = load_names(run)
    w = words(lang, names)
    font = cjk_font()
    fw = w if (font or w.lang == "en") else words("en", names)
    summary = run.tables["summary"].set_index("metric")["value"]
    zoning = _read(run.folder, "zoning")
    targets = _read(run.folder, "targets")
    comparison = _read(run.folder, "zone_comparison")
    sections: list[Section] = []
    if zoning is not None and study is not None:
        sec = Section("map", w("map"), w("park_map_note"))
        subs = study.subunits
        down = [None if (d is None or d != d or d == "") else str(d)
                for d in subs["downstream_id"]]
        of = dict(zip(zoning["unit"].astype(str), zoning["zone"].astype(str), strict=True))
        sec.figures.append(figures.network(
            subs["subunit_id"].astype(str).tolist(), down, {}, [], "", 1.0, font,
            zones=(of, {z: fw.name("zone", z) for z in ZONES})))
        sections.append(sec)
    if zoning is not None:
        sections.append(_zoning_section(zoning, w))
    if comparison is not None:
        sections.append(_comparison_section(comparison, w))
    if targets is not None:
        sections.append(_targets_section(targets, w))
    return RunReport(w, run, run.title, run.name, run.description,
                     _answer(run, summary, zoning, targets, w),
                     _key_figures(run, summary, w), sections, *_provenance(run, summary, w),
                     park=True)


def _value(summary: pd.Series, metric: str) -> Any:
    return summary[metric] if metric in summary.index else None


def _key_figures(run: RunFolder, summary: pd.Series, w: Words) -> list[KeyFigure]:
    out = [KeyFigure(w("opportunity_cost"), *money(_value(summary, "spend"), w))]
    for zone in ZONES:
        now, before = _value(summary, f"units {zone}"), _value(summary, f"units {zone} (current)")
        if now is not None:
            out.append(KeyFigure(w("k_units", zone=w.name("zone", zone)), fmt(now),
                                 f"{w('current')} {fmt(before)}" if before is not None else ""))
    met, total = _value(summary, "targets met"), _value(summary, "targets")
    if met is not None and total is not None:
        out.append(KeyFigure(w("k_targets"), f"{fmt(met)} / {fmt(total)}", ""))
    boundary = _value(summary, "boundary park")
    if boundary is not None:
        out.append(KeyFigure(w("k_boundary"), fmt(boundary), "km"))
    out.append(KeyFigure(w("k_status"), w.name("status", run.status),
                         f"{w('gap')} {fmt(_value(summary, 'gap'))}"))
    return out


def _answer(run: RunFolder, summary: pd.Series, zoning: pd.DataFrame | None,
            targets: pd.DataFrame | None, w: Words) -> str:
    zh = w.lang == "zh"
    n = len(targets) if targets is not None else 0
    q = (f"问题：在满足全部{n}项保护目标的前提下，如何划定国家公园的边界与分区，使机会成本与边界"
         "长度的总代价最小？" if zh else
         f"The question: where should the national park's boundary and zones lie so that all "
         f"{n} conservation targets are met at the least opportunity cost and boundary "
         "length?")
    if zoning is None:
        return q + (" 答案：无可行方案，见 shortfalls.csv。" if zh else
                    " The answer: no zoning meets every target; see shortfalls.csv.")
    counts = zoning["zone"].value_counts()
    before = zoning["previous_zone"].value_counts() if "previous_zone" in zoning else counts
    now = "/".join(str(int(counts.get(z, 0))) for z in ZONES)
    was = "/".join(str(int(before.get(z, 0))) for z in ZONES)
    changed = int(zoning["changed"].astype(str).isin(["True", "true"]).sum()) \
        if "changed" in zoning else 0
    cost, cost0 = money(_value(summary, "spend"), w), money(_value(summary, "cost (current)"), w)
    met = fmt(_value(summary, "targets met"))
    status = w.name("status", run.status)
    gap = fmt(_value(summary, "gap"))
    if zh:
        return (f"{q} 答案：核心保护区/一般控制区/公园外分别为{now}个单元（现状{was}），调整"
                f"{changed}个单元的分区；机会成本{cost[0]}{cost[1]}（现状{cost0[0]}{cost0[1]}），"
                f"{met}/{n}项目标达到。求解状态：{status}（差距 {gap}）。")
    return (f"{q} The answer: {now} units in the core zone / general zone / outside the park "
            f"(today {was}), {changed} units change zone; the opportunity cost is {cost[0]} "
            f"{cost[1]} (today's zoning: {cost0[0]} {cost0[1]}) and {met} of {n} targets are "
            f"met. Solver status: {status} (gap {gap}).")


def _zoning_section(zoning: pd.DataFrame, w: Words) -> Section:
    changed = zoning["changed"].astype(str).isin(["True", "true"]) if "changed" in zoning \
        else pd.Series(False, zoning.index)
    ordered = zoning.assign(_c=~changed).sort_values(["_c", "unit"], kind="stable")
    rows = [[w.name("subunit", r.unit), w.name("township", r.township),
             w.name("zone", r.previous_zone), w.name("zone", r.zone),
             w("yes") if c else "", r.population, r.cost]
            for r, c in zip(ordered.itertuples(index=False), ~ordered["_c"], strict=True)]
    sec = Section("zoning", w("zoning"), w("zoning_note"))
    sec.tables.append(("", make_table(
        [w("subunit"), w("township"), w("current"), w("proposed"), w("changed"),
         w("population"), w("opportunity_cost") + " (CNY)"],
        [False, False, False, False, False, True, True], rows, "zoning.csv")))
    return sec


def _comparison_section(comp: pd.DataFrame, w: Words) -> Section:
    rows = [[r.metric.replace("feature:", ""), w.name("zone", r.zone), r.unit, r.current,
             r.proposed, r.change] for r in comp.itertuples(index=False)]
    sec = Section("zone_comparison", w("zone_comparison"))
    sec.tables.append(("", make_table(
        [w("metric"), w("zone"), w("unit"), w("current"), w("proposed"), w("change")],
        [False, False, False, True, True, True], rows, "zone_comparison.csv")))
    return sec


def _targets_section(targets: pd.DataFrame, w: Words) -> Section:
    rows = []
    for r in targets.itertuples(index=False):
        zones = "+".join(w.name("zone", z) for z in str(r.zones).split("+"))
        met = w("met") if str(r.met) in ("True", "true") else w("not_met")
        rows.append([w.name("species", r.feature) if r.feature in w.names.get("species", {})
                     else r.name, zones, r.target_amount, r.held,
                     100 * float(r.relative_held), met])
    sec = Section("targets", w("targets"))
    sec.tables.append(("", make_table(
        [w("species"), w("zones"), w("target_amount"), w("held"), w("held") + " %",
         w("status")], [False, False, True, True, True, False], rows, "targets.csv")))
    return sec
