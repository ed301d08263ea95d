"""Bad inputs give a located, complete error report, exit code 2, no traceback and no results.

Each case copies the ``tests/data/tiny`` study into a temporary folder, corrupts it in one
realistic way, runs ``dss baseline`` and checks that:

1. the exit code is 2 (invalid input);
2. the report locates the problem as ``file, row N, column C: what is wrong (what is allowed)``
   (rows are spreadsheet rows: header = row 1, first data row = row 2; YAML problems are
   located as ``model.yaml, line N, key K``);
3. there is no traceback;
4. nothing was written: no results folder content, no hidden staging folder, no stray file.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dss.cli import app

TINY = Path(__file__).parent / "data" / "tiny"
RUNNER = CliRunner()

Corrupt = Callable[[Path], None]


# --------------------------------------------------------------------------- corruption helpers


def read_rows(study: Path, table: str) -> list[list[str]]:
    """All records of ``study/<table>.csv`` (the header is records[0], spreadsheet row 1)."""
    with open(study / f"{table}.csv", encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def write_rows(study: Path, table: str, rows: list[list[str]]) -> None:
    """Write records back as UTF-8 CSV."""
    with open(study / f"{table}.csv", "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def set_cell(table: str, row: int, column: str, value: str) -> Corrupt:
    """Set one cell, addressed like a spreadsheet (header = row 1)."""
    def corrupt(study: Path) -> None:
        rows = read_rows(study, table)
        rows[row - 1][rows[0].index(column)] = value
        write_rows(study, table, rows)
    return corrupt


def rename_column(table: str, old: str, new: str) -> Corrupt:
    """Rename a header cell (a typo in a column name)."""
    def corrupt(study: Path) -> None:
        rows = read_rows(study, table)
        rows[0][rows[0].index(old)] = new
        write_rows(study, table, rows)
    return corrupt


def drop_column(table: str, column: str) -> Corrupt:
    """Delete a column entirely."""
    def corrupt(study: Path) -> None:
        rows = read_rows(study, table)
        at = rows[0].index(column)
        write_rows(study, table, [r[:at] + r[at + 1:] for r in rows])
    return corrupt


def keep_rows(table: str, count: int) -> Corrupt:
    """Keep only the first ``count`` records (1 = header only)."""
    def corrupt(study: Path) -> None:
        write_rows(study, table, read_rows(study, table)[:count])
    return corrupt


def write_bytes(name: str, data: bytes) -> Corrupt:
    """Replace a file's bytes."""
    def corrupt(study: Path) -> None:
        (study / name).write_bytes(data)
    return corrupt


def write_text(name: str, text: str) -> Corrupt:
    """Replace a file's text (UTF-8)."""
    return write_bytes(name, text.encode("utf-8"))


def replace_text(name: str, old: str, new: str) -> Corrupt:
    """Replace one exact piece of a file's text."""
    def corrupt(study: Path) -> None:
        path = study / name
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {name}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return corrupt


def delete(name: str) -> Corrupt:
    """Remove a file."""
    def corrupt(study: Path) -> None:
        (study / name).unlink()
    return corrupt


def gbk_names(study: Path) -> None:
    """Save subunits.csv in GBK (as Excel on a Chinese Windows does with 'CSV')."""
    path = study / "subunits.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("gbk"))
    assert "源头".encode("gbk") in path.read_bytes()


def combine(*steps: Corrupt) -> Corrupt:
    """Apply several corruptions in order."""
    def corrupt(study: Path) -> None:
        for step in steps:
            step(study)
    return corrupt


# --------------------------------------------------------------------------- running the CLI


@dataclass(frozen=True)
class Case:
    """One corruption and the lines the error report must contain.

    Attributes:
        corrupt: Changes the copied study in place.
        expect: Substrings that must all appear in the output (location + message).
        args: Command after ``dss``, with ``{model}``, ``{study}`` and ``{out}`` placeholders.
        absent: Substrings that must not appear (e.g. a Python ``None`` leaking into text).
    """

    corrupt: Corrupt
    expect: tuple[str, ...]
    args: tuple[str, ...] = ("baseline", "{model}", "--out", "{out}")
    absent: tuple[str, ...] = field(default=())


