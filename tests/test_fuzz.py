"""Property-based fuzzing of every input table and of the model file (GitHub issue 6).

Each generated case copies the ``tests/data/tiny`` study, applies one to four random
corruptions and runs ``dss baseline`` (and, in :func:`test_fuzz_solve`, ``dss solve``) in
process through Typer's ``CliRunner``. Corruptions cover, for every table and for
``model.yaml``: wrong types, out-of-range numbers, NaN/inf text, empty cells, unknown and
duplicate ids, broken references (downstream cycles, dangling ids), random bytes and wrong
encodings, truncated files, shuffled/missing/extra/renamed columns, deleted files, and YAML
structure mutations (wrong types, unknown keys, deleted keys, non-mapping values, random
components with random parameters).

Every case must end in one of two ways:

- a valid result: exit 0 (solve: any solver status 0, 3, 4, 6 or 7) and one complete run
  folder whose manifest lists every file written, with matching hashes;
- a located, readable error: exit 2, ``error: ... N problems found`` and one line per
  problem, ``file, row N, column C: ...`` or ``file, line N, key K: ...`` (whole-file
  problems name the file only), and nothing written.

Never a traceback or ``internal error``, never a hang (each case has a time limit), never a
partial write or a leftover hidden staging folder.

Case counts: the ``dss-fuzz`` Hypothesis profile runs :data:`FUZZ_EXAMPLES` cases (default
1,000: 85 % baseline, 15 % solve), derandomized so CI is repeatable. Set
``DSS_FUZZ_EXAMPLES=20000`` to run more, with fresh random cases each time. The number of
cases run and their time are printed in pytest's closing summary (see ``conftest.py``).
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import hashlib
import io
import math
import os
import re
import signal
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer.main
import typer.testing
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from dss.cli import app
from dss.errors import InputError
from dss.safe_yaml import load_yaml

TINY = Path(__file__).parent / "data" / "tiny"
TABLES = sorted(p.name for p in TINY.glob("*.csv"))
MODEL = "model.yaml"
FILES = [*TABLES, MODEL]
ORIGINAL: dict[str, bytes] = {name: (TINY / name).read_bytes() for name in FILES}

FUZZ_EXAMPLES = int(os.environ.get("DSS_FUZZ_EXAMPLES", "1000"))
"""Total generated cases (baseline + solve); ``DSS_FUZZ_EXAMPLES`` raises it on demand."""
SOLVE_SHARE = 0.15
"""Share of the cases that run ``dss solve`` (a solve costs about three baselines)."""
CASE_TIMEOUT = 30.0
"""Seconds one case may take before it counts as a hang."""

settings.register_profile(
    "dss-fuzz",
    deadline=None,  # wall time is checked per case by :func:`time_limit` instead
    database=None,  # nothing written into the repository
    derandomize="DSS_FUZZ_EXAMPLES" not in os.environ,  # CI: the same cases every run
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much],
    print_blob=True,
)
PROFILE = settings.get_profile("dss-fuzz")

FUZZ_STATS: dict[str, Any] = {"label": "tiny study, hypothesis", "baseline": 0, "solve": 0,
                              "validate": 0, "seconds": 0.0, "cpu": 0.0, "outcomes": {}}
"""Cases run and their outcomes, printed by ``conftest.pytest_terminal_summary``."""



class _Runner(CliRunner):
    """``CliRunner`` that builds the Click command of the app once, not once per call
    (Typer rebuilds it on every ``invoke``, a sixth of a small case's time)."""

    command = None

    def invoke(self, app_, args=None, **kwargs):  # type: ignore[override]
        if _Runner.command is None:
            _Runner.command = typer.main.get_command(app_)
        cached = _Runner.command
        with _patched(typer.testing, "_get_command", lambda _app: cached):
            return super().invoke(app_, args, **kwargs)


@contextlib.contextmanager
def _patched(module: Any, name: str, value: Any) -> Iterator[None]:
    old = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, old)


RUNNER = _Runner()

# ------------------------------------------------------------------------------ known ids

SUBUNITS = ["A", "B", "C", "D", "E", "F"]
ACTIONS = ["gfg_forest", "scar_reveg", "sewage", "check_dam"]
POINTS = ["reservoir", "outlet"]
SPECIES = ["panda"]
TOWNSHIPS = ["north", "south"]
AGENCIES = ["forestry", "natural_resources", "environment", "water"]
CLASSES = ["forest", "cropland", "scar"]
IDS = SUBUNITS + ACTIONS + POINTS + SPECIES + TOWNSHIPS + AGENCIES + CLASSES
UNKNOWN = ["Z", "a", "f ", "forrest", "tiger", "宝兴", "", "all", "None", "0"]

