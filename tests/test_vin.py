"""VINs (ISO 3779, North American check digit): known-valid examples, rejections, generated VINs of a run."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twin.config import NetworkConfig, TwinConfig
from twin.domain.vin import VIN_ALPHABET, VinFactory, check_digit, make_vin, model_year_code, validate_vin
from twin.engine.simulation import Simulation
from twin.errors import VinError

KNOWN_VALID = {"1M8GDM9AXKP042788": "X", "1HGCM82633A004352": "3", "JH4KA7561PC008269": "1"}

vin_parts = st.tuples(
    st.text(alphabet=VIN_ALPHABET, min_size=3, max_size=3),
    st.text(alphabet=VIN_ALPHABET, min_size=5, max_size=5),
    st.integers(min_value=1980, max_value=2100),
    st.text(alphabet=VIN_ALPHABET, min_size=1, max_size=1),
    st.integers(min_value=0, max_value=999_999),
)


def with_position_9(vin: str, character: str) -> str:
    return vin[:8] + character + vin[9:]


@pytest.mark.parametrize(("vin", "digit"), KNOWN_VALID.items())
def test_check_digit_of_known_valid_vins(vin: str, digit: str) -> None:
    assert check_digit(vin) == digit
    assert validate_vin(vin) == vin


@pytest.mark.parametrize("vin", KNOWN_VALID)
def test_validate_normalises_case_and_whitespace(vin: str) -> None:
    assert validate_vin(f"  {vin.lower()}\n") == vin


@pytest.mark.parametrize("vin", ["1M8GDM9AXKP04278", "1M8GDM9AXKP0427888", ""])
def test_rejects_wrong_length(vin: str) -> None:
    with pytest.raises(VinError, match="characters"):
        validate_vin(vin)


@pytest.mark.parametrize("letter", ["I", "O", "Q"])
def test_rejects_letters_i_o_q_anywhere(letter: str) -> None:
    for position in (0, 5, 9, 16):
        vin = "1HGCM82633A004352"
        bad = vin[:position] + letter + vin[position + 1 :]
        with pytest.raises(VinError, match=f"position {position + 1}"):
            validate_vin(bad)
        with pytest.raises(VinError):
            validate_vin(bad, check_digit_required=False)


@pytest.mark.parametrize(("vin", "digit"), KNOWN_VALID.items())
def test_wrong_check_digit_is_rejected_unless_not_required(vin: str, digit: str) -> None:
    wrong = "0" if digit != "0" else "1"
    bad = with_position_9(vin, wrong)
    with pytest.raises(VinError, match="check digit"):
        validate_vin(bad)
    # outside North America position 9 is a plain attribute (CALIBRATION.md): the VIN is accepted as given
    assert validate_vin(bad, check_digit_required=False) == bad


def test_model_year_codes_follow_iso_3779() -> None:
    assert [model_year_code(year) for year in (2010, 2018, 2026, 2030, 2031, 2039, 2040)] == [
        "A",
        "J",
        "T",
        "Y",
        "1",
        "9",
        "A",
    ]


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(vin_parts)
def test_make_vin_always_validates(parts: tuple[str, str, int, str, int]) -> None:
    wmi, attributes, year, plant, serial = parts
    vin = make_vin(wmi, attributes, year, plant, serial)
    assert validate_vin(vin) == vin
    assert vin[:3] == wmi and vin[3:8] == attributes and vin[9] == model_year_code(year)
    assert vin[10] == plant and vin[11:] == f"{serial:06d}"


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(vin_parts)
def test_vin_factory_agrees_with_make_vin(parts: tuple[str, str, int, str, int]) -> None:
    factory = VinFactory()
    assert factory.make(*parts) == make_vin(*parts)
    assert factory.make(*parts) == make_vin(*parts)  # second call uses the cached prefix sum


@pytest.mark.parametrize(
    ("wmi", "attributes", "plant", "serial"),
    [
        ("MA", "AAAAA", "K", 1),
        ("MAL", "AAAA", "K", 1),
        ("MAL", "AAAAA", "KK", 1),
        ("MAL", "AAAAA", "K", 1_000_000),
        ("MAL", "AAAAA", "K", -1),
    ],
)
def test_make_vin_rejects_parts_that_do_not_fit(wmi: str, attributes: str, plant: str, serial: int) -> None:
    with pytest.raises(VinError):
        make_vin(wmi, attributes, 2026, plant, serial)


def test_make_vin_rejects_illegal_letters() -> None:
    with pytest.raises(VinError):
        make_vin("MAL", "AIAAA", 2026, "K", 1)


def test_every_vin_of_a_run_is_valid_and_unique() -> None:
    config = TwinConfig(
        network=NetworkConfig(dealers=6, skus=60, vehicles_per_dealer=40),
        horizon_days=60,
        warmup_days=5,
        progress=False,
    )
    simulation = Simulation(config)
    simulation.run()
    vins = [vehicle.vin for vehicle in simulation.vehicles.vehicles]
    built_in_run = sum(1 for vehicle in simulation.vehicles.vehicles if vehicle.ordered_day >= 0)
    assert built_in_run > 0, "the run should build vehicles, not only hold the opening stock"
    assert len(set(vins)) == len(vins)
    for vin in vins:
        assert validate_vin(vin) == vin
    wmis = set(simulation.world.network.plants.code.tolist())
    assert {vin[:3] + vin[10] for vin in vins} <= {code[:3] + code[3] for code in wmis}


def test_vin_model_year_follows_the_run_calendar() -> None:
    config = TwinConfig(
        network=NetworkConfig(dealers=3, skus=50, vehicles_per_dealer=10),
        horizon_days=30,
        warmup_days=1,
        start_date="2030-03-01",
        progress=False,
    )
    simulation = Simulation(config)
    simulation.run()
    start = dt.date.fromisoformat(config.start_date)
    built = [vehicle for vehicle in simulation.vehicles.vehicles if vehicle.ordered_day >= 0]
    assert built
    for vehicle in built:
        year = (start + dt.timedelta(days=int(vehicle.ordered_day))).year
        assert vehicle.vin[9] == model_year_code(year), (vehicle.vin, year)
