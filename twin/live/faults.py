"""From true events to what a consumer receives: numbering per source, stamps, and the faults of real feeds.

``FaultyDelivery`` takes each batch of ``TruthEvent`` as the run produces it, numbers every message per source
(its ``sequence``, in true order), stamps ``occurred_at`` by the source's (possibly skewed) clock, and
schedules its delivery: after a random latency, late by days, held back so later messages overtake it, twice,
followed by a broken record, held for the weekly export, or never (a silent DMS). ``due(now)`` releases the
records whose delivery time has come, in delivery order. Every fault is drawn from the run's seed, so a feed
is reproducible, and counted in the manifest so a test can check the consumer against what was injected.
"""

from __future__ import annotations

import heapq
import json
import math
from collections import Counter
from typing import Any

import msgspec
import numpy as np

from twin.live.codes import FeedClock, MasterCodes
from twin.live.contract import PACKED_CODE_SEPARATOR, event_id_of
from twin.live.recorder import TruthEvent
from twin.live.settings import FeedSettings

#: kinds of broken records, in turn
MALFORMED_KINDS = ("bad_json", "unknown_type", "wrong_units", "unknown_part", "unknown_dealer", "bad_vin")
#: broken records get numbers of their own, far above any real message's (a source's test message, say)
MALFORMED_SEQUENCE_BASE = 1_000_000_000


_NO_LINES: dict[str, list[Any]] = {
    "part_number": [], "channel": [], "document_number": [], "quantity_requested": [],
    "quantity_issued": [], "quantity_lost": [], "emergency_order": [],
}  # fmt: skip