# ------------------------------------------------------------------------------ files as data


def read_records(data: bytes | None) -> list[list[str]] | None:
    """CSV records of a file, or None if it is gone or not UTF-8 CSV any more."""
    if data is None:
        return None
    try:
        return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    except (UnicodeDecodeError, csv.Error):
        return None


def write_records(records: list[list[str]]) -> bytes:
    """Records back to UTF-8 CSV bytes (quoted where needed)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(records)
    return out.getvalue().encode("utf-8")


Files = dict[str, bytes | None]
"""The study being corrupted: file name -> bytes (None = deleted)."""


@dataclass(frozen=True)
class Mutation:
    """One corruption of the study; subclasses implement :meth:`apply`.

    Positions (``row``, ``col``) are taken modulo the current size of the file, so a
    mutation stays meaningful after earlier ones changed the file.
    """

    def apply(self, files: Files) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class CsvMutation(Mutation):
    """A change to the records of one table (skipped if it is no longer readable CSV)."""

    table: str

    def apply(self, files: Files) -> None:
        records = read_records(files.get(self.table))
        if records is None:
            return
        changed = self.change(records)
        if changed is not None:
            files[self.table] = write_records(changed)

    def change(self, records: list[list[str]]) -> list[list[str]] | None:
        raise NotImplementedError  # pragma: no cover


@dataclass(frozen=True)
class SetCell(CsvMutation):
    """Put ``value`` into one data cell."""

    row: int
    col: int
    value: str

    def change(self, records):
        if len(records) < 2 or not records[0]:
            return None
        rec = records[1 + self.row % (len(records) - 1)]
        if not rec:
            return None
        rec[self.col % len(rec)] = self.value
        return records


@dataclass(frozen=True)
class CopyCell(CsvMutation):
    """Copy a cell from another row of the same column (duplicate ids, swapped links)."""

    src: int
    dst: int
    col: int

    def change(self, records):
        if len(records) < 3:
            return None
        a = records[1 + self.src % (len(records) - 1)]
        b = records[1 + self.dst % (len(records) - 1)]
        if not a or not b:
            return None
        col = self.col % min(len(a), len(b))
        b[col] = a[col]
        return records


@dataclass(frozen=True)
class RowOp(CsvMutation):
    """Delete, duplicate, blank, shorten or lengthen one row (or the header)."""

    op: str
    row: int
    count: int = 1

    def change(self, records):
        if not records:
            return None
        i = self.row % len(records)
        rec = records[i]
        if self.op == "delete":
            del records[i]
        elif self.op == "duplicate":
            records.insert(i, list(rec))
        elif self.op == "blank":
            records.insert(i, [""] * len(rec))
        elif self.op == "shorten":
            records[i] = rec[: max(0, len(rec) - self.count)]
        elif self.op == "lengthen":
            records[i] = rec + ["x"] * self.count
        elif self.op == "keep":  # keep the first rows only
            del records[i + 1:]
        return records


@dataclass(frozen=True)
class ColumnOp(CsvMutation):
    """Delete, duplicate, rename, add or move one column; or shuffle them all."""

    op: str
    col: int
    name: str = ""
    seed: int = 0

    def change(self, records):
        if not records or not records[0]:
            return None
        width = len(records[0])
        j = self.col % width

        def each(func):
            return [func(list(r)) if len(r) == width else r for r in records]

        if self.op == "delete":
            return each(lambda r: r[:j] + r[j + 1:])
        if self.op == "duplicate":
            return each(lambda r: r[: j + 1] + [r[j]] + r[j + 1:])
        if self.op == "rename":
            records[0][j] = self.name
            return records
        if self.op == "add":
            out = [records[0] + [self.name]]
            return out + [r + ["1"] if len(r) == width else r for r in records[1:]]
        if self.op == "shuffle":
            import random

            order = list(range(width))
            random.Random(self.seed).shuffle(order)
            return each(lambda r: [r[k] for k in order])
        if self.op == "move_last":
            return each(lambda r: r[:j] + r[j + 1:] + [r[j]])
        return None


@dataclass(frozen=True)
class FileOp(Mutation):
    """Byte-level damage to one file: delete, empty, truncate, splice bytes, re-encode."""

    name: str
    op: str
    at: float = 0.5
    data: bytes = b""
    encoding: str = "gbk"

    def apply(self, files: Files) -> None:
        raw = files.get(self.name)
        if self.op == "delete":
            files[self.name] = None
            return
        if raw is None:
            return
        cut = int(len(raw) * self.at)
        if self.op == "empty":
            files[self.name] = b""
        elif self.op == "truncate":
            files[self.name] = raw[:cut]
        elif self.op == "splice":
            files[self.name] = raw[:cut] + self.data + raw[cut:]
        elif self.op == "overwrite":
            files[self.name] = raw[:cut] + self.data + raw[cut + len(self.data):]
        elif self.op == "replace":
            files[self.name] = self.data
        elif self.op == "reencode":
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                return
            files[self.name] = text.encode(self.encoding, errors="replace")
        elif self.op == "bom":
            files[self.name] = codecs.BOM_UTF8 + raw
        elif self.op == "crlf":
            files[self.name] = raw.replace(b"\n", b"\r\n")


# ------------------------------------------------------------------------------ model.yaml


def _key_paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path of a nested mapping (lists are indexed by position)."""
    paths = []
    if isinstance(node, dict):
        for k, v in node.items():
            paths.append((*prefix, k))
            paths.extend(_key_paths(v, (*prefix, k)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            paths.append((*prefix, i))
            paths.extend(_key_paths(v, (*prefix, i)))
    return paths


def _parent(root: Any, path: tuple) -> Any:
    node = root
    for part in path[:-1]:
        node = node[part]
    return node


@dataclass(frozen=True)
class YamlOp(Mutation):
    """A structural change to the model file: set/delete/add a key, replace the root.

    ``path`` picks one existing key (modulo their number) for ``set``/``delete``/``add``;
    ``dotted`` names a key to set even if it does not exist yet (``put``).
    """

    op: str
    pick: int = 0
    value: Any = None
    dotted: str = ""

    def apply(self, files: Files) -> None:
        raw = files.get(MODEL)
        if raw is None:
            return
        try:  # bounded: a hostile document from an earlier mutation is left as it is
            data = load_yaml(raw.decode("utf-8-sig"), MODEL)
        except (UnicodeDecodeError, yaml.YAMLError, InputError):
            return
        if self.op == "root":
            data = self.value
        elif self.op == "put":
            if not isinstance(data, dict):
                return
            node = data
            parts = self.dotted.split(".")
            for part in parts[:-1]:
                if not isinstance(node.get(part), dict):
                    node[part] = {}
                node = node[part]
            node[parts[-1]] = self.value
        else:
            paths = _key_paths(data)
            if not paths:
                return
            path = paths[self.pick % len(paths)]
            parent = _parent(data, path)
            if self.op == "set":
                parent[path[-1]] = self.value
            elif self.op == "delete":
                del parent[path[-1]]
            elif self.op == "add":
                target = parent[path[-1]]
                if isinstance(target, dict):
                    target[f"unknown_{self.pick % 7}"] = self.value
                elif isinstance(parent, dict):
                    parent[f"{path[-1]}_x"] = self.value
                else:
                    parent.append(self.value)
        try:
            files[MODEL] = yaml.safe_dump(data, allow_unicode=True, sort_keys=False).encode()
        except yaml.YAMLError:  # pragma: no cover - safe_dump of plain data
            return


@dataclass(frozen=True)
class HostileYaml(Mutation):
    """Text appended to the model file that asks for unbounded work or names a path
    (issue 13): alias bombs, recursive aliases, deep nesting, scenario keys and study names
    that are paths, and solver options out of range."""

    kind: str
    size: int = 9

    def apply(self, files: Files) -> None:
        raw = files.get(MODEL)
        if raw is None:
            return
        text = raw.decode("utf-8", "replace")
        if self.kind == "bomb":
            extra = "\nbomb:\n  l0: &l0 [" + ",".join(['"lol"'] * self.size) + "]\n"
            for level in range(1, self.size):
                extra += (f"  l{level}: &l{level} ["
                          + ",".join([f"*l{level - 1}"] * self.size) + "]\n")
        elif self.kind == "recursive":
            extra = "\nloop: &loop [1, *loop]\n"
        elif self.kind == "deep":
            extra = "\ndeep: " + "[" * (self.size * 400) + "]" * (self.size * 400) + "\n"
        elif self.kind == "scenario":
            name = ["../../escaped", "..", "/tmp/abs", "a/b", ".hidden", "x:y"][self.size % 6]
            key = yaml.safe_dump(name, allow_unicode=True).splitlines()[0]
            extra = f"\nscenarios:\n  {key}:\n    overrides: {{components.budget.total: 1000}}\n"
        elif self.kind == "name":
            name = ["../../escaped", "..", "/tmp/abs", "a/b", ".hidden", "宝兴"][self.size % 6]
            line = "name: " + yaml.safe_dump(name, allow_unicode=True).splitlines()[0]
            text = re.sub(r"(?m)^name: .*$", lambda _match: line, text)
            extra = ""
        else:  # threads
            extra = f"\nsolver: {{threads: {[100000, -1, 0, 1, 2**40][self.size % 5]}}}\n"
        files[MODEL] = (text + extra).encode("utf-8")


def hostile_yaml() -> st.SearchStrategy[Mutation]:
    return st.builds(HostileYaml, st.sampled_from(["bomb", "recursive", "deep", "scenario",
                                                   "name", "threads"]),
                     st.integers(2, 9))


# ------------------------------------------------------------------------------ strategies

NASTY_CELLS = [
    "", " ", "  ", "nan", "NaN", "-nan", "NA", "n/a", "null", "None", "inf", "-inf",
    "Infinity", "1e999", "-1e999", "1e308", "1.7976931348623157e308", "-1", "-0", "0", "1",
    "2", "0.5", "1.5", "100", "1e9", "1e10", "1e15", "1e-320", "5e-324", "1,000", "12 ha",
    "#N/A", "#DIV/0!", "#VALUE!", "true", "false", "yes", "TRUE", "maybe", "=1+1", '"', "'",
    ",", "\n", "\r", "\t", "\x00", "\ufeff", "\u200b", "宝兴", "大熊猫", "0x10", "1_000", "١٢",
    "9" * 400, "1" * 30, "-" * 3, "all", "ha", "km", "PE", "dam", "station", "resident",
    "tourist", "reservoir", "outlet", "intake", "active", "exited", "dam", "weir", "diversion",
]


def cell_values() -> st.SearchStrategy[str]:
    """Corrupt cell texts: wrong types, out of range, NaN/inf, empty, ids, odd characters."""
    return st.one_of(
        st.sampled_from(NASTY_CELLS),
        st.sampled_from(IDS + UNKNOWN),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.floats(min_value=-2.0, max_value=3.0).map(lambda x: f"{x:.3g}"),
        st.integers(min_value=-(10**20), max_value=10**20).map(str),
        st.text(max_size=12),
    )


tables = st.sampled_from(TABLES)
small = st.integers(min_value=0, max_value=40)


def csv_mutations() -> st.SearchStrategy[Mutation]:
    return st.one_of(
        st.builds(SetCell, tables, small, small, cell_values()),
        st.builds(SetCell, st.just("subunits.csv"), small, st.just(3),
                  st.sampled_from(SUBUNITS + ["", "Z", "a"])),  # downstream_id: cycles
        st.builds(CopyCell, tables, small, small, small),
        st.builds(RowOp, tables, st.sampled_from(["delete", "duplicate", "blank", "shorten",
                                                  "lengthen", "keep"]), small,
                  st.integers(min_value=1, max_value=3)),
        st.builds(ColumnOp, tables, st.sampled_from(["delete", "duplicate", "rename", "add",
                                                     "shuffle", "move_last"]), small,
                  st.one_of(st.sampled_from(["", "x", "area", "Area_ha", "subunit_id",
                                             "name", "a:b", "宝兴"]), st.text(max_size=8)),
                  st.integers(min_value=0, max_value=10**6)),
    )


def file_mutations() -> st.SearchStrategy[Mutation]:
    names = st.sampled_from(FILES)
    return st.one_of(
        st.builds(FileOp, names, st.just("delete")),
        st.builds(FileOp, names, st.sampled_from(["empty", "truncate", "bom", "crlf"]),
                  st.floats(min_value=0.0, max_value=1.0)),
        st.builds(FileOp, names, st.sampled_from(["splice", "overwrite", "replace"]),
                  st.floats(min_value=0.0, max_value=1.0),
                  st.one_of(st.binary(max_size=24),
                            st.sampled_from([b"\xff\xfe", b"PK\x03\x04", b"\xd0\xcf\x11\xe0",
                                             b"\x00", b"\"", b",,,", b"\n\n", b"\t", b";",
                                             "宝兴".encode("gbk"), b"\xe5\xae"]))),
        st.builds(FileOp, names, st.just("reencode"), st.just(0.5), st.just(b""),
                  st.sampled_from(["gbk", "utf-16", "utf-32", "latin-1", "cp1252",
                                   "big5", "shift_jis"])),
    )


def yaml_values() -> st.SearchStrategy[Any]:
    leaves = st.one_of(
        st.none(), st.booleans(), st.integers(min_value=-(10**12), max_value=10**12),
        st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=10),
        st.sampled_from(IDS + UNKNOWN + [".", "..", "/", "results", "-1", "1e7"]),
    )
    return st.recursive(leaves, lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.one_of(st.text(max_size=6), st.sampled_from(IDS)), inner,
                        max_size=3)), max_leaves=6)


