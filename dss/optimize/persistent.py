"""An allocation model (:class:`~dss.optimize.build.Built`) held in HiGHS through the one
core (:class:`dss.optimize.core.HighsModel`), with the options of its ``solver`` section, and
the option amounts read from a solution.

Sweeps, frontiers, coordination and :func:`dss.optimize.solve.solve_built` use
:class:`PersistentModel`; the core's names are re-exported here for them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from dss.optimize.build import Built
from dss.optimize.core import HighsModel
from dss.optimize.forms import FormSet, LinearForm
from dss.optimize.highs import Solution, highs_options, new_highs, status_of
from dss.optimize.year_start import phased_start, study_budget

__all__ = ["FormSet", "HighsModel", "LinearForm", "PersistentModel", "Solution",
           "amounts_from", "new_highs", "status_of"]


class PersistentModel(HighsModel):
    """A :class:`~dss.optimize.build.Built` allocation model held in HiGHS, with the
    options of its ``solver`` section (:func:`dss.optimize.highs.highs_options`).

    Args:
        built: The compiled model (its Pyomo objective is translated as the initial one).
        warm_start: As :class:`HighsModel`.
        log: As :class:`HighsModel`.
    """

    def __init__(self, built: Built, warm_start: bool = False,
                 log: Callable[[str], None] | None = None) -> None:
        self.built = built
        self.keeps_matrix_arrays = built.ctx.phasing is not None  # start_from_working_set
        self._amount_cols: np.ndarray | None = None
        super().__init__(built.model, highs_options(built.problem.config.solver),
                         built.ctx, warm_start, log)
        if built.ctx.phasing is not None and not self.is_mip:
            self.highs.setOptionValue("presolve", "off")  # see _lp_copy

    def _lp_copy(self, presolve: bool, lp: Any = None) -> Any:
        """As :meth:`HighsModel._lp_copy`; with planning years always without presolve.

        A phased model's LP (with planning years: its relaxation, or the model itself
        when it has no integers) is solved without HiGHS's presolve, which removes 4 % of
        its rows and took 40 % of the run (10,000 subunits x 3 years: 1.9 s with it, 1.0 s
        without, the same plan; ``benchmarks/bench_years.py``). The MIP keeps presolve.
        """
        return super()._lp_copy(presolve and self.built.ctx.phasing is None, lp)

    def relax_in_place(self) -> None:
        """As :meth:`HighsModel.relax_in_place`; a phased relaxation without presolve
        (see :meth:`_lp_copy`), restored for the MIP by :meth:`drop_relaxation`."""
        super().relax_in_place()
        if self._relaxed is self.highs and self.built.ctx.phasing is not None:
            self.highs.setOptionValue("presolve", "off")

    def drop_relaxation(self) -> None:
        """As :meth:`HighsModel.drop_relaxation`, with the MIP's own presolve option back."""
        in_place = self._relaxed is not None and self._relaxed is self.highs
        super().drop_relaxation()
        if in_place and "presolve" in self.options:
            self.highs.setOptionValue("presolve", self.options["presolve"])

    def start_from_working_set(self) -> None:
        """With planning years, start the next LP (the relaxation of a MIP after
        :meth:`start_from_relaxation`, or an LP) from its optimum over a working set of
        options (:mod:`dss.optimize.year_start`); nothing otherwise. The working set's LP
        is a phased LP too: without presolve (see :meth:`_lp_copy`; 0.15 -> 0.13 s)."""
        h = self._relaxed if self.is_mip else self.highs
        if h is None or self.warm_start or self._reference_basis is not None:
            return
        self._reference_basis = phased_start(h, self.matrix, self.built.ctx,
                                             study_budget(self.built.problem),
                                             {**self.options, "presolve": "off"})

    @property
    def amount_cols(self) -> np.ndarray:
        """HiGHS column of each option's ``amount`` variable (columns 0 .. n-1)."""
        if self._amount_cols is None:  # compile_matrix numbers the amounts first
            self._amount_cols = np.arange(len(self.built.ctx.amount_vars), dtype=np.int64)
        return self._amount_cols


def amounts_from(model: PersistentModel, x: np.ndarray) -> np.ndarray:
    """Amount of every decision option from column values (integers rounded)."""
    built = model.built
    cols = model.amount_cols
    values = np.where(cols >= 0, x[np.clip(cols, 0, None)], 0.0)
    integer = built.ctx.options["integer"].to_numpy(bool)
    values[integer] = np.round(values[integer])
    return np.clip(values, 0.0, None)
