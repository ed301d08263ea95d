"""Synthetic river-basin studies of any size, for tests, demonstrations and benchmarks.

:func:`generate_study` builds one frame per table of :data:`dss.data.schema.TABLES`, and
:func:`write_study` writes them as a study folder (one CSV per table plus ``model.yaml``). The
data are invented but plausible for a mountain basin in south-west China: a random dendritic
drainage tree, lognormal subunit areas, USLE factors, land cover, villages, reservoirs, small
hydropower stations, protected species and a catalogue of restoration actions.

Generation is fully vectorised (no Python loop over subunits) and deterministic: the same
arguments always give byte-identical files. Every random quantity is drawn from its own child
stream of ``numpy.random.default_rng(seed)``, so adding a new attribute later does not change
the existing ones. Areas are generated in integer hundredths of a hectare, so a subunit's land
cover sums to its ``area_ha`` exactly as written.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from dss.data.schema import TABLES, Table
from dss.errors import DssError
from dss.synth.catalogue import (
    _STREAMS,
    ACTION_TEMPLATES,
    FLOAT_FORMAT,
    LAND_CLASS_ROWS,
    SPECIES_ROWS,
)
from dss.synth.features import (
    _action_livelihoods,
    _actions,
    _agencies,
    _barrier_options,
    _barriers,
    _control_points,
    _fish_habitat,
    _species,
    _species_habitat,
    _species_rows,
    _uncertainty,
)
from dss.synth.frames import _frame
from dss.synth.landscape import _land_classes, _land_cover_frame, _point_sources, _subunits

logger = logging.getLogger(__name__)

__all__ = [
    "ACTION_TEMPLATES",
    "LAND_CLASS_ROWS",
    "SPECIES_ROWS",
    "StudyExistsError",
    "SynthError",
    "generate_study",
    "synthetic_model_config",
    "write_study",
]


class SynthError(DssError):
    """Invalid arguments for the synthetic study generator."""

    exit_code = 2


class StudyExistsError(SynthError, FileExistsError):
    """The output folder already holds a study and overwriting was not requested."""


def _check_args(n_subunits: int, seed: int, n_actions: int) -> None:
    """Raise :class:`SynthError` unless every argument is an integer in range."""
    for label, value, lowest in (("n_subunits", n_subunits, 1), ("seed", seed, 0),
                                 ("n_actions", n_actions, 1)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < lowest:
            raise SynthError(f"{label} must be an integer >= {lowest} (got {value!r})")


def generate_study(n_subunits: int, seed: int = 0, n_actions: int = 8
                   ) -> dict[str, pd.DataFrame]:
    """Generate a synthetic study in memory.

    Args:
        n_subunits: Number of subunits (>= 1); subunit ``S...1`` is the single outlet.
        seed: Random seed (>= 0); the same arguments always give identical frames.
        n_actions: Number of actions in the catalogue (>= 1).

    Returns:
        One frame per table of :data:`dss.data.schema.TABLES`, in that order, each with
        exactly the declared columns in declared order and dtypes.

    Raises:
        SynthError: if an argument is out of range.
    """
    _check_args(n_subunits, seed, n_actions)
    n, seed, n_actions = int(n_subunits), int(seed), int(n_actions)
    rngs = dict(zip(_STREAMS, np.random.default_rng(seed).spawn(len(_STREAMS)), strict=True))
    subunits, x = _subunits(rngs, n)
    chosen = _species_rows(rngs["species"])
    tables = {
        "subunits": subunits,
        "land_classes": _land_classes(),
        "land_cover": _land_cover_frame(x["ids"], x["cover"]),
        "point_sources": _point_sources(rngs["point_sources"], x["ids"], x["population"],
                                        x["park"]),
        "species": _species(chosen),
        "species_habitat": _species_habitat(rngs["habitat"], chosen, x["ids"], x["cover"],
                                            x["park"]),
        "control_points": _control_points(rngs["control_points"], x["ids"], x["reservoirs"]),
        "barriers": _barriers(rngs["barriers"], x["ids"], x["stream_km"]),
        "actions": _actions(n_actions, SPECIES_ROWS[chosen[0]]["species"]),
        "townships": _townships(subunits["township"]),
        "agencies": _agencies(),
    }
    tables["barrier_options"] = _barrier_options(tables["barriers"])
    tables["fish_habitat"] = _fish_habitat(x["ids"], x["stream_km"],
                                           str(tables["species"]["species"].iloc[0]))

    tables.update(_uncertainty(tables["actions"]))
    tables["action_livelihoods"] = _action_livelihoods(tables["actions"])
    logger.info("generated synthetic study: %d subunits (tree depth max %d, mean %.1f), "
                "%d land-cover rows, %d point sources, %d habitat rows, %d barriers, "
                "%d actions", n, int(x["depth"].max()), float(x["depth"].mean()),
                len(tables["land_cover"]), len(tables["point_sources"]),
                len(tables["species_habitat"]), len(tables["barriers"]), n_actions)
    return {name: tables[name] for name in TABLES}


AGENCY_NAMES: tuple[tuple[str, str, str], ...] = (
    ("environment", "Ecology and Environment Bureau", "生态环境局"),
    ("forestry", "Forestry and Grassland Bureau", "林业和草原局"),
    ("natural_resources", "Natural Resources Bureau", "自然资源局"),
    ("water", "Water Resources Bureau", "水利局"))
"""Display names of the synthetic actions' agencies."""


