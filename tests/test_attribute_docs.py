"""Field documentation read from attribute docstrings (dss.attribute_docs)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from dss.attribute_docs import attribute_docs, field_doc
from dss.config.model import Settings
from dss.optimize.components.base import get


class _Base(BaseModel):
    alpha: int = 1
    """First line.

        Indented second line."""

    beta: float = Field(2.0, description="explicit wins")
    """never shown"""


class _Child(_Base):
    gamma: str = "x"
    """Own field."""

    alpha: int = 3
    """Overridden."""


def test_docstrings_of_fields_and_bases() -> None:
    docs = attribute_docs(_Base)
    assert docs["alpha"] == "First line.\n\nIndented second line."
    assert docs["beta"] == "never shown"
    assert field_doc(_Child, "gamma") == "Own field."
    assert field_doc(_Child, "alpha") == "Overridden."
    assert field_doc(_Child, "beta") == "explicit wins"
    assert field_doc(_Child, "missing") == ""


def test_model_file_and_component_fields_are_documented() -> None:
    assert field_doc(Settings, "horizon_years") == (
        "Planning horizon: recurring (annual) costs are counted for this many years.")
    params = get("budget").Params
    assert all(field_doc(params, name) for name in params.model_fields)