KNOWN_KEYS = [
    "name", "title", "description", "inputs", "dss_version", "settings.horizon_years",
    "settings.area_tolerance", "settings.currency", "solver.time_limit", "solver.mip_gap",
    "solver.threads", "solver.method", "solver.presolve", "solver.log", "components",
    "components.objective", "components.objective.type", "components.budget.total",
    "components.budget", "components.land", "components.water.values",
    "components.water.values.sediment", "components.water.points", "scenarios",
    "scenarios.s", "scenarios.s.overrides",
]


def yaml_mutations() -> st.SearchStrategy[Mutation]:
    return st.one_of(
        st.builds(YamlOp, st.sampled_from(["set", "delete", "add"]), small, yaml_values()),
        st.builds(YamlOp, st.just("put"), st.just(0), yaml_values(),
                  st.sampled_from(KNOWN_KEYS)),
        st.builds(YamlOp, st.just("root"), st.just(0),
                  st.one_of(st.none(), st.integers(), st.text(max_size=8),
                            st.lists(st.integers(), max_size=3))),
    )


# --- random components (exercise component checks, presolve, solve and its explanation)

bad_numbers = st.sampled_from([-1, -1e-9, 1e12, 1e300, math.inf, -math.inf, math.nan, "1e7",
                               "x", [1], {}])
