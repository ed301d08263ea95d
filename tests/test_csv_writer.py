"""``write_csv`` writes exactly the bytes of ``DataFrame.to_csv`` (its fast path included).

The independent answer is pandas itself: :func:`reference` is the writer as it was before
the fast path (floats in object columns pre-formatted, then ``to_csv``). Explicit frames
cover each tricky value, a property test covers random frames, and the last test checks the
real result tables of a solved synthetic study, including the files the run wrote.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dss.results import writer
from dss.results.writer import write_csv

FMT = "%.10g"
"""The float format of the writer before the fast path."""


def reference(frame: pd.DataFrame, path: Path) -> bytes:
    """The bytes the writer wrote before the fast path existed."""
    mixed = [c for c in frame.columns if frame[c].dtype == object]
    if mixed:
        frame = frame.copy()
        for c in mixed:
            frame[c] = [FMT % v if isinstance(v, float) and v == v else v
                        for v in frame[c]]
    frame.to_csv(path, index=False, float_format=FMT, lineterminator="\n",
                 encoding="utf-8")
    return path.read_bytes()


def written(frame: pd.DataFrame, path: Path) -> bytes:
    write_csv(frame, path)
    return path.read_bytes()


def fast(frame: pd.DataFrame, path: Path | str = "x.csv") -> bool:
    """Whether write_csv takes the fast path for ``frame`` (rather than pandas)."""
    return writer._fast_plan(writer._preformat(frame), path) is not None


def check(frame: pd.DataFrame, folder: Path, expect_fast: bool = True) -> bytes:
    """Assert write_csv's bytes equal the reference's (to a file and to a BytesIO)."""
    expected = reference(frame, folder / "reference.csv")
    assert written(frame, folder / "new.csv") == expected
    buffer = io.BytesIO()
    write_csv(frame, buffer)  # type: ignore[arg-type] - as dss verify does
    assert buffer.getvalue() == expected
    assert fast(frame) is expect_fast
    return expected


SPECIAL_FLOATS = [0.0, -0.0, math.nan, math.inf, -math.inf, 1e-300, 5e-324, 1e300,
                  1.7976931348623157e308, 0.1, 1 / 3, -2.5, 123456789012.0, 1e16, 1e-5,
                  12345.678901234]


# ------------------------------------------------------------------------ explicit cases

def test_floats_nan_inf_negative_zero(tmp_path: Path) -> None:
    n = len(SPECIAL_FLOATS)
    frame = pd.DataFrame({"a": SPECIAL_FLOATS, "b": [1.5] * n, "c": [math.nan] * n})
    text = check(frame, tmp_path).decode()
    assert text.splitlines()[1:4] == ["0,1.5,", "-0,1.5,", ",1.5,"]
    assert "inf,1.5," in text and "-inf,1.5," in text


def test_float_column_without_nan_keeps_format(tmp_path: Path) -> None:
    frame = pd.DataFrame({"x": [math.inf, -0.0, 1e-300], "y": [1.0, 2.0, 3.0]})
    assert check(frame, tmp_path) == b"x,y\ninf,1\n-0,2\n1e-300,3\n"


def test_int_uint_and_bool_columns(tmp_path: Path) -> None:
    frame = pd.DataFrame({
        "i": np.array([0, -1, 2**63 - 1, -(2**63)], dtype=np.int64),
        "u": np.array([0, 1, 2**64 - 1, 7], dtype=np.uint64),
        "small": np.array([1, -2, 3, 4], dtype=np.int8),
        "flag": np.array([True, False, True, np.False_]),
    })
    assert check(frame, tmp_path).decode().splitlines()[1] == "0,0,1,True"


def test_object_column_mixing_everything(tmp_path: Path) -> None:
    values = ["text", None, math.nan, pd.NA, 0.1, -0.0, math.inf, 3, True, False, "",
              12345678901234567890, np.float64(2.5)]
    frame = pd.DataFrame({"v": pd.Series(values, dtype=object), "k": range(len(values))})
    text = check(frame, tmp_path).decode()
    assert text.splitlines()[1:] == [
        "text,0", ",1", ",2", ",3", "0.1,4", "-0,5", "inf,6", "3,7", "True,8", "False,9",
        ",10", "12345678901234567890,11", "2.5,12"]


@pytest.mark.parametrize("values", [
    [1, math.nan, 12345678901234],  # pandas infers float64 after pre-formatting
    [1, None, 2],
    [True, None],
    [True, False],
    [1, pd.NA],
    [None, None],
    [math.nan, math.nan],
    ["a", None],
    [2**70, math.nan],
    [1, "x", 2.5],
])
def test_object_column_inference_after_preformatting(values: list, tmp_path: Path) -> None:
    frame = pd.DataFrame({"v": pd.Series(values, dtype=object), "w": 1.0})
    check(frame, tmp_path)


def test_quoting_of_values(tmp_path: Path) -> None:
    tricky = ["a,b", 'say "hi"', "two\nlines", "carriage\rreturn", "crlf\r\n", '"', ",",
              "\n", "", " lead", "trail ", "tab\there", "中文,汉字", "emoji 🐼", "semi;colon",
              "nul\x00char", '""', "plain"]
    frame = pd.DataFrame({"s": tricky, "o": pd.Series(tricky, dtype=object),
                          "n": range(len(tricky))})
    text = check(frame, tmp_path).decode()
    assert '"a,b","a,b",0\n' in text
    assert '"say ""hi""","say ""hi""",1\n' in text
    assert '"two\nlines","two\nlines",2\n' in text


