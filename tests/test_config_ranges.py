"""Every numeric setting declares its range, and ``validate`` checks it before anything is built (issue 19).

Item 1: values that used to run to completion with wrong results (a margin of 5, an infinite lead time,
negative days' supply) are refused naming the key and the value. Item 2: values that used to end in a
traceback (a negative seed, an infinite multiplier, a horizon whose state cannot fit in memory) are refused
the same way, and the CLI prints one line and exits 2.
"""

from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path
from typing import Any

import pytest

import twin.config as config_module
from tests.helpers.entry_points import run_entry
from twin.config import (
    POLICY_OPTIONS,
    CompareConfig,
    DemandConfig,
    NetworkConfig,
    OperationsConfig,
    Range,
    TwinConfig,
    state_memory_bytes,
    validate,
    validate_compare,
)
from twin.errors import ConfigError

REPOSITORY = Path(__file__).resolve().parents[1]
#: a field's type names a number (bools are not numbers; ``Any`` holds a policy option, walked on its own)
NUMERIC_TYPE = re.compile(r"\b(int|float)\b")


def _config_dataclasses() -> list[type]:
    return [
        value
        for value in vars(config_module).values()
        if isinstance(value, type)
        and dataclasses.is_dataclass(value)
        and value.__module__ == config_module.__name__
        and value is not Range
    ]


def _numeric_fields(cls: type) -> list[dataclasses.Field[Any]]:
    return [setting for setting in dataclasses.fields(cls) if NUMERIC_TYPE.search(str(setting.type))]


def test_every_numeric_field_of_every_config_class_declares_a_range() -> None:
    classes = _config_dataclasses()
    # every policy option is among them, so an option's own field cannot go unchecked either
    assert {cls for family in POLICY_OPTIONS.values() for cls in family.values()} <= set(classes)
    missing = [
        f"{cls.__name__}.{setting.name}"
        for cls in classes
        for setting in _numeric_fields(cls)
        if not isinstance(setting.metadata.get("range"), Range)
    ]
    assert not missing, f"numeric settings without a declared range: {missing}"
    declared = {(cls.__name__, setting.name) for cls in classes for setting in _numeric_fields(cls)}
    assert len(declared) > 150  # the walk really saw the settings (inherited fields count per class)


#: an option that cannot run without a setting of its own gets the example's
EXAMPLE_LEVELS = Path(__file__).resolve().parents[1] / "experiments/textbook/two_dealers/levels.csv"


def _with_option(family: str, option: str) -> TwinConfig:
    config = TwinConfig()
    settings = POLICY_OPTIONS[family][option]()
    if option == "levels_table":
        settings.levels_path = str(EXAMPLE_LEVELS)
    setattr(config.policy, family, settings)
    return config


def _numeric_paths(node: Any, key: str) -> list[tuple[str, Any, str]]:
    """(dotted key, owning object, field name) of every numeric scalar setting under ``node``."""
    found: list[tuple[str, Any, str]] = []
    for setting in dataclasses.fields(node):
        value = getattr(node, setting.name)
        name = f"{key}.{setting.name}" if key else setting.name
        if setting.metadata.get("range") is not None and not isinstance(value, list | dict):
            found.append((name, node, setting.name))
        elif dataclasses.is_dataclass(value):
            found.extend(_numeric_paths(value, name))
    return found


@pytest.mark.parametrize(
    ("family", "option"), [(family, option) for family in POLICY_OPTIONS for option in POLICY_OPTIONS[family]]
)
def test_defaults_pass_and_nan_is_refused_in_every_field_of_every_option(family: str, option: str) -> None:
    assert validate(_with_option(family, option))
    for name, _, _ in _numeric_paths(_with_option(family, option), ""):
        config = _with_option(family, option)
        owner, attribute = next(
            (owner, attr) for key, owner, attr in _numeric_paths(config, "") if key == name
        )
        setattr(owner, attribute, math.nan)
        with pytest.raises(ConfigError) as caught:
            validate(config)
        assert caught.value.field == name
        assert f"{name}=nan" in str(caught.value)


def test_compare_defaults_pass_and_its_numbers_are_checked() -> None:
    arms = {"baseline": [], "other": ["seed=2"]}
    assert validate_compare(CompareConfig(arms=arms))
    with pytest.raises(ConfigError, match=r"^alpha=1\.5: must be in \(0, 1\)"):
        validate_compare(CompareConfig(arms=arms, alpha=1.5))
    with pytest.raises(ConfigError, match=r"^logger\.max_artifact_mb=-1\.0: "):
        validate_compare(CompareConfig(arms=arms, logger=config_module.LoggerConfig(max_artifact_mb=-1.0)))
    for name in ("../../x", "", "a/b", ".."):  # the name is a folder under outputs/compare, never a path
        with pytest.raises(ConfigError, match=r"^name="):
            validate_compare(CompareConfig(arms=arms, name=name))


