"""Implementation rules of a run, in Chinese and English, generated from its model.

:func:`implementation_rules` reads the resolved configuration recorded in a run's manifest
(zone rules, locks, equity, budgets) and the run's own tables (the load limits and habitat
targets in force), and states each rule in plain words with its source: the model file key
(or the scenario override that set it) or the input table cell. :meth:`Rule.applies` says
whether a rule concerns one line of work (subunit, action, agency, township); a work plan
lists the rules that apply on each line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import networkx as nx
import pandas as pd

from dss.data.schema import POLLUTANT_UNITS, ZONES
from dss.data.study import Study
from dss.results.runs import RunFolder
from dss.results.year_rules import year_rules

ZONE_NAMES: dict[str, tuple[str, str]] = {
    "core": ("核心保护区", "core protection zone"),
    "general": ("一般控制区", "general control zone"),
    "outside": ("国家公园外", "outside the national park"),
}
"""Chinese and English name of each national-park zone."""

POLLUTANT_NAMES: dict[str, tuple[str, str]] = {
    "sediment": ("泥沙", "sediment"), "tn": ("总氮", "total nitrogen"),
    "tp": ("总磷", "total phosphorus"),
}

KIND_TITLES: dict[str, tuple[str, str]] = {
    "zone": ("分区规则", "Zone rules"),
    "lock": ("锁定", "Locks"),
    "equity": ("公平分配", "Equity"),
    "budget": ("预算", "Budgets"),
    "sequence": ("实施顺序与年度能力", "Order and pace of work"),
    "limit": ("负荷限值", "Load limits"),
    "target": ("保护目标", "Targets"),
}
"""Sections of the rules, in order, with their Chinese and English titles."""


@dataclass(frozen=True)
class Rule:
    """One implementation rule.

    Attributes:
        rule_id: Short id (``R1``, ``R2``, ...), in the order of :data:`KIND_TITLES`.
        kind: Section: zone, lock, equity, budget, sequence, limit or target.
        text_zh: The rule in Chinese.
        text_en: The rule in English.
        source: Where it comes from: model file key, scenario override or table cell.
        zone: Zone the rule holds in (zone rules), else None.
        subunits: Subunits it concerns (None: all).
        actions: Actions it concerns (None: all).
        agency: Agency it concerns (None: all).
        township: Township it concerns (None: all).
    """

    rule_id: str
    kind: str
    text_zh: str
    text_en: str
    source: str
    zone: str | None = None
    subunits: frozenset[str] | None = None
    actions: frozenset[str] | None = None
    agency: str | None = None
    township: str | None = None

    def applies(self, subunit: str, action: str, agency: str, township: str,
                zones: frozenset[str]) -> bool:
        """Whether the rule concerns one line of work (``zones``: the zones the subunit
        lies in)."""
        return ((self.zone is None or self.zone in zones)
                and (self.subunits is None or subunit in self.subunits)
                and (self.actions is None or action in self.actions)
                and (self.agency is None or self.agency == agency)
                and (self.township is None or self.township == township))


class _Names:
    """Chinese and English display names of the study's actions, points and species."""

    def __init__(self, study: Study) -> None:
        self.tables = {
            "action": study.actions.set_index("action_id"),
            "point": study.control_points.set_index("point_id"),
            "species": study.species.set_index("species"),
            "agency": study.agencies.set_index("agency_id"),
        }

    def pair(self, kind: str, key: str) -> tuple[str, str]:
        """(Chinese, English) name of one id (the id itself where no name is given)."""
        table = self.tables[kind]
        if key not in table.index:
            return key, key
        rec = table.loc[key]
        en = str(rec.get("name") or key)
        zh = str(rec.get("name_zh") or "") or en
        return zh, en

    def many(self, kind: str, keys: list[str]) -> tuple[str, str]:
        """Chinese and English lists of names."""
        pairs = [self.pair(kind, k) for k in keys]
        return "、".join(p[0] for p in pairs), ", ".join(p[1] for p in pairs)


