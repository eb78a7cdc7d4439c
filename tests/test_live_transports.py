"""Feed transports against real media: a JSONL file being written, and a real Redis server's streams.

What a shadow consumer relies on: records come back in delivery order with the position a checkpoint stores;
a half-written line is never handed out; a restarted consumer gets back what it read but never acknowledged,
except what its checkpoint already covers; a consumer that takes over from a dead one claims its entries; and
a commit acknowledges exactly up to the position given.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import redis

from twin.live.transports import (
    JsonlReader,
    JsonlWriter,
    RedisStreamReader,
    RedisStreamWriter,
    _plain_entries,
    _record_of,
)

GROUP = "twin-shadow"


def records(count: int, start: int = 0) -> list[str]:
    # a non-ASCII character, so a character offset and a byte offset differ
    return [
        json.dumps({"event_id": f"DMS:D1/{n}", "note": "₹ 1,200"}, ensure_ascii=False)
        for n in range(start, start + count)
    ]


@pytest.fixture
def client(redis_url: str) -> Any:
    connection = redis.Redis.from_url(redis_url)
    yield connection
    connection.close()


def entry_ids(client: Any, stream: str) -> list[str]:
    return [entry_id.decode() for entry_id, _ in client.xrange(stream)]


def pending(client: Any, stream: str) -> dict[str, int]:
    summary = client.xpending(stream, GROUP)
    return {row["name"].decode(): int(row["pending"]) for row in summary["consumers"]}


def reader(redis_url: str, stream: str, consumer: str, **options: Any) -> RedisStreamReader:
    options.setdefault("claim_idle_ms", 60_000)
    options.setdefault("block_ms", 10)
    return RedisStreamReader(redis_url, stream, GROUP, consumer, **options)


def read_all(feed: RedisStreamReader | JsonlReader, limit: int = 1_000) -> list[tuple[Any, bytes]]:
    out: list[tuple[Any, bytes]] = []
    while batch := feed.read(limit):
        out.extend(batch)
    return out


# -- JSONL ----------------------------------------------------------------------------------------------------
def test_jsonl_returns_records_in_order_with_the_byte_offset_after_each(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    writer = JsonlWriter(path)
    writer.write(records(3))
    writer.write(records(2, start=3))
    writer.close()

    feed = JsonlReader(path)
    got = [feed.read(2), feed.read(2), feed.read(2), feed.read(2)]
    feed.close()

    lines = [line.encode() for line in records(5)]
    offsets = [sum(len(line) + 1 for line in lines[: n + 1]) for n in range(5)]
    assert [len(batch) for batch in got] == [2, 2, 1, 0]
    assert [pair for batch in got for pair in batch] == list(zip(offsets, lines, strict=True))
    assert offsets[-1] == path.stat().st_size
    # a checkpoint's offset resumes exactly after the record it names
    resumed = JsonlReader(path, offset=offsets[2])
    assert read_all(resumed) == list(zip(offsets[3:], lines[3:], strict=True))
    resumed.close()


@pytest.mark.parametrize("chunk_bytes", [1, 7, 64, 1 << 22])
def test_jsonl_reads_the_same_records_whatever_its_chunk_size(tmp_path: Path, chunk_bytes: int) -> None:
    """The reader takes the file in chunks: a line cut by a chunk's end, or a blank line, changes nothing."""
    path = tmp_path / "feed.jsonl"
    lines = [line.encode() for line in records(6)]
    path.write_bytes(b"\n".join([*lines[:3], b"", b"  ", *lines[3:]]) + b"\n")
    feed = JsonlReader(path, chunk_bytes=chunk_bytes)
    got = read_all(feed, limit=4)
    feed.close()
    assert [record for _, record in got] == lines
    assert got[-1][0] == path.stat().st_size
    assert got[2][0] == sum(len(line) + 1 for line in lines[:3])
    assert got[3][0] == got[2][0] + len(b"") + 1 + len(b"  ") + 1 + len(lines[3]) + 1


