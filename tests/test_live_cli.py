"""twin-feed and twin-shadow as a user types them: the run folder contract, resuming, and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.entry_points import run_entry
from twin.live.contract import contract_markdown

REPO = Path(__file__).resolve().parent.parent


def _command(entry: str, *arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    code = f"from twin.live.cli import {entry}; {entry}()"
    return subprocess.run(
        [sys.executable, "-c", code, *arguments], cwd=cwd, capture_output=True, text=True, timeout=600
    )


@pytest.mark.slow
def test_feed_then_shadow_as_documented(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The console commands' entry points, in-process (same argv, exit code and output), as the README types them."""
    feed_dir, shadow_dir = tmp_path / "feed", tmp_path / "shadow"
    monkeypatch.chdir(tmp_path)

    def _command(entry: str, *arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return run_entry(f"twin.live.cli:{entry}", *arguments, monkeypatch=monkeypatch, capsys=capsys)

    feed = _command(
        "feed_main", "network=small", "horizon_days=30", "seed=3", "logger=none", f"hydra.run.dir={feed_dir}",
        cwd=tmp_path,
    )  # fmt: skip
    assert feed.returncode == 0, feed.stderr[-2000:]
    assert (feed_dir / "feed.jsonl").stat().st_size > 0
    assert (feed_dir / "truth" / "day_030" / "meta.json").is_file()
    arguments = [
        "network=small",
        "logger=none",
        f"feed.path={feed_dir / 'feed.jsonl'}",
        f"truth={feed_dir / 'truth'}",
    ]
    shadow = _command("shadow_main", *arguments, f"hydra.run.dir={shadow_dir}", cwd=tmp_path)
    assert shadow.returncode == 0, shadow.stderr[-2000:]
    report = json.loads((shadow_dir / "shadow_report.json").read_text())
    for key in (
        "events_read",
        "events_applied",
        "duplicates_ignored",
        "dead_lettered",
        "state_differences_vs_truth",
    ):
        assert key in report
    assert report["state_differences_vs_truth"] == 0
    assert report["events_read"] == report["events_applied"] > 0
    for name in ("decisions.jsonl", "drift_daily.jsonl", "drift.png", "live_state/live_meta.json"):
        assert (shadow_dir / name).exists(), name
    assert "differences from the truth" in shadow.stdout
    # the same folder again: it resumes from its checkpoint, reads nothing new, reports the same
    again = _command("shadow_main", *arguments, f"hydra.run.dir={shadow_dir}", cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "resuming from the checkpoint" in again.stdout
    second = json.loads((shadow_dir / "shadow_report.json").read_text())
    assert {k: v for k, v in second.items() if k not in ("wall_seconds", "resumed_from_checkpoint")} == {
        k: v for k, v in report.items() if k not in ("wall_seconds", "resumed_from_checkpoint")
    }


@pytest.mark.parametrize(
    ("entry", "argument", "named"),
    [
        ("shadow_main", "feed.path=/nonexistent/feed.jsonl", "feed.path"),
        ("shadow_main", "feed.source=kafka", "feed.source"),
        ("feed_main", "feed.sink=kafka", "feed.sink"),
        ("feed_main", "feed.duplicate_share=1.5", "feed.duplicate_share"),
        ("feed_main", "feed.truth_days=[99]", "feed.truth_days[0]"),
        ("feed_main", "operations.lateral_pool=region", "operations.lateral_pool"),
        ("feed_main", "operations.dealer_shortage=backorder", "operations.dealer_shortage"),
    ],
)
def test_bad_settings_are_refused_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], entry: str,
    argument: str, named: str,
) -> None:  # fmt: skip
    """In-process (the entry point as the console script calls it): exit code 2, the setting named."""
    from twin.live import cli

    arguments = [
        "network=small",
        "horizon_days=10",
        "warmup_days=5",
        "logger=none",
        "progress=false",
        argument,
    ]
    monkeypatch.setattr(sys, "argv", [entry, *arguments, f"hydra.run.dir={tmp_path / 'run'}"])
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stopped:
        getattr(cli, entry)()
    assert stopped.value.code == 2
    assert named in capsys.readouterr().err


def test_the_feed_reference_in_the_docs_is_the_contract() -> None:
    """docs/feeds.md's generated part is what the parser enforces (``python -m twin.live.contract``)."""
    text = (REPO / "docs" / "feeds.md").read_text()
    assert contract_markdown() in text


