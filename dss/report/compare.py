"""What the report of a scenario comparison shows, read from a ``dss compare`` folder."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from dss.errors import InputError, Issue
from dss.report import figures
from dss.report.i18n import Words, words
from dss.report.run import KeyFigure, Section, load_names, money
from dss.report.tables import delta_text, make_table
from dss.results.fonts import cjk_font
from dss.results.runs import MANIFEST, read_run

LOGGER = logging.getLogger(__name__)

SPEND_TABLES = (("spend_by_agency", "agency", "agency", "by_agency"),
                ("spend_by_township", "township", "township", "by_township"),
                ("spend_by_zone", "zone", "zone", "by_zone"),
                ("spend_by_action", "action_id", "action", "by_action"))
"""Comparison table, its id column, the kind of id, and the section heading key."""

SUMMARY_METRICS = ("objective", "spend", "budget", "gap")


@dataclass
class CompareReport:
    """Everything the comparison template shows."""

    w: Words
    title: str
    baseline: str
    scenarios: list[str]
    answer: str
    key_figures: list[KeyFigure]
    sections: list[Section]
    provenance: list[tuple[str, str]]
    hashes: list[tuple[str, str]]


def read_table(folder: Path, name: str) -> pd.DataFrame | None:
    """A tidy comparison table, or None when the comparison has none."""
    path = folder / f"{name}.csv"
    if not path.is_file():
        return None
    try:
        return pd.read_csv(path, encoding="utf-8", keep_default_na=False, na_values=[""])
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise InputError([Issue(str(path), f"cannot read the table ({err})")],
                         "cannot read the comparison") from None


def _names(folder: Path, manifest: dict[str, Any]) -> dict[str, dict[str, tuple[str, str]]]:
    """Display names from the study inputs of the first compared run that can be read."""
    for entry in manifest.get("scenarios") or []:
        run_folder = folder / str((entry or {}).get("folder", ""))
        try:
            run = read_run(run_folder)
        except InputError:
            continue
        study, names = load_names(run)
        if study is not None:
            return names
    LOGGER.warning("%s: no compared run folder with readable inputs: the report shows ids "
                   "instead of names", folder)
    return {}


def _wide(table: pd.DataFrame, keys: list[str], metric: str, scenarios: list[str]
          ) -> pd.DataFrame:
    part = table[table["metric"] == metric]
    wide = part.pivot_table(index=keys, columns="scenario", values="value", aggfunc="first",
                            sort=False)
    return wide.reindex(columns=scenarios)


def _side_by_side(wide: pd.DataFrame, labels: list[str], first: list[str], baseline: str,
                  scenarios: list[str], source: str, order_by_size: bool = True,
                  extra: list[list[Any]] | None = None, extra_heads: list[str] | None = None,
                  delta_head: str = "Δ") -> Any:
    """Rows of items with one column per scenario and a Δ column per non-baseline one."""
    wide = wide.apply(pd.to_numeric, errors="coerce")
    if order_by_size:
        wide = wide.loc[wide.abs().max(axis=1).sort_values(ascending=False, kind="stable").index]
    heads = list(first) + list(extra_heads or [])
    numeric = [False] * len(first) + [True] * len(extra_heads or [])
    for s in scenarios:
        heads.append(s)
        numeric.append(True)
        if s != baseline:
            heads.append(f"{delta_head} {s}")
            numeric.append(True)  # formatted already; right-aligned like the numbers
    rows = []
    for n, (_key, values) in enumerate(wide.iterrows()):
        row = list(labels[n] if isinstance(labels[n], list) else [labels[n]])
        if extra:
            row += extra[n]
        for s in scenarios:
            row.append(values.get(s))
            if s != baseline:
                row.append(delta_text(values.get(s), values.get(baseline)))
        rows.append(row)
    return make_table(heads, numeric, rows, source)


def build_compare_report(folder: Path, lang: str) -> CompareReport:
    """Gather the report of a comparison folder in ``lang``."""
    manifest = yaml.safe_load((folder / MANIFEST).read_text(encoding="utf-8")) or {}
    names = _names(folder, manifest)
    w = words(lang, names)
    font = cjk_font()
    fw = w if (font or w.lang == "en") else words("en", names)
    scen = read_table(folder, "scenarios")
    summary = read_table(folder, "summary")
    if scen is None or summary is None:
        raise InputError([Issue(str(folder), "scenarios.csv or summary.csv is missing (run dss "
                                             "compare again)")], "cannot read the comparison")
    scenarios = [str(s) for s in scen["scenario"]]
    baseline = str(manifest.get("baseline") or scenarios[0])
    title = str(manifest.get("title") or _title(folder, manifest) or manifest.get("study", ""))
    delta = w("delta")
    sections = [_scenario_section(scen, w)]
    wide = summary.pivot_table(index="metric", columns="scenario", values="value",
                               aggfunc="first", sort=False).reindex(columns=scenarios)
    units = summary.drop_duplicates("metric").set_index("metric")["unit"]
    shown = [m for m in SUMMARY_METRICS if m in wide.index]
    shown += [m for m in wide.index if str(m).startswith("benefit ")
              and pd.to_numeric(wide.loc[m], errors="coerce").abs().sum() > 0]
    labels = [[metric_label(m, w), str(units.get(m, ""))] for m in shown]
    sec = Section("summary", w("cmp_summary"), f"Δ = {w('scenario')} − {baseline}")
    sec.tables.append(("", _side_by_side(wide.loc[shown], labels, [w("metric"), w("unit")],
                                         baseline, scenarios, "summary.csv", False,
                                         delta_head=delta)))
    sections.append(sec)
    spend_sec = Section("spend", w("cmp_spend"))
    for name, key, kind, heading in SPEND_TABLES:
        table = read_table(folder, name)
        if table is None or not len(table):
            continue
        wide = _wide(table, [key], "spend", scenarios)
        wide = wide.loc[wide.abs().max(axis=1).sort_values(ascending=False).index]
        labels = [w.name(kind, i) for i in wide.index]
        spend_sec.tables.append((w(heading), _side_by_side(
            wide, labels, [w(kind)], baseline, scenarios, f"{name}.csv", delta_head=delta)))
        if name in ("spend_by_agency", "spend_by_township"):
            top = wide.head(15).fillna(0.0)
            divisor, unit = figures.money_scale(top.to_numpy().ravel(), fw.lang)
            spend_sec.figures.append(figures.bars(
                [fw.name(kind, i) for i in top.index], {s: top[s].to_numpy() for s in scenarios},
                f"{fw('spend')} ({unit})", divisor, font))
    if spend_sec.tables:
        sections.append(spend_sec)
    cps = read_table(folder, "control_points")
    if cps is not None and len(cps):
        wide = _wide(cps, ["point_id", "pollutant"], "load_after", scenarios)
        first = cps.drop_duplicates(["point_id", "pollutant"]).set_index(
            ["point_id", "pollutant"])
        labels = [[w.name("point", p), w.name("pollutant", q)] for p, q in wide.index]
        extra = [[first.loc[(p, q), "before"], first.loc[(p, q), "unit"]]
                 for p, q in wide.index]
        sec = Section("loads", w("cmp_loads"))
        table = _side_by_side(wide, labels, [w("point"), w("pollutant")], baseline, scenarios,
                              "control_points.csv", False, extra, [w("before"), w("unit")],
                              delta_head=delta)
        table.numeric[3] = False  # the unit column
        sec.tables.append(("", table))
        sections.append(sec)
    species = read_table(folder, "species")
    if species is not None and len(species):
        wide = _wide(species, ["species"], "habitat_after", scenarios)
        sec = Section("habitat", w("cmp_habitat"))
        sec.tables.append(("", _side_by_side(wide, [w.name("species", s) for s in wide.index],
                                             [w("species")], baseline, scenarios,
                                             "species.csv", False, delta_head=delta)))
        sections.append(sec)
    key_figures = _key_figures(scen, baseline, w)
    answer = _answer(scen, baseline, w)
    provenance = [(w("p_created"), str(manifest.get("created", ""))),
                  (w("p_command"), str(manifest.get("command", ""))),
                  (w("p_folder"), str(folder)), (w("baseline_scn"), baseline)]
    hashes = [(str(k), str(v)) for k, v in (manifest.get("inputs_sha256") or {}).items()]
    return CompareReport(w, title, baseline, scenarios, answer, key_figures, sections,
                         provenance, hashes)


def metric_label(metric: str, w: Words) -> str:
    """A summary metric in words: ``benefit water: sediment@muping_intake`` reads
    "benefit (water): Sediment at Muping drinking-water intake" (or 效益（water）：…泥沙)."""
    if metric in SUMMARY_METRICS:
        return w(metric)
    if not metric.startswith("benefit "):
        return metric
    component, _, term = metric.removeprefix("benefit ").partition(": ")
    total = component.endswith(" (total)")
    component = component.removesuffix(" (total)")
    head = f"效益（{component}）" if w.lang == "zh" else f"Benefit ({component})"
    if not term:
        return head + (("合计" if w.lang == "zh" else ", total") if total else "")
    if "@" in term:
        pollutant, point = term.split("@", 1)
        term = (f"{w.name('point', point)}{w.name('pollutant', pollutant)}" if w.lang == "zh"
                else f"{w.name('pollutant', pollutant)} at {w.name('point', point)}")
    elif term.startswith("habitat "):
        term = w.name("species", term.removeprefix("habitat "))
    return f"{head}：{term}" if w.lang == "zh" else f"{head}: {term}"


def _title(folder: Path, manifest: dict[str, Any]) -> str:
    """The study title, from the first compared run's manifest."""
    for entry in manifest.get("scenarios") or []:
        try:
            return read_run(folder / str((entry or {}).get("folder", ""))).title
        except InputError:
            continue
    return ""


