"""Agency mandates: which benefits each agency is charged with (``agencies.csv``).

A mandate is a ``;``-separated list of items ``benefit[:scope]``:

- ``habitat`` (every species) or ``habitat:<species>``;
- ``carbon``;
- ``sediment``, ``tn`` or ``tp`` at every control point, or narrowed to a control-point kind
  (``sediment:reservoir``) or one control point (``tn:muping_intake``).

:func:`check_agencies` reports every malformed item and every action whose agency is not in
the table, located by file, row and column.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dss.data.schema import MANDATE_BENEFITS, POLLUTANTS, TABLES
from dss.errors import Issue, did_you_mean

POINT_KINDS: tuple[str, ...] = TABLES["control_points"].column("kind").allowed or ()


@dataclass(frozen=True, slots=True)
class MandateItem:
    """One benefit an agency is charged with.

    Attributes:
        benefit: ``habitat``, ``carbon``, ``sediment``, ``tn`` or ``tp``.
        scope: Species (habitat), control-point kind or id (pollutants), or "" for all.
    """

    benefit: str
    scope: str = ""

    def __str__(self) -> str:
        return f"{self.benefit}:{self.scope}" if self.scope else self.benefit


def parse_mandate(text: object) -> list[MandateItem]:
    """The items of one mandate cell (empty or missing: none); no validation."""
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return []
    items = []
    for part in str(text).split(";"):
        part = part.strip()
        if part:
            benefit, _, scope = part.partition(":")
            items.append(MandateItem(benefit.strip(), scope.strip()))
    return items


def covers(items: list[MandateItem], benefit: str, scope_ids: tuple[str, ...]) -> bool:
    """Whether a mandate covers one benefit term.

    Args:
        items: The parsed mandate.
        benefit: ``habitat``, ``carbon``, ``sediment``, ``tn`` or ``tp``.
        scope_ids: What the term is about: the species id for habitat; the control-point id
            and kind for a pollutant; nothing for carbon.
    """
    return any(i.benefit == benefit and (not i.scope or i.scope in scope_ids) for i in items)


def _item_problem(item: MandateItem, species: set[str], points: set[str]) -> str | None:
    """What is wrong with one mandate item, or None."""
    if item.benefit not in MANDATE_BENEFITS:
        hint = did_you_mean(item.benefit, MANDATE_BENEFITS, quote=True)
        return (f"unknown benefit {item.benefit!r} in the mandate (use "
                f"{', '.join(MANDATE_BENEFITS)}" + (f"; {hint})" if hint else ")"))
    if not item.scope:
        return None
    if item.benefit == "carbon":
        return f"carbon takes no scope (got {str(item)!r}; write carbon)"
    if item.benefit == "habitat" and item.scope not in species:
        hint = did_you_mean(item.scope, species, quote=True)
        return (f"unknown species {item.scope!r} in {str(item)!r} (not in species.csv"
                + (f"; {hint})" if hint else ")"))
    if item.benefit in POLLUTANTS and item.scope not in points | set(POINT_KINDS):
        hint = did_you_mean(item.scope, points | set(POINT_KINDS), quote=True)
        return (f"{item.scope!r} in {str(item)!r} is neither a control point nor a kind of "
                f"point ({', '.join(POINT_KINDS)})" + (f"; {hint}" if hint else ""))
    return None


def check_agencies(frames: dict[str, pd.DataFrame | None], issues: list[Issue],
                   row_numbers: Callable[[str], np.ndarray], cap: int = 20) -> None:
    """Check ``agencies.csv`` against the other tables (nothing to do when it is absent).

    Every action's agency must be listed, and every mandate item must name a known benefit
    and a known species, control point or kind of point.
    """
    agencies, actions = frames.get("agencies"), frames.get("actions")
    if agencies is None or agencies.empty:
        return
    species_frame, points_frame = frames.get("species"), frames.get("control_points")
    species = set() if species_frame is None else set(species_frame["species"].dropna())
    points = set() if points_frame is None else set(points_frame["point_id"].dropna())
    rows = row_numbers("agencies")
    found = 0
    for pos, text in enumerate(agencies["mandate"].tolist()):
        for item in parse_mandate(text):
            problem = _item_problem(item, species, points)
            if problem and found < cap:
                issues.append(Issue("agencies.csv", problem, int(rows[pos]), "mandate"))
                found += 1
    if actions is None:
        return
    known = set(agencies["agency_id"].dropna())
    unknown = ~actions["agency"].isin(known).to_numpy() & actions["agency"].notna().to_numpy()
    action_rows = row_numbers("actions")
    for pos in np.flatnonzero(unknown)[:cap]:
        name = actions["agency"].iat[pos]
        hint = did_you_mean(name, known, quote=True)
        issues.append(Issue("actions.csv", f"unknown agency {name!r} (not in agencies.csv; "
                                           + (f"{hint}; " if hint else "")
                                           + "add it there or correct the action)",
                            int(action_rows[pos]), "agency"))