class FaultyDelivery:
    def __init__(
        self,
        settings: FeedSettings,
        codes: MasterCodes,
        clock: FeedClock,
        seed: int,
        horizon_days: int,
    ) -> None:
        self.settings, self.codes, self.clock = settings, codes, clock
        self.rng = np.random.default_rng(np.random.SeedSequence([seed, 0xFEED]))
        dealers = codes.dealers
        order = self.rng.permutation(dealers)
        weekly_count = round(settings.weekly_export_share * dealers)
        self.weekly_dealers = frozenset(int(dealer) for dealer in order[:weekly_count])
        silent_pool = order[weekly_count:]
        self.silent_dealers = frozenset(int(dealer) for dealer in silent_pool[: settings.silent_dealers])
        start = settings.silent_from_day if settings.silent_from_day >= 0 else horizon_days / 2
        self.silent_window = (float(start), float(start) + settings.silent_days)
        self._resynced = False
        self._skew_days: dict[str, float] = {}
        self._sequence: Counter[str] = Counter()
        self._malformed_sequence: Counter[str] = Counter()
        self._queue: list[tuple[float, int, str]] = []
        self._tiebreak = 0
        self.manifest: Counter[str] = Counter()

    # -- faults by source ---------------------------------------------------------------------------------
    def skew_days(self, source: str) -> float:
        skew = self._skew_days.get(source)
        if skew is None:
            limit = self.settings.clock_skew_minutes / (24 * 60)
            skew = float(self.rng.uniform(-limit, limit)) if limit > 0 else 0.0
            self._skew_days[source] = skew
        return skew

    def silent(self, event: TruthEvent) -> bool:
        start, end = self.silent_window
        return event.dealer in self.silent_dealers and start <= event.day < end

    def resync_due(self, now: float) -> frozenset[int]:
        """Silent dealers come back once: their DMS resends its full position and its cars then."""
        if self._resynced or not self.silent_dealers or now < self.silent_window[1]:
            return frozenset()
        self._resynced = True
        return self.silent_dealers

    def next_export_day(self, day: float) -> float:
        """End of the next export weekday (the export runs overnight)."""
        whole = math.floor(day)
        for offset in range(8):
            candidate = whole + offset
            if self.clock.date(candidate).weekday() == 6 and candidate + 1 > day:
                return float(candidate + 1)
        return float(whole + 7)

    # -- numbering, stamping, scheduling ------------------------------------------------------------------
    def submit(self, events: list[TruthEvent]) -> None:
        settings, rng = self.settings, self.rng
        for event in events:
            self._sequence[event.source] += 1
            sequence = self._sequence[event.source]
            record = {
                "event_id": event_id_of(event.source, sequence),
                "source": event.source,
                "sequence": sequence,
                "occurred_at": self.clock.iso(event.day + self.skew_days(event.source)),
                "schema_version": settings.schema_version,
                "type": event.type,
                "payload": event.payload,
            }
            self.manifest["events"] += 1
            self.manifest[f"type:{event.type}"] += 1
            if self.silent(event):
                self.manifest["lost_silent_dealer"] += 1
                continue
            deliver = event.day
            if event.dealer in self.weekly_dealers:
                deliver = self.next_export_day(event.day)
                self.manifest["held_for_weekly_export"] += 1
            if settings.latency_hours > 0:
                deliver += float(rng.exponential(settings.latency_hours / 24))
            if settings.late_share > 0 and rng.random() < settings.late_share:
                deliver += float(rng.uniform(1.0, settings.late_days_max))
                self.manifest["late"] += 1
            if settings.reorder_share > 0 and rng.random() < settings.reorder_share:
                deliver += float(rng.uniform(0.0, settings.reorder_window_hours / 24))
                self.manifest["reordered"] += 1
            text = msgspec.json.encode(record).decode()
            self._push(deliver, text)
            if settings.duplicate_share > 0 and rng.random() < settings.duplicate_share:
                self._push(deliver + float(rng.uniform(0.0, 2 / 24)), text)
                self.manifest["duplicates"] += 1
            if settings.malformed_share > 0 and rng.random() < settings.malformed_share:
                kind = MALFORMED_KINDS[self.manifest["malformed"] % len(MALFORMED_KINDS)]
                self._push(deliver, self._broken(record, kind))
                self.manifest["malformed"] += 1
                self.manifest[f"malformed:{kind}"] += 1

    def _push(self, deliver_day: float, text: str) -> None:
        self._tiebreak += 1
        heapq.heappush(self._queue, (deliver_day, self._tiebreak, text))

    def due(self, now: float) -> list[str]:
        """Records whose delivery time is at or before ``now``, in delivery order."""
        out = []
        queue = self._queue
        while queue and queue[0][0] <= now:
            out.append(heapq.heappop(queue)[2])
        return out

    def drain(self) -> list[str]:
        return self.due(math.inf)

    # -- broken records -----------------------------------------------------------------------------------
    def _broken(self, record: dict[str, Any], kind: str) -> str:
        source = record["source"]
        self._malformed_sequence[source] += 1
        sequence = MALFORMED_SEQUENCE_BASE + self._malformed_sequence[source]
        broken = json.loads(json.dumps(record))
        broken["sequence"], broken["event_id"] = sequence, event_id_of(source, sequence)
        payload = broken["payload"]
        if kind == "bad_json":
            text = json.dumps(broken, separators=(",", ":"))
            return text[: max(10, len(text) // 2)]
        if kind == "unknown_type":
            broken["type"] = "parts.stock_level"
        elif kind == "wrong_units":
            lines = payload.get("lines") or payload.get("packed_lines")
            if lines:
                lines["uom"] = "BOX"
            elif "vin_revision" in payload:
                payload["eta"] = 2.5  # days as a number, not a timestamp
            else:
                payload["eta"] = "in 2 days"
        elif kind == "unknown_part":
            lines, packed = payload.get("lines"), payload.get("packed_lines")
            if lines and lines.get("part_number"):
                lines["part_number"][0] = "XX-UNKNOWN-0000"
            elif packed and packed.get("count"):
                rest = packed["part_number"].split(PACKED_CODE_SEPARATOR)[1:]
                packed["part_number"] = PACKED_CODE_SEPARATOR.join(["XX-UNKNOWN-0000", *rest])
            else:
                return self._broken_dealer(broken)
        elif kind == "unknown_dealer":
            return self._broken_dealer(broken)
        elif kind == "bad_vin":
            if "vin" in payload:
                vin = payload["vin"]
                payload["vin"] = vin[:8] + ("X" if vin[8] != "X" else "0") + vin[9:]
            else:
                return self._broken_dealer(broken)
        return json.dumps(broken, separators=(",", ":"))

    @staticmethod
    def _broken_dealer(broken: dict[str, Any]) -> str:
        payload = broken["payload"]
        for key in ("dealer_id", "location_id", "ship_to_id", "consignment_id"):
            if key in payload and key != "consignment_id":
                payload[key] = "D9999X"
                break
        else:
            broken["type"] = "parts.issue_lines"
            broken["payload"] = {"dealer_id": "D9999X", "business_date": "2026-01-01", "lines": _NO_LINES}
        return json.dumps(broken, separators=(",", ":"))
