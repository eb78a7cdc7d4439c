"""The live control tower's daily decisions on a state rebuilt from feeds: what a planner relies on.

Two kinds of world: a hand-made feed on the small network (a few dealers and parts whose stock, demand and
consignments the test sets, so the right decision is known), and a twin run's own feed (``twin-feed``), applied
day by day as a shadow consumer would, for what must hold on real traffic: a checkpoint changes nothing,
allocation never gives out cars the stockyards do not hold, every record names things by their codes.
"""

from __future__ import annotations

import collections
import datetime as dt
import io
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from twin.config import NetworkConfig, TransferRuleConfig, TwinConfig
from twin.domain.parts import PART_CLASS_NAMES
from twin.domain.vehicles import SiteKind, VehicleStatus
from twin.domain.world import World
from twin.engine.simulation import load_world
from twin.live.codes import FeedClock, MasterCodes
from twin.live.contract import parse_record
from twin.live.decisions import MINIMUM_HISTORY_DAYS, LiveDecisions
from twin.live.feed import FEED_FILE, produce_feed
from twin.live.live_state import LiveState
from twin.live.settings import FeedRunConfig

SMALL = NetworkConfig(name="small", dealers=20, stockyards=2, skus=500)
FEED_DAYS = 30
CHECKPOINT_DAY = 17
#: the hand-made worlds close this many days: the first on which alerts and transfers run
LAST_DAY = MINIMUM_HISTORY_DAYS - 1


def live_config(**transfers: Any) -> TwinConfig:
    """The live control tower with alerts and rebalancing on (the baseline world has neither)."""
    config = TwinConfig(network=SMALL, horizon_days=FEED_DAYS, seed=3, progress=False)
    config.policy.alerts.enabled = True
    config.policy.transfers.enabled = True
    for name, value in transfers.items():
        setattr(config.policy.transfers, name, value)
    return config


@pytest.fixture(scope="module")
def world() -> World:
    return load_world(live_config())


# -- a hand-made feed ---------------------------------------------------------------------------------------
@dataclass
class Systems:
    """Sends valid records as the dealers' DMS, the DCs and the carriers would, straight into a live state."""

    world: World
    codes: MasterCodes = field(init=False)
    clock: FeedClock = field(init=False)
    state: LiveState = field(init=False)
    sequence: collections.Counter[str] = field(default_factory=collections.Counter)

    def __post_init__(self) -> None:
        self.codes = MasterCodes(self.world)
        self.clock = FeedClock(dt.date.fromisoformat(live_config().start_date))
        self.state = LiveState(self.codes, self.clock)

    def send(self, source: str, kind: str, day: float, payload: dict[str, Any]) -> None:
        self.sequence[source] += 1
        number = self.sequence[source]
        record = {
            "event_id": f"{source}/{number}", "source": source, "sequence": number, "schema_version": 1,
            "occurred_at": self.clock.iso(day), "type": kind, "payload": payload,
        }  # fmt: skip
        assert self.state.apply(parse_record(json.dumps(record))) == "applied"

    def stock(self, day: float, dealer: int, skus: Sequence[int], on_hand: int, on_order: int = 0) -> None:
        count = len(skus)
        dealer_id = self.codes.dealer_ids[dealer]
        lines = {
            "part_number": [self.codes.part_numbers[sku] for sku in skus], "on_hand": [on_hand] * count,
            "reserved": [0] * count, "workshop_wip": [0] * count, "on_order": [on_order] * count,
            "backorder": [0] * count,
        }  # fmt: skip
        self.send(f"DMS:{dealer_id}", "parts.position_delta", day, {"location_id": dealer_id, "lines": lines})

    def demand(self, day: int, dealer: int, skus: Sequence[int], units: int) -> None:
        """One counter line of ``units`` per part, filled from the shelf."""
        count = len(skus)
        dealer_id = self.codes.dealer_ids[dealer]
        lines = {
            "part_number": [self.codes.part_numbers[sku] for sku in skus], "channel": ["counter"] * count,
            "document_number": [f"CO-{day}-{sku}" for sku in skus], "quantity_requested": [units] * count,
            "quantity_issued": [units] * count, "quantity_lost": [0] * count, "emergency_order": [False] * count,
        }  # fmt: skip
        payload = {"dealer_id": dealer_id, "business_date": self.clock.date(day).isoformat(), "lines": lines}
        self.send(f"DMS:{dealer_id}", "parts.issue_lines", day + 0.4, payload)

    def consignment(self, day: float, dealer: int, sku: int, units: int, eta_day: float) -> None:
        dc_id = self.codes.dc_ids[int(self.world.network.dealers.parts_dc[dealer])]
        payload = {
            "consignment_id": f"CN-{dealer}-{sku}-{day}", "ship_from_id": dc_id,
            "ship_to_id": self.codes.dealer_ids[dealer], "carrier_id": self.codes.carrier_ids[0],
            "dispatched_at": self.clock.iso(day), "eta": self.clock.iso(eta_day),
            "lines": {"part_number": [self.codes.part_numbers[sku]], "quantity": [units]},
        }  # fmt: skip
        self.send(f"DC:{dc_id}", "dc.consignment_created", day, payload)


