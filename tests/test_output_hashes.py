"""Speed work changes no result: ``dss solve`` writes byte-identical files (timings aside).

The bundled Baoxing study and a 10,000-subunit synthetic study (``dss.synth``, seed 0, 8
actions) are solved by a fresh ``python -m dss solve`` process; every file of the run folder
and the console output are hashed after the fields that measure time (or name the machine,
the date, the temporary folder or the library versions) are blanked, and compared with
``tests/data/output_hashes.json``.

Those stored hashes change only in a commit that changes an output on purpose and says so;
regenerate them with ``python tests/test_output_hashes.py``. They were recorded with the
HiGHS version stored beside them: another HiGHS may legitimately find another of several
equally good plans and writes another log, so the test is skipped (saying why) under another
HiGHS version.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml

STORED = Path(__file__).parent / "data" / "output_hashes.json"
SYNTH_SUBUNITS = 10_000

_LOG_TIMES = [
    (re.compile(r"\b\d+(\.\d+)?s\b"), "#s"),  # presolve lines (0s), the B&B table (0.8s)
    (re.compile(r"(?m)^(\s*Timing\s+)\S+$"), r"\1#"),  # the solving report's Timing block
    (re.compile(r"(?m)^(\s+)\d+(\.\d+)? \((Presolve|Solve|Postsolve)\)$"), r"\1# (\3)"),
    (re.compile(r"(?m)^(\s*P-D integral\s+)\S+$"), r"\1#"),
    (re.compile(r"(?m)^(HiGHS run time\s*:\s*)\S+$"), r"\1#"),
    (re.compile(r"Thread count: .*"), "Thread count: #"),
    (re.compile(r"solved in \d+(\.\d+)? s"), "solved in # s"),
]
_CONSOLE_TIMES = [(re.compile(r"\(build \d+(\.\d+)? s, solve \d+(\.\d+)? s\)"),
                   "(build # s, solve # s)"),
                  (re.compile(r" in \d+(\.\d+)? s$", re.M), " in # s")]
_MANIFEST_DROPPED = ("created", "versions", "platform", "command")
_TIMED_OUTPUTS = ("solver.log", "timings.csv")


def _subst(text: str, rules: list) -> str:
    for pattern, repl in rules:
        text = pattern.sub(repl, text)
    return text


def normalised(name: str, data: bytes, folder: Path) -> bytes:
    """The bytes of one output with its timing (and machine) fields blanked."""
    if name == "solver.log":
        return _subst(data.decode("utf-8"), _LOG_TIMES).encode("utf-8")
    if name == "timings.csv":
        lines = data.decode("utf-8").splitlines()
        return "\n".join([lines[0]] + [re.sub(r",[^,]*,", ",#,", line)
                                       for line in lines[1:]]).encode("utf-8")
    if name == "manifest.yaml":
        manifest = yaml.safe_load(data)
        for key in _MANIFEST_DROPPED:
            manifest.pop(key, None)
        for key in ("build_seconds", "solve_seconds"):
            manifest.get("solver", {}).pop(key, None)
        for key in _TIMED_OUTPUTS:
            manifest.get("outputs_sha256", {}).pop(key, None)
        return json.dumps(manifest, ensure_ascii=False).encode("utf-8")
    if name == "console":
        text = data.decode("utf-8").replace(str(folder), "<out>")
        return _subst(text, _CONSOLE_TIMES).encode("utf-8")
    return data


def solve_hashes(model: Path, out: Path) -> dict[str, str]:
    """Solve ``model`` in a fresh process and hash each normalised output."""
    env = {**os.environ, "COLUMNS": "100"}
    proc = subprocess.run([sys.executable, "-m", "dss", "solve", str(model), "--out",
                           str(out)], capture_output=True, env=env, cwd=out.parent,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    (folder,) = [p for p in out.glob("*/*") if p.is_dir()]
    hashes = {"console": hashlib.sha256(normalised("console", proc.stdout, out)).hexdigest()}
    for path in sorted(folder.iterdir()):
        hashes[path.name] = hashlib.sha256(
            normalised(path.name, path.read_bytes(), out)).hexdigest()
    return hashes


def study_hashes(which: str, tmp: Path) -> dict[str, str]:
    """Hashes of the ``baoxing`` or ``synth`` study's outputs, solved under ``tmp``."""
    if which == "baoxing":
        from dss.examples import copy_example

        model = copy_example("baoxing", tmp / "example")
    else:
        from dss.synth import write_study

        model = write_study(tmp / "study", SYNTH_SUBUNITS, seed=0, n_actions=8)
    out = tmp / "results"
    out.mkdir()
    return solve_hashes(model, out)


def _highs_version() -> str:
    return ".".join(version("highspy").split(".")[:2])


@pytest.mark.parametrize("which", ["baoxing", "synth"])
def test_outputs_are_unchanged(which: str, tmp_path: Path) -> None:
    stored = json.loads(STORED.read_text(encoding="utf-8"))
    if stored["highspy"] != _highs_version():
        pytest.skip(f"hashes recorded with highspy {stored['highspy']}, installed "
                    f"{_highs_version()}: regenerate them (python tests/test_output_hashes.py)"
                    " in a commit that says so")
    got = study_hashes(which, tmp_path)
    want = stored[which]
    assert sorted(got) == sorted(want), "the run folder holds other files"
    changed = [name for name in want if got[name] != want[name]]
    assert not changed, f"{which}: outputs changed: {changed}"


def test_normalising_blanks_only_timings() -> None:
    log = ("5623 rows, 35930 cols 0s\n  Timing            0.79\n"
           "                    0.48 (Presolve)\n")
    assert normalised("solver.log", log.encode(), Path("/x")) == \
        b"5623 rows, 35930 cols #s\n  Timing            #\n                    # (Presolve)\n"
    csv = b"metric,value,unit\nbuild_time,0.2,s\nsolve_time,0.9,s"
    assert normalised("timings.csv", csv, Path("/x")) == \
        b"metric,value,unit\nbuild_time,#,s\nsolve_time,#,s"
    assert normalised("allocation.csv", b"a,1.5s\n", Path("/x")) == b"a,1.5s\n"


if __name__ == "__main__":  # regenerate the stored hashes
    import tempfile

    record = {"highspy": _highs_version()}
    for study in ("baoxing", "synth"):
        with tempfile.TemporaryDirectory() as tmpdir:
            record[study] = study_hashes(study, Path(tmpdir))
    STORED.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {STORED}")