def setup_study(tmp_path: Path, corrupt: Corrupt) -> Path:
    """Copy the tiny study into ``tmp_path/study`` and corrupt it."""
    study = tmp_path / "study"
    shutil.copytree(TINY, study)
    corrupt(study)
    return study


def command(case: Case, tmp_path: Path) -> list[str]:
    """The CLI arguments of a case, with its placeholders filled in."""
    model = tmp_path / "study" / "model.yaml"
    out = tmp_path / "results"
    return [a.format(model=model, out=out, study=tmp_path / "study") for a in case.args]


def assert_nothing_written(tmp_path: Path) -> None:
    """No results, no hidden staging folder, no stray file anywhere in ``tmp_path``."""
    out = tmp_path / "results"
    assert not out.exists() or not any(out.iterdir()), sorted(out.rglob("*"))
    others = sorted(p.name for p in tmp_path.iterdir() if p.name not in {"study", "results"})
    assert others == [], others


def assert_report(output: str, exit_code: int, case: Case) -> None:
    """Exit code 2, every expected location and message, one problem per line, no traceback."""
    assert exit_code == 2, output
    assert "Traceback" not in output, output
    assert "internal error" not in output, output
    assert output.startswith("error: "), output
    for expected in case.expect:
        assert expected in output, f"missing {expected!r} in:\n{output}"
    for unexpected in case.absent:
        assert unexpected not in output, f"unexpected {unexpected!r} in:\n{output}"
    lines = output.strip().splitlines()
    assert "problem" in lines[0], output
    assert all(line.startswith("  - ") for line in lines[1:]), output


S = "subunits.csv"
LC = "land_cover.csv"
CP = "control_points.csv"
SH = "species_habitat.csv"
ACT = "actions.csv"
Y = "model.yaml"

