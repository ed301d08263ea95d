"""The report's words in Chinese and English, and display names of a study's ids by language.

Every fixed text of the report is a key of :data:`TEXTS` with its Chinese and English
versions; names of subunits, actions, agencies, townships, control points and species come
from the study's tables (``name`` / ``name_zh``), falling back to the English name and then
to the id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

LANGS: tuple[str, ...] = ("zh", "en")
"""Report languages: Chinese (default) and English."""

TEXTS: dict[str, tuple[str, str]] = {  # key: (Chinese, English)
    "plan": ("方案报告", "Plan report"),
    "comparison": ("情景比较", "Scenario comparison"),
    "scenario": ("情景", "Scenario"),
    "question": ("问题与答案", "The question and the answer"),
    "key_figures": ("关键数字", "Key figures"),
    "map": ("河网示意图", "River network schematic"),
    "map_note": ("各子流域按投入着色，出口在下方；标记为控制断面。",
                 "Subunits coloured by spend, outlet at the bottom; markers are control "
                 "points."),
    "map_too_big": ("子流域过多（{n}个），不绘制示意图。",
                    "Too many subunits ({n}) to draw the schematic."),
    "spend": ("投入", "Spend"),
    "spend_by": ("投入分布", "Where the money goes"),
    "by_agency": ("按部门", "By agency"), "by_township": ("按乡镇", "By township"),
    "by_zone": ("按国家公园分区", "By national-park zone"),
    "by_action": ("按措施", "By action"), "by_year": ("按年度", "By year"),
    "year_note": ("一次性费用计入第1年，年度费用计入每一年（共{h}年）。",
                  "One-off costs fall in year 1, annual costs in every year ({h} years)."),
    "loads": ("控制断面负荷与限值", "Loads at control points against their limits"),
    "habitat": ("栖息地与目标", "Habitat against targets"),
    "work_plan": ("工作计划", "Work plan"),
    "work_plan_note": ("按投入从大到小排列。", "Largest spend first."),
    "infeasible": ("无可行方案：原因", "No feasible plan: why"),
    "infeasible_note": ("每项要求须放宽的最小量（弹性求解）；"
                        "“冲突”标出无法同时满足的最小要求组合。",
                        "Least relaxation of each requirement that makes a plan possible "
                        "(elastic re-solve); “in conflict” marks the smallest set of "
                        "requirements that cannot hold together."),
    "provenance": ("数据来源与可追溯性", "Provenance"),
    "more_rows": ("另有{n}行，见{file}。", "{n} more rows in {file}."),
    "none": ("无", "none"),
    "yes": ("是", "yes"), "no": ("否", "no"),
    "within": ("达标", "within limit"), "above": ("超限", "above limit"),
    "no_limit": ("无限值", "no limit"),
    "met": ("已达到", "met"), "not_met": ("未达到", "not met"),
    "no_target": ("无目标", "no target"),
    # column headers
    "subunit": ("子流域", "Subunit"), "action": ("措施", "Action"),
    "agency": ("部门", "Agency"), "township": ("乡镇", "Township"), "zone": ("分区", "Zone"),
    "year": ("年", "Year"), "amount": ("数量", "Amount"), "unit": ("单位", "Unit"),
    "cost": ("费用（元）", "Cost (CNY)"), "share": ("占比", "Share"),
    "point": ("控制断面", "Control point"), "pollutant": ("污染物", "Pollutant"),
    "before": ("现状", "Before"), "after": ("实施后", "After"),
    "reduction_pct": ("削减 %", "Reduction %"), "limit": ("限值", "Limit"),
    "status": ("状态", "Status"), "species": ("物种", "Species"),
    "gain": ("增加", "Gain"), "target": ("目标增加", "Required gain"),
    "requirement": ("要求", "Requirement"), "shortfall": ("缺口", "Shortfall"),
    "in_conflict": ("冲突", "In conflict"), "benefit_per_cny": ("每元效益", "Benefit per CNY"),
    "item": ("项目", "Item"), "value": ("数值", "Value"), "metric": ("指标", "Metric"),
    "file": ("文件", "File"), "sha256": ("SHA-256", "SHA-256"),
    "package": ("软件包", "Package"), "version": ("版本", "Version"),
    "baseline_scn": ("基准情景", "Baseline scenario"),
    "delta": ("与基准之差", "Difference from baseline"),
    "description": ("说明", "Description"),
    # key figures
    "k_spend": ("投入", "Spend"), "k_budget": ("预算", "Budget"),
    "k_objective": ("目标值（{h}年效益）", "Objective ({h}-year benefit)"),
    "k_objective_cost": ("目标值（最低费用）", "Objective (least cost)"),
    "k_actions": ("实施的措施", "Actions funded"),
    "k_sediment": ("{point}泥沙削减", "Sediment kept out of {point}"),
    "k_habitat": ("栖息地增加", "Habitat gained"), "k_carbon": ("碳汇效益", "Carbon benefit"),
    "k_status": ("求解状态", "Solver status"),
    "million_cny": ("万元", "million CNY"),
    "n_actions": ("{n}项措施，{m}个子流域", "{n} actions in {m} subunits"),
    # provenance rows
    "p_status": ("求解状态", "Solver status"), "p_gap": ("最优性差距", "Optimality gap"),
    "p_termination": ("终止条件", "Termination"), "p_created": ("生成时间", "Created"),
    "p_command": ("命令", "Command"), "p_model": ("模型文件", "Model file"),
    "p_inputs": ("输入数据", "Input tables"), "p_folder": ("结果文件夹", "Run folder"),
    "p_versions": ("软件版本", "Software versions"),
    "p_hashes": ("输入文件哈希", "Input file hashes"),
    "generated": ("由 dss report 生成", "Written by dss report"),
    # compare
    "scenarios": ("情景", "Scenarios"),
    "cmp_summary": ("主要指标对比", "Main figures side by side"),
    "cmp_spend": ("各情景投入分布", "Spend by scenario"),
    "cmp_loads": ("各情景控制断面负荷", "Loads at control points by scenario"),
    "cmp_habitat": ("各情景栖息地", "Habitat by scenario"),
    "cmp_actions": ("各情景措施投入", "Spend by action and scenario"),
    "objective": ("目标值", "Objective"), "budget": ("预算", "Budget"),
    # park design
    "park_plan": ("国家公园分区方案", "Park design"),
    "park_map_note": ("各单元按方案分区着色，出口在下方。",
                      "Units coloured by their proposed zone, outlet at the bottom."),
    "zoning": ("分区方案", "Proposed zoning"),
    "zoning_note": ("调整分区的单元在前；“现状”为各单元面积占比最大的现有分区。",
                    "Changed units first; “current” is the zone holding most of each unit "
                    "today."),
    "zone_comparison": ("与现状分区对比", "Against the current zoning"),
    "targets": ("保护目标", "Conservation targets"),
    "current": ("现状", "Current"), "proposed": ("方案", "Proposed"),
    "change": ("变化", "Change"), "changed": ("调整", "Changed"),
    "population": ("人口", "Population"), "opportunity_cost": ("机会成本", "Opportunity cost"),
    "k_units": ("{zone}（单元）", "{zone} (units)"), "k_targets": ("达到的目标", "Targets met"),
    "k_boundary": ("公园边界长度", "Park boundary"), "held": ("实现", "Held"),
    "target_amount": ("目标量", "Target"), "zones": ("分区", "Zones"),
    "units": ("单元", "units"),
    "gap": ("最优性差距", "Gap"),
}

ZONE_NAMES: dict[str, tuple[str, str]] = {
    "core": ("核心保护区", "Core protection zone"),
    "general": ("一般控制区", "General control zone"),
    "outside": ("国家公园外", "Outside the park")}

POLLUTANT_NAMES: dict[str, tuple[str, str]] = {
    "sediment": ("泥沙", "Sediment"), "tn": ("总氮", "Total nitrogen"),
    "tp": ("总磷", "Total phosphorus")}

STATUS_NAMES: dict[str, tuple[str, str]] = {
    "optimal": ("最优", "optimal"), "infeasible": ("不可行", "infeasible"),
    "unbounded": ("无界", "unbounded"), "time_limit": ("达到时间上限", "time limit"),
    "feasible": ("可行（未证明最优）", "feasible, not proven optimal"),
    "error": ("求解器错误", "solver error")}

TABLE_NAMES: dict[str, tuple[str, str, str]] = {
    # kind of id -> (table, id column, label of the id column)
    "subunit": ("subunits", "subunit_id", "subunit"),
    "action": ("actions", "action_id", "action"),
    "agency": ("agencies", "agency_id", "agency"),
    "township": ("townships", "township", "township"),
    "point": ("control_points", "point_id", "point"),
    "species": ("species", "species", "species"),
}


def check_lang(lang: str) -> str:
    """The language code, lower-cased; raises ValueError for an unknown one."""
    code = lang.strip().lower()
    if code not in LANGS:
        raise ValueError(f"unknown language {lang!r} (choose {' or '.join(LANGS)})")
    return code


@dataclass
class Words:
    """Fixed texts and display names in one language.

    Attributes:
        lang: ``zh`` or ``en``.
        names: For each kind of id (subunit, action, agency, township, point, species), id ->
            (English name, Chinese name).
    """

    lang: str
    names: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)

    def __call__(self, key: str, **values: Any) -> str:
        """The text of ``key`` in this language, with ``{placeholders}`` filled."""
        zh, en = TEXTS[key]
        text = zh if self.lang == "zh" else en
        return text.format(**values) if values else text

    def pick(self, en: str, zh: str) -> str:
        """The Chinese text in Chinese (when there is one), else the English one."""
        return (zh or en) if self.lang == "zh" else (en or zh)

    def name(self, kind: str, ident: Any) -> str:
        """Display name of an id (a subunit keeps its id in front: ``E5 永富河段``)."""
        ident = "" if ident is None or (isinstance(ident, float) and pd.isna(ident)) \
            else str(ident)
        if kind == "zone" and ident in ZONE_NAMES:
            return self.pick(ZONE_NAMES[ident][1], ZONE_NAMES[ident][0])
        if kind == "pollutant" and ident in POLLUTANT_NAMES:
            return self.pick(POLLUTANT_NAMES[ident][1], POLLUTANT_NAMES[ident][0])
        if kind == "status" and ident in STATUS_NAMES:
            return self.pick(STATUS_NAMES[ident][1], STATUS_NAMES[ident][0])
        en, zh = self.names.get(kind, {}).get(ident, ("", ""))
        shown = self.pick(en, zh)
        if kind == "subunit":
            return f"{ident} {shown}".strip() if shown and shown != ident else ident
        return shown or ident


def study_names(study: Any) -> dict[str, dict[str, tuple[str, str]]]:
    """(English, Chinese) names by kind and id from a study's tables (those it has)."""
    out: dict[str, dict[str, tuple[str, str]]] = {}
    for kind, (table, key, _label) in TABLE_NAMES.items():
        frame = getattr(study, table, None)
        if not isinstance(frame, pd.DataFrame) or frame.empty or key not in frame:
            continue
        en = frame["name"].fillna("").astype(str) if "name" in frame else \
            pd.Series("", index=frame.index)
        zh = frame["name_zh"].fillna("").astype(str) if "name_zh" in frame else \
            pd.Series("", index=frame.index)
        out[kind] = dict(zip(frame[key].astype(str), zip(en, zh, strict=True), strict=True))
    return out


def words(lang: str, names: Mapping[str, dict[str, tuple[str, str]]] | None = None) -> Words:
    """The :class:`Words` of a language, with a study's names."""
    return Words(check_lang(lang), dict(names or {}))
