"""Reading zone-specific feature amounts and costs with NA values (prioritizr's data forms).

- A long amounts table with a ``zone`` column (``feature, unit, zone, amount``) gives the
  full unit x feature x zone amount table :math:`a_{fiz}`: the amount of feature :math:`f`
  that unit :math:`i` holds when allocated to zone :math:`z` (prioritizr's ``zones()``
  feature data), instead of one amount per unit times a zone contribution. Amounts may be
  negative (a feature that a unit harms, such as a threat).
- A missing cost (an empty cell, ``NA``, or NaN in an array) means the unit cannot be
  allocated to that zone (prioritizr's NA cost): :math:`x_{iz} = 0`. Relative targets are
  still shares of the feature's total over every unit, these included.

Neither imports :mod:`dss.planning.problem`; it calls them while building its data.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dss.errors import Issue, did_you_mean


def _text(value: Any) -> str:
    if isinstance(value, (float, np.floating)) and np.isfinite(value) and value == int(value):
        return str(int(value))
    return str(value)


def cost_column(series: pd.Series, file: str, column: str, issues: list[Issue]) -> np.ndarray:
    """A cost column: numbers, or missing (NaN: not available in the zone). Text that is
    not a number and infinite values are errors, located by row."""
    values = pd.to_numeric(series, errors="coerce").to_numpy(float)
    missing = series.isna().to_numpy()
    bad = (np.isnan(values) & ~missing) | np.isinf(values)
    for pos in np.flatnonzero(bad)[:10]:
        issues.append(Issue(file, f"not a number: {series.iloc[pos]!r} (a finite number, or "
                                  "empty where the unit cannot be allocated to the zone)",
                            int(pos) + 2, column))
    low = np.isfinite(values) & (values < 0)
    for pos in np.flatnonzero(low)[:10]:
        issues.append(Issue(file, f"{values[pos]:g} is below 0 (a number >= 0)", int(pos) + 2,
                            column))
    return np.where(bad, 0.0, values)


def zone_amount_table(amounts: pd.DataFrame, f_index: dict[str, int], u_index: dict[str, int],
                      zones: tuple[str, ...], file: str, issues: list[Issue]) -> np.ndarray:
    """The array :math:`a_{fiz}`, shape (features, units, zones), from a long table
    ``feature, unit, zone, amount``; every unknown name, non-number and repeated triple is
    reported with its row."""
    out = np.zeros((len(f_index), len(u_index), len(zones)))
    z_index = {z: k for k, z in enumerate(zones)}
    columns = {"feature": (f_index, "feature"), "unit": (u_index, "planning unit"),
               "zone": (z_index, "zone")}
    positions = {}
    for column, (known, kind) in columns.items():
        names = amounts[column].map(_text)
        pos = names.map(known)
        for row in np.flatnonzero(pos.isna().to_numpy())[:10]:
            hint = did_you_mean(names.iloc[row], known, quote=True)
            issues.append(Issue(file, f"unknown {kind} {names.iloc[row]!r}"
                                      f"{' (' + hint + ')' if hint else ''}", int(row) + 2,
                                column))
        positions[column] = pos
    values = pd.to_numeric(amounts["amount"], errors="coerce").to_numpy(float)
    for row in np.flatnonzero(~np.isfinite(values))[:10]:
        issues.append(Issue(file, f"not a number: {amounts['amount'].iloc[row]!r} (a finite "
                                  "number)", int(row) + 2, "amount"))
    ok = np.isfinite(values)
    for pos in positions.values():
        ok &= pos.notna().to_numpy()
    triples = pd.DataFrame({c: positions[c][ok].astype(int) for c in columns})
    rows = np.flatnonzero(ok)
    for k in np.flatnonzero(triples.duplicated(keep="first").to_numpy())[:10]:
        issues.append(Issue(file, "the same feature, unit and zone are listed twice (one row "
                                  "per triple)", int(rows[k]) + 2, "zone"))
    np.add.at(out, (triples["feature"].to_numpy(), triples["unit"].to_numpy(),
                    triples["zone"].to_numpy()), values[ok])
    return out
