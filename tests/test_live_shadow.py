"""Shadow mode end to end: a twin run as the live feed (the twin is the ground truth), consumed by the shadow.

What a planner relies on: whatever the feed does on the way (duplicates, reordering, clock skew, late and
broken records, a crash of the consumer), the shadow's state ends equal to the truth, every broken record is
dead-lettered with its reason and counted, and a dealer whose DMS goes quiet is flagged stale.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from tests.helpers.live import compose_config, make_feed, read_jsonl, run_shadow, shadow_overrides
from twin.domain.state import NetworkState
from twin.engine.simulation import load_world
from twin.live.faults import MALFORMED_KINDS
from twin.live.shadow import DEAD_LETTER_FILE, DECISIONS_FILE, DRIFT_FILE, REPORT_FILE

HORIZON = 20
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def clean_feed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("clean_feed")
    return folder, make_feed(folder, HORIZON)


@pytest.fixture(scope="module")
def faulty_feed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """10% duplicates, 10% reordered, broken records of every kind, late records and skewed clocks."""
    folder = tmp_path_factory.mktemp("faulty_feed")
    manifest = make_feed(
        folder,
        HORIZON,
        overrides=[
            "feed.duplicate_share=0.1",
            "feed.reorder_share=0.1",
            "feed.malformed_share=0.03",
            "feed.latency_hours=0.5",
            "feed.late_share=0.02",
            "feed.clock_skew_minutes=20",
        ],
    )
    return folder, manifest


@pytest.fixture(scope="module")
def faulty_shadow(
    faulty_feed: tuple[Path, dict], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("faulty_shadow")
    return folder, run_shadow(folder, shadow_overrides(faulty_feed[0], HORIZON))


def test_a_fault_free_feed_rebuilds_the_truth_exactly(clean_feed: tuple[Path, dict], tmp_path: Path) -> None:
    feed, manifest = clean_feed
    report = run_shadow(tmp_path, shadow_overrides(feed, HORIZON))
    assert report["state_differences_vs_truth"] == 0, report["differences_by_field"]
    assert report["truth_day"] == HORIZON
    assert report["events_read"] == report["events_applied"] == manifest["events"]
    assert report["duplicates_ignored"] == report["dead_lettered"] == 0
    assert report["days_closed"] == HORIZON
    truth = NetworkState.load(feed / "truth" / f"day_{HORIZON:03d}")
    assert report["vins"] == len(truth.vehicles)


def test_the_projection_beats_the_last_known_position(clean_feed: tuple[Path, dict], tmp_path: Path) -> None:
    """Drift: a day ahead, on hand less the expected demand plus consignments due is closer to what the DMS
    then reports than yesterday's figure; and with a complete feed no source goes stale."""
    feed, _ = clean_feed
    report = run_shadow(tmp_path, shadow_overrides(feed, HORIZON))
    drift = report["drift"]
    assert drift["h1_parts_mae_units"] < drift["h1_naive_parts_mae_units"]
    assert drift["h1_vin_status_share_off"] < drift["h1_naive_vin_status_share_off"]
    assert report["stale_sources"] == []
    days = read_jsonl(tmp_path / DRIFT_FILE)
    assert [record["day"] for record in days] == list(range(HORIZON))


def test_duplicates_reordering_skew_and_late_records_change_nothing(
    faulty_feed: tuple[Path, dict], faulty_shadow: tuple[Path, dict]
) -> None:
    _, manifest = faulty_feed
    _, report = faulty_shadow
    assert manifest["duplicates"] > 0 and manifest["reordered"] > 0 and manifest["late"] > 0
    assert report["state_differences_vs_truth"] == 0, report["differences_by_field"]
    assert report["duplicates_ignored"] == manifest["duplicates"]
    assert report["events_applied"] == manifest["events"]
    # records overtaken by newer ones change nothing and are counted, not lost
    assert report["superseded"] > 0


