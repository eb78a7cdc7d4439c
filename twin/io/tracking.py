"""The MLflow sink: the only module that imports MLflow.

Default store: ``sqlite:///<working dir>/mlflow.db`` with artifacts under ``<working dir>/mlruns`` (no server);
``logger.tracking_uri`` or ``MLFLOW_TRACKING_URI`` point it at a tracking server instead. Summary KPIs go in
one ``log_batch`` (per-metric calls cost ~30 ms each on SQLite). If the store cannot be reached the run
keeps its local outputs and says so; a twin run never fails because of tracking.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# before mlflow is imported: no usage telemetry, and fail fast instead of minutes of retries
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "10")

import mlflow
import pandas as pd
from mlflow.entities import Metric, Param
from mlflow.tracking import MlflowClient

MAX_PARAMS_PER_BATCH = 100
MAX_METRICS_PER_BATCH = 1000
MAX_PARAM_LENGTH = 6000


def resolve_tracking_uri(configured_uri: str = "") -> str:
    if configured_uri:
        return configured_uri
    from_environment = os.environ.get("MLFLOW_TRACKING_URI", "")
    if from_environment:
        return from_environment
    return f"sqlite:///{(Path.cwd() / 'mlflow.db').resolve()}"


def _artifact_root() -> str:
    return (Path.cwd() / "mlruns").resolve().as_uri()


def sqlite_path(tracking_uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` store (None for a server or another database)."""
    prefix = "sqlite:///"
    return Path(tracking_uri[len(prefix) :]) if tracking_uri.startswith(prefix) else None


def check_writable(tracking_uri: str) -> None:
    """Fail at once on a SQLite store that cannot be written (MLflow would retry for minutes)."""
    database = sqlite_path(tracking_uri)
    if database is None:
        return
    folder = database.parent
    probe = folder / f".{database.name}.probe-{os.getpid()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.touch()
        probe.unlink()
        if database.exists():
            with database.open("r+b"):
                pass
    except OSError as error:
        raise PermissionError(f"the SQLite store {database} cannot be written ({error.strerror})") from None


