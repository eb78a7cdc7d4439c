"""Dealer-to-dealer parts transfers: pooling, conservation, the ledger, the audit trail, bad rules.

The engine tests run a small network whose first DC is down for a month, so its dealers run short while the
other DC's dealers hold stock: the situation lateral transfers exist for.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.helpers.invariants import watch
from twin.config import DcOutageConfig, NetworkConfig, TransferRuleConfig, TwinConfig
from twin.engine.simulation import RunResult, Simulation
from twin.engine.snapshot import Snapshot, take_snapshot
from twin.errors import ConfigError
from twin.policies.transfer_planner import FreightModel, PlannerOptions, plan_transfers
from twin.settlement.payers import FreightCategory

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
    violations = watch(simulation, vehicle_every_days=10**9)
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
    assert len(audit) == run.summary["transfer_lines_recommended"]
    assert set(audit["decided_by"]) <= set(flow.rules.decider_ids)
    assert set(audit["action"]) <= {"auto_execute", "approval", "reject"}
    # the refusal rule decides exactly the lines under its ratio, unless an earlier rule matched first
    refused = audit[audit["decided_by"] == "refuse_poor_ratio"]
    assert (refused["benefit_inr"] / refused["freight_inr"] < 1.0).all()


def test_arrived_transfers_are_settled_once_at_the_carriers_charge(run: RunResult) -> None:
    flow = run.simulation.rebalancing
    assert flow is not None
    book = run.simulation.settlement.book
    shipments = book.shipments
    transfer = shipments["category"] == int(FreightCategory.PARTS_TRANSFER)
    assert transfer.sum() > 0
    in_flight = sum(len(batch) for batches in flow.arriving.values() for batch in batches)
    assert transfer.sum() + in_flight == run.summary["transfers_executed"]
    ids = book.transfers["transfer_id"]
    assert np.unique(ids).size == ids.size
    in_flight_paise = 0
    from twin.settlement.transfers import transfer_freight_paise

    for batches in flow.arriving.values():
        for batch in batches:
            in_flight_paise += int(transfer_freight_paise(batch, book.rates).sum())
    ledger_inr = (shipments["expected_paise"][transfer].sum() + in_flight_paise) / 100
    assert ledger_inr == pytest.approx(
        run.daily["freight_transfer_inr"].sum(), abs=0.01 * transfer.sum() + 0.01
    )
    assert run.summary["settlement_unbalanced_entries"] == 0


def test_same_seed_same_transfers() -> None:
    first = Simulation(_config()).run().summary
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