def test_every_broken_record_is_dead_lettered_with_its_reason(
    faulty_feed: tuple[Path, dict], faulty_shadow: tuple[Path, dict]
) -> None:
    _, manifest = faulty_feed
    folder, report = faulty_shadow
    assert report["dead_lettered"] == manifest["malformed"] > 0
    letters = read_jsonl(folder / DEAD_LETTER_FILE)
    assert len(letters) == manifest["malformed"]
    for letter in letters:
        assert letter["reason"] and letter["field"] and letter["record"]
    kinds = {letter["kind"] for letter in letters}
    # each injected kind is recognised as what it is
    assert {"bad_json", "unknown_type", "wrong_units", "unknown_part", "bad_vin"} <= kinds
    assert {letter["kind"] for letter in letters} <= {
        *MALFORMED_KINDS,
        "unknown_dealer_or_site",
        "invalid_value",
    }
    assert sum(report["dead_letter_kinds"].values()) == report["dead_lettered"]


def test_a_silent_dealer_is_flagged_stale_and_its_resync_restores_the_truth(tmp_path: Path) -> None:
    feed = tmp_path / "feed"
    manifest = make_feed(
        feed, HORIZON, overrides=["feed.silent_dealers=1", "feed.silent_days=5", "feed.silent_from_day=8"]
    )
    (silent,) = manifest["silent_dealers"]
    assert manifest["lost_silent_dealer"] > 0
    report = run_shadow(tmp_path / "shadow", shadow_overrides(feed, HORIZON))
    stale_days = [
        record["day"]
        for record in read_jsonl(tmp_path / "shadow" / DRIFT_FILE)
        if f"DMS:{silent}" in record["stale_sources"]
    ]
    # quiet from day 8 for 5 days: stale once 36 h have passed, fresh again after the resync on day 13
    assert stale_days and min(stale_days) >= 9 and max(stale_days) <= 13
    assert report["state_differences_vs_truth"] == 0, report["differences_by_field"]


def test_weekly_export_dealers_differ_only_where_the_export_is_behind(tmp_path: Path) -> None:
    feed = tmp_path / "feed"
    manifest = make_feed(feed, HORIZON, overrides=["feed.weekly_export_share=0.25"])
    weekly = set(manifest["weekly_export_dealers"])
    assert weekly
    overrides = shadow_overrides(feed, HORIZON)
    report = run_shadow(tmp_path / "shadow", overrides)
    truth = NetworkState.load(feed / "truth" / f"day_{HORIZON:03d}")
    live = np.load(tmp_path / "shadow" / "live_state" / "live_arrays.npz")
    lagging = set()
    for name in ("on_hand", "reserved", "workshop_wip", "in_transit", "backorder"):
        rows = np.flatnonzero((live[f"parts:{name}"] != truth.arrays[f"parts:{name}"]).any(axis=1))
        lagging |= set(rows.tolist())
    dealer_ids = [
        str(code) for code in load_world(compose_config("shadow", overrides)).network.dealers.dealer_id
    ]
    # the last export is days old at the end: those dealers' shelves lag, and nobody else's
    assert lagging and report["state_differences_vs_truth"] > 0
    assert {dealer_ids[location] for location in lagging} <= weekly


