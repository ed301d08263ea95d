"""CLI commands for scenario analysis (budget sweeps, trade-off frontiers).

They register themselves on :data:`dss.cli.app` when this module is imported by
:mod:`dss.cli`.
"""

from __future__ import annotations
