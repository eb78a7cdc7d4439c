"""``twin-feed``'s work: run the twin as the real world and write what its systems would send, with faults.

Output (run folder): ``feed.jsonl`` (or a Redis Stream), ``truth/day_NNN/`` (the ground-truth state at the
start of each chosen day, as ``NetworkState`` folders) and ``feed_manifest.json`` (what was sent and every
fault injected, counted).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from twin.components import load_world
from twin.engine.simulation import Simulation
from twin.live.codes import FeedClock, MasterCodes
from twin.live.faults import FaultyDelivery
from twin.live.recorder import FeedRecorder
from twin.live.settings import FEED_FILE, MANIFEST_FILE, FeedRunConfig, check_feed_settings
from twin.live.transports import FeedWriter, JsonlWriter, RedisStreamWriter


def open_writer(config: FeedRunConfig, output_dir: Path) -> FeedWriter:
    if config.feed.sink == "redis":
        return RedisStreamWriter(config.feed.redis_url, config.feed.stream)
    path = output_dir / FEED_FILE
    path.unlink(missing_ok=True)
    return JsonlWriter(path)


def produce_feed(
    config: FeedRunConfig, output_dir: Path, progress: Callable[[int, int, int], None] | None = None
) -> dict[str, Any]:
    """Run the twin over the horizon, emitting its feed day by day; returns the manifest."""
    check_feed_settings(config)
    started = time.perf_counter()
    world = load_world(config)
    simulation = Simulation(config, world=world)
    codes, clock = MasterCodes(world), FeedClock(simulation.start_date)
    delivery = FaultyDelivery(config.feed, codes, clock, config.seed, config.horizon_days)
    recorder = FeedRecorder(
        simulation,
        codes,
        clock,
        config.feed.sync_interval_minutes,
        delivery.weekly_dealers,
        packed_lines=config.feed.schema_version >= 2,
    )
    truth_days = sorted(set(config.feed.truth_days or [config.horizon_days]))
    writer = open_writer(config, output_dir)
    records = 0
    try:
        recorder.start()
        for day in range(simulation.start_day + 1, config.horizon_days + 1):
            simulation.advance(day)
            recorder.sync()  # everything up to the start of ``day`` is reported
            resync = delivery.resync_due(day)
            if resync:
                recorder.resync(resync, float(day))
            delivery.submit(recorder.take())
            due = delivery.due(float(day))
            writer.write(due)
            records += len(due)
            if day in truth_days:
                simulation.snapshot().save(output_dir / "truth" / f"day_{day:03d}")
            if progress is not None:
                progress(day, config.horizon_days, records)
        rest = delivery.drain()
        writer.write(rest)
        records += len(rest)
    finally:
        writer.close()
    manifest: dict[str, Any] = {
        "records_written": records,
        **dict(sorted(delivery.manifest.items())),
        "weekly_export_dealers": sorted(codes.dealer_ids[dealer] for dealer in delivery.weekly_dealers),
        "silent_dealers": sorted(codes.dealer_ids[dealer] for dealer in delivery.silent_dealers),
        "silent_window_days": list(delivery.silent_window) if delivery.silent_dealers else None,
        "truth_days": truth_days,
        # which network's master codes the feed speaks (a shadow of another network refuses it)
        "network_codes": codes.fingerprint(),
        "sink": config.feed.sink,
        "feed": str(output_dir / FEED_FILE) if config.feed.sink == "jsonl" else config.feed.stream,
        "wall_seconds": round(time.perf_counter() - started, 2),
    }
    (output_dir / MANIFEST_FILE).write_text(json.dumps(manifest, indent=1))
    return manifest
