"""Shadow replay speed: how fast ``twin-shadow`` applies a feed (parse, validate, apply, close days, drift,
checkpoints), from a JSONL file and from a Redis Stream, and the memory it takes.

The feed is a ``twin-feed`` run folder (``--feed <folder>``: its feed.jsonl and feed_manifest.json), or one this
script makes (``--network small --days 60``; a default-network year takes minutes to make, so make it once
with ``twin-feed logger=none hydra.run.dir=<folder>`` and pass it). The replay runs the real ``ShadowRunner``
into a scratch folder: ``--decisions`` adds the live policies' daily run (off by default: their speed is the
policies', measured by the other benchmarks). Redis: the feed is published to a fresh stream first (not timed
here; ``feed_transport.py`` measures transports), then replayed through a consumer group. The server is
``TWIN_REDIS_URL`` or one started on 127.0.0.1 and stopped by pid. Figures: records (feed messages, one
``event_id`` each) per wall and per CPU second, parts lines (position cells, demand and consignment lines) per
second, MB/s, wall and CPU seconds, and the peak resident memory of a child process doing only the replay.
The feed's form is printed: schema 2 packs the bulk parts lines (``twin-feed``'s default), schema 1
(``feed.schema_version=1``) writes them as JSON lists; a feed of each from the same run compares the two. Prints Markdown. Run:
``.venv/bin/python benchmarks/shadow_replay.py --feed <twin-feed run folder> [--redis] [--truth]``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path
from queue import Empty
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def _compose(config_name: str, overrides: list[str]) -> Any:
    from tests.helpers.live import compose_config

    return compose_config(config_name, overrides)


def make_feed(folder: Path, network: str, days: int) -> None:
    from twin.live.feed import produce_feed

    config = _compose("feed", [f"network={network}", f"horizon_days={days}", "warmup_days=5", "logger=none",
                               "progress=false"])  # fmt: skip
    produce_feed(config, folder)


def replay(overrides: list[str], folder: str, queue: Any) -> None:
    """In a child process, so its peak memory is the replay's own."""
    from twin.live.shadow import ShadowRunner

    config = _compose("shadow", overrides)
    started, started_cpu = time.perf_counter(), time.process_time()
    report = ShadowRunner(config, Path(folder)).run(progress=False)
    wall, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put({"report": report, "wall_seconds": wall, "cpu_seconds": cpu, "peak_mb": peak_mb})


