"""The web app's one SQLite file: accounts, sessions, approval decisions and escalated questions.

One connection per process, serialised by a lock (SQLite writes are quick and the app writes rarely: sign-ins,
decisions, escalations); WAL mode so a ``twin-users`` command can add a user while the server runs.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    dealer_id TEXT,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    user_name TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS decisions (
    scope TEXT NOT NULL,
    recommendation_id TEXT NOT NULL,
    decision TEXT NOT NULL,
    user_name TEXT NOT NULL,
    decided_at TEXT NOT NULL,
    state_day INTEGER NOT NULL,
    note TEXT NOT NULL,
    recommendation TEXT NOT NULL,
    PRIMARY KEY (scope, recommendation_id)
);
CREATE TABLE IF NOT EXISTS escalations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dealer_id TEXT NOT NULL,
    user_name TEXT NOT NULL,
    region TEXT NOT NULL,
    text TEXT NOT NULL,
    intent TEXT NOT NULL,
    reason TEXT NOT NULL,
    answer TEXT NOT NULL,
    asked_at TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    closed_by TEXT,
    closed_at TEXT
);
CREATE INDEX IF NOT EXISTS escalations_open_question ON escalations (dealer_id, status, text);
"""


class Database:
    """A thread-safe handle on the SQLite file (created with its tables on first use)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.parent != Path() and not self.path.parent.is_dir():
            raise FileNotFoundError(
                f"users database {self.path}: the folder {self.path.parent} does not exist"
            )
        _owner_only(self.path)
        self._lock = threading.Lock()
        self._connection = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._connection.row_factory = sqlite3.Row
        try:
            with self._lock:
                tables = {row[0] for row in self._connection.execute("SELECT name FROM sqlite_master")}
                if tables and "users" not in tables:  # another program's database: leave it as it is
                    raise OSError(
                        f"users database {self.path}: is another program's SQLite file "
                        f"(tables {', '.join(sorted(tables)[:5])}); name the twin's users file"
                    )
                self._connection.execute("PRAGMA journal_mode=WAL")
                self._connection.execute("PRAGMA busy_timeout=5000")
                self._connection.executescript(SCHEMA)
        except sqlite3.DatabaseError as error:
            self._connection.close()
            raise OSError(f"users database {self.path}: is not a SQLite database ({error})") from None
        except OSError:
            self._connection.close()
            raise

    def query(self, sql: str, parameters: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._connection.execute(sql, parameters).fetchall()

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> int:
        """Run one statement; returns the rows it changed."""
        with self._lock:
            return self._connection.execute(sql, parameters).rowcount

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Several statements that stand or fall together."""
        with self._lock:
            self._connection.execute("BEGIN IMMEDIATE")
            try:
                yield self._connection
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
            self._connection.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._connection.close()


def _owner_only(path: Path) -> None:
    """Create the file readable and writable by its owner only (0600) before SQLite opens it, and tighten an
    existing one: it holds password hashes, sessions and the cookie signing key. SQLite gives the -wal and
    -shm files it creates the database file's mode; existing ones are tightened here too."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(descriptor)
    for candidate in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if stat.S_IMODE(candidate.stat().st_mode) & 0o077:
                candidate.chmod(0o600)
        except FileNotFoundError:
            continue
