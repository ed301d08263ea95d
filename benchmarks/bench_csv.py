"""dss's CSV reader and writer beside pyarrow's, on the tables of a large synthetic study.

Usage::

    pip install pyarrow   # not a dependency of dss: this benchmark is why
    python benchmarks/bench_csv.py [--subunits 100000] [--repeat 5]

Reader: :func:`dss.data.tables.read_table` as it is (the large-table path checks the raw
UTF-8 bytes with NumPy, then pandas' C parser splits and types the cells), against the same
function with that splitting done by pyarrow's CSV reader instead (:func:`arrow_cells`
below: it declines exactly what the byte checks decline, reads short plain decimals as
floats and everything else as text, so every later check and message is the same). Runs
alternate; the table shows each side's median and whether the frames are identical.

Writer: :func:`dss.results.writer.write_csv` (fixed ``%.10g`` floats, minimal quoting,
byte-identical to pandas' ``to_csv``) against ``pyarrow.csv.write_csv`` on the same frame,
and whether the bytes are the same.

Measured on a loaded 2-core machine (100,000 subunits, pyarrow 26, pandas 3.1, medians of 5;
the frames identical): ``subunits.csv`` 0.87 s (dss) against 0.98 s (pyarrow splitting),
``land_cover.csv`` 0.58 against 0.73 s, ``point_sources.csv`` 0.12 against 0.15 s,
``fish_habitat.csv`` 0.21 against 0.25 s. pyarrow's parse alone is fast (0.14 s for
``land_cover.csv`` against 0.56 s for pandas' C parser with text cells), but dss needs its text
columns as Python strings, which pandas' C parser makes while it parses and pyarrow makes in a
second pass (``to_numpy``, 0.08 s per text column of 250,000 cells). pyarrow's writer (0.41 s
against 1.73 s for the 100,000-row ``subunits`` table) cannot write dss's tables: it has no
float format (it writes ``0.3333333333333333`` where dss writes ``0.3333333333``) and quotes
every text field, so every result file would change.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Collection
from pathlib import Path

import numpy as np
import pandas as pd

TABLES = ("subunits", "land_cover", "point_sources", "fish_habitat")

_EXACT = 2.0 ** 53
"""Below this size every integer is a float, so reading an integer as one is exact."""
_SHORT_NUMBER = 15
"""Longest cell read as a number by pyarrow (see the module docstring)."""
_DECLINED = ("\x00", "\x1c", "\x1d", "\x1e", "\x1f")
"""Characters that make the reader decline a table."""


def arrow_cells(body: str, width: int, count: int, numbers: Collection[int] = ()
               ) -> list[pd.Series] | None:
    """The stripped cells of ``count`` data lines ``body`` (no quotes), one Series per
    column, or None when the text needs Python's csv module (see the module docstring).

    Args:
        body: The data lines (no header, no trailing blank lines).
        width: Cells per row (the header's).
        count: Lines in ``body``; a different number of rows read means a lone carriage
            return split a line, and the table is declined.
        numbers: Positions of number columns, read as floats where exact.
    """
    if any(char in body for char in _DECLINED):
        return None
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pv

    names = [f"c{i}" for i in range(width)]
    try:
        table = pv.read_csv(
            pa.py_buffer(body.encode("utf-8") + b"\n"),
            read_options=pv.ReadOptions(column_names=names, use_threads=False),
            parse_options=pv.ParseOptions(quote_char=False, escape_char=False,
                                          double_quote=False, newlines_in_values=False,
                                          ignore_empty_lines=False),
            convert_options=pv.ConvertOptions(column_types={n: pa.string() for n in names},
                                              strings_can_be_null=False,
                                              quoted_strings_can_be_null=False,
                                              check_utf8=False))
    except (pa.ArrowInvalid, UnicodeEncodeError):  # a row with another number of cells
        return None
    if table.num_rows != count:
        return None
    columns, blank = [], np.ones(count, dtype=bool)
    for i, name in enumerate(names):
        cells = table.column(name).combine_chunks()
        trimmed = pc.utf8_trim_whitespace(cells)
        blank &= pc.equal(trimmed, "").to_numpy(zero_copy_only=False)
        if i in numbers:
            values = _arrow_numbers(trimmed, pa, pc)
            if values is not None:
                columns.append(values)
                continue
        text = pd.Series(cells.to_numpy(zero_copy_only=False), dtype=object)
        if pc.any(pc.not_equal(cells, trimmed)).as_py():
            text = text.str.strip()  # Python's own notion of white space
        columns.append(text)
    if blank.any():  # a row of empty cells: the csv path skips it and keeps row numbers
        return None
    return columns


def _arrow_numbers(cells, pa, pc) -> pd.Series | None:
    """Floats of a column of stripped number texts (NaN where empty), or None if a cell is
    not a plain short decimal (see the module docstring)."""
    if len(cells) and pc.max(pc.utf8_length(cells)).as_py() > _SHORT_NUMBER:
        return None
    if pc.any(pc.match_substring_regex(cells, "[+eE]")).as_py():
        return None
    empty = pc.equal(cells, "")
    try:
        parsed = pc.cast(pc.if_else(empty, pa.scalar(None, pa.string()), cells), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    values = parsed.to_numpy(zero_copy_only=False)  # nulls (empty cells) become NaN
    missing = empty.to_numpy(zero_copy_only=False)
    plain = missing | ((np.abs(values) < _EXACT) & ((values != 0) | ~np.signbit(values)))
    if not plain.all():  # NaN or infinity written out, huge, or -0
        return None
    return pd.Series(values, dtype=np.float64)


def _arrow_split_large(text: str, end: int, numeric: Collection[str]):
    """``dss.data.csv_split._split_large`` with pyarrow doing the splitting."""
    from dss.data import csv_split

    first = text.index("\n")
    header = [h.strip() for h in text[:first].split(",")]
    if not all(header):
        return None
    count = text.count("\n", first + 1, end) + 1
    numbers = [i for i, name in enumerate(header) if name in numeric]
    columns = arrow_cells(text[first + 1:end], len(header), count, numbers)
    if columns is None:
        return None
    return csv_split._Records(header, 1, columns, csv_split.data_rows(count), False)


def time_reader(folder: Path, name: str, arrow: bool) -> tuple[float, pd.DataFrame]:
    """Seconds to read and validate one table, and the frame."""
    from dss.data import csv_split, tables
    from dss.data.schema import TABLES as SCHEMA

    original = csv_split._split_large
    if arrow:
        csv_split._split_large = _arrow_split_large
    try:
        start = time.perf_counter()
        read = tables.read_table(folder, SCHEMA[name], [])
        return time.perf_counter() - start, read.frame
    finally:
        csv_split._split_large = original


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subunits", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    try:
        import pyarrow
        import pyarrow.csv as pv
    except ImportError:
        print("pyarrow is not installed (pip install pyarrow): nothing to compare")
        return 1
    from dss.results.writer import write_csv
    from dss.synth import write_study

    print(f"{args.subunits:,} subunits, pyarrow {pyarrow.__version__}, pandas "
          f"{pd.__version__}, {args.repeat} alternating runs per side\n")
    print("| table | MB | dss reader | pyarrow splitting | same frame |")
    print("|---|---:|---:|---:|---|")
    with tempfile.TemporaryDirectory() as tmp:
        model = write_study(Path(tmp) / "study", args.subunits, seed=0)
        folder = model.parent
        for name in TABLES:
            ours, theirs = [], []
            for _ in range(args.repeat):
                seconds, frame = time_reader(folder, name, arrow=False)
                ours.append(seconds)
                seconds, other = time_reader(folder, name, arrow=True)
                theirs.append(seconds)
            try:
                pd.testing.assert_frame_equal(frame, other, check_exact=True)
                same = "yes"
            except AssertionError as err:
                same = f"no: {str(err).splitlines()[0]}"
            size = (folder / f"{name}.csv").stat().st_size / 1e6
            print(f"| {name}.csv | {size:.1f} | {statistics.median(ours):.3f} s | "
                  f"{statistics.median(theirs):.3f} s | {same} |")
        frame = time_reader(folder, "subunits", arrow=False)[1]
        ours, theirs = [], []
        for _ in range(args.repeat):
            buffer = io.BytesIO()
            start = time.perf_counter()
            write_csv(frame, buffer)
            ours.append(time.perf_counter() - start)
            arrow_buffer = io.BytesIO()
            start = time.perf_counter()
            pv.write_csv(pyarrow.Table.from_pandas(frame, preserve_index=False), arrow_buffer)
            theirs.append(time.perf_counter() - start)
        same = buffer.getvalue() == arrow_buffer.getvalue()
        print(f"\nwriter, subunits table ({len(frame):,} rows): dss write_csv "
              f"{statistics.median(ours):.3f} s, pyarrow write_csv "
              f"{statistics.median(theirs):.3f} s, same bytes: {same}")
        first = arrow_buffer.getvalue().decode("utf-8").splitlines()[:2]
        print(f"  pyarrow writes: {first}")
        print(f"  dss writes:     {buffer.getvalue().decode('utf-8').splitlines()[:2]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