def _refused(config: TwinConfig) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        validate(config)
    return caught.value


def test_item_1_values_that_ran_to_a_wrong_result_are_refused() -> None:
    margin = _refused(TwinConfig(operations=OperationsConfig(vehicle_margin_share=5)))
    assert str(margin) == "operations.vehicle_margin_share=5: must be in [0, 1) (share of the price)"
    lead_time = _refused(TwinConfig(operations=OperationsConfig(supplier_lead_time_days=math.inf)))
    assert str(lead_time).startswith("operations.supplier_lead_time_days=inf: must be a finite number")

    config = TwinConfig()
    config.policy.allocation.target_days_supply = -10.0
    assert _refused(config).field == "policy.allocation.target_days_supply"
    for name, value in (("dealer_trade_share", -0.1), ("max_distance_km", -5.0)):
        config = _with_option("sourcing", "network")
        setattr(config.policy.sourcing, name, value)
        error = _refused(config)
        assert (error.field, error.value) == (f"policy.sourcing.{name}", value)
        assert "not negative" in error.reason
    for name in ("workshop_repair_days_mean", "counter_pickup_days_mean"):
        error = _refused(TwinConfig(demand=DemandConfig(**{name: -2.0})))
        assert error.field == f"demand.{name}" and error.value == -2.0
    config = TwinConfig()
    config.policy.replenishment.phase_in_lines_per_year = -1
    assert _refused(config).field == "policy.replenishment.phase_in_lines_per_year"


def test_the_value_is_reported_as_given_and_booleans_are_not_numbers() -> None:
    error = _refused(TwinConfig(network=NetworkConfig(dealers=2.5)))  # type: ignore[arg-type]
    assert error.value == 2.5 and "whole number" in error.reason
    error = _refused(TwinConfig(seed=True))
    assert error.field == "seed" and "not bool" in error.reason


def test_item_2_negative_seed_and_infinite_multiplier_are_refused_before_building() -> None:
    assert str(_refused(TwinConfig(seed=-1))).startswith("seed=-1: must be in [0, ")
    assert _refused(TwinConfig(network=NetworkConfig(generator_seed=-3))).field == "network.generator_seed"
    error = _refused(TwinConfig(demand=DemandConfig(demand_multiplier=math.inf)))
    assert str(error) == (
        "demand.demand_multiplier=inf: must be a finite number in [0, 100] (factor on the modelled value)"
    )
    error = _refused(TwinConfig(demand=DemandConfig(parts_lines_per_dealer_day=-math.inf)))
    assert error.field == "demand.parts_lines_per_dealer_day"


def test_a_state_that_cannot_fit_in_memory_is_refused_naming_the_setting_and_the_gib(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(config_module, "machine_memory_bytes", lambda: 16 << 30)
    error = _refused(TwinConfig(horizon_days=50_000_000))
    assert error.field == "horizon_days" and error.value == 50_000_000
    needed = re.search(r"about ([\d,.]+) GiB", error.reason)
    assert needed is not None and float(needed.group(1).replace(",", "")) > 16
    assert "this machine has 16.0 GiB" in error.reason
    # the KPI table alone outgrows memory whatever the master data holds
    error = _refused(TwinConfig(horizon_days=50_000_000, network=NetworkConfig(master_data_dir="/nowhere")))
    assert error.field == "horizon_days"
    # a network too big: dealers x SKUs parts arrays
    error = _refused(TwinConfig(network=NetworkConfig(dealers=2_000_000)))
    assert error.field == "network.dealers" and "GiB" in error.reason
    # what fits passes: a decade of the default network
    assert validate(TwinConfig(horizon_days=3650))
    assert sum(state_memory_bytes(TwinConfig(horizon_days=3650)).values()) < 1 << 30


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("seed=-1", "error: seed=-1: must be in [0, "),
        ("demand.demand_multiplier=inf", "error: demand.demand_multiplier=inf: must be a finite number"),
        ("horizon_days=50000000", "error: horizon_days=50000000: the run's state would need about "),
    ],
)
def test_the_cli_refuses_in_one_line_without_a_traceback(
    override: str,
    expected: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """twin-run's entry point in-process (the command's argv, exit code and output)."""
    monkeypatch.chdir(tmp_path)
    arguments = [
        "debug=default",
        "logger=none",
        "progress=false",
        f"hydra.run.dir={tmp_path / 'run'}",
        override,
    ]
    finished = run_entry("twin.cli:run_main", *arguments, monkeypatch=monkeypatch, capsys=capsys)
    assert finished.returncode == 2, finished.stderr[-2000:]
    assert "Traceback" not in finished.stdout + finished.stderr
    lines = finished.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(expected), finished.stderr
    assert not (tmp_path / "run").exists()  # nothing was built, and Hydra's own folder is cleared