def test_quoting_only_where_needed(tmp_path: Path) -> None:
    frame = pd.DataFrame({"s": ["x", "y,z", "w"], "t": ["p", "q", "r"]})
    assert check(frame, tmp_path) == b's,t\nx,p\n"y,z",q\nw,r\n'


def test_header_quoting(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a,b": [1.0], 'q"uote': ["x"], "new\nline": [2], "": ["y"],
                          "c\rr": [True], "中文": ["z"]})
    text = check(frame, tmp_path).decode()
    assert text.startswith('"a,b","q""uote","new\nline",,c\rr,中文\n')


def test_string_dtypes_with_missing(tmp_path: Path) -> None:
    frame = pd.DataFrame({
        "default": pd.Series(["a", None, "c,d"]),
        "na_string": pd.Series(["a", pd.NA, ""], dtype="string"),
        "x": [1.0, 2.0, 3.0],
    })
    assert check(frame, tmp_path) == b'default,na_string,x\na,a,1\n,,2\n"c,d",,3\n'


def test_nullable_int_and_boolean(tmp_path: Path) -> None:
    frame = pd.DataFrame({"i": pd.Series([1, None, -3], dtype="Int64"),
                          "b": pd.Series([True, None, False], dtype="boolean"),
                          "u": pd.Series([1, 2, None], dtype="UInt8")})
    assert check(frame, tmp_path) == b"i,b,u\n1,True,1\n,,2\n-3,False,\n"


def test_zero_rows(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": pd.Series([], dtype=float), "b,c": pd.Series([], dtype=object),
                          "d": pd.Series([], dtype="str"), "e": pd.Series([], dtype=int)})
    assert check(frame, tmp_path) == b'a,"b,c",d,e\n'


def test_many_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writer, "_CHUNK_ROWS", 7)
    rng = np.random.default_rng(3)
    values = rng.normal(size=50) * 10.0 ** rng.integers(-20, 20, size=50)
    values[::9] = np.nan
    frame = pd.DataFrame({"id": [f"S{i:03d}" for i in range(50)], "v": values,
                          "w": values * 2, "n": np.arange(50)})
    check(frame, tmp_path)


def test_text_file_object(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [1.5, math.nan], "b": ["x,y", None]})
    buffer = io.StringIO()
    write_csv(frame, buffer)  # type: ignore[arg-type]
    assert buffer.getvalue().encode() == reference(frame, tmp_path / "r.csv")


@pytest.mark.parametrize("frame", [
    pd.DataFrame({"only": ["", "a", None]}),  # csv quotes a lone empty field: ""
    pd.DataFrame({"only": [1.5, math.nan]}),
    pd.DataFrame(),
    pd.DataFrame({"c": pd.Categorical(["a", "b"]), "x": [1.0, 2.0]}),
    pd.DataFrame({"t": pd.to_datetime(["2024-01-01", None]), "x": [1.0, 2.0]}),
    pd.DataFrame({"d": pd.to_timedelta([1, 2], unit="s"), "x": [1.0, 2.0]}),
    pd.DataFrame({"f": pd.Series([1.5, None], dtype="Float64"), "x": [1.0, 2.0]}),
    pd.DataFrame({"f": np.array([0.1, np.nan], dtype=np.float32), "x": [1.0, 2.0]}),
    pd.DataFrame({"z": [1 + 2j, 3j], "x": [1.0, 2.0]}),
    pd.DataFrame({0: [1.0, 2.0], 1: ["a", "b"]}),  # labels that are not strings
    pd.DataFrame({"o": pd.Series([np.int64(3), "a"], dtype=object), "x": [1.0, 2.0]}),
    pd.DataFrame({"o": pd.Series([pd.Timestamp("2024-01-01"), None], dtype=object),
                  "x": [1.0, 2.0]}),
])
def test_left_to_pandas(frame: pd.DataFrame, tmp_path: Path) -> None:
    check(frame, tmp_path, expect_fast=False)


