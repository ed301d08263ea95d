"""The ``dss baseline``, ``dss inputs``, ``dss synth`` and ``dss validate`` commands.

``dss baseline`` is run on the default model (``models/baoxing.yaml``, resolved from the
repository root, like a user would) with ``--out`` pointing to a temporary folder.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from dss.cli import app
from dss.data.schema import TABLES
from dss.planning.study import BOUNDARIES as PLANNING_BOUNDARIES

ROOT = Path(__file__).resolve().parent.parent
INPUTS = ROOT / "inputs" / "baoxing"
RUNNER = CliRunner()
BASELINE_TABLES = ("basin", "subunits", "erosion_by_land_class", "habitat", "control_points",
                   "contributions", "point_sources")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _run_baseline(out: Path) -> str:
    """``dss baseline --out <out>`` from the repository root; returns the printed output."""
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        result = RUNNER.invoke(app, ["baseline", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def baoxing(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("results")
    printed = _run_baseline(out)
    return out / "baoxing" / "baseline", printed


def test_baseline_writes_tables_manifest_and_report(baoxing: tuple[Path, str]) -> None:
    folder, _ = baoxing
    written = {p.name for p in folder.iterdir()}
    assert written == {f"{t}.csv" for t in BASELINE_TABLES} | {"manifest.yaml", "report.md"}
    assert [p.name for p in folder.parent.iterdir()] == ["baseline"]  # no staging leftovers
    for stem in BASELINE_TABLES:
        frame = pd.read_csv(folder / f"{stem}.csv")
        assert len(frame) > 0, stem
    subunits = pd.read_csv(folder / "subunits.csv")
    assert subunits["subunit_id"].nunique() == 27
    assert {"subunit_id", "metric", "value", "unit"} <= set(subunits.columns)
    report = (folder / "report.md").read_text(encoding="utf-8")
    assert report.startswith("# Baseline: Baoxing River basin")
    assert "## Loads at control points" in report and "county_outlet" in report


def test_manifest_records_versions_inputs_and_config(baoxing: tuple[Path, str]) -> None:
    folder, _ = baoxing
    manifest = yaml.safe_load((folder / "manifest.yaml").read_text(encoding="utf-8"))
    assert manifest["kind"] == "baseline"
    assert manifest["created"]
    for pkg in ("python", "dss", "pyomo", "highspy", "pandas", "numpy", "networkx"):
        assert manifest["versions"][pkg], pkg
    hashes = manifest["inputs_sha256"]
    csvs = sorted(p for p in INPUTS.glob("*.csv") if p.name != PLANNING_BOUNDARIES.file)
    assert {p.name for p in csvs} == {t.file for t in TABLES.values()}  # + boundaries.csv,
    for path in csvs:  # read by kind: planning models only (dss.planning.study.BOUNDARIES)
        assert hashes[f"inputs/{path.name}"] == _sha256(path), path.name
    assert hashes["model/baoxing.yaml"] == _sha256(ROOT / "models" / "baoxing.yaml")
    assert manifest["config"]["name"] == "baoxing"
    assert float(manifest["config"]["components"]["budget"]["total"]) == 2.0e7
    outputs = manifest["outputs_sha256"]
    assert set(outputs) == {f"{t}.csv" for t in BASELINE_TABLES} | {"report.md"}
    for name, digest in outputs.items():
        assert _sha256(folder / name) == digest, name


def test_summary_prints_the_sourced_county_totals(baoxing: tuple[Path, str]) -> None:
    _, printed = baoxing
    assert printed.startswith("Baseline of Baoxing River basin")
    assert "(27 subunits)" in printed
    expected = [
        r"Area\s+3,114\s+km2",
        r"Forest cover\s+71\.4\d\s+%",
        r"Residents\s+48,040\s+persons",
        r"Individuals: giant_panda\s+181\s+animals",
        r"Hydropower stations\s+47\s+stations",
        r"of which exited\s+11\s+stations",
        r"Geohazard sites\s+416\s+sites",
    ]
    for pattern in expected:
        assert re.search(pattern, printed), pattern
    assert "Control points (routed load):" in printed
    assert re.search(r"county_outlet\s+sediment [\d,]+ t/yr, TN [\d,]+ kg/yr", printed)


def test_basin_table_holds_the_sourced_county_totals(baoxing: tuple[Path, str]) -> None:
    folder, _ = baoxing
    basin = pd.read_csv(folder / "basin.csv").set_index("metric")["value"]
    assert basin["area"] == pytest.approx(3114.0)
    assert 71.40 <= basin["forest_cover"] < 71.50
    assert basin["residents"] == 48040
    assert basin["individuals_giant_panda"] == 181
    assert basin["hydropower_stations"] == 47
    assert basin["hydropower_exited"] == 11
    assert basin["hydropower_active"] == 36
    assert basin["hazard_sites"] == 416
    assert basin["habitat_giant_panda"] == pytest.approx(200032.0)


def test_baseline_twice_is_byte_identical(baoxing: tuple[Path, str],
                                          tmp_path: Path) -> None:
    first, _ = baoxing
    before = {p.name: p.read_bytes() for p in first.iterdir()}
    _run_baseline(tmp_path)
    second = tmp_path / "baoxing" / "baseline"
    _run_baseline(tmp_path)  # and once more into the same folder: replaced, not merged
    after = {p.name: p.read_bytes() for p in second.iterdir()}
    assert set(before) == set(after)
    for name in before:
        if name != "manifest.yaml":
            assert before[name] == after[name], name
    m1, m2 = (yaml.safe_load(b["manifest.yaml"]) for b in (before, after))
    assert m1.pop("created") and m2.pop("created")  # the timestamp is the only difference
    assert m1 == m2


def test_inputs_documents_every_table_and_column() -> None:
    result = RUNNER.invoke(app, ["inputs"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for table in TABLES.values():
        header = [i for i, line in enumerate(lines) if line.startswith(f"{table.file} (")]
        assert len(header) == 1, table.file
        status = "required" if table.required else "optional"
        assert lines[header[0]].startswith(f"{table.file} ({status}): ")
        block = lines[header[0] + 2:header[0] + 2 + len(table.columns)]
        assert [line.split()[0] for line in block] == list(table.names), table.file


def test_inputs_one_table_and_an_unknown_table() -> None:
    result = RUNNER.invoke(app, ["inputs", "barriers"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("barriers.csv (")
    assert "subunits.csv" not in result.output
    result = RUNNER.invoke(app, ["inputs", "barrier"])
    assert result.exit_code == 2
    assert "unknown table 'barrier'" in result.output
    assert "Traceback" not in result.output


def test_synth_writes_a_study_that_validate_accepts(tmp_path: Path) -> None:
    out = tmp_path / "basin"
    result = RUNNER.invoke(app, ["synth", str(out), "--subunits", "300", "--seed", "4"])
    assert result.exit_code == 0, result.output
    assert "Wrote synthetic study with 300 subunits" in result.output
    assert {p.name for p in out.iterdir()} == {t.file for t in TABLES.values()} | {"model.yaml"}
    result = RUNNER.invoke(app, ["validate", str(out)])
    assert result.exit_code == 0, result.output
    assert re.match(r"model\.yaml \[\w+\]: valid \(300 subunits, 8 actions, \d+ control",
                    result.output)
    result = RUNNER.invoke(app, ["baseline", str(out), "--out", str(tmp_path / "results")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "results" / "synth_300_s4" / "baseline" / "basin.csv").is_file()
    again = RUNNER.invoke(app, ["synth", str(out), "--subunits", "300"])
    assert again.exit_code == 2
    assert "already holds a study" in again.output


def test_validate_reports_a_broken_network(tmp_path: Path) -> None:
    out = tmp_path / "basin"
    assert RUNNER.invoke(app, ["synth", str(out), "--subunits", "20"]).exit_code == 0
    sub = (out / "subunits.csv").read_text(encoding="utf-8").splitlines()
    header = sub[0].split(",")
    first = sub[1].split(",")  # S...1, the outlet: make it drain into its own upstream
    second = sub[2].split(",")
    first[header.index("downstream_id")] = second[header.index("subunit_id")]
    sub[1] = ",".join(first)
    (out / "subunits.csv").write_text("\n".join(sub) + "\n", encoding="utf-8")
    result = RUNNER.invoke(app, ["validate", str(out)])
    assert result.exit_code == 2
    assert "cycle" in result.output and "no outlet" in result.output
    assert "Traceback" not in result.output
