"""``twin-shadow``'s work: consume a feed, keep the live state in step, close days, publish decisions, report.

Each record is parsed (``twin.live.contract``), applied to the ``LiveState`` (duplicates ignored, older
messages never overwrite newer ones) or, when it cannot be, written to ``dead_letters.jsonl`` with the reason
and counted. A day closes once the feed's clock has moved ``shadow.close_after_hours`` past its end: the drift
tracker scores and projects, and the live policies run on the synced state and publish their decisions.

Exactly once across crashes: a checkpoint holds the live state, the policies' and drift tracker's state, the
feed position and the size of every output file, and is made current by one atomic rename of a pointer file.
A restart (the same run folder) loads the newest checkpoint, cuts the output files back to its sizes and
reads the feed from its position, so a ``kill -9`` at any moment ends in exactly the uninterrupted result.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import shutil
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from twin.components import load_world
from twin.domain.state import NetworkState
from twin.errors import ConfigError
from twin.live.codes import FeedClock, MasterCodes
from twin.live.contract import FeedRecordError, parse_record
from twin.live.drift import DriftTracker
from twin.live.live_state import Applied, LiveState, atomic_write_text
from twin.live.settings import MANIFEST_FILE, ShadowRunConfig, check_shadow_settings
from twin.live.transports import FeedReader, JsonlReader, RedisStreamReader, RedisStreamWriter

DECISIONS_FILE = "decisions.jsonl"
DEAD_LETTER_FILE = "dead_letters.jsonl"
DRIFT_FILE = "drift_daily.jsonl"
REPORT_FILE = "shadow_report.json"
LIVE_STATE_DIR = "live_state"
CHECKPOINT_DIR = "checkpoint"
OUTPUT_FILES = (DECISIONS_FILE, DEAD_LETTER_FILE, DRIFT_FILE)
READ_BATCH = 2_000
#: delivered consignments stay in the live state this long (portal "recent arrivals"), then are forgotten
DELIVERED_KEPT_DAYS = 7


class CheckpointStore:
    """Numbered checkpoint folders and a pointer file naming the current one (replaced atomically)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pointer = root / "CURRENT"

    def latest(self) -> Path | None:
        if not self.pointer.is_file():
            return None
        folder = self.root / self.pointer.read_text().strip()
        return folder if folder.is_dir() else None

    def write(self, fill: Any) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        current = self.latest()
        serial = int(current.name.rsplit("-", 1)[1]) + 1 if current is not None else 1
        folder = self.root / f"checkpoint-{serial:06d}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        fill(folder)
        atomic_write_text(self.pointer, folder.name)
        self.remove_others(folder)
        return folder

    def remove_others(self, keep: Path | None) -> None:
        """Older checkpoints, and a half-written one a crash left behind."""
        if not self.root.is_dir():
            return
        for folder in self.root.glob("checkpoint-*"):
            if keep is None or folder.name != keep.name:
                shutil.rmtree(folder, ignore_errors=True)


def _dead_letter_kind(error: FeedRecordError) -> str:
    if error.field == "record":
        return "truncated" if error.reason.startswith("truncated") else "bad_json"
    if error.field == "type":
        return "unknown_type"
    if error.field == "schema_version":
        return "schema_version"
    if "unknown part number" in error.reason:
        return "unknown_part"
    if "unknown dealer" in error.reason or "unknown plant" in error.reason:
        return "unknown_dealer_or_site"
    if error.field == "occurred_at" and "ahead of the feed's clock" in error.reason:
        return "future_timestamp"
    if error.field.endswith("vin"):
        return "bad_vin"
    if "uom" in error.field:
        return "wrong_units"
    return "invalid_value"


#: how much of a JSONL feed's head a checkpoint keeps a digest of (it names the file a resume must continue)
FEED_HEAD_BYTES = 65_536


