"""Sessions, CSRF tokens and the sign-in rate limit.

- A session is a row in SQLite (SHA-256 of its id, user, CSRF token, expiry); the browser holds only its id,
  signed with a secret kept in the same database (itsdangerous), in an HttpOnly, SameSite=Lax cookie; the
  file is readable by its owner only. The server decides
  when a session ends (``session_hours`` after sign-in, at sign-out, when the password changes or the user
  is removed): a copied cookie is worth nothing after that.
- CSRF: every state-changing request carries the session's token, in the form field ``csrf_token`` (pages) or
  the ``X-CSRF-Token`` header (JSON clients: ``POST /api/login`` returns it). SameSite=Lax already keeps the
  cookie off cross-site POSTs; the token also covers same-site attackers and older browsers.
- Sign-in attempts are limited per user name and per client address (a sliding window of failures), so a
  password cannot be guessed quickly from one address, nor one account from many.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from itsdangerous import BadSignature, Signer

from twin.web.accounts import User, UserStore
from twin.web.database import Database

SESSION_COOKIE = "twin_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
#: OEM roles that may approve or reject a transfer recommendation (finance reads, does not decide)
APPROVER_ROLES = ("field_ops", "sales_ops", "admin")
#: how long a session read from the database is trusted before it is read again (seconds)
SESSION_CACHE_SECONDS = 5.0
MAXIMUM_CACHED_SESSIONS = 100_000


@dataclass(frozen=True)
class Session:
    id: str
    user: User
    csrf_token: str
    expires_at: float


class SessionManager:
    """Create, find and end server-side sessions; sign and check the cookie that names one."""

    def __init__(self, database: Database, users: UserStore, session_hours: float) -> None:
        self.database = database
        self.users = users
        self.session_seconds = session_hours * 3600.0
        self.signer = Signer(self._secret(), salt="twin-session")
        #: session id -> (trusted until, monotonic seconds; the session)
        self._cache: dict[str, tuple[float, Session]] = {}

    def _secret(self) -> str:
        """The signing key, made once per database so sessions survive a server restart."""
        rows = self.database.query("SELECT value FROM secrets WHERE name = 'session_signing_key'")
        if rows:
            return str(rows[0]["value"])
        key = secrets.token_urlsafe(48)
        self.database.execute(
            "INSERT OR IGNORE INTO secrets (name, value) VALUES ('session_signing_key', ?)", (key,)
        )
        return str(
            self.database.query("SELECT value FROM secrets WHERE name = 'session_signing_key'")[0]["value"]
        )

    def create(self, user: User) -> tuple[str, Session]:
        """A new session for ``user``: the cookie value to set, and the session."""
        now = time.time()
        session = Session(
            secrets.token_urlsafe(32), user, secrets.token_urlsafe(32), now + self.session_seconds
        )
        self.database.execute(
            "INSERT INTO sessions (id, user_name, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
            (session_key(session.id), user.name, session.csrf_token, now, session.expires_at),
        )
        self.database.execute("DELETE FROM sessions WHERE expires_at < ?", (now,))
        return self.signer.sign(session.id).decode("ascii"), session

    def find(self, cookie: str | None) -> Session | None:
        """The live session a cookie names, or None (unsigned, tampered, expired, ended, user gone).

        A session read from the database is trusted for ``SESSION_CACHE_SECONDS`` before it is read again,
        so a busy page costs no query; sessions ended by this process (sign-out) leave the cache at once,
        those ended by ``twin-users`` (another process) within that time."""
        if not cookie:
            return None
        try:
            session_id = self.signer.unsign(cookie).decode("ascii")
        except (BadSignature, UnicodeDecodeError):
            return None
        now = time.monotonic()
        cached = self._cache.get(session_id)
        if cached is not None and cached[0] > now and cached[1].expires_at > time.time():
            return cached[1]
        session = self._read(session_id)
        if session is None:
            self._cache.pop(session_id, None)
        else:
            if len(self._cache) > MAXIMUM_CACHED_SESSIONS:
                self._cache.clear()
            self._cache[session_id] = (now + SESSION_CACHE_SECONDS, session)
        return session

    def _read(self, session_id: str) -> Session | None:
        rows = self.database.query(
            "SELECT s.csrf_token, s.expires_at, u.name, u.role, u.dealer_id FROM sessions s "
            "JOIN users u ON u.name = s.user_name WHERE s.id = ?",
            (session_key(session_id),),
        )
        if not rows or rows[0]["expires_at"] < time.time():
            return None
        row = rows[0]
        return Session(
            session_id, User(row["name"], row["role"], row["dealer_id"]), row["csrf_token"], row["expires_at"]
        )

    def end(self, session: Session) -> None:
        self._cache.pop(session.id, None)
        self.database.execute("DELETE FROM sessions WHERE id = ?", (session_key(session.id),))


def session_key(session_id: str) -> str:
    """What the database keeps of a session id: its SHA-256, so a copy of the file opens no session."""
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def csrf_matches(session: Session, supplied: str | None) -> bool:
    """Compared as UTF-8 bytes: ``compare_digest`` refuses non-ASCII str (a TypeError, i.e. a 500)."""
    if not supplied:
        return False
    return secrets.compare_digest(
        session.csrf_token.encode("utf-8"), str(supplied).encode("utf-8", "surrogatepass")
    )


#: keys (user names, addresses) the limiter remembers at most; beyond it the oldest are dropped
MAXIMUM_LIMITER_KEYS = 100_000


class RateLimiter:
    """At most ``limit`` attempts per key within ``window_seconds``: failed sign-ins per user name and client
    address, questions to Clara per user.

    ``reserve`` checks the limit and counts the attempt in one locked step, before the (slow) work: parallel
    attempts cannot all pass the check before any is counted. A successful sign-in ``release``s its attempt;
    a failed one keeps it (a question is never released)."""

    def __init__(self, limit: int, window_seconds: float, maximum_keys: int = MAXIMUM_LIMITER_KEYS) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self.maximum_keys = maximum_keys
        #: key -> attempt times (monotonic seconds), oldest first; insertion order = age of the key
        self._failed: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _live(self, key: str, now: float) -> deque[float] | None:
        """The key's attempts within the window; a key left with none is forgotten."""
        times = self._failed.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.window_seconds:
            times.popleft()
        if not times:
            del self._failed[key]
            return None
        return times

    def reserve(self, keys: Sequence[str]) -> tuple[float | None, float]:
        """``(seconds to wait, None)`` when a key is at its limit (nothing recorded), else ``(None, stamp)``
        with a pending attempt recorded on every key: pass ``stamp`` to ``release`` on success."""
        now = time.monotonic()
        with self._lock:
            waits = []
            for key in keys:
                times = self._live(key, now)
                if times is not None and len(times) >= self.limit:
                    waits.append(times[0] + self.window_seconds - now)
            if waits:
                return max(waits), now
            for key in keys:
                self._failed.setdefault(key, deque()).append(now)
            if len(self._failed) > self.maximum_keys:
                for known in list(self._failed):  # first the keys whose attempts all left the window
                    self._live(known, now)
            while len(self._failed) > self.maximum_keys:  # then the oldest keys
                del self._failed[next(iter(self._failed))]
            return None, now

    def release(self, keys: Sequence[str], stamp: float, forget_first: bool = True) -> None:
        """A successful sign-in: its pending attempt no longer counts; its user's count is cleared
        (``forget_first``: the first key is the user name), not its address's."""
        with self._lock:
            for index, key in enumerate(keys):
                times = self._failed.get(key)
                if times is None:
                    continue
                if index == 0 and forget_first:
                    times.clear()
                else:
                    with contextlib.suppress(ValueError):  # gone already: the window passed
                        times.remove(stamp)
                if not times:
                    del self._failed[key]

    def key_count(self) -> int:
        with self._lock:
            return len(self._failed)


def limiter_keys(user_name: str, client_address: str) -> tuple[str, str]:
    return f"user:{user_name.lower()}", f"address:{client_address}"
