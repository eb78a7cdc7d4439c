"""Suite-wide pytest wiring: the parallel run and its serial fallback.

``pyproject.toml`` runs the suite on pytest-xdist workers (``-n auto --dist loadscope``): one worker per core,
each test module on one worker, so a module's shared run (a ``scope="module"`` fixture) is built once. Where
xdist is not active (``-p no:xdist``, or an environment without it) those options are accepted here and
ignored, so the same command still runs every test, serially in one process. ``-n 0`` does the same with
xdist installed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

# fixtures shared by modules, registered by being imported here: an MLflow store already migrated (for tests
# about what a run logs), a real Redis server (TWIN_REDIS_URL, or one started on 127.0.0.1) and stream names
from tests.helpers.mlflow_store import _migrated_mlflow_store, mlflow_store  # noqa: F401
from tests.helpers.redis_server import redis_url, stream_name  # noqa: F401


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    if pluginmanager.has_plugin("xdist"):
        return
    group = parser.getgroup("xdist", "pytest-xdist is not active: every test runs in this process")
    # xdist's own short option; pytest reserves lowercase short options, so register it the way xdist does
    group._addoption("-n", "--numprocesses", dest="numprocesses", default=None, help="ignored without xdist")
    group.addoption("--dist", dest="dist", default="no", help="ignored without xdist")


@pytest.fixture(autouse=True)
def _no_leftover_log_handlers() -> Iterator[None]:
    """An in-process Hydra run logs to ``twin-run.log`` in its run folder, a test's tmp_path that goes away:
    the handlers it added must not outlive the test (a later test's log line would hit a deleted file)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in [handler for handler in root.handlers if handler not in handlers]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)
    logging.captureWarnings(False)
