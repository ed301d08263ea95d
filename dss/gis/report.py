"""``IMPORT_REPORT.md``: what an import read, computed and assumed, column by column.

A planner reads it to know which values come from their data and which are placeholders to
replace before the results mean anything.
"""

from __future__ import annotations

import pandas as pd

from dss.data.schema import TABLES
from dss.gis.basin import ImportedBasin

STATUS_ORDER = ("assumed", "computed", "read")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def import_report(basin: ImportedBasin, tables: dict[str, pd.DataFrame], folder: str) -> str:
    """The Markdown report of one import."""
    subunits = tables["subunits"]
    outlets = subunits.loc[subunits["downstream_id"].isna(), "subunit_id"].tolist()
    lines = [
        f"# Import report: {folder}",
        "",
        f"Source: {basin.source}.",
        "",
        f"- {len(subunits)} subunits, {subunits['area_ha'].sum():,.1f} ha in all;",
        f"- {len(outlets)} outlet{'s' if len(outlets) != 1 else ''}: "
        + ", ".join(map(str, outlets[:20])) + (" ..." if len(outlets) > 20 else "") + ";",
        f"- {len(tables['land_classes'])} land classes, {len(tables['land_cover'])} land-cover "
        "rows;",
        f"- {len(tables['control_points'])} control points"
        + (f", {len(tables['barriers'])} barriers" if "barriers" in tables else "") + ";",
        "- geometry: " + ("`subunits.gpkg`" if basin.geometry is not None else
                          "none (no polygons or lines given; maps and plan.gpkg need them)")
        + ".",
        "",
        "The study passed dss's own validation (`dss validate`). Columns marked **assumed** "
        "are placeholders: replace them with local data before relying on the results.",
        "",
    ]
    for status in STATUS_ORDER:
        rows = [(t, c, p.how) for (t, c), p in basin.provenance.items()
                if p.status == status and t in tables]
        rows.sort(key=lambda r: (list(TABLES).index(r[0]), TABLES[r[0]].names.index(r[1])
                                 if r[1] in TABLES[r[0]].names else 99))
        if not rows:
            continue
        grouped: dict[tuple[str, str], list[str]] = {}
        for table, column, how in rows:  # one line per table and method
            grouped.setdefault((table, how), []).append(column)
        lines += [f"## {status.capitalize()}", "", "| table | columns | how |",
                  "| --- | --- | --- |"]
        lines += [f"| {TABLES[t].file} | {', '.join(cols)} | {_cell(how)} |"
                  for (t, how), cols in grouped.items()]
        lines.append("")
    if basin.notes:
        lines += ["## Notes", ""] + [f"- {_cell(n)}" for n in basin.notes] + [""]
    return "\n".join(lines)
