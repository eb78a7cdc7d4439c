"""Where feed records travel: a JSONL file (the embedded default) or a Redis Stream (a real broker).

Writers append records in delivery order. Readers hand out ``(position, record)`` pairs, where the position is
what a checkpoint stores to resume exactly after the last record applied: a byte offset in the file, or the
stream entry id. The Redis reader is a consumer-group member: it first claims entries another consumer took
and abandoned (XAUTOCLAIM), then re-reads its own unacknowledged entries, then new ones (XREADGROUP), and
acknowledges (XACK) only what a checkpoint has made durable. Entries at or before the checkpoint's position
were applied already and are acknowledged without applying them again. A pending entry the stream no longer
holds (XDEL, or trimmed by MAXLEN before anyone applied it) has no record left to apply or to dead-letter: it
is acknowledged, and its id kept in ``deleted_ids`` so the loss is counted, not silent.
"""

from __future__ import annotations

import itertools
import operator
from pathlib import Path
from typing import Any, Protocol

Position = Any  # int byte offset (JSONL) or "ms-seq" entry id (Redis)
_PLUS_ONE = (1).__add__


class FeedWriter(Protocol):
    def write(self, records: list[str]) -> None: ...

    def close(self) -> None: ...


class FeedReader(Protocol):
    def read(self, limit: int) -> list[tuple[Position, bytes]]: ...

    def commit(self, position: Position) -> None: ...

    def close(self) -> None: ...


# -- JSONL ----------------------------------------------------------------------------------------------------
class JsonlWriter:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle = open(path, "a", encoding="utf-8")  # noqa: SIM115 - held open across writes

    def write(self, records: list[str]) -> None:
        if records:
            self._handle.write("\n".join(records) + "\n")
            self._handle.flush()

    def close(self) -> None:
        self._handle.close()


class JsonlReader:
    """Complete lines from ``offset`` on; a line still being written (no newline yet) waits for later.

    The file is read in large chunks split in one call (a ``readline`` per record cost more than parsing
    the smaller records); ``offset`` is the byte offset just after the last line handed out."""

    def __init__(self, path: Path, offset: int = 0, chunk_bytes: int = 1 << 22) -> None:
        if not path.is_file():
            raise FileNotFoundError(f"feed.path={str(path)!r}: no such feed file")
        self.path = path
        self._handle = open(path, "rb")  # noqa: SIM115 - held open across reads
        self._handle.seek(offset)
        self.offset = offset
        self.chunk_bytes = chunk_bytes
        #: complete lines read but not handed out yet (from ``_next``), and the incomplete rest after them
        self._lines: list[bytes] = []
        self._next = 0
        self._rest = b""

    def read(self, limit: int) -> list[tuple[Position, bytes]]:
        out: list[tuple[Position, bytes]] = []
        offset = self.offset
        while len(out) < limit:
            if self._next == len(self._lines):
                chunk = self._handle.read(self.chunk_bytes)
                if not chunk:
                    break  # a line without its newline stays in ``_rest`` until the writer finishes it
                # the rest joins the chunk's first line only (joining the whole chunk copied it)
                self._lines = chunk.split(b"\n")
                self._lines[0] = self._rest + self._lines[0]
                self._rest = self._lines.pop()
                self._next = 0
            end = min(len(self._lines), self._next + limit - len(out))
            lines = self._lines[self._next : end]
            # each line's position (the offset after its newline) and its text, in C loops
            ends = list(itertools.accumulate(map(_PLUS_ONE, map(len, lines)), initial=offset))
            offset = ends[-1]
            records = list(map(bytes.strip, lines))
            if b"" in records:  # blank lines are skipped (their bytes still count)
                out.extend((after, record) for after, record in zip(ends[1:], records, strict=True) if record)
            else:
                out.extend(zip(ends[1:], records, strict=True))
            self._next = end
        self.offset = offset
        return out

    def take_unfinished(self) -> tuple[Position, bytes] | None:
        """At the end of a file that will not grow (not followed): the text after its last newline, if any,
        with the offset after it. A writer that stopped mid-record left it; it must not vanish unseen."""
        if self._next < len(self._lines) or not self._rest.strip():
            return None
        rest, self._rest = self._rest, b""
        self.offset += len(rest)
        return self.offset, rest.strip()

    def commit(self, position: Position) -> None:
        """Nothing to acknowledge: the checkpoint's offset is the whole truth for a file."""

    def close(self) -> None:
        self._handle.close()