def _scenario_section(scen: pd.DataFrame, w: Words) -> Section:
    rows = [[r.scenario, w.name("status", r.status), r.objective, r.spend,
             r.description if isinstance(r.description, str) else ""]
            for r in scen.itertuples(index=False)]
    sec = Section("scenarios", w("scenarios"))
    sec.tables.append(("", make_table([w("scenario"), w("status"), w("objective") + " (CNY)",
                                       w("spend") + " (CNY)", w("description")],
                                      [False, False, True, True, False], rows,
                                      "scenarios.csv")))
    return sec


def _key_figures(scen: pd.DataFrame, baseline: str, w: Words) -> list[KeyFigure]:
    out = []
    for r in scen.itertuples(index=False):
        value, unit = money(r.spend, w)
        out.append(KeyFigure(f"{r.scenario}: {w('spend')}", value, unit))
    return out


def _answer(scen: pd.DataFrame, baseline: str, w: Words) -> str:
    base = scen[scen["scenario"] == baseline].iloc[0]
    zh = w.lang == "zh"
    parts = [(f"问题：与基准情景 {baseline} 相比，其他{len(scen) - 1}个情景的投入和效益有何不同？"
              if zh else f"The question: how do the other {len(scen) - 1} scenarios differ "
              f"from the baseline scenario {baseline} in what they spend and achieve?")]
    b_obj, b_spend = money(base.objective, w), money(base.spend, w)
    parts.append(f"答案：基准情景投入{b_spend[0]}{b_spend[1]}，目标值{b_obj[0]}{b_obj[1]}" if zh
                 else f"The answer: the baseline spends {b_spend[0]} {b_spend[1]} for an "
                 f"objective of {b_obj[0]} {b_obj[1]}")
    for r in scen.itertuples(index=False):
        if r.scenario == baseline:
            continue
        if r.status != "optimal" and not isinstance(r.objective, float):
            parts.append(f"；{r.scenario}：{w.name('status', r.status)}" if zh else
                         f"; {r.scenario}: {w.name('status', r.status)}")
            continue
        d_obj = money(float(r.objective) - float(base.objective), w)
        d_sp = money(float(r.spend) - float(base.spend), w)
        parts.append(f"；{r.scenario}：投入{_sign(d_sp[0])}{d_sp[0]}{d_sp[1]}，目标值"
                     f"{_sign(d_obj[0])}{d_obj[0]}{d_obj[1]}（{w.name('status', r.status)}）"
                     if zh else
                     f"; {r.scenario} spends {_sign(d_sp[0])}{d_sp[0]} {d_sp[1]} and changes "
                     f"the objective by {_sign(d_obj[0])}{d_obj[0]} {d_obj[1]} "
                     f"({w.name('status', r.status)})")
    return parts[0] + " " + "".join(parts[1:]) + ("。" if zh else ".")


def _sign(number: str) -> str:
    """``+`` before a formatted non-negative number (a negative one has its own sign)."""
    return "" if number.startswith(("-", "−")) else "+"


def is_comparison(folder: Path) -> bool:
    """Whether a folder holds a ``dss compare`` manifest."""
    try:
        manifest = yaml.safe_load((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False
    return isinstance(manifest, dict) and manifest.get("kind") == "compare"

