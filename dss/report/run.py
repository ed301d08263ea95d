"""What the report of one solve run shows, gathered from its folder and its study inputs."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from dss.errors import InputError
from dss.report import figures
from dss.report.i18n import Words, study_names, words
from dss.report.tables import Table, make_table
from dss.results.fonts import cjk_font
from dss.results.report import fmt
from dss.results.runs import RunFolder, load_run_study

LOGGER = logging.getLogger(__name__)

MAX_MAP_SUBUNITS = 2000
"""Largest study drawn as a network schematic in the report."""


@dataclass
class KeyFigure:
    """One headline number: label, formatted value, unit."""

    label: str
    value: str
    unit: str


@dataclass
class Section:
    """A titled part of the report: a note, figures (SVG) and tables."""

    key: str
    title: str
    note: str = ""
    figures: list[str] = field(default_factory=list)
    tables: list[tuple[str, Table]] = field(default_factory=list)


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def money(value: Any, w: Words) -> tuple[str, str]:
    """A sum of money for a headline: (number, unit) in 万元 or million CNY."""
    x = _num(value)
    divisor, unit = figures.money_scale([x], w.lang)
    if divisor == 1.0:
        return fmt(x), unit
    scaled = x / divisor
    return (f"{scaled:,.0f}" if abs(scaled) >= 100 else f"{scaled:,.2f}"), unit


def load_names(run: RunFolder) -> tuple[Any, dict[str, dict[str, tuple[str, str]]]]:
    """The run's study (None when its inputs cannot be found) and its display names."""
    try:
        study = load_run_study(run)
    except InputError as err:
        LOGGER.warning("%s: study inputs not found, the report shows ids instead of names "
                       "(%s)", run.folder, str(err).splitlines()[-1].strip(" -"))
        return None, {}
    return study, study_names(study)


def spend_by_year(alloc: pd.DataFrame, actions: pd.DataFrame, horizon: float) -> pd.DataFrame:
    """Spend per year of the horizon: one-off and fixed costs in year 1, annual costs every
    year (``cost = amount (capital + H annual) + fixed``, so the years add up to the spend).
    """
    years = int(round(horizon))
    act = actions.set_index("action_id")
    amount = alloc["amount"].to_numpy(dtype=float)
    ids = alloc["action_id"].astype(str)
    capital = ids.map(act["capital_cost"]).to_numpy(dtype=float)
    annual = ids.map(act["annual_cost"]).to_numpy(dtype=float)
    fixed = ids.map(act["fixed_cost"]).to_numpy(dtype=float) * (amount > 0)
    yearly = np.full(years, float((amount * annual).sum()))
    yearly[0] += float((amount * capital).sum() + fixed.sum())
    return pd.DataFrame({"year": np.arange(1, years + 1), "spend": yearly})


@dataclass
class RunReport:
    """Everything the run template shows."""

    w: Words
    run: RunFolder
    title: str
    scenario: str
    description: str
    answer: str
    key_figures: list[KeyFigure]
    sections: list[Section]
    provenance: list[tuple[str, str]]
    versions: list[tuple[str, str]]
    hashes: list[tuple[str, str]]
    park: bool = False
    """A park design (kind: planning) rather than an allocation of actions."""


def build_run_report(run: RunFolder, lang: str) -> RunReport:
    """Gather the report of a solve run in ``lang`` (``zh`` or ``en``)."""
    study, names = load_names(run)
    w = words(lang, names)
    font = cjk_font()
    fw = w if (font or w.lang == "en") else words("en", names)  # words drawn in figures
    summary = run.tables["summary"].set_index("metric")["value"]
    settings = run.config.get("settings") if isinstance(run.config.get("settings"), dict) \
        else {}
    horizon = _num(settings.get("horizon_years", 10))
    alloc = run.tables.get("allocation")
    cps = run.tables.get("control_points")
    species = run.tables.get("species")
    sections: list[Section] = []
    if study is not None and alloc is not None:
        sections.append(_map_section(study, alloc, cps, w, fw, font))
    if alloc is not None and len(alloc):
        sections.append(_spend_section(alloc, study, horizon, w, fw, font))
    if cps is not None and len(cps):
        sections.append(_loads_section(cps, w, fw, font))
    if species is not None and len(species):
        sections.append(_habitat_section(species, w))
    if alloc is not None and len(alloc):
        sections.append(_work_plan(alloc, w))
    if "shortfalls" in run.tables:
        sections.append(_infeasibility(run.tables["shortfalls"], w))
    return RunReport(w, run, run.title, run.name, run.description,
                     _answer(run, summary, alloc, cps, species, horizon, w),
                     _key_figures(run, summary, alloc, cps, species, horizon, w), sections,
                     *_provenance(run, summary, w))


