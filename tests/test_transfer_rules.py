"""OEM transfer policy engine: first match wins, default, guards over rules, audit ids, approval model."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twin.errors import ConfigError
from twin.policies.transfer_rules import (
    APPROVAL,
    AUTO_EXECUTE,
    REJECT,
    ApprovalModel,
    TransferBatch,
    TransferPolicyConfig,
    TransferPolicyEngine,
    TransferRule,
    rule_from_mapping,
    transfer_groups,
)

CATEGORIES = ["filters", "engine", "SUV-X"]


def batch(**overrides):
    count = len(next(iter(overrides.values()))) if overrides else 1
    base = {
        "sender": np.zeros(count, np.int64),
        "receiver": np.ones(count, np.int64),
        "item": np.zeros(count, np.int64),
        "units": np.ones(count, np.int64),
        "value_inr": np.full(count, 1000.0),
        "distance_km": np.full(count, 100.0),
        "freight_inr": np.full(count, 100.0),
        "benefit_inr": np.full(count, 300.0),
        "category": np.zeros(count, np.int64),
        "day": np.zeros(count, np.int64),
    }
    base.update({k: np.asarray(v) for k, v in overrides.items()})
    return TransferBatch(**base)


def decide(config, recommendations, dealers=4, stock=100, floor=0, recent=0, opted_in=True):
    engine = TransferPolicyEngine(config, CATEGORIES)
    items = int(recommendations.item.max()) + 1
    return engine.decide(
        recommendations,
        np.full(dealers, opted_in),
        np.full(dealers, recent, np.int64),
        np.full((dealers, items), stock, np.int64),
        np.full((dealers, items), floor, np.int64),
    )


RULES = TransferPolicyConfig(
    rules=(
        TransferRule("vehicles_need_approval", "approval", categories=("SUV-X",)),
        TransferRule("cheap_near_auto", "auto_execute", max_value_inr=5000, max_distance_km=300),
        TransferRule("poor_ratio_reject", "reject", max_benefit_cost_ratio=1.5),
        TransferRule("not_opted_in", "approval", sender_opted_in=False),
    ),
    default_action="auto_execute",
    max_transfers_per_dealer_per_week=100,
)


def test_first_match_wins_and_default_applies_and_each_decision_names_its_rule():
    recommendations = batch(
        category=[2, 0, 0, 0],
        value_inr=[1000.0, 1000.0, 9000.0, 9000.0],
        benefit_inr=[300.0, 300.0, 100.0, 300.0],  # ratios 3, 3, 1, 3
    )
    decisions = decide(RULES, recommendations)
    # the vehicle also matches cheap_near_auto, but the earlier rule wins
    assert list(decisions.decider_names()) == [
        "vehicles_need_approval",
        "cheap_near_auto",
        "poor_ratio_reject",
        "default",
    ]
    assert list(decisions.action_names()) == ["approval", "auto_execute", "reject", "auto_execute"]


def test_opt_in_condition():
    decisions = decide(RULES, batch(value_inr=[9000.0]), opted_in=False)
    assert decisions.decider_names()[0] == "not_opted_in" and decisions.action[0] == APPROVAL


def test_floor_guard_overrides_auto_execute_in_batch_order():
    # sender 0 holds 10 of item 0 with a floor of 6: 4 may leave; lines of 3, 2, 1 units -> 3 ok, 2 stripped, 1 ok
    recommendations = batch(units=[3, 2, 1], receiver=[1, 2, 3])
    decisions = decide(RULES, recommendations, stock=10, floor=6)
    assert list(decisions.action) == [AUTO_EXECUTE, REJECT, AUTO_EXECUTE]
    assert decisions.decider_names()[1] == "guard:safety_stock_floor"


def test_weekly_cap_counts_transfers_not_lines_and_history():
    config = TransferPolicyConfig(default_action="auto_execute", max_transfers_per_dealer_per_week=2)
    # dealer 0 already made 1 transfer this week; lane 0->1 carries two SKUs on one shipment (one transfer)
    recommendations = batch(
        sender=[0, 0, 0, 0, 2], receiver=[1, 1, 2, 3, 3], item=[0, 1, 0, 0, 0], shipment=[7, 7, 8, 9, 10]
    )
    engine = TransferPolicyEngine(config, CATEGORIES)
    decisions = engine.decide(
        recommendations,
        np.ones(4, bool),
        np.array([1, 0, 0, 0]),
        np.full((4, 2), 50),
        np.zeros((4, 2), np.int64),
    )
    assert list(decisions.action) == [AUTO_EXECUTE, AUTO_EXECUTE, REJECT, REJECT, AUTO_EXECUTE]
    assert set(decisions.decider_names()[[2, 3]]) == {"guard:max_transfers_per_week"}


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_guards_are_never_breached(data):
    dealers, items = 5, 3
    count = data.draw(st.integers(1, 40))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    sender = rng.integers(0, dealers, count)
    receiver = (sender + rng.integers(1, dealers, count)) % dealers
    recommendations = batch(
        sender=sender,
        receiver=receiver,
        item=rng.integers(0, items, count),
        units=rng.integers(1, 6, count),
        shipment=rng.integers(0, 5, count),
        value_inr=rng.uniform(0, 10_000, count),
    )
    cap = data.draw(st.integers(0, 4))
    recent = rng.integers(0, 3, dealers)
    stock = rng.integers(0, 15, (dealers, items))
    floor = rng.integers(0, 5, (dealers, items))
    engine = TransferPolicyEngine(
        TransferPolicyConfig(rules=RULES.rules, max_transfers_per_dealer_per_week=cap), CATEGORIES
    )
    decisions = engine.decide(recommendations, np.ones(dealers, bool), recent, stock, floor)
    live = decisions.action != REJECT
    shipped = np.zeros((dealers, items), np.int64)
    np.add.at(shipped, (sender[live], recommendations.item[live]), recommendations.units[live])
    assert np.all((shipped == 0) | (stock - shipped >= floor))
    transfers = {
        (int(s), int(r), int(k))
        for s, r, k in zip(sender[live], receiver[live], recommendations.shipment[live], strict=True)
    }
    per_dealer = np.array(recent)
    for s, r, _ in transfers:
        per_dealer[s] += 1
        per_dealer[r] += 1
    assert np.all(per_dealer <= np.maximum(cap, recent))
    # the audit trail: every decision names a rule, the default or a guard
    assert set(decisions.decider_names()) <= set(engine.decider_ids)


def test_approval_latency_quantiles_match_the_configured_median_and_p90():
    model = ApprovalModel(median_hours=6.0, p90_hours=30.0, approval_probability=0.7)
    outcome = model.draw(200_000, np.random.default_rng(11))
    assert np.median(outcome.latency_hours) == pytest.approx(6.0, rel=0.02)
    assert np.quantile(outcome.latency_hours, 0.9) == pytest.approx(30.0, rel=0.02)
    assert outcome.approved.mean() == pytest.approx(0.7, abs=0.005)
    again = model.draw(5, np.random.default_rng(11))
    assert np.array_equal(again.latency_hours, outcome.latency_hours[:5])  # the caller's stream, reproducible


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"rule_id": "a", "action": "auto_approve"}, "transfer_rules[a].action"),
        (
            {"rule_id": "a", "action": "reject", "min_value_inr": 10, "max_value_inr": 5},
            "transfer_rules[a].max_value_inr",
        ),
        ({"rule_id": "a", "action": "reject", "min_distance_km": -1}, "transfer_rules[a].min_distance_km"),
        ({"rule_id": "a", "action": "reject", "colour": "red"}, "transfer_rules[a]"),
        ({"action": "reject"}, "transfer_rules[None].rule_id"),
        ({"rule_id": "default", "action": "reject"}, "transfer_rules.rule_id"),
        ({"rule_id": "a", "action": "reject", "categories": "engine"}, "transfer_rules[a].categories"),
    ],
)
def test_malformed_rules_raise_config_error(record, field):
    with pytest.raises(ConfigError) as error:
        rule_from_mapping(record)
    assert error.value.field == field


def test_bad_policy_and_batch_raise_config_error():
    with pytest.raises(ConfigError):
        TransferPolicyConfig(rules=(TransferRule("a", "reject"), TransferRule("a", "approval")))
    with pytest.raises(ConfigError):
        TransferPolicyConfig(default_action="maybe")
    with pytest.raises(ConfigError):
        TransferPolicyEngine(
            TransferPolicyConfig(rules=(TransferRule("a", "reject", categories=("brakes",)),)), CATEGORIES
        )
    with pytest.raises(ConfigError):
        batch(units=[-2])
    with pytest.raises(ConfigError):
        ApprovalModel(median_hours=5, p90_hours=4)
    with pytest.raises(ConfigError):
        ApprovalModel(approval_probability=math.nan)


def test_config_builds_rules_from_mappings():
    config = TransferPolicyConfig(
        rules=({"rule_id": "far", "action": "approval", "min_distance_km": 800, "categories": ["engine"]},)
    )
    assert config.rules[0] == TransferRule("far", "approval", categories=("engine",), min_distance_km=800)


def test_per_transfer_evaluation_ships_a_consignment_whole_or_not_at_all():
    # one truck (shipment 0, dealer 0 -> 1) with a worthwhile line and a weak one: ratios 3 and 1, together 2
    rules = TransferPolicyConfig(
        rules=(TransferRule("poor_ratio_reject", "reject", max_benefit_cost_ratio=1.5),),
        default_action="auto_execute",
        max_transfers_per_dealer_per_week=100,
    )
    recommendations = batch(
        benefit_inr=[300.0, 100.0, 100.0],
        receiver=[1, 1, 2],
        shipment=[0, 0, 1],
        value_inr=[1000.0, 1000.0, 1000.0],
    )
    per_line = decide(rules, recommendations)
    assert list(per_line.action_names()) == ["auto_execute", "reject", "reject"]
    whole = decide(dataclasses.replace(rules, evaluate_per_transfer=True), recommendations)
    assert list(whole.action_names()) == ["auto_execute", "auto_execute", "reject"]


@pytest.mark.parametrize(
    "largest_shipment",
    [30, 2**62, -(2**40)],
    ids=["small ids", "ids past what one key can hold", "negative ids"],
)
def test_transfers_are_grouped_like_the_distinct_rows_whatever_the_shipment_numbering(largest_shipment):
    """A custom planner may number shipments as it likes: two trucks must never be merged into one transfer
    (the weekly cap counts transfers)."""
    rng = np.random.default_rng(5)
    lines = 400
    shipment = rng.integers(0, 30, lines)
    shipment[rng.random(lines) < 0.3] = largest_shipment
    sender, receiver = rng.integers(0, 400, lines), rng.integers(0, 400, lines)

    first, transfer = transfer_groups(shipment, sender, receiver)

    rows = np.stack([shipment, sender, receiver], axis=1)
    _, expected_first, expected_transfer = np.unique(rows, axis=0, return_index=True, return_inverse=True)
    np.testing.assert_array_equal(first, expected_first)
    np.testing.assert_array_equal(transfer, expected_transfer.ravel())


def test_a_receiver_outside_the_network_is_refused_naming_the_receiver():
    with pytest.raises(ConfigError, match=r"TransferBatch\.receiver"):
        decide(RULES, batch(receiver=[1, 7]))
