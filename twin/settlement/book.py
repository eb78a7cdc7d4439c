"""The settlement book: what Nexa keeps and does between shipments, invoices, statements and claims.

It owns the journal and the registers around it (shipments, disputes, statements, cycles, transfers,
claims, deliveries), all columnar, and the steps that post to the journal:

- ``register_shipments``: a shipment's expected freight (rate card in force on the ship day) is accrued to
  its carrier and charged to its payers by the who-pays rule, once, when it leaves (as the engine's freight
  KPIs charge it);
- ``mark_billable``: proof of delivery (or dispatch, for express and trunk moves) makes it invoiceable;
- ``invoice_and_reconcile``: carriers bill billable shipments; lines within tolerance are approved to the
  carrier's payable, the rest become disputes, resolved at the contract charge after the resolution time;
- ``settle_transfers``: dealer-to-dealer transfers (price, handling fee, freight shares) on arrival;
- ``file_claims``: incentive claims verified against the delivery register, paid or rejected with a reason;
- ``close_cycle`` / ``pay_due``: every period a statement per dealer, carriers paid their approved invoices;
  dealers' net positions paid ``payment_terms_days`` later.
Each step is idempotent on its own keys: a shipment is charged and billed once, a transfer settled once, a
cycle closed once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from twin.settlement.accounts import Chart, OemAccount
from twin.settlement.incentives import ClaimOutcome, Deliveries, Schemes, verify_claims
from twin.settlement.journal import EntryKind, Journal, ReferenceKind
from twin.settlement.money import IndexArray, PaiseArray, sum_by
from twin.settlement.payers import FreightCategory, FreightPayers
from twin.settlement.rate_cards import RateBook
from twin.settlement.reconciliation import (
    DisputeReason,
    InvoiceErrorRates,
    Tolerance,
    carrier_invoice,
    reconcile,
)
from twin.settlement.table import Table
from twin.settlement.transfers import TransferBatch, transfer_freight_paise

NO_DEALER = -1
_FREIGHT_EXPENSE = int(OemAccount.FREIGHT_EXPENSE)


class InvoiceState:
    AWAITING = 0
    BILLABLE = 1
    ACCEPTED = 2
    DISPUTED = 3
    RESOLVED = 4


#: statement columns: where a dealer's lines of a cycle come from
STATEMENT_GROUPS = ("freight", "transfers", "incentives", "payments", "other")
_KIND_GROUP = np.array([0, 4, 4, 1, 3, 4, 2, 4], dtype=np.int64)  # indexed by EntryKind


@dataclass(frozen=True)
class SettlementPolicy:
    period_days: int = 7
    payment_terms_days: int = 3
    dispute_resolution_days: int = 10
    #: handling fee the receiver pays the sender, per ``FreightCategory`` (only transfers have one)
    handling_fee_paise: tuple[int, ...] = (0,) * len(FreightCategory)


class SettlementBook:
    def __init__(
        self,
        chart: Chart,
        rates: RateBook,
        payers: FreightPayers,
        policy: SettlementPolicy,
        tolerance: Tolerance,
        error_rates: InvoiceErrorRates,
        schemes: Schemes,
    ) -> None:
        self.chart, self.rates, self.payers, self.policy = chart, rates, payers, policy
        self.tolerance, self.error_rates, self.schemes = tolerance, error_rates, schemes
        self.journal = Journal(chart.size)
        self.shipments = Table(
            ("category", "carrier", "receiver", "sender", "reference_id", "ship_day", "due_day", "arrive_day",
             "expected_paise", "freight_entry", "invoice_state", "invoiced_paise")
        )  # fmt: skip
        self.billable = Table(("shipment",))
        self.disputes = Table(
            (
                "shipment",
                "carrier",
                "raised_day",
                "reason",
                "invoiced_paise",
                "expected_paise",
                "resolved_day",
            )
        )
        self.transfers = Table(
            ("transfer_id", "shipment", "sender", "receiver", "price_paise", "handling_paise", "entry")
        )
        self.cycles = Table(("close_day", "line_start", "line_end", "cycle_time_day_sum", "cycle_time_lines"))
        self.statements = Table(
            ("cycle", "dealer", "period_start_day", "close_day", "opening_paise", "freight_paise",
             "transfers_paise", "incentives_paise", "payments_paise", "other_paise", "closing_paise",
             "due_day", "paid_day")
        )  # fmt: skip
        self.claims = Table(
            ("dealer", "vehicle", "scheme", "filed_day", "registered_to_dealer", "outcome", "amount_paise")
        )
        self.delivered_day = np.zeros(0, dtype=np.int64)
        self.delivered_by = np.zeros(0, dtype=np.int64)
        self.vehicle_model = np.zeros(0, dtype=np.int64)
        #: ``[vehicle, scheme]``: an incentive was paid (the duplicate check, without a pass over every claim)
        self.paid_under_scheme = np.zeros((0, len(schemes)), dtype=bool)
        self.invoice_lines = 0

    # -- shipments ----------------------------------------------------------------------------------
    def register_shipments(
        self,
        category: FreightCategory | IndexArray,
        carrier: IndexArray,
        receiver: IndexArray,
        ship_day: npt.ArrayLike,
        expected_paise: PaiseArray,
        reference_id: npt.ArrayLike = -1,
        sender: npt.ArrayLike = NO_DEALER,
        billable: bool | npt.NDArray[np.bool_] = False,
        due_day: npt.ArrayLike = -1,
    ) -> IndexArray:
        """Accrue each shipment's freight to its carrier and charge its payers; returns shipment ids.
        ``category``, ``ship_day`` and ``billable`` are one for all or one per shipment (a day's shipments of
        every kind are registered in one call, in the order they left)."""
        count = expected_paise.size
        if count == 0:
            return np.zeros(0, dtype=np.int64)
        chart = self.chart
        receiver = np.asarray(receiver, dtype=np.int64)
        sender = np.asarray(sender, dtype=np.int64)  # one sender for all, or one per shipment
        split = self.payers.split(category, expected_paise)  # receiver, sender, OEM
        # the four lines of each entry, filled column by column (called several times a day, on a few rows);
        # a party that is no dealer (-1) is the OEM, whose share is a freight expense
        accounts = np.empty((count, 4), dtype=np.int64)
        accounts[:, 0] = np.where(receiver >= 0, chart.dealer(receiver), _FREIGHT_EXPENSE)
        if sender.ndim == 0:
            accounts[:, 1] = int(chart.dealer(sender)) if sender >= 0 else _FREIGHT_EXPENSE
        else:
            accounts[:, 1] = np.where(sender >= 0, chart.dealer(sender), _FREIGHT_EXPENSE)
        accounts[:, 2] = _FREIGHT_EXPENSE
        accounts[:, 3] = chart.carrier_accrual(carrier)
        amounts = np.empty((count, 4), dtype=np.result_type(split, expected_paise))
        amounts[:, :3] = split
        np.negative(expected_paise, out=amounts[:, 3])
        first_shipment = len(self.shipments)
        shipment_ids = np.arange(first_shipment, first_shipment + count, dtype=np.int64)
        entries = self.journal.post(
            ship_day, EntryKind.FREIGHT, ReferenceKind.SHIPMENT, shipment_ids, accounts, amounts
        )
        if isinstance(billable, (bool, np.bool_)):
            arrive_day: npt.ArrayLike = ship_day if billable else -1
            invoice_state: npt.ArrayLike = InvoiceState.BILLABLE if billable else InvoiceState.AWAITING
            billable_ids = shipment_ids if billable else shipment_ids[:0]
        else:
            arrive_day = np.where(billable, ship_day, -1)
            invoice_state = np.where(billable, InvoiceState.BILLABLE, InvoiceState.AWAITING)
            billable_ids = shipment_ids[billable]
        self.shipments.append(
            category=category if isinstance(category, np.ndarray) else int(category), carrier=carrier, receiver=receiver, sender=sender, reference_id=reference_id,
            ship_day=ship_day, due_day=due_day, arrive_day=arrive_day, expected_paise=expected_paise,
            freight_entry=entries, invoice_state=invoice_state, invoiced_paise=0,
        )  # fmt: skip
        if billable_ids.size:
            self.billable.append(shipment=billable_ids)
        return shipment_ids

    def mark_billable(self, shipment: IndexArray, day: int) -> None:
        """Proof of delivery: the shipment can be invoiced (a second proof of the same shipment is ignored)."""
        shipment = np.unique(np.asarray(shipment, dtype=np.int64))
        new = shipment[self.shipments["invoice_state"][shipment] == InvoiceState.AWAITING]
        self.shipments["invoice_state"][new] = InvoiceState.BILLABLE
        self.shipments["arrive_day"][new] = day
        self.billable.append(shipment=new)

    # -- carrier invoices ---------------------------------------------------------------------------
    def invoice_and_reconcile(self, day: int, rng: np.random.Generator) -> None:
        """Carriers bill every billable shipment; each line is checked against the expected charge."""
        shipment = self.billable["shipment"].copy()
        self.billable.size = 0
        if shipment.size == 0:
            return
        expected = self.shipments["expected_paise"]
        lines = carrier_invoice(shipment, expected[shipment], self.error_rates, self.tolerance, rng)
        state = self.shipments["invoice_state"]
        billed_before = state >= InvoiceState.ACCEPTED
        reason = reconcile(lines, expected, billed_before, self.tolerance)
        self.invoice_lines += lines.shipment.size
        accepted = reason == int(DisputeReason.NONE)  # plain ints: numpy converts an IntEnum slowly
        ship, paid = lines.shipment[accepted], lines.invoiced_paise[accepted]
        carrier = self.shipments["carrier"][ship]
        variance = paid - expected[ship]
        accounts = np.column_stack(
            (
                self.chart.carrier_accrual(carrier),
                self.chart.carrier_payable(carrier),
                np.full(ship.size, int(OemAccount.FREIGHT_VARIANCE)),
            )
        )
        amounts = np.column_stack((expected[ship], -paid, variance))
        self.journal.post(day, EntryKind.INVOICE_ACCEPTED, ReferenceKind.SHIPMENT, ship, accounts, amounts)
        state[ship] = InvoiceState.ACCEPTED
        self.shipments["invoiced_paise"][ship] = paid
        disputed = ~accepted
        ship = lines.shipment[disputed]
        known = (ship >= 0) & (ship < len(self.shipments))
        first_dispute = known & (reason[disputed] != int(DisputeReason.DUPLICATE))
        state[ship[first_dispute]] = InvoiceState.DISPUTED
        self.disputes.append(
            shipment=ship,
            carrier=np.where(known, self.shipments["carrier"][np.where(known, ship, 0)], -1),
            raised_day=day,
            reason=reason[disputed],
            invoiced_paise=lines.invoiced_paise[disputed],
            expected_paise=np.where(known, expected[np.where(known, ship, 0)], 0),
            resolved_day=-1,
        )

    def resolve_disputes(self, day: int) -> None:
        """After the resolution time the carrier's credit note re-bills a wrong charge at the contract rate;
        a duplicate or unknown line is withdrawn (nothing to post)."""
        open_ = np.flatnonzero(
            (self.disputes["resolved_day"] < 0)
            & (self.disputes["raised_day"] + self.policy.dispute_resolution_days <= day)
        )
        if open_.size == 0:
            return
        reason = self.disputes["reason"][open_]
        rebilled = open_[
            (reason == int(DisputeReason.OVERCHARGE)) | (reason == int(DisputeReason.UNDERCHARGE))
        ]
        ship = self.disputes["shipment"][rebilled]
        carrier = self.shipments["carrier"][ship]
        expected = self.shipments["expected_paise"][ship]
        accounts = np.column_stack((self.chart.carrier_accrual(carrier), self.chart.carrier_payable(carrier)))
        self.journal.post(
            day,
            EntryKind.DISPUTE_RESOLVED,
            ReferenceKind.SHIPMENT,
            ship,
            accounts,
            np.column_stack((expected, -expected)),
        )
        self.shipments["invoice_state"][ship] = InvoiceState.RESOLVED
        self.shipments["invoiced_paise"][ship] = expected
        self.disputes["resolved_day"][open_] = day

    # -- transfers ----------------------------------------------------------------------------------
    def settle_transfers(self, batch: TransferBatch, day: int) -> IndexArray:
        """Post arrived transfers not settled before (re-submitting one does nothing); returns their ids."""
        fresh = ~np.isin(batch.transfer_id, self.transfers["transfer_id"])
        _, first = np.unique(batch.transfer_id, return_index=True)
        once = np.zeros(len(batch), dtype=bool)
        once[first] = True
        batch = batch.select(fresh & once)
        if len(batch) == 0:
            return np.zeros(0, dtype=np.int64)
        chart = self.chart
        freight = transfer_freight_paise(batch, self.rates)
        split = self.payers.split(batch.category, freight)
        handling = np.asarray(self.policy.handling_fee_paise, dtype=np.int64)[batch.category]
        receiver, sender = chart.dealer(batch.receiver), chart.dealer(batch.sender)
        owed = batch.transfer_price_paise + handling
        accounts = np.column_stack(
            (
                receiver,
                sender,
                receiver,
                sender,
                np.full(len(batch), int(OemAccount.FREIGHT_EXPENSE)),
                chart.carrier_accrual(batch.carrier),
            )
        )
        amounts = np.column_stack((owed, -owed, split[:, 0], split[:, 1], split[:, 2], -freight))
        entries = self.journal.post(
            batch.arrive_day, EntryKind.TRANSFER, ReferenceKind.TRANSFER, batch.transfer_id, accounts, amounts
        )
        first_shipment = len(self.shipments)
        self.shipments.append(
            category=batch.category, carrier=batch.carrier, receiver=batch.receiver, sender=batch.sender,
            reference_id=batch.transfer_id, ship_day=batch.ship_day, due_day=batch.arrive_day, arrive_day=batch.arrive_day,
            expected_paise=freight, freight_entry=entries, invoice_state=InvoiceState.BILLABLE, invoiced_paise=0,
        )  # fmt: skip
        shipment_ids = np.arange(first_shipment, len(self.shipments), dtype=np.int64)
        self.billable.append(shipment=shipment_ids)
        self.transfers.append(
            transfer_id=batch.transfer_id, shipment=shipment_ids, sender=batch.sender, receiver=batch.receiver,
            price_paise=batch.transfer_price_paise, handling_paise=handling, entry=entries,
        )  # fmt: skip
        return batch.transfer_id

    # -- incentives ---------------------------------------------------------------------------------
    def record_deliveries(self, vehicle: IndexArray, dealer: IndexArray, model: IndexArray, day: int) -> None:
        """The delivery register: a VIN handed over to its end customer (the only proof a claim accepts)."""
        if vehicle.size == 0:
            return
        self._grow_register(int(vehicle.max()) + 1)
        self.delivered_day[vehicle] = day
        self.delivered_by[vehicle] = dealer
        self.vehicle_model[vehicle] = model

    def _grow_register(self, size: int) -> None:
        if size <= self.delivered_day.size:
            return
        grown = max(size, 2 * self.delivered_day.size, 1024)
        for name, fill in (("delivered_day", -1), ("delivered_by", NO_DEALER), ("vehicle_model", -1)):
            array = np.full(grown, fill, dtype=np.int64)
            old = getattr(self, name)
            array[: old.size] = old
            setattr(self, name, array)
        paid = np.zeros((grown, len(self.schemes)), dtype=bool)
        paid[: self.paid_under_scheme.shape[0]] = self.paid_under_scheme
        self.paid_under_scheme = paid

    def _paid_before(self, vehicle: IndexArray, scheme: IndexArray) -> npt.NDArray[np.bool_]:
        """Whether each vehicle was paid an incentive under the scheme already (vehicles the register does
        not know never were)."""
        known = np.flatnonzero((vehicle >= 0) & (vehicle < self.paid_under_scheme.shape[0]))
        paid = np.zeros(vehicle.size, dtype=bool)
        paid[known] = self.paid_under_scheme[vehicle[known], scheme[known]]
        return paid

    def file_claims(
        self,
        day: int,
        dealer: IndexArray,
        vehicle: IndexArray,
        scheme: IndexArray,
        registered_to_dealer: npt.NDArray[np.bool_],
    ) -> IndexArray:
        """Verify claims against the delivery register; pay the valid ones. Returns each claim's outcome."""
        if dealer.size == 0:
            return np.zeros(0, dtype=np.int64)
        self._grow_register(int(vehicle.max()) + 1)
        claims = self.claims
        deliveries = Deliveries(self.delivered_day, self.delivered_by, self.vehicle_model)
        outcome = verify_claims(
            dealer,
            vehicle,
            scheme,
            registered_to_dealer,
            self.schemes,
            deliveries,
            self._paid_before(vehicle, scheme),
        )
        amount = self.schemes.amount_paise[scheme]
        claim_ids = claims.append(
            dealer=dealer, vehicle=vehicle, scheme=scheme, filed_day=day,
            registered_to_dealer=registered_to_dealer, outcome=outcome, amount_paise=amount,
        )  # fmt: skip
        pay = outcome == int(ClaimOutcome.PAID)
        self.paid_under_scheme[vehicle[pay], scheme[pay]] = True
        accounts = np.column_stack(
            (np.full(int(pay.sum()), int(OemAccount.INCENTIVE_EXPENSE)), self.chart.dealer(dealer[pay]))
        )
        self.journal.post(
            day, EntryKind.INCENTIVE, ReferenceKind.CLAIM, claim_ids[pay], accounts,
            np.column_stack((amount[pay], -amount[pay])),
        )  # fmt: skip
        return outcome

    # -- cycles -------------------------------------------------------------------------------------
    def close_cycle(self, day: int) -> bool:
        """Close the cycle ending on ``day``: dealer statements, carriers paid their approved invoices.
        The OEM clears the network: a dealer's closing position nets everything it owes and is owed (transfers
        both ways included) and is settled with the OEM, never with another dealer. Closing a day already
        closed does nothing (returns False)."""
        if np.any(self.cycles["close_day"] == day):
            return False
        cycle = len(self.cycles)
        chart, journal = self.chart, self.journal
        line_start = int(self.cycles["line_end"][-1]) if cycle else 0
        period_start = int(self.cycles["close_day"][-1]) + 1 if cycle else day + 1 - self.policy.period_days
        carriers = np.arange(len(chart.carrier_ids), dtype=np.int64)
        payable = journal.balances()[chart.carrier_payable(carriers)]
        owed = payable != 0
        journal.post(
            day, EntryKind.CARRIER_PAYMENT, ReferenceKind.CARRIER_CYCLE, np.full(int(owed.sum()), cycle),
            np.column_stack((chart.carrier_payable(carriers[owed]), np.full(int(owed.sum()), int(OemAccount.BANK)))),
            np.column_stack((-payable[owed], payable[owed])),
        )  # fmt: skip
        line_end = len(journal.lines)
        dealers = len(chart.dealer_ids)
        account = journal.lines["account"][line_start:line_end]
        is_dealer = (account >= chart.dealer_start) & (account < chart.accrual_start)
        entry = journal.lines["entry"][line_start:line_end][is_dealer]
        group = _KIND_GROUP[journal.entries["kind"][entry]]
        dealer = account[is_dealer] - chart.dealer_start
        totals = sum_by(
            dealer * len(STATEMENT_GROUPS) + group,
            journal.lines["amount_paise"][line_start:line_end][is_dealer],
            dealers * len(STATEMENT_GROUPS),
        ).reshape(dealers, len(STATEMENT_GROUPS))
        previous = self.statements["cycle"] == cycle - 1
        opening = self.statements["closing_paise"][previous] if cycle else np.zeros(dealers, dtype=np.int64)
        closing = opening + totals.sum(axis=1)
        self.statements.append(
            cycle=cycle, dealer=np.arange(dealers), period_start_day=period_start, close_day=day,
            opening_paise=opening, freight_paise=totals[:, 0], transfers_paise=totals[:, 1],
            incentives_paise=totals[:, 2], payments_paise=totals[:, 3], other_paise=totals[:, 4],
            closing_paise=closing, due_day=day + self.policy.payment_terms_days,
            paid_day=np.where(closing == 0, day, -1),
        )  # fmt: skip
        self.cycles.append(
            close_day=day, line_start=line_start, line_end=line_end, cycle_time_day_sum=0, cycle_time_lines=0
        )
        return True

    def pay_due(self, day: int) -> None:
        """Dealers settle their statements' closing positions on the due day (through the OEM's bank)."""
        due = np.flatnonzero((self.statements["paid_day"] < 0) & (self.statements["due_day"] <= day))
        if due.size == 0:
            return
        chart, journal = self.chart, self.journal
        dealer = self.statements["dealer"][due]
        closing = self.statements["closing_paise"][due]
        journal.post(
            day, EntryKind.DEALER_PAYMENT, ReferenceKind.STATEMENT, due,
            np.column_stack((np.full(due.size, int(OemAccount.BANK)), chart.dealer(dealer))),
            np.column_stack((closing, -closing)),
        )  # fmt: skip
        self.statements["paid_day"][due] = day
        # cycle time: days from each charge posted to a dealer in the cycle to the payment that settles it
        for cycle in np.unique(self.statements["cycle"][due]).tolist():
            start, end = int(self.cycles["line_start"][cycle]), int(self.cycles["line_end"][cycle])
            account = journal.lines["account"][start:end]
            paid_dealers = chart.dealer(dealer[self.statements["cycle"][due] == cycle])
            lines = np.isin(account, paid_dealers)
            entry = journal.lines["entry"][start:end][lines]
            charge = journal.entries["kind"][entry] != int(EntryKind.DEALER_PAYMENT)
            posted = journal.entries["posted_day"][entry[charge]]
            self.cycles["cycle_time_day_sum"][cycle] += int((day - posted).sum())
            self.cycles["cycle_time_lines"][cycle] += int(posted.size)

    # -- state --------------------------------------------------------------------------------------
    def tables(self) -> dict[str, Table]:
        return {
            "shipments": self.shipments,
            "billable": self.billable,
            "disputes": self.disputes,
            "transfers": self.transfers,
            "cycles": self.cycles,
            "statements": self.statements,
            "claims": self.claims,
        }

    def arrays(self) -> dict[str, npt.NDArray[np.int64]]:
        arrays = self.journal.arrays()
        for name, table in self.tables().items():
            arrays |= table.arrays(f"{name}_")
        arrays |= {
            "delivered_day": self.delivered_day.copy(),
            "delivered_by": self.delivered_by.copy(),
            "vehicle_model": self.vehicle_model.copy(),
            "invoice_lines": np.array([self.invoice_lines], dtype=np.int64),
        }
        return arrays

    def load(self, arrays: dict[str, npt.NDArray[np.int64]]) -> None:
        self.journal.load(arrays)
        for name, table in self.tables().items():
            table.load(arrays, f"{name}_")
        self.delivered_day = np.asarray(arrays["delivered_day"], dtype=np.int64).copy()
        self.delivered_by = np.asarray(arrays["delivered_by"], dtype=np.int64).copy()
        self.vehicle_model = np.asarray(arrays["vehicle_model"], dtype=np.int64).copy()
        self.invoice_lines = int(arrays["invoice_lines"][0])
        # the paid flags are the claims register's paid rows: rebuilt, not stored
        self.paid_under_scheme = np.zeros((self.delivered_day.size, len(self.schemes)), dtype=bool)
        paid = self.claims["outcome"] == ClaimOutcome.PAID
        vehicle, scheme = self.claims["vehicle"][paid], self.claims["scheme"][paid]
        if vehicle.size:
            self._grow_register(int(vehicle.max()) + 1)
            self.paid_under_scheme[vehicle, scheme] = True
