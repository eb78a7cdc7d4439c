"""A planner's first hour: a typo'd override fails with a suggestion, runs never share a folder, MLflow runs
are told apart by name, and the terminal shows the headline KPIs first."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig

from tests.helpers.entry_points import run_entry
from twin.cli import CONFIG_DIR, run_name, to_twin_config
from twin.config import TwinConfig
from twin.errors import ConfigError
from twin.hydra_store import scenario_files
from twin.io.outputs import TERMINAL_KPIS, format_kpi, headline_table


def _compose(overrides: list[str]) -> DictConfig:
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        return compose(config_name="config", overrides=overrides)


@pytest.mark.parametrize(
    ("override", "key", "suggestion"),
    [
        ("+network.dealrs=3", "network.dealrs", "dealers"),
        ("+horizon_dayz=30", "horizon_dayz", "horizon_days"),
        ("+policy.alerts.risk_treshold=0.3", "policy.alerts.risk_treshold", "risk_threshold"),
        ("+operations.carrier_max_wait=2", "operations.carrier_max_wait", "carrier_max_wait_days"),
    ],
)
def test_an_added_key_that_no_setting_has_fails_with_a_suggestion(
    override: str, key: str, suggestion: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        to_twin_config(_compose([override, "debug=default"]))
    assert raised.value.field == key
    assert f"did you mean '{suggestion}'" in raised.value.reason


def test_a_typo_inside_a_list_of_settings_is_found() -> None:
    with pytest.raises(ConfigError, match=r"scenario\.campaigns\[0\]\.upflift"):
        to_twin_config(_compose(["scenario=regional_campaign", "+scenario.campaigns.0.upflift=2"]))


GROUPS_WITH_FILES = ("policy/transfers", "policy/campaign", "experiment")


def test_every_shipped_scenario_and_policy_option_has_only_known_keys() -> None:
    conf = Path(CONFIG_DIR)
    options = {
        group: sorted(path.stem for path in (conf / group).glob("*.yaml")) for group in GROUPS_WITH_FILES
    }
    options["scenario"] = [path.stem for path in scenario_files()]
    for group, names in options.items():
        for option in names:
            assert isinstance(to_twin_config(_compose([f"{group}={option}"])), TwinConfig), (group, option)


def test_runs_are_named_by_what_sets_them_apart() -> None:
    config = to_twin_config(_compose(["debug=default", "seed=4", "policy/transfers=rebalancing"]))
    choices = {"policy/transfers": "rebalancing", "policy/allocation": "baseline", "debug": "default"}
    assert run_name(config, choices) == f"baseline-debug-{config.horizon_days}d-transfers=rebalancing-seed4"
    default = to_twin_config(_compose([]))
    assert run_name(default, {"policy/allocation": "baseline"}) == "baseline-default-365d-seed1"
    named = to_twin_config(_compose(["run_name=my what-if"]))
    assert run_name(named, {}) == "my what-if"


def test_the_terminal_table_shows_the_headline_first_and_counts_as_integers() -> None:
    summary = {name: 1234.0 for name in TERMINAL_KPIS} | {"vehicle_sales": 2_261.0, "unlisted_kpi": 5.0}
    summary["parts_fill_rate_line"] = 0.9412
    table = headline_table(summary)
    assert "| vehicle_sales | 2,261 |" in table
    assert "| parts_fill_rate_line | 94.1% |" in table
    assert "unlisted_kpi" not in table
    assert len(table.splitlines()) == 2 + len(TERMINAL_KPIS)
    assert format_kpi("vehicle_dealer_stock", 17.0) == "17"
    assert format_kpi("vehicle_age_mean_days", 17.25) == "17.25"


def test_two_runs_started_in_the_same_second_write_to_different_folders(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "twin.cli", "debug=default", "horizon_days=6", "warmup_days=1",
               "logger=none", "progress=false"]  # fmt: skip
    runs = [
        subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in "ab"
    ]
    for run in runs:
        run.communicate(timeout=180)
        assert run.returncode == 0
    folders = sorted(path.parent for path in (tmp_path / "outputs").rglob("resolved_config.yaml"))
    assert len(folders) == 2
    assert folders[0] != folders[1]
    for folder in folders:
        assert "_seed1_" in folder.name


# -- runs that never collide, interruptions that lose nothing -----------------------------------------
RUN_SETTINGS = ["debug=default", "horizon_days=6", "warmup_days=1", "progress=false"]
#: the installed command's behaviour in a process of its own, where several processes or a signal are the point;
#: the rest call its entry point in this process (``run_entry``): the same code without a fresh interpreter
RUN = [sys.executable, "-m", "twin.cli", *RUN_SETTINGS]
#: the runs' default store is the working directory's mlflow.db: no inherited tracking URI
CLEAN_ENV = {key: value for key, value in os.environ.items() if key != "MLFLOW_TRACKING_URI"}


def test_four_runs_at_once_on_a_fresh_store_all_land(tmp_path: Path) -> None:
    runs = [
        subprocess.Popen(
            [*RUN, f"seed={seed}"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for seed in range(1, 5)
    ]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0, 0], outputs
    from twin.io import tracking

    found = tracking.search_runs(f"sqlite:///{tmp_path / 'mlflow.db'}", "baseline")
    assert sorted(found["tags.seed"].astype(int)) == [1, 2, 3, 4]
    assert set(found["status"]) == {"FINISHED"}


def test_a_store_that_cannot_be_written_fails_fast_and_keeps_the_outputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    completed = run_entry(
        "twin.cli:run_main", *RUN_SETTINGS, "logger.tracking_uri=sqlite:////proc/twin-cannot-write/mlflow.db",
        monkeypatch=monkeypatch, capsys=capsys,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert "cannot be written" in completed.stdout
    (folder,) = [path.parent for path in (tmp_path / "outputs").rglob("kpis.json")]
    log = (folder / "twin-run.log").read_text()
    assert "cannot be written" in log
    assert "simulated 6 days" in log


def test_a_refused_run_leaves_no_folder_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    completed = run_entry(
        "twin.cli:run_main", *RUN_SETTINGS, "warmup_days=-1", monkeypatch=monkeypatch, capsys=capsys
    )
    assert completed.returncode == 2
    assert completed.stderr.strip().splitlines() == [completed.stderr.strip()]  # one line
    assert completed.stderr.startswith("error: warmup_days=-1")
    assert not (tmp_path / "outputs").exists()


def test_an_interrupt_exits_cleanly_with_one_line(tmp_path: Path) -> None:
    import signal
    import time

    # Ctrl-C reaches a run in a terminal; a test runner started as a background job of a non-interactive shell
    # ignores SIGINT and its children would inherit that, so the child gets the default disposition back
    run = subprocess.Popen(
        [sys.executable, "-m", "twin.cli", "horizon_days=365", "logger=none", "progress=false",
         f"hydra.run.dir={tmp_path / 'run'}"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not (tmp_path / "run" / ".hydra").exists() and time.monotonic() < deadline:
        time.sleep(0.2)  # Hydra makes the run folder when the run begins: past the imports of the command
    time.sleep(2.0)  # into the build of the default network (a year runs ~50 s)
    run.send_signal(signal.SIGINT)
    _, stderr = run.communicate(timeout=120)
    assert run.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "interrupted: no outputs were written to" in stderr


def test_an_interrupt_while_logging_marks_the_mlflow_run_killed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mlflow_store: str
) -> None:
    from mlflow.tracking import MlflowClient

    from twin.io import tracking

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(MlflowClient, "log_artifact", interrupted)
    uri = mlflow_store
    (tmp_path / "artifacts").mkdir()
    (tmp_path / "artifacts" / "kpis.json").write_text("{}")
    with pytest.raises(KeyboardInterrupt):
        tracking.log_run(uri, "interrupts", "run", {}, {"a": 1.0}, {}, artifacts_dir=tmp_path / "artifacts")
    assert list(tracking.search_runs(uri, "interrupts")["status"]) == ["KILLED"]


def test_the_cost_chart_is_sorted_and_has_no_empty_bars() -> None:
    from twin.plots.run import cost_bars

    bars = cost_bars(
        {"freight_inr": 3e7, "transfer_freight_inr": 0.0, "holding_cost_inr": 9e7, "lost_inr": 1e7}
    )
    assert bars == [("lost", 1.0), ("freight", 3.0), ("holding cost", 9.0)]


def test_help_lists_every_group_and_says_what_each_setting_means(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    completed = run_entry("twin.cli:run_main", "--help", monkeypatch=monkeypatch, capsys=capsys)
    assert completed.returncode == 0
    text = completed.stdout
    for group in (
        "network: default, small",
        "policy/transfers: baseline, rebalancing",
        "scenario: baseline,",
    ):
        assert group in text
    settings = [line for line in text.splitlines() if line.startswith("  ") and " = " in line]
    assert len(settings) > 100
    assert (
        "    policy.replenishment.service_level_by_class = " in text
    )  # an option's own settings are listed too
    undocumented = [line.split(" = ")[0].strip() for line in settings if "  # " not in line]
    assert undocumented == [], f"settings without a meaning: {undocumented}"


def test_large_outputs_stay_in_the_run_folder_and_are_listed_not_copied(
    tmp_path: Path, mlflow_store: str
) -> None:
    import json

    from mlflow.tracking import MlflowClient

    from twin.io import tracking

    run_folder = tmp_path / "run"
    (run_folder / "snapshots" / "day_010").mkdir(parents=True)
    (run_folder / "kpis.json").write_text("{}")
    (run_folder / "daily_kpis.parquet").write_bytes(b"x" * 3_000_000)
    (run_folder / "snapshots" / "day_010" / "meta.json").write_text("{}")
    uri = mlflow_store
    run_id = tracking.log_run(uri, "artifacts", "run", {}, {"a": 1.0}, {}, artifacts_dir=run_folder)

    client = MlflowClient(tracking_uri=uri)
    logged = {item.path for item in client.list_artifacts(run_id)}
    assert logged == {"kpis.json", "outputs_index.json"}
    index = json.loads(
        Path(client.download_artifacts(run_id, "outputs_index.json", str(tmp_path))).read_text()
    )
    assert index["run_folder"] == str(run_folder.resolve())
    assert {entry["path"] for entry in index["kept_in_the_run_folder"]} == {
        "daily_kpis.parquet",
        "snapshots/day_010/meta.json",
    }