@pytest.mark.parametrize("entry", ["feed_main", "shadow_main"])
def test_help_lists_each_setting_with_its_meaning(
    entry: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_entry(f"twin.live.cli:{entry}", "--help", monkeypatch=monkeypatch, capsys=capsys)
    assert result.returncode == 0
    section = "feed.duplicate_share" if entry == "feed_main" else "shadow.close_after_hours"
    line = next(line for line in result.stdout.splitlines() if line.strip().startswith(section))
    assert "#" in line and "allowed" in line


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        (
            lambda record: record.update(schema_version=3),
            "schema_version",
            "understands schema_version 1 and 2",
        ),
        (lambda record: record.update(type="parts.stock_level"), "type", "unknown event type"),
        (lambda record: record.update(occurred_at="2026-01-01T10:00:00"), "occurred_at", "timezone"),
        (lambda record: record.update(occurred_at=12.5), "occurred_at", "datetime"),
        (lambda record: record.update(colour="red"), "colour", "unknown field"),
        (lambda record: record.update(source="dms:d0001"), "source", "matching regex"),
        (lambda record: record.update(sequence=0), "sequence", ">= 1"),
        (lambda record: record["payload"]["lines"].update(uom="BOX"), "payload.lines.uom", ""),
        (
            lambda record: record["payload"]["lines"]["on_hand"].__setitem__(0, -3),
            "payload.lines.on_hand[0]",
            ">= 0",
        ),
        (
            lambda record: record["payload"]["lines"]["on_hand"].__setitem__(0, 2.5),
            "payload.lines.on_hand[0]",
            "int",
        ),
        (lambda record: record["payload"]["lines"]["reserved"].pop(), "payload.lines", "one per line"),
        (lambda record: record.update(event_id="DMS:D0001/99"), "event_id", "<source>/<sequence>"),
    ],
)
def test_a_bad_record_is_refused_naming_the_field(change, field: str, reason: str) -> None:  # type: ignore[no-untyped-def]
    from twin.live.contract import FeedRecordError, parse_record

    record = {
        "event_id": "DMS:D0001/7", "source": "DMS:D0001", "sequence": 7, "schema_version": 1,
        "occurred_at": "2026-01-05T10:00:00+05:30", "type": "parts.position_delta",
        "payload": {"location_id": "D0001", "lines": {
            "part_number": ["P000001", "P000002"], "on_hand": [4, 0], "reserved": [1, 0],
            "workshop_wip": [0, 0], "on_order": [0, 6], "backorder": [0, 0]}},
    }  # fmt: skip
    parse_record(json.dumps(record))  # the record as sent is fine
    change(record)
    with pytest.raises(FeedRecordError) as refused:
        parse_record(json.dumps(record))
    assert refused.value.field == field
    assert reason in refused.value.reason


def test_a_vehicle_record_s_timestamps_are_read_exactly_and_a_bad_one_is_named() -> None:
    """Timestamps are checked and converted once per distinct text: the days they give are a datetime's, and
    a bad one is refused naming its field however often it comes."""
    import datetime as dt

    from twin.live.codes import FeedClock
    from twin.live.contract import FeedRecordError, parse_record

    record = {
        "event_id": "OEM/5", "source": "OEM", "sequence": 5, "schema_version": 1, "type": "vehicle.dispatched",
        "occurred_at": "2026-01-04T17:07:10.217555+05:30",
        "payload": {"vin": "1M8GDM9AXKP042788", "vin_revision": 3, "spec_code": "S1", "status": "in_transit",
                    "location_type": "road", "location_id": "D0001", "dealer_id": "D0001", "customer_order": False,
                    "ordered_at": "2026-01-01T02:24:00.000000+05:30", "eta": "2026-01-06T09:00:00+00:00"},
    }  # fmt: skip
    clock = FeedClock(dt.date(2026, 1, 1))
    for _ in range(2):  # the second time from the cache
        event = parse_record(json.dumps(record))
        for text in (event.occurred_at, event.payload.ordered_at, event.payload.eta):
            assert clock.day_of(text) == clock.day_of(dt.datetime.fromisoformat(text))
    assert clock.day_of(event.payload.eta) == pytest.approx(5 + 14.5 / 24)  # 09:00 UTC is 14:30 in India
    record["payload"]["built_at"] = "2026-01-02T10:00:00"  # no UTC offset
    for _ in range(2):
        with pytest.raises(FeedRecordError) as refused:
            parse_record(json.dumps(record))
        assert (refused.value.field, refused.value.value) == ("payload.built_at", "2026-01-02T10:00:00")
        assert "timezone" in refused.value.reason
