"""Dealer-to-dealer parts transfers: pooling, conservation, the ledger, the audit trail, bad rules.

The engine tests run a small network whose first DC is down for a month, so its dealers run short while the
other DC's dealers hold stock: the situation lateral transfers exist for.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.helpers.invariants import watch
from twin.config import DcOutageConfig, NetworkConfig, TransferRuleConfig, TwinConfig
from twin.domain.vehicles import NOT_YET
from twin.engine.settlement_posting import concatenate_batches
from twin.engine.simulation import RunResult, Simulation
from twin.engine.snapshot import Snapshot, take_snapshot
from twin.errors import ConfigError
from twin.policies.observation import PartsView, VehicleView
from twin.policies.parts_rebalancing import PartsRebalancing
from twin.policies.transfer_planner import FreightModel, PlannerOptions, plan_transfers
from twin.policies.vehicle_rebalancing import VehicleRebalancing
from twin.settlement.payers import FreightCategory
from twin.settlement.transfers import TransferBatch as SettlementBatch
from twin.settlement.transfers import transfer_freight_paise

HORIZON_DAYS = 70


def _config(**transfers: object) -> TwinConfig:
    config = TwinConfig(
        network=NetworkConfig(dealers=16, skus=300, parts_dcs=2, stockyards=2, vehicles_per_dealer=30),
        horizon_days=HORIZON_DAYS,
        warmup_days=7,
        seed=3,
        progress=False,
    )
    config.scenario.dc_outages = [DcOutageConfig(dc_id="DC01", start_day=10, end_day=45)]
    config.policy.transfers.enabled = True
    for name, value in transfers.items():
        setattr(config.policy.transfers, name, value)
    return config


@pytest.fixture(scope="module")
def run() -> RunResult:
    simulation = Simulation(_config())
    violations = watch(simulation, vehicle_every_days=5)
    result = simulation.run()
    assert violations == []
    return result


def test_a_dc_outage_brings_transfers_that_are_decided_shipped_and_used(run: RunResult) -> None:
    summary = run.summary
    assert summary["transfers_executed"] > 0
    assert summary["transfer_units"] > 0
    decided = (
        summary["transfer_lines_auto_executed"]
        + summary["transfer_lines_sent_for_approval"]
        + summary["transfer_lines_rejected"]
    )
    assert decided == summary["transfer_lines_recommended"]
    assert 0.0 <= summary["transfer_auto_executed_share"] <= 1.0
    assert summary["transfer_units_used_share"] > 0
    # the total freight includes the transfers' own
    assert summary["freight_cost_inr"] == pytest.approx(
        summary["freight_parts_inr"]
        + summary["freight_emergency_inr"]
        + summary["freight_vehicle_inr"]
        + summary["freight_transfer_inr"]
    )
    # the ledger's network freight is the same figure over the same (measured) window
    assert summary["settlement_freight_inr"] == pytest.approx(
        summary["freight_cost_inr"] - summary["freight_transfer_inr"],
        abs=0.005 * summary["settlement_shipments"],
    )


def test_transfers_neither_create_nor_destroy_units(run: RunResult) -> None:
    simulation = run.simulation
    parts = simulation.parts
    np.testing.assert_array_equal(
        simulation.parts_initial_units + parts.received_from_suppliers - parts.consumed,
        parts.state.units_in_network(),
    )
    assert parts.state.on_hand.min() >= 0


def test_every_decision_names_its_rule_and_the_audit_holds_every_line(run: RunResult) -> None:
    flow = run.simulation.rebalancing
    assert flow is not None
    audit = flow.audit_frame()
    assert (audit["kind"] == "parts").sum() == run.summary["transfer_lines_recommended"]
    assert (audit["kind"] == "vehicles").sum() == run.summary["vehicle_transfer_lines_recommended"]
    assert set(audit["decided_by"]) <= set(flow.rules.decider_ids)
    assert set(audit["action"]) <= {"auto_execute", "approval", "reject"}
    # rules judge whole transfers: the refusal rule refused transfers whose benefit is under their freight,
    # and every line of a transfer got the same rule's decision
    transfer = audit.groupby(["day", "kind", "planned_shipment", "sender", "receiver"])
    totals = transfer[["benefit_inr", "freight_inr"]].sum()
    refused = transfer["decided_by"].first() == "refuse_poor_ratio"
    assert (totals.loc[refused, "benefit_inr"] < totals.loc[refused, "freight_inr"]).all()
    ruled = audit[~audit["decided_by"].str.startswith("guard:")]
    assert (
        ruled.groupby(["day", "planned_shipment", "sender", "receiver"])["decided_by"].nunique() == 1
    ).all()


def test_arrived_transfers_are_settled_once_at_the_carriers_charge(run: RunResult) -> None:
    flow = run.simulation.rebalancing
    assert flow is not None
    book = run.simulation.settlement.book
    shipments = book.shipments
    ids = book.transfers["transfer_id"]
    assert np.unique(ids).size == ids.size
    ledger_paise, settled = 0, 0
    for category, executed in (
        (FreightCategory.PARTS_TRANSFER, "transfers_executed"),
        (FreightCategory.VEHICLE_TRANSFER, "vehicle_transfers_executed"),
    ):
        in_ledger = shipments["category"] == int(category)
        assert in_ledger.sum() > 0, category.name
        on_the_road = [
            batch for batches in flow.arriving.values() for batch in batches if batch.category[0] == category
        ]
        assert in_ledger.sum() + sum(len(batch) for batch in on_the_road) == run.summary[executed]
        ledger_paise += int(shipments["expected_paise"][in_ledger].sum())
        ledger_paise += sum(int(transfer_freight_paise(batch, book.rates).sum()) for batch in on_the_road)
        settled += int(in_ledger.sum())
    # the engine's transfer freight is the ledger's charge, transfer by transfer
    assert ledger_paise / 100 == pytest.approx(
        run.daily["freight_transfer_inr"].sum(), abs=0.01 * settled + 0.01
    )
    assert run.summary["settlement_unbalanced_entries"] == 0


def test_a_days_arrivals_settled_as_one_batch_post_what_one_call_per_batch_posts(run: RunResult) -> None:
    """The engine settles a day's arrivals in one call: the ledger must be the same as settling each batch,
    a transfer already settled or repeated in a later batch included (each is settled once)."""
    book = run.simulation.settlement.book
    settled = book.transfers["transfer_id"]
    assert settled.size > 0
    fresh = int(settled.max()) + 1
    carrier = int(run.simulation.world.network.parts_carrier[0])

    def batch(ids: list[int], truck: int, day: int) -> SettlementBatch:
        count = len(ids)
        return SettlementBatch.of(
            transfer_id=ids, category=[int(FreightCategory.PARTS_TRANSFER)] * count,
            sender=[1 + i for i in range(count)], receiver=[0] * count, carrier=[carrier] * count,
            truck=[truck] * count, ship_day=[day - 2] * count, arrive_day=[day] * count,
            distance_km=[40.0 + 25 * i for i in range(count)], volume=[30.0 + 7 * i for i in range(count)],
            transfer_price_paise=[250_000 + 1_000 * i for i in range(count)],
        )  # fmt: skip

    batches = [
        batch([fresh, fresh + 1, int(settled[0])], 10_000, HORIZON_DAYS - 1),
        batch([fresh + 2, fresh + 1], 10_001, HORIZON_DAYS),
        batch([fresh + 3], 10_002, HORIZON_DAYS),
    ]
    one_by_one = copy.deepcopy(book)
    together = copy.deepcopy(book)
    for each in batches:
        one_by_one.settle_transfers(each, HORIZON_DAYS)
    merged = concatenate_batches(batches)
    assert merged is not None and len(merged) == 6
    together.settle_transfers(merged, HORIZON_DAYS)
    expected, actual = one_by_one.arrays(), together.arrays()
    assert expected.keys() == actual.keys()
    for name in expected:
        np.testing.assert_array_equal(actual[name], expected[name], err_msg=name)
    assert len(together.transfers) == len(book.transfers) + 4


def test_vehicles_move_oldest_first_keep_their_age_and_are_never_in_two_places(run: RunResult) -> None:
    summary = run.summary
    assert summary["vehicle_transfers_executed"] > 0
    assert summary["vehicle_transfer_units"] >= summary["vehicle_transfers_executed"]
    flow = run.simulation.rebalancing
    assert flow is not None and flow.vehicles is not None
    vehicles = run.simulation.vehicles.vehicles
    for vehicle_id, (receiver, _, _, _) in flow.vehicles.moved.items():
        vehicle = vehicles[vehicle_id]
        assert vehicle.dealer == receiver
        # it reached a dealer before it was moved, and that first receipt is still its age
        assert vehicle.received_day != NOT_YET and vehicle.received_day < vehicle.shipped_day
    assert summary["vehicle_transfer_aged_units"] <= summary["vehicle_transfer_units"]


def test_same_seed_same_transfers(run: RunResult) -> None:
    first = run.summary  # the shared run; its watcher only reads state
    again = Simulation(_config()).run().summary
    assert {k: v for k, v in first.items() if k.startswith("transfer")} == {
        k: v for k, v in again.items() if k.startswith("transfer")
    }


def test_a_rule_with_an_unknown_action_or_part_class_is_rejected_naming_it() -> None:
    with pytest.raises(ConfigError, match=re.escape("transfer_rules[send_all].action")):
        Simulation(_config(rules=[TransferRuleConfig(rule_id="send_all", action="ship_it")]))
    with pytest.raises(ConfigError, match=re.escape("transfer_rules[tyres].categories")):
        Simulation(
            _config(rules=[TransferRuleConfig(rule_id="tyres", action="reject", categories=["tyres"])])
        )


def _lost_sales(base_stock: list[int], demand_location: np.ndarray, demand_time: np.ndarray,
                lead_time: float, transship: bool) -> int:  # fmt: skip
    """Lost sales of a base-stock, lost-sales system; with ``transship``, a location that is out asks the
    planner (free, instant) to move a unit from the other location before the customer leaves."""
    on_hand = np.array(base_stock, dtype=np.int64)
    arrivals: list[tuple[float, int]] = []
    free = FreightModel(rate_inr_per_km=0.0, truck_fixed_inr=0.0, truck_capacity_units=10**6,
                        handling_inr_per_unit=0.0)  # fmt: skip
    distance = np.zeros((len(on_hand), len(on_hand)))
    options = PlannerOptions(use_routing=False, slope_scaling_iterations=0)
    lost = 0
    for location, time in zip(demand_location.tolist(), demand_time.tolist(), strict=True):
        while arrivals and arrivals[0][0] <= time:
            on_hand[arrivals.pop(0)[1]] += 1
        if on_hand[location] == 0 and transship:
            deficit = np.zeros((len(on_hand), 1), dtype=np.int64)
            deficit[location] = 1
            surplus = np.where(np.arange(len(on_hand)) == location, 0, on_hand)[:, None]
            plan = plan_transfers(
                surplus, deficit, np.full((len(on_hand), 1), 100.0), distance, free, options
            )
            np.subtract.at(on_hand, plan.sender, plan.units)
            np.add.at(on_hand, plan.receiver, plan.units)
        if on_hand[location] == 0:
            lost += 1
            continue
        on_hand[location] -= 1
        arrivals.append((time + lead_time, location))  # each sale orders one unit back (base stock)
    return lost


def test_complete_free_transshipment_pools_two_dealers_into_one_stock_point() -> None:
    rng = np.random.default_rng(7)
    count = 20_000
    demand_time = np.cumsum(rng.exponential(1.0 / 3.0, count))  # 1 + 2 demands a day
    demand_location = (rng.random(count) < 2.0 / 3.0).astype(np.int64)
    two_dealers = _lost_sales([3, 5], demand_location, demand_time, 2.0, transship=True)
    pooled = _lost_sales([8], np.zeros(count, dtype=np.int64), demand_time, 2.0, transship=False)
    alone = _lost_sales([3, 5], demand_location, demand_time, 2.0, transship=False)
    assert two_dealers == pooled  # the same demand path: lost exactly when the pooled stock is empty
    assert alone > pooled  # without transfers each dealer runs out on its own


def test_a_restart_with_transfers_on_the_road_and_approvals_pending_matches_the_uninterrupted_run(
    run: RunResult, tmp_path: Path
) -> None:
    config = _config()
    first_leg = Simulation(config)
    restart_day = 0
    for day in range(20, 40):  # a day with approvals still pending and transfers still travelling
        first_leg.advance(day)
        flow = first_leg.rebalancing
        assert flow is not None
        if flow.awaiting and flow.arriving:
            restart_day = day
            break
    assert restart_day, "the check is only meaningful with transfers half-way"
    take_snapshot(first_leg).save(tmp_path / "snap")

    resumed = Simulation(config, snapshot=Snapshot.load(tmp_path / "snap")).run()

    assert resumed.summary == run.summary
    pd.testing.assert_frame_equal(resumed.daily, run.daily)
    resumed_flow, uninterrupted_flow = resumed.simulation.rebalancing, run.simulation.rebalancing
    assert resumed_flow is not None and uninterrupted_flow is not None
    pd.testing.assert_frame_equal(resumed_flow.audit_frame(), uninterrupted_flow.audit_frame())


def _vehicle_view(stock: np.ndarray, sales_28d: np.ndarray) -> VehicleView:
    dealers, specs = stock.shape
    zeros = np.zeros((dealers, specs), dtype=np.int32)
    return VehicleView(
        day=0, as_of_day=0, dealer_stock=stock.astype(np.int32), dealer_inbound=zeros,
        dealer_sales_28d=sales_28d.astype(np.int32), dealer_capacity=np.full(dealers, 200),
        dealer_stockyard=np.zeros(dealers, dtype=np.int64), spec_model=np.arange(specs),
        spec_variant=np.arange(specs), spec_colour=np.zeros(specs, dtype=np.int64),
        yard_stock=np.zeros((1, specs), dtype=np.int32), pipeline=np.zeros(specs, dtype=np.int32),
        factory_lead_time_days=np.full(dealers, 30.0), plan_daily_retail=np.ones(specs),
    )  # fmt: skip


def test_aged_vehicles_go_where_their_model_sells_and_senders_keep_their_floor() -> None:
    # dealer 0 holds 6 of spec 0 (all aged) and sells none; dealer 1 sells 8 a month and has 1; dealer 2
    # sells spec 1 only. Spec 1 sells everywhere it is, so nothing of it moves.
    stock = np.array([[6, 2], [1, 2], [0, 1]])
    sales = np.array([[0, 2], [8, 2], [0, 4]])
    policy = VehicleRebalancing(
        distance_km=np.array([[0.0, 50.0, 60.0], [50.0, 0.0, 40.0], [60.0, 40.0, 0.0]]),
        freight=FreightModel(
            rate_inr_per_km=0.0,
            truck_fixed_inr=9000.0,
            truck_capacity_units=8,
            handling_inr_per_unit=0.0,
            rate_inr_per_unit_km=7.75,
        ),
        unit_cost_inr=np.array([900_000.0, 1_200_000.0]),
        margin_inr=np.array([35_000.0, 45_000.0]),
        category_of_spec=np.array([0, 1]),
    )
    recommendations = policy.recommend(
        _vehicle_view(stock, sales), aged_units=np.array([[6, 0], [0, 0], [0, 0]])
    )
    batch = recommendations.batch
    assert len(batch) > 0
    assert set(batch.sender.tolist()) == {0} and set(batch.receiver.tolist()) == {1}
    assert set(batch.item.tolist()) == {0}
    # dealer 1 needs 8/28 x 55 = 15.7 of spec 0, holds 1: up to 14 could come, dealer 0 has 6 to give
    assert batch.units.sum() == 6
    left = recommendations.stock_units[batch.sender, batch.item] - batch.units
    assert np.all(left >= recommendations.floor_units[batch.sender, batch.item])


def test_the_run_folder_holds_the_audit_trail(run: RunResult, tmp_path: Path) -> None:
    from twin.io.outputs import write_outputs

    paths = write_outputs(run, tmp_path)
    audit = pd.read_parquet(paths["transfer_decisions"])
    assert (
        len(audit)
        == run.summary["transfer_lines_recommended"] + run.summary["vehicle_transfer_lines_recommended"]
    )
    assert {"kind", "action", "decided_by", "sender", "receiver", "item", "units"} <= set(audit.columns)


def test_approvals_decided_in_atlas_are_applied_when_the_twin_starts_from_that_state(tmp_path: Path) -> None:
    """The web app writes people's decisions to approvals.jsonl beside the state it serves; a run from that
    state ships the approved transfer at once and drops the rejected one (twin.engine.approvals)."""
    import json

    from twin.live.to_network_state import load_start_state

    config = _config()
    first_leg = Simulation(config)
    for day in range(20, 40):
        first_leg.advance(day)
        assert first_leg.rebalancing is not None
        if len(first_leg.rebalancing.awaiting) >= 2:
            break
    waiting = sorted(first_leg.rebalancing.awaiting)
    assert len(waiting) >= 2, "the check needs two approvals waiting"
    approved, rejected = waiting[0], waiting[1]
    run_folder = tmp_path / "run"
    take_snapshot(first_leg).save(run_folder / "state")
    with (run_folder / "approvals.jsonl").open("w") as lines:  # as twin-serve writes them, in the run folder
        for token, decision in ((approved, "approved"), (rejected, "rejected"), (99_999, "approved")):
            lines.write(
                json.dumps({"format": 1, "recommendation_id": f"A{token}", "decision": decision}) + "\n"
            )
        lines.write(json.dumps({"format": 2, "recommendation_id": "A1", "decision": "approved"}) + "\n")
    config.start_from_snapshot = str(run_folder / "state")

    start = load_start_state(config)
    assert start.approval_decisions == {approved: True, rejected: False, 99_999: True}
    resumed = Simulation(config, snapshot=start.state, approval_decisions=start.approval_decisions)
    flow = resumed.rebalancing
    assert flow is not None
    assert rejected not in flow.awaiting and approved in flow.awaiting
    assert resumed.forked_from is not None
    assert resumed.forked_from["approval_decisions"] == {"approved": 1, "rejected": 1, "not_waiting": 1}
    shipped_before = flow.counters[0]["transfers_approved"] + flow.counters[1]["transfers_approved"]
    resumed.advance(resumed.start_day + 1)
    assert approved not in flow.awaiting  # shipped on the first day, whatever its simulated wait was
    assert flow.counters[0]["transfers_approved"] + flow.counters[1]["transfers_approved"] > shipped_before


def test_a_malformed_approvals_line_names_the_file_line_and_field(tmp_path: Path) -> None:
    from twin.engine.approvals import read_approvals

    path = tmp_path / "approvals.jsonl"
    path.write_text('{"format": 1, "recommendation_id": "A3", "decision": "maybe"}\n')
    with pytest.raises(ConfigError, match=r"approvals.jsonl line 1: decision='maybe'"):
        read_approvals(path)


def _short_and_surplus_view(transfers_left: np.ndarray | None) -> PartsView:
    """Three dealers, one SKU, an empty DC: dealer 0 holds plenty, dealers 1 and 2 hold nothing."""
    on_hand = np.array([[200], [0], [0], [0]], dtype=np.int32)  # three dealers, then the DC
    zeros = np.zeros_like(on_hand)
    return PartsView(
        day=30,
        dealer_count=3,
        on_hand=on_hand,
        reserved=zeros,
        in_transit=zeros,
        backorder=zeros,
        unit_cost_inr=np.array([2000.0]),
        part_class=np.zeros(1, dtype=np.int8),
        dealer_dc=np.zeros(3, dtype=np.int64),
        history_lines_per_year=np.full((3, 1), 300.0),
        history_units_per_day=np.full((3, 1), 3.0),
        dealer_lead_time_days=np.full(3, 2.0),
        supplier_lead_time_days=21.0,
        transfers_left_this_week=transfers_left,
    )


def test_planning_within_the_weekly_cap_leaves_out_dealers_that_used_it_and_serves_the_others() -> None:
    distance = np.array([[0.0, 50.0, 300.0], [50.0, 0.0, 320.0], [300.0, 320.0, 0.0]])
    freight = FreightModel(rate_inr_per_km=1.0, truck_fixed_inr=100.0, handling_inr_per_unit=1.0)
    capped_receiver = np.array([5, 0, 5])  # dealer 1 has used its week's transfers

    def receivers(plan_within_weekly_cap: bool, transfers_left: np.ndarray | None) -> set[int]:
        planner = PartsRebalancing(distance, freight, plan_within_weekly_cap=plan_within_weekly_cap)
        batch = planner.recommend(_short_and_surplus_view(transfers_left)).batch
        assert set(batch.sender.tolist()) <= {0}
        return set(batch.receiver.tolist())

    assert receivers(False, None) == {1, 2}
    assert receivers(False, capped_receiver) == {1, 2}  # the rules would refuse the lines to dealer 1
    assert receivers(True, capped_receiver) == {2}
    assert receivers(True, np.array([0, 5, 5])) == set()  # the only sender has used its cap
    assert receivers(True, None) == {1, 2}  # no cap known: plan for everyone


def test_the_engine_tells_the_planner_who_has_used_the_weekly_cap() -> None:
    """With a cap of 0 every line is refused; planning within the cap then plans none (the engine passes each
    dealer's transfers left to the planner's view), planning for everyone plans them and has them refused."""
    summaries = {}
    for within in (False, True):
        config = _config(max_transfers_per_dealer_per_week=0, plan_within_weekly_cap=within)
        config.horizon_days = 30
        summaries[within] = Simulation(config).run().summary
    assert summaries[False]["transfer_lines_recommended"] > 0
    assert (
        summaries[False]["transfer_lines_rejected_by_guard_max_transfers_per_week"]
        == (summaries[False]["transfer_lines_recommended"])
    )
    assert summaries[True]["transfer_lines_recommended"] == 0
    assert summaries[True]["transfers_executed"] == summaries[False]["transfers_executed"] == 0
