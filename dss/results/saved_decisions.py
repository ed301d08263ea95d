"""Decisions other than the amounts, loaded from a run folder before ``dss verify`` checks
the model's rows (:func:`dss.results.verify.verify_run`).

A component that decides more than the option amounts (the park zoning decides each
subunit's zone) has a ``load_saved(block, ctx, amounts, folder)`` method that sets those
decisions from the run's own tables and returns ``(problems, passed detail)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def load_saved_decisions(report: Any, built: Any, amounts: np.ndarray) -> None:
    """Let each component with saved decisions load them, and record the check."""
    for comp in built.problem.components:
        load = getattr(comp, "load_saved", None)
        if load is not None:
            problems, passed = load(built.blocks[comp.name], built.ctx, amounts, report.folder)
            report.add(f"{comp.name} decisions", problems, passed)
