"""The command line loads lazily: ``dss --help`` imports no library, a command its module."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from dss.cli import app
from dss.cli.common import COMMANDS

HEAVY = ("pandas", "numpy", "networkx", "pyomo", "highspy", "scipy")

PROBE = """
import sys
from pathlib import Path
from dss.cli import app
try:
    app({args!r})
except SystemExit:
    pass
print(sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r})))
print(sorted(m for m in sys.modules if m.startswith('dss.cli.')))
"""


def _probe(args: list[str]) -> tuple[str, str]:
    proc = subprocess.run([sys.executable, "-c", PROBE.format(args=args, heavy=HEAVY)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    return lines[-2], lines[-1]


def test_help_imports_no_library() -> None:
    heavy, _modules = _probe(["--help"])
    assert heavy == "[]"


def test_a_command_imports_only_its_module() -> None:
    heavy, modules = _probe(["verify", "--help"])
    assert heavy == "[]"
    assert "dss.cli.verify" in modules
    assert "dss.cli.analysis" not in modules and "dss.cli.fish" not in modules


def test_every_command_is_listed_in_order_and_loads() -> None:
    res = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert res.exit_code == 0
    listed = [line.split()[1] for line in res.output.splitlines()  # not continuation lines
              if line.startswith("│ ") and not line.startswith("│  ")
              and line.split()[1] in COMMANDS]
    assert listed == list(COMMANDS)
    for name in COMMANDS:
        assert CliRunner().invoke(app, [name, "--help"]).exit_code == 0, name


TINY = Path(__file__).parent / "data" / "tiny" / "model.yaml"


def test_a_quick_exit_keeps_exit_codes_and_output(tmp_path: Path) -> None:
    """``python -m dss solve`` ends without the interpreter's teardown (exit_process) yet
    with every line printed, the run folder complete and the exit code of the status."""
    ok = subprocess.run([sys.executable, "-m", "dss", "solve", str(TINY), "--out",
                         str(tmp_path / "a")], capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.rstrip().splitlines()[-1].startswith("Wrote ")
    folder = tmp_path / "a" / "tiny" / "base"
    assert (folder / "manifest.yaml").is_file() and (folder / "duals.csv").is_file()
    model = tmp_path / "model.yaml"
    text = TINY.read_text(encoding="utf-8").replace("inputs: .", f"inputs: {TINY.parent}")
    model.write_text(text.replace("total: 500000", "total: 600000")
                     + "  locks: {type: locks, locked_in: {B: {check_dam: 1}}}\n"
                     "  equity: {type: equity, max_share: 0.5}\n", encoding="utf-8")
    bad = subprocess.run([sys.executable, "-m", "dss", "solve", str(model), "--out",
                          str(tmp_path / "b")], capture_output=True, text=True, timeout=300)
    assert bad.returncode == 3, bad.stderr
    assert bad.stdout.rstrip().splitlines()[-1].startswith("Wrote ")
    assert (tmp_path / "b" / "tiny" / "base" / "shortfalls.csv").is_file()