@pytest.mark.slow
def test_a_consumer_killed_five_times_ends_in_the_uninterrupted_state(
    faulty_feed: tuple[Path, dict], faulty_shadow: tuple[Path, dict], tmp_path: Path
) -> None:
    feed, _ = faulty_feed
    reference, reference_report = faulty_shadow
    folder = tmp_path / "killed"
    overrides = [*shadow_overrides(feed, HORIZON), "shadow.checkpoint_every_records=400"]
    # the consumer runs in a forked child (everything imported already), killed with SIGKILL: no clean-up
    # of any kind runs, exactly as when the machine or the container dies
    fork = multiprocessing.get_context("fork")
    pointer = folder / "checkpoint" / "CURRENT"
    rng = np.random.default_rng(5)
    for _ in range(5):
        before = pointer.read_text() if pointer.exists() else ""
        consumer = fork.Process(target=run_shadow, args=(folder, overrides))
        consumer.start()
        deadline = time.monotonic() + 120
        while consumer.is_alive() and time.monotonic() < deadline:
            if pointer.exists() and pointer.read_text() != before:
                break
            time.sleep(0.005)
        time.sleep(float(rng.uniform(0, 0.05)))  # anywhere: mid-batch, mid-checkpoint, between files
        assert consumer.is_alive(), "the consumer finished before it could be killed"
        os.kill(consumer.pid, signal.SIGKILL)
        consumer.join()
        assert consumer.exitcode == -signal.SIGKILL
    run_shadow(folder, overrides)  # the restart that finishes
    report = json.loads((folder / REPORT_FILE).read_text())
    assert report["resumed_from_checkpoint"] is True
    for key in (
        "events_read",
        "events_applied",
        "duplicates_ignored",
        "dead_lettered",
        "superseded",
        "days_closed",
    ):
        assert report[key] == reference_report[key], key
    assert report["state_differences_vs_truth"] == 0
    for name in (DECISIONS_FILE, DEAD_LETTER_FILE, DRIFT_FILE):
        assert (folder / name).read_bytes() == (reference / name).read_bytes(), name
    mine = np.load(folder / "live_state" / "live_arrays.npz")
    theirs = np.load(reference / "live_state" / "live_arrays.npz")
    assert sorted(mine.files) == sorted(theirs.files)
    for key in mine.files:
        assert np.array_equal(mine[key], theirs[key]), key


def test_redis_streams_carry_the_same_feed_to_the_same_state(
    redis_url: str,
    stream_name: str,
    faulty_feed: tuple[Path, dict],
    faulty_shadow: tuple[Path, dict],
    tmp_path: Path,
) -> None:
    """The faulty feed published to a real Redis Stream and consumed by a consumer group: same result."""
    feed, manifest = faulty_feed
    _, jsonl_report = faulty_shadow
    make_feed(
        tmp_path / "feed",
        HORIZON,
        overrides=[
            "feed.sink=redis",
            f"feed.redis_url={redis_url}",
            f"feed.stream={stream_name}",
            "feed.duplicate_share=0.1",
            "feed.reorder_share=0.1",
            "feed.malformed_share=0.03",
            "feed.latency_hours=0.5",
            "feed.late_share=0.02",
            "feed.clock_skew_minutes=20",
        ],
    )
    report = run_shadow(
        tmp_path / "shadow",
        [
            *shadow_overrides(feed, HORIZON),
            "feed.source=redis",
            f"feed.redis_url={redis_url}",
            f"feed.stream={stream_name}",
            "shadow.checkpoint_every_records=1000",
        ],
    )
    assert report["state_differences_vs_truth"] == 0
    for key in ("events_read", "events_applied", "duplicates_ignored", "dead_lettered", "days_closed"):
        assert report[key] == jsonl_report[key], key
    assert manifest["events"] == report["events_applied"]
    import redis

    client = redis.Redis.from_url(redis_url)
    assert client.xpending(stream_name, "twin-shadow")["pending"] == 0  # every entry acknowledged
    client.close()


