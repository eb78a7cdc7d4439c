"""Feed transport throughput: records per second written and read through a JSONL file and a Redis Stream.

The records are real: ``twin.live.feed.produce_feed`` runs the small network (20 dealers x 500 SKUs) for 10 days
without faults, and its feed is repeated until there are ``--records`` of them (same mix of event types and
sizes). Each transport is timed through the classes ``twin-feed`` and ``twin-shadow`` use
(``twin.live.transports``), in batches of ``--batch`` records:

- JSONL write: ``JsonlWriter.write`` (one write and flush per batch); read: ``JsonlReader.read`` until the end
  (the file was just written, so it is read from the page cache, not the disk);
- Redis write: ``RedisStreamWriter.write`` (XADD pipelined, ``--batch`` commands a round trip); read:
  ``RedisStreamReader.read`` then ``commit`` of the batch's last entry (XREADGROUP + XACK a batch).

Reading only: no parsing, no applying (``parse_record`` and the live state are the shadow's share). Every read
is checked to return every record, in order. The Redis server is ``TWIN_REDIS_URL`` if set, else one this
script starts on 127.0.0.1 (a free port, no persistence) and stops by its pid at the end; on a 2-core machine
it shares the cores with this process. Each figure is the median of ``--repeat`` runs, a fresh file and a fresh
stream each. Prints Markdown, ready to paste. Run:
``.venv/bin/python benchmarks/feed_transport.py [--records 100000] [--batch 2000] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# a sibling script (run as python benchmarks/<name>.py): one definition of peak memory
from engine_throughput import peak_rss_mb

from twin.live.transports import JsonlReader, JsonlWriter, RedisStreamReader, RedisStreamWriter, redis_client

REPO = Path(__file__).resolve().parent.parent
FEED_OVERRIDES = [
    "network=small",
    "horizon_days=10",
    "warmup_days=5",
    "seed=3",
    "logger=none",
    "progress=false",
]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=2_000, help="records a write call / a read call")
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="feed-transport-") as scratch:
        feed, manifest = real_feed(Path(scratch))
        records = [feed[n % len(feed)] for n in range(arguments.records)]
        megabytes = sum(len(record.encode()) + 1 for record in records) / 1e6
        rows: list[tuple[str, str, list[float]]] = []
        jsonl = [
            jsonl_round(Path(scratch) / f"feed_{n}.jsonl", records, arguments.batch)
            for n in range(arguments.repeat)
        ]
        rows += [
            ("JSONL file", "write", [w for w, _ in jsonl]),
            ("JSONL file", "read", [r for _, r in jsonl]),
        ]
        with redis_server() as (url, where):
            version, redis_rounds = redis_rounds_on(url, records, arguments)
        rows += [
            ("Redis Stream", "write (XADD, pipelined)", [w for w, _, _ in redis_rounds]),
            ("Redis Stream", "read (XREADGROUP + XACK)", [r for _, r, _ in redis_rounds]),
        ]

    sizes = sorted(len(record.encode()) for record in feed)
    print(
        f"# Feed transports: {arguments.records:,} records ({megabytes:,.1f} MB), batches of {arguments.batch:,}, "
        f"median of {arguments.repeat}\n"
    )
    print(
        f"Records: the fault-free feed of `twin-feed {' '.join(FEED_OVERRIDES)}` ({len(feed):,} records, "
        f"{manifest['wall_seconds']} s to produce), repeated; bytes a record: mean "
        f"{statistics.fmean(sizes):,.0f}, median {sizes[len(sizes) // 2]:,}, max {sizes[-1]:,}. "
        f"Redis {version} ({where}).\n"
    )
    print("| transport | operation | records | seconds | records/s | MB/s |")
    print("|---|---|---:|---:|---:|---:|")
    for transport, operation, seconds in rows:
        median = statistics.median(seconds)
        print(
            f"| {transport} | {operation} | {arguments.records:,} | {median:.3f} | "
            f"{arguments.records / median:,.0f} | {megabytes / median:,.1f} |"
        )
    stream_mb = statistics.median(memory for _, _, memory in redis_rounds)
    print(
        f"\nRedis memory for the stream: {stream_mb:,.0f} MB ({stream_mb * 1e6 / arguments.records:,.0f} bytes a record)"
    )
    print(f"peak RSS of this process {peak_rss_mb():,.0f} MB (the records are held in memory)")


def real_feed(scratch: Path) -> tuple[list[str], dict[str, Any]]:
    """The feed ``twin-feed`` writes for the small network, composed the way the command composes it."""
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from twin.cli import CONFIG_DIR
    from twin.config import validate
    from twin.hydra_store import register_configs
    from twin.live.feed import FEED_FILE, produce_feed

    register_configs()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        config = OmegaConf.to_object(compose("feed", overrides=FEED_OVERRIDES))
    validate(config)
    output = scratch / "feed_run"
    output.mkdir()
    manifest = produce_feed(config, output)
    return (output / FEED_FILE).read_text(encoding="utf-8").splitlines(), manifest


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def jsonl_round(path: Path, records: list[str], batch: int) -> tuple[float, float]:
    def write() -> None:
        writer = JsonlWriter(path)
        for start in range(0, len(records), batch):
            writer.write(records[start : start + batch])
        writer.close()

    def read() -> list[bytes]:
        reader = JsonlReader(path)
        out: list[bytes] = []
        while got := reader.read(batch):
            out.extend(record for _, record in got)
        reader.close()
        return out

    write_seconds, _ = timed(write)
    read_seconds, read_back = timed(read)
    check(read_back, records, "JSONL")
    path.unlink()
    return write_seconds, read_seconds


def redis_rounds_on(
    url: str, records: list[str], arguments: argparse.Namespace
) -> tuple[str, list[tuple[float, float, float]]]:
    client = redis_client(url)
    version = client.info("server")["redis_version"]
    rounds = []
    for _ in range(arguments.repeat):
        stream = f"twin-benchmark:{uuid.uuid4().hex}"
        try:
            rounds.append(redis_round(url, client, stream, records, arguments.batch))
        finally:
            client.delete(stream)
    client.close()
    return version, rounds


def redis_round(
    url: str, client: Any, stream: str, records: list[str], batch: int
) -> tuple[float, float, float]:
    def write() -> None:
        writer = RedisStreamWriter(url, stream, batch=batch)
        writer.write(records)
        writer.close()

    def read() -> list[bytes]:
        reader = RedisStreamReader(url, stream, "benchmark", "reader-1", claim_idle_ms=60_000, block_ms=0)
        out: list[bytes] = []
        while got := reader.read(batch):
            out.extend(record for _, record in got)
            reader.commit(got[-1][0])
        reader.close()
        return out

    memory_before = client.info("memory")["used_memory"]
    write_seconds, _ = timed(write)
    stream_mb = (client.info("memory")["used_memory"] - memory_before) / 1e6
    read_seconds, read_back = timed(read)
    check(read_back, records, "Redis")
    pending = client.xpending(stream, "benchmark")["pending"]
    if pending:
        raise RuntimeError(f"Redis: {pending} entries left unacknowledged after the read")
    return write_seconds, read_seconds, stream_mb


def check(read_back: list[bytes], records: list[str], transport: str) -> None:
    if read_back != [record.encode() for record in records]:
        raise RuntimeError(
            f"{transport}: read {len(read_back):,} records, not the {len(records):,} written in order"
        )


@contextmanager
def redis_server() -> Iterator[tuple[str, str]]:
    """``TWIN_REDIS_URL``, else a private redis-server on 127.0.0.1, stopped by its pid on the way out."""
    configured = os.environ.get("TWIN_REDIS_URL")
    if configured:
        yield configured, f"TWIN_REDIS_URL={configured}"
        return
    sys.path.insert(0, str(REPO))  # the test suite's launcher: one definition of how a local server starts
    from tests.helpers.redis_server import LocalRedis, MissingRedisError

    with tempfile.TemporaryDirectory(prefix="feed-transport-redis-") as directory:
        try:
            server = LocalRedis(Path(directory))
        except MissingRedisError as error:
            raise SystemExit(f"error: {error}") from None
        with server:
            yield server.url, f"started here on 127.0.0.1:{server.port}, pid {server.pid}, no persistence"


if __name__ == "__main__":
    main()