def test_jsonl_line_still_being_written_is_returned_only_once_complete(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    first, second = records(2)
    path.write_text(first + "\n" + second[:20], encoding="utf-8")
    feed = JsonlReader(path)

    assert feed.read(10) == [(len(first.encode()) + 1, first.encode())]
    assert feed.read(10) == []  # the writer has not finished the second line
    with path.open("a", encoding="utf-8") as handle:
        handle.write(second[20:])
    assert feed.read(10) == []  # all of it, but no newline yet: still not a record
    with path.open("a", encoding="utf-8") as handle:
        handle.write("\n")
    assert feed.read(10) == [(path.stat().st_size, second.encode())]
    assert feed.offset == path.stat().st_size
    feed.close()


# -- Redis Streams --------------------------------------------------------------------------------------------
def test_redis_returns_records_in_order_with_their_entry_ids(
    redis_url: str, stream_name: str, client: Any
) -> None:
    consumer = reader(redis_url, stream_name, "shadow-1")
    assert consumer.read(10) == []  # the group exists before the first record: nothing is missed

    writer = RedisStreamWriter(redis_url, stream_name, batch=2)  # three pipelines
    writer.write(records(5))
    writer.close()

    got = consumer.read(3) + consumer.read(3) + consumer.read(3)
    consumer.close()
    assert got == list(zip(entry_ids(client, stream_name), [r.encode() for r in records(5)], strict=True))


def test_restarted_consumer_rereads_what_it_never_committed(
    redis_url: str, stream_name: str, client: Any
) -> None:
    RedisStreamWriter(redis_url, stream_name).write(records(5))
    crashed = reader(redis_url, stream_name, "shadow-1")
    assert len(crashed.read(3)) == 3
    crashed.close()  # no commit: the process died before its checkpoint

    restarted = reader(redis_url, stream_name, "shadow-1")
    got = read_all(restarted, limit=2)
    assert [record for _, record in got] == [r.encode() for r in records(5)]
    assert [position for position, _ in got] == entry_ids(client, stream_name)
    restarted.close()


def test_restart_from_a_checkpoint_skips_and_acknowledges_what_it_covers(
    redis_url: str, stream_name: str, client: Any
) -> None:
    RedisStreamWriter(redis_url, stream_name).write(records(5))
    ids = entry_ids(client, stream_name)
    crashed = reader(redis_url, stream_name, "shadow-1")
    assert len(read_all(crashed)) == 5
    crashed.close()  # checkpoint saved after the third record, killed before its XACK

    restarted = reader(redis_url, stream_name, "shadow-1", after=ids[2])
    got = read_all(restarted)
    assert got == [(ids[3], records(5)[3].encode()), (ids[4], records(5)[4].encode())]
    assert pending(client, stream_name) == {"shadow-1": 2}  # the three covered were acknowledged, unapplied
    restarted.commit(ids[4])
    assert pending(client, stream_name) == {}
    restarted.close()


def test_commit_acknowledges_exactly_up_to_the_position(
    redis_url: str, stream_name: str, client: Any
) -> None:
    RedisStreamWriter(redis_url, stream_name).write(records(5))
    consumer = reader(redis_url, stream_name, "shadow-1")
    got = read_all(consumer)
    assert client.xpending(stream_name, GROUP)["pending"] == 5

    consumer.commit(got[2][0])
    assert client.xpending(stream_name, GROUP)["pending"] == 2
    assert client.xpending(stream_name, GROUP)["min"].decode() == got[3][0]
    consumer.commit(got[4][0])
    assert client.xpending(stream_name, GROUP)["pending"] == 0
    consumer.close()


def test_new_consumer_claims_the_entries_a_dead_one_abandoned(
    redis_url: str, stream_name: str, client: Any
) -> None:
    RedisStreamWriter(redis_url, stream_name).write(records(5))
    dead = reader(redis_url, stream_name, "shadow-1")
    assert len(dead.read(3)) == 3
    dead.close()

    heir = reader(redis_url, stream_name, "shadow-2", claim_idle_ms=0)
    assert heir.claimed == 3
    assert pending(client, stream_name) == {"shadow-2": 3}
    got = read_all(heir)
    assert [record for _, record in got] == [r.encode() for r in records(5)]
    heir.commit(got[-1][0])
    assert client.xpending(stream_name, GROUP)["pending"] == 0
    heir.close()


def test_claim_scans_past_a_live_consumers_entries_to_abandoned_ones(
    redis_url: str, stream_name: str, client: Any
) -> None:
    """XAUTOCLAIM looks at 10 x COUNT (10,000) pending entries a call: idle ones further on are still found."""
    writer = RedisStreamWriter(redis_url, stream_name)
    writer.write(records(10_001))
    writer.write(records(3, start=10_001))
    live = reader(redis_url, stream_name, "live")
    assert len(live.read(10_001)) == 10_001  # just read: not idle
    dead = reader(redis_url, stream_name, "dead")
    abandoned = [position for position, _ in dead.read(10)]
    # an hour idle, as if its consumer died an hour ago
    client.xclaim(stream_name, GROUP, "dead", 0, abandoned, idle=3_600_000)

    heir = reader(redis_url, stream_name, "heir", claim_idle_ms=60_000)
    assert heir.claimed == 3
    assert [position for position, _ in read_all(heir)] == abandoned
    assert pending(client, stream_name) == {"heir": 3, "live": 10_001}
    for consumer in (live, dead, heir):
        consumer.close()
    writer.close()


@pytest.mark.parametrize("deleted", ["before the restart", "after the restart"])
def test_pending_entry_deleted_from_the_stream_is_acknowledged_and_counted(
    redis_url: str, stream_name: str, client: Any, deleted: str
) -> None:
    """Before: XAUTOCLAIM drops it from the group and names it; after: XREADGROUP returns it with no fields."""
    RedisStreamWriter(redis_url, stream_name).write(records(3))
    crashed = reader(redis_url, stream_name, "shadow-1")
    ids = [position for position, _ in crashed.read(3)]
    crashed.close()
    if deleted == "before the restart":
        client.xdel(stream_name, ids[1])  # trimmed before the restarted consumer applied it
    restarted = reader(redis_url, stream_name, "shadow-1")
    if deleted == "after the restart":
        client.xdel(stream_name, ids[1])
    got = read_all(restarted)
    assert got == [(ids[0], records(3)[0].encode()), (ids[2], records(3)[2].encode())]
    assert restarted.deleted_ids == [ids[1]]
    restarted.commit(ids[2])
    assert client.xpending(stream_name, GROUP)["pending"] == 0
    restarted.close()


def test_read_without_waiting_returns_at_once_when_nothing_is_new(redis_url: str, stream_name: str) -> None:
    """block_ms=0 is a read that does not wait (Redis's BLOCK 0 would wait for ever)."""
    consumer = reader(redis_url, stream_name, "shadow-1", block_ms=0)
    assert consumer.read(10) == []
    consumer.close()


def test_a_reply_read_in_bulk_only_when_every_entry_is_a_plain_record() -> None:
    """The bulk reading of a reply takes only ``[id, [b"record", value]]`` entries; anything else (a deleted
    entry, another field first, text instead of bytes) goes to the per-entry path, which handles it."""
    plain = [[b"1-0", [b"record", b"{}"]], [b"2-0", [b"record", b'{"a":1}']]]
    assert _plain_entries(plain) == ([b"1-0", b"2-0"], ["1-0", "2-0"], [b"{}", b'{"a":1}'])
    assert _plain_entries([*plain, [b"3-0", []]]) is None  # pending, deleted from the stream
    assert _plain_entries([*plain, [b"3-0", [b"note", b"x", b"record", b"{}"]]]) is None
    assert _plain_entries([["1-0", ["record", "{}"]]]) is None  # a client decoding replies to text
    assert _record_of([b"note", b"x", b"record", b"{}"]) == b"{}"