def test_following_a_feed_file_as_it_grows(clean_feed: tuple[Path, dict], tmp_path: Path) -> None:
    """``shadow.follow=true``: the shadow keeps reading while the feed is still being written, a half-written
    line included, and ends in the truth once the writer stops."""
    import threading

    feed, _ = clean_feed
    lines = (feed / "feed.jsonl").read_bytes().splitlines(keepends=True)
    growing = tmp_path / "growing.jsonl"
    growing.write_bytes(b"".join(lines[: len(lines) // 3]))

    def write_the_rest() -> None:
        time.sleep(0.3)
        with open(growing, "ab") as handle:
            for index, line in enumerate(lines[len(lines) // 3 :]):
                if index == 10:  # a line in two pieces, as a writer mid-flush leaves it
                    handle.write(line[:20])
                    handle.flush()
                    time.sleep(0.3)
                    handle.write(line[20:])
                else:
                    handle.write(line)
                if index % 500 == 0:
                    handle.flush()
                    time.sleep(0.05)

    writer = threading.Thread(target=write_the_rest)
    writer.start()
    overrides = [
        *shadow_overrides(feed, HORIZON),
        f"feed.path={growing}",
        "shadow.follow=true",
        "shadow.idle_stop_seconds=1.5",
    ]
    report = run_shadow(tmp_path / "shadow", overrides)
    writer.join()
    assert report["events_read"] == len(lines)
    assert report["dead_lettered"] == 0
    assert report["state_differences_vs_truth"] == 0


def test_a_live_state_is_not_read_on_another_network(clean_feed: tuple[Path, dict], tmp_path: Path) -> None:
    """Resuming (or forking) a live state with another network's master data is refused by name."""
    from twin.errors import ConfigError

    feed, _ = clean_feed
    run_shadow(tmp_path / "shadow", shadow_overrides(feed, HORIZON))
    other = [*shadow_overrides(feed, HORIZON), "network.skus=300"]
    with pytest.raises(ConfigError, match="another network"):
        run_shadow(tmp_path / "shadow", other)


def test_a_quantity_beyond_any_integer_is_refused_not_a_crash() -> None:
    """JSON allows a 20-digit count; the live state refuses the record whole (dead letter), it does not stop."""
    import datetime as dt

    from twin.live.codes import FeedClock, MasterCodes
    from twin.live.contract import FeedRecordError, parse_record
    from twin.live.live_state import LiveState

    config = compose_config("shadow", ["network=small", "logger=none", "progress=false"])
    codes = MasterCodes(load_world(config))
    state = LiveState(codes, FeedClock(dt.date.fromisoformat(config.start_date)))
    dealer, parts = codes.dealer_ids[0], codes.part_numbers[:2]
    record = {
        "event_id": f"DMS:{dealer}/1", "source": f"DMS:{dealer}", "sequence": 1, "schema_version": 1,
        "occurred_at": "2026-01-05T10:00:00+05:30", "type": "parts.position_delta",
        "payload": {"location_id": dealer, "lines": {
            "part_number": parts, "on_hand": [4, 2**63], "reserved": [0, 0], "workshop_wip": [0, 0],
            "on_order": [0, 0], "backorder": [0, 0]}},
    }  # fmt: skip
    with pytest.raises(FeedRecordError) as refused:
        state.apply(parse_record(json.dumps(record)))
    assert "2^31" in refused.value.reason
    assert not state.levels.any() and not state.sources[f"DMS:{dealer}"].contiguous


def test_a_record_from_a_wrong_clock_is_dead_lettered_not_let_close_years(
    clean_feed: tuple[Path, dict], tmp_path: Path
) -> None:
    """One record stamped in 2099 would otherwise move the feed's clock there and close every day up to it:
    it goes to the dead letters, and the rest of the feed still rebuilds the truth."""
    feed, manifest = clean_feed
    lines = (feed / "feed.jsonl").read_text().splitlines()
    wrong = json.loads(lines[len(lines) // 2])
    wrong["sequence"] = 999_999_999  # a message of its own, not a resend of the one copied
    wrong["event_id"] = f"{wrong['source']}/{wrong['sequence']}"
    wrong["occurred_at"] = "2099-01-01T00:00:00+05:30"
    lines.insert(len(lines) // 2 + 1, json.dumps(wrong))
    (tmp_path / "feed").mkdir()
    (tmp_path / "feed" / "feed.jsonl").write_text("\n".join(lines) + "\n")
    overrides = [*shadow_overrides(feed, HORIZON), f"feed.path={tmp_path / 'feed' / 'feed.jsonl'}"]

    report = run_shadow(tmp_path / "shadow", overrides)

    assert report["days_closed"] == HORIZON and report["state_differences_vs_truth"] == 0
    (letter,) = read_jsonl(tmp_path / "shadow" / DEAD_LETTER_FILE)
    assert letter["kind"] == "future_timestamp" and letter["field"] == "occurred_at"
    assert "shadow.max_future_hours" in letter["reason"]
    assert report["events_applied"] == manifest["events"]


@pytest.mark.parametrize("url", ["notaurl", "http://127.0.0.1:6379/0", "redis://"])
def test_a_redis_url_redis_cannot_use_is_refused_naming_the_key(url: str, tmp_path: Path) -> None:
    from twin.errors import ConfigError

    overrides = [*shadow_overrides(tmp_path, HORIZON), "feed.source=redis", f"feed.redis_url={url}"]
    with pytest.raises(ConfigError, match=r"feed\.redis_url"):
        run_shadow(tmp_path / "shadow", overrides)


def test_a_feed_made_on_another_network_is_refused_before_a_record_is_read(
    clean_feed: tuple[Path, dict], tmp_path: Path
) -> None:
    from twin.errors import ConfigError

    feed, _ = clean_feed
    other = [*shadow_overrides(feed, HORIZON), "network.skus=300"]
    with pytest.raises(ConfigError, match=r"feed\.path.*a feed of another network"):
        run_shadow(tmp_path / "shadow", other)
    assert not (tmp_path / "shadow" / REPORT_FILE).exists()


def test_a_shadow_folder_does_not_resume_on_another_feed_file(
    clean_feed: tuple[Path, dict], tmp_path: Path
) -> None:
    """Its checkpoint is a byte position in one file: continuing another file from there would read half a
    record and skip the rest."""
    from twin.errors import ConfigError

    feed, _ = clean_feed
    run_shadow(tmp_path / "shadow", shadow_overrides(feed, HORIZON))
    other = tmp_path / "other"
    other.mkdir()
    lines = (feed / "feed.jsonl").read_text().splitlines(keepends=True)
    (other / "feed.jsonl").write_text("".join(lines[1:]))
    with pytest.raises(ConfigError, match="is not the feed this shadow folder"):
        run_shadow(
            tmp_path / "shadow", [*shadow_overrides(feed, HORIZON), f"feed.path={other / 'feed.jsonl'}"]
        )
    # the same feed resumes as before
    assert run_shadow(tmp_path / "shadow", shadow_overrides(feed, HORIZON))["state_differences_vs_truth"] == 0


def test_a_feed_file_that_ends_inside_a_record_dead_letters_it_as_truncated(
    clean_feed: tuple[Path, dict], tmp_path: Path
) -> None:
    """A DMS export cut off mid-record: the piece is read and dead-lettered, not dropped without a word."""
    feed, _ = clean_feed
    text = (feed / "feed.jsonl").read_bytes()
    cut = text.index(b"\n", len(text) // 3) + 40  # 40 bytes into a record
    (tmp_path / "feed").mkdir()
    (tmp_path / "feed" / "feed.jsonl").write_bytes(text[:cut])
    whole_lines = text[:cut].count(b"\n")
    overrides = [*shadow_overrides(feed, HORIZON), f"feed.path={tmp_path / 'feed' / 'feed.jsonl'}"]

    report = run_shadow(tmp_path / "shadow", overrides)

    assert report["events_read"] == whole_lines + 1 and report["dead_lettered"] == 1
    (letter,) = read_jsonl(tmp_path / "shadow" / DEAD_LETTER_FILE)
    assert (
        letter["kind"] == "truncated"
        and letter["record"] == text[text.rindex(b"\n", 0, cut) + 1 : cut].decode()
    )