def _source(run: RunFolder, component: str, path: str) -> str:
    """The model key ``components.<component>.<path>``, or the scenario override that set
    it (the most specific one)."""
    model = str(run.manifest.get("model_file") or "model").replace("\\", "/").split("/")[-1]
    key = f"components.{component}.{path}".rstrip(".")
    scenarios = run.config.get("scenarios") or {}
    for name in run.name.split("+"):
        overrides = (scenarios.get(name) or {}).get("overrides") or {}
        for over in overrides:
            if key == over or key.startswith(over + "."):
                return f"{model}, scenarios.{name}.overrides.{over}"
    for over in run.manifest.get("overrides") or []:
        text = str(over)
        if text.split("=")[0] == key or key.startswith(text.split("=")[0] + "."):
            return f"command line --set {text}"
    return f"{model}, {key}"


def _components(run: RunFolder, type_name: str) -> list[tuple[str, dict[str, Any]]]:
    """(name, parameters) of the run's components of one type."""
    specs = run.config.get("components") or {}
    return [(name, {k: v for k, v in spec.items() if k != "type"})
            for name, spec in specs.items()
            if isinstance(spec, dict) and spec.get("type") == type_name]


def _zone_rules(run: RunFolder, names: _Names) -> list[dict[str, Any]]:
    out = []
    for comp, params in _components(run, "zone_rules"):
        for zone in ZONES:
            rule = params.get(zone) or {}
            zh_zone, en_zone = ZONE_NAMES[zone]
            forbidden = list(rule.get("forbidden") or [])
            if forbidden:
                zh, en = names.many("action", forbidden)
                out.append(dict(kind="zone", zone=zone, actions=frozenset(forbidden),
                                text_zh=f"{zh_zone}内禁止：{zh}。",
                                text_en=f"Forbidden in the {en_zone}: {en}.",
                                source=_source(run, comp, f"{zone}.forbidden")))
            if rule.get("allowed") is not None:
                allowed = list(rule["allowed"])
                zh, en = names.many("action", allowed)
                out.append(dict(kind="zone", zone=zone, actions=None,
                                text_zh=f"{zh_zone}内只允许：{zh}。",
                                text_en=f"Only these actions are allowed in the {en_zone}: "
                                        f"{en}.",
                                source=_source(run, comp, f"{zone}.allowed")))
            for action, share in sorted((rule.get("required") or {}).items()):
                zh, en = names.pair("action", action)
                pct = f"{100 * float(share):g} %"
                out.append(dict(kind="zone", zone=zone, actions=frozenset([action]),
                                text_zh=f"{zh_zone}内必须实施{zh}，至少覆盖其可实施范围的{pct}。",
                                text_en=f"Required in the {en_zone}: {en} on at least {pct} "
                                        "of where it can be done.",
                                source=_source(run, comp, f"{zone}.required.{action}")))
    return out


def _lock_rules(run: RunFolder, names: _Names) -> list[dict[str, Any]]:
    out = []
    for comp, params in _components(run, "locks"):
        for subunit, what in sorted((params.get("locked_out") or {}).items()):
            acts = None if what == "all" else frozenset(what)
            zh, en = ("所有措施", "every action") if acts is None else \
                names.many("action", sorted(acts))
            out.append(dict(kind="lock", subunits=frozenset([subunit]), actions=acts,
                            text_zh=f"子流域 {subunit} 不得实施：{zh}。",
                            text_en=f"Not to be done in subunit {subunit}: {en}.",
                            source=_source(run, comp, f"locked_out.{subunit}")))
        for subunit, what in sorted((params.get("locked_in") or {}).items()):
            pairs = {"all": "all"} if what == "all" else dict(what)
            for action, amount in sorted(pairs.items()):
                acts = None if action == "all" else frozenset([action])
                zh, en = ("所有措施", "every action") if acts is None else \
                    names.pair("action", action)
                size_zh = "全部可实施范围" if amount == "all" else f"至少 {float(amount):g}"
                size_en = "in full" if amount == "all" else f"at least {float(amount):g} units"
                out.append(dict(kind="lock", subunits=frozenset([subunit]), actions=acts,
                                text_zh=f"子流域 {subunit} 必须实施{zh}（{size_zh}）。",
                                text_en=f"Committed in subunit {subunit}: {en}, {size_en}.",
                                source=_source(run, comp, f"locked_in.{subunit}")))
    return out