def _key_figures(run: RunFolder, summary: pd.Series, alloc: pd.DataFrame | None,
                 cps: pd.DataFrame | None, species: pd.DataFrame | None, horizon: float,
                 w: Words) -> list[KeyFigure]:
    out = []
    if "spend" in summary:
        out.append(KeyFigure(w("k_spend"), *money(summary["spend"], w)))
    if "budget" in summary and _num(summary["budget"]) == _num(summary["budget"]):
        out.append(KeyFigure(w("k_budget"), *money(summary["budget"], w)))
    if "objective" in summary and _num(summary["objective"]) == _num(summary["objective"]):
        sense = str(summary.get("objective_sense", ""))
        label = w("k_objective_cost") if sense == "min_cost" else \
            w("k_objective", h=fmt(horizon))
        out.append(KeyFigure(label, *money(summary["objective"], w)))
    if alloc is not None and len(alloc):
        out.append(KeyFigure(w("k_actions"), f"{len(alloc):,}",
                             w("n_actions", n=f"{alloc['action_id'].nunique():,}",
                               m=f"{alloc['subunit_id'].nunique():,}")))
    top = _top_sediment(cps)
    if top is not None:
        out.append(KeyFigure(w("k_sediment", point=w.name("point", top.point_id)),
                             fmt(top.reduction), f"{top.unit} (−{top.reduction_pct:.1f} %)"))
    if species is not None and len(species) and _num(species["gain"].sum()) > 0:
        out.append(KeyFigure(w("k_habitat"), fmt(species["gain"].sum()),
                             str(species["unit"].iloc[0])))
    carbon = [m for m in summary.index if str(m).startswith("benefit carbon")]
    if carbon and _num(summary[carbon[0]]) > 0:
        out.append(KeyFigure(w("k_carbon"), *money(summary[carbon[0]], w)))
    out.append(KeyFigure(w("k_status"), w.name("status", run.status),
                         f"{w('gap')} {fmt(summary.get('gap'))}"))
    return out


def _top_sediment(cps: pd.DataFrame | None) -> Any:
    if cps is None or not len(cps):
        return None
    sed = cps[cps["pollutant"] == "sediment"]
    if not len(sed) or not (sed["reduction"] > 0).any():
        return None
    return sed.loc[sed["reduction"].idxmax()]


def _answer(run: RunFolder, summary: pd.Series, alloc: pd.DataFrame | None,
            cps: pd.DataFrame | None, species: pd.DataFrame | None, horizon: float,
            w: Words) -> str:
    """The question and the answer, in one paragraph."""
    zh = w.lang == "zh"
    n_sub = None
    budget = summary.get("budget")
    sense = str(summary.get("objective_sense", ""))
    spend = money(summary.get("spend"), w)
    if sense == "min_cost":
        q = (f"问题：在满足全部目标的前提下，{w.pick(run.title, run.title)}的最低投入是多少、"
             "应投向哪里？" if zh else
             f"The question: what is the least it costs to meet every target in "
             f"{run.title}, and where should the money go?")
    else:
        b = money(budget, w)
        q = (f"问题：在{horizon:g}年内{b[0]}{b[1]}的预算下，{run.title}应把资金投向哪些子流域"
             "和措施，才能获得最大的综合效益？" if zh else
             f"The question: with a budget of {b[0]} {b[1]} over {horizon:g} years, which "
             f"actions in which subunits of {run.title} give the most valued benefit?")
    if run.status == "infeasible" or alloc is None:
        a = ("答案：现有条件下无法同时满足全部要求，原因见下文“无可行方案”一节。" if zh else
             "The answer: the requirements cannot all be met as posed; the section on "
             "infeasibility below says which and by how much.")
        return f"{q} {a}"
    n_sub = alloc["subunit_id"].nunique()
    a = (f"答案：方案投入{spend[0]}{spend[1]}，在{n_sub:,}个子流域实施{len(alloc):,}项措施"
         if zh else
         f"The answer: spend {spend[0]} {spend[1]} on {len(alloc):,} actions in "
         f"{n_sub:,} subunits")
    top = _top_sediment(cps)
    if top is not None:
        point = w.name("point", top.point_id)
        a += (f"；{point}的泥沙负荷每年减少{fmt(top.reduction)}吨（−{top.reduction_pct:.1f}%）"
              if zh else
              f"; this keeps {fmt(top.reduction)} t of sediment a year out of {point} "
              f"(−{top.reduction_pct:.1f} %)")
    if species is not None and len(species) and species["gain"].sum() > 0:
        a += (f"，栖息地增加{fmt(species['gain'].sum())}公顷（按质量加权）" if zh else
              f", and adds {fmt(species['gain'].sum())} ha of quality-weighted habitat")
    if sense != "min_cost" and "objective" in summary:
        obj = money(summary["objective"], w)
        a += (f"。{horizon:g}年的总效益折合{obj[0]}{obj[1]}" if zh else
              f". Its benefits over {horizon:g} years are valued at {obj[0]} {obj[1]}")
    gap = fmt(summary.get("gap"))
    a += (f"。求解状态：{w.name('status', run.status)}（差距 {gap}）。" if zh else
          f". Solver status: {w.name('status', run.status)} (gap {gap}).")
    return f"{q} {a}"