def run_days(
    decisions: LiveDecisions, systems: Systems, days: range, before: Callable[[int], None]
) -> dict[int, list[dict[str, Any]]]:
    """Each day: the systems report (``before``), then the day closes."""
    out = {}
    for day in days:
        before(day)
        out[day] = decisions.close_day(day, systems.state)
    return out


def of_kind(records: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [record for record in records if record["kind"] == kind]


# -- stock-out alerts ---------------------------------------------------------------------------------------
def test_an_alert_warns_of_stock_running_out_before_its_consignment_and_not_of_covered_cells(world: World):
    """Three parts at one dealer, each selling 2 a day: 4 on the shelf with 30 due in 6 days (runs out first),
    200 on the shelf, and 4 on the shelf with 30 arriving tomorrow morning."""
    systems = Systems(world)
    dealer, short, stocked, relieved = 0, 10, 11, 12
    parts = (short, stocked, relieved)
    decisions = LiveDecisions(live_config(), world, systems.codes)

    def report(day: int) -> None:
        if day == 0:
            systems.stock(0.1, dealer, parts, on_hand=100)
        systems.demand(day, dealer, parts, units=2)
        if day == LAST_DAY:
            now = day + 1.0
            systems.stock(day + 0.6, dealer, [stocked], on_hand=200)
            systems.stock(day + 0.6, dealer, [short, relieved], on_hand=4, on_order=30)
            systems.consignment(day + 0.5, dealer, short, 30, eta_day=now + 6.0)
            systems.consignment(day + 0.5, dealer, relieved, 30, eta_day=now + 0.2)

    records = run_days(decisions, systems, range(LAST_DAY + 1), report)
    assert all(of_kind(records[day], "alert_raised") == [] for day in range(LAST_DAY))  # no history yet
    raised = {record["part_number"]: record for record in of_kind(records[LAST_DAY], "alert_raised")}
    part_numbers = systems.codes.part_numbers
    assert set(raised) == {part_numbers[short]}
    alert = raised[part_numbers[short]]
    assert alert["dealer_id"] == systems.codes.dealer_ids[dealer]
    assert (alert["on_hand"], alert["inbound_units"]) == (4, 30)
    assert alert["probability"] >= decisions.config.policy.alerts.risk_threshold
    # warned of the days before the consignment lands: within 3 days at 2 a day, it lands in 6
    assert alert["horizon_days"] <= 3
    assert alert["eta"] == systems.clock.iso(LAST_DAY + 7.0)
    assert alert["expected_stockout"] < alert["eta"]


def test_an_alert_clears_when_stock_arrives_and_says_it_was_acted_on(world: World):
    systems = Systems(world)
    dealer, part = 1, 20
    decisions = LiveDecisions(live_config(), world, systems.codes)

    def report(day: int) -> None:
        if day == 0:
            systems.stock(0.1, dealer, [part], on_hand=100)
        systems.demand(day, dealer, [part], units=2)
        if day == LAST_DAY:
            systems.stock(day + 0.6, dealer, [part], on_hand=3)
        if day == LAST_DAY + 1:  # the DC sends stock; it is on the shelf by the evening
            systems.consignment(day + 0.1, dealer, part, 40, eta_day=day + 0.5)
            systems.stock(day + 0.7, dealer, [part], on_hand=41)

    records = run_days(decisions, systems, range(LAST_DAY + 2), report)
    assert len(of_kind(records[LAST_DAY], "alert_raised")) == 1
    (cleared,) = of_kind(records[LAST_DAY + 1], "alert_cleared")
    assert cleared["part_number"] == systems.codes.part_numbers[part]
    assert (cleared["outcome"], cleared["raised_day"]) == ("resolved", LAST_DAY)


# -- rebalancing --------------------------------------------------------------------------------------------
def transfer_world(world: World) -> tuple[int, int, int]:
    """The two nearest dealers and the dearest part: the move a rebalancer should not miss."""
    distance = world.network.dealer_to_dealer_km()
    np.fill_diagonal(distance, np.inf)
    sender, receiver = (int(index) for index in np.unravel_index(np.argmin(distance), distance.shape))
    return sender, receiver, int(np.argmax(world.parts.unit_cost_inr))


def rebalance(
    world: World, days: int = LAST_DAY + 1, **transfers: Any
) -> tuple[Systems, dict[int, list[dict[str, Any]]]]:
    """Both dealers sell 2 a day; on the last day of history the sender holds 300, the receiver none, their
    DC none."""
    systems = Systems(world)
    sender, receiver, part = transfer_world(world)
    decisions = LiveDecisions(live_config(**transfers), world, systems.codes)

    def report(day: int) -> None:
        if day == 0:
            systems.stock(0.1, sender, [part], on_hand=100)
            systems.stock(0.1, receiver, [part], on_hand=100)
        systems.demand(day, sender, [part], units=2)
        systems.demand(day, receiver, [part], units=2)
        if day == LAST_DAY:
            systems.stock(day + 0.6, sender, [part], on_hand=300)
            systems.stock(day + 0.6, receiver, [part], on_hand=0)

    return systems, run_days(decisions, systems, range(days), report)


def test_a_transfer_moves_surplus_from_an_overstocked_dealer_to_a_short_one(world: World):
    systems, records = rebalance(world)
    sender, receiver, part = transfer_world(world)
    codes = systems.codes
    (line,) = of_kind(records[LAST_DAY], "transfer_recommended")
    assert (line["from_dealer_id"], line["to_dealer_id"]) == (
        codes.dealer_ids[sender],
        codes.dealer_ids[receiver],
    )
    assert line["part_number"] == codes.part_numbers[part]
    # enough for the receiver's week at 2 a day, never more than the sender can spare above its floor
    assert 1 <= line["units"] <= 14
    assert line["units"] <= line["sender_available_units"] - line["sender_floor_units"]
    assert line["sender_available_units"] == 300 and line["receiver_position_units"] == 0
    assert line["benefit_inr"] > line["freight_inr"] > 0
    assert line["decision"] in ("auto_execute", "needs_approval")
    assert all(of_kind(records[day], "transfer_recommended") == [] for day in range(LAST_DAY))


def test_the_decision_on_each_transfer_is_the_rule_sheets(world: World):
    _, _, part = transfer_world(world)
    part_class = PART_CLASS_NAMES[int(world.parts.part_class[part])]
    everything_automatic = {"rules": [], "default_action": "auto_execute"}
    _, records = rebalance(world, **everything_automatic)
    (line,) = of_kind(records[LAST_DAY], "transfer_recommended")
    assert (line["decision"], line["reason"]) == ("auto_execute", "default")

    everything_reviewed = {"rules": [], "default_action": "approval"}
    _, records = rebalance(world, **everything_reviewed)
    (line,) = of_kind(records[LAST_DAY], "transfer_recommended")
    assert (line["decision"], line["reason"]) == ("needs_approval", "default")

    never_this_class = [TransferRuleConfig(rule_id="keep_class", action="reject", categories=[part_class])]
    _, records = rebalance(world, rules=never_this_class, default_action="auto_execute")
    assert of_kind(records[LAST_DAY], "transfer_recommended") == []
    (refused,) = of_kind(records[LAST_DAY], "transfer_rejected")
    assert (refused["decision"], refused["reason"]) == ("rejected", "keep_class")

    # the default sheet: a move worth this much waits for a network manager
    _, records = rebalance(world)
    (line,) = of_kind(records[LAST_DAY], "transfer_recommended")
    assert line["transfer_value_inr"] >= 100_000
    assert (line["decision"], line["reason"]) == ("needs_approval", "review_high_value")


def test_the_weekly_cap_holds_a_dealer_to_its_transfers_for_seven_days(world: World):
    """The shortage persists (a shadow moves nothing), so the same move comes up every day: once a week."""
    _, records = rebalance(world, days=LAST_DAY + 9, max_transfers_per_dealer_per_week=1)
    recommended = [day for day, lines in records.items() if of_kind(lines, "transfer_recommended")]
    assert recommended == [LAST_DAY, LAST_DAY + 7]
    for day in range(LAST_DAY + 1, LAST_DAY + 7):
        (refused,) = of_kind(records[day], "transfer_rejected")
        assert refused["reason"] == "guard:max_transfers_per_week"


def test_rebalancing_follows_the_config_switch(world: World):
    config = live_config()
    config.policy.transfers.enabled = False
    systems = Systems(world)
    sender, receiver, part = transfer_world(world)
    decisions = LiveDecisions(config, world, systems.codes)

    def report(day: int) -> None:
        systems.demand(day, sender, [part], units=2)
        systems.demand(day, receiver, [part], units=2)
        if day == LAST_DAY:
            systems.stock(day + 0.6, sender, [part], on_hand=300)

    records = run_days(decisions, systems, range(LAST_DAY + 1), report)
    assert not any("transfer" in record["kind"] for lines in records.values() for record in lines)


# -- a twin run's feed, shadowed ----------------------------------------------------------------------------
@dataclass
class Shadow:
    codes: MasterCodes
    #: decisions per day: continuous, from a fresh twin of it, and resumed from a checkpoint
    continuous: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    twin: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    resumed: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    #: on allocation days: the unallocated VINs in each stockyard, by VIN -> (yard, spec)
    yard_vins: dict[int, dict[str, tuple[int, int]]] = field(default_factory=dict)


def checkpoint(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Through an ``.npz`` and back, as the shadow runner's checkpoint stores them."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    buffer.seek(0)
    with np.load(buffer) as archive:
        return {name: archive[name] for name in archive.files}


@pytest.fixture(scope="module")
def shadow(world: World, tmp_path_factory: pytest.TempPathFactory) -> Shadow:
    folder: Path = tmp_path_factory.mktemp("feed")
    produce_feed(FeedRunConfig(network=SMALL, horizon_days=FEED_DAYS, seed=3, progress=False), folder)
    codes = MasterCodes(world)
    clock = FeedClock(dt.date.fromisoformat(live_config().start_date))
    by_day: dict[int, list[Any]] = collections.defaultdict(list)
    for line in (folder / FEED_FILE).read_text().splitlines():
        event = parse_record(line)
        by_day[math.floor(clock.day_of(event.occurred_at))].append(event)
    state = LiveState(codes, clock)
    config = live_config()
    continuous, twin = LiveDecisions(config, world, codes), LiveDecisions(config, world, codes)
    resumed: LiveDecisions | None = None
    result = Shadow(codes)
    for day in range(FEED_DAYS):
        for event in by_day.get(day, []):
            state.apply(event)
        if day % config.operations.allocation_period_days == 0:
            result.yard_vins[day] = yard_vins(state)
        result.continuous[day] = continuous.close_day(day, state)
        result.twin[day] = twin.close_day(day, state)
        if resumed is not None:
            result.resumed[day] = resumed.close_day(day, state)
        if day == CHECKPOINT_DAY:
            resumed = LiveDecisions(config, world, codes)
            resumed.load_state_arrays(checkpoint(continuous.state_arrays()))
    return result


def yard_vins(state: LiveState) -> dict[str, tuple[int, int]]:
    rows = len(state.vehicles)
    column = {name: values[:rows] for name, values in state.vehicles.columns.items()}
    waiting = np.flatnonzero(
        (column["status"] == VehicleStatus.IN_YARD)
        & (column["site_kind"] == SiteKind.STOCKYARD)
        & (column["dealer"] < 0)
    )
    return {
        state.vehicles.vins[row]: (int(column["site_index"][row]), int(column["spec"][row]))
        for row in waiting.tolist()
    }


def test_a_checkpoint_and_restart_give_the_same_decisions_as_running_on(shadow: Shadow):
    later = range(CHECKPOINT_DAY + 1, FEED_DAYS)
    assert [shadow.resumed[day] for day in later] == [shadow.continuous[day] for day in later]
    kinds = collections.Counter(record["kind"] for day in later for record in shadow.continuous[day])
    # the comparison covers every loop: alerts raised and cleared, transfers, allocation
    for kind in ("alert_raised", "alert_cleared", "transfer_recommended", "allocation_proposed"):
        assert kinds[kind] > 0, kind


def test_the_same_state_gives_the_same_decisions(shadow: Shadow):
    assert shadow.twin == shadow.continuous


def test_allocation_never_gives_out_more_cars_than_the_stockyards_hold(shadow: Shadow, world: World):
    proposed_days = [
        day for day, records in shadow.continuous.items() if of_kind(records, "allocation_proposed")
    ]
    assert proposed_days, "no allocation was proposed"
    yard_ids = shadow.codes.site_ids[SiteKind.STOCKYARD]
    dealer_yard = world.network.dealers.stockyard
    for day in proposed_days:
        waiting = shadow.yard_vins[day]
        held = collections.Counter(waiting.values())
        given: collections.Counter[tuple[int, int]] = collections.Counter()
        vins: list[str] = []
        for record in of_kind(shadow.continuous[day], "allocation_proposed"):
            yard = yard_ids.index(record["stockyard_id"])
            spec = shadow.codes.spec_codes.index(record["spec_code"])
            dealer = shadow.codes.dealer_ids.index(record["dealer_id"])
            assert dealer_yard[dealer] == yard  # a yard supplies its own dealers
            assert record["vehicles"] == len(record["vins"]) > 0
            assert all(waiting[vin] == (yard, spec) for vin in record["vins"])
            given[yard, spec] += record["vehicles"]
            vins += record["vins"]
        assert len(vins) == len(set(vins))  # no car promised twice
        assert all(given[key] <= held[key] for key in given)


def test_every_decision_is_json_and_names_things_by_their_codes(shadow: Shadow):
    codes = shadow.codes
    named = {
        "dealer_id": codes.dealer_ids, "from_dealer_id": codes.dealer_ids, "to_dealer_id": codes.dealer_ids,
        "part_number": codes.part_numbers, "spec_code": codes.spec_codes,
    }  # fmt: skip
    for day, records in shadow.continuous.items():
        json.dumps(records, allow_nan=False)
        for record in records:
            assert record["day"] == day and isinstance(record["kind"], str)
            for name, known in named.items():
                if name in record:
                    assert record[name] in known
