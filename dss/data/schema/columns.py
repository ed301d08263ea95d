"""The types of the input schema (:class:`Column`, :class:`Table`) and the vocabularies every
table shares (zones, pollutants and their units, what actions act on)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

DType = Literal["str", "float", "int", "bool"]

ZONES: tuple[str, ...] = ("core", "general", "outside")
"""National-park zones: core protection, general control, and outside the park."""

POLLUTANTS: tuple[str, ...] = ("sediment", "tn", "tp")
"""Routed pollutants: sediment (t/yr), total nitrogen (kg/yr), total phosphorus (kg/yr)."""

POLLUTANT_UNITS: dict[str, str] = {"sediment": "t/yr", "tn": "kg/yr", "tp": "kg/yr"}

ACTION_TARGETS: tuple[str, ...] = ("point_sources", "barriers", "hazard_sites", "stream")
"""Non-land things an action may apply to (besides a land-class id)."""


@dataclass(frozen=True, slots=True)
class Column:
    """One column of an input table.

    Attributes:
        name: Header name in the CSV.
        dtype: Cell type after parsing.
        unit: Physical unit, or "-" when dimensionless or categorical.
        description: What the column means, for users.
        required: Whether the header must be present (cells may still use ``default``).
        default: Value used for an absent optional column or an empty optional cell.
        minimum: Smallest allowed value (numbers only).
        maximum: Largest allowed value (numbers only).
        allowed: Allowed values (strings only).
        nullable: Whether an empty cell is allowed and kept as missing.
    """

    name: str
    dtype: DType
    unit: str
    description: str
    required: bool = False
    default: object = None
    minimum: float | None = None
    maximum: float | None = None
    allowed: tuple[str, ...] | None = None
    nullable: bool = False

    def rule(self) -> str:
        """Human-readable statement of what a valid cell looks like."""
        if self.allowed:
            text = "one of " + ", ".join(self.allowed)
        elif self.dtype == "bool":
            text = "true or false"
        elif self.dtype in ("float", "int"):
            kind = "an integer" if self.dtype == "int" else "a number"
            lo = "" if self.minimum is None else f" >= {self.minimum:g}"
            hi = "" if self.maximum is None else f" <= {self.maximum:g}"
            text = kind + (lo + ("," if lo and hi else "") + hi)
        else:
            text = "text"
        return text + (", or empty" if self.nullable else "")


@dataclass(frozen=True, slots=True)
class Table:
    """One input table (one CSV file in a study folder)."""

    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    required: bool = True
    provenance: str = field(default="")

    @property
    def file(self) -> str:
        """File name of this table inside a study folder."""
        return f"{self.name}.csv"

    def column(self, name: str) -> Column:
        """The column called ``name``."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        """Declared column names, in order."""
        return [c.name for c in self.columns]


def share(name: str, what: str, default: float | None = 0.0, required: bool = False) -> Column:
    """A float column holding a fraction (0 to 1)."""
    return Column(name, "float", "fraction", what, required, default, 0.0, 1.0)