@contextmanager
def store_lock(tracking_uri: str) -> Iterator[None]:
    """Serialise creating a SQLite store and its experiments across processes: runs started together on a
    fresh ``mlflow.db`` otherwise race on MLflow's schema migration and one of them is lost."""
    database = sqlite_path(tracking_uri)
    if database is None:
        yield
        return
    with (database.parent / f".{database.name}.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def prepare_experiment(tracking_uri: str, experiment_name: str) -> str:
    """Create the store (schema migration) and the experiment once; returns the experiment id."""
    check_writable(tracking_uri)
    with store_lock(tracking_uri):
        return _prepare_experiment(tracking_uri, experiment_name)


def _prepare_experiment(tracking_uri: str, experiment_name: str) -> str:
    client = MlflowClient(tracking_uri=tracking_uri)
    experiment = client.get_experiment_by_name(experiment_name)
    if experiment is not None:
        return str(experiment.experiment_id)
    artifact_location = _artifact_root() if tracking_uri.startswith("sqlite:") else None
    try:
        return str(client.create_experiment(experiment_name, artifact_location=artifact_location))
    except mlflow.exceptions.MlflowException:
        # another process created it between our look-up and create
        experiment = client.get_experiment_by_name(experiment_name)
        if experiment is None:
            raise
        return str(experiment.experiment_id)


def flatten(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = str(value)[:MAX_PARAM_LENGTH]
    return flat


def git_commit(start: Path | None = None) -> str:
    try:
        folder = start or Path(__file__).resolve().parent
        return subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _log_values(
    client: MlflowClient, run_id: str, params: Mapping[str, Any], metrics: Mapping[str, float]
) -> None:
    """Flattened params and non-NaN metrics in as few ``log_batch`` calls as MLflow's limits allow."""
    flat_params = [Param(key, value) for key, value in flatten(params).items()]
    for chunk in _chunks(flat_params, MAX_PARAMS_PER_BATCH):
        client.log_batch(run_id, params=chunk)
    finite = [Metric(key, float(value), 0, 0) for key, value in metrics.items() if value == value]
    for chunk in _chunks(finite, MAX_METRICS_PER_BATCH):
        client.log_batch(run_id, metrics=chunk)


def log_run(
    tracking_uri: str,
    experiment_name: str,
    run_name: str,
    params: Mapping[str, Any],
    summary: Mapping[str, float],
    tags: Mapping[str, str],
    artifacts_dir: Path | None = None,
    daily: pd.DataFrame | None = None,
    max_artifact_bytes: int = 1 << 20,
) -> str:
    """Log one finished run; returns the MLflow run id. Raises if the store cannot be reached."""
    experiment_id = prepare_experiment(tracking_uri, experiment_name)
    client = MlflowClient(tracking_uri=tracking_uri)
    run = client.create_run(experiment_id, run_name=run_name, tags=dict(tags))
    run_id = run.info.run_id
    try:
        _log_values(client, run_id, params, summary)
        if daily is not None:
            numeric = daily.select_dtypes("number").drop(columns=["day"], errors="ignore")
            step_metrics = [
                Metric(f"daily.{column}", float(value), 0, int(day))
                for column in numeric.columns
                for day, value in zip(daily["day"], numeric[column], strict=True)
                if value == value
            ]
            for chunk in _chunks(step_metrics, MAX_METRICS_PER_BATCH):
                client.log_batch(run_id, metrics=chunk)
        if artifacts_dir is not None:
            log_small_artifacts(client, run_id, artifacts_dir, max_artifact_bytes)
        client.set_terminated(run_id, "FINISHED")
    except BaseException as error:  # an interrupt too: never leave the run RUNNING
        client.set_terminated(run_id, "KILLED" if isinstance(error, KeyboardInterrupt) else "FAILED")
        raise
    return str(run_id)


def log_small_artifacts(client: MlflowClient, run_id: str, folder: Path, max_artifact_bytes: int) -> None:
    """Copy the run folder's small files (KPIs, tables, plots, config) into MLflow; larger ones (daily
    series, ledger, snapshots) stay in the run folder, listed with their size in ``outputs_index.json``,
    so the artifact store does not hold a second copy of every run's data."""
    kept: list[dict[str, object]] = []
    for path in sorted(item for item in folder.rglob("*") if item.is_file()):
        relative = path.relative_to(folder)
        size = path.stat().st_size
        if size > max_artifact_bytes or relative.parts[0] in ("snapshots", "state"):  # states stay whole
            kept.append({"path": relative.as_posix(), "bytes": size})
            continue
        client.log_artifact(run_id, str(path), relative.parent.as_posix() if relative.parent.parts else None)
    index = {"run_folder": str(folder.resolve()), "kept_in_the_run_folder": kept}
    with tempfile.TemporaryDirectory() as scratch:
        target = Path(scratch) / "outputs_index.json"
        target.write_text(json.dumps(index, indent=1))
        client.log_artifact(run_id, str(target))


def search_runs(tracking_uri: str, experiment_name: str) -> pd.DataFrame:
    """All runs of an experiment as a pandas frame (params.*, metrics.*, tags.*)."""
    previous = os.environ.get("MLFLOW_TRACKING_URI")
    mlflow.set_tracking_uri(tracking_uri)  # also sets the environment variable, which children would inherit
    try:
        result = mlflow.search_runs(experiment_names=[experiment_name])
    finally:
        mlflow.set_tracking_uri(previous or "")
        if previous is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = previous
    assert isinstance(result, pd.DataFrame)
    return result


def log_comparison(
    tracking_uri: str,
    experiment_name: str,
    comparison_name: str,
    params: Mapping[str, Any],
    children: Iterable[tuple[str, Mapping[str, Any], Mapping[str, float], Mapping[str, str]]],
    parent_metrics: Mapping[str, float],
    tags: Mapping[str, str],
    artifacts_dir: Path | None = None,
) -> str:
    """A parent run for the comparison with one child run per arm x replication; returns the parent id.

    ``children`` holds (run name, params, summary metrics, tags) per replication; everything goes in batches.
    """
    experiment_id = prepare_experiment(tracking_uri, experiment_name)
    client = MlflowClient(tracking_uri=tracking_uri)
    parent = client.create_run(experiment_id, run_name=comparison_name, tags={**tags, "kind": "comparison"})
    parent_id = parent.info.run_id
    try:
        _log_values(client, parent_id, params, parent_metrics)
        for run_name, child_params, summary, child_tags in children:
            child = client.create_run(
                experiment_id,
                run_name=run_name,
                tags={**child_tags, "mlflow.parentRunId": parent_id, "kind": "replication"},
            )
            _log_values(client, child.info.run_id, child_params, summary)
            client.set_terminated(child.info.run_id, "FINISHED")
        if artifacts_dir is not None:
            client.log_artifacts(parent_id, str(artifacts_dir))
        client.set_terminated(parent_id, "FINISHED")
    except BaseException as error:
        client.set_terminated(parent_id, "KILLED" if isinstance(error, KeyboardInterrupt) else "FAILED")
        raise
    return str(parent_id)
