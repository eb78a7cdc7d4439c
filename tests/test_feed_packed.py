"""The packed bulk lines of feed schema 2 (docs/feeds.md): a DMS position or a day's demand lines as base64
int32 columns and joined part numbers, read without a Python object per value.

What an integrator relies on: a packed record says exactly what its list form says (same live state), a bad
packed column is refused whole naming the column, the line and the value, and schema 1's lists still work.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.helpers.live import compose_config, make_feed, read_jsonl, run_shadow, shadow_overrides
from twin.engine.simulation import load_world
from twin.live.codes import FeedClock, MasterCodes
from twin.live.contract import FeedRecordError, parse_record
from twin.live.live_state import LiveState
from twin.live.recorder import packed_ints
from twin.live.shadow import DEAD_LETTER_FILE

HORIZON = 6


def _position(
    on_hand: list[int], reserved: list[int], parts: str = "P000001|P000002", **changes: Any
) -> dict:
    count = len(on_hand)
    zeros = packed_ints(np.zeros(count, dtype=np.int64))
    lines = {"count": count, "part_number": parts, "on_hand": packed_ints(np.array(on_hand)),
             "reserved": packed_ints(np.array(reserved)), "workshop_wip": zeros, "on_order": zeros,
             "backorder": zeros, **changes}  # fmt: skip
    return {
        "event_id": "DMS:D0001/7", "source": "DMS:D0001", "sequence": 7, "schema_version": 2,
        "occurred_at": "2026-01-05T10:00:00+05:30", "type": "parts.position_delta",
        "payload": {"location_id": "D0001", "packed_lines": lines},
    }  # fmt: skip


def _issue_lines(**changes: Any) -> dict:
    lines = {"count": 2, "part_number": "P000001|P000003", "channel": "CW",
             "document_number": "CO-D0001-00000001|RO-D0001-00000002",
             "quantity_requested": packed_ints(np.array([3, 1])), "quantity_issued": packed_ints(np.array([2, 1])),
             "quantity_lost": packed_ints(np.array([1, 0])), "emergency_order": "NY", **changes}  # fmt: skip
    return {
        "event_id": "DMS:D0001/8", "source": "DMS:D0001", "sequence": 8, "schema_version": 2,
        "occurred_at": "2026-01-05T18:00:00+05:30", "type": "parts.issue_lines",
        "payload": {"dealer_id": "D0001", "business_date": "2026-01-05", "packed_lines": lines},
    }  # fmt: skip


@pytest.fixture(scope="module")
def codes() -> MasterCodes:
    config = compose_config("shadow", ["network=small", "logger=none", "progress=false"])
    return MasterCodes(load_world(config))


def _state(codes: MasterCodes) -> LiveState:
    return LiveState(codes, FeedClock(dt.date(2026, 1, 1)))


def test_packed_columns_read_back_exactly() -> None:
    """The writer's encoding (``packed_ints``) and the reader's decoding are one round trip, up to int32."""
    values = np.array([0, 1, 7, 2**31 - 1, 12_345], dtype=np.int64)
    record = _position(values.tolist(), [0] * 5, parts="A|B|C|D|E")
    event = parse_record(json.dumps(record))
    lines = event.payload.packed_lines
    assert lines.part_numbers == ["A", "B", "C", "D", "E"]
    assert lines.quantities.dtype == np.int32 and lines.quantities.shape == (5, 5)
    np.testing.assert_array_equal(lines.quantities[0], values)
    assert not lines.quantities[1:].any()
    with pytest.raises(ValueError, match="does not fit"):
        packed_ints(np.array([2**31]))
    issue = parse_record(json.dumps(_issue_lines())).payload.packed_lines
    np.testing.assert_array_equal(issue.quantities, [[3, 1], [2, 1], [1, 0]])


@pytest.mark.parametrize(
    ("record", "field", "value", "reason"),
    [
        (_position([4, -3], [0, 0]), "payload.packed_lines.on_hand[1]", -3, ">= 0"),
        (
            _position([4], [0]),
            "payload.packed_lines.part_number",
            "P000001|P000002",
            "holds 2 codes, count is 1",
        ),
        (_position([4, 1], [0, 0], parts="P000001|"), "payload.packed_lines.part_number[1]", "", "1 to 40"),
        (
            _position([4, 1], [0, 0], on_order="AAAA"),
            "payload.packed_lines.on_order",
            3,
            "count 2 x 4 (int32)",
        ),
        (_position([4, 1], [0, 0], on_order="AAA!"), "payload.packed_lines.on_order", "AAA!", "base64"),
        (_position([4, 1], [0, 0], uom="BOX"), "payload.packed_lines.uom", "BOX", "Invalid enum value"),
        (_position([4, 1], [0, 0], colour="red"), "payload.packed_lines.colour", None, "unknown field"),
        (_issue_lines(channel="CX"), "payload.packed_lines.channel[1]", "X", "one of C, W"),
        (_issue_lines(emergency_order="N"), "payload.packed_lines.emergency_order", "N", "holds 1 letters"),
        (
            _issue_lines(quantity_requested=packed_ints(np.array([3, 0]))),
            "payload.packed_lines.quantity_requested[1]",
            0,
            "> 0",
        ),
        (
            _issue_lines(document_number="CO-1|" + "R" * 41),
            "payload.packed_lines.document_number[1]",
            "R" * 41,
            "1 to 40",
        ),
    ],
)
def test_a_bad_packed_column_is_refused_naming_the_column_line_and_value(
    record: dict, field: str, value: Any, reason: str
) -> None:
    with pytest.raises(FeedRecordError) as refused:
        parse_record(json.dumps(record))
    assert refused.value.field == field
    if value is not None:
        assert refused.value.value == value
    assert reason in refused.value.reason


def test_one_form_per_record_and_packed_only_from_schema_2() -> None:
    record = _position([4, 1], [0, 0])
    both = json.loads(json.dumps(record))
    both["payload"]["lines"] = {"part_number": [], "on_hand": [], "reserved": [], "workshop_wip": [],
                                "on_order": [], "backorder": []}  # fmt: skip
    with pytest.raises(FeedRecordError, match="exactly one of lines"):
        parse_record(json.dumps(both))
    record["schema_version"] = 1
    with pytest.raises(FeedRecordError) as refused:
        parse_record(json.dumps(record))
    assert (refused.value.field, refused.value.reason) == (
        "payload.packed_lines",
        "packed lines need schema_version 2",
    )


def test_master_data_checks_name_the_packed_line(codes: MasterCodes) -> None:
    """Unknown part numbers and a reservation above the shelf are refused whole: nothing changes."""
    state = _state(codes)
    dealer = codes.dealer_ids[0]
    for record, field, value in (
        (_position([4, 1], [0, 0], parts=f"{codes.part_numbers[0]}|XX-9"), "payload.packed_lines.part_number[1]",
         "XX-9"),
        (_position([4, 1], [0, 2], parts="|".join(codes.part_numbers[:2])), "payload.packed_lines.reserved[1]", 2),
    ):  # fmt: skip
        record["payload"]["location_id"], record["source"] = dealer, f"DMS:{dealer}"
        record["event_id"] = f"DMS:{dealer}/7"
        with pytest.raises(FeedRecordError) as refused:
            state.apply(parse_record(json.dumps(record)))
        assert (refused.value.field, refused.value.value) == (field, value)
    assert not state.levels.any() and not state.sources[f"DMS:{dealer}"].contiguous


def test_a_bad_packed_record_is_dead_lettered_whole_and_the_rest_applied(
    codes: MasterCodes, tmp_path: Path
) -> None:
    """Through the shadow runner: the bad record goes to dead letters with its column and reason."""
    dealer, parts = codes.dealer_ids[0], "|".join(codes.part_numbers[:2])
    good, bad = _position([5, 2], [1, 0], parts=parts), _position([5, -2], [1, 0], parts=parts)
    for sequence, record in ((1, good), (2, bad)):
        record.update(source=f"DMS:{dealer}", sequence=sequence, event_id=f"DMS:{dealer}/{sequence}")
        record["payload"]["location_id"] = dealer
    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps(record) + "\n" for record in (good, bad)))
    report = run_shadow(tmp_path / "shadow", ["network=small", "logger=none", "progress=false",
                                              f"feed.path={feed}", "shadow.decisions=false"])  # fmt: skip
    assert (report["events_applied"], report["dead_lettered"]) == (1, 1)
    (letter,) = read_jsonl(tmp_path / "shadow" / DEAD_LETTER_FILE)
    assert (letter["kind"], letter["field"], letter["value"]) == (
        "invalid_value",
        "payload.packed_lines.on_hand[1]",
        -2,
    )
    assert json.loads(letter["record"]) == bad
    live = np.load(tmp_path / "shadow" / "live_state" / "live_arrays.npz")
    assert live["parts:on_hand"][0, :2].tolist() == [5, 2]


def test_schema_1_lists_and_schema_2_packed_feeds_give_the_same_state(tmp_path: Path) -> None:
    """The same run written both ways (feed.schema_version=1 writes the lists), with duplicates and reordering:
    the same live state, both equal to the truth."""
    faults = ["feed.duplicate_share=0.1", "feed.reorder_share=0.1"]
    reports = {}
    for version in (1, 2):
        feed = tmp_path / f"feed_v{version}"
        make_feed(feed, HORIZON, overrides=[*faults, f"feed.schema_version={version}"])
        first = (feed / "feed.jsonl").open().readline()
        assert ('"packed_lines"' in first) == (version == 2) and f'"schema_version":{version}' in first
        reports[version] = run_shadow(tmp_path / f"shadow_v{version}", shadow_overrides(feed, HORIZON))
    for version, report in reports.items():
        assert report["state_differences_vs_truth"] == 0, (version, report["differences_by_field"])
    for key in ("events_read", "events_applied", "duplicates_ignored", "superseded", "dead_lettered"):
        assert reports[1][key] == reports[2][key], key
    lists, packed = (
        np.load(tmp_path / f"shadow_v{version}" / "live_state" / "live_arrays.npz") for version in (1, 2)
    )
    assert sorted(lists.files) == sorted(packed.files)
    for key in lists.files:
        assert np.array_equal(lists[key], packed[key]), key
    frames = [
        pd.read_parquet(tmp_path / f"shadow_v{v}" / "live_state" / "live_vehicles.parquet") for v in (1, 2)
    ]
    pd.testing.assert_frame_equal(*frames)
