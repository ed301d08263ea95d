"""Documentation of the input tables, generated from :data:`dss.data.schema.TABLES`."""

from __future__ import annotations

from dss.data.schema import TABLES
from dss.errors import InputError, Issue


def describe_tables(only: str | None = None) -> str:
    """Plain-text documentation of every (or one) input table."""
    if only is not None and only not in TABLES:
        raise InputError([Issue("dss inputs", f"unknown table {only!r} (known: "
                                              f"{', '.join(TABLES)})")], "unknown table")
    lines = []
    for table in TABLES.values():
        if only is not None and table.name != only:
            continue
        status = "required" if table.required else "optional"
        lines += [f"{table.file} ({status}): {table.description}",
                  f"  key: {', '.join(table.key)}"]
        width = max(len(c.name) for c in table.columns)
        for col in table.columns:
            need = "required" if col.required else (
                "empty allowed" if col.nullable else f"default {col.default!r}")
            lines.append(f"  {col.name:<{width}}  {col.dtype:<5}  {col.unit:<18}  {need:<18}"
                         f"  {col.description} [{col.rule()}]")
        lines.append("")
    return "\n".join(lines)
