"""Ground truth into a feed: what the real systems would report about a twin run, as it happens.

The twin is the world here. A ``FeedRecorder`` rides along a ``Simulation`` and turns what changes into the
messages each system would send:
- a dealer's DMS (and a DC's WMS) reports its parts position: a full export at onboarding (and, for dealers
  on weekly export, once a week), then the cells that changed since its last message, with their new
  levels, every ``sync_interval_minutes``; and every demand line it books, filled or not;
- the OEM's vehicle master reports every VIN whose record changed (ordered, built, allocated, dispatched,
  arrived, sold, delivered, traded), with the whole record and its revision; the dealer's DMS reports the
  steps that happen at the dealer (arrived at the dealer, sold, delivered, traded away);
- the DC reports each consignment it dispatches (lines, promised ETA); the carrier reports the pickup,
  a delay (new ETA) once the promise is broken, and the delivery; then invoices its freight.
Positions and demand lines are written packed (feed schema 2: base64 int32 columns, joined part numbers),
or as JSON lists with ``feed.schema_version=1``. Records come out in batches (``TruthEvent`` with the true
time); ``twin.live.faults`` numbers them per source, stamps them and delivers them late, twice, out of order
or broken, as configured.
"""

from __future__ import annotations

import binascii
import math
from collections.abc import Callable, Generator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from twin.domain.lead_time import usable_day
from twin.domain.vehicles import NOT_YET, SiteKind, VehicleRecord, VehicleStatus
from twin.engine.demand import PartsLines
from twin.engine.parts_flow import LineOutcome
from twin.engine.parts_logistics import Shipment
from twin.engine.simulation import Simulation
from twin.errors import ConfigError
from twin.live.codes import SUPPLIER_ID, FeedClock, MasterCodes
from twin.live.contract import PACKED_CODE_SEPARATOR, PACKED_INT_DTYPE
from twin.live.live_state import FEED_FIELD_NAMES, POSITION_FIELDS

_STATUS_NAME = {status: status.name.lower() for status in VehicleStatus}
_SITE_NAME = {kind: kind.name.lower() for kind in SiteKind}
#: which system reports a VIN's step: the OEM's vehicle master, or the dealer's DMS for steps at the dealer
_DEALER_STEPS = frozenset({"vehicle.arrived_dealer", "vehicle.sold", "vehicle.delivered", "vehicle.reserved"})
_INT32_MAX = int(np.iinfo(np.int32).max)


def packed_ints(values: npt.NDArray[Any]) -> str:
    """A packed integer column (schema_version 2): base64 of the values as little-endian int32."""
    if values.size and values.dtype.itemsize > PACKED_INT_DTYPE.itemsize and values.max() > _INT32_MAX:
        raise ValueError(f"a quantity of {int(values.max())} pieces does not fit a packed int32 column")
    raw = np.ascontiguousarray(values, dtype=PACKED_INT_DTYPE).tobytes()
    return binascii.b2a_base64(raw, newline=False).decode("ascii")


def _letters(flags: npt.NDArray[Any], no: str, yes: str) -> bytes:
    """One letter per line for a flag column (``no`` where false, ``yes`` where true)."""
    return np.where(flags.astype(bool), ord(yes), ord(no)).astype(np.uint8).tobytes()


@dataclass(frozen=True)
class TruthEvent:
    """A message before it is numbered and sent: the true time it happened, who reports it, what it says."""

    day: float
    source: str
    type: str
    payload: dict[str, Any]
    #: the dealer whose DMS sends it (None: the OEM, a DC or a carrier); faults act per dealer
    dealer: int | None = None


