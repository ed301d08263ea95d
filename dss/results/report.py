"""Human-readable Markdown reports and console summaries built from result tables."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from dss.data.study import Study


def fmt(value: object, digits: int = 3) -> str:
    """Format a number for people: thousands separators, few significant digits."""
    if isinstance(value, str):
        return value
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    if pd.isna(x):
        return "-"
    if x != 0 and abs(x) < 0.01:
        return f"{x:.{digits}g}"
    if abs(x) >= 100 or float(x).is_integer():
        return f"{x:,.0f}"
    return f"{x:,.2f}"


def markdown_table(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> str:
    """A GitHub-flavoured Markdown table (no extra dependency)."""
    columns = list(columns or frame.columns)
    lines = ["| " + " | ".join(columns) + " |",
             "|" + "|".join("---" for _ in columns) + "|"]
    for rec in frame[columns].itertuples(index=False):
        lines.append("| " + " | ".join(fmt(v) for v in rec) + " |")
    return "\n".join(lines)


BASIN_LABELS = {
    "area": "Area", "forest_cover": "Forest cover", "residents": "Residents",
    "hazard_sites": "Geohazard sites", "hydropower_stations": "Hydropower stations",
    "hydropower_exited": "  of which exited", "gross_erosion_rate": "Gross erosion rate",
    "sediment_outlet": "Sediment leaving the basin", "tn_outlet": "TN leaving the basin",
    "tp_outlet": "TP leaving the basin", "carbon_stock": "Carbon stock",
}


def baseline_summary(basin: pd.DataFrame) -> pd.DataFrame:
    """The rows of the basin table shown on the console and at the top of the report."""
    wanted = [m for m in BASIN_LABELS if m in set(basin["metric"])]
    wanted += [m for m in basin["metric"] if m.startswith("individuals_")]
    rows = basin.set_index("metric").loc[wanted].reset_index()
    rows["label"] = [BASIN_LABELS.get(m, m.replace("individuals_", "Individuals: "))
                     for m in rows["metric"]]
    # a species without survey counts (individuals 0 or empty everywhere) is not "0 animals"
    unsurveyed = rows["metric"].str.startswith("individuals_") & (
        pd.to_numeric(rows["value"], errors="coerce").fillna(0) == 0)
    rows["value"] = rows["value"].astype(object).where(~unsurveyed, "no survey count")
    rows["unit"] = rows["unit"].where(~unsurveyed, "(species_habitat.csv individuals)")
    return rows[["label", "value", "unit", "metric"]]


def baseline_report(study: Study, tables: dict[str, pd.DataFrame], title: str = "") -> str:
    """The baseline report a planner can take to a meeting."""
    basin = tables["basin"]
    cps = tables["control_points"]
    contrib = tables["contributions"]
    sub = tables["subunits"]
    names = study.subunits.set_index("subunit_id")
    label = names["name"] + names["name_zh"].map(lambda z: f" ({z})" if z else "")
    out = [f"# Baseline: {title or study.name}", "",
           "Indicators of the current state, computed by `dss baseline` from the study's input "
           "tables. Units are in each table; loads are per year.", "",
           "## Basin totals", "", markdown_table(baseline_summary(basin), ["label", "value",
                                                                          "unit"]), ""]
    zones = basin[basin["metric"].str.startswith("area_")]
    if len(zones):
        out += ["## National-park zones", "", markdown_table(zones, ["metric", "value", "unit"]),
                ""]
    if len(cps):
        out += ["## Loads at control points", "",
                markdown_table(cps, ["point_id", "name", "pollutant", "load", "unit", "limit"]),
                ""]
        sed = contrib[contrib["pollutant"] == "sediment"]
        for point, part in sed.groupby("point_id", sort=False):
            top = part.nlargest(5, "contribution").copy()
            top["subunit"] = top["source_subunit"].map(label)
            top["share %"] = 100 * top["share"]
            out += [f"### Largest sediment sources reaching `{point}`", "",
                    markdown_table(top, ["source_subunit", "subunit", "local_load", "transfer",
                                         "contribution", "share %"]), ""]
    sed_local = sub[sub["metric"] == "sediment_local"].nlargest(8, "value").copy()
    area = sub[sub["metric"] == "area"].set_index("subunit_id")["value"]
    sed_local["t/(km2 yr)"] = sed_local["value"] / (sed_local["subunit_id"].map(area) / 100)
    sed_local["subunit"] = sed_local["subunit_id"].map(label)
    out += ["## Subunits delivering the most sediment", "",
            markdown_table(sed_local, ["subunit_id", "subunit", "zone", "value",
                                       "t/(km2 yr)"]), ""]
    hab = tables["habitat"]
    if len(hab):
        h = hab[hab["metric"] == "habitat"].pivot_table(index="species", columns="zone",
                                                        values="value", aggfunc="sum",
                                                        fill_value=0.0).reset_index()
        out += ["## Habitat by national-park zone (ha)", "", markdown_table(h), ""]
    out += ["## Files", "",
            "- `basin.csv`: basin totals", "- `subunits.csv`: indicators per subunit",
            "- `erosion_by_land_class.csv`: erosion and exports per subunit and land class",
            "- `habitat.csv`: habitat per species and subunit",
            "- `control_points.csv`: routed loads at control points",
            "- `contributions.csv`: each upstream subunit's contribution to each point",
            "- `point_sources.csv`: sewage loads", "- `manifest.yaml`: versions, input hashes",
            ""]
    return "\n".join(out)


def solve_report(title: str, scenario: str, tables: dict[str, pd.DataFrame],
                 description: str = "") -> str:
    """The plan report a planner can take to a meeting: what to do where, and why."""
    summary = tables["summary"].set_index("metric")

    def val(metric: str) -> object:
        return summary.loc[metric, "value"] if metric in summary.index else None

    out = [f"# Plan: {title}, scenario `{scenario}`", ""]
    if description:
        out += [description.strip(), ""]
    out += [f"Solver status: **{val('status')}** (gap {fmt(val('gap'))}). "
            f"Spend {fmt(val('spend'))} CNY of a budget of {fmt(val('budget'))} CNY; "
            f"objective {fmt(val('objective'))} ({val('objective_sense')}).", ""]
    benefits = tables["summary"][tables["summary"]["metric"].str.startswith("benefit ")]
    if len(benefits):
        b = benefits.copy()
        b["benefit"] = b["metric"].str.removeprefix("benefit ")
        b = b[b["value"].astype(float).abs() > 0]
        out += ["## Where the value comes from", "", markdown_table(b, ["benefit", "value",
                                                                        "unit"]), ""]
    marginals = tables["summary"][tables["summary"]["metric"].str.startswith("marginal ")]
    if len(marginals):
        out += ["## Marginal values", "",
                "What one more unit of each binding requirement is worth to the objective "
                "(for a MIP, with the integer decisions fixed at the plan).", "",
                markdown_table(marginals, ["metric", "value"]), ""]
    if "allocation" in tables and len(tables["allocation"]):
        alloc = tables["allocation"].copy()
        out += ["## Allocation, largest spend first", "",
                "`benefit/CNY` is the valued benefit each yuan buys; the optimizer funds the "
                "best ratios first, within land, zone and equity rules.", "",
                markdown_table(alloc.head(25).rename(columns={"benefit_per_cny": "benefit/CNY"}),
                               ["subunit_id", "subunit", "action", "amount", "unit", "cost_cny",
                                "benefit/CNY", "zone", "agency"]), ""]
        by = alloc.groupby("agency")["cost_cny"].sum().reset_index()
        out += ["## Spend by agency", "", markdown_table(by), ""]
        by = alloc.groupby("township")["cost_cny"].sum().reset_index()
        out += ["## Spend by township", "", markdown_table(by), ""]
    if "control_points" in tables:
        out += ["## Loads at control points", "",
                markdown_table(tables["control_points"], ["point_id", "pollutant", "before",
                                                          "after", "reduction_pct", "limit",
                                                          "unit"]), ""]
    if "species" in tables:
        out += ["## Habitat", "", markdown_table(tables["species"], [
            "species", "before", "gain", "after", "required_gain", "unit"]), ""]
    if "scenario_benefit" in tables:
        out += ["## Benefit in each scenario of the uncertain inputs", "",
                markdown_table(tables["scenario_benefit"]), ""]
    if "stochastic_value" in tables:
        out += ["## Value of the stochastic solution and of perfect information", "",
                markdown_table(tables["stochastic_value"]), ""]
    if "scenario_limits" in tables:
        out += ["## Limits in each scenario", "", markdown_table(tables["scenario_limits"]),
                ""]
    if "livelihoods" in tables:
        wide = tables["livelihoods"].pivot(index="township", columns="metric",
                                           values="value").reset_index()
        out += ["## Livelihoods per township", "",
                "Over the planning horizon, in currency (job-years for jobs); the last column "
                "is the net income change per resident and year.", "",
                markdown_table(wide, ["township", "income_lost", "compensation", "wages",
                                      "tourism", "net", "job_years", "residents",
                                      "net_per_resident_year"]), ""]
    if "shortfalls" in tables:
        short = tables["shortfalls"]
        kind = short["kind"] if "kind" in short else pd.Series("requirement", short.index)
        reqs = short[kind == "requirement"]
        if "in_conflict" in reqs:
            reqs = reqs.assign(in_conflict=["yes" if v in (True, "True") else ""
                                            for v in reqs["in_conflict"]])
        columns = ["requirement", "target", "shortfall", "unit"]
        out += ["## Requirements that cannot be met", "",
                "Least relaxation of each requirement that makes the plan feasible "
                "(elastic re-solve, other constraints kept); `in_conflict` marks the "
                "smallest set of requirements found that cannot hold together.", "",
                markdown_table(reqs, columns + (["in_conflict"] if "in_conflict" in reqs
                                                else [])), ""]
        for note in short.loc[kind == "budget", "note"] if "note" in short else []:
            out += [f"**Budget**: {note}.", ""]
    return "\n".join(out)