def _equity_rules(run: RunFolder) -> list[dict[str, Any]]:
    out = []
    for comp, params in _components(run, "equity"):
        lo, hi = float(params.get("min_share", 0.0)), float(params.get("max_share", 1.0))
        if lo > 0:
            out.append(dict(kind="equity", text_zh=f"每个乡镇至少获得总支出的{100 * lo:g} %。",
                            text_en=f"Every township receives at least {100 * lo:g} % of the "
                                    "total spend.", source=_source(run, comp, "min_share")))
        if hi < 1:
            out.append(dict(kind="equity", text_zh=f"任一乡镇不超过总支出的{100 * hi:g} %。",
                            text_en=f"No township receives more than {100 * hi:g} % of the "
                                    "total spend.", source=_source(run, comp, "max_share")))
        for town, bounds in sorted((params.get("townships") or {}).items()):
            for key, zh_word, en_word in (("min_share", "至少", "at least"),
                                          ("max_share", "至多", "at most")):
                if key in bounds:
                    pct = f"{100 * float(bounds[key]):g} %"
                    out.append(dict(kind="equity", township=town,
                                    text_zh=f"{town} 乡镇{zh_word}获得总支出的{pct}。",
                                    text_en=f"Township {town} receives {en_word} {pct} of the "
                                            "total spend.",
                                    source=_source(run, comp, f"townships.{town}.{key}")))
    return out


def _budget_rules(run: RunFolder, names: _Names) -> list[dict[str, Any]]:
    out = []
    currency = str((run.config.get("settings") or {}).get("currency") or "CNY")
    for comp, params in _components(run, "budget"):
        if params.get("total") is not None:
            total = float(params["total"])
            out.append(dict(kind="budget", text_zh=f"总预算不超过 {total:,.0f} {currency}。",
                            text_en=f"Total budget: at most {total:,.0f} {currency}.",
                            source=_source(run, comp, "total")))
        for agency, value in sorted((params.get("per_agency") or {}).items()):
            zh, en = names.pair("agency", agency)
            out.append(dict(kind="budget", agency=agency,
                            text_zh=f"{zh}预算不超过 {float(value):,.0f} {currency}。",
                            text_en=f"Budget of {en}: at most {float(value):,.0f} {currency}.",
                            source=_source(run, comp, f"per_agency.{agency}")))
        for town, value in sorted((params.get("per_township") or {}).items()):
            out.append(dict(kind="budget", township=town,
                            text_zh=f"{town} 乡镇预算不超过 {float(value):,.0f} {currency}。",
                            text_en=f"Budget of township {town}: at most {float(value):,.0f} "
                                    f"{currency}.",
                            source=_source(run, comp, f"per_township.{town}")))
    return out


def _limit_rules(run: RunFolder, study: Study, names: _Names) -> list[dict[str, Any]]:
    table = run.tables.get("control_points")
    if table is None or "limit" not in table.columns:
        return []
    upstream = _upstream(study)
    cps = study.control_points.set_index("point_id")
    limit_comps = _components(run, "load_limits")
    out = []
    for rec in table[table["limit"].notna()].itertuples(index=False):
        point, pol, limit = str(rec.point_id), str(rec.pollutant), float(rec.limit)
        zh_p, en_p = names.pair("point", point)
        zh_pol, en_pol = POLLUTANT_NAMES.get(pol, (pol, pol))
        unit = POLLUTANT_UNITS.get(pol, "")
        source = f"control_points.csv, column limit_{pol} ({point})"
        for comp, params in limit_comps:
            for field in ("reductions", "limits"):
                if pol in ((params.get(field) or {}).get(point) or {}):
                    source = _source(run, comp, f"{field}.{point}.{pol}")
        subunit = str(cps.loc[point, "subunit_id"]) if point in cps.index else None
        out.append(dict(kind="limit", subunits=upstream.get(subunit),
                        text_zh=f"{zh_p}的{zh_pol}负荷不超过 {limit:,.1f} {unit}。",
                        text_en=f"{en_pol.capitalize()} at {en_p}: at most {limit:,.1f} {unit}.",
                        source=source))
    return out


