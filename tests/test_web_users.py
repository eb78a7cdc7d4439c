"""``twin-users`` (accounts of the web app) and ``twin-serve``'s settings, run in-process as the commands."""

from __future__ import annotations

import io
import sqlite3
import sys
from pathlib import Path

import pytest

from tests.helpers.entry_points import run_entry
from twin.web.accounts import UserStore
from twin.web.database import Database
from twin.web.security import SessionManager

USERS = "twin.web.users_cli:users_main"
SERVE = "twin.web.cli:serve_main"


def _users(
    database: Path,
    *arguments: str,
    password: str | None = None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
):  # type: ignore[no-untyped-def]
    if password is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(password + "\n"))
    return run_entry(USERS, "--db", str(database), *arguments, monkeypatch=monkeypatch, capsys=capsys)


def test_add_list_set_password_and_remove(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "users.db"
    added = _users(database, "add", "--user", "ravi", "--role", "dealer", "--dealer", "D0042", "--password-stdin",
                   password="first password", monkeypatch=monkeypatch, capsys=capsys)  # fmt: skip
    assert added.returncode == 0 and "added ravi (dealer for dealer D0042)" in added.stdout
    oem = _users(database, "add", "--user", "meera", "--role", "field_ops", "--password-stdin",
                 password="second password", monkeypatch=monkeypatch, capsys=capsys)  # fmt: skip
    assert oem.returncode == 0
    listed = _users(database, "list", monkeypatch=monkeypatch, capsys=capsys)
    assert listed.stdout.splitlines() == ["meera\tfield_ops\t-", "ravi\tdealer\tD0042"]
    store = UserStore(Database(database))
    assert store.verify("ravi", "first password") is not None
    assert "first password" not in database.read_bytes().decode("latin-1")  # only the argon2 hash is stored
    sessions = SessionManager(store.database, store, 1.0)
    cookie, _ = sessions.create(store.get("ravi"))  # type: ignore[arg-type]
    changed = _users(database, "set-password", "--user", "ravi", "--password-stdin", password="third password",
                     monkeypatch=monkeypatch, capsys=capsys)  # fmt: skip
    assert changed.returncode == 0 and store.verify("ravi", "third password") is not None
    assert sessions.find(cookie) is None  # a new password ends the sessions of the old one
    removed = _users(database, "remove", "--user", "ravi", monkeypatch=monkeypatch, capsys=capsys)
    assert removed.returncode == 0 and store.get("ravi") is None


@pytest.mark.parametrize(
    ("arguments", "password", "message"),
    [
        (("--role", "dealer"), "a good password", "dealer=None: a dealer user needs its dealer id"),
        (("--role", "field_ops", "--dealer", "D0001"), "a good password", "role field_ops is an OEM role and takes no dealer"),
        (("--role", "driver"), "a good password", "role='driver': unknown role; one of dealer, field_ops"),
        (("--role", "finance"), "", "password='<empty>': must not be empty"),
        (("--role", "finance"), "short", "must be at least 8 characters"),
    ],
)  # fmt: skip
def test_bad_accounts_are_refused_naming_the_field(
    arguments: tuple[str, ...], password: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    result = _users(tmp_path / "users.db", "add", "--user", "someone", *arguments, "--password-stdin",
                    password=password, monkeypatch=monkeypatch, capsys=capsys)  # fmt: skip
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_a_user_cannot_be_added_twice_nor_a_missing_one_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "users.db"
    for expected in (0, 2):
        result = _users(database, "add", "--user", "sam", "--role", "admin", "--password-stdin",
                        password="admin password", monkeypatch=monkeypatch, capsys=capsys)  # fmt: skip
        assert result.returncode == expected
    assert "user='sam': already exists" in result.stderr
    missing = _users(database, "remove", "--user", "nobody", monkeypatch=monkeypatch, capsys=capsys)
    assert missing.returncode == 2 and "user='nobody': no such user" in missing.stderr


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("server.port=70000", "server.port=70000: must be in [0, 65535] (port)"),
        ("refresh_seconds=-1", "refresh_seconds=-1.0: must be in [0, 86400] (seconds), not negative"),
        ("server.log_level=loud", "server.log_level='loud': must be critical, error, warning, info or debug"),
        ("state=/no/such/folder", "state='/no/such/folder': is not a folder"),
    ],
)
def test_twin_serve_refuses_bad_settings_before_starting(
    override: str,
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = run_entry(
        SERVE, override, f"users={tmp_path / 'users.db'}", monkeypatch=monkeypatch, capsys=capsys
    )
    assert result.returncode == 2 and f"error: {message}" in result.stderr


def test_twin_serve_refuses_an_unknown_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_entry(SERVE, "server.prot=8001", monkeypatch=monkeypatch, capsys=capsys)
    assert result.returncode != 0 and "prot" in result.stderr
    help_text = run_entry(SERVE, "--help", monkeypatch=monkeypatch, capsys=capsys)
    assert help_text.returncode == 0 and "server.port = 8000" in help_text.stdout


def test_a_users_file_that_is_no_users_database_is_refused_and_left_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:

    junk = tmp_path / "notes.db"
    junk.write_bytes(b"not a database at all, just text\n" * 10)
    foreign = tmp_path / "other.sqlite"
    with sqlite3.connect(foreign) as connection:
        connection.execute("CREATE TABLE invoices (number TEXT)")
    foreign_bytes = foreign.read_bytes()
    for path, reason in ((junk, "is not a SQLite database"), (foreign, "another program's SQLite file")):
        result = _users(path, "list", monkeypatch=monkeypatch, capsys=capsys)
        assert result.returncode == 2 and reason in result.stderr and str(path) in result.stderr
    assert foreign.read_bytes() == foreign_bytes and not (tmp_path / "other.sqlite-wal").exists()
