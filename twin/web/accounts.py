"""Users and their roles: a dealer user is bound to one dealer; OEM users (field ops, sales ops, finance,
admin) read the whole network in Atlas. Passwords are stored as argon2id hashes (argon2-cffi), never in clear.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from twin.errors import TwinError
from twin.web.database import Database

DEALER_ROLE = "dealer"
#: OEM roles see Atlas (the whole network); which of them may decide what is in ``twin.web.security``
OEM_ROLES = ("field_ops", "sales_ops", "finance", "admin")
ROLES = (DEALER_ROLE, *OEM_ROLES)
USER_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MINIMUM_PASSWORD_CHARACTERS = 8
MAXIMUM_PASSWORD_CHARACTERS = 1024

#: argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): ~50 ms a sign-in on this machine,
#: where the library's defaults (64 MiB, 3 passes, 4 lanes) took ~370 ms on 2 busy cores and would make
#: sign-in itself the easy way to load the server. Hashes made with other parameters still verify and
#: are re-hashed with these at the next sign-in.
HASHER = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
#: verified against when the user does not exist, so a missing user costs the same time as a wrong password
_DUMMY_HASH = HASHER.hash("not a password of anyone")


class AccountError(TwinError, ValueError):
    """A user field is invalid: names the field and the value (never a password)."""

    def __init__(self, field: str, value: object, reason: str) -> None:
        self.field, self.value, self.reason = field, value, reason
        super().__init__(field, value, reason)

    def __str__(self) -> str:
        return f"{self.field}={self.value!r}: {self.reason}"


@dataclass(frozen=True)
class User:
    name: str
    role: str
    #: the dealership a dealer user belongs to; None for OEM roles
    dealer_id: str | None

    @property
    def is_oem(self) -> bool:
        return self.role in OEM_ROLES


def check_user_fields(
    name: str, role: str, dealer_id: str | None, known_dealers: Iterable[str] | None
) -> None:
    """The rules every stored user satisfies; ``known_dealers`` (when given) are the network's dealer ids."""
    if not USER_NAME_PATTERN.match(name):
        raise AccountError(
            "user", name, "must be 1-64 letters, digits or . _ @ - (starting with a letter or digit)"
        )
    if role not in ROLES:
        raise AccountError("role", role, f"unknown role; one of {', '.join(ROLES)}")
    if role == DEALER_ROLE and not dealer_id:
        raise AccountError("dealer", dealer_id, "a dealer user needs its dealer id (--dealer D0042)")
    if role != DEALER_ROLE and dealer_id:
        raise AccountError("dealer", dealer_id, f"role {role} is an OEM role and takes no dealer")
    if dealer_id and known_dealers is not None:
        known = set(known_dealers)
        if dealer_id not in known:
            sample = ", ".join(sorted(known)[:3])
            raise AccountError(
                "dealer", dealer_id, f"is not a dealer of the network ({len(known)} dealers: {sample}, ...)"
            )


def check_password(password: str) -> None:
    if not password:
        raise AccountError("password", "<empty>", "must not be empty")
    if len(password) < MINIMUM_PASSWORD_CHARACTERS:
        raise AccountError(
            "password", "<hidden>", f"must be at least {MINIMUM_PASSWORD_CHARACTERS} characters"
        )
    if len(password) > MAXIMUM_PASSWORD_CHARACTERS:
        raise AccountError(
            "password", "<hidden>", f"must be at most {MAXIMUM_PASSWORD_CHARACTERS} characters"
        )


class UserStore:
    """The users table: add, remove, list, change a password, check a sign-in."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def add(
        self,
        name: str,
        role: str,
        dealer_id: str | None,
        password: str,
        known_dealers: Iterable[str] | None = None,
    ) -> User:
        check_user_fields(name, role, dealer_id, known_dealers)
        check_password(password)
        if self.get(name) is not None:
            raise AccountError("user", name, "already exists (twin-users set-password changes its password)")
        self.database.execute(
            "INSERT INTO users (name, role, dealer_id, password_hash, created_at) VALUES (?, ?, ?, ?, ?)",
            (name, role, dealer_id, HASHER.hash(password), _now()),
        )
        return User(name, role, dealer_id)

    def remove(self, name: str) -> None:
        with self.database.transaction() as connection:
            removed = connection.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount
            connection.execute("DELETE FROM sessions WHERE user_name = ?", (name,))
        if not removed:
            raise AccountError("user", name, "no such user")

    def set_password(self, name: str, password: str) -> None:
        check_password(password)
        with self.database.transaction() as connection:
            changed = connection.execute(
                "UPDATE users SET password_hash = ? WHERE name = ?", (HASHER.hash(password), name)
            ).rowcount
            # a new password ends every session signed in with the old one
            connection.execute("DELETE FROM sessions WHERE user_name = ?", (name,))
        if not changed:
            raise AccountError("user", name, "no such user")

    def get(self, name: str) -> User | None:
        rows = self.database.query("SELECT name, role, dealer_id FROM users WHERE name = ?", (name,))
        return User(rows[0]["name"], rows[0]["role"], rows[0]["dealer_id"]) if rows else None

    def all(self) -> list[User]:
        rows = self.database.query("SELECT name, role, dealer_id FROM users ORDER BY name")
        return [User(row["name"], row["role"], row["dealer_id"]) for row in rows]

    def verify(self, name: str, password: str) -> User | None:
        """The user when the password is right, else None (the same work either way)."""
        rows = self.database.query(
            "SELECT name, role, dealer_id, password_hash FROM users WHERE name = ?", (name,)
        )
        stored = rows[0]["password_hash"] if rows else _DUMMY_HASH
        try:
            HASHER.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if not rows:
            return None
        if HASHER.check_needs_rehash(stored):
            self.database.execute(
                "UPDATE users SET password_hash = ? WHERE name = ?", (HASHER.hash(password), name)
            )
        return User(rows[0]["name"], rows[0]["role"], rows[0]["dealer_id"])

    def unknown_dealers(self, known_dealers: Iterable[str]) -> list[User]:
        """Dealer users whose dealer is not in the network served (refused at server start)."""
        known = set(known_dealers)
        return [user for user in self.all() if user.dealer_id is not None and user.dealer_id not in known]


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
