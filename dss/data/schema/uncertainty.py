"""Tables of uncertain inputs: distributions of uncertain numbers and named scenarios."""

from __future__ import annotations

from dss.data.schema.columns import Column, Table

UNCERTAINTY = Table(
    "uncertainty",
    "Uncertain input numbers: one line per value (or per column with row *), with its "
    "distribution; lines sharing a group move together (dss montecarlo, stochastic "
    "components).",
    key=("table", "row", "column"),
    required=False,
    columns=(
        Column("table", "str", "-", "Input table holding the uncertain number.",
               required=True),
        Column("row", "str", "-", "Id of the row (the table's key; two-part keys as "
               "`first/second`, e.g. E1/cropland), or * for every row.", required=True),
        Column("column", "str", "-", "Numeric column of the table.", required=True),
        Column("distribution", "str", "-", "Distribution: triangular (low, mode, high), "
               "uniform (low, high), normal (mean = mode, sd), lognormal (median = mode, "
               "sd of the log).", default="triangular",
               allowed=("triangular", "uniform", "normal", "lognormal")),
        Column("apply", "str", "-", "scale: the draw multiplies the table's value (low, "
               "mode, high are factors such as 0.7, 1, 1.4); value: the draw is the value "
               "itself.", default="scale", allowed=("scale", "value")),
        Column("low", "float", "-", "Lowest value (triangular, uniform; a lower clip for "
               "normal and lognormal).", nullable=True),
        Column("mode", "float", "-", "Most likely value (triangular), mean (normal) or "
               "median (lognormal).", nullable=True),
        Column("high", "float", "-", "Highest value (triangular, uniform; an upper clip "
               "for normal and lognormal).", nullable=True),
        Column("sd", "float", "-", "Standard deviation (normal) or of the log (lognormal).",
               nullable=True, minimum=0.0),
        Column("group", "str", "-", "Correlation group: lines of one group take the same "
               "quantile in every draw (one rainfall factor for the whole basin); empty: "
               "independent.", default=""),
        Column("source", "str", "-", "Where the range comes from.", default=""),
    ),
)

UNCERTAINTY_SCENARIOS = Table(
    "uncertainty_scenarios",
    "Named scenarios of the uncertain numbers, with probabilities: one line per changed "
    "value (a line with an empty table changes nothing).",
    key=("scenario", "table", "row", "column"),
    required=False,
    columns=(
        Column("scenario", "str", "-", "Scenario name.", required=True),
        Column("probability", "float", "fraction", "Probability of the scenario (the same "
               "on each of its lines; all scenarios sum to 1).", required=True,
               minimum=0.0, maximum=1.0),
        Column("table", "str", "-", "Input table holding the number.", default=""),
        Column("row", "str", "-", "Id of the row, or * for every row.", default=""),
        Column("column", "str", "-", "Numeric column of the table.", default=""),
        Column("apply", "str", "-", "scale: multiply the table's value; value: replace it.",
               default="scale", allowed=("scale", "value")),
        Column("value", "float", "-", "Factor or value.", nullable=True),
        Column("description", "str", "-", "What the scenario stands for.", default=""),
    ),
)
