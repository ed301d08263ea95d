"""A seeded mutation fuzzer over the bundled Baoxing study (GitHub issue 13).

Where ``tests/test_fuzz.py`` lets Hypothesis corrupt the six-subunit ``tiny`` study, this
fuzzer takes the real bundled study (``models/baoxing.yaml``, ``models/baoxing_park.yaml`` and
every table of ``inputs/baoxing/``) and applies one to three seeded random mutations per case:
hostile cells (non-finite, huge, negative, text, paths, Chinese), broken rows and headers,
damaged files (truncated, flipped bytes, other encodings, deleted) and hostile model-file
text (alias bombs, recursive aliases, deep nesting, scenario keys and study names that are
paths, out-of-range parameters).

Each case runs ``dss validate``, then ``dss baseline`` or ``dss solve`` (allocation or park
design), in process, each under a 30 s limit. Every command must end in a result or a
located error (exit 2) that names a study file, never a traceback, an ``internal error`` or
a hang; nothing may be written outside the results folder, nothing at all on exit 2; and
``dss validate`` must agree with ``dss solve`` on whether the inputs are valid.

``DSS_BAOXING_FUZZ_CASES`` sets the number of cases (default 300, seed
``DSS_BAOXING_FUZZ_SEED``, default 13): with the 1,000 Hypothesis cases, CI tries 1,300
mutated studies and model files.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from test_fuzz import check_run_folder, time_limit
from typer.testing import CliRunner

from dss.cli import app

ROOT = Path(__file__).resolve().parents[1]
CASES = int(os.environ.get("DSS_BAOXING_FUZZ_CASES", "300"))
SEED = int(os.environ.get("DSS_BAOXING_FUZZ_SEED", "13"))
CASE_TIMEOUT = 30.0
RUNNER = CliRunner()

MODELS = {"baoxing.yaml": (ROOT / "models" / "baoxing.yaml").read_bytes(),
          "baoxing_park.yaml": (ROOT / "models" / "baoxing_park.yaml").read_bytes()}
TABLES = {p.name: p.read_bytes() for p in sorted((ROOT / "inputs" / "baoxing").glob("*.csv"))}
FILES = sorted([*MODELS, *TABLES])

HOSTILE_CELLS = ["", " ", "inf", "-inf", "nan", "NaN", "1e400", "-1e400", "1e16", "-1", "-0",
                 "0", "1e-320", "abc", "TRUE", "#REF!", "../../x", "/etc/passwd", "宝兴",
                 "E1", "E99", "core", "9" * 40, '"', "'", "a,b", "\u202e", "1_000", "0x10"]
YAML_VALUES = ["-5", ".nan", ".inf", "lots", "[1, 2]", "{a: 1}", "null", "7", "1e16", "0",
               "'../../x'", "true", "-1e308", "宝兴"]

FUZZ_STATS: dict = {"label": "bundled Baoxing study, seeded", "baseline": 0, "solve": 0,
                    "validate": 0, "seconds": 0.0, "cpu": 0.0, "outcomes": {}}
"""Cases run and their outcomes, printed by ``conftest.pytest_terminal_summary``."""

Files = dict[str, bytes | None]


# ------------------------------------------------------------------------------- mutations


def _csv_lines(data: bytes) -> list[str] | None:
    try:
        return data.decode("utf-8").split("\n")
    except UnicodeDecodeError:
        return None


def mutate_table(rng: random.Random, files: Files, name: str) -> str:
    """One damage to a table; returns what was done (for the failure message)."""
    data = files[name]
    if data is None:
        return f"{name}: already deleted"
    lines = _csv_lines(data)
    kind = rng.choice(["cell", "cell", "cell", "number", "number", "number", "row", "header",
                       "file", "reference"])
    if lines is None or len([line for line in lines if line]) < 2:
        kind = "file"
    body = [i for i, line in enumerate(lines or []) if i > 0 and line]
    if kind in ("cell", "reference", "number"):
        i = rng.choice(body)
        cells = lines[i].split(",")
        j = rng.randrange(len(cells))
        if kind == "reference":
            ids = [line.split(",")[0] for line in lines[1:] if line]
            value = rng.choice(ids + ["", "E99"])
        elif kind == "number":  # plausible damage: the study often stays valid
            if not re.fullmatch(r"-?[0-9.eE+-]+", cells[j]):
                return f"{name} row {i + 1} cell {j + 1}: not a number, left alone"
            value = rng.choice(["0", "0.5", "1", "2", "10", "1000", "1e6", "0.001"])
        else:
            value = rng.choice(HOSTILE_CELLS)
        cells[j] = value
        lines[i] = ",".join(cells)
        what = f"{name} row {i + 1} cell {j + 1} = {value!r}"
    elif kind == "row":
        i = rng.choice(body)
        op = rng.choice(["delete", "duplicate", "short", "long"])
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "short":
            lines[i] = lines[i].rsplit(",", 1)[0]
        else:
            lines[i] += ",extra"
        what = f"{name} row {i + 1} {op}"
    elif kind == "header":
        header = lines[0].split(",")
        op = rng.choice(["rename", "duplicate", "delete", "swap"])
        j, k = rng.randrange(len(header)), rng.randrange(len(header))
        if op == "rename":
            header[j] = header[j] + "x"
        elif op == "duplicate":
            header[k] = header[j]
        elif op == "swap":
            header[j], header[k] = header[k], header[j]
        else:
            for n, line in enumerate(lines):
                if line:
                    cells = line.split(",")
                    if j < len(cells):
                        del cells[j]
                    lines[n] = ",".join(cells)
            header = lines[0].split(",")
        lines[0] = ",".join(header)
        what = f"{name} header {op} {j} {k}"
    else:
        return mutate_file(rng, files, name)
    files[name] = "\n".join(lines).encode("utf-8")
    return what


def mutate_file(rng: random.Random, files: Files, name: str) -> str:
    """Damage to a whole file: deleted, emptied, truncated, bytes flipped, re-encoded."""
    data = files[name] or b""
    op = rng.choice(["delete", "empty", "truncate", "flip", "latin1", "utf16", "bom"])
    if op == "delete":
        files[name] = None
    elif op == "empty":
        files[name] = b""
    elif op == "truncate":
        files[name] = data[: rng.randrange(len(data) + 1)]
    elif op == "flip":
        buf = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            if buf:
                buf[rng.randrange(len(buf))] = rng.randrange(256)
        files[name] = bytes(buf)
    elif op == "latin1":
        files[name] = data.decode("utf-8", "replace").encode("latin-1", "replace")
    elif op == "utf16":
        files[name] = data.decode("utf-8", "replace").encode("utf-16")
    else:
        files[name] = b"\xef\xbb\xbf" + data
    return f"{name} {op}"


def mutate_model(rng: random.Random, files: Files, name: str) -> str:
    """Hostile model-file text: bombs, depth, path names, bad parameter values."""
    data = files[name]
    if data is None:
        return f"{name}: already deleted"
    text = data.decode("utf-8", "replace")
    op = rng.choice(["bomb", "recursive", "deep", "scenario", "name", "threads", "value",
                     "value", "value", "unknown", "file"])
    if op == "bomb":
        size = rng.randint(3, 9)
        text += "\nbomb:\n  l0: &l0 [" + ",".join(['"lol"'] * size) + "]\n"
        for level in range(1, size):
            text += f"  l{level}: &l{level} [" + ",".join([f"*l{level - 1}"] * size) + "]\n"
    elif op == "recursive":
        text += "\nloop: &loop {a: *loop}\n"
    elif op == "deep":
        depth = rng.choice([65, 500, 3000])
        text += "\ndeep: " + "{a: " * depth + "1" + "}" * depth + "\n"
    elif op == "scenario":
        key = rng.choice(["'../../escaped'", "'..'", "/tmp/abs", "a/b", ".hidden", "'x:y'",
                          "基线"])
        text = text.replace("\nscenarios:\n", f"\nscenarios:\n  {key}:\n    overrides: "
                                              "{solver.mip_gap: 0.001}\n", 1)
    elif op == "name":
        value = rng.choice(["'../../escaped'", "'..'", "/tmp/abs", "a/b", ".hidden", "宝兴"])
        text = re.sub(r"(?m)^name: .*$", f"name: {value}", text, count=1)
    elif op == "threads":
        text += "\n# threads\n" if "solver:" in text else ""
        value = rng.choice(["100000", "-1", "0", "1", "1099511627776", "two"])
        text = re.sub(r"(?m)^solver:.*$", "solver:", text, count=1)
        text = text.replace("\nsolver:\n", f"\nsolver:\n  threads: {value}\n", 1) \
            if "\nsolver:\n" in text else text + f"\nsolver: {{threads: {value}}}\n"
    elif op in ("value", "unknown"):
        lines = text.split("\n")
        candidates = [i for i, line in enumerate(lines)
                      if re.match(r"^\s+[a-z_]+: [^\s#{\[]", line) and "type:" not in line]
        if not candidates:
            return f"{name}: no value to change"
        i = rng.choice(candidates)
        indent, key = re.match(r"^(\s+)([a-z_]+):", lines[i]).groups()
        if op == "value":
            lines[i] = f"{indent}{key}: {rng.choice(YAML_VALUES)}"
        else:
            lines[i] = f"{indent}{key}x: 1"
        text = "\n".join(lines)
    else:
        return mutate_file(rng, files, name)
    files[name] = text.encode("utf-8")
    return f"{name} {op}"


def make_case(rng: random.Random) -> tuple[Files, str, str, list[str]]:
    """A damaged copy of the study, the model to run, the command and what was done."""
    files: Files = {**MODELS, **TABLES}
    model = "baoxing_park.yaml" if rng.random() < 0.2 else "baoxing.yaml"
    command = rng.choice(["solve", "solve", "baseline"]) if model == "baoxing.yaml" \
        else "solve"
    done = []
    for _ in range(rng.randint(1, 3)):
        target = rng.choice([model, model, *TABLES])
        done.append(mutate_model(rng, files, target) if target.endswith(".yaml")
                    else mutate_table(rng, files, target))
    return files, model, command, done


# ------------------------------------------------------------------------------- checking


LOCATED = re.compile(
    r"^  - (?P<file>[^\n]+?)(?:, (?:row|line) \d+)?(?:, (?:column|key) [^\n]*?)?: \S")


def check_error(output: str, what: list[str]) -> None:
    """A summary line, then one located problem per line, each naming a study file."""
    lines = output.rstrip("\n").split("\n")
    assert lines[0].startswith("error: ") and re.search(r"\d+ problems? found$", lines[0]), \
        (what, output)
    assert len(lines) >= 2, (what, output)
    for line in lines[1:]:
        match = LOCATED.match(line)
        assert match, (what, f"unlocated problem line {line!r}", output)
        file = Path(match.group("file")).name
        assert file in FILES or file in ("baoxing", "inputs", "models", "--set") \
            or file.endswith((".csv", ".yaml")), (what, f"names no study file: {line!r}")


def invoke(args: list[str], what: list[str]):
    with time_limit(CASE_TIMEOUT):
        result = RUNNER.invoke(app, args)
    output = result.output
    assert "Traceback" not in output and "internal error" not in output, (what, output)
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        (what, repr(result.exception), output)
    return result


def run_case(rng: random.Random) -> None:
    files, model, command, what = make_case(rng)
    start, cpu = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory(prefix="dss-fuzz-baoxing-") as tmp:
        root = Path(tmp)
        (root / "models").mkdir()
        (root / "inputs" / "baoxing").mkdir(parents=True)
        for name, data in files.items():
            if data is not None:
                folder = root / "models" if name.endswith(".yaml") else \
                    root / "inputs" / "baoxing"
                (folder / name).write_bytes(data)
        before = sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))
        model_path = root / "models" / model
        out = root / "results"
        validated = invoke(["validate", str(model_path)], what)
        assert validated.exit_code in (0, 2), (what, validated.output)
        if validated.exit_code == 2:
            check_error(validated.stderr, what)
        result = invoke([command, str(model_path), "--out", str(out)], what)
        code = result.exit_code
        if code == 2:
            check_error(result.stderr, what)
            assert not out.exists() or not any(out.rglob("*")), (what, list(out.rglob("*")))
        else:
            assert code in (0, 3, 4, 6, 7), (what, code, result.output)
            check_run_folder(out)
        after = sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                       if not p.is_relative_to(out))
        assert after == before, (what, "written outside the results folder")
        if validated.exit_code == 0:
            assert code != 2, (what, f"validate said valid, {command} refused", result.output)
        elif command == "solve":
            assert code == 2, (what, f"validate refused, solve ran (exit {code})")
    FUZZ_STATS["validate"] += 1
    FUZZ_STATS[command] += 1
    FUZZ_STATS["seconds"] += time.perf_counter() - start
    FUZZ_STATS["cpu"] += time.process_time() - cpu
    key = f"{command} exit {code}"
    FUZZ_STATS["outcomes"][key] = FUZZ_STATS["outcomes"].get(key, 0) + 1


BATCHES = 10


@pytest.mark.parametrize("batch", range(BATCHES))
def test_fuzz_bundled_study(batch: int) -> None:
    """``CASES / BATCHES`` seeded cases per batch (each batch its own seed, so a failure
    names a batch that can be rerun alone)."""
    rng = random.Random(SEED * 1000 + batch)
    for _ in range(-(-CASES // BATCHES)):
        run_case(rng)


def test_fixture_is_valid() -> None:
    """Control: the undamaged study validates and solves (so failures come from damage)."""
    for model in MODELS:
        path = ROOT / "models" / model
        assert RUNNER.invoke(app, ["validate", str(path)]).exit_code == 0
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(ROOT / "models", Path(tmp) / "models")
        shutil.copytree(ROOT / "inputs", Path(tmp) / "inputs")
        result = RUNNER.invoke(app, ["solve", str(Path(tmp) / "models" / "baoxing.yaml"),
                                     "--out", str(Path(tmp) / "res")])
        assert result.exit_code == 0, result.output