def test_compressed_path_left_to_pandas() -> None:
    frame = pd.DataFrame({"a": [1.0], "b": ["x"]})
    assert fast(frame, "out.csv")
    assert not fast(frame, "out.csv.gz")
    assert not fast(frame, "s3://bucket/out.csv")


def test_quote_characters_match_csv_module() -> None:
    assert set(writer._QUOTE_CHARS) >= {",", '"', "\n"}
    assert " " not in writer._QUOTE_CHARS and ";" not in writer._QUOTE_CHARS


# ----------------------------------------------------------------------- property test

TEXT = st.text(alphabet=st.sampled_from(list('ab ,"\n\r;\t中🐼x1.-')), max_size=6)
FLOATS = st.one_of(st.sampled_from(SPECIAL_FLOATS), st.floats(allow_nan=True,
                                                              allow_infinity=True))
OBJECTS = st.one_of(TEXT, st.none(), st.just(math.nan), st.just(pd.NA), FLOATS,
                    st.integers(-(2**70), 2**70), st.booleans())


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    n_rows = draw(st.integers(0, 12))
    names = draw(st.lists(TEXT, min_size=2, max_size=5, unique=True))
    data = {}
    for name in names:
        kind = draw(st.sampled_from(["float", "int", "bool", "object", "str", "objtext",
                                     "objint"]))
        if kind == "float":
            data[name] = pd.Series(draw(st.lists(FLOATS, min_size=n_rows, max_size=n_rows)),
                                   dtype=np.float64)
        elif kind == "int":
            ints = st.integers(-(2**63), 2**63 - 1)
            data[name] = pd.Series(draw(st.lists(ints, min_size=n_rows, max_size=n_rows)),
                                   dtype=np.int64)
        elif kind == "bool":
            data[name] = pd.Series(draw(st.lists(st.booleans(), min_size=n_rows,
                                                 max_size=n_rows)), dtype=bool)
        elif kind == "str":
            texts = st.one_of(TEXT, st.none())
            data[name] = pd.Series(draw(st.lists(texts, min_size=n_rows, max_size=n_rows)),
                                   dtype="str")
        else:
            values = {"object": OBJECTS, "objtext": st.one_of(TEXT, st.none(), FLOATS),
                      "objint": st.one_of(st.integers(-(2**40), 2**40), st.none())}[kind]
            data[name] = pd.Series(draw(st.lists(values, min_size=n_rows, max_size=n_rows)),
                                   dtype=object)
    return pd.DataFrame(data)


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frame=frames())
def test_random_frames_match_pandas(frame: pd.DataFrame, tmp_path: Path) -> None:
    expected = reference(frame, tmp_path / "reference.csv")
    assert written(frame, tmp_path / "new.csv") == expected


# --------------------------------------------------------------------- real result tables

def test_real_result_tables(tmp_path: Path) -> None:
    from dss.api import run_solve
    from dss.optimize.results import result_tables
    from dss.synth import write_study

    write_study(tmp_path / "s", 300, seed=1)
    run = run_solve(tmp_path / "s" / "model.yaml", results_root=tmp_path / "r")
    tables = result_tables(run.result)
    assert {"subunits", "allocation", "summary"} <= set(tables)
    for stem, frame in tables.items():
        if stem == "timings":  # times differ between calls of result_tables
            continue
        expected = reference(frame, tmp_path / f"{stem}.reference.csv")
        assert written(frame, tmp_path / f"{stem}.new.csv") == expected, stem
        assert (run.folder / f"{stem}.csv").read_bytes() == expected, stem
    for stem in ("subunits", "allocation", "summary", "control_points", "species"):
        assert fast(tables[stem]), stem
