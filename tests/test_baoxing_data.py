"""Checks that the bundled Baoxing study tables reproduce the sourced county totals.

The tables are read with pandas directly, independent of the dss loaders; the sourced figures
and their references are listed in inputs/baoxing/README.md.
"""

from pathlib import Path

import pandas as pd
import pytest

DATA = Path(__file__).parents[1] / "inputs" / "baoxing"


def read(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / f"{name}.csv", keep_default_na=False, na_values=[""])


@pytest.fixture(scope="module")
def subunits() -> pd.DataFrame:
    return read("subunits")


@pytest.fixture(scope="module")
def land_cover() -> pd.DataFrame:
    return read("land_cover")


def test_27_subunits_with_reference_ids(subunits):
    expected = (
        [f"E{i}" for i in range(1, 13)]
        + [f"W{i}" for i in range(1, 7)]
        + [f"M{i}" for i in range(1, 10)]
    )
    assert len(subunits) == 27
    assert sorted(subunits["subunit_id"]) == sorted(expected)
    assert subunits["subunit_id"].is_unique


def test_total_area_is_3114_km2(subunits):
    assert subunits["area_ha"].sum() == pytest.approx(311_400.0)


def test_exactly_one_outlet_m9(subunits):
    outlets = subunits[subunits["downstream_id"].isna()]
    assert list(outlets["subunit_id"]) == ["M9"]
    ids = set(subunits["subunit_id"])
    assert set(subunits["downstream_id"].dropna()) <= ids


def test_every_subunit_reaches_the_outlet(subunits):
    down = dict(zip(subunits["subunit_id"], subunits["downstream_id"], strict=True))
    for sid in down:
        seen, node = set(), sid
        while isinstance(node, str):
            assert node not in seen, f"cycle through {node}"
            seen.add(node)
            node = down[node]
        assert "M9" in seen


def test_zone_shares_sum_to_one(subunits):
    shares = subunits[["share_core", "share_general", "share_outside"]].sum(axis=1)
    assert (shares - 1.0).abs().max() < 1e-9


def test_population_is_census_total(subunits):
    assert subunits["population"].sum() == pytest.approx(48_040)


def test_hazard_sites_total(subunits):
    assert subunits["hazard_sites"].sum() == 416


def test_land_cover_sums_to_subunit_area(subunits, land_cover):
    totals = land_cover.groupby("subunit_id")["area_ha"].sum()
    area = subunits.set_index("subunit_id")["area_ha"]
    covered = totals.reindex(area.index).fillna(0.0)
    rel = ((covered - area).abs() / area).max()
    assert rel <= 1e-6
    assert (land_cover["area_ha"] > 0).all()
    assert not land_cover.duplicated(["subunit_id", "land_class"]).any()


def test_land_cover_classes_are_declared(land_cover):
    classes = read("land_classes")
    assert set(land_cover["land_class"]) <= set(classes["land_class"])


def test_forest_cover_is_71_4_percent(land_cover):
    classes = read("land_classes")
    forest_classes = set(classes.loc[classes["is_forest"].astype(bool), "land_class"])
    assert forest_classes == {"forest", "shrub"}
    forest = land_cover.loc[land_cover["land_class"].isin(forest_classes), "area_ha"].sum()
    cover = 100.0 * forest / land_cover["area_ha"].sum()
    assert abs(cover - 71.4) <= 0.05


def test_giant_panda_individuals_total_181():
    habitat = read("species_habitat")
    pandas_ = habitat[habitat["species"] == "giant_panda"]
    assert pandas_["individuals"].sum() == pytest.approx(181)


def test_panda_habitat_is_third_survey_total():
    habitat = read("species_habitat")
    pandas_ = habitat[habitat["species"] == "giant_panda"]
    assert pandas_["habitat_ha"].sum() == pytest.approx(200_032)


def test_47_hydropower_stations_with_11_exited():
    barriers = read("barriers")
    assert len(barriers) == 47
    assert barriers["barrier_id"].is_unique
    assert (barriers["status"] == "exited").sum() == 11
    assert (barriers["status"] == "active").sum() == 36


def test_resident_point_sources_match_population(subunits):
    sources = read("point_sources")
    residents = sources[sources["kind"] == "resident"]
    assert residents["person_equivalents"].sum() == pytest.approx(48_040)