def _townships(ids: pd.Series) -> pd.DataFrame:
    """Display names of the synthetic townships (``T0001``: Township 1, 第1乡)."""
    unique = pd.unique(ids.astype(str))
    numbers = [t.lstrip("T").lstrip("0") or "0" for t in unique]
    return _frame(TABLES["townships"], {
        "township": unique, "name": [f"Township {n}" for n in numbers],
        "name_zh": [f"第{n}乡" for n in numbers]})


def synthetic_model_config(name: str | None, n_subunits: int, seed: int,
                           species: list[str] | None = None) -> dict[str, Any]:
    """The ``model.yaml`` mapping of a synthetic study (inputs in the same folder).

    Args:
        name: Study name; ``synth_<n_subunits>_s<seed>`` when None.
        n_subunits: Number of subunits, for the default name and the description.
        seed: Random seed, for the default name and the description.
        species: Species ids of the study (valued by the habitat component); default: the
            species this seed draws.

    Returns:
        A mapping with ``name``, ``title``, ``description`` and ``inputs: "."``.
    """
    if species is None:
        rngs = dict(zip(_STREAMS, np.random.default_rng(seed).spawn(len(_STREAMS)),
                        strict=True))
        species = [SPECIES_ROWS[i]["species"] for i in _species_rows(rngs["species"])]
    return {
        "name": name or f"synth_{n_subunits}_s{seed}",
        "title": f"Synthetic basin with {n_subunits} subunits (seed {seed})",
        "description": (f"Invented data generated by dss.synth (dss synth --subunits "
                        f"{n_subunits} --seed {seed}); plausible for a mountain basin but "
                        "not a real place."),
        "inputs": ".",
        "solver": {"time_limit": 1800, "mip_gap": 1e-4, "threads": 1},
        "components": {
            "objective": {"type": "max_benefit"},
            "budget": {"type": "budget", "total": float(SYNTH_BUDGET_PER_SUBUNIT * n_subunits)},
            "land": {"type": "land"},
            "water": {"type": "delivered_reduction",
                      "values": {"sediment": 20.0, "tn": 30.0, "tp": 300.0}},
            "habitat": {"type": "habitat",
                        "species": {s: {"value": 2000.0} for s in species}},
            "carbon": {"type": "carbon", "value": 150.0},
            "zones": {"type": "zone_rules", "core": {"forbidden": ["check_dam"]}},
        },
    }


SYNTH_BUDGET_PER_SUBUNIT = 50_000.0
"""Budget of a synthetic study per subunit (CNY over the horizon)."""


def _csv_text(df: pd.DataFrame, table: Table) -> str:
    """CSV text of one table: booleans as true/false, empty cells for missing values."""
    out = df.copy(deep=False)
    for col in table.columns:
        if col.dtype == "bool":
            out[col.name] = np.where(df[col.name].to_numpy(), "true", "false")
    return out.to_csv(index=False, float_format=FLOAT_FORMAT, lineterminator="\n")


def write_study(out_dir: Path, n_subunits: int, seed: int = 0, n_actions: int = 8,
                name: str | None = None, *, overwrite: bool = False) -> Path:
    """Generate a synthetic study and write it as a study folder.

    Writes one ``<table>.csv`` per table (UTF-8, header row) and ``model.yaml``.

    Args:
        out_dir: Folder to write into; created if missing.
        n_subunits: Number of subunits (>= 1).
        seed: Random seed (>= 0).
        n_actions: Number of actions in the catalogue (>= 1).
        name: Study name in ``model.yaml`` (default ``synth_<n>_s<seed>``).
        overwrite: Replace the files of an existing study in ``out_dir``.

    Returns:
        Path of the written ``model.yaml``.

    Raises:
        StudyExistsError: if ``out_dir`` already holds a study (``subunits.csv`` or
            ``model.yaml``) and ``overwrite`` is False.
        SynthError: if an argument is out of range.
    """
    out_dir = Path(out_dir)
    _check_args(n_subunits, seed, n_actions)
    model_path = out_dir / "model.yaml"
    existing = [p.name for p in (out_dir / TABLES["subunits"].file, model_path) if p.exists()]
    if out_dir.exists() and not out_dir.is_dir():
        raise SynthError(f"{out_dir} exists and is not a folder")
    if existing and not overwrite:
        raise StudyExistsError(f"{out_dir} already holds a study ({', '.join(existing)}); "
                               "choose another folder or pass overwrite to replace it")
    tables = generate_study(n_subunits, seed, n_actions)
    out_dir.mkdir(parents=True, exist_ok=True)
    for table_name, df in tables.items():
        table = TABLES[table_name]
        (out_dir / table.file).write_text(_csv_text(df, table), encoding="utf-8", newline="")
    config = synthetic_model_config(name, n_subunits, seed,
                                    list(tables["species"]["species"]))
    model_path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True),
                          encoding="utf-8", newline="")
    logger.info("wrote synthetic study %s to %s", config["name"], out_dir)
    return model_path