# -- Redis Streams -------------------------------------------------------------------------------------------
def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _entry_key(entry_id: str) -> tuple[int, int]:
    milliseconds, _, sequence = entry_id.partition("-")
    return int(milliseconds), int(sequence or 0)


def _raw_reply(response: Any, **options: Any) -> Any:
    """XREADGROUP's reply as the server sent it, ``[[stream, [[id, [name, value, ...]], ...]]]`` (redis-py's
    parser builds a dict per entry in Python); RESP3 sends a map of streams instead of a list."""
    if not response:
        return []
    if isinstance(response, dict):
        return [[stream, entries] for stream, entries in response.items()]
    return response


def _record_of(fields: Any) -> bytes:
    """The ``record`` field of a stream entry: the server's flat ``[name, value, ...]`` list."""
    if fields[0] == b"record":
        record = fields[1]
    else:
        names = fields[0::2]
        record = fields[2 * names.index(b"record") + 1] if b"record" in names else b""
    return record if isinstance(record, bytes) else record.encode()


_FIRST, _SECOND = operator.itemgetter(0), operator.itemgetter(1)


def _plain_entries(entries: list[Any]) -> tuple[list[bytes], list[str], list[bytes]] | None:
    """A reply's entry ids (as sent, and as text) and records in C loops (no Python per entry) when every
    entry is ``[id, [b"record", value]]`` with bytes; None otherwise (a deleted entry, other fields first,
    text replies), for the per-entry path."""
    try:
        raw_ids = list(map(_FIRST, entries))
        ids = list(map(bytes.decode, raw_ids))
        fields = list(map(_SECOND, entries))
        names = list(map(_FIRST, fields))
        records = list(map(_SECOND, fields))
    except (IndexError, TypeError):
        return None
    if names.count(b"record") != len(names) or list(map(type, records)).count(bytes) != len(records):
        return None
    return raw_ids, ids, records


def redis_client(url: str, socket_timeout_seconds: float = 30.0) -> Any:
    """A client whose replies may take ``socket_timeout_seconds``: redis-py's own default (5 s) is shorter
    than a blocking XREADGROUP may legitimately wait, and would turn an idle feed into a TimeoutError."""
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=socket_timeout_seconds)


class RedisStreamWriter:
    """XADD every record (field ``record``) to ``stream``, pipelined."""

    def __init__(self, url: str, stream: str, batch: int = 2_000) -> None:
        self.client = redis_client(url)
        self.stream, self.batch = stream, batch

    def write(self, records: list[str]) -> None:
        for start in range(0, len(records), self.batch):
            pipe = self.client.pipeline(transaction=False)
            for record in records[start : start + self.batch]:
                pipe.xadd(self.stream, {"record": record})
            pipe.execute()

    def close(self) -> None:
        self.client.close()


