"""Engine glue for Nexa settlement (``twin.settlement``): turns engine events into settlement postings.

Hooks are one-line calls from the engine: consignments leave (``PartsLogistics.apply``) and are received
(``receive``), emergency orders go out (``emergency_orders``), car-carrier loads leave
(``CarCarriers._load_departs``) and arrive (``VehicleFlow.unload``), trunk moves leave
(``VehicleFlow.start_trunk``), vehicles are handed over
(``deliver_due``). Frequent events only append to buffers; the daily phase (``settle_day``, after the KPIs)
prices and posts them in batches, bills delivered shipments, resolves disputes, verifies incentive claims,
pays due statements and closes a cycle every ``period_days``. Nothing here writes to the engine's state or
event log, and the draws come from the streams ``settlement:invoices`` and ``settlement:claims`` only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import simpy

from twin.config import OperationsConfig, SettlementConfig
from twin.domain.world import World
from twin.engine.streams import RandomStreams
from twin.errors import ConfigError
from twin.settlement.accounts import Chart, OemAccount
from twin.settlement.book import InvoiceState, SettlementBook, SettlementPolicy
from twin.settlement.incentives import ANY_MODEL, REJECTION_NAMES, ClaimOutcome, Schemes
from twin.settlement.money import inr_to_paise, paise_to_inr
from twin.settlement.payers import CATEGORY_NAMES, FreightCategory, FreightPayers, PayerShares
from twin.settlement.rate_cards import OPEN_ENDED, RateBook, RateCard
from twin.settlement.reconciliation import DisputeReason, InvoiceErrorRates, Tolerance
from twin.settlement.transfers import TransferBatch, truck_charges_paise

if TYPE_CHECKING:
    from twin.engine.vehicle_flow import VehicleFlow

IntArray = npt.NDArray[np.int64]
INVALID_CLAIM_KINDS = ("demo_registration", "no_end_customer_delivery", "outside_window", "duplicate_claim")


def build_book(config: SettlementConfig, world: World, operations: OperationsConfig) -> SettlementBook:
    """The pure settlement book for this world; carrier ids and model names are checked here."""
    carriers = world.network.carriers
    carrier_ids = [str(name) for name in carriers.carrier_id]
    cards: list[RateCard] = []
    for index, card in enumerate(config.rate_cards):
        if card.carrier_id not in carrier_ids:
            raise ConfigError(
                f"settlement.rate_cards[{index}].carrier_id",
                card.carrier_id,
                f"is not a carrier of the master data {carrier_ids}",
            )
        carrier = carrier_ids.index(card.carrier_id)
        cards.append(
            RateCard(
                carrier, card.version, card.valid_from_day, card.valid_to_day, card.rate_per_km_inr,
                card.minimum_charge_inr, card.capacity_per_load or int(carriers.capacity_per_load[carrier]),
                card.fuel_base_price_inr, card.fuel_price_inr, card.fuel_pass_through,
                card.extra_charge_per_shipment_inr,
                operations.emergency_charge_per_line_inr
                if card.express_charge_per_line_inr < 0
                else card.express_charge_per_line_inr,
            )
        )  # fmt: skip
    carded = {card.carrier for card in cards}
    # the master data's own rates: the ledger then charges exactly what the engine's freight KPIs do
    for carrier in range(len(carriers)):
        if carrier not in carded:
            cards.append(
                RateCard(
                    carrier, "master", 0, OPEN_ENDED, float(carriers.rate_per_km_inr[carrier]),
                    float(carriers.minimum_charge_inr[carrier]), int(carriers.capacity_per_load[carrier]),
                    express_charge_per_line_inr=operations.emergency_charge_per_line_inr,
                )
            )  # fmt: skip
    payers = FreightPayers(
        {
            FreightCategory[rule.category.upper()]: PayerShares(
                rule.receiver_share, rule.sender_share, rule.oem_share
            )
            for rule in config.freight_payers
        }
    )
    models = list(world.specs.model_names)
    scheme_models = []
    for index, scheme in enumerate(config.incentive_schemes):
        if scheme.model and scheme.model not in models:
            raise ConfigError(
                f"settlement.incentive_schemes[{index}].model", scheme.model, f"is not a model of {models}"
            )
        scheme_models.append(models.index(scheme.model) if scheme.model else ANY_MODEL)
    schemes = Schemes(
        name=tuple(scheme.name for scheme in config.incentive_schemes),
        model=np.array(scheme_models, dtype=np.int64),
        start_day=np.array([scheme.start_day for scheme in config.incentive_schemes], dtype=np.int64),
        end_day=np.array([scheme.end_day for scheme in config.incentive_schemes], dtype=np.int64),
        amount_paise=inr_to_paise([scheme.amount_inr for scheme in config.incentive_schemes]),
    )
    handling = [0] * len(FreightCategory)
    handling[FreightCategory.PARTS_TRANSFER] = int(inr_to_paise(config.parts_transfer_handling_fee_inr))
    handling[FreightCategory.VEHICLE_TRANSFER] = int(inr_to_paise(config.vehicle_transfer_handling_fee_inr))
    errors = config.invoice_errors
    return SettlementBook(
        Chart(world.network.dealers.dealer_id.tolist(), carrier_ids),
        RateBook(cards, carrier_ids),
        payers,
        SettlementPolicy(
            config.period_days, config.payment_terms_days, config.dispute_resolution_days, tuple(handling)
        ),
        Tolerance(config.tolerance_share, int(inr_to_paise(config.tolerance_min_inr))),
        InvoiceErrorRates(
            errors.noise_share, errors.overcharge_share, errors.undercharge_share, errors.duplicate_share
        ),
        schemes,
    )


class SettlementFlow:
    def __init__(
        self,
        clock: simpy.Environment,
        config: SettlementConfig,
        operations: OperationsConfig,
        world: World,
        streams: RandomStreams,
        dc_to_dealer_km: npt.NDArray[np.float64],
    ) -> None:
        self.env = clock
        self.world = world
        self.streams = streams
        self.dc_to_dealer_km = dc_to_dealer_km
        #: the vehicle flow whose loads, trunks and handovers are settled (wired by ``connect``)
        self.vehicles: VehicleFlow | None = None
        self.enabled = config.enabled
        self.period_days = config.period_days
        invalid = config.invalid_claims
        self.invalid_claim_shares = np.cumsum([getattr(invalid, name) for name in INVALID_CLAIM_KINDS])
        self.book = build_book(config, world, operations)
        #: events of the day waiting for the settlement phase: (dealer, carrier, first vehicle, ship day)
        self.loads_departed: list[tuple[int, int, int, int]] = []
        #: (first vehicle, arrival day); (plant, yard, vehicles, ship day); (vehicle id, handover day)
        self.loads_arrived: list[tuple[int, int]] = []
        self.trunks_departed: list[tuple[int, int, int, int]] = []
        self.delivered: list[tuple[int, int]] = []
        #: parts freight that left today, in the order it left: (category, ship day, dealers, units, receive
        #: days) of a DC's consignments, or of emergency lines (one dealer per line, no units or days);
        #: registered with the loads and trunks in the settlement phase, one posting for the day's freight.
        #: The book is the same as with a posting per event: nothing reads the shipments or the journal in
        #: between, the morning's receipts were billed before and the next morning's come after
        self.parts_departed: list[tuple[int, int, IntArray, IntArray, IntArray]] = []
        self.open_loads: dict[int, int] = {}
        self.consignments_due: dict[int, list[IntArray]] = {}

    def connect(self, vehicles: VehicleFlow) -> None:
        """Late wiring: the vehicle flow calls the hooks below and is read when its events are posted."""
        self.vehicles = vehicles

    def _flow(self) -> VehicleFlow:
        if self.vehicles is None:
            raise RuntimeError("SettlementFlow.connect() was not called")
        return self.vehicles

    def transfer_freight_inr(self, batch: TransferBatch) -> float:
        """What the carriers' cards charge for a batch of dealer-to-dealer transfers: the sum of its trucks'
        charges (what the transfers' shares of them add up to, without splitting them)."""
        if len(batch) == 0:
            return float(paise_to_inr(0))
        return float(paise_to_inr(int(truck_charges_paise(batch, self.book.rates)[1].sum())))

    def truck_freight_inr(self, carrier: int, ship_day: int, longest_km: float, volume: float) -> float:
        """``transfer_freight_inr`` of a batch that is one truck (its carrier's card on its ship day over its
        longest leg at its load share), from the truck's figures rather than its transfers' columns."""
        rates = self.book.rates
        card = rates.card_of_one(carrier, ship_day)
        load_share = min(1.0, volume / rates.capacity_per_load[card])
        return float(paise_to_inr(rates.load_charge_one_paise(card, longest_km, load_share)))

    # -- hooks (one-line calls from the engine) -----------------------------------------------------
    def consignments_departed(self, dealer: IntArray, units: IntArray, receive_day: IntArray) -> None:
        """Parts consignments leave their DC (one per dealer): their load share of a parts truck."""
        if not self.enabled or dealer.size == 0:
            return
        self.parts_departed.append(
            (int(FreightCategory.PARTS_REPLENISHMENT), int(self.env.now), dealer, units, receive_day)
        )

    def consignments_received(self, day: int) -> None:
        """The morning's consignments are received: proof of delivery, the carrier may bill them."""
        due = self.consignments_due.pop(day, [])
        if due:
            self.book.mark_billable(np.concatenate(due), day)

    def emergency_ordered(self, dealer: IntArray) -> None:
        """Emergency lines go out by express (charged per line, billed on dispatch) to each dealer."""
        if not self.enabled or dealer.size == 0:
            return
        nothing = np.zeros(0, dtype=np.int64)
        self.parts_departed.append(
            (int(FreightCategory.PARTS_EMERGENCY), int(self.env.now), dealer, nothing, nothing)
        )

    def load_departed(self, dealer: int, carrier: int, load: list[int]) -> None:
        if self.enabled:
            self.loads_departed.append((dealer, carrier, load[0], int(self.env.now)))

    def load_arrived(self, load: list[int]) -> None:
        if self.enabled:
            self.loads_arrived.append((load[0], int(self.env.now)))

    def trunk_departed(self, vehicle_ids: list[int], yard: int) -> None:
        if not self.enabled:
            return
        flow = self._flow()
        plants = [flow.plant_of(vehicle_id) for vehicle_id in vehicle_ids]
        day = int(self.env.now)
        for plant in sorted(set(plants)):
            self.trunks_departed.append((plant, yard, plants.count(plant), day))

    def vehicle_delivered(self, vehicle_id: int) -> None:
        if self.enabled:
            self.delivered.append((vehicle_id, int(self.env.now)))

    def transfers_arrived(self, batches: TransferBatch | Sequence[TransferBatch]) -> IntArray:
        """Entry point for dealer-to-dealer transfers (the rebalancing work): settle them on arrival.

        A day's arrivals go in as one list and are settled as one batch: the book settles each transfer
        once, in row order, and prices each truck on its own, so this posts exactly what one call per batch
        would, without a pass over the transfer register per batch."""
        if not self.enabled:
            return np.zeros(0, dtype=np.int64)
        batch = concatenate_batches(batches)
        if batch is None:
            return np.zeros(0, dtype=np.int64)
        return self.book.settle_transfers(batch, int(self.env.now))

    # -- the daily phase ----------------------------------------------------------------------------
    def settle_day(self, day: int) -> None:
        if not self.enabled:
            return
        book, streams = self.book, self.streams
        self.post_departures()
        arrived = [self.open_loads.pop(first) for first, _ in self.loads_arrived if first in self.open_loads]
        self.loads_arrived = []
        if arrived:
            book.mark_billable(np.array(arrived, dtype=np.int64), day)
        self._claims_for_deliveries(day)
        book.invoice_and_reconcile(day, streams.get("settlement:invoices"))
        book.resolve_disputes(day)
        book.pay_due(day)
        if (day + 1) % self.period_days == 0:
            book.close_cycle(day)

    def post_departures(self, vehicles: bool = True) -> None:
        """Price and post the buffered freight (also called at the end of a run): the parts consignments and
        emergency lines in the order they left, then the car-carrier loads and the trunk moves, each by ship
        day (``vehicles=False``: the parts freight only). One registration for all of them: the shipments,
        entries and ids are those of one registration per kind and day, in the same order, for a fraction
        of the calls."""
        batch = _FreightBatch()
        consignments: list[tuple[int, IntArray]] = []  # (first row in the batch, receive day of each)
        for category, day, dealer, units, receive_day in self.parts_departed:
            if category == FreightCategory.PARTS_EMERGENCY:  # express, charged per line, billed on dispatch
                dealers, lines = np.unique(dealer, return_counts=True)
                carrier = self.world.network.parts_carrier[dealers]
                expected = self.book.rates.express_charge_paise(carrier, day, lines)
                batch.add(category, carrier, dealers, day, expected, billable=True)
            else:  # a DC's consignments: their load share of a parts truck
                carrier = self.world.network.parts_carrier[dealer]
                rates = self.book.rates
                share = units / rates.capacity_of(carrier, day)
                expected = rates.load_charge_paise(carrier, day, self.dc_to_dealer_km[dealer], share)
                consignments.append((batch.rows, receive_day))
                batch.add(category, carrier, dealer, day, expected, due_day=receive_day)
        self.parts_departed = []
        loads: list[tuple[int, IntArray]] = []  # (first row in the batch, first vehicle of each load)
        if vehicles:
            loads = self._batch_vehicle_freight(batch)
        shipment = batch.register(self.book)
        for first_row, receive_day in consignments:
            ids = shipment[first_row : first_row + receive_day.size]
            for due in np.unique(receive_day).tolist():
                self.consignments_due.setdefault(due, []).append(ids[receive_day == due])
        for first_row, first_vehicle in loads:
            ids = shipment[first_row : first_row + first_vehicle.size]
            self.open_loads.update(zip(first_vehicle.tolist(), ids.tolist(), strict=True))

    def _batch_vehicle_freight(self, batch: _FreightBatch) -> list[tuple[int, IntArray]]:
        """The buffered car-carrier loads and trunk moves, priced, into the batch (each kind by ship day);
        returns where each day's loads start in the batch and their first vehicles."""
        rates = self.book.rates
        loads: list[tuple[int, IntArray]] = []
        if self.loads_departed:
            dealer, carrier, first, ship_day = np.array(self.loads_departed, dtype=np.int64).T
            self.loads_departed = []
            km = self._flow().carriers.yard_to_dealer_km[dealer]
            for day, on_day in _by_ship_day(ship_day):
                expected = rates.load_charge_paise(
                    carrier[on_day], day, km[on_day], np.ones(carrier[on_day].size)
                )
                loads.append((batch.rows, first[on_day]))
                batch.add(
                    int(FreightCategory.VEHICLE_DELIVERY),
                    carrier[on_day],
                    dealer[on_day],
                    day,
                    expected,
                    reference_id=first[on_day],
                )
        if self.trunks_departed:
            plant, yard, slots, ship_day = np.array(self.trunks_departed, dtype=np.int64).T
            self.trunks_departed = []
            flow = self._flow()
            carrier = np.full(plant.size, flow.trunk_carrier, dtype=np.int64)
            km = flow.plant_to_yard_km[plant, yard]
            for day, on_day in _by_ship_day(ship_day):
                expected = rates.slot_charge_paise(carrier[on_day], day, km[on_day], slots[on_day])
                batch.add(
                    int(FreightCategory.VEHICLE_TRUNK),
                    carrier[on_day],
                    np.full(carrier[on_day].size, -1),
                    day,
                    expected,
                    reference_id=yard[on_day],
                    billable=True,
                )
        return loads

    def _claims_for_deliveries(self, day: int) -> None:
        """Dealers claim every scheme a delivered vehicle qualifies for, plus a share of invalid claims."""
        if not self.delivered:
            return
        vehicle, delivered_day = np.array(self.delivered, dtype=np.int64).T
        self.delivered = []
        flow, book = self._flow(), self.book
        dealer = flow.vehicles.dealer[vehicle].astype(np.int64)
        spec = flow.vehicles.spec[vehicle].astype(np.int64)
        model = self.world.specs.model[spec]
        for handover in np.unique(delivered_day).tolist():
            same = delivered_day == handover
            book.record_deliveries(vehicle[same], dealer[same], model[same], handover)
        schemes = book.schemes
        # every (scheme, vehicle) pair the scheme covers, scheme by scheme and vehicles in handover order
        scheme_index = np.arange(len(schemes))[:, None]
        valid = schemes.covers_model(scheme_index, model[None, :]) & schemes.in_window(
            scheme_index, delivered_day[None, :]
        )
        scheme_of, claimed_row = np.nonzero(valid)
        dealers, vehicles, models = dealer[claimed_row], vehicle[claimed_row], model[claimed_row]
        draws = self.streams.get("settlement:claims").random((dealers.size, 2))
        kind = np.searchsorted(self.invalid_claim_shares, draws[:, 0], side="right")
        extra_dealer, extra_vehicle, extra_scheme, extra_demo = [], [], [], []
        for row in np.flatnonzero(kind < len(INVALID_CLAIM_KINDS)).tolist():
            name = INVALID_CLAIM_KINDS[int(kind[row])]
            claimed, scheme = int(vehicles[row]), int(scheme_of[row])
            if name in ("demo_registration", "no_end_customer_delivery"):
                in_yard = self._yard_vehicle(int(dealers[row]), float(draws[row, 1]))
                if in_yard < 0:
                    continue
                claimed = in_yard
            elif name == "outside_window":
                others = [
                    other
                    for other in range(len(schemes))
                    if other != scheme
                    and (schemes.model[other] in (ANY_MODEL, models[row]))
                    and not schemes.start_day[other] <= day < schemes.end_day[other]
                ]
                if not others:
                    continue
                scheme = others[int(draws[row, 1] * len(others))]
            extra_dealer.append(int(dealers[row]))
            extra_vehicle.append(claimed)
            extra_scheme.append(scheme)
            extra_demo.append(name == "demo_registration")
        book.file_claims(
            day,
            np.concatenate((dealers, np.array(extra_dealer, dtype=np.int64))),
            np.concatenate((vehicles, np.array(extra_vehicle, dtype=np.int64))),
            np.concatenate((scheme_of, np.array(extra_scheme, dtype=np.int64))),
            np.concatenate((np.zeros(dealers.size, dtype=bool), np.array(extra_demo, dtype=bool))),
        )

    def _yard_vehicle(self, dealer: int, draw: float) -> int:
        """A vehicle in the dealer's yard (not handed to any customer), or -1 when the yard is empty."""
        queues = [queue for _, queue in sorted(self._flow().dealer_yard[dealer].items()) if queue]
        if not queues:
            return -1
        return int(queues[int(draw * len(queues))][0])

    # -- results ------------------------------------------------------------------------------------
    def summary(self, warmup_days: int) -> dict[str, float]:
        """Settlement KPIs; every figure is a number, no NaN.

        Two windows, each stated here once. Freight figures (``settlement_shipments``, ``settlement_transfers``
        and every ``settlement_freight_*``) count the shipments that left on or after ``warmup_days``: the
        window of every engine KPI, so ``settlement_freight_inr`` (transfers excluded) equals
        ``freight_cost_inr - freight_transfer_inr`` to the paisa per shipment (a transfer enters the ledger
        when it arrives, so one still on the road at the horizon is in the engine's freight only). Everything
        else is the ledger as it stands at the end of the run, warm-up included (balances, invoices,
        disputes, cycles, claims): a ledger has no warm-up."""
        if not self.enabled:
            return {}
        self.post_departures()
        book = self.book
        journal, chart, shipments = book.journal, book.chart, book.shipments
        balances = journal.recompute_balances()
        measured = shipments["ship_day"] >= warmup_days
        category = np.where(measured, shipments["category"], -1)  # -1: left during the warm-up
        expected = shipments["expected_paise"]
        is_transfer = (category == FreightCategory.PARTS_TRANSFER) | (
            category == FreightCategory.VEHICLE_TRANSFER
        )
        network = measured & ~is_transfer

        def per(total_paise: int, count: int) -> float:
            return float(paise_to_inr(total_paise)) / count if count else 0.0

        disputes = book.disputes
        state = shipments["invoice_state"]
        cycles = book.cycles
        claims = book.claims
        outcome = claims["outcome"]
        rejected = outcome > ClaimOutcome.PAID
        summary: dict[str, float] = {
            "settlement_journal_entries": float(len(journal)),
            "settlement_journal_lines": float(len(journal.lines)),
            "settlement_unbalanced_entries": float(journal.unbalanced_entry_count()),
            "settlement_balance_sum_inr": float(paise_to_inr(int(balances.sum()))),
            "settlement_shipments": float(network.sum()),
            "settlement_freight_inr": float(paise_to_inr(int(expected[network].sum()))),
            "settlement_freight_per_shipment_inr": per(int(expected[network].sum()), int(network.sum())),
            "settlement_transfers": float(is_transfer.sum()),
            "settlement_freight_per_transfer_inr": per(
                int(expected[is_transfer].sum()), int(is_transfer.sum())
            ),
            "settlement_invoice_lines": float(book.invoice_lines),
            "settlement_invoice_lines_reconciled": float((state == InvoiceState.ACCEPTED).sum()),
            "settlement_invoice_variance_inr": float(
                paise_to_inr(int(balances[OemAccount.FREIGHT_VARIANCE]))
            ),
            "settlement_disputes_raised": float(len(disputes)),
            "settlement_disputes_resolved": float((disputes["resolved_day"] >= 0).sum()),
            "settlement_disputes_open": float((disputes["resolved_day"] < 0).sum()),
            "settlement_cycles": float(len(cycles)),
            "settlement_statements": float(len(book.statements)),
            "settlement_dealers_with_statement": float(np.unique(book.statements["dealer"]).size),
            "settlement_cycle_time_days": (
                float(cycles["cycle_time_day_sum"].sum() / cycles["cycle_time_lines"].sum())
                if cycles["cycle_time_lines"].sum()
                else 0.0
            ),
            "settlement_outstanding_dealers_inr": float(
                paise_to_inr(int(np.abs(balances[chart.dealer_accounts()]).sum()))
            ),
            "settlement_outstanding_carriers_inr": float(
                paise_to_inr(int(-balances[chart.carrier_accounts()].sum()))
            ),
            "settlement_incentive_claims": float(len(claims)),
            "settlement_incentive_claims_paid": float((outcome == ClaimOutcome.PAID).sum()),
            "settlement_incentive_paid_inr": float(
                paise_to_inr(int(claims["amount_paise"][outcome == ClaimOutcome.PAID].sum()))
            ),
            "settlement_incentive_claims_rejected": float(rejected.sum()),
            "settlement_incentive_leakage_prevented_inr": float(
                paise_to_inr(int(claims["amount_paise"][rejected].sum()))
            ),
        }
        for reason in DisputeReason:
            if reason is not DisputeReason.NONE:
                summary[f"settlement_disputes_{reason.name.lower()}"] = float(
                    (disputes["reason"] == reason).sum()
                )
        for name in REJECTION_NAMES:
            summary[f"settlement_incentive_rejected_{name}"] = float(
                (outcome == ClaimOutcome[name.upper()]).sum()
            )
        for index, name in enumerate(CATEGORY_NAMES):
            summary[f"settlement_freight_{name}_inr"] = float(
                paise_to_inr(int(expected[category == index].sum()))
            )
        return summary

    # -- snapshots ----------------------------------------------------------------------------------
    def state_arrays(self) -> dict[str, IntArray]:
        if self.parts_departed:  # empty between days (posted each evening); posted now, ahead of the loads
            self.post_departures(vehicles=False)
        arrays = self.book.arrays()
        for name in ("loads_departed", "loads_arrived", "trunks_departed", "delivered"):
            rows = getattr(self, name)
            width = 2 if name in ("loads_arrived", "delivered") else 4
            arrays[f"buffer_{name}"] = np.array(rows, dtype=np.int64).reshape(-1, width)
        return arrays

    def load_state_arrays(self, arrays: dict[str, IntArray]) -> None:
        """Restore, and rebuild the look-ups derived from the shipment register (loads on the road,
        consignments on their way)."""
        book = self.book
        book.load(arrays)
        for name in ("loads_departed", "loads_arrived", "trunks_departed", "delivered"):
            setattr(self, name, [tuple(row) for row in arrays[f"buffer_{name}"].astype(np.int64).tolist()])
        shipments = book.shipments
        awaiting = shipments["invoice_state"] == InvoiceState.AWAITING
        loads = np.flatnonzero(awaiting & (shipments["category"] == FreightCategory.VEHICLE_DELIVERY))
        self.open_loads = dict(zip(shipments["reference_id"][loads].tolist(), loads.tolist(), strict=True))
        consignments = np.flatnonzero(
            awaiting & (shipments["category"] == FreightCategory.PARTS_REPLENISHMENT)
        )
        due_day = shipments["due_day"][consignments]
        self.consignments_due = {
            int(day): [consignments[due_day == day]] for day in np.unique(due_day).tolist()
        }


def _by_ship_day(ship_day: IntArray) -> list[tuple[int, slice | npt.NDArray[np.bool_]]]:
    """The ship days of a buffer, earliest first, each with its rows: every row (a slice, no copies) on the
    usual evening when all left the same day, else a mask per day."""
    first_day = int(ship_day[0])
    if bool((ship_day == first_day).all()):
        return [(first_day, slice(None))]
    return [(day, ship_day == day) for day in np.unique(ship_day).tolist()]


_FREIGHT_COLUMNS = (
    "category",
    "carrier",
    "receiver",
    "ship_day",
    "expected",
    "reference_id",
    "billable",
    "due_day",
)


class _FreightBatch:
    """Shipments of several kinds and days gathered for one ``SettlementBook.register_shipments`` call."""

    def __init__(self) -> None:
        self.rows = 0
        self._columns: dict[str, list[npt.NDArray[np.generic]]] = {name: [] for name in _FREIGHT_COLUMNS}

    def add(
        self,
        category: int,
        carrier: IntArray,
        receiver: IntArray,
        ship_day: int,
        expected_paise: IntArray,
        reference_id: IntArray | int = -1,
        billable: bool = False,
        due_day: IntArray | int = -1,
    ) -> None:
        count = expected_paise.size
        columns = self._columns
        for name, value in (("category", category), ("ship_day", ship_day), ("billable", billable)):
            columns[name].append(np.full(count, value))
        for name, given in (("reference_id", reference_id), ("due_day", due_day)):
            columns[name].append(given if isinstance(given, np.ndarray) else np.full(count, given))
        columns["carrier"].append(carrier)
        columns["receiver"].append(receiver)
        columns["expected"].append(expected_paise)
        self.rows += count

    def register(self, book: SettlementBook) -> IntArray:
        """Register every gathered shipment in order; returns their ids (none gathered: an empty array)."""
        if self.rows == 0:
            return np.zeros(0, dtype=np.int64)
        column = {name: np.concatenate(parts) for name, parts in self._columns.items()}
        return book.register_shipments(
            column["category"].astype(np.int64), column["carrier"].astype(np.int64),
            column["receiver"].astype(np.int64), column["ship_day"].astype(np.int64),
            column["expected"].astype(np.int64), reference_id=column["reference_id"].astype(np.int64),
            billable=column["billable"].astype(bool), due_day=column["due_day"].astype(np.int64),
        )  # fmt: skip


def concatenate_batches(batches: TransferBatch | Sequence[TransferBatch]) -> TransferBatch | None:
    """One batch of the given ones' rows in order (the batch itself when only one); None when none."""
    if isinstance(batches, TransferBatch):
        return batches
    if not batches:
        return None
    if len(batches) == 1:
        return batches[0]
    return TransferBatch(
        **{
            name: np.concatenate([getattr(batch, name) for batch in batches])
            for name in TransferBatch.__dataclass_fields__
        }
    )
