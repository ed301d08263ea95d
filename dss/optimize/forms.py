"""Linear functions of the HiGHS columns, evaluated on column values without Pyomo.

Reported quantities (benefits, costs, loads) are linear forms :math:`a^\\top x + a_0` over the
columns of a compiled model, extracted once from their Pyomo expressions
(:meth:`dss.optimize.persistent.HighsModel.linear`), so no solution has to be loaded back
into Pyomo between the points of a sweep or a frontier.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LinearForm:
    """A linear function of the HiGHS columns: :math:`f(x) = \\sum_j a_j x_{c_j} + a_0`."""

    cols: np.ndarray
    coefs: np.ndarray
    constant: float = 0.0

    def __call__(self, x: np.ndarray) -> float:
        """Value at the column values ``x``."""
        return float(np.dot(self.coefs, x[self.cols]) + self.constant)

    def scaled(self, factor: float) -> LinearForm:
        """The form times ``factor``."""
        return LinearForm(self.cols, self.coefs * factor, self.constant * factor)


class FormSet:
    """Many linear forms evaluated at once (one vectorised pass per solution):

    .. math:: v_t = \\sum_{j \\in t} a_j x_{c_j} + a_{t0}
    """

    def __init__(self, forms: dict[str, LinearForm]) -> None:
        self.labels = list(forms)
        parts = list(forms.values())
        self.cols = (np.concatenate([f.cols for f in parts]) if parts
                     else np.zeros(0, np.int32))
        self.coefs = np.concatenate([f.coefs for f in parts]) if parts else np.zeros(0)
        self.term = np.repeat(np.arange(len(parts)), [len(f.cols) for f in parts])
        self.constants = np.array([f.constant for f in parts], dtype=float)

    def __call__(self, x: np.ndarray) -> dict[str, float]:
        """Label -> value at the column values ``x``."""
        values = np.bincount(self.term, weights=self.coefs * x[self.cols],
                             minlength=len(self.labels)) + self.constants
        return dict(zip(self.labels, values.tolist(), strict=True))
