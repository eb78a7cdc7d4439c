"""The ledger keeps money exact: every entry balances, all balances add up to zero, reversals restore them,
splits never lose a paisa, a float amount is refused rather than truncated, INR becomes paise by one rounding
rule wherever it enters, and a ledger written to CSV reloads as the same journal."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twin.io.settlement_reports import read_ledger_csv, write_ledger_csv
from twin.settlement.accounts import Chart
from twin.settlement.journal import (
    EntryKind,
    Journal,
    NonIntegerAmountError,
    ReferenceKind,
    UnbalancedEntryError,
)
from twin.settlement.money import (
    EXACT_FLOAT_LIMIT,
    MoneyError,
    allocate_paise,
    inr_to_paise,
    round_to_paise,
    split_by_fractions,
    split_fractions,
    split_paise,
)
from twin.settlement.payers import FreightCategory, FreightPayers, PayerShares
from twin.settlement.rate_cards import RateBook, RateCard
from twin.settlement.transfers import TransferBatch

PACKAGE_ROOT = Path(__file__).resolve().parents[1] / "twin"

ACCOUNTS = 12
amounts = st.integers(min_value=-(10**12), max_value=10**12)


@st.composite
def balanced_batches(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """Entries of 2-4 lines whose last line balances the others."""
    entries = draw(st.integers(1, 20))
    width = draw(st.integers(1, 3))
    account = np.array(
        draw(
            st.lists(
                st.integers(0, ACCOUNTS - 1), min_size=entries * (width + 1), max_size=entries * (width + 1)
            )
        )
    ).reshape(entries, width + 1)
    value = np.array(
        draw(st.lists(amounts, min_size=entries * width, max_size=entries * width)), dtype=np.int64
    ).reshape(entries, width)
    return account, np.column_stack((value, -value.sum(axis=1)))


@settings(max_examples=60, deadline=None)
@given(st.lists(balanced_batches(), min_size=1, max_size=5))
def test_every_entry_balances_and_all_balances_sum_to_zero(
    batches: list[tuple[np.ndarray, np.ndarray]],
) -> None:
    journal = Journal(ACCOUNTS)
    for day, (account, amount) in enumerate(batches):
        journal.post(day, EntryKind.FREIGHT, ReferenceKind.SHIPMENT, np.arange(len(account)), account, amount)
    assert journal.unbalanced_entry_count() == 0
    assert int(journal.balances().sum()) == 0
    np.testing.assert_array_equal(journal.balances(), journal.recompute_balances())


@settings(max_examples=60, deadline=None)
@given(balanced_batches(), balanced_batches(), st.data())
def test_reversals_restore_balances_exactly(first, second, data: st.DataObject) -> None:  # type: ignore[no-untyped-def]
    journal = Journal(ACCOUNTS)
    journal.post(0, EntryKind.FREIGHT, ReferenceKind.SHIPMENT, np.arange(len(first[0])), *first)
    before = journal.balances()
    added = journal.post(1, EntryKind.TRANSFER, ReferenceKind.TRANSFER, np.arange(len(second[0])), *second)
    journal.reverse(added, day=2)
    np.testing.assert_array_equal(journal.balances(), before)
    np.testing.assert_array_equal(journal.recompute_balances(), before)
    with pytest.raises(ValueError, match="already reversed"):
        journal.reverse(added[:1], day=3)


def test_an_unbalanced_entry_is_rejected_and_nothing_is_written() -> None:
    journal = Journal(ACCOUNTS)
    with pytest.raises(UnbalancedEntryError, match="shipment 7 is off by 1 paise"):
        journal.post(
            0, EntryKind.FREIGHT, ReferenceKind.SHIPMENT, [6, 7], [[0, 1], [0, 1]], [[5, -5], [5, -4]]
        )
    assert len(journal) == 0 and len(journal.lines) == 0


@pytest.mark.parametrize(
    ("amounts", "named"),
    [
        ([[1, -1], [100.9, -100.9]], r"shipment 8: amount 100.9 \(float64\)"),  # 100.9 would have become 100
        ([[100.0, -100.0]], r"shipment 7: amount 100.0 \(float64\)"),  # whole, but INR skipped inr_to_paise
    ],
)
def test_a_float_amount_is_refused_naming_it_and_nothing_is_written(amounts: list, named: str) -> None:
    journal = Journal(ACCOUNTS)
    journal.post(0, EntryKind.FREIGHT, ReferenceKind.SHIPMENT, [1], [[0, 1]], [[500, -500]])
    with pytest.raises(NonIntegerAmountError, match=f"{named} is not integer paise"):
        journal.post(
            1,
            EntryKind.FREIGHT,
            ReferenceKind.SHIPMENT,
            [7, 8][: len(amounts)],
            [[0, 1]] * len(amounts),
            amounts,
        )
    assert len(journal) == 1 and len(journal.lines) == 2
    np.testing.assert_array_equal(journal.balances()[:2], [500, -500])


def test_a_transfer_price_with_a_fraction_of_a_paisa_is_refused() -> None:
    columns = dict(
        transfer_id=[0], category=[int(FreightCategory.PARTS_TRANSFER)], sender=[0], receiver=[1], carrier=[0],
        truck=[0], ship_day=[3], arrive_day=[5], distance_km=[120.0], volume=[4.0],
    )  # fmt: skip
    assert TransferBatch.of(**columns, transfer_price_paise=[10090.0]).transfer_price_paise[0] == 10090
    with pytest.raises(MoneyError, match=r"transfer_price_paise 10090\.5 is not a whole number"):
        TransferBatch.of(**columns, transfer_price_paise=[10090.5])


def test_inr_becomes_paise_by_one_rule_wherever_it_enters_the_ledger() -> None:
    # halves away from zero, like a bank (np.rint and round() would give 0, 2 and -2: halves to even)
    np.testing.assert_array_equal(round_to_paise([0.5, 2.5, -2.5, 2.4999]), [1, 3, -3, 2])
    np.testing.assert_array_equal(inr_to_paise([0.125, -0.125, 1.005, 0.0]), [13, -13, 101, 0])
    # a rate card charge of 12.5 paise (1 INR/km over 0.125 km) is rounded by the same rule
    rates = RateBook([RateCard(0, "v1", 0, -1, 1.0, 0.0, 10)], ["CR01"])
    charge = rates.load_charge_paise(np.array([0]), 0, np.array([0.125]), np.array([1.0]))
    assert charge[0] == inr_to_paise(0.125) == 13
    # nowhere else in the ledger's code or its engine glue is money rounded: the one rule lives in money.py
    money_rounding = re.compile(r"(rint\(|round\().*(\* ?100\b|100\.0|paise)")
    sources = [
        *sorted((PACKAGE_ROOT / "settlement").glob("*.py")),
        *sorted((PACKAGE_ROOT / "engine").glob("*.py")),
    ]
    offenders = [
        f"{path.name}:{number}: {line.strip()}"
        for path in sources
        if path.name != "money.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if money_rounding.search(line)
    ]
    assert offenders == []


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.integers(-(10**12), 10**12), min_size=1, max_size=30),
    st.lists(st.floats(0, 1), min_size=2, max_size=4),
)
def test_splits_of_charges_and_credits_add_up_to_the_paisa(totals: list[int], shares: list[float]) -> None:
    """Negative totals (credits, reversals) split as exactly as charges; each part within a paisa of its share."""
    total = np.array(totals, dtype=np.int64)
    parts = split_paise(total, np.tile(shares, (total.size, 1)))
    np.testing.assert_array_equal(parts.sum(axis=1), total)
    weights = np.array(shares) if sum(shares) > 0 else np.ones(len(shares))
    assert np.all(
        np.abs(parts - total[:, None] * weights / weights.sum()) < 1.0 + 1e-6 * np.abs(total)[:, None]
    )
    payers = FreightPayers({category: PayerShares(0.5, 0.25, 0.25) for category in FreightCategory})
    split = payers.split(FreightCategory.VEHICLE_TRANSFER, total)
    np.testing.assert_array_equal(split.sum(axis=1), total)


def test_a_split_that_float64_cannot_keep_exact_is_refused_not_rounded() -> None:
    # 2**55 + 3 paise split 30/70 in float64 would have lost 3 paise
    with pytest.raises(MoneyError, match=rf"total {2**55 + 3} paise is too large to split exactly"):
        split_paise(np.array([2**55 + 3]), np.array([[0.3, 0.7]]))
    with pytest.raises(MoneyError, match="allocation: total"):
        allocate_paise(np.array([0, 0]), np.array([1.0, 2.0]), np.array([EXACT_FLOAT_LIMIT]))
    with pytest.raises(MoneyError, match="share nan must be finite"):
        split_paise(np.array([100]), np.array([[np.nan, 1.0]]))
    assert (
        split_paise(np.array([EXACT_FLOAT_LIMIT - 1]), np.array([[0.3, 0.7]])).sum() == EXACT_FLOAT_LIMIT - 1
    )


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.integers(0, 10**10), min_size=1, max_size=30),
    st.lists(st.floats(0, 1), min_size=3, max_size=3),
)
def test_freight_splits_add_up_to_the_paisa(totals: list[int], shares: list[float]) -> None:
    total = np.array(totals, dtype=np.int64)
    parts = split_paise(total, np.tile(shares, (total.size, 1)))
    np.testing.assert_array_equal(parts.sum(axis=1), total)
    assert (parts >= 0).all()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.floats(0, 1000)), min_size=1, max_size=40), st.data())
def test_truck_charges_split_exactly_between_their_transfers(items, data: st.DataObject) -> None:  # type: ignore[no-untyped-def]
    group = np.array([item[0] for item in items], dtype=np.int64)
    weight = np.array([item[1] for item in items])
    totals = np.array(data.draw(st.lists(st.integers(0, 10**9), min_size=5, max_size=5)), dtype=np.int64)
    parts = allocate_paise(group, weight, totals)
    present = np.bincount(group, minlength=5) > 0
    np.testing.assert_array_equal(np.bincount(group, weights=parts, minlength=5)[present], totals[present])


def test_the_ledger_csv_reloads_as_the_same_journal(tmp_path: Path) -> None:
    chart = Chart(["D1", "D2"], ["CR01"])
    journal = Journal(chart.size)
    journal.post(
        3, EntryKind.FREIGHT, ReferenceKind.SHIPMENT, [0, 1], [[5, 7], [6, 7]], [[1234, -1234], [99, -99]]
    )
    journal.post(
        4, EntryKind.DEALER_PAYMENT, ReferenceKind.STATEMENT, [0], [[0, 5]], [[0, 0]]
    )  # an entry with no lines
    journal.reverse([1], day=5)
    path = write_ledger_csv(journal, chart.names(), tmp_path / "ledger.csv")
    reloaded = read_ledger_csv(path, chart.size)
    for name, array in journal.arrays().items():
        np.testing.assert_array_equal(reloaded.arrays()[name], array, err_msg=name)
    assert "dealer:D1" in path.read_text()


def _largest_remainder_reference(total_paise: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Largest remainder written out plainly, row by row: floors, then the paise left over one by one to the
    parts with the largest fractional remainder (ties to the first part)."""
    parts = np.zeros(shares.shape, dtype=np.int64)
    for row, (total, share) in enumerate(zip(total_paise.tolist(), shares, strict=True)):
        weights = share if share.sum() > 0 else np.ones_like(share)
        exact = total * (weights / weights.sum())
        parts[row] = np.floor(exact).astype(np.int64)
        left_over = total - int(parts[row].sum())
        for part in sorted(range(share.size), key=lambda index: (-(exact[index] - parts[row, index]), index)):
            if left_over <= 0:
                break
            parts[row, part] += 1
            left_over -= 1
    return parts


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(
    totals=st.lists(st.integers(0, 10**9), min_size=1, max_size=8),
    row=st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=3, max_size=3),
)
def test_a_split_by_fractions_worked_out_once_gives_the_paise_of_the_plain_rule(
    totals: list[int], row: list[float]
) -> None:
    """Freight is split by a category's fractions computed once (``split_fractions``); the parts are those of
    the largest-remainder rule to the paisa, and add up to each total."""
    total_paise = np.array(totals, dtype=np.int64)
    shares = np.tile(np.array(row), (len(totals), 1))
    expected = _largest_remainder_reference(total_paise, shares)
    np.testing.assert_array_equal(split_paise(total_paise, shares), expected)
    np.testing.assert_array_equal(
        split_by_fractions(total_paise, split_fractions(np.array(row))[0]), expected
    )
    np.testing.assert_array_equal(expected.sum(axis=1), total_paise)