good_numbers = st.one_of(st.sampled_from([0, 0.0, 0.5, 1, 2, 10, 1e3, 1e5, 1e6, 1e9]),
                        st.floats(min_value=0.0, max_value=1e7))
numbers = st.one_of(good_numbers, good_numbers, good_numbers, bad_numbers)
good_shares = st.one_of(st.sampled_from([0, 0.01, 0.1, 0.5, 0.99, 1]),
                        st.floats(min_value=0.0, max_value=1.0))
shares = st.one_of(good_shares, good_shares, good_shares, bad_numbers)


def components(valid: bool = False) -> st.SearchStrategy[tuple[str, Any]]:
    """(name, spec) of a random component: with ``valid``, known ids and sensible numbers
    (the model usually builds, and solves to any status); otherwise often invalid."""
    num = good_numbers if valid else numbers
    share = good_shares if valid else shares
    pollutants = st.sampled_from(["sediment", "tn", "tp"] * (1 if valid else 3)
                                 + ([] if valid else ["cod"]))
    point_ids = st.sampled_from(POINTS if valid else POINTS * 4 + ["Z", "outlet "])
    sub_ids = st.sampled_from(SUBUNITS if valid else SUBUNITS * 3 + ["Z"])
    action_ids = st.sampled_from(ACTIONS if valid else ACTIONS * 3 + ["nope"])
    species = st.sampled_from(SPECIES if valid else SPECIES + ["tiger"])
    towns = st.sampled_from(TOWNSHIPS if valid else TOWNSHIPS + ["east"])
    agencies = st.sampled_from(AGENCIES if valid else AGENCIES + ["police"])
    by_point = st.dictionaries(point_ids, st.dictionaries(pollutants, num, max_size=2),
                               max_size=2)
    typed = {
        "limits": st.fixed_dictionaries({"type": st.just("load_limits")}, optional={
            "limits": by_point, "reductions": st.dictionaries(
                point_ids, st.dictionaries(pollutants, share, max_size=2), max_size=2),
            "use_table_limits": st.booleans()}),
        "habitat": st.fixed_dictionaries({"type": st.just("habitat"), "species": st.dictionaries(
            species, st.fixed_dictionaries({}, optional={
                "value": num, "target_absolute": num, "target_relative": share}),
            max_size=2)}),
        "carbon": st.fixed_dictionaries({"type": st.just("carbon")},
                                        optional={"value": num, "minimum": num}),
        "locks": st.fixed_dictionaries({"type": st.just("locks")}, optional={
            "locked_out": st.dictionaries(sub_ids, st.one_of(
                st.just("all"), st.lists(action_ids, max_size=3)), max_size=3),
            "locked_in": st.dictionaries(sub_ids, st.one_of(st.just("all"), st.dictionaries(
                action_ids, st.one_of(st.just("all"), num), max_size=2)), max_size=2)}),
        "zones": st.fixed_dictionaries({"type": st.just("zone_rules")}, optional={
            z: st.fixed_dictionaries({}, optional={
                "forbidden": st.lists(action_ids, max_size=2),
                "allowed": st.lists(action_ids, max_size=2),
                "required": st.dictionaries(action_ids, share, max_size=2)})
            for z in ("core", "general", "outside")}),
        "equity": st.fixed_dictionaries({"type": st.just("equity")}, optional={
            "min_share": share, "max_share": share,
            "townships": st.dictionaries(towns, st.dictionaries(st.sampled_from(
                ["min_share", "max_share"]), share, max_size=2), max_size=2)}),
        "budget": st.fixed_dictionaries({"type": st.just("budget")}, optional={
            "total": st.one_of(st.none(), num),
            "per_agency": st.dictionaries(agencies, num, max_size=2),
            "per_township": st.dictionaries(towns, num, max_size=2)}),
        "objective": st.fixed_dictionaries(
            {"type": st.sampled_from(["max_benefit", "min_cost"])},
            optional={"cost_weight": num} if not valid else {}),
        "water": st.fixed_dictionaries({"type": st.just("delivered_reduction")}, optional={
            "values": st.dictionaries(pollutants, num, max_size=3),
            "points": st.one_of(st.none(), st.dictionaries(point_ids, num, max_size=2))}),
    }
    if valid:  # each type under its own name: replaces the tiny model's, or adds one
        return st.one_of(*(st.tuples(st.just(name), spec) for name, spec in typed.items()))
    typed["other"] = st.fixed_dictionaries({"type": st.sampled_from(["land", "nope", 3])},
                                           optional={"x": numbers})
    names = st.sampled_from(["objective", "budget", "land", "water", "extra", "amount",
                             "limits2"])
    return st.tuples(names, st.one_of(*typed.values()))


