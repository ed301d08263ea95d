"""agencies.csv: optional table of agencies with Chinese names, levels and mandates."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dss.cli import app
from dss.data.mandates import MandateItem, covers, parse_mandate
from dss.data.study import load_study
from dss.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
TINY = Path(__file__).parent / "data" / "tiny"
RUNNER = CliRunner()

HEADER = "agency_id,name,name_zh,level,mandate\n"
GOOD = (HEADER + "forestry,Forestry,林业和草原局,county,habitat;carbon\n"
        "natural_resources,Natural resources,自然资源局,county,sediment\n"
        "environment,Environment,生态环境局,city,tn:outlet;tp:outlet\n"
        "water,Water,水利局,county,sediment:reservoir\n")


def _study(tmp_path: Path, agencies: str) -> Path:
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    (folder / "agencies.csv").write_text(agencies, encoding="utf-8")
    return folder


def test_bundled_agencies_have_chinese_names_and_cover_every_action() -> None:
    study = load_study(ROOT / "inputs" / "baoxing")
    agencies = study.agencies.set_index("agency_id")
    assert set(study.actions["agency"]) <= set(agencies.index)
    zh = set(agencies["name_zh"])
    for word in ("林业和草原局", "水利局", "生态环境局", "自然资源局", "大熊猫国家公园"):
        assert any(word in name for name in zh), word
    assert set(agencies["level"]) <= {"county", "city", "province", "national"}


def test_absent_agencies_table_is_an_empty_frame() -> None:
    study = load_study(TINY)
    assert study.agencies.empty
    assert list(study.agencies.columns) == ["agency_id", "name", "name_zh", "level", "mandate"]


def test_valid_agencies_table_loads(tmp_path: Path) -> None:
    study = load_study(_study(tmp_path, GOOD))
    assert list(study.agencies["agency_id"]) == ["forestry", "natural_resources",
                                                 "environment", "water"]
    assert study.agencies.loc[2, "level"] == "city"


def test_every_bad_agency_row_is_reported_at_once(tmp_path: Path) -> None:
    bad = (HEADER + "forestry,Forestry,林业和草原局,village,habitat:tiger;carbon:forest\n"
           "environment,Environment,生态环境局,city,nitrogen;tp:lake\n")
    folder = _study(tmp_path, bad)
    with pytest.raises(InputError) as err:
        load_study(folder)
    text = str(err.value)
    assert "agencies.csv, row 2, column level: 'village' is not allowed" in text
    assert "agencies.csv, row 2, column mandate: unknown species 'tiger'" in text
    assert "agencies.csv, row 2, column mandate: carbon takes no scope" in text
    assert "agencies.csv, row 3, column mandate: unknown benefit 'nitrogen'" in text
    assert "agencies.csv, row 3, column mandate: 'lake' in 'tp:lake' is neither" in text
    # actions of agencies not listed: water (row 5) and natural_resources (row 3)
    assert "actions.csv, row 3, column agency: unknown agency 'natural_resources'" in text
    assert "actions.csv, row 5, column agency: unknown agency 'water'" in text


def test_validate_cli_exits_2_without_traceback(tmp_path: Path) -> None:
    folder = _study(tmp_path, HEADER + "forestry,Forestry,林业局,county,habitats\n")
    result = RUNNER.invoke(app, ["validate", str(folder / "model.yaml")])
    assert result.exit_code == 2, result.output
    assert "unknown benefit 'habitats' in the mandate" in result.output
    assert "did you mean 'habitat'?" in result.output
    assert "Traceback" not in result.output


def test_mandate_parsing_and_coverage() -> None:
    items = parse_mandate(" habitat:giant_panda ; carbon;; sediment:reservoir ")
    assert items == [MandateItem("habitat", "giant_panda"), MandateItem("carbon"),
                     MandateItem("sediment", "reservoir")]
    assert parse_mandate("") == [] and parse_mandate(float("nan")) == []
    assert covers(items, "habitat", ("giant_panda",))
    assert not covers(items, "habitat", ("ya_fish",))
    assert covers(items, "carbon", ())
    assert covers(items, "sediment", ("qiaoqi_reservoir", "reservoir"))
    assert not covers(items, "sediment", ("county_outlet", "outlet"))
    assert not covers(items, "tn", ("qiaoqi_reservoir", "reservoir"))


def test_a_budget_may_name_an_agency_that_owns_no_action_yet() -> None:
    from dss.optimize.problem import Problem

    sets = ["components.budget.per_agency.gpnp=0", "components.budget.per_agency.nobody=0"]
    problem = Problem.from_model(ROOT / "models" / "baoxing.yaml", sets=sets)
    with pytest.raises(InputError) as err:
        problem.solve()
    text = str(err.value)
    assert "unknown agency 'nobody'" in text and "'gpnp'" not in text.split("known:")[0]
    ok = Problem.from_model(ROOT / "models" / "baoxing.yaml", sets=sets[:1]).solve()
    assert ok.status == "optimal"
