"""A real Redis server for the stream tests: the one CI names, or a private one on 127.0.0.1.

``TWIN_REDIS_URL`` set (``.ci/run`` starts a server and sets it): the tests use that server. Unset: each test
session (each pytest-xdist worker that needs it) starts its own ``redis-server`` on a free loopback port, in a
temporary directory, with persistence off, and stops it by its process id at the end. Tests share a server, so
each one works on streams of its own name (``stream_name``). Without Redis the tests fail and say how to
install it: the stream substrate is part of the product, so a missing server must not pass as skipped tests.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

URL_VARIABLE = "TWIN_REDIS_URL"
HOST = "127.0.0.1"
INSTALL_HINT = (
    "install it (Debian/Ubuntu, as root: apt-get install -y redis-server), "
    f"or point {URL_VARIABLE} at a running server, e.g. {URL_VARIABLE}=redis://127.0.0.1:6379/0"
)


class MissingRedisError(Exception):
    """No ``redis-server`` on PATH."""


class RedisStartError(RuntimeError):
    """The server exited or did not answer PING in time; the message carries the end of its log."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def ping(url: str, timeout_seconds: float) -> bool:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=timeout_seconds, socket_timeout=timeout_seconds)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


class LocalRedis:
    """A ``redis-server`` child process on 127.0.0.1, no persistence; ``stop()`` ends it by its pid."""

    def __init__(self, directory: Path, port: int | None = None, startup_seconds: float = 10.0) -> None:
        executable = shutil.which("redis-server")
        if executable is None:
            raise MissingRedisError(f"redis-server is not installed: {INSTALL_HINT}")
        self.directory = directory
        self.port = port or free_port()
        self.url = f"redis://{HOST}:{self.port}/0"
        self.log_path = directory / "redis.log"
        # never beyond loopback; --save '' and --appendonly no: nothing is written to disk
        command = [
            executable,
            "--bind", HOST,
            "--port", str(self.port),
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--dir", str(directory),
            "--logfile", str(self.log_path),
        ]  # fmt: skip
        self.process = subprocess.Popen(command, cwd=directory, stdin=subprocess.DEVNULL)
        self.pid = self.process.pid
        deadline = time.monotonic() + startup_seconds
        while not ping(self.url, timeout_seconds=0.5):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RedisStartError(f"redis-server on port {self.port} did not start: {self._log_tail()}")
            time.sleep(0.02)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def _log_tail(self) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.is_file() else ""
        return " | ".join(text.strip().splitlines()[-3:]) or f"exit code {self.process.returncode}"

    def __enter__(self) -> LocalRedis:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_local_redis(directory: Path, attempts: int = 3) -> LocalRedis:
    """Another process may take the free port between the probe and the server's bind: try a new one."""
    for attempt in range(attempts):
        try:
            return LocalRedis(directory)
        except RedisStartError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    configured = os.environ.get(URL_VARIABLE)
    if configured:
        if not ping(configured, timeout_seconds=5):
            pytest.fail(f"{URL_VARIABLE}={configured!r}: no Redis server answers PING there")
        yield configured
        return
    try:
        server = start_local_redis(tmp_path_factory.mktemp("redis"))
    except MissingRedisError as error:
        pytest.fail(f"the Redis stream tests need a real server, and {error}")
    with server:
        yield server.url


@pytest.fixture
def stream_name(redis_url: str) -> Iterator[str]:
    """A stream no other test (or xdist worker, on a shared CI server) touches; deleted afterwards."""
    import redis

    name = f"twin-test:{uuid.uuid4().hex}"
    yield name
    client = redis.Redis.from_url(redis_url)
    try:
        client.delete(name)
    finally:
        client.close()