def _map_section(study: Any, alloc: pd.DataFrame, cps: pd.DataFrame | None, w: Words,
                 fw: Words, font: str | None) -> Section:
    sec = Section("map", w("map"), w("map_note"))
    subs = study.subunits
    if len(subs) > MAX_MAP_SUBUNITS:
        sec.note = w("map_too_big", n=f"{len(subs):,}")
        return sec
    spend = alloc.groupby("subunit_id")["cost_cny"].sum()
    divisor, unit = figures.money_scale(spend.to_numpy(), fw.lang)
    down = [None if (d is None or d != d or d == "") else str(d)
            for d in subs["downstream_id"]]
    points = []
    if cps is not None and len(study.control_points):
        for rec in study.control_points.itertuples(index=False):
            points.append((str(rec.subunit_id), fw.name("point", rec.point_id)))
    sec.figures.append(figures.network(subs["subunit_id"].astype(str).tolist(), down,
                                       spend.to_dict(), points, f"{fw('spend')} ({unit})",
                                       divisor, font))
    return sec


def _spend_section(alloc: pd.DataFrame, study: Any, horizon: float, w: Words, fw: Words,
                   font: str | None) -> Section:
    sec = Section("spend", w("spend_by"))
    total = float(alloc["cost_cny"].sum())
    divisor, unit = figures.money_scale([total], fw.lang)
    for key, column, kind in (("by_agency", "agency", "agency"),
                              ("by_township", "township", "township"),
                              ("by_zone", "zone", "zone"), ("by_action", "action_id", "action")):
        by = alloc.groupby(column)["cost_cny"].sum().sort_values(ascending=False)
        rows = [[w.name(kind, i), v, 100 * v / total if total else float("nan")]
                for i, v in by.items()]
        sec.tables.append((w(key), make_table([w(kind), w("cost"), w("share") + " %"],
                                              [False, True, True], rows, "allocation.csv",
                                              total=[w("spend"), total, 100.0])))
        if key in ("by_agency", "by_township"):
            top = by.head(15)
            sec.figures.append(figures.bars([fw.name(kind, i) for i in top.index],
                                            {fw("spend"): top.to_numpy()},
                                            f"{fw('spend')} ({unit})", divisor, font))
    if study is not None and horizon == round(horizon) and horizon >= 1:
        years = spend_by_year(alloc, study.actions, horizon)
        rows = [[int(r.year), r.spend] for r in years.itertuples(index=False)]
        sec.tables.append((w("by_year"), make_table([w("year"), w("cost")], [False, True],
                                                    rows, total=[w("spend"),
                                                                 years["spend"].sum()])))
        sec.note = w("year_note", h=fmt(horizon))
    return sec