class DemandTap:
    """Sits in the parts logistics' stock-watch slot: hands each day's lines to the recorder, then to the
    control tower that was there (if any)."""

    def __init__(self, inner: Any, on_demand: Callable[[int, PartsLines, LineOutcome], None]) -> None:
        self.inner, self.on_demand = inner, on_demand

    def observe_demand(self, day: int, lines: PartsLines, outcome: LineOutcome) -> None:
        self.on_demand(day, lines, outcome)
        if self.inner is not None:
            self.inner.observe_demand(day, lines, outcome)

    def shipped(self, day: int, cells: npt.NDArray[np.int64]) -> None:
        if self.inner is not None:
            self.inner.shipped(day, cells)

    def received(self, cells: npt.NDArray[np.int64]) -> None:
        if self.inner is not None:
            self.inner.received(cells)


@dataclass
class _OpenConsignment:
    consignment_id: str
    shipment: Shipment
    location: int
    carrier: str | None
    promised_eta_day: float
    #: what the carrier bills by its rate card (None: a supplier's delivery, not billed to the network)
    freight_inr: float | None
    delayed: bool = False


class FeedRecorder:
    def __init__(
        self,
        simulation: Simulation,
        codes: MasterCodes,
        clock: FeedClock,
        sync_interval_minutes: float,
        weekly_export_dealers: frozenset[int] = frozenset(),
        export_weekday: int = 6,
        packed_lines: bool = True,
    ) -> None:
        self.simulation, self.codes, self.clock = simulation, codes, clock
        #: write positions and demand lines packed (schema_version 2) rather than as JSON lists
        self.packed_lines = packed_lines
        if packed_lines:
            for name, ids in (("part number", codes.part_numbers), ("dealer id", codes.dealer_ids)):
                joined = next((code for code in ids if PACKED_CODE_SEPARATOR in code), None)
                if joined is not None:
                    raise ConfigError(
                        "feed.schema_version",
                        2,
                        f"the {name} {joined!r} holds the packed separator "
                        f"{PACKED_CODE_SEPARATOR!r}: write schema_version 1 (lists)",
                    )
        self.sync_interval_days = sync_interval_minutes / (24 * 60)
        self.weekly_export_dealers = weekly_export_dealers
        self.export_weekday = export_weekday
        self.pending: list[TruthEvent] = []
        env = simulation.env
        #: vehicle id -> when its record last changed (only a feed run watches; the engine pays nothing)
        dirty: dict[int, float] = {}
        self._dirty = dirty

        def note_changes(vehicle_ids: npt.NDArray[np.int64]) -> None:
            now = env.now
            for vehicle_id in vehicle_ids.tolist():
                dirty[vehicle_id] = now

        simulation.vehicles.vehicles.watch = note_changes
        #: per VIN: revision and the record last reported
        self._reported: dict[str, tuple[int, tuple[Any, ...]]] = {}
        self._last_position = {name: getattr(simulation.parts.state, name).copy() for name in POSITION_FIELDS}
        logistics = simulation.logistics
        logistics.stock_watch = DemandTap(logistics.stock_watch, self._on_demand)
        self._consignments: dict[int, list[_OpenConsignment]] = {}
        self._consignment_serial = 0
        self._document_serial = 0
        self._onboarded = False

    # -- driving ---------------------------------------------------------------------------------------
    def start(self) -> None:
        """The onboarding load (full exports of every position and VIN) and the periodic sync process."""
        day = float(self.simulation.env.now)
        for location in range(self.codes.locations):
            self.pending.append(self._position_event(location, day, full=True))
        self._flush_vehicles(day, onboarding=True)
        self._onboarded = True
        self.simulation.env.process(self._sync_loop())

    def _sync_loop(self) -> Generator[Any, Any, None]:
        env = self.simulation.env
        # syncs fall half an interval off the engine's phase times, so none shares an instant with them
        yield env.timeout(self.sync_interval_days / 2)
        while True:
            self.sync()
            yield env.timeout(self.sync_interval_days)

    def take(self) -> list[TruthEvent]:
        """The messages recorded since the last call, in the order they happened."""
        events, self.pending = self.pending, []
        events.sort(key=lambda event: event.day)
        return events

    def sync(self) -> None:
        now = float(self.simulation.env.now)
        self._flush_positions(now)
        self._flush_vehicles(now)
        self._flush_consignments(now)
        if self.weekly_export_dealers and self._is_export_time(now):
            for dealer in sorted(self.weekly_export_dealers):
                self.pending.append(self._position_event(dealer, now, full=True))

    def resync(self, dealers: frozenset[int], now: float) -> None:
        """A DMS back from silence resends its whole parts position and the record of every car it has had."""
        for dealer in sorted(dealers):
            self.pending.append(self._position_event(dealer, now, full=True))
        table = self.simulation.vehicles.vehicles
        for vehicle_id in np.flatnonzero(np.isin(table.column("dealer"), list(dealers))).tolist():
            vehicle = table[vehicle_id]
            if vehicle.vin in self._reported:
                revision = self._reported[vehicle.vin][0]
                payload = self._vehicle_payload(vehicle, revision, destination_yard=False)
                source = f"DMS:{self.codes.dealer_ids[vehicle.dealer]}"
                self.pending.append(TruthEvent(now, source, "vehicle.updated", payload, vehicle.dealer))

    def _is_export_time(self, now: float) -> bool:
        """The weekly export runs in the last sync of the export weekday."""
        day = math.floor(now)
        next_sync = now + self.sync_interval_days
        return self.clock.date(day).weekday() == self.export_weekday and math.floor(next_sync) > day

    # -- parts positions -------------------------------------------------------------------------------
    def _position_event(self, location: int, day: float, full: bool) -> TruthEvent:
        state = self.simulation.parts.state
        levels = np.stack([getattr(state, name)[location] for name in POSITION_FIELDS], axis=1)
        skus = np.flatnonzero(levels.any(axis=1)) if full else np.arange(0)
        return self._position(location, day, skus, levels[skus], full)

    def _position(
        self, location: int, day: float, skus: npt.NDArray[np.int64], levels: npt.NDArray[Any], full: bool
    ) -> TruthEvent:
        part_numbers = self.codes.part_numbers
        lines: dict[str, Any]
        if self.packed_lines:
            lines = {"count": len(skus), "part_number": PACKED_CODE_SEPARATOR.join(
                [part_numbers[sku] for sku in skus.tolist()])}  # fmt: skip
            for index, name in enumerate(POSITION_FIELDS):
                lines[FEED_FIELD_NAMES.get(name, name)] = packed_ints(levels[:, index])
        else:
            columns = levels.T.tolist() if len(skus) else [[] for _ in POSITION_FIELDS]
            lines = {"part_number": [part_numbers[sku] for sku in skus.tolist()]}
            for name, values in zip(POSITION_FIELDS, columns, strict=True):
                lines[FEED_FIELD_NAMES.get(name, name)] = values
        kind = "parts.position_snapshot" if full else "parts.position_delta"
        form = "packed_lines" if self.packed_lines else "lines"
        payload = {"location_id": self.codes.location_ids[location], form: lines}
        dealer = location if location < self.codes.dealers else None
        return TruthEvent(day, self.codes.source_of_location(location), kind, payload, dealer)

    def _flush_positions(self, now: float) -> None:
        state = self.simulation.parts.state
        current = {name: getattr(state, name) for name in POSITION_FIELDS}
        changed = np.zeros(current["on_hand"].shape, dtype=bool)
        for name, values in current.items():
            changed |= values != self._last_position[name]
        locations, skus = np.nonzero(changed)
        if locations.size == 0:
            return
        levels = np.stack([current[name][locations, skus] for name in POSITION_FIELDS], axis=1)
        for name, values in current.items():
            self._last_position[name][locations, skus] = values[locations, skus]
        starts = np.flatnonzero(np.diff(locations, prepend=-1))
        ends = np.append(starts[1:], locations.size)
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            location = int(locations[start])
            if location in self.weekly_export_dealers:
                continue  # their DMS sends only the weekly export
            self.pending.append(self._position(location, now, skus[start:end], levels[start:end], full=False))

    # -- parts demand lines ----------------------------------------------------------------------------
    def _on_demand(self, day: int, lines: PartsLines, outcome: LineOutcome) -> None:
        if len(lines) == 0:
            return
        now = float(self.simulation.env.now)
        codes = self.codes
        business_date = self.clock.date(day).isoformat()
        dealer_of_line = lines.location
        starts = np.flatnonzero(np.diff(dealer_of_line, prepend=-1))
        ends = np.append(starts[1:], dealer_of_line.size)
        sku = lines.sku.tolist()
        if self.packed_lines:
            channels = _letters(lines.workshop, "C", "W")
            emergencies = _letters(outcome.emergency, "N", "Y")
            requested, filled, lost = lines.quantity, outcome.filled_units, outcome.lost_units
        else:
            quantity, filled_list = lines.quantity.tolist(), outcome.filled_units.tolist()
            lost_list, emergency = outcome.lost_units.tolist(), outcome.emergency.tolist()
        workshop = lines.workshop.tolist()
        part_numbers = codes.part_numbers
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            dealer = int(dealer_of_line[start])
            dealer_id = codes.dealer_ids[dealer]
            first = self._document_serial + 1
            self._document_serial += end - start
            documents = [
                f"{'RO' if flag else 'CO'}-{dealer_id}-{serial:08d}"
                for flag, serial in zip(workshop[start:end], range(first, first + end - start), strict=True)
            ]
            columns: dict[str, Any]
            if self.packed_lines:
                columns = {
                    "count": end - start,
                    "part_number": PACKED_CODE_SEPARATOR.join(
                        [part_numbers[index] for index in sku[start:end]]
                    ),
                    "channel": channels[start:end].decode("ascii"),
                    "document_number": PACKED_CODE_SEPARATOR.join(documents),
                    "quantity_requested": packed_ints(requested[start:end]),
                    "quantity_issued": packed_ints(filled[start:end]),
                    "quantity_lost": packed_ints(lost[start:end]),
                    "emergency_order": emergencies[start:end].decode("ascii"),
                }
            else:
                columns = {
                    "part_number": [part_numbers[index] for index in sku[start:end]],
                    "channel": ["workshop" if flag else "counter" for flag in workshop[start:end]],
                    "document_number": documents,
                    "quantity_requested": quantity[start:end],
                    "quantity_issued": filled_list[start:end],
                    "quantity_lost": lost_list[start:end],
                    "emergency_order": emergency[start:end],
                }
            form = "packed_lines" if self.packed_lines else "lines"
            payload = {"dealer_id": dealer_id, "business_date": business_date, form: columns}
            self.pending.append(TruthEvent(now, f"DMS:{dealer_id}", "parts.issue_lines", payload, dealer))

    # -- vehicles ----------------------------------------------------------------------------------------
    def _flush_vehicles(self, now: float, onboarding: bool = False) -> None:
        flow = self.simulation.vehicles
        table = flow.vehicles
        changed = (
            [(table[vehicle_id], now) for vehicle_id in range(len(table))]
            if onboarding
            else [(table[vehicle_id], day) for vehicle_id, day in self._dirty.items()]
        )
        self._dirty.clear()
        if not changed:
            return
        on_trunks = {
            vehicle_id for _, vehicle_ids, _ in flow.trunks_on_road.values() for vehicle_id in vehicle_ids
        }
        for vehicle, changed_day in changed:
            record = (
                vehicle.spec, vehicle.status, vehicle.site_kind, vehicle.site_index, vehicle.dealer,
                vehicle.customer_order, vehicle.ordered_day, vehicle.built_day, vehicle.shipped_day,
                vehicle.received_day, vehicle.delivered_day, vehicle.eta_day,
            )  # fmt: skip
            previous = self._reported.get(vehicle.vin)
            if previous is not None and previous[1] == record:
                continue
            revision = 1 if previous is None else previous[0] + 1
            self._reported[vehicle.vin] = (revision, record)
            kind = self._vehicle_event_type(vehicle, None if previous is None else previous[1], onboarding)
            destination_yard = vehicle.id in on_trunks
            payload = self._vehicle_payload(vehicle, revision, destination_yard)
            dealer = vehicle.dealer if vehicle.dealer >= 0 else None
            if kind in _DEALER_STEPS and dealer is not None:
                source = f"DMS:{self.codes.dealer_ids[dealer]}"
                kind = "vehicle.arrived" if kind == "vehicle.arrived_dealer" else kind
            else:
                source, dealer = "OEM", None
                kind = "vehicle.arrived" if kind == "vehicle.arrived_dealer" else kind
            self.pending.append(TruthEvent(changed_day, source, kind, payload, dealer))

    @staticmethod
    def _vehicle_event_type(
        vehicle: VehicleRecord, previous: tuple[Any, ...] | None, onboarding: bool
    ) -> str:
        status = vehicle.status
        if onboarding:
            return "vehicle.updated"
        if previous is None:
            return "vehicle.ordered" if status is VehicleStatus.ORDERED else "vehicle.built"
        old_status, old_dealer = previous[1], previous[4]
        if status is not old_status:
            if status is VehicleStatus.BUILT:
                return "vehicle.built"
            if status is VehicleStatus.IN_TRANSIT:
                moved_between_dealers = previous[2] is SiteKind.DEALER and vehicle.dealer != old_dealer
                return "vehicle.traded" if moved_between_dealers else "vehicle.dispatched"
            if status is VehicleStatus.IN_YARD:
                return "vehicle.arrived_dealer" if vehicle.site_kind is SiteKind.DEALER else "vehicle.arrived"
            if status is VehicleStatus.RESERVED:
                return "vehicle.sold"
            if status is VehicleStatus.DELIVERED:
                return "vehicle.delivered"
        if vehicle.dealer != old_dealer:
            return "vehicle.allocated"
        if vehicle.customer_order and not previous[5]:
            return "vehicle.reserved"
        return "vehicle.updated"

    def _vehicle_payload(
        self, vehicle: VehicleRecord, revision: int, destination_yard: bool
    ) -> dict[str, Any]:
        codes, iso = self.codes, self.clock.iso
        kind = SiteKind(vehicle.site_kind)
        if kind is SiteKind.CUSTOMER or vehicle.site_index < 0:
            location_id = None
        elif kind is SiteKind.ROAD:
            destination = SiteKind.STOCKYARD if destination_yard else SiteKind.DEALER
            location_id = codes.site_ids[destination][vehicle.site_index]
        else:
            location_id = codes.site_ids[kind][vehicle.site_index]

        def moment(day: float) -> str | None:
            return None if day == NOT_YET else iso(day)

        return {
            "vin": vehicle.vin,
            "vin_revision": revision,
            "spec_code": codes.spec_codes[vehicle.spec],
            "status": _STATUS_NAME[VehicleStatus(vehicle.status)],
            "location_type": _SITE_NAME[kind],
            "location_id": location_id,
            "dealer_id": codes.dealer_ids[vehicle.dealer] if vehicle.dealer >= 0 else None,
            "customer_order": bool(vehicle.customer_order),
            "ordered_at": moment(vehicle.ordered_day),
            "built_at": moment(vehicle.built_day),
            "shipped_at": moment(vehicle.shipped_day),
            "received_at": moment(vehicle.received_day),
            "delivered_at": moment(vehicle.delivered_day),
            "eta": moment(vehicle.eta_day),
        }

    # -- consignments and carriers ---------------------------------------------------------------------
    def _flush_consignments(self, now: float) -> None:
        logistics = self.simulation.logistics
        live = {id(shipment): shipment for shipments in logistics.inbound.values() for shipment in shipments}
        for key in [key for key in self._consignments if key not in live]:
            for consignment in self._consignments.pop(key):
                self._tracking(consignment, now, "delivered", None)
                self._invoice(consignment, now)
        for key, shipment in live.items():
            if key not in self._consignments:
                self._consignments[key] = self._dispatch(shipment, now)
        for consignments in self._consignments.values():
            for consignment in consignments:
                actual = float(consignment.shipment.receive_day)
                if not consignment.delayed and now > consignment.promised_eta_day and actual > now:
                    consignment.delayed = True
                    self._tracking(consignment, now, "delayed", actual)

    def _dispatch(self, shipment: Shipment, now: float) -> list[_OpenConsignment]:
        codes, network = self.codes, self.simulation.world.network
        opened = []
        locations = shipment.location
        for location in np.unique(locations).tolist():
            members = locations == location
            self._consignment_serial += 1
            to_dealer = location < codes.dealers
            freight: float | None = None
            if to_dealer:
                dc = int(network.dealers.parts_dc[location])
                ship_from = codes.dc_ids[dc]
                lane = int(network.parts_carrier[location])
                carrier: str | None = codes.carrier_ids[lane]
                promised = float(usable_day(now, float(self.simulation.dealer_lead_time_days[location])))
                freight = self._freight_inr(lane, location, int(shipment.quantity[members].sum()))
            else:
                ship_from, carrier, promised = SUPPLIER_ID, None, float(shipment.receive_day)
            dc_source = ship_from if to_dealer else codes.location_ids[location]
            consignment = _OpenConsignment(
                f"CN-{self._consignment_serial:09d}", shipment, location, carrier, promised, freight
            )
            payload = {
                "consignment_id": consignment.consignment_id,
                "ship_from_id": ship_from,
                "ship_to_id": codes.location_ids[location],
                "carrier_id": carrier,
                "dispatched_at": self.clock.iso(now),
                "eta": self.clock.iso(promised),
                "lines": {
                    "part_number": [codes.part_numbers[sku] for sku in shipment.sku[members].tolist()],
                    "quantity": shipment.quantity[members].tolist(),
                },
            }
            self.pending.append(TruthEvent(now, f"DC:{dc_source}", "dc.consignment_created", payload))
            if carrier is not None:
                self._tracking(consignment, now, "picked_up", promised)
            opened.append(consignment)
        return opened

    def _freight_inr(self, lane: int, dealer: int, units: int) -> float:
        """The lane carrier's rate card: its minimum charge, or its rate per km for the load share carried."""
        carriers = self.simulation.world.network.carriers
        distance_km = float(self.simulation.dc_to_dealer_km[dealer])
        share = units / float(carriers.capacity_per_load[lane])
        return max(
            float(carriers.minimum_charge_inr[lane]),
            float(carriers.rate_per_km_inr[lane]) * distance_km * share,
        )

    def _invoice(self, consignment: _OpenConsignment, now: float) -> None:
        if consignment.carrier is None or consignment.freight_inr is None:
            return
        amount = Decimal(str(consignment.freight_inr)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        payload = {
            "invoice_number": f"INV-{consignment.consignment_id}",
            "carrier_id": consignment.carrier,
            "consignment_id": consignment.consignment_id,
            "invoice_date": self.clock.date(math.floor(now)).isoformat(),
            "amount_inr": str(amount),
        }
        self.pending.append(TruthEvent(now, f"CARRIER:{consignment.carrier}", "carrier.invoice", payload))

    def _tracking(
        self, consignment: _OpenConsignment, now: float, status: str, eta_day: float | None
    ) -> None:
        """The carrier's status message; a supplier's delivery to a DC is confirmed by the DC itself."""
        if consignment.carrier is None and status != "delivered":
            return
        source = (
            f"CARRIER:{consignment.carrier}"
            if consignment.carrier is not None
            else f"DC:{self.codes.location_ids[consignment.location]}"
        )
        payload = {
            "consignment_id": consignment.consignment_id,
            "status": status,
            "eta": None if eta_day is None else self.clock.iso(eta_day),
        }
        self.pending.append(TruthEvent(now, source, "carrier.tracking", payload))
