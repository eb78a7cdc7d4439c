"""The ledger keeps money exact: every entry balances, all balances add up to zero, reversals restore them,
splits never lose a paisa, and a ledger written to CSV reloads as the same journal."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twin.io.settlement_reports import read_ledger_csv, write_ledger_csv
from twin.settlement.accounts import Chart
from twin.settlement.journal import EntryKind, Journal, ReferenceKind, UnbalancedEntryError
from twin.settlement.money import allocate_paise, split_paise

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