def component_mutations(valid: bool = False) -> st.SearchStrategy[Mutation]:
    put = components(valid).map(lambda nc: YamlOp("put", 0, nc[1], f"components.{nc[0]}"))
    if valid:
        return put
    return st.one_of(
        put,
        st.builds(YamlOp, st.just("put"), st.just(0), numbers,
                  st.sampled_from(["components.budget.total", "settings.horizon_years",
                                   "solver.mip_gap", "solver.time_limit"])),
        st.builds(YamlOp, st.just("put"), st.just(0), st.none(),
                  st.sampled_from(["components.budget", "components.objective",
                                   "components.land", "components.water"])),
    )


@dataclass(frozen=True)
class Together(Mutation):
    """Several mutations applied as one (e.g. a small budget and a target)."""

    parts: tuple[Mutation, ...]

    def apply(self, files: Files) -> None:
        for part in self.parts:
            part.apply(files)


def tight_requirements() -> st.SearchStrategy[Mutation]:
    """A small budget with a requirement: often infeasible (explained) or a costly plan."""
    budget = st.builds(YamlOp, st.just("put"), st.just(0),
                       st.sampled_from([0, 1e3, 3e4, 1e5, 2.5e5, 5e5]),
                       st.just("components.budget.total"))
    target = st.one_of(
        st.builds(lambda p, q, r: YamlOp("put", 0, {"type": "load_limits", "reductions": {
            p: {q: r}}}, "components.limits"), st.sampled_from(POINTS),
            st.sampled_from(["sediment", "tn", "tp"]), st.floats(0.01, 0.95)),
        st.builds(lambda r: YamlOp("put", 0, {"type": "habitat", "species": {
            "panda": {"target_relative": r}}}, "components.habitat"), st.floats(0.01, 0.35)),
        st.builds(lambda m: YamlOp("put", 0, {"type": "carbon", "minimum": m},
                                   "components.carbon"), st.floats(10.0, 9000.0)),
        st.builds(lambda s, a, m: YamlOp("put", 0, {"type": "locks", "locked_in": {s: {a: m}}},
                                         "components.locks"),
                  st.sampled_from(SUBUNITS), st.sampled_from(ACTIONS), st.floats(0.0, 30.0)),
    )
    return st.builds(lambda b, t: Together((b, *t)), budget,
                     st.lists(target, min_size=1, max_size=3))


