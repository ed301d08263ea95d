"""Implementation rules of planning years: budgets per year and carry-over, precedence and
yearly capacities, in plain Chinese and English (see :mod:`dss.results.rules`)."""

from __future__ import annotations

from typing import Any


def year_rules(run: Any, names: Any, source: Any, components: Any) -> list[dict[str, Any]]:
    """Rules of a run's budgets per year, precedence and yearly capacity components.

    Args:
        run: The run folder (:class:`dss.results.folders.RunFolder`).
        names: Display names of the study's ids (``names.pair(kind, id)``).
        source: ``source(run, component, path)``: where a parameter comes from.
        components: ``components(run, type_name)``: (name, parameters) of a type.
    """
    currency = str((run.config.get("settings") or {}).get("currency") or "CNY")
    out: list[dict[str, Any]] = []
    for comp, params in components(run, "budget"):
        for year, value in sorted((params.get("per_year") or {}).items()):
            out.append(dict(kind="budget", text_zh=f"{year} 年支出不超过 {float(value):,.0f} "
                                                   f"{currency}。",
                            text_en=f"Spend in {year}: at most {float(value):,.0f} {currency}.",
                            source=source(run, comp, f"per_year.{year}")))
        for agency, by_year in sorted((params.get("per_agency_year") or {}).items()):
            zh, en = names.pair("agency", agency)
            years = "、".join(f"{y} 年 {float(v):,.0f}" for y, v in sorted(by_year.items()))
            years_en = ", ".join(f"{y}: {float(v):,.0f}" for y, v in sorted(by_year.items()))
            out.append(dict(kind="budget", agency=agency,
                            text_zh=f"{zh}年度预算（{currency}）：{years}。",
                            text_en=f"Yearly budget of {en} ({currency}): {years_en}.",
                            source=source(run, comp, f"per_agency_year.{agency}")))
        for town, by_year in sorted((params.get("per_township_year") or {}).items()):
            years = "、".join(f"{y} 年 {float(v):,.0f}" for y, v in sorted(by_year.items()))
            years_en = ", ".join(f"{y}: {float(v):,.0f}" for y, v in sorted(by_year.items()))
            out.append(dict(kind="budget", township=town,
                            text_zh=f"{town} 乡镇年度预算（{currency}）：{years}。",
                            text_en=f"Yearly budget of township {town} ({currency}): "
                                    f"{years_en}.",
                            source=source(run, comp, f"per_township_year.{town}")))
        if params.get("carry_over"):
            out.append(dict(kind="budget", text_zh="当年未用完的预算可结转至以后年度使用。",
                            text_en="Money a year leaves unspent may be spent in later years.",
                            source=source(run, comp, "carry_over")))
    for comp, params in components(run, "precedence"):
        for n, rule in enumerate(params.get("rules") or []):
            a_zh, a_en = names.pair("action", rule["action"])
            b_zh, b_en = names.pair("action", rule["requires"])
            lag = int(rule.get("lag_years", 1))
            when_zh = "同年或之前" if lag == 0 else f"至少提前 {lag} 年"
            when_en = "in the same year or before" if lag == 0 else \
                f"at least {lag} year{'s' if lag > 1 else ''} before"
            out.append(dict(kind="sequence", actions=frozenset({rule["action"],
                                                                 rule["requires"]}),
                            text_zh=f"在同一小流域内，{a_zh}的实施比例不得超过{when_zh}已实施的"
                                    f"{b_zh}的比例。",
                            text_en=f"In a subunit, {a_en} may cover no larger share than "
                                    f"{b_en} covered {when_en}.",
                            source=source(run, comp, f"rules.{n}")))
    for comp, params in components(run, "yearly_capacity"):
        for action, value in sorted((params.get("per_action") or {}).items()):
            zh, en = names.pair("action", action)
            out.append(dict(kind="sequence", actions=frozenset({action}),
                            text_zh=f"{zh}每年新实施不超过 {float(value):,.1f}。",
                            text_en=f"At most {float(value):,.1f} of {en} started a year.",
                            source=source(run, comp, f"per_action.{action}")))
        for action, by_town in sorted((params.get("per_action_township") or {}).items()):
            zh, en = names.pair("action", action)
            for town, value in sorted(by_town.items()):
                out.append(dict(kind="sequence", actions=frozenset({action}), township=town,
                                text_zh=f"{town} 乡镇{zh}每年新实施不超过 {float(value):,.1f}。",
                                text_en=f"At most {float(value):,.1f} of {en} started a year "
                                        f"in township {town}.",
                                source=source(run, comp,
                                              f"per_action_township.{action}.{town}")))
    return out
