"""The journal: append-only double-entry bookkeeping in two columnar tables (entries and their lines).

Every posting is a batch: many entries in one call, each checked to balance (its lines sum to zero paise)
before anything is written, so the journal never holds an unbalanced entry. Amounts must be integer paise:
a float (100.9, or even 100.0) is refused, never truncated, because it means an INR figure skipped
``twin.settlement.money.inr_to_paise``. Nothing is ever edited; a
correction is a reversing entry that negates the original's lines and names it in ``reverses``.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
import numpy.typing as npt

from twin.errors import TwinError
from twin.settlement.money import IndexArray, PaiseArray, non_integer_at, sum_by
from twin.settlement.table import Table


class EntryKind(IntEnum):
    #: expected freight of a shipment, accrued to its carrier and charged to whoever pays for it
    FREIGHT = 0
    #: a carrier invoice line accepted within tolerance: accrual moves to payable, difference to variance
    INVOICE_ACCEPTED = 1
    #: a disputed line settled at the contract charge (the carrier's credit note)
    DISPUTE_RESOLVED = 2
    #: a dealer-to-dealer transfer: price, handling fee and freight shares, posted when the goods arrive
    TRANSFER = 3
    DEALER_PAYMENT = 4
    CARRIER_PAYMENT = 5
    INCENTIVE = 6
    REVERSAL = 7


class ReferenceKind(IntEnum):
    SHIPMENT = 0
    TRANSFER = 1
    STATEMENT = 2
    CARRIER_CYCLE = 3
    CLAIM = 4
    ENTRY = 5


class UnbalancedEntryError(TwinError, ValueError):
    """A posting whose lines do not sum to zero; nothing of the batch is written."""

    def __init__(self, reference_kind: int, reference_id: int, imbalance_paise: int) -> None:
        self.reference_kind = reference_kind
        self.reference_id = reference_id
        self.imbalance_paise = imbalance_paise
        super().__init__(
            f"entry for {ReferenceKind(reference_kind).name.lower()} {reference_id} is off by "
            f"{imbalance_paise} paise"
        )


class NonIntegerAmountError(TwinError, TypeError):
    """A posting whose amounts are not integer paise (a float was about to be truncated); nothing is written."""

    def __init__(self, reference_kind: int, reference_id: int, value: object, dtype: str) -> None:
        self.reference_kind = reference_kind
        self.reference_id = reference_id
        self.value = value
        super().__init__(
            f"entry for {ReferenceKind(reference_kind).name.lower()} {reference_id}: amount {value!r} "
            f"({dtype}) is not integer paise; convert INR with twin.settlement.money.inr_to_paise"
        )


ENTRY_COLUMNS = ("posted_day", "kind", "reference_kind", "reference_id", "reverses")
LINE_COLUMNS = ("entry", "account", "amount_paise")


class Journal:
    def __init__(self, account_count: int) -> None:
        self.account_count = account_count
        self.entries = Table(ENTRY_COLUMNS)
        self.lines = Table(LINE_COLUMNS)
        #: balances kept up to date batch by batch, so a cycle close does not re-add a year of lines
        self._balances = np.zeros(account_count, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.entries)

    def post(
        self,
        day: npt.ArrayLike,
        kind: EntryKind,
        reference_kind: ReferenceKind,
        reference_id: npt.ArrayLike,
        accounts: npt.ArrayLike,
        amounts_paise: npt.ArrayLike,
    ) -> IndexArray:
        """Post one entry per row of ``accounts``/``amounts_paise`` (shape entries x lines; zero lines are
        dropped); returns the new entry ids. Raises ``NonIntegerAmountError`` for amounts that are not of an
        integer type and ``UnbalancedEntryError`` for an entry that does not balance, before writing anything."""
        reference = np.asarray(reference_id, dtype=np.int64).reshape(-1)
        count = reference.size
        if count == 0:
            return np.zeros(0, dtype=np.int64)
        given = np.asarray(amounts_paise)
        wrong = None if given.dtype == np.int64 else non_integer_at(given)  # int64 paise: nothing to check
        if wrong is not None:
            flat = given.reshape(-1)
            raise NonIntegerAmountError(
                int(reference_kind),
                int(reference[wrong * count // flat.size]),
                flat[wrong].item() if isinstance(flat[wrong], np.generic) else flat[wrong],
                str(given.dtype),
            )
        account = np.asarray(accounts, dtype=np.int64).reshape(count, -1)
        amount = given.astype(np.int64, copy=False).reshape(count, -1)
        if account.size and (account.min() < 0 or account.max() >= self.account_count):
            raise ValueError(f"account ids must be in 0..{self.account_count - 1}")
        imbalance = amount.sum(axis=1)
        if imbalance.any():
            first = int(np.flatnonzero(imbalance)[0])
            raise UnbalancedEntryError(int(reference_kind), int(reference[first]), int(imbalance[first]))
        first_entry = len(self.entries)
        # a scalar day is broadcast by the table; a day per entry is written as given
        posted_day = (
            day if isinstance(day, (int, np.integer)) else np.asarray(day, dtype=np.int64).reshape(-1)
        )
        entry_ids = self.entries.append(
            posted_day=posted_day,
            kind=int(kind),
            reference_kind=int(reference_kind),
            reference_id=reference,
            reverses=-1,
        )
        # the non-zero lines, entry by entry (row-major flat positions, as a boolean mask would pick them)
        kept = np.flatnonzero(amount)
        self._append_lines(
            first_entry + kept // amount.shape[1],
            account.reshape(-1).take(kept),
            amount.reshape(-1).take(kept),
        )
        return entry_ids

    def _append_lines(self, entry: IndexArray, account: IndexArray, amount_paise: PaiseArray) -> None:
        self.lines.append(entry=entry, account=account, amount_paise=amount_paise)
        # integer adds into the int64 balances: exact at any size (numpy's add.at fast path, same dtypes)
        np.add.at(self._balances, account, amount_paise)

    def reverse(self, entry_ids: npt.ArrayLike, day: int) -> IndexArray:
        """Post one reversing entry per original (its lines negated); an entry is reversed at most once."""
        originals = np.unique(np.asarray(entry_ids, dtype=np.int64))
        if originals.size == 0:
            return np.zeros(0, dtype=np.int64)
        if originals.min() < 0 or originals.max() >= len(self.entries):
            raise ValueError("can only reverse entries that exist")
        already = np.isin(originals, self.entries["reverses"]) | (
            self.entries["kind"][originals] == EntryKind.REVERSAL
        )
        if already.any():
            raise ValueError(f"entry {int(originals[already][0])} is already reversed or is a reversal")
        line_entry = self.lines["entry"]
        selected = np.flatnonzero(np.isin(line_entry, originals))
        new_of_original = np.searchsorted(originals, line_entry[selected])
        first_entry = len(self.entries)
        entry_ids = self.entries.append(
            posted_day=day,
            kind=int(EntryKind.REVERSAL),
            reference_kind=int(ReferenceKind.ENTRY),
            reference_id=originals,
            reverses=originals,
        )
        self._append_lines(
            first_entry + new_of_original,
            self.lines["account"][selected],
            -self.lines["amount_paise"][selected],
        )
        return entry_ids

    # -- reading ------------------------------------------------------------------------------------
    def balances(self) -> PaiseArray:
        """Balance of every account now."""
        return self._balances.copy()

    def recompute_balances(self, from_line: int = 0, to_line: int | None = None) -> PaiseArray:
        """Balances re-added from the lines (over a slice: lines are appended in posting order)."""
        window = slice(from_line, to_line)
        return sum_by(self.lines["account"][window], self.lines["amount_paise"][window], self.account_count)

    def entry_totals(self) -> PaiseArray:
        return sum_by(self.lines["entry"], self.lines["amount_paise"], len(self.entries))

    def unbalanced_entry_count(self) -> int:
        """Entries whose lines do not sum to zero (zero by construction; reported as a check)."""
        return int(np.count_nonzero(self.entry_totals()))

    def arrays(self) -> dict[str, npt.NDArray[np.int64]]:
        return {**self.entries.arrays("journal_entry_"), **self.lines.arrays("journal_line_")}

    def load(self, arrays: dict[str, npt.NDArray[np.int64]]) -> None:
        self.entries.load(arrays, "journal_entry_")
        self.lines.load(arrays, "journal_line_")
        self._balances = self.recompute_balances()