def numeric_cells() -> st.SearchStrategy[Mutation]:
    """Damage that mostly keeps a study valid: new numbers in number columns."""
    return st.builds(SetCell, tables, small, small, st.one_of(
        st.sampled_from(["0", "1", "0.5", "1e9", "1e12", "", "100", "1e-9"]),
        st.floats(min_value=0.0, max_value=1e4).map(lambda x: f"{x:.4g}")))


baseline_cases = st.lists(st.one_of(csv_mutations(), csv_mutations(), file_mutations(),
                                    yaml_mutations(), hostile_yaml()), min_size=1, max_size=4)
solve_cases = st.lists(st.one_of(tight_requirements(), tight_requirements(),
                                 component_mutations(valid=True),
                                 component_mutations(valid=True),
                                 component_mutations(valid=True), component_mutations(),
                                 numeric_cells(), csv_mutations(), yaml_mutations(),
                                 file_mutations(), hostile_yaml()),
                       min_size=1, max_size=4)

# ------------------------------------------------------------------------------ running a case


class Hang(BaseException):
    """A case took longer than :data:`CASE_TIMEOUT` (not an Exception: nothing catches it)."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`Hang` in the main thread after ``seconds`` (Unix; elsewhere no limit)."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def alarm(_signum, _frame):
        raise Hang(f"case still running after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def write_study(folder: Path, files: Files) -> None:
    folder.mkdir()
    for name, data in files.items():
        if data is not None:
            (folder / name).write_bytes(data)


LOCATED = re.compile(
    r"^  - (?P<file>[^\n]+?)(?:, (?:row|line) \d+)?(?:, (?:column|key) [^\n]*?)?: \S")
"""One problem line: ``  - file[, row N | line N][, column C | key K]: message``."""


def check_error(output: str, study: Path) -> None:
    """Exit 2: a summary line, then one located problem per line, naming a study file."""
    assert output.startswith("error: "), output
    lines = output.rstrip("\n").split("\n")
    assert re.search(r"\d+ problems? found$", lines[0]), output
    assert len(lines) >= 2, output
    for line in lines[1:]:
        match = LOCATED.match(line)
        assert match, f"unlocated problem line {line!r} in:\n{output}"
        file = match.group("file")
        assert Path(file).name in FILES or file in ("--set", str(study)) \
            or Path(file) == study, f"problem names no study file: {line!r}"
    assert " object at 0x" not in output and "<class " not in output, output


def check_run_folder(out: Path) -> Path:
    """Exactly one run folder, complete: every file hashed in its manifest, no staging."""
    manifests = sorted(out.rglob("manifest.yaml"))
    assert len(manifests) == 1, manifests
    folder = manifests[0].parent
    hidden = [p for p in folder.parent.iterdir() if p.name.startswith(".")]
    assert hidden == [], hidden
    manifest = yaml.safe_load(manifests[0].read_text(encoding="utf-8"))
    listed = manifest["outputs_sha256"]
    present = {p.name for p in folder.iterdir()} - {"manifest.yaml"}
    assert present == set(listed), (present, listed)
    for name, digest in listed.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name
    return folder


def validate_case(study: Path) -> int:
    """``dss validate`` on a case: exit 0 or a located error (exit 2), never a traceback."""
    with time_limit(CASE_TIMEOUT):
        result = RUNNER.invoke(app, ["validate", str(study / MODEL)])
    assert "Traceback" not in result.output and "internal error" not in result.output, \
        result.output
    assert result.exit_code in (0, 2), result.output
    if result.exit_code == 2:
        check_error(result.stderr, study)
    return result.exit_code


def run_case(mutations: list[Mutation], command: str, allowed: tuple[int, ...]) -> int:
    """Apply the mutations to a copy of the tiny study, run ``dss <command>``, check it."""
    files: Files = dict(ORIGINAL)
    for mutation in mutations:
        mutation.apply(files)
    start, cpu = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory(prefix="dss-fuzz-") as tmp:
        study = Path(tmp) / "study"
        out = Path(tmp) / "results"
        write_study(study, files)
        validated = validate_case(study)
        with time_limit(CASE_TIMEOUT):
            result = RUNNER.invoke(app, [command, str(study / MODEL), "--out", str(out)])
        output = result.output
        assert "Traceback" not in output, output
        assert "internal error" not in output, output
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            repr(result.exception), output)
        code = result.exit_code
        if code == 2:
            check_error(result.stderr, study)
            assert not out.exists() or not any(out.rglob("*")), sorted(out.rglob("*"))
        elif code == 5:  # solver error: a message, nothing written
            assert result.stderr.startswith("error: "), output
            assert not out.exists() or not any(out.rglob("*")), sorted(out.rglob("*"))
        else:
            assert code in allowed, f"exit code {code}:\n{output}"
            folder = check_run_folder(out)
            if command == "solve":
                assert (folder / "summary.csv").is_file()
                if code in (0, 7):
                    assert (folder / "allocation.csv").is_file()
        assert sorted(p.name for p in study.iterdir()) == sorted(
            n for n, d in files.items() if d is not None), "nothing written beside inputs"
        assert sorted(p.name for p in Path(tmp).iterdir()) in (["study"],
                                                               ["results", "study"])
        # dss validate runs the checks dss solve runs before it builds: the same verdict
        if validated == 0:
            assert code != 2, f"validate said valid, {command} refused:\n{output}"
        elif command == "solve":
            assert code == 2, f"validate refused, solve ran (exit {code}):\n{output}"
    FUZZ_STATS["validate"] += 1
    FUZZ_STATS[command] += 1
    FUZZ_STATS["seconds"] += time.perf_counter() - start
    FUZZ_STATS["cpu"] += time.process_time() - cpu
    outcomes = FUZZ_STATS["outcomes"]
    outcomes[f"{command} exit {code}"] = outcomes.get(f"{command} exit {code}", 0) + 1
    return code


# ------------------------------------------------------------------------------ the properties

N_SOLVE = max(1, round(FUZZ_EXAMPLES * SOLVE_SHARE))
N_BASELINE = max(1, FUZZ_EXAMPLES - N_SOLVE)


@settings(PROFILE, max_examples=N_BASELINE)
@given(baseline_cases)
def test_fuzz_baseline(mutations: list[Mutation]) -> None:
    """Any corruption of any table or of the model file: a baseline or a located error."""
    run_case(mutations, "baseline", (0,))


@settings(PROFILE, max_examples=N_SOLVE)
@given(solve_cases)
def test_fuzz_solve(mutations: list[Mutation]) -> None:
    """Random components and damaged numbers: a solve of any status or a located error."""
    run_case(mutations, "solve", (0, 3, 4, 6, 7))


def test_fuzz_fixture_is_valid() -> None:
    """Control: without corruption both commands succeed (so failures come from damage)."""
    assert run_case([], "baseline", (0,)) == 0
    assert run_case([], "solve", (0,)) == 0


@pytest.mark.parametrize("mutations", [
    [SetCell("subunits.csv", 0, 3, "A")],  # A drains into itself... via C: a cycle
    [FileOp("subunits.csv", "reencode", encoding="utf-16")],
    [YamlOp("root", 0, [1, 2])],
    [YamlOp("put", 0, "..", "name")],
    [ColumnOp("actions.csv", "shuffle", 0, seed=3)],
    [FileOp("land_cover.csv", "truncate", at=0.37)],
    [YamlOp("put", 0, {"type": "habitat", "species": {"panda": {"target_absolute": 1e9}}},
            "components.hab")],
])
def test_fuzz_examples(mutations: list[Mutation]) -> None:
    """A few hand-picked corruptions, always run (readable regression cases)."""
    run_case(mutations, "solve", (0, 3, 4, 6, 7))


def test_profile_counts() -> None:
    """The CI profile runs at least 1,000 generated cases in total."""
    assert N_BASELINE + N_SOLVE >= min(FUZZ_EXAMPLES, 1000)
