"""Settings of ``twin-serve``: what state to serve, where to listen, where the accounts live, how sessions and
logins are limited. Declared once, here, with their ranges; ``conf/serve.yaml`` is validated against them."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

from hydra.core.config_store import ConfigStore

from twin.config_ranges import Range, check_ranges, ranged
from twin.errors import ConfigError

SERVE_SCHEMA_NAME = "serve_schema"
#: addresses a development server may bind without exposing the portal to the network
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass
class ServerSettings:
    #: interface to listen on; loopback by default (put a TLS proxy in front to serve others)
    host: str = "127.0.0.1"
    #: TCP port (0: any free port, printed at start)
    port: int = ranged(8000, Range("port", 0, 65_535))
    #: how long an idle kept-alive connection stays open (seconds): longer than a portal's polling pause
    keep_alive_seconds: float = ranged(75.0, Range("seconds", 1.0, 3600.0))
    #: uvicorn's log level (critical, error, warning, info, debug)
    log_level: str = "warning"
    #: addresses of reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (comma-separated,
    #: e.g. "127.0.0.1"); empty: none, the client address is the TCP peer's. A listed proxy must overwrite
    #: (not append to) X-Forwarded-For, or any client can choose the address the sign-in limit counts
    trusted_proxies: str = ""


@dataclass
class LoginLimitSettings:
    #: failed sign-ins allowed per user name and per client address within the window; the next is refused (429)
    failures: int = ranged(5, Range("failures", 1, 1_000))
    #: the sliding window the failures are counted over (seconds)
    window_seconds: float = ranged(300.0, Range("seconds", 1.0, 86_400.0))


@dataclass
class QuestionLimitSettings:
    #: questions one user may ask Clara within the window (the ask box and the API together); the next is
    #: refused (429), so one account cannot flood the managers' queue of questions Clara could not answer
    per_window: int = ranged(60, Range("questions", 1, 100_000))
    #: the sliding window the questions are counted over (seconds)
    window_seconds: float = ranged(60.0, Range("seconds", 1.0, 86_400.0))


@dataclass
class ServeConfig:
    """``twin-serve``'s whole config."""

    #: a twin-run folder (its final state and snapshots), one state folder, or a twin-shadow folder
    #: (its newest checkpoint or live state); empty: the latest run under ./outputs
    state: str = ""
    server: ServerSettings = field(default_factory=ServerSettings)
    #: the SQLite file of users, sessions, approval decisions and escalated questions
    users: str = "twin_users.db"
    #: how often the state folder is checked for a newer state (seconds; 0: never)
    refresh_seconds: float = ranged(5.0, Range("seconds", 0.0, 86_400.0))
    #: mark the session cookie Secure (true behind TLS; a plain-HTTP browser then never sends it back)
    secure_cookies: bool = False
    #: a session ends this long after sign-in, whatever it does (hours)
    session_hours: float = ranged(8.0, Range("hours", 0.01, 24.0 * 30))
    login: LoginLimitSettings = field(default_factory=LoginLimitSettings)
    questions: QuestionLimitSettings = field(default_factory=QuestionLimitSettings)


def validate_serve(config: ServeConfig) -> ServeConfig:
    """Unknown keys, ranges and choices, each refused naming the key and the value."""
    _refuse_unknown(config, "")
    check_ranges(config)
    if config.server.log_level not in ("critical", "error", "warning", "info", "debug"):
        raise ConfigError(
            "server.log_level", config.server.log_level, "must be critical, error, warning, info or debug"
        )
    if not config.server.host.strip():
        raise ConfigError("server.host", config.server.host, "must name an interface, e.g. 127.0.0.1")
    for address in _proxy_addresses(config.server.trusted_proxies):
        try:
            ipaddress.ip_network(address, strict=False)
        except ValueError:
            raise ConfigError(
                "server.trusted_proxies", address, "must be IP addresses or networks, comma-separated"
            ) from None
    if not config.users.strip():
        raise ConfigError("users", config.users, "must name the SQLite file of the accounts")
    return config


def _proxy_addresses(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def proxy_settings(server: ServerSettings) -> dict[str, Any]:
    """uvicorn's proxy options: X-Forwarded-* are believed only from ``trusted_proxies`` (by default from no
    one; uvicorn's own default believes 127.0.0.1, i.e. any client of a loopback-bound server)."""
    addresses = _proxy_addresses(server.trusted_proxies)
    return {"proxy_headers": bool(addresses), "forwarded_allow_ips": addresses or None}


def _refuse_unknown(node: Any, key: str) -> None:
    """A key that is not a field (a ``+key=`` override) would be silently ignored: refuse it."""
    if not is_dataclass(node) or isinstance(node, type):
        return
    names = {setting.name for setting in fields(node)}
    prefix = f"{key}." if key else ""
    for name, value in vars(node).items():
        if name not in names:
            raise ConfigError(prefix + name, value, f"is not a setting of {type(node).__name__}")
    for name in sorted(names):
        _refuse_unknown(getattr(node, name), prefix + name)


def register_serve_config() -> None:
    """``conf/serve.yaml`` lists ``serve_schema`` first in its defaults, so Hydra checks every key against it."""
    ConfigStore.instance().store(name=SERVE_SCHEMA_NAME, node=ServeConfig)
