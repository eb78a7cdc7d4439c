"""Settings of ``twin-feed`` (a twin run as a live feed, with faults) and ``twin-shadow`` (the shadow consumer).

Both commands take the twin's whole config (network, demand, policies, seed, horizon) plus their own section,
``feed``; ``twin-shadow`` adds ``shadow`` and ``truth``. Defaults are declared once, here, with their ranges.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from twin.config import TwinConfig
from twin.config_ranges import MAX_DAYS, Range, ranged
from twin.errors import ConfigError

SHARE = Range("share", 0.0, 1.0)
HOURS = Range("hours", 0.0, 24.0 * 30)
LOCAL_REDIS = "redis://127.0.0.1:6379/0"


@dataclass
class FeedSettings:
    """How the real world would report a twin run, and what goes wrong on the way (all faults seeded)."""

    #: jsonl (a file in the run folder) or redis (a stream on a Redis server)
    sink: str = "jsonl"

    #: the Redis server when sink=redis (loopback by default)
    redis_url: str = LOCAL_REDIS

    #: the Redis Stream written
    stream: str = "twin:feed"

    #: the feed schema version the sources write (docs/feeds.md): 2 packs the bulk parts lines (positions,
    #: demand lines) as base64 int32 columns and joined part numbers; 1 writes every line as JSON list items
    schema_version: int = ranged(2, Range("version", 1, 2))

    #: how often a DMS/WMS sends the cells that changed (minutes)
    sync_interval_minutes: float = ranged(60.0, Range("minutes", 1.0, 24.0 * 60))
    #: mean delivery delay, exponential (hours)
    latency_hours: float = ranged(0.0, HOURS)
    #: share of messages delivered twice
    duplicate_share: float = ranged(0.0, SHARE)
    #: share of messages held back up to reorder_window_hours, so later ones overtake them
    reorder_share: float = ranged(0.0, SHARE)
    reorder_window_hours: float = ranged(6.0, HOURS)
    #: share of messages delivered 1..late_days_max days after the fact
    late_share: float = ranged(0.0, SHARE)
    late_days_max: float = ranged(3.0, Range("days", 1.0, 60.0))
    #: share of messages followed by a broken record (bad JSON, unknown type, wrong units, unknown ids)
    malformed_share: float = ranged(0.0, SHARE)
    #: dealers whose DMS goes silent (messages lost) for silent_days from silent_from_day (-1: mid-horizon)
    silent_dealers: int = ranged(0, Range("dealers", 0, 100_000))
    silent_days: float = ranged(3.0, Range("days", 0.0, MAX_DAYS))
    silent_from_day: float = ranged(-1.0, Range("day", 0.0, MAX_DAYS, special=(-1.0,)))
    #: share of dealers on the weekly DMS export only (no live messages)
    weekly_export_share: float = ranged(0.0, SHARE)
    #: each source's clock is off by up to this much, either way (minutes)
    clock_skew_minutes: float = ranged(0.0, Range("minutes", 0.0, 24.0 * 60))
    #: days whose ground-truth state is written to truth/day_NNN (empty: the end of the run)
    truth_days: list[int] = field(default_factory=list)


@dataclass
class FeedRunConfig(TwinConfig):
    feed: FeedSettings = field(default_factory=FeedSettings)


@dataclass
class ShadowFeedSettings:
    """Where the shadow reads the feed."""

    #: a JSONL feed file (followed as it grows when shadow.follow is true)
    path: str = ""
    #: jsonl or redis
    source: str = "jsonl"

    #: the Redis server when source=redis
    redis_url: str = LOCAL_REDIS

    #: the Redis Stream read
    stream: str = "twin:feed"

    #: the consumer group (one shadow per group: it keeps one live state)
    group: str = "twin-shadow"

    #: this consumer's name in the group (a restart under the same name re-reads what it had not acknowledged)
    consumer: str = "shadow-1"

    #: entries another consumer took and did not acknowledge for this long are claimed (XAUTOCLAIM)
    claim_idle_ms: int = ranged(60_000, Range("milliseconds", 0, 86_400_000))


@dataclass
class ShadowSettings:
    #: a day closes (its policies run) once the feed has moved this far past its end (hours)
    close_after_hours: float = ranged(6.0, HOURS)
    #: keep reading a growing feed file (or stream) instead of stopping at its end
    follow: bool = False

    #: when following, stop after this long without a new record (0: never)
    idle_stop_seconds: float = ranged(5.0, Range("seconds", 0.0, 86_400.0))
    #: checkpoint after this many records (and at the end)
    checkpoint_every_records: int = ranged(200_000, Range("records", 1, 10**9))
    #: run the live policies on each closed day and publish their decisions
    decisions: bool = True
    #: a dealer-SKU cell whose projection misses the feed by more than this many units is flagged
    drift_threshold_units: float = ranged(5.0, Range("units", 0.0, 1e9))
    #: a source with no message for this long is stale (hours)
    stale_after_hours: float = ranged(36.0, HOURS)
    #: a record stamped more than this far ahead of the feed's clock (the latest time applied so far) goes to
    #: the dead letters: one record from a wrong clock would otherwise close every day up to it (hours)
    max_future_hours: float = ranged(168.0, Range("hours", 1.0, 24.0 * 366))
    #: publish decisions to a Redis stream too (besides decisions.jsonl): empty = no
    decisions_stream: str = ""


@dataclass
class ShadowRunConfig(TwinConfig):
    feed: ShadowFeedSettings = field(default_factory=ShadowFeedSettings)
    shadow: ShadowSettings = field(default_factory=ShadowSettings)
    #: a ground-truth state folder (a twin-feed truth/day_NNN, or truth/ for its latest day) to compare with
    truth: str = ""


#: the files of a twin-feed run folder: the feed, and the manifest that says what it holds and which network
#: made it (here, not in twin.live.feed, so the live service reads the names without the engine)
FEED_FILE = "feed.jsonl"
MANIFEST_FILE = "feed_manifest.json"

#: the URL schemes redis-py connects with
REDIS_SCHEMES = ("redis", "rediss", "unix")


def check_redis_url(url: str) -> None:
    """A Redis URL redis-py can connect with, refused by name before anything runs (not a ValueError from the
    client once the run is under way)."""
    scheme, separator, rest = url.partition("://")
    if not separator or scheme not in REDIS_SCHEMES or not rest:
        raise ConfigError(
            "feed.redis_url", url, "must be redis://host:port/db, rediss://... or unix:///path/to/socket"
        )


def check_feed_settings(config: FeedRunConfig) -> None:
    feed = config.feed
    if feed.sink not in ("jsonl", "redis"):
        raise ConfigError("feed.sink", feed.sink, "must be jsonl or redis")
    if feed.sink == "redis":
        check_redis_url(feed.redis_url)
    if feed.silent_dealers > 0 and feed.silent_dealers > _dealers_hint(config):
        raise ConfigError("feed.silent_dealers", feed.silent_dealers, "more silent dealers than dealers")
    for index, day in enumerate(feed.truth_days):
        if not 0 < day <= config.horizon_days:
            raise ConfigError(f"feed.truth_days[{index}]", day, f"must be within 1..{config.horizon_days}")
    # the feed contract (docs/feeds.md) has no event for a textbook world's lateral fills or for customers
    # waiting at the shelf: a feed of one would not rebuild its state
    operations = config.operations
    for key, value, refused in (
        ("operations.lateral_pool", operations.lateral_pool, operations.lateral_pool != "none"),
        ("operations.dealer_shortage", operations.dealer_shortage, operations.dealer_shortage == "backorder"),
    ):
        if refused:
            raise ConfigError(key, value, "the feed has no events for this textbook mode (docs/textbook.md)")


def check_shadow_settings(config: ShadowRunConfig) -> None:
    if config.feed.source not in ("jsonl", "redis"):
        raise ConfigError("feed.source", config.feed.source, "must be jsonl or redis")
    if config.feed.source == "redis" or config.shadow.decisions_stream:
        check_redis_url(config.feed.redis_url)
    if config.feed.source == "jsonl" and not config.feed.path:
        raise ConfigError(
            "feed.path", config.feed.path, "name the feed file to shadow (feed.path=<feed.jsonl>)"
        )


def _dealers_hint(config: TwinConfig) -> int:
    dealers = getattr(config.network, "dealers", None)
    return int(dealers) if isinstance(dealers, int) else 10**9