def timed_replay(overrides: list[str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="shadow-replay-") as scratch:
        queue: Any = multiprocessing.get_context("fork").Queue()
        child = multiprocessing.get_context("fork").Process(target=replay, args=(overrides, scratch, queue))
        child.start()
        while True:  # a child that dies (an exception, the OOM killer) must not leave us waiting for ever
            try:
                result = queue.get(timeout=1.0)
                break
            except Empty:
                if not child.is_alive():
                    raise RuntimeError(
                        f"the replay process ended (exit code {child.exitcode}) without a result"
                    ) from None
        child.join()
        return dict(result)


def publish(feed: Path, url: str, stream: str) -> None:
    from twin.live.transports import RedisStreamWriter

    writer = RedisStreamWriter(url, stream)
    batch: list[str] = []
    with open(feed, encoding="utf-8") as handle:
        for line in handle:
            batch.append(line.rstrip("\n"))
            if len(batch) == 20_000:
                writer.write(batch)
                batch = []
    writer.write(batch)
    writer.close()


def main() -> None:
    scratch = Path(tempfile.mkdtemp(prefix="shadow-feed-"))
    try:
        measure(scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)  # the feed made here, Redis's folder


def measure(scratch: Path) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--feed", type=Path, help="a twin-feed run folder")
    parser.add_argument("--network", default="small")
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--redis", action="store_true", help="replay from a Redis Stream too")
    parser.add_argument("--no-jsonl", action="store_true", help="skip the JSONL replay (with --redis)")
    parser.add_argument("--decisions", action="store_true", help="run the live policies each closed day")
    parser.add_argument(
        "--truth",
        action="store_true",
        help="compare the final live state with the feed's truth/ (not timed apart)",
    )
    arguments = parser.parse_args()

    folder = arguments.feed
    if folder is None:
        folder = scratch / "feed"
        folder.mkdir()
        print(f"making a {arguments.days}-day feed of the {arguments.network} network ...", file=sys.stderr)
        make_feed(folder, arguments.network, arguments.days)
    manifest = json.loads((folder / "feed_manifest.json").read_text())
    config = json.loads(json.dumps(manifest))
    feed_file = folder / "feed.jsonl"
    size_mb = feed_file.stat().st_size / 1e6
    resolved = (
        (folder / ".hydra" / "overrides.yaml").read_text()
        if (folder / ".hydra" / "overrides.yaml").exists()
        else ""
    )
    network = (
        "small"
        if "network=small" in resolved or (arguments.feed is None and arguments.network == "small")
        else "default"
    )
    days = max(manifest["truth_days"])
    base = [f"network={network}", "logger=none", "progress=false", f"horizon_days={days}",
            f"shadow.decisions={str(arguments.decisions).lower()}", "shadow.checkpoint_every_records=200000"]  # fmt: skip
    if arguments.feed is None:
        base.append("warmup_days=5")  # as make_feed made it (the default warm-up outlasts a short feed)
    if arguments.truth:
        base.append(f"truth={folder / 'truth'}")
    rows = []
    if not arguments.no_jsonl:
        rows.append(("JSONL file", timed_replay([*base, f"feed.path={feed_file}"])))
    if arguments.redis:
        from tests.helpers.redis_server import start_local_redis

        url = os.environ.get("TWIN_REDIS_URL")
        server = None
        if not url:
            (scratch / "redis").mkdir(exist_ok=True)
            server = start_local_redis(scratch / "redis")
            url = server.url
        stream = f"shadow-replay:{uuid.uuid4().hex}"
        publish(feed_file, url, stream)
        try:
            rows.append(("Redis Stream", timed_replay([*base, "feed.source=redis", f"feed.redis_url={url}",
                                                       f"feed.stream={stream}"])))  # fmt: skip
        finally:
            from twin.live.transports import redis_client

            client = redis_client(url)
            client.delete(stream)
            client.close()
            if server is not None:
                server.stop()
    events = manifest["events"]
    with open(feed_file, "rb") as handle:
        head = handle.read(1_000_000)
    form = (
        "schema 2, packed bulk lines" if b'"packed_lines"' in head else "schema 1, bulk lines as JSON lists"
    )
    print(f"feed form: {form}")
    print(f"feed: {feed_file} ({size_mb:,.0f} MB, {manifest['records_written']:,} records, {events:,} events "
          f"over {days} days = {events / days:,.0f} events/day; network {network}; decisions {arguments.decisions})")  # fmt: skip
    del config
    print()
    print(
        "| source | records | wall s | CPU s | records/s | records/CPU s | parts lines/s | MB/s | peak memory MB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, result in rows:
        report, wall, cpu = result["report"], result["wall_seconds"], result["cpu_seconds"]
        print(
            f"| {name} | {report['events_read']:,} | {wall:.1f} | {cpu:.1f} | {report['events_read'] / wall:,.0f} "
            f"| {report['events_read'] / cpu:,.0f} | {report['parts_lines_accepted'] / wall:,.0f} "
            f"| {size_mb / wall:,.1f} | {result['peak_mb']:,.0f} |"
        )
    print()
    print(
        "CPU s: the replaying process's own CPU time (on a shared machine the wall time also holds waiting). "
        "A record is one feed message (one event_id); parts lines: the position cells, demand lines and "
        "consignment lines those messages carry."
    )
    for name, result in rows:
        report = result["report"]
        print(
            f"{name}: {report['events_applied']:,} events applied, {report['parts_lines_accepted']:,} parts lines"
        )
    for name, result in rows:
        report = result["report"]
        if "state_differences_vs_truth" in report:
            print(f"{name}: {report['state_differences_vs_truth']} differences from the truth of day "
                  f"{report['truth_day']}, {report['dead_lettered']} dead letters")  # fmt: skip


if __name__ == "__main__":
    main()
