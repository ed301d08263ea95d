"""The vectorised shortcuts give exactly what the plain pandas way gives.

Large tables are split and parsed on their bytes, number columns read by pandas' C parser,
group sums taken by id ranks, and the river network checked by pointer doubling. Each test
compares a shortcut with the slow path it replaces: same values (bit for bit), same types,
same messages.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dss.data import csv_split, tables
from dss.data.keys import IdIndex, sum_by
from dss.data.schema import TABLES
from dss.errors import Issue
from dss.network.graph import check_network
from dss.network.routing import Routing

LARGE = csv_split._SMALL_TABLE + 500
"""Rows of a table that takes the byte-level path."""


def _parse(text: str, table: str = "land_cover") -> tuple[pd.DataFrame | None, list[str]]:
    issues: list[Issue] = []
    frame = tables.parse_table(text, TABLES[table], f"{table}.csv", issues)
    return frame, [str(i) for i in issues]


def _land_cover(areas: list[str], pad: str = "") -> str:
    lines = ["subunit_id,land_class,area_ha"]
    lines += [f"S{i:05d},{pad}forest,{a}" for i, a in enumerate(areas)]
    return "\n".join(lines) + "\n"


def _as_text_column(areas: list[str]) -> np.ndarray:
    """What the text path makes of the cells: pandas.to_numeric on the stripped texts."""
    cells = pd.Series(areas, dtype=object).str.strip()
    return pd.to_numeric(cells.where(cells != "", None), errors="coerce").to_numpy(float)


@pytest.mark.parametrize("odd", [
    "", "1e3", "-0", "-0.0", "+2.5", "+94542.96235106587", "9007199254740993",
    "123456789012345678901", "007", " 12.5", "inf", "nan", "#REF!", "x1", "1e400", "-1e-400",
])
@pytest.mark.parametrize("integers", [True, False])
def test_number_column_reads_like_to_numeric(odd: str, integers: bool) -> None:
    """One odd cell among plain numbers: the parsed values and messages do not depend on the
    path taken (C parser for plain numbers, text for the rest)."""
    rng = np.random.default_rng(len(odd) + integers)
    plain = [str(int(v)) if integers else f"{v:.6f}" for v in rng.uniform(0, 1e4, LARGE)]
    areas = plain.copy()
    areas[1234] = odd
    frame, issues = _parse(_land_cover(areas))
    expected = _as_text_column(areas)
    if frame is not None:
        got = frame["area_ha"].to_numpy()
        assert got.dtype == np.float64
        assert np.array_equal(got.view(np.int64), expected.view(np.int64))
    small_frame, small_issues = _parse(_land_cover(areas[:100] + [odd]))
    assert [i.replace("row 102", "row N") for i in small_issues] == \
        [i.replace("row 1236", "row N") for i in issues]
    assert (small_frame is None) == (frame is None)


def test_large_table_keeps_text_and_padding() -> None:
    """Padded cells are stripped, text columns stay text, empty optional cells get defaults."""
    areas = [f"{i}.25" for i in range(LARGE)]
    text = _land_cover(areas, pad=" ").replace("\n", " \n")
    frame, issues = _parse(text)
    assert not issues and frame is not None
    assert frame["land_class"].dtype == object and set(frame["land_class"]) == {"forest"}
    assert np.array_equal(frame["area_ha"].to_numpy(), np.arange(LARGE) + 0.25)


def test_large_table_problems_are_located() -> None:
    """A bad number, a blank row and a short row in a large table are all reported by row."""
    areas = [str(i) for i in range(LARGE)]
    areas[10] = "abc"
    lines = _land_cover(areas).splitlines()
    lines[2000] = ",,"
    lines[2400] = "S1,forest"
    _, issues = _parse("\n".join(lines) + "\n")
    assert any("row 12, column area_ha: 'abc' is not a number" in i for i in issues)
    assert any("row 2401" in i and "2 cells but the header has 3" in i for i in issues)


@pytest.mark.parametrize("order", ["sorted", "shuffled"])
def test_sum_by_matches_groupby(order: str) -> None:
    """Sums by id rank are the numbers groupby + reindex give, bit for bit."""
    rng = np.random.default_rng(7)
    ids = np.array([f"S{i:04d}" for i in rng.permutation(3000)], dtype=object)
    keys = np.repeat(np.sort(ids), rng.integers(0, 12, len(ids)))
    if order == "shuffled":
        keys = keys[rng.permutation(len(keys))]
    values = pd.DataFrame({"a": rng.random(len(keys)) * 1e3, "b": rng.random(len(keys))})
    keys_s = pd.Series(keys, dtype=object)
    got = sum_by(IdIndex(ids), keys_s, values)
    want = values.groupby(keys).sum().reindex(ids).fillna(0.0)
    for column in values:
        assert np.array_equal(got[column].to_numpy().view(np.int64),
                              want[column].to_numpy().view(np.int64))


def test_sum_by_with_unknown_keys_takes_the_plain_way() -> None:
    ids = np.array(["a", "b", "c"], dtype=object)
    keys = pd.Series(["b", "zz", "a", "b"], dtype=object)
    values = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]})
    assert sum_by(IdIndex(ids), keys, values)["x"].tolist() == [3.0, 5.0, 0.0]


def test_network_cycles_found_in_a_long_river() -> None:
    """A valid 20,000-subunit chain has no issue; closing it into a loop names the cycle."""
    n = 20_000
    ids = pd.Series([f"S{i}" for i in range(n)], dtype=object)
    down = pd.Series([None] + [f"S{i - 1}" for i in range(1, n)], dtype=object)
    assert check_network(ids, down) == []
    down[0] = f"S{n - 1}"
    messages = [i.message for i in check_network(ids, down)]
    assert any(m.startswith("no outlet") for m in messages)
    assert sum("form a cycle: S0 -> S19999" in m for m in messages) == 1


def test_routing_levels_and_lookups() -> None:
    """Levels group subunits by depth (deepest first, table order within); lookups of a few
    ids and of many agree."""
    rng = np.random.default_rng(3)
    n = 2000
    ids = [f"S{i}" for i in range(n)]
    down = [None] + [ids[int(rng.integers(0, i))] for i in range(1, n)]
    routing = Routing(ids, down)
    depth = routing.depth
    assert [int(depth[level[0]]) for level in routing.levels] == \
        list(range(int(depth.max()), -1, -1))
    for level in routing.levels:
        assert (depth[level] == depth[level[0]]).all() and (np.diff(level) > 0).all()
    assert sum(len(level) for level in routing.levels) == n
    few = [ids[5], ids[17], ids[0]]
    assert routing.index(few).tolist() == routing.index(few * 20)[:3].tolist() == [5, 17, 0]
    with pytest.raises(KeyError):
        routing.index(["nope"])