class ShadowRunner:
    def __init__(self, config: ShadowRunConfig, output_dir: Path) -> None:
        check_shadow_settings(config)
        self.config, self.settings, self.output_dir = config, config.shadow, output_dir
        world = load_world(config)
        self.codes = MasterCodes(world)
        self._check_feed_network()
        self.clock = FeedClock(dt.date.fromisoformat(config.start_date))
        self.state = LiveState(self.codes, self.clock)
        self.drift = DriftTracker(
            self.codes.dealers,
            self.codes.skus,
            self.settings.drift_threshold_units,
            self.settings.stale_after_hours,
        )
        self.decisions: Any = None
        if self.settings.decisions:
            from twin.live.decisions import LiveDecisions

            self.decisions = LiveDecisions(config, world, self.codes)
        self.counts: Counter[str] = Counter()
        self.position: Any = None
        self.next_close_day: int | None = None
        self.watermark_day = -math.inf
        self.checkpoints = CheckpointStore(output_dir / CHECKPOINT_DIR)
        self._decision_stream: RedisStreamWriter | None = None
        if self.settings.decisions_stream:
            self._decision_stream = RedisStreamWriter(config.feed.redis_url, self.settings.decisions_stream)
        self.resumed = self._resume()
        self._outputs = {name: open(output_dir / name, "a", encoding="utf-8") for name in OUTPUT_FILES}  # noqa: SIM115

    def _check_feed_network(self) -> None:
        """A twin-feed run folder's manifest names the network whose codes its feed speaks: another network's
        feed is refused before a record is read (its records would mostly be dead letters, the rest wrong)."""
        feed = self.config.feed
        manifest = Path(feed.path).parent / MANIFEST_FILE
        if feed.source != "jsonl" or not manifest.is_file():
            return
        try:
            made_by = json.loads(manifest.read_text()).get("network_codes")
        except (
            OSError,
            ValueError,
            AttributeError,
        ):  # a manifest is a report, not the feed: not read, no check
            return
        if made_by is not None and made_by != self.codes.fingerprint():
            raise ConfigError(
                "feed.path",
                feed.path,
                f"is a feed of another network ({MANIFEST_FILE} names codes {made_by}, this network's are "
                f"{self.codes.fingerprint()}): shadow it with the network= it was made on",
            )

    def _feed_head(self, length: int) -> str:
        """A digest of the JSONL feed's first ``length`` bytes, which reading it never changes (it only grows);
        '' when the file is shorter."""
        with open(self.config.feed.path, "rb") as handle:
            head = handle.read(length)
        return hashlib.sha256(head).hexdigest() if len(head) == length else ""

    # -- resume ------------------------------------------------------------------------------------------
    def _resume(self) -> bool:
        folder = self.checkpoints.latest()
        self.checkpoints.remove_others(folder)
        if folder is None:
            for name in OUTPUT_FILES:
                (self.output_dir / name).unlink(missing_ok=True)
            return False
        self.state.load(folder / "live")
        meta = json.loads((folder / "runner.json").read_text())
        self.counts = Counter(meta["counts"])
        self.position = meta["position"]
        self.next_close_day = meta["next_close_day"]
        self.watermark_day = float(meta["watermark_day"])
        head = meta.get("feed_head")
        if head is not None and self.config.feed.source == "jsonl" and self._feed_head(head[0]) != head[1]:
            raise ConfigError(
                "feed.path",
                self.config.feed.path,
                f"is not the feed this shadow folder ({self.output_dir}) was reading: its first {head[0]:,} bytes "
                "differ, or it is shorter; shadow another feed into a new hydra.run.dir",
            )
        with np.load(folder / "policies.npz") as archive:
            arrays = {key: archive[key] for key in archive.files}
        self.drift.load_state_arrays(_section(arrays, "drift:"))
        if self.decisions is not None:
            self.decisions.load_state_arrays(_section(arrays, "decisions:"))
        for name, size in meta["output_bytes"].items():
            path = self.output_dir / name
            if path.exists():
                with open(path, "r+b") as handle:
                    handle.truncate(size)
        return True

    def _checkpoint(self, reader: FeedReader) -> None:
        for handle in self._outputs.values():
            handle.flush()

        def fill(folder: Path) -> None:
            self.state.save(folder / "live")
            arrays = {f"drift:{key}": value for key, value in self.drift.state_arrays().items()}
            if self.decisions is not None:
                arrays.update({f"decisions:{k}": v for k, v in self.decisions.state_arrays().items()})
            with open(folder / "policies.npz", "wb") as handle:
                np.savez(handle, **arrays)  # type: ignore[arg-type]
            meta = {
                "counts": dict(self.counts),
                "position": self.position,
                "next_close_day": self.next_close_day,
                "watermark_day": self.watermark_day,
                # the bytes read so far that identify the feed, so a resume cannot continue another file
                "feed_head": self._head_of_position(),
                "output_bytes": {name: (self.output_dir / name).stat().st_size for name in OUTPUT_FILES},
            }
            (folder / "runner.json").write_text(json.dumps(meta))

        self.checkpoints.write(fill)
        reader.commit(self.position)

    def _head_of_position(self) -> list[Any] | None:
        """``[bytes, digest]`` of the JSONL feed's head up to where it was read (at most 64 KiB)."""
        if self.config.feed.source != "jsonl" or not self.position:
            return None
        length = min(FEED_HEAD_BYTES, int(self.position))
        return [length, self._feed_head(length)]

    # -- the loop ----------------------------------------------------------------------------------------
    def open_reader(self) -> FeedReader:
        feed = self.config.feed
        if feed.source == "redis":
            return RedisStreamReader(
                feed.redis_url,
                feed.stream,
                feed.group,
                feed.consumer,
                feed.claim_idle_ms,
                after=self.position,
            )
        return JsonlReader(Path(feed.path), int(self.position or 0))

    def run(self, progress: bool = True) -> dict[str, Any]:
        started = time.perf_counter()
        reader = self.open_reader()
        since_checkpoint, idle_since = 0, time.monotonic()
        bar = tqdm(desc="shadow", unit="rec", disable=not progress, initial=self.counts["events_read"])
        try:
            while True:
                batch = reader.read(min(READ_BATCH, self.settings.checkpoint_every_records))
                if not batch:
                    if self.settings.follow and (
                        self.settings.idle_stop_seconds == 0
                        or time.monotonic() - idle_since < self.settings.idle_stop_seconds
                    ):
                        time.sleep(0.1)
                        continue
                    if not self.settings.follow:  # a followed file may still get the rest of its last line
                        self._dead_letter_unfinished(reader)
                    break
                idle_since = time.monotonic()
                self._consume(batch)
                self.position = batch[-1][0]
                since_checkpoint += len(batch)
                bar.update(len(batch))
                bar.set_postfix(day=self.next_close_day, refresh=False)
                if since_checkpoint >= self.settings.checkpoint_every_records:
                    self._checkpoint(reader)
                    since_checkpoint = 0
            self._close_days(final=True)
            self._checkpoint(reader)
        finally:
            bar.close()
            reader.close()
            for handle in self._outputs.values():
                handle.close()
        self.state.save(self.output_dir / LIVE_STATE_DIR)
        report = self.report(time.perf_counter() - started)
        (self.output_dir / REPORT_FILE).write_text(json.dumps(report, indent=1))
        return report

    def _consume(self, batch: list[tuple[Any, bytes]]) -> None:
        """Parse and apply a batch of records in order, closing days as the feed's clock passes them."""
        state = self.state
        apply, day_of_text, known_day = state.apply, state.day_of_text, state.days_of_text.get
        duplicate, superseded_outcome = Applied.DUPLICATE, Applied.SUPERSEDED
        close_after_days = self.settings.close_after_hours / 24
        max_future_days = self.settings.max_future_hours / 24
        applied = duplicates = superseded = 0
        for position, raw in batch:
            try:
                event = parse_record(raw)
                occurred = known_day(event.occurred_at)
                if occurred is None:
                    occurred = day_of_text(event.occurred_at)
                if occurred > self.watermark_day + max_future_days and self.watermark_day > -math.inf:
                    raise FeedRecordError(
                        "occurred_at",
                        event.occurred_at,
                        f"is more than shadow.max_future_hours={self.settings.max_future_hours:g} ahead of the "
                        "feed's clock (the latest time applied so far)",
                    )
                outcome = apply(event, occurred)
            except FeedRecordError as error:
                self._dead_letter(raw, position, error)
                continue
            if outcome is duplicate:
                duplicates += 1
                continue
            applied += 1
            if outcome is superseded_outcome:
                superseded += 1
            if occurred > self.watermark_day:
                if self.next_close_day is None:
                    self.next_close_day = math.floor(occurred)
                self.watermark_day = occurred
                if occurred - close_after_days + 1e-9 >= self.next_close_day + 1:  # _close_days's first test
                    self._close_days()
        counts = self.counts
        counts["events_read"] += len(batch)
        counts["events_applied"] += applied
        counts["duplicates_ignored"] += duplicates
        counts["superseded"] += superseded

    def _dead_letter_unfinished(self, reader: FeedReader) -> None:
        """A feed file read to its end whose last record has no newline: the writer stopped mid-record. It is
        read and dead-lettered (``truncated``), not dropped unseen."""
        if not isinstance(reader, JsonlReader):
            return
        unfinished = reader.take_unfinished()
        if unfinished is None:
            return
        position, raw = unfinished
        error = FeedRecordError("record", None, "truncated: the file ends inside this record (no newline)")
        self._dead_letter(raw, position, error)
        self.counts["events_read"] += 1
        self.position = position

    def _dead_letter(self, raw: bytes, position: Any, error: FeedRecordError) -> None:
        kind = _dead_letter_kind(error)
        self.counts["dead_lettered"] += 1
        self.counts[f"dead_letter:{kind}"] += 1
        letter = {
            "position": position,
            "kind": kind,
            "field": error.field,
            "value": _jsonable(error.value),
            "reason": error.reason,
            "record": raw.decode("utf-8", "replace"),
        }
        self._outputs[DEAD_LETTER_FILE].write(json.dumps(letter) + "\n")

    # -- closing days --------------------------------------------------------------------------------------
    def _close_days(self, final: bool = False) -> None:
        if self.next_close_day is None:
            return
        limit: float
        if final:
            limit = math.ceil(self.watermark_day - 1e-9)
        else:
            limit = self.watermark_day - self.settings.close_after_hours / 24
        while self.next_close_day + 1 <= limit + 1e-9:
            self._close(self.next_close_day)
            self.next_close_day += 1

    def _close(self, day: int) -> None:
        state = self.state
        state.closed_days.add(day)
        drift = self.drift.close_day(day, state, self.watermark_day)
        self._outputs[DRIFT_FILE].write(json.dumps(drift) + "\n")
        decisions = self.decisions.close_day(day, state) if self.decisions is not None else []
        if decisions:
            lines = [json.dumps(decision, default=_jsonable) for decision in decisions]
            self._outputs[DECISIONS_FILE].write("\n".join(lines) + "\n")
            if self._decision_stream is not None:
                self._decision_stream.write(lines)
        for old_day in [old for old in state.open_demand if old <= day]:
            del state.open_demand[old_day]
        state.forget_delivered(before_day=day - DELIVERED_KEPT_DAYS)
        self.counts["days_closed"] += 1
        self.counts["decisions_published"] += len(decisions)

    # -- the report ---------------------------------------------------------------------------------------
    def report(self, wall_seconds: float) -> dict[str, Any]:
        counts = self.counts
        report: dict[str, Any] = {
            "events_read": counts["events_read"],
            "events_applied": counts["events_applied"],
            "duplicates_ignored": counts["duplicates_ignored"],
            "superseded": counts["superseded"],
            "dead_lettered": counts["dead_lettered"],
            "dead_letter_kinds": {
                key.split(":", 1)[1]: value
                for key, value in sorted(counts.items())
                if key.startswith("dead_letter:")
            },
            "days_closed": counts["days_closed"],
            "decisions_published": counts["decisions_published"],
            "late_demand_lines": self.state.late_demand_lines,
            "parts_lines_accepted": self.state.parts_lines_accepted,
            "sources": len(self.state.sources),
            "vins": len(self.state.vehicles),
            "carrier_invoices": len(self.state.invoices),
            "freight_billed_inr": sum(self.state.invoice_paise_by_carrier.values()) / 100,
            "feed_clock": self.clock.iso(self.watermark_day) if math.isfinite(self.watermark_day) else None,
            **self.drift.staleness(self.state, self.watermark_day),
            "drift": drift_summary(self.output_dir / DRIFT_FILE),
            "resumed_from_checkpoint": self.resumed,
            "wall_seconds": round(wall_seconds, 2),
        }
        if self.config.truth:
            truth = load_truth(Path(self.config.truth))
            differences = self.state.differences(truth)
            report["truth_day"] = truth.day
            report["state_differences_vs_truth"] = int(sum(differences.values()))
            report["differences_by_field"] = {name: count for name, count in differences.items() if count}
            report["differences_by_location"] = self.state.differing_locations(truth)
        return report


def load_truth(path: Path) -> NetworkState:
    """A truth state folder, or a ``truth/`` folder of ``day_NNN`` states (the latest is taken)."""
    if not (path / "meta.json").is_file():
        days = sorted(path.glob("day_*"))
        if not days:
            raise FileNotFoundError(f"truth={str(path)!r}: no state folder (meta.json) or day_NNN folders")
        path = days[-1]
    return NetworkState.load(path)


def drift_summary(path: Path) -> dict[str, float]:
    """Mean of each numeric daily drift figure over the days scored."""
    if not path.is_file():
        return {}
    sums: dict[str, float] = {}
    days: Counter[str] = Counter()
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            for key, value in json.loads(line).items():
                if key != "day" and isinstance(value, int | float) and not isinstance(value, bool):
                    sums[key] = sums.get(key, 0.0) + value
                    days[key] += 1
    return {key: round(sums[key] / days[key], 4) for key in sorted(sums)}


def _section(arrays: dict[str, Any], prefix: str) -> dict[str, Any]:
    return {key[len(prefix) :]: value for key, value in arrays.items() if key.startswith(prefix)}


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)