CASES: dict[str, Case] = {
    # ---- river network
    "cycle": Case(
        set_cell("subunits", 4, "downstream_id", "A"),
        (f"{S}, row 2, column downstream_id: the drainage links form a cycle: A -> C -> A",),
    ),
    "cycle_without_outlet": Case(
        set_cell("subunits", 7, "downstream_id", "A"),
        (f"{S}, column downstream_id: no outlet",
         f"{S}, row 2, column downstream_id: the drainage links form a cycle: "
         "A -> C -> E -> F -> A"),
    ),
    "dangling_downstream": Case(
        set_cell("subunits", 3, "downstream_id", "Z"),
        (f"{S}, row 3, column downstream_id: downstream subunit 'Z' does not exist",),
    ),
    "drains_into_itself": Case(
        set_cell("subunits", 5, "downstream_id", "D"),
        (f"{S}, row 5, column downstream_id: subunit 'D' drains into itself",),
    ),
    "no_outlet_placeholder": Case(
        set_cell("subunits", 7, "downstream_id", "none"),
        (f"{S}, row 7, column downstream_id: downstream subunit 'none' does not exist "
         "(use a subunit_id from this file, or leave empty at an outlet)",),
    ),
    # ---- keys
    "duplicate_subunit_id": Case(
        set_cell("subunits", 3, "subunit_id", "A"),
        (f"{S}, row 3, column subunit_id: duplicate subunit_id 'A' (first in row 2)",),
    ),
    "duplicate_land_cover_key": Case(
        set_cell("land_cover", 3, "land_class", "forest"),
        (f"{LC}, row 3, column land_class: duplicate subunit_id/land_class ('A', 'forest') "
         "(first in row 2)",),
    ),
    "empty_key_cell": Case(
        set_cell("subunits", 2, "subunit_id", ""),
        (f"{S}, row 2, column subunit_id: empty cell, a value is required",),
        absent=("None",),
    ),
    # ---- header
    "missing_required_column": Case(
        drop_column("subunits", "area_ha"),
        (f"{S}, row 1, column area_ha: missing required column (required: subunit_id, name, "
         "area_ha, township, usle_r, usle_k, usle_ls, sdr; known: ",),
    ),
    "unknown_column_typo": Case(
        rename_column("subunits", "stream_km", "stream_kms"),
        (f"{S}, row 1, column stream_kms: unknown column (did you mean stream_km? known "
         "columns: subunit_id, name,",),
    ),
    "required_column_typo": Case(
        rename_column("land_cover", "area_ha", "Area_ha"),
        (f"{LC}, row 1, column Area_ha: unknown column (did you mean area_ha?",
         f"{LC}, row 1, column area_ha: missing required column"),
    ),
    "duplicate_column": Case(
        rename_column("subunits", "branch", "township"),
        (f"{S}, row 1, column township: column appears twice in the header",),
    ),
    "semicolon_separated": Case(
        lambda study: (study / "land_cover.csv").write_text(
            (TINY / "land_cover.csv").read_text(encoding="utf-8").replace(",", ";"),
            encoding="utf-8"),
        (f"{LC}, row 1: the header has a single column 'subunit_id;land_class;area_ha'; "
         "separate columns with commas",),
    ),
    # ---- rows
    "short_row": Case(
        replace_text("subunits.csv", "0.8,0.2,0.3,1,0\n", "0.8,0.2,0.3\n"),
        (f"{S}, row 4: 18 cells but the header has 20 columns",),
    ),
    "unquoted_comma": Case(
        replace_text("subunits.csv", "Side valley", "Side, valley"),
        (f"{S}, row 5: 21 cells but the header has 20 columns (put a value that contains a "
         "comma in double quotes)",),
    ),
    "unclosed_quote": Case(
        replace_text("subunits.csv", "Side valley", '"Side valley'),
        (f"{S}, row 5: cannot parse as CSV",),
    ),
    "blank_line_keeps_row_numbers": Case(
        combine(replace_text("subunits.csv", "\nB,", "\n\nB,"),
                set_cell("subunits", 5, "area_ha", "abc")),
        (f"{S}, row 5, column area_ha: 'abc' is not a number (a number >= 0)",),
    ),
    # ---- cells
    "non_numeric_cell": Case(
        set_cell("subunits", 3, "area_ha", "100 ha"),
        (f"{S}, row 3, column area_ha: '100 ha' is not a number (a number >= 0)",),
    ),
    "thousands_separator": Case(
        set_cell("subunits", 5, "population", "1,200"),
        (f"{S}, row 5, column population: '1,200' is not a number (a number >= 0)",),
    ),
    "nan_cell": Case(
        set_cell("subunits", 4, "usle_k", "nan"),
        (f"{S}, row 4, column usle_k: missing value 'nan' (a number >= 0;",),
    ),
    "excel_error_cell": Case(
        set_cell("land_classes", 3, "tn_export", "#N/A"),
        ("land_classes.csv, row 3, column tn_export: spreadsheet error '#N/A' instead of a number "
         "(a number >= 0;",),
    ),
    "empty_required_cell": Case(
        set_cell("subunits", 6, "township", ""),
        (f"{S}, row 6, column township: empty cell, a value is required (text)",),
    ),
    "empty_required_number": Case(
        set_cell("subunits", 6, "sdr", ""),
        (f"{S}, row 6, column sdr: empty cell, a value is required (a number >= 0, <= 1)",),
    ),
    "negative_area": Case(
        set_cell("subunits", 3, "area_ha", "-100"),
        (f"{S}, row 3, column area_ha: -100 is below the minimum (a number >= 0)",),
    ),
    "share_above_one": Case(
        set_cell("subunits", 2, "share_core", "1.5"),
        (f"{S}, row 2, column share_core: 1.5 is above the maximum (a number >= 0, <= 1)",),
    ),
    "percent_instead_of_share": Case(
        set_cell("point_sources", 2, "treated_share", "50"),
        ("point_sources.csv, row 2, column treated_share: 50 is above the maximum",),
    ),
    "zone_shares_not_one": Case(
        set_cell("subunits", 3, "share_general", "0.4"),
        (f"{S}, row 3, column share_core: zone shares of 'B' sum to 0.9000 (share_core + "
         "share_general + share_outside must be 1)",),
    ),
    "land_cover_not_area": Case(
        set_cell("land_cover", 2, "area_ha", "50"),
        (f"{LC}, column area_ha: land cover of subunit 'A' (rows 2, 3) sums to 60.00 ha but "
         f"its area_ha in {S} (row 2) is 100.00 ha (must agree within 1%)",),
    ),
    "subunit_without_land_cover": Case(
        replace_text("land_cover.csv", "C,forest,50\n", ""),
        (f"{LC}, column area_ha: subunit 'C' has no land cover rows but its area_ha in {S} "
         "(row 4) is 50.00 ha",),
    ),
    "infinite_value": Case(
        set_cell("subunits", 2, "usle_r", "inf"),
        (f"{S}, row 2, column usle_r: infinite value is not allowed (a number >= 0)",),
    ),
    "huge_value_overflows": Case(
        set_cell("land_classes", 2, "carbon_stock", "1e999"),
        ("land_classes.csv, row 2, column carbon_stock: infinite value is not allowed",),
    ),
    "bad_boolean": Case(
        set_cell("control_points", 2, "cares_tn", "maybe"),
        (f"{CP}, row 2, column cares_tn: 'maybe' is not a boolean (true or false)",),
    ),
    "value_not_allowed": Case(
        set_cell("control_points", 3, "kind", "gauge"),
        (f"{CP}, row 3, column kind: 'gauge' is not allowed (one of reservoir, intake, "
         "monitoring, outlet)",),
    ),
    "non_integer_hazard_sites": Case(
        set_cell("subunits", 3, "hazard_sites", "2.5"),
        (f"{S}, row 3, column hazard_sites: 2.5 is not a whole number (an integer >= 0)",),
    ),
    # ---- references between tables
    "land_cover_unknown_subunit": Case(
        set_cell("land_cover", 4, "subunit_id", "Q"),
        (f"{LC}, row 4, column subunit_id: unknown subunit 'Q' (not in {S}",),
    ),
    "land_cover_wrong_case": Case(
        set_cell("land_cover", 11, "subunit_id", "f"),
        (f"{LC}, row 11, column subunit_id: unknown subunit 'f' (not in {S}; did you mean "
         "'F'?)",),
    ),
    "unknown_land_class": Case(
        set_cell("land_cover", 5, "land_class", "forrest"),
        (f"{LC}, row 5, column land_class: unknown land class 'forrest' (not in "
         "land_classes.csv; did you mean 'forest'?)",),
    ),
    "habitat_unknown_species": Case(
        set_cell("species_habitat", 3, "species", "tiger"),
        (f"{SH}, row 3, column species: unknown species 'tiger' (not in species.csv",),
    ),
    "habitat_larger_than_subunit": Case(
        set_cell("species_habitat", 2, "habitat_ha", "150"),
        (f"{SH}, row 2, column habitat_ha: habitat of 150 ha exceeds the area of subunit 'A' "
         "(at most 100 ha, its area_ha in subunits.csv)",),
    ),
    "action_unknown_applies_to": Case(
        set_cell("actions", 2, "applies_to", "croplands"),
        (f"{ACT}, row 2, column applies_to: applies_to 'croplands' is neither a land class nor "
         "one of point_sources, barriers, hazard_sites, stream",),
    ),
    "action_unknown_leads_to": Case(
        set_cell("actions", 3, "leads_to", "meadow"),
        (f"{ACT}, row 3, column leads_to: unknown land class 'meadow' (not in "
         "land_classes.csv",),
    ),
    "action_land_unit_not_ha": Case(
        set_cell("actions", 2, "unit", "km"),
        (f"{ACT}, row 2, column unit: action on land class 'cropland' must use unit ha",),
    ),
    "control_point_unknown_subunit": Case(
        set_cell("control_points", 3, "subunit_id", "G"),
        (f"{CP}, row 3, column subunit_id: unknown subunit 'G' (not in {S}",),
    ),
    "barrier_missing_required_column": Case(
        drop_column("barriers", "status"),
        ("barriers.csv, row 1, column status: missing required column",),
    ),
    # ---- whole files
    "empty_file": Case(
        write_bytes("subunits.csv", b""),
        (f"{S}: file is empty (expected a header row with columns: subunit_id, name,",),
    ),
    "header_only_required_table": Case(
        keep_rows("actions", 1),
        (f"{ACT}, row 2: table has a header but no data rows",),
    ),
    "header_only_subunits": Case(
        keep_rows("subunits", 1),
        (f"{S}, row 2: table has a header but no data rows",),
    ),
    "gbk_encoding": Case(
        gbk_names,
        (f"{S}, row 2, column name_zh: not valid UTF-8 at byte",
         "save the file as UTF-8 (in Excel: 'CSV UTF-8'; GBK/GB18030 files must be converted)"),
    ),
    "excel_workbook_saved_as_csv": Case(
        write_bytes("land_classes.csv", b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256))),
        ("land_classes.csv: the file is an Excel workbook (.xlsx), not a CSV file",),
    ),
    "utf16_unicode_text": Case(
        lambda study: (study / "species.csv").write_bytes(
            (TINY / "species.csv").read_text(encoding="utf-8").encode("utf-16")),
        ("species.csv: the file is UTF-16 text (Excel 'Unicode Text')",),
    ),
    "missing_required_table": Case(
        delete("land_cover.csv"),
        (f"{LC}: required table not found in study/ (create {LC} with columns: subunit_id, "
         "land_class, area_ha)",),
    ),
    # ---- model file
    "yaml_bad_indentation": Case(
        write_text("model.yaml", "name: tiny\ntitle: Tiny\n  inputs: .\n"),
        (f"{Y}, line 3: malformed YAML at column 9 (mapping values are not allowed here)",),
    ),
    "yaml_unclosed_bracket": Case(
        write_text("model.yaml", "name: tiny\ninputs: .\nsettings: {horizon_years: 10\n"),
        (f"{Y}, line 4: malformed YAML at column 1 (expected ',' or '}}', but got "
         "'<stream end>'; while parsing a flow mapping started at line 3, column 11)",),
    ),
    "yaml_tab_indentation": Case(
        write_text("model.yaml", "name: tiny\ninputs: .\nsettings:\n\thorizon_years: 10\n"),
        (f"{Y}, line 4: malformed YAML at column 1",),
    ),
    "yaml_unknown_key": Case(
        write_text("model.yaml", "name: tiny\ninputs: .\ntitel: Tiny\n"),
        (f"{Y}, line 3, key titel: unknown key (did you mean title? known keys: dss_version, ",
         " name, title,"),
    ),
    "yaml_unknown_nested_key": Case(
        write_text("model.yaml", "name: tiny\ninputs: .\nsettings:\n  horizon_yeras: 10\n"),
        (f"{Y}, line 4, key settings.horizon_yeras: unknown key (did you mean horizon_years? "
         "known keys: horizon_years, area_tolerance, currency, years, benefit_horizon, "
         "discount_rate, maturation)",),
    ),
    "yaml_wrong_type": Case(
        write_text("model.yaml", "name: tiny\ninputs: .\nsettings:\n  horizon_years: ten\n"),
        (f"{Y}, line 4, key settings.horizon_years: Input should be a valid number",),
    ),
    "yaml_missing_inputs": Case(
        write_text("model.yaml", "name: tiny\ntitle: Tiny\n"),
        (f"{Y}, key inputs: required key is missing (Folder holding the input tables",),
    ),
    "yaml_duplicate_key": Case(
        write_text("model.yaml", "name: tiny\ninputs: .\nname: other\n"),
        (f"{Y}, line 3, key name: duplicate key (first on line 1; keep one)",),
    ),
    "yaml_list_not_mapping": Case(
        write_text("model.yaml", "- name: tiny\n- inputs: .\n"),
        (f"{Y}: the model file must be a YAML mapping (key: value) at the top level, "
         "not a list",),
    ),
    "yaml_empty": Case(
        write_text("model.yaml", ""),
        (f"{Y}: the model file is empty",),
    ),
    "yaml_gbk": Case(
        write_bytes("model.yaml", "name: tiny\ntitle: 宝兴河\ninputs: .\n".encode("gbk")),
        (f"{Y}, line 2: not valid UTF-8 at byte",),
    ),
    "inputs_folder_missing": Case(
        write_text("model.yaml", "name: tiny\ninputs: ../nowhere\n"),
        (f"{Y}, line 2, key inputs: inputs folder '../nowhere' not found",),
    ),
    "model_file_missing": Case(
        lambda study: None,
        ("nope.yaml: model file not found",),
        args=("baseline", "{study}/nope.yaml", "--out", "{out}"),
    ),
    "unknown_scenario": Case(
        lambda study: None,
        (f"{Y}, key scenarios: unknown scenario 'nope' (known: base)",),
        args=("validate", "{model}", "--scenario", "nope"),
    ),
    "scenario_override_unknown_key": Case(
        write_text("model.yaml", "name: tiny\ninputs: .\nscenarios:\n  long:\n    overrides:\n"
                   "      settings.horizon_yeras: 20\n"),
        (f"{Y}, line 6, key scenarios.long.overrides.settings.horizon_yeras: unknown key "
         "(did you mean horizon_years?", "(set by scenario 'long')"),
        args=("validate", "{model}", "--scenario", "long"),
    ),
    "set_override_bad_value": Case(
        lambda study: None,
        ("--set: settings.horizon_years: Input should be greater than 0 (got -5)",),
        args=("validate", "{model}", "--set", "settings.horizon_years=-5"),
    ),
    "control_point_kind_case": Case(
        set_cell("control_points", 2, "kind", "Reservoir"),
        (f"{CP}, row 2, column kind: 'Reservoir' is not allowed (did you mean 'reservoir'? one "
         "of reservoir, intake, monitoring, outlet)",),
    ),
    "only_empty_cells": Case(
        write_text("species.csv", ",,,\n,,,\n"),
        ("species.csv, row 1: file has no header row (only empty cells)",),
    ),
    "value_beyond_last_column": Case(
        combine(replace_text("species.csv", "status\n", "status,\n"),
                replace_text("species.csv", "class I\n", "class I,extra note\n")),
        ("species.csv, row 2: 6 cells but the header has 5 columns",),
    ),
    "unnamed_column_with_values": Case(
        write_text("species.csv", "species,name,,status\npanda,Giant panda,x,class I\n"),
        ("species.csv, row 1: column 3 has values but no name in the header (name it or "
         "delete the column)",),
    ),
}


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_bad_input_is_reported(case: Case, tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Each corruption is located, exits 2, prints no traceback and writes nothing."""
    monkeypatch.chdir(tmp_path)
    study = setup_study(tmp_path, case.corrupt)
    before = sorted(study.rglob("*"))
    result = RUNNER.invoke(app, command(case, tmp_path))
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception)
    assert result.stdout == "", "errors belong on stderr"
    assert_report(result.output, result.exit_code, case)
    assert_nothing_written(tmp_path)
    assert sorted(study.rglob("*")) == before, "nothing may be written beside the inputs"


def test_many_problems_are_reported_together(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Problems in several files are all listed in one run."""
    monkeypatch.chdir(tmp_path)
    corrupt = combine(
        set_cell("subunits", 3, "area_ha", "abc"),
        set_cell("subunits", 6, "share_core", "2"),
        set_cell("land_cover", 5, "land_class", "forrest"),
        set_cell("control_points", 2, "kind", "gauge"),
        set_cell("actions", 4, "applies_to", "sewers"),
        set_cell("species_habitat", 4, "species", "tiger"),
        delete("barriers.csv"),
        write_bytes("point_sources.csv", b""),
    )
    case = Case(corrupt, (
        f"{S}, row 3, column area_ha: 'abc' is not a number",
        f"{S}, row 6, column share_core: 2 is above the maximum",
        f"{LC}, row 5, column land_class: unknown land class 'forrest'",
        f"{CP}, row 2, column kind: 'gauge' is not allowed",
        f"{ACT}, row 4, column applies_to: applies_to 'sewers' is neither",
        f"{SH}, row 4, column species: unknown species 'tiger'",
        "point_sources.csv: file is empty",
    ))
    setup_study(tmp_path, corrupt)
    result = RUNNER.invoke(app, command(case, tmp_path))
    assert_report(result.output, result.exit_code, case)
    assert "barriers.csv" not in result.output  # optional table: absence is fine
    assert_nothing_written(tmp_path)


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A table that cannot be read (locked by Excel, no permission) is reported, not raised."""
    monkeypatch.chdir(tmp_path)
    setup_study(tmp_path, lambda study: None)
    real = Path.read_bytes

    def locked(self: Path) -> bytes:
        if self.name == "land_cover.csv":
            raise PermissionError(13, "Permission denied")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", locked)
    result = RUNNER.invoke(app, command(Case(lambda study: None, ()), tmp_path))
    assert_report(result.output, result.exit_code, Case(lambda study: None, (
        f"{LC}: cannot read the file (Permission denied;",)))
    assert_nothing_written(tmp_path)


def test_fixture_is_valid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Control: the uncorrupted copy runs (so the cases fail only for their corruption)."""
    monkeypatch.chdir(tmp_path)
    setup_study(tmp_path, lambda study: None)
    result = RUNNER.invoke(app, ["baseline", str(tmp_path / "study" / "model.yaml"),
                                 "--out", str(tmp_path / "results")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "results" / "tiny" / "baseline" / "manifest.yaml").is_file()


def test_tolerated_formatting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """BOM, CRLF line ends, blank lines, empty Excel rows and padded cells are not errors."""
    monkeypatch.chdir(tmp_path)

    def excel_like(study: Path) -> None:
        path = study / "subunits.csv"
        lines = path.read_text(encoding="utf-8").splitlines()
        lines = [", ".join(line.split(",")) for line in lines]  # spaces after commas
        lines.insert(3, ",,,,,,,,,,,,,,,,,,,")  # a cleared Excel row
        lines.insert(5, "")  # a blank line
        path.write_bytes(("\r\n".join(lines) + "\r\n\r\n").encode("utf-8-sig"))

    setup_study(tmp_path, excel_like)
    result = RUNNER.invoke(app, ["baseline", str(tmp_path / "study" / "model.yaml"),
                                 "--out", str(tmp_path / "results")])
    assert result.exit_code == 0, result.output


SUBPROCESS_CASES = ["cycle", "gbk_encoding", "yaml_unclosed_bracket"]
"""A study error, an encoding error and a model-file error (a process start costs ~1 s)."""


@pytest.mark.parametrize("name", SUBPROCESS_CASES)
def test_real_process_has_no_traceback(name: str, tmp_path: Path) -> None:
    """In a real ``python -m dss`` process: exit 2, report on stderr, no traceback."""
    case = CASES[name]
    setup_study(tmp_path, case.corrupt)
    proc = subprocess.run([sys.executable, "-m", "dss", *command(case, tmp_path)],
                          capture_output=True, text=True, encoding="utf-8", timeout=120,
                          cwd=tmp_path)
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert_report(proc.stderr, proc.returncode, case)
    assert_nothing_written(tmp_path)
