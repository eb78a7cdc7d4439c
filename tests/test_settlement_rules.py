"""Settlement rules on synthetic data: rate cards are validated naming the field, invoices are reconciled
with disputes, transfers and shipments are settled exactly once, cycles are idempotent, and an incentive is
paid only for a VIN with a confirmed end-customer delivery."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twin.config import RateCardConfig, SettlementConfig, TwinConfig, validate
from twin.errors import ConfigError
from twin.settlement.accounts import Chart
from twin.settlement.book import InvoiceState, SettlementBook, SettlementPolicy
from twin.settlement.incentives import ANY_MODEL, ClaimOutcome, Schemes
from twin.settlement.journal import EntryKind
from twin.settlement.money import inr_to_paise
from twin.settlement.payers import FreightCategory, FreightPayers, PayerShares
from twin.settlement.rate_cards import RateBook, RateCard
from twin.settlement.reconciliation import (
    DisputeReason,
    InvoiceErrorRates,
    InvoiceLines,
    Tolerance,
    reconcile,
)
from twin.settlement.transfers import TransferBatch

DEALERS = 4


def _config(*cards: RateCardConfig) -> TwinConfig:
    return TwinConfig(settlement=SettlementConfig(rate_cards=list(cards)))


@pytest.mark.parametrize(
    ("cards", "field", "reason"),
    [
        (
            (RateCardConfig("CR01", "v1", 0, 100, 42.0), RateCardConfig("CR01", "v2", 120, -1, 44.0)),
            r"settlement\.rate_cards\[1\]\.valid_from_day=120",
            "gap",
        ),
        (
            (RateCardConfig("CR01", "v1", 0, 100, 42.0), RateCardConfig("CR01", "v2", 90, -1, 44.0)),
            r"settlement\.rate_cards\[1\]\.valid_from_day=90",
            "overlaps",
        ),
        (
            (RateCardConfig("CR01", "v1", 0, 200, 42.0),),
            r"settlement\.rate_cards\[0\]\.valid_to_day=200",
            "gap",
        ),
        (
            (RateCardConfig("CR01", "v1", 0, -1, -42.0),),
            r"settlement\.rate_cards\[0\]\.rate_per_km_inr=-42\.0",
            "negative",
        ),
    ],
)
def test_bad_rate_cards_are_rejected_naming_the_field(
    cards: tuple[RateCardConfig, ...], field: str, reason: str
) -> None:
    with pytest.raises(ConfigError, match=f"{field}.*{reason}"):
        validate(_config(*cards))


def test_a_rate_card_of_an_unknown_carrier_is_rejected_at_build() -> None:
    from twin.config import NetworkConfig
    from twin.engine.simulation import Simulation

    config = TwinConfig(
        network=NetworkConfig(dealers=4, skus=50, stockyards=1, vehicles_per_dealer=5),
        settlement=SettlementConfig(rate_cards=[RateCardConfig("CR99", "v1", 0, -1, 42.0)]),
        horizon_days=10,
        warmup_days=1,
        progress=False,
    )
    with pytest.raises(ConfigError, match=r"settlement\.rate_cards\[0\]\.carrier_id='CR99'.*not a carrier"):
        Simulation(config)


def test_the_card_in_force_on_the_ship_day_prices_the_shipment() -> None:
    rates = RateBook(
        [
            RateCard(0, "v1", 0, 30, 40.0, 1000.0, 10),
            RateCard(0, "v2", 30, -1, 50.0, 1000.0, 10, 100.0, 110.0, 0.5),
        ],
        ["CR01"],
    )
    charge = rates.load_charge_paise(
        np.array([0, 0]), np.array([29, 30]), np.array([100.0, 100.0]), np.array([1.0, 1.0])
    )
    # v1: 40 x 100 km = 4,000 INR; v2: 50 x 100 = 5,000 INR + fuel 0.5 x 10% = 5% -> 5,250 INR
    np.testing.assert_array_equal(charge, inr_to_paise([4000.0, 5250.0]))


def _book(schemes: Schemes | None = None, errors: InvoiceErrorRates | None = None) -> SettlementBook:
    shares = {category: PayerShares(1.0, 0.0, 0.0) for category in FreightCategory}
    shares[FreightCategory.VEHICLE_TRANSFER] = PayerShares(0.5, 0.25, 0.25)
    return SettlementBook(
        Chart([f"D{index}" for index in range(DEALERS)], ["CR01", "CR02"]),
        RateBook(
            [RateCard(0, "v1", 0, -1, 42.0, 900.0, 4000), RateCard(1, "v1", 0, -1, 62.0, 9000.0, 8)],
            ["CR01", "CR02"],
        ),
        FreightPayers(shares),
        SettlementPolicy(7, 3, 10, (0, 0, 0, 0, 15000, 250000)),
        Tolerance(0.01, 500),
        errors or InvoiceErrorRates(0.0, 0.0, 0.0, 0.0),
        schemes or Schemes(("none",), np.array([ANY_MODEL]), np.array([0]), np.array([0]), np.array([0])),
    )


def test_reconciliation_accepts_within_tolerance_and_disputes_the_rest_with_a_reason() -> None:
    expected = np.array([100_000, 100_000, 100_000, 100_000], dtype=np.int64)
    lines = InvoiceLines(
        np.array([0, 1, 2, 3, 3, 9]), np.array([100_900, 101_001, 98_000, 100_000, 100_000, 5])
    )
    billed = np.array([False, False, False, False])
    reason = reconcile(lines, expected, billed, Tolerance(0.01, 500)).tolist()
    assert reason == [
        DisputeReason.NONE,
        DisputeReason.OVERCHARGE,
        DisputeReason.UNDERCHARGE,
        DisputeReason.NONE,
        DisputeReason.DUPLICATE,
        DisputeReason.UNKNOWN_SHIPMENT,
    ]


def _transfers(ids: list[int], truck: list[int] | None = None) -> TransferBatch:
    count = len(ids)
    return TransferBatch.of(
        transfer_id=ids, category=[FreightCategory.VEHICLE_TRANSFER] * count, sender=[index % DEALERS for index in ids],
        receiver=[(index + 1) % DEALERS for index in ids], carrier=[1] * count, truck=truck or ids, ship_day=[2] * count,
        arrive_day=[3] * count, distance_km=[100.0 + 50 * index for index in ids], volume=[1.0] * count,
        transfer_price_paise=[50_000_000] * count,
    )  # fmt: skip


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(0, 40), min_size=1, max_size=25, unique=True),
    st.lists(st.integers(0, 3), min_size=25, max_size=25),
    st.integers(0, 5),
)
def test_every_transfer_is_settled_once_and_cycles_are_idempotent(
    ids: list[int], trucks: list[int], seed: int
) -> None:
    book = _book(errors=InvoiceErrorRates(0.2, 0.1, 0.05, 0.05))
    batch = _transfers(ids, trucks[: len(ids)])
    book.settle_transfers(batch, day=3)
    book.settle_transfers(batch, day=4)  # the same arrivals reported again
    assert sorted(book.transfers["transfer_id"].tolist()) == sorted(ids)
    # the truck charges were split in full and the who-pays shares add up to each transfer's freight
    entries = book.journal.entries
    assert (entries["kind"] == EntryKind.TRANSFER).sum() == len(ids)
    rng = np.random.default_rng(seed)
    for day in range(3, 30):
        book.invoice_and_reconcile(day, rng)
        book.resolve_disputes(day)
        book.pay_due(day)
        if (day + 1) % 7 == 0:
            assert book.close_cycle(day)
            before = (len(book.journal), len(book.statements))
            assert not book.close_cycle(day)  # re-running the cycle changes nothing
            assert (len(book.journal), len(book.statements)) == before
    assert book.journal.unbalanced_entry_count() == 0
    assert int(book.journal.balances().sum()) == 0
    state = book.shipments["invoice_state"]
    assert set(state.tolist()) <= {InvoiceState.ACCEPTED, InvoiceState.RESOLVED}
    # every shipment's accrual was cleared exactly once: nothing is left owed on accrual accounts
    assert (book.journal.balances()[book.chart.carrier_accrual([0, 1])] == 0).all()


def test_transfer_charges_follow_the_who_pays_rule() -> None:
    book = _book()
    book.settle_transfers(_transfers([0]), day=3)  # D0 -> D1, 100 km, one car
    balances = book.journal.balances()
    freight = int(book.shipments["expected_paise"][0])
    assert freight == inr_to_paise(9000.0)  # minimum charge of the car carrier: 62 x 100 km < 9,000
    receiver, sender = balances[book.chart.dealer([1, 0])]
    assert receiver == 50_000_000 + 250_000 + freight // 2
    assert sender == -50_000_000 - 250_000 + freight // 4


def _incentive_book() -> SettlementBook:
    schemes = Schemes(("q1",), np.array([0]), np.array([0]), np.array([90]), inr_to_paise([5000.0]))
    book = _book(schemes=schemes)
    # vehicles 0-3 of model 0: 0 delivered by D0 on day 10, 1 delivered by D1 on day 120, 2 not delivered,
    # 3 of model 1 delivered by D0 on day 12, 4 delivered by D1 on day 20
    book.record_deliveries(np.array([0]), np.array([0]), np.array([0]), 10)
    book.record_deliveries(np.array([4]), np.array([1]), np.array([0]), 20)
    book.record_deliveries(np.array([1]), np.array([1]), np.array([0]), 120)
    book.record_deliveries(np.array([3]), np.array([0]), np.array([1]), 12)
    return book


def test_a_claim_is_paid_only_for_a_confirmed_delivery_and_invalid_claims_carry_a_reason() -> None:
    book = _incentive_book()
    outcome = book.file_claims(
        day=130,
        dealer=np.array([0, 0, 1, 0, 2, 0, 0]),
        vehicle=np.array([0, 0, 1, 2, 4, 3, 2]),
        scheme=np.zeros(7, dtype=np.int64),
        registered_to_dealer=np.array([False, False, False, False, False, False, True]),
    )
    assert [ClaimOutcome(value).name for value in outcome] == [
        "PAID",
        "DUPLICATE_CLAIM",
        "OUTSIDE_WINDOW",
        "NO_END_CUSTOMER_DELIVERY",
        "WRONG_DEALER",
        "MODEL_NOT_IN_SCHEME",
        "DEMO_REGISTRATION",
    ]
    assert book.journal.balances()[book.chart.dealer(0)] == -inr_to_paise(5000.0)
    again = book.file_claims(131, np.array([0]), np.array([0]), np.array([0]), np.array([False]))
    assert again.tolist() == [ClaimOutcome.DUPLICATE_CLAIM]


def test_a_vehicle_paid_before_a_snapshot_is_a_duplicate_claim_after_the_book_is_reloaded() -> None:
    book = _incentive_book()
    paid = book.file_claims(130, np.array([0]), np.array([0]), np.array([0]), np.array([False]))
    assert paid.tolist() == [ClaimOutcome.PAID]
    restored = _book(schemes=book.schemes)
    restored.load(book.arrays())
    again = restored.file_claims(
        131, np.array([0, 0]), np.array([0, 4]), np.zeros(2, dtype=np.int64), np.zeros(2, dtype=bool)
    )
    assert [ClaimOutcome(value).name for value in again] == ["DUPLICATE_CLAIM", "WRONG_DEALER"]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 6), st.booleans()), min_size=1, max_size=30))
def test_no_claim_is_paid_without_a_delivery_by_the_claiming_dealer(
    claims: list[tuple[int, int, bool]],
) -> None:
    book = _incentive_book()
    dealer, vehicle, demo = (np.array(column) for column in zip(*claims, strict=True))
    outcome = book.file_claims(50, dealer, vehicle, np.zeros(dealer.size, dtype=np.int64), demo.astype(bool))
    paid = outcome == ClaimOutcome.PAID
    assert (book.delivered_day[vehicle[paid]] >= 0).all()
    assert (book.delivered_by[vehicle[paid]] == dealer[paid]).all()
    assert not demo[paid].any()
    assert paid.sum() <= 2  # only vehicles 0 and 4 qualify, each once
    assert np.unique(vehicle[paid]).size == paid.sum()
