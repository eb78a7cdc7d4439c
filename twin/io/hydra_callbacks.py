"""Hydra callbacks: create the MLflow database and experiment once, before any multirun job starts
(parallel jobs on a fresh SQLite database race on its schema migration)."""

from __future__ import annotations

from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig


class PrepareTracking(Callback):
    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        if config.logger.kind != "mlflow":
            return
        from twin.io import tracking  # MLflow is heavy to import: only when a sweep logs to it

        uri = tracking.resolve_tracking_uri(config.logger.tracking_uri)
        try:
            tracking.prepare_experiment(uri, str(config.scenario.name))
        except Exception as error:
            print(f"MLflow tracking store {uri} not ready ({error}); runs will keep local outputs only")
