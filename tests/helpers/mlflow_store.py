"""An MLflow SQLite store for tests about what a run logs, not about creating a store.

Creating a SQLite store runs MLflow's ~50 schema migrations: several seconds of DDL and commits on this
machine's disk, paid once per test that starts from an empty ``mlflow.db``. Tests that check what gets logged
start from a copy of one store migrated once per test process. Creating a store is still tested where it is the
point (``test_first_hour.py``: four runs at once on a fresh store; the README's first command)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def _migrated_mlflow_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from mlflow.tracking import MlflowClient

    database = tmp_path_factory.mktemp("mlflow-template") / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{database}").search_experiments()  # creates and migrates the store
    return database


@pytest.fixture
def mlflow_store(tmp_path: Path, _migrated_mlflow_store: Path) -> str:
    """The tracking URI of ``tmp_path / "mlflow.db"``: a fresh copy of a migrated, empty store."""
    database = tmp_path / "mlflow.db"
    shutil.copyfile(_migrated_mlflow_store, database)
    return f"sqlite:///{database}"