def _upstream(study: Study) -> dict[str, frozenset[str]]:
    """Each subunit with a control point -> the subunits draining to it (itself included)."""
    graph = study.graph
    out = {}
    for subunit in set(study.control_points["subunit_id"]):
        if subunit in graph:
            out[str(subunit)] = frozenset(map(str, nx.ancestors(graph, subunit))) | {subunit}
    return out


def _target_rules(run: RunFolder, study: Study, names: _Names) -> list[dict[str, Any]]:
    out = []
    species = run.tables.get("species")
    actions = study.actions
    if species is not None and "required_gain" in species.columns:
        for rec in species[species["required_gain"].notna()].itertuples(index=False):
            sp = str(rec.species)
            zh, en = names.pair("species", sp)
            acts = frozenset(actions.loc[actions["habitat_species"] == sp, "action_id"])
            source = next((_source(run, comp, f"species.{sp}")
                           for comp, params in _components(run, "habitat")
                           if sp in (params.get("species") or {})), "model")
            gain = float(rec.required_gain)
            out.append(dict(kind="target", actions=acts,
                            text_zh=f"{zh}栖息地（按质量加权）至少增加 {gain:,.1f} 公顷。",
                            text_en=f"{en} habitat (quality-weighted) gains at least "
                                    f"{gain:,.1f} ha.", source=source))
    for comp, params in _components(run, "carbon"):
        if params.get("minimum") is not None:
            low = float(params["minimum"])
            out.append(dict(kind="target", text_zh=f"碳储量至少增加 {low:,.1f} 吨碳。",
                            text_en=f"Carbon stock gains at least {low:,.1f} t C.",
                            source=_source(run, comp, "minimum")))
    return out


def implementation_rules(run: RunFolder, study: Study) -> list[Rule]:
    """Every implementation rule of a run, numbered R1, R2, ... section by section."""
    names = _Names(study)
    found = (_zone_rules(run, names) + _lock_rules(run, names) + _equity_rules(run)
             + _budget_rules(run, names) + year_rules(run, names, _source, _components)
             + _limit_rules(run, study, names)
             + _target_rules(run, study, names))
    order = list(KIND_TITLES)
    found.sort(key=lambda r: order.index(r["kind"]))
    return [Rule(rule_id=f"R{i}", **fields) for i, fields in enumerate(found, start=1)]


def subunit_zones(study: Study) -> dict[str, frozenset[str]]:
    """The national-park zones each subunit lies in (those with a positive share)."""
    subs = study.subunits
    shares = {z: subs[f"share_{z}"].to_numpy(float) for z in ZONES}
    return {str(s): frozenset(z for z in ZONES if shares[z][i] > 0)
            for i, s in enumerate(subs["subunit_id"])}


def rules_markdown(rules: list[Rule], title: str, run_label: str) -> str:
    """``rules.md``: the rules by section, each in Chinese then English, with its source."""
    lines = [f"# 实施规则 Implementation rules: {title}", "",
             f"运行 Run: `{run_label}`. 由模型自动生成 Generated from the model.", ""]
    if not rules:
        lines += ["本方案没有额外的实施规则。 The plan has no implementation rules beyond the "
                  "action catalogue.", ""]
    for kind, (zh, en) in KIND_TITLES.items():
        mine = [r for r in rules if r.kind == kind]
        if not mine:
            continue
        lines += [f"## {zh} {en}", ""]
        for rule in mine:
            lines.append(f"- **{rule.rule_id}** {rule.text_zh}  ")
            lines.append(f"  {rule.text_en}  ")
            lines.append(f"  来源 Source: `{rule.source}`")
        lines.append("")
    return "\n".join(lines)


def rules_frame(rules: list[Rule]) -> pd.DataFrame:
    """The rules as a table: id, section, Chinese, English, source."""
    return pd.DataFrame({
        "rule_id": [r.rule_id for r in rules],
        "section": [KIND_TITLES[r.kind][1] for r in rules],
        "section_zh": [KIND_TITLES[r.kind][0] for r in rules],
        "rule_zh": [r.text_zh for r in rules],
        "rule_en": [r.text_en for r in rules],
        "source": [r.source for r in rules],
    }, columns=["rule_id", "section", "section_zh", "rule_zh", "rule_en", "source"])