def _loads_section(cps: pd.DataFrame, w: Words, fw: Words, font: str | None) -> Section:
    sec = Section("loads", w("loads"))
    rows = []
    groups: dict[str, list[tuple[str, float, float, float | None]]] = {}
    units: dict[str, str] = {}
    for r in cps.itertuples(index=False):
        limit = _num(r.limit)
        if limit == limit:
            status = w("within") if r.after <= limit * (1 + 1e-9) + 1e-9 else w("above")
        else:
            status = w("no_limit")
        rows.append([w.name("point", r.point_id), w.name("pollutant", r.pollutant), r.before,
                     r.after, r.reduction_pct, limit, r.unit, status])
        label = fw.name("pollutant", r.pollutant)
        groups.setdefault(label, []).append((fw.name("point", r.point_id), float(r.before),
                                             float(r.after), limit if limit == limit else None))
        units[label] = str(r.unit)
    sec.tables.append(("", make_table(
        [w("point"), w("pollutant"), w("before"), w("after"), w("reduction_pct"), w("limit"),
         w("unit"), w("status")], [False, False, True, True, True, True, False, False], rows,
        "control_points.csv")))
    if len(cps) <= 60:
        sec.figures.append(figures.loads(groups, units, fw("before"), fw("after"),
                                         fw("limit"), font))
    return sec


def _habitat_section(species: pd.DataFrame, w: Words) -> Section:
    rows = []
    for r in species.itertuples(index=False):
        req = _num(r.required_gain)
        if req == req:
            met = w("met") if str(r.target_met) in ("True", "true", "1", "yes") else \
                w("not_met")
        else:
            met = w("no_target")
        rows.append([w.name("species", r.species), r.before, r.gain, r.after, req, r.unit,
                     met])
    sec = Section("habitat", w("habitat"))
    sec.tables.append(("", make_table(
        [w("species"), w("before"), w("gain"), w("after"), w("target"), w("unit"),
         w("status")], [False, True, True, True, True, False, False], rows, "species.csv")))
    return sec


def _work_plan(alloc: pd.DataFrame, w: Words) -> Section:
    ordered = alloc.sort_values("cost_cny", ascending=False, kind="stable")
    rows = [[w.name("subunit", r.subunit_id), w.name("action", r.action_id), r.amount, r.unit,
             r.cost_cny, w.name("agency", r.agency), w.name("township", r.township),
             w.name("zone", r.zone), r.benefit_per_cny]
            for r in ordered.itertuples(index=False)]
    sec = Section("work_plan", w("work_plan"), w("work_plan_note"))
    sec.tables.append(("", make_table(
        [w("subunit"), w("action"), w("amount"), w("unit"), w("cost"), w("agency"),
         w("township"), w("zone"), w("benefit_per_cny")],
        [False, False, True, False, True, False, False, False, True], rows, "allocation.csv",
        total=["", "", None, "", float(alloc["cost_cny"].sum()), "", "", "", None])))
    return sec


def _infeasibility(short: pd.DataFrame, w: Words) -> Section:
    sec = Section("infeasible", w("infeasible"), w("infeasible_note"))
    kind = short["kind"] if "kind" in short else pd.Series("requirement", short.index)
    reqs = short[kind == "requirement"]
    rows = [[r.requirement, r.target, r.shortfall, r.unit,
             w("yes") if str(getattr(r, "in_conflict", "")) in ("True", "true") else ""]
            for r in reqs.itertuples(index=False)]
    sec.tables.append(("", make_table([w("requirement"), w("target"), w("shortfall"),
                                       w("unit"), w("in_conflict")],
                                      [False, True, True, False, False], rows,
                                      "shortfalls.csv")))
    if "note" in short:
        for note in short.loc[kind == "budget", "note"]:
            if isinstance(note, str) and note:
                sec.note += f" {w('budget')}: {note}."
    return sec


def _provenance(run: RunFolder, summary: pd.Series, w: Words
                ) -> tuple[list[tuple[str, str]], list[tuple[str, str]], list[tuple[str, str]]]:
    m = run.manifest
    rows = [(w("p_status"), w.name("status", run.status)), (w("p_gap"), fmt(summary.get("gap"))),
            (w("p_termination"), str(summary.get("termination", ""))),
            (w("p_created"), str(m.get("created", ""))), (w("p_command"), str(m.get("command",
                                                                                    ""))),
            (w("p_model"), str(m.get("model_file", ""))),
            (w("p_inputs"), str(m.get("inputs_dir", ""))), (w("p_folder"), str(run.folder))]
    versions = [(str(k), str(v)) for k, v in (m.get("versions") or {}).items()]
    hashes = [(str(k), str(v)) for k, v in (m.get("inputs_sha256") or {}).items()]
    return [r for r in rows if r[1] and r[1] != "None"], versions, hashes