class RedisStreamReader:
    """One consumer of ``group`` on ``stream``.

    ``block_ms``: how long a read waits for new entries when there are none (0: it does not wait).
    """

    def __init__(
        self,
        url: str,
        stream: str,
        group: str,
        consumer: str,
        claim_idle_ms: int,
        after: str | None = None,
        block_ms: int = 200,
    ) -> None:
        import redis

        # the socket must outlast the longest blocking read, or the wait ends in a TimeoutError
        self.client = redis_client(url, socket_timeout_seconds=30.0 + block_ms / 1_000)
        self.client.set_response_callback("XREADGROUP", _raw_reply)
        self.stream, self.group, self.consumer = stream, group, consumer
        self.block_ms = block_ms
        #: pending entries the stream no longer holds (deleted or trimmed): acknowledged, never applied
        self.deleted_ids: list[str] = []
        self.after = _entry_key(after) if after else (-1, -1)
        try:
            self.client.xgroup_create(stream, group, id="0", mkstream=True)
        except redis.ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise
        # entries other consumers took and never acknowledged become ours, then ours are re-read first
        # XAUTOCLAIM scans at most 10 x count pending entries per call, so a batch may claim nothing (all of
        # them still in a live consumer's hands) while idle ones lie further on: only the cursor's return to
        # 0-0 says the whole pending list was scanned
        self.claimed = 0
        start: str | bytes = "0-0"
        while True:
            reply = self.client.xautoclaim(
                stream, group, consumer, min_idle_time=claim_idle_ms, start_id=start, count=1_000
            )
            start, entries = reply[0], reply[1]
            self.claimed += len(entries)
            # Redis >= 7 drops pending entries the stream no longer holds from the group and names them here
            for raw_id in reply[2] if len(reply) > 2 else []:
                if _entry_key(_text(raw_id)) > self.after:  # at or before it: applied, only not acknowledged
                    self.deleted_ids.append(_text(raw_id))
            if _text(start) == "0-0":
                break
        #: id after which to re-read this consumer's own pending entries; None once they are all re-read
        self._pending_cursor: str | None = "0"
        #: entry ids read and not yet acknowledged, in id order: bytes as the server sent them where it could
        #: be (redis-py passes bytes through to XACK; a text id costs an encoding each)
        self._unacked: list[str | bytes] = []

    def read(self, limit: int) -> list[tuple[Position, bytes]]:
        """Up to ``limit`` records: this consumer's unacknowledged entries first (in id order), then new ones."""
        out: list[tuple[Position, bytes]] = []
        while not out:
            reading_pending = self._pending_cursor is not None
            cursor = self._pending_cursor if reading_pending else ">"
            # BLOCK 0 would wait for ever: block_ms=0 means a read that does not wait
            reply = self.client.xreadgroup(
                self.group,
                self.consumer,
                {self.stream: cursor},
                count=limit,
                block=None if reading_pending or self.block_ms <= 0 else self.block_ms,
            )
            entries = reply[0][1] if reply else []
            if not entries:
                if reading_pending:
                    self._pending_cursor = None  # caught up on our own backlog: now new entries
                    continue
                return out
            if reading_pending:
                self._pending_cursor = _text(entries[-1][0])
            # a reply's entries come in id order: when the first is past the checkpoint, all are
            check = _entry_key(_text(entries[0][0])) <= self.after
            plain = None if check else _plain_entries(entries)
            if plain is not None:  # the usual reply: every entry new and holding just its record
                raw_ids, ids, records = plain
                self._unacked.extend(raw_ids)
                out.extend(zip(ids, records, strict=True))
                continue
            stale: list[str] = []
            for raw_id, fields in entries:
                entry_id = _text(raw_id)
                if check and _entry_key(entry_id) <= self.after:
                    stale.append(entry_id)  # applied before the last checkpoint: acknowledge only
                    continue
                if not fields:  # pending, but deleted from the stream: nothing left to apply
                    self.deleted_ids.append(entry_id)
                    stale.append(entry_id)
                    continue
                record = _record_of(fields)
                self._unacked.append(entry_id)
                out.append((entry_id, record))
            if stale:
                self.client.xack(self.stream, self.group, *stale)
        return out

    def commit(self, position: Position) -> None:
        if position is None:
            return
        limit = _entry_key(str(position))
        # ``_unacked`` is in id order (own pending and claimed entries first, then entries newer than any the
        # group had handed out), so when its last entry is covered, all are: the usual case, one comparison
        if self._unacked and _entry_key(_text(self._unacked[-1])) <= limit:
            done, self._unacked = self._unacked, []
        else:
            done = [entry for entry in self._unacked if _entry_key(_text(entry)) <= limit]
            self._unacked = [entry for entry in self._unacked if _entry_key(_text(entry)) > limit]
        for start in range(0, len(done), 5_000):
            self.client.xack(self.stream, self.group, *done[start : start + 5_000])
        self.after = max(self.after, limit)

    def close(self) -> None:
        self.client.close()
