"""The read model: one network state decoded once into per-dealer tables, for Clara and the web views.

A ``NetworkState`` is written for the engine (queues, row tables of ids, a double-entry journal in paise).
Dealers and the OEM ask in their own words: where are my cars, what is in my yard, which parts are coming,
what do I owe. ``NetworkView`` decodes each section once, network-wide and vectorised, sorts every table by
dealer and keeps the offsets, so a dealer's question is a slice, never a scan of 40k VINs or 800k parts
cells. Tables are built on first use (a Clara batch about allocations never decodes the ledger).

Sections the state may lack (the control tower's alerts, settlement, transfers, network orders,
campaigns) give empty tables; ``has(section)`` tells a caller the data is missing rather than zero.
Pure: numpy and pandas over the state and the world; no SimPy, so a live service can hold one.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from twin.domain.parts import PART_CLASS_NAMES
from twin.domain.state import NetworkState
from twin.domain.vehicles import NOT_YET, SiteKind, VehicleStatus
from twin.domain.world import World
from twin.engine.kpis import DAILY_COLUMNS
from twin.policies.alerts import SEVERITIES
from twin.settlement.accounts import OemAccount
from twin.settlement.book import STATEMENT_GROUPS
from twin.settlement.incentives import ClaimOutcome
from twin.settlement.journal import EntryKind
from twin.settlement.payers import FreightCategory
from twin.views.errors import UnknownDealerError, ViewError
from twin.views.records import DealerSummary, Statement, VehicleRecord
from twin.views.settings import RunSettings

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: a car's step on its way to its dealer (the same words as ``twin.engine.allocation_status``)
STEP_IN_BUILD = "in build"
STEP_ON_TRUNK = "built, on its way to the stockyard"
STEP_AT_STOCKYARD = "allocated, waiting at the stockyard for its load"
STEP_AT_SENDING_DEALER = "at the sending dealer, waiting for its truck"
STEP_SHIPPED = "shipped to the dealer"
ALLOCATION_STEPS = (STEP_IN_BUILD, STEP_ON_TRUNK, STEP_AT_STOCKYARD, STEP_AT_SENDING_DEALER, STEP_SHIPPED)

#: why an incentive claim was not paid, in a dealer's words
CLAIM_REASONS = {
    ClaimOutcome.PAID: "",
    ClaimOutcome.PENDING: "awaiting verification",
    ClaimOutcome.DUPLICATE_CLAIM: "already paid under this scheme (duplicate claim)",
    ClaimOutcome.DEMO_REGISTRATION: "registered to the dealer itself (a demo car), not an end customer",
    ClaimOutcome.NO_END_CUSTOMER_DELIVERY: "no end-customer delivery is recorded for this VIN",
    ClaimOutcome.WRONG_DEALER: "the car was delivered by another dealer",
    ClaimOutcome.MODEL_NOT_IN_SCHEME: "the model is not covered by the scheme",
    ClaimOutcome.OUTSIDE_WINDOW: "delivered outside the scheme's dates",
}
#: optional sections and what each holds (``has``)
OPTIONAL_SECTIONS = ("tower", "settlement", "transfers", "orders", "campaigns", "oem_export")
#: journal entry kinds as a statement line names them
ENTRY_KIND_NAMES = {
    EntryKind.FREIGHT: "freight",
    EntryKind.INVOICE_ACCEPTED: "carrier invoice",
    EntryKind.DISPUTE_RESOLVED: "dispute resolved",
    EntryKind.TRANSFER: "dealer transfer",
    EntryKind.DEALER_PAYMENT: "payment",
    EntryKind.CARRIER_PAYMENT: "carrier payment",
    EntryKind.INCENTIVE: "incentive",
    EntryKind.REVERSAL: "reversal",
}
_GENERIC_NAME_WORDS = frozenset(
    {"motors", "motor", "auto", "autos", "automobiles", "cars", "car", "dealers", "wheels", "pvt", "ltd"}
)
_AGED_DAYS = (60, 90)


class _ByDealer:
    """A network-wide table sorted by dealer, with the row offsets of each dealer's block."""

    def __init__(self, frame: pd.DataFrame, dealer: npt.ArrayLike, dealers: int) -> None:
        dealer_index = np.asarray(dealer, dtype=np.int64)
        order = np.argsort(dealer_index, kind="stable")
        self.frame = frame.iloc[order].reset_index(drop=True)
        self.dealer = dealer_index[order]
        counts = np.bincount(dealer_index, minlength=dealers) if dealer_index.size else np.zeros(dealers, int)
        self.offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        self.columns = {str(name): self.frame[name].to_numpy() for name in self.frame.columns}

    def arrays(self, dealer: int) -> dict[str, npt.NDArray[Any]]:
        start, stop = int(self.offsets[dealer]), int(self.offsets[dealer + 1])
        return {name: column[start:stop] for name, column in self.columns.items()}

    def of(self, dealer: int) -> pd.DataFrame:
        start, stop = int(self.offsets[dealer]), int(self.offsets[dealer + 1])
        return self.frame.iloc[start:stop].reset_index(drop=True)

    def count(self, dealer: int) -> int:
        return int(self.offsets[dealer + 1] - self.offsets[dealer])


class NetworkView:
    """Read-only views of one ``NetworkState`` (a snapshot, a run's final state, or shadow mode's live state).

    Every per-dealer method takes a dealer id (``UnknownDealerError`` names one not in the network) and
    returns only that dealer's rows. Built with ``from_state``; ``twin.views.load_view`` finds the state."""

    def __init__(self, state: NetworkState, world: World, source: str = "") -> None:
        self.state = state
        self.world = world
        self.source = source or str(state.provenance.get("written_by", "state"))
        self.settings = RunSettings(state.run)
        self.day = int(state.day)
        self.start_date = self.settings.start_date
        self.as_of = self.start_date + dt.timedelta(days=self.day)
        network = world.network
        self.dealer_ids: tuple[str, ...] = tuple(str(name) for name in network.dealers.dealer_id)
        self._dealer_lookup = {name: index for index, name in enumerate(self.dealer_ids)}
        self.dealers = len(self.dealer_ids)
        self.skus = len(world.parts)
        if state.dimensions.get("dealers") != self.dealers or state.dimensions.get("skus") != self.skus:
            raise ViewError(
                "world",
                f"{self.dealers} dealers x {self.skus} SKUs",
                f"the state has {state.dimensions.get('dealers')} dealers x {state.dimensions.get('skus')} "
                "SKUs: it was written on another network",
            )
        self._start = np.datetime64(self.start_date.isoformat(), "D")

    @classmethod
    def from_state(cls, state: NetworkState, world: World, source: str = "") -> NetworkView:
        return cls(state, world, source)

    # -- identity ---------------------------------------------------------------------------------------
    def has(self, section: str) -> bool:
        """Whether the state carries ``section`` (the optional ones exist only when their feature ran)."""
        return self.state.has_section(section)

    def dealer_index(self, dealer_id: str) -> int:
        index = self._dealer_lookup.get(str(dealer_id))
        if index is None:
            raise UnknownDealerError(
                "dealer_id",
                dealer_id,
                f"is not a dealer of this network ({self.dealers} dealers, e.g. "
                f"{', '.join(self.dealer_ids[:3])})",
            )
        return index

    def dealer(self, dealer_id: str) -> DealerSummary:
        index = self.dealer_index(dealer_id)
        network = self.world.network
        dealers = network.dealers
        dc, yard = int(dealers.parts_dc[index]), int(dealers.stockyard[index])
        name = str(dealers.name[index])
        return DealerSummary(
            dealer_id=self.dealer_ids[index],
            name=name,
            region=str(dealers.region[index]),
            city=_city_of(name),
            pincode=str(dealers.pincode[index]),
            latitude=float(dealers.latitude[index]),
            longitude=float(dealers.longitude[index]),
            parts_dc_id=str(network.parts_dcs.site_id[dc]),
            parts_dc_name=str(network.parts_dcs.name[dc]),
            stockyard_id=str(network.stockyards.site_id[yard]),
            stockyard_name=str(network.stockyards.name[yard]),
            parts_carrier_id=str(network.carriers.carrier_id[network.parts_carrier[index]]),
            vehicle_carrier_id=str(network.carriers.carrier_id[network.vehicle_carrier[index]]),
            capacity_vehicles=int(dealers.capacity_vehicles[index]),
        )

    #: the per-dealer tables ``rows`` serves, by the name of the method that returns them as a DataFrame
    TABLES = ("allocations", "yard", "parts", "arrivals", "alerts", "transfers", "claims")

    def rows(self, table: str, dealer_id: str) -> dict[str, npt.NDArray[Any]]:
        """The dealer's rows of ``table`` (one of ``TABLES``) as numpy columns: the same rows and columns as
        the DataFrame method, without building a DataFrame (the fast path of Clara's batches)."""
        if table not in self.TABLES:
            raise ViewError("table", table, f"must be one of {list(self.TABLES)}")
        index = self.dealer_index(dealer_id)
        block: _ByDealer = getattr(self, f"_{table}_table")
        return block.arrays(index)

    # -- dates ------------------------------------------------------------------------------------------
    def dates(self, days: npt.ArrayLike) -> npt.NDArray[Any]:
        """Calendar dates (``datetime.date``) of run days (the day a fractional time falls in); None where
        the day is unknown (negative markers, inf, NaN)."""
        values = np.atleast_1d(np.asarray(days, dtype=np.float64))
        known = np.isfinite(values) & (values > -1e6)
        whole = np.where(known, np.floor(values), 0).astype(np.int64)
        converted = (self._start + whole.astype("timedelta64[D]")).astype(object)
        converted[~known] = None
        return converted

    def date_of(self, day: float) -> dt.date | None:
        value = self.dates([day])[0]
        return value if isinstance(value, dt.date) else None

    # -- vehicles ---------------------------------------------------------------------------------------
    @cached_property
    def _vehicle_columns(self) -> dict[str, npt.NDArray[Any]]:
        table = self.state.vehicles
        columns = {name: table[name].to_numpy() for name in table.columns}
        spec = columns["spec"].astype(np.int64)
        specs = self.world.specs
        columns["spec_id"] = np.asarray(specs.spec_id)[spec]
        columns["model"] = np.asarray(specs.model_names, dtype=object)[specs.model[spec]]
        columns["variant"] = np.asarray(specs.variant_names, dtype=object)[specs.variant[spec]]
        columns["colour"] = np.asarray(specs.colour_names, dtype=object)[specs.colour[spec]]
        return columns

    @cached_property
    def _vin_rows(self) -> pd.Index:
        return pd.Index(self.state.vehicles["vin"].astype(str))

    @cached_property
    def _on_trunk(self) -> npt.NDArray[np.bool_]:
        trunks = np.asarray(self.state.arrays["vehicles:trunks_on_road"])
        flags = np.zeros(len(self.state.vehicles), dtype=bool)
        if trunks.size:
            flags[trunks[:, 2].astype(np.int64)] = True
        return flags

    @cached_property
    def _onward_days(self) -> FloatArray:
        """Days from a dealer's stockyard to the dealer: dispatch delay plus the lane at its carrier's speed."""
        network = self.world.network
        speed = network.carriers.speed_km_per_day[network.vehicle_carrier]
        result: FloatArray = network.yard_to_dealer_km() / speed + self.settings.operations(
            "dc_dispatch_delay_days"
        )
        return result

    @cached_property
    def _allocations_table(self) -> _ByDealer:
        columns = self._vehicle_columns
        status, site = columns["status"].astype(np.int64), columns["site_kind"].astype(np.int64)
        site_index, dealer = columns["site_index"].astype(np.int64), columns["dealer"].astype(np.int64)
        received = (status == VehicleStatus.IN_YARD) & (site == SiteKind.DEALER) & (site_index == dealer)
        sold = (status == VehicleStatus.RESERVED) | (status == VehicleStatus.DELIVERED)
        rows = np.flatnonzero((dealer >= 0) & ~sold & ~received)
        status, site, site_index, dealer = status[rows], site[rows], site_index[rows], dealer[rows]
        eta_day = columns["eta_day"][rows].astype(np.float64)
        onward = self._onward_days[dealer]
        now = float(self.day)
        in_build = status == VehicleStatus.ORDERED
        on_trunk = ~in_build & (self._on_trunk[rows] | (status == VehicleStatus.BUILT))
        at_yard = ~in_build & ~on_trunk & (status == VehicleStatus.IN_YARD) & (site == SiteKind.STOCKYARD)
        at_sender = ~in_build & ~on_trunk & ~at_yard & (status == VehicleStatus.IN_YARD)
        step_index = np.select([in_build, on_trunk, at_yard, at_sender], [0, 1, 2, 3], default=4)
        eta = np.select(
            [in_build, on_trunk, at_yard | at_sender],
            [
                eta_day + self.settings.operations("plant_to_stockyard_days") + onward,
                np.maximum(eta_day, now) + onward,
                now + onward,
            ],
            default=eta_day,
        )
        network = self.world.network
        specs = self.world.specs
        plant_names = np.asarray(network.plants.name, dtype=object)[
            specs.model_plant[specs.model[columns["spec"][rows].astype(np.int64)]]
        ]
        yard_names = np.asarray(network.stockyards.name, dtype=object)
        dealer_names = np.asarray(self.dealer_ids, dtype=object)
        safe_site = np.maximum(site_index, 0)
        place = np.select(
            [in_build, on_trunk & (site == SiteKind.PLANT), on_trunk, at_yard, at_sender],
            [
                plant_names + " plant",
                plant_names + " plant",
                "on the trunk to stockyard " + yard_names[np.minimum(safe_site, len(yard_names) - 1)],
                "stockyard " + yard_names[np.minimum(safe_site, len(yard_names) - 1)],
                "dealer " + dealer_names[np.minimum(safe_site, len(dealer_names) - 1)],
            ],
            default="on the road to the dealer",
        )
        waiting = self._dispatch_since()
        frame = pd.DataFrame(
            {
                "vin": columns["vin"][rows].astype(str),
                "spec_id": columns["spec_id"][rows],
                "model": columns["model"][rows],
                "variant": columns["variant"][rows],
                "colour": columns["colour"][rows],
                "customer_order": columns["customer_order"][rows].astype(bool),
                "step": np.asarray(ALLOCATION_STEPS, dtype=object)[step_index],
                "place": place,
                "eta_day": np.round(eta.astype(np.float64), 2),
                "due_date": self.dates(eta),
                "built_date": self.dates(
                    np.where(columns["built_day"][rows] != NOT_YET, columns["built_day"][rows], np.nan)
                ),
                "waiting_since_date": self.dates(waiting[rows]),
            }
        )
        frame = frame.assign(_dealer=dealer).sort_values(["_dealer", "eta_day", "vin"], kind="stable")
        return _ByDealer(frame.drop(columns="_dealer"), frame["_dealer"].to_numpy(), self.dealers)

    def _dispatch_since(self) -> FloatArray:
        """Per vehicle, since when it waits at its stockyard for a car carrier (NaN: not waiting)."""
        since = np.full(len(self.state.vehicles), np.nan)
        queue = np.asarray(self.state.arrays["carriers:dispatch_queue"])
        if queue.size:
            since[queue[:, 1].astype(np.int64)] = queue[:, 2]
        return since

    def allocations(self, dealer_id: str) -> pd.DataFrame:
        """Cars allocated to the dealer and not yet received (stock allocations, its customers' factory
        orders, cars traded or moved to it): vin, spec_id, model, variant, colour, customer_order, step,
        place, eta_day, due_date, built_date, waiting_since_date (at the stockyard), by due date."""
        return self._allocations_table.of(self.dealer_index(dealer_id))

    @cached_property
    def _yard_table(self) -> _ByDealer:
        columns = self._vehicle_columns
        status, site = columns["status"].astype(np.int64), columns["site_kind"].astype(np.int64)
        site_index = columns["site_index"].astype(np.int64)
        dealer = columns["dealer"].astype(np.int64)
        in_yard = (status == VehicleStatus.IN_YARD) & (site == SiteKind.DEALER) & (site_index == dealer)
        reserved = (status == VehicleStatus.RESERVED) & (site == SiteKind.DEALER)
        rows = np.flatnonzero(in_yard | reserved)
        spec = columns["spec"][rows].astype(np.int64)
        received = columns["received_day"][rows].astype(np.float64)
        specs = self.world.specs
        frame = pd.DataFrame(
            {
                "vin": columns["vin"][rows].astype(str),
                "spec_id": columns["spec_id"][rows],
                "model": columns["model"][rows],
                "variant": columns["variant"][rows],
                "colour": columns["colour"][rows],
                "options": np.asarray(specs.options, dtype=object)[spec],
                "price_inr": specs.price_inr[spec],
                "received_date": self.dates(received),
                "age_days": np.round(self.day - received, 1),
                "reserved": reserved[rows],
            }
        )
        owner = site_index[rows]
        frame = frame.assign(_dealer=owner).sort_values(["_dealer", "age_days"], ascending=[True, False])
        return _ByDealer(frame.drop(columns="_dealer"), frame["_dealer"].to_numpy(), self.dealers)

    def yard(self, dealer_id: str) -> pd.DataFrame:
        """Cars in the dealer's yard, oldest first: vin, spec_id, model, variant, colour, options, price_inr,
        received_date, age_days (since it reached a dealer), reserved (sold, awaiting handover)."""
        return self._yard_table.of(self.dealer_index(dealer_id))

    def vehicle(self, vin: str) -> VehicleRecord | None:
        """Any VIN of the network (None when the state has no such VIN): whose, where, when due."""
        try:
            row = self._vin_rows.get_loc(str(vin).strip().upper())
        except KeyError:
            return None
        if not isinstance(row, int):
            return None
        columns = self._vehicle_columns
        status = VehicleStatus(int(columns["status"][row]))
        site = SiteKind(int(columns["site_kind"][row]))
        site_index, dealer = int(columns["site_index"][row]), int(columns["dealer"][row])
        step, due = None, None
        if dealer >= 0:
            allocation = self._allocations_table
            first = int(allocation.offsets[dealer])
            vins = allocation.columns["vin"][first : int(allocation.offsets[dealer + 1])]
            hit = np.flatnonzero(vins == str(columns["vin"][row]))
            if hit.size:
                step = str(allocation.columns["step"][first + hit[0]])
                due = allocation.columns["due_date"][first + hit[0]]
        return VehicleRecord(
            vin=str(columns["vin"][row]),
            vehicle_id=int(row),
            dealer_id=self.dealer_ids[dealer] if dealer >= 0 else None,
            spec_id=str(columns["spec_id"][row]),
            model=str(columns["model"][row]),
            variant=str(columns["variant"][row]),
            colour=str(columns["colour"][row]),
            status=status.name.lower(),
            place=self._place(status, site, site_index, row),
            customer_order=bool(columns["customer_order"][row]),
            allocation_step=step,
            due_date=due,
            received_date=self.date_of(float(columns["received_day"][row]))
            if columns["received_day"][row] != NOT_YET
            else None,
            delivered_date=self.date_of(float(columns["delivered_day"][row]))
            if columns["delivered_day"][row] != NOT_YET
            else None,
        )

    def _place(self, status: VehicleStatus, site: SiteKind, site_index: int, row: int) -> str:
        network = self.world.network
        if status is VehicleStatus.DELIVERED or site is SiteKind.CUSTOMER:
            return "delivered to the customer"
        if site is SiteKind.PLANT:
            return f"{network.plants.name[site_index]} plant"
        if site is SiteKind.STOCKYARD:
            return f"stockyard {network.stockyards.name[site_index]}"
        if site is SiteKind.DEALER:
            return f"yard of dealer {self.dealer_ids[site_index]}"
        if self._on_trunk[row]:
            return f"on the trunk to stockyard {network.stockyards.name[site_index]}"
        return f"on the road to dealer {self.dealer_ids[site_index]}"

    # -- parts ------------------------------------------------------------------------------------------
    @cached_property
    def part_descriptions(self) -> npt.NDArray[Any]:
        """Per SKU, the catalog description (the part class when the catalog has none)."""
        parts = self.world.parts
        described = getattr(parts, "description", None)
        if described is not None and len(described) == self.skus:
            return np.asarray([str(text) for text in described], dtype=object)
        classes = np.asarray([name.replace("_", " ") for name in PART_CLASS_NAMES], dtype=object)
        return classes[parts.part_class.astype(np.int64)]

    @cached_property
    def _sku_ids(self) -> npt.NDArray[Any]:
        return np.asarray(self.world.parts.sku_id, dtype=object)

    @cached_property
    def _sku_lookup(self) -> dict[str, int]:
        return {str(sku): index for index, sku in enumerate(self.world.parts.sku_id)}

    def sku_index(self, sku_id: str) -> int:
        index = self._sku_lookup.get(str(sku_id))
        if index is None:
            raise ViewError("sku_id", sku_id, "is not a part number of this network's catalog")
        return index

    @cached_property
    def _lower_descriptions(self) -> npt.NDArray[np.str_]:
        return np.char.lower(np.asarray(self.part_descriptions, dtype=str))

    def skus_of_dealer(self, dealer_id: str) -> npt.NDArray[np.bool_]:
        """Per SKU, whether the dealer holds, awaits or owes any of it (its rows in ``parts``)."""
        index = self.dealer_index(dealer_id)
        held = np.zeros(self.skus, dtype=bool)
        block = self._parts_table
        start, stop = int(block.offsets[index]), int(block.offsets[index + 1])
        held[self._parts_sku[start:stop]] = True
        return held

    def skus_described_by(
        self, words: tuple[str, ...], among: npt.NDArray[np.bool_] | None = None
    ) -> list[str]:
        """Part numbers whose description holds every word (a plural's "s" dropped), optionally only among a
        mask of SKUs: "brake pad" finds the brake pads."""
        matched = self._description_match(words)
        if among is not None:
            matched = matched & among
        return [str(sku) for sku in self._sku_ids[matched]]

    def _description_match(self, words: tuple[str, ...]) -> npt.NDArray[np.bool_]:
        cache = self.__dict__.setdefault("_description_cache", {})
        matched = cache.get(words)
        if matched is None:
            matched = np.ones(self.skus, dtype=bool)
            for word in words:
                stem = word[:-1] if len(word) > 3 and word.endswith("s") else word
                matched &= np.char.find(self._lower_descriptions, stem) >= 0
            if len(cache) < 10_000:
                cache[words] = matched
        return matched

    def _positions(self, name: str) -> npt.NDArray[np.int64]:
        return np.asarray(self.state.arrays[f"parts:{name}"])[: self.dealers].astype(np.int64)

    @cached_property
    def _parts_table(self) -> _ByDealer:
        names = ("on_hand", "reserved", "workshop_wip", "in_transit", "backorder")
        positions = {name: self._positions(name) for name in names}
        any_position = np.zeros((self.dealers, self.skus), dtype=bool)
        for values in positions.values():
            any_position |= values != 0
        dealer, sku = np.nonzero(any_position)
        eta = np.asarray(self.state.arrays["logistics:inbound_eta_day"], dtype=np.float64).reshape(
            self.dealers, self.skus
        )[dealer, sku]
        on_hand, reserved = positions["on_hand"][dealer, sku], positions["reserved"][dealer, sku]
        frame = pd.DataFrame(
            {
                "sku_id": self._sku_ids[sku],
                "description": self.part_descriptions[sku],
                "part_class": np.asarray(PART_CLASS_NAMES, dtype=object)[
                    self.world.parts.part_class[sku].astype(np.int64)
                ],
                "on_hand": on_hand,
                "reserved": reserved,
                "available": on_hand - reserved,
                "workshop_wip": positions["workshop_wip"][dealer, sku],
                "in_transit": positions["in_transit"][dealer, sku],
                "backorder": positions["backorder"][dealer, sku],
                "inbound_eta_date": self.dates(eta),
                "unit_cost_inr": self.world.parts.unit_cost_inr[sku],
            }
        )
        self._parts_sku = sku
        return _ByDealer(frame, dealer, self.dealers)

    def parts(self, dealer_id: str) -> pd.DataFrame:
        """The dealer's SKUs with any position: sku_id, description, part_class, on_hand, reserved (for
        counter orders awaiting pickup), available (= on_hand - reserved), workshop_wip, in_transit,
        backorder, inbound_eta_date (the carrier's promise for the earliest consignment), unit_cost_inr."""
        return self._parts_table.of(self.dealer_index(dealer_id))

    def part_position(self, dealer_id: str, sku_id: str) -> dict[str, int]:
        """One cell's position (zeros for a SKU the dealer holds nothing of), straight from the arrays."""
        dealer, sku = self.dealer_index(dealer_id), self.sku_index(sku_id)
        names = ("on_hand", "reserved", "workshop_wip", "in_transit", "backorder")
        result = {name: int(np.asarray(self.state.arrays[f"parts:{name}"])[dealer, sku]) for name in names}
        result["available"] = result["on_hand"] - result["reserved"]
        return result

    @cached_property
    def _arrivals_table(self) -> _ByDealer:
        blocks, dealers = [], []
        network = self.world.network
        carrier_ids = np.asarray(network.carriers.carrier_id, dtype=object)
        for key, kind in (("logistics:inbound", "consignment"), ("logistics:emergency_inbound", "emergency")):
            table = np.asarray(self.state.arrays[key], dtype=np.float64).reshape(-1, 5)
            table = table[table[:, 2] < self.dealers]
            dealer = table[:, 2].astype(np.int64)
            sku = table[:, 3].astype(np.int64)
            carrier = (
                carrier_ids[network.parts_carrier[dealer]]
                if kind == "consignment"
                else np.full(dealer.size, "express (DC or supplier)", dtype=object)
            )
            prefix = "C" if kind == "consignment" else "E"
            blocks.append(
                pd.DataFrame(
                    {
                        "consignment": [f"{prefix}{int(number):06d}" for number in table[:, 1]],
                        "kind": kind,
                        "sku_id": self._sku_ids[sku],
                        "description": self.part_descriptions[sku],
                        "units": table[:, 4].astype(np.int64),
                        "eta_day": table[:, 0].astype(np.int64),
                        "eta_date": self.dates(table[:, 0]),
                        "carrier_id": carrier,
                    }
                )
            )
            dealers.append(dealer)
        frame = pd.concat(blocks, ignore_index=True)
        dealer = np.concatenate(dealers)
        frame = frame.assign(_dealer=dealer).sort_values(["_dealer", "eta_day", "consignment", "sku_id"])
        return _ByDealer(frame.drop(columns="_dealer"), frame["_dealer"].to_numpy(), self.dealers)

    def arrivals(self, dealer_id: str) -> pd.DataFrame:
        """Parts on their way to the dealer, one row per consignment line: consignment, kind (consignment
        from the DC or a transfer; emergency for a backorder's express), sku_id, description, units, eta_day,
        eta_date (received the morning of that day), carrier_id (the dealer's parts lane). Cars on the road
        are in ``allocations``."""
        return self._arrivals_table.of(self.dealer_index(dealer_id))

    # -- stock-out alerts --------------------------------------------------------------------------------
    @cached_property
    def _alerts_table(self) -> _ByDealer:
        columns = [
            "alert_id", "sku_id", "description", "severity", "risk", "raised_date", "expected_stockout_date",
            "days_to_stockout", "acted_on", "available", "in_transit", "inbound_eta_date", "demand_per_day",
            "why",
        ]  # fmt: skip
        if "tower:alerts_open_alert" not in self.state.arrays:
            return _ByDealer(pd.DataFrame(columns=columns), np.zeros(0, np.int64), self.dealers)
        tower = self.state.section("tower")
        open_alert = np.asarray(tower["alerts_open_alert"], dtype=np.int64)
        ids = open_alert[open_alert >= 0]
        cell = np.asarray(tower["alerts_alert_cell"], dtype=np.int64)[ids]
        dealer, sku = cell // self.skus, cell % self.skus
        risk_rows = len(tower["alerts_alert_cell"])
        horizons = self.settings.alert_horizons_days()
        if risk_rows == 0:  # no alert raised yet: nothing to reshape
            return _ByDealer(pd.DataFrame(columns=columns), np.zeros(0, np.int64), self.dealers)
        risk = np.asarray(tower["alerts_alert_risk"], dtype=np.float64).reshape(risk_rows, -1)[ids]
        flags = np.asarray(tower["alerts_alert_flag_day"], dtype=np.int64).reshape(risk_rows, -1)[ids]
        if len(horizons) != risk.shape[1]:
            horizons = list(range(1, risk.shape[1] + 1))
        flagged = flags >= 0
        first = np.where(flagged.any(axis=1), flagged.argmax(axis=1), risk.shape[1] - 1)
        severity = np.asarray(SEVERITIES, dtype=object)[np.minimum(first, len(SEVERITIES) - 1)]
        expected = np.asarray(tower["alerts_alert_expected_stockout_day"], dtype=np.float64)[ids]
        on_hand = self._positions("on_hand")[dealer, sku]
        available = on_hand - self._positions("reserved")[dealer, sku]
        in_transit = self._positions("in_transit")[dealer, sku]
        eta = np.asarray(self.state.arrays["logistics:inbound_eta_day"], dtype=np.float64)[cell]
        demand = np.asarray(self.state.arrays["demand_history:units_per_day"], dtype=np.float64)[dealer, sku]
        eta_dates = self.dates(eta)
        worst = risk.max(axis=1) if risk.size else np.zeros(0)
        horizon_of_worst = np.asarray(horizons)[risk.argmax(axis=1)] if risk.size else np.zeros(0, int)
        why = [
            f"{available[i]} available against about {demand[i]:.1f} a day; "
            + (
                f"{in_transit[i]} in transit, due {_day_text(eta_dates[i])}"
                if in_transit[i] > 0
                else "nothing in transit"
            )
            + f"; {worst[i]:.0%} risk of running out within {int(horizon_of_worst[i])} days"
            for i in range(ids.size)
        ]
        frame = pd.DataFrame(
            {
                "alert_id": ids,
                "sku_id": self._sku_ids[sku],
                "description": self.part_descriptions[sku],
                "severity": severity,
                "risk": worst,
                "raised_date": self.dates(np.asarray(tower["alerts_alert_raised_day"])[ids]),
                "expected_stockout_date": self.dates(expected),
                "days_to_stockout": np.where(np.isfinite(expected), expected - self.day, np.nan),
                "acted_on": np.asarray(tower["alerts_alert_acted_day"])[ids] >= 0,
                "available": available,
                "in_transit": in_transit,
                "inbound_eta_date": eta_dates,
                "demand_per_day": demand,
                "why": np.asarray(why, dtype=object),
            },
            columns=columns,
        )
        for index, horizon in enumerate(horizons):
            frame[f"risk_{horizon}d"] = risk[:, index]
        frame = frame.assign(_dealer=dealer).sort_values(["_dealer", "risk"], ascending=[True, False])
        return _ByDealer(frame.drop(columns="_dealer"), frame["_dealer"].to_numpy(), self.dealers)

    def alerts(self, dealer_id: str) -> pd.DataFrame:
        """Open stock-out alerts of the dealer, riskiest first: alert_id, sku_id, description, severity,
        risk (the highest over the horizons), raised_date, expected_stockout_date, days_to_stockout, acted_on,
        available, in_transit, inbound_eta_date, demand_per_day, why, risk_<h>d per horizon. Empty when the
        control tower did not run (``has("tower")`` is False)."""
        return self._alerts_table.of(self.dealer_index(dealer_id))

    # -- transfers ---------------------------------------------------------------------------------------
    @cached_property
    def _transfer_rows(self) -> pd.DataFrame:
        """Every transfer and dealer trade touching any dealer, one row each with sender and receiver."""
        rows: list[dict[str, Any]] = []
        arrays = self.state.arrays
        specs = self.world.specs
        vins = self.state.vehicles["vin"].to_numpy()

        def item_name(kind: int, item: int) -> str:
            return str(self._sku_ids[item]) if kind == 0 else str(specs.spec_id[item])

        if "transfers:awaiting" in arrays:
            for line in np.asarray(arrays["transfers:awaiting"], dtype=np.float64).reshape(-1, 14).tolist():
                line_kind = int(line[1])
                rows.append(
                    _transfer_row(
                        f"A{int(line[0])}", "parts" if line_kind == 0 else "vehicles", int(line[2]), int(line[3]),
                        item_name(line_kind, int(line[4])), "", int(line[5]), "awaiting approval",
                        self.date_of(line[12]), None, float(line[10]),
                    )
                )  # fmt: skip
        # the cars of a vehicle transfer: the state keys moved cars by receiver and arrival day only, so they
        # are named only where one vehicle transfer reaches that dealer that day (never another sender's cars)
        moved: dict[tuple[int, int], list[str]] = {}
        if "transfers:vehicles_moved" in arrays:
            for vehicle, receiver, arrive, *_ in np.asarray(arrays["transfers:vehicles_moved"]).tolist():
                moved.setdefault((int(receiver), int(np.ceil(arrive))), []).append(str(vins[int(vehicle)]))
        vehicle_batches: dict[tuple[int, int], int] = {}
        for key in ("transfers:arriving", "orders:arriving"):
            for batch in (
                np.asarray(arrays.get(key, np.zeros((0, 11))), dtype=np.float64).reshape(-1, 11).tolist()
            ):
                if int(batch[0]) >= 0 and int(batch[1]) == FreightCategory.VEHICLE_TRANSFER:
                    landing = (int(batch[3]), int(batch[7]))
                    vehicle_batches[landing] = vehicle_batches.get(landing, 0) + 1
        for key in ("transfers:arriving", "orders:arriving"):
            if key not in arrays:
                continue
            for batch in np.asarray(arrays[key], dtype=np.float64).reshape(-1, 11).tolist():
                transfer, category, sender, receiver = (int(value) for value in batch[:4])
                if transfer < 0:
                    continue  # dealer trades are listed per car below
                ship_day, arrive_day = int(batch[6]), int(batch[7])
                kind = "vehicles" if category == FreightCategory.VEHICLE_TRANSFER else "parts"
                landing = (receiver, arrive_day)
                alone = vehicle_batches.get(landing, 0) == 1
                cars = moved.get(landing, []) if kind == "vehicles" and alone else []
                rows.append(
                    _transfer_row(
                        f"T{transfer}", kind, sender, receiver, "", " ".join(cars), int(batch[9]),
                        "on the road", self.date_of(ship_day), self.date_of(arrive_day), batch[10] / 100.0,
                    )
                )  # fmt: skip
        if "orders:trades_on_road" in arrays:
            holders: dict[int, tuple[int, float]] = {}
            for key, width, offset in (("orders:arriving", 11, 0), ("orders:trade_loads", 12, 5)):
                table = np.asarray(arrays.get(key, np.zeros((0, width))), dtype=np.float64).reshape(-1, width)
                for row in table.tolist():
                    if row[offset] < 0:
                        holders[-1 - int(row[offset])] = (
                            int(row[offset + 1]),
                            float(row[1]) if offset else -1.0,
                        )
            booked = set()
            if "orders:trade_loads" in arrays:
                booked = {
                    -1 - int(row[5])
                    for row in np.asarray(arrays["orders:trade_loads"]).reshape(-1, 12).tolist()
                }
            for token, receiver, vehicle, arrival in np.asarray(arrays["orders:trades_on_road"]).tolist():
                trade = int(token)
                holder = holders.get(trade, (-1, -1.0))[0]
                spec = int(self.state.vehicles["spec"].iat[int(vehicle)])
                rows.append(
                    _transfer_row(
                        f"DT{trade}", "dealer trade", holder, int(receiver), str(specs.spec_id[spec]),
                        str(vins[int(vehicle)]), 1,
                        "booked, waiting for its truck" if trade in booked else "on the road",
                        None, self.date_of(arrival), float("nan"),
                    )
                )  # fmt: skip
        if "settlement:transfers_transfer_id" in arrays:
            settlement = self.state.section("settlement")
            shipment = np.asarray(settlement["transfers_shipment"], dtype=np.int64)
            settled_category = np.asarray(settlement["shipments_category"], dtype=np.int64)[shipment]
            settled_ship_day = np.asarray(settlement["shipments_ship_day"], dtype=np.int64)[shipment]
            settled_arrive_day = np.asarray(settlement["shipments_arrive_day"], dtype=np.int64)[shipment]
            for index, transfer in enumerate(np.asarray(settlement["transfers_transfer_id"]).tolist()):
                trade = transfer < 0
                settled_kind = (
                    "dealer trade"
                    if trade
                    else (
                        "vehicles" if settled_category[index] == FreightCategory.VEHICLE_TRANSFER else "parts"
                    )
                )
                rows.append(
                    _transfer_row(
                        f"DT{-1 - transfer}" if trade else f"T{transfer}", settled_kind,
                        int(settlement["transfers_sender"][index]), int(settlement["transfers_receiver"][index]),
                        "", "", -1, "arrived", self.date_of(settled_ship_day[index]), self.date_of(settled_arrive_day[index]),
                        float(settlement["transfers_price_paise"][index]) / 100.0,
                    )
                )  # fmt: skip
        return pd.DataFrame(rows, columns=list(_TRANSFER_FIELDS))

    @cached_property
    def _transfers_table(self) -> _ByDealer:
        rows = self._transfer_rows
        names = np.asarray(self.dealer_ids, dtype=object)
        blocks, dealers = [], []
        for direction, own, other in (("in", "receiver", "sender"), ("out", "sender", "receiver")):
            mine = rows[rows[own] >= 0]
            other_index = mine[other].to_numpy(dtype=np.int64)
            block = mine.drop(columns=["sender", "receiver"]).assign(
                direction=direction,
                counterpart_dealer_id=np.where(other_index >= 0, names[np.maximum(other_index, 0)], ""),
            )
            blocks.append(block)
            dealers.append(mine[own].to_numpy(dtype=np.int64))
        frame = pd.concat(blocks, ignore_index=True)
        order = ["transfer", "kind", "direction", "counterpart_dealer_id", "item", "vins", "units", "status",
                 "ship_date", "eta_date", "value_inr"]  # fmt: skip
        status_rank = frame["status"].map({"awaiting approval": 0, "booked, waiting for its truck": 1,
                                           "on the road": 2, "arrived": 3}).fillna(4)  # fmt: skip
        frame = frame[order].assign(_dealer=np.concatenate(dealers), _rank=status_rank.to_numpy())
        frame = frame.sort_values(["_dealer", "_rank", "transfer"], kind="stable")
        return _ByDealer(frame.drop(columns=["_dealer", "_rank"]), frame["_dealer"].to_numpy(), self.dealers)

    def transfers(self, dealer_id: str) -> pd.DataFrame:
        """Parts and vehicle transfers and dealer trades in and out of the dealer: transfer, kind, direction
        (in/out), counterpart_dealer_id, item (a SKU or spec where the state says), vins, units (-1 for an
        arrived transfer the register keeps by value), status (awaiting approval, booked, on the road,
        arrived), ship_date, eta_date, value_inr. Empty without transfers or network orders."""
        return self._transfers_table.of(self.dealer_index(dealer_id))

    # -- settlement --------------------------------------------------------------------------------------
    @cached_property
    def _ledger(self) -> dict[str, Any]:
        settlement = self.state.section("settlement")
        account = np.asarray(settlement["journal_line_account"], dtype=np.int64)
        dealer = account - len(OemAccount)
        is_dealer = (dealer >= 0) & (dealer < self.dealers)
        lines = np.flatnonzero(is_dealer)
        order = lines[np.argsort(dealer[lines], kind="stable")]
        counts = np.bincount(dealer[lines], minlength=self.dealers)
        entry = np.asarray(settlement["journal_line_entry"], dtype=np.int64)
        return {
            "lines": order,
            "offsets": np.concatenate(([0], np.cumsum(counts))),
            "entry": entry,
            "amount": np.asarray(settlement["journal_line_amount_paise"], dtype=np.int64),
            "kind": np.asarray(settlement["journal_entry_kind"], dtype=np.int64),
            "posted_day": np.asarray(settlement["journal_entry_posted_day"], dtype=np.int64),
            "reference_kind": np.asarray(settlement["journal_entry_reference_kind"], dtype=np.int64),
            "reference_id": np.asarray(settlement["journal_entry_reference_id"], dtype=np.int64),
            "cycle_line_end": int(np.asarray(settlement["cycles_line_end"])[-1])
            if np.asarray(settlement["cycles_line_end"]).size
            else 0,
        }

    def statement(self, dealer_id: str, recent_lines: int = 10) -> Statement | None:
        """The dealer's settlement position (None when the state has no settlement section)."""
        index = self.dealer_index(dealer_id)
        if not self.has("settlement"):
            return None
        ledger = self._ledger
        lines = ledger["lines"][ledger["offsets"][index] : ledger["offsets"][index + 1]]
        amount = ledger["amount"][lines]
        kind = ledger["kind"][ledger["entry"][lines]]
        group = _kind_groups()[kind]

        def total(selected: npt.NDArray[np.bool_]) -> float:
            return float(amount[selected].sum()) / 100.0

        since = lines >= ledger["cycle_line_end"]
        since_last_close = {
            name: total(since & (group == position)) for position, name in enumerate(STATEMENT_GROUPS)
        }
        settlement = self.state.section("settlement")
        mine = np.flatnonzero(np.asarray(settlement["statements_dealer"]) == index)
        last: dict[str, Any] | None = None
        if mine.size:
            row = int(mine[-1])

            def inr(name: str) -> float:
                return float(settlement[f"statements_{name}_paise"][row]) / 100.0

            paid_day = int(settlement["statements_paid_day"][row])
            last = {
                "cycle": int(settlement["statements_cycle"][row]),
                "period_start": self.date_of(int(settlement["statements_period_start_day"][row])),
                "close_date": self.date_of(int(settlement["statements_close_day"][row])),
                **{f"{name}_inr": inr(name) for name in ("opening", *STATEMENT_GROUPS, "closing")},
                "due_date": self.date_of(int(settlement["statements_due_day"][row])),
                "paid_date": self.date_of(paid_day) if paid_day >= 0 else None,
            }
        newest = lines[::-1][:recent_lines]
        entries = ledger["entry"][newest]
        recent = pd.DataFrame(
            {
                "date": self.dates(ledger["posted_day"][entries]),
                "kind": [ENTRY_KIND_NAMES.get(EntryKind(int(k)), str(k)) for k in ledger["kind"][entries]],
                "reference": [
                    f"{_reference_name(int(k))} {int(r)}"
                    for k, r in zip(
                        ledger["reference_kind"][entries], ledger["reference_id"][entries], strict=True
                    )
                ],
                "amount_inr": ledger["amount"][newest] / 100.0,
            }
        )
        return Statement(
            dealer_id=self.dealer_ids[index],
            as_of=self.as_of,
            balance_inr=float(amount.sum()) / 100.0,
            freight_billed_inr=total(group == STATEMENT_GROUPS.index("freight")),
            payments_inr=total(group == STATEMENT_GROUPS.index("payments")),
            transfers_inr=total(group == STATEMENT_GROUPS.index("transfers")),
            incentives_inr=total(group == STATEMENT_GROUPS.index("incentives")),
            last_statement=last,
            since_last_close=since_last_close,
            recent_lines=recent,
        )

    @cached_property
    def _claims_table(self) -> _ByDealer:
        columns = ["vin", "model", "scheme", "filed_date", "amount_inr", "status", "reason", "delivered_date"]
        if not self.has("settlement"):
            return _ByDealer(pd.DataFrame(columns=columns), np.zeros(0, np.int64), self.dealers)
        settlement = self.state.section("settlement")
        dealer = np.asarray(settlement["claims_dealer"], dtype=np.int64)
        vehicle = np.asarray(settlement["claims_vehicle"], dtype=np.int64)
        known = (vehicle >= 0) & (vehicle < len(self.state.vehicles))
        safe = np.where(known, vehicle, 0)
        vehicles = self._vehicle_columns
        outcome = np.asarray(settlement["claims_outcome"], dtype=np.int64)
        schemes = np.asarray(self.settings.incentive_scheme_names(), dtype=object)
        scheme = np.asarray(settlement["claims_scheme"], dtype=np.int64)
        delivered = np.where(known, vehicles["delivered_day"][safe], -1.0)
        frame = pd.DataFrame(
            {
                "vin": np.where(known, vehicles["vin"][safe].astype(str), ""),
                "model": np.where(known, vehicles["model"][safe], ""),
                "scheme": np.where(
                    scheme < schemes.size,
                    schemes[np.minimum(scheme, max(schemes.size - 1, 0))] if schemes.size else "",
                    "",
                ),
                "filed_date": self.dates(np.asarray(settlement["claims_filed_day"])),
                "amount_inr": np.asarray(settlement["claims_amount_paise"]) / 100.0,
                "status": np.select(
                    [outcome == ClaimOutcome.PAID, outcome == ClaimOutcome.PENDING],
                    ["paid", "pending"],
                    "rejected",
                ),
                "reason": [CLAIM_REASONS.get(ClaimOutcome(int(value)), "") for value in outcome],
                "delivered_date": self.dates(np.where(delivered >= 0, delivered, np.nan)),
            }
        )
        return _ByDealer(frame.iloc[::-1].reset_index(drop=True), dealer[::-1], self.dealers)

    def claims(self, dealer_id: str) -> pd.DataFrame:
        """The dealer's incentive claims, newest first: vin, model, scheme, filed_date, amount_inr, status
        (paid, rejected, pending), reason (why not paid), delivered_date. Empty without settlement."""
        return self._claims_table.of(self.dealer_index(dealer_id))

    # -- campaigns ---------------------------------------------------------------------------------------
    def campaigns(self, dealer_id: str) -> pd.DataFrame:
        """The scenario's campaigns that cover the dealer: campaign, models, start_date, end_date, status
        (upcoming, running, ended), vehicle_uplift, target_units (the stock target for this dealer; NaN
        until fixed), positioned_units, landed_units, sold_units (positioned cars), stock_units (the
        campaign's models in the yard now). Empty without campaigns."""
        index = self.dealer_index(dealer_id)
        columns = ["campaign", "models", "start_date", "end_date", "status", "vehicle_uplift", "target_units",
                   "positioned_units", "landed_units", "sold_units", "stock_units"]  # fmt: skip
        if not self.has("campaigns"):
            return pd.DataFrame(columns=columns)
        section = self.state.section("campaigns")
        targets = np.asarray(section["targets"], dtype=np.int64)
        positioned = np.asarray(section["positioned"], dtype=np.int64).reshape(-1, 2)
        vehicles = self._vehicle_columns
        region = str(self.world.network.dealers.region[index])
        yard = self.yard(dealer_id)
        rows = []
        for number, campaign in enumerate(self.settings.campaigns()):
            regions = [str(name) for name in campaign.get("regions", [])]
            if regions and region not in regions:
                continue
            models = [str(name) for name in campaign.get("models", [])] or list(self.world.specs.model_names)
            start, end = int(campaign.get("start_day", 0)), int(campaign.get("end_day", 0))
            target = targets[number, index] if number < len(targets) else np.array([-1])
            cars = positioned[positioned[:, 1] == number, 0]
            mine = cars[vehicles["dealer"][cars].astype(np.int64) == index]
            status = vehicles["status"][mine].astype(np.int64)
            sold = (status == VehicleStatus.RESERVED) | (status == VehicleStatus.DELIVERED)
            landed = vehicles["received_day"][mine] != NOT_YET
            rows.append(
                {
                    "campaign": str(campaign.get("name", f"campaign {number + 1}")),
                    "models": ", ".join(models),
                    "start_date": self.date_of(start),
                    "end_date": self.date_of(end - 1),
                    "status": "upcoming" if self.day < start else ("running" if self.day < end else "ended"),
                    "vehicle_uplift": float(campaign.get("vehicle_uplift", 1.0)),
                    "target_units": float(target.sum()) if (target >= 0).all() else float("nan"),
                    "positioned_units": int(mine.size),
                    "landed_units": int(landed.sum()),
                    "sold_units": int(sold.sum()),
                    "stock_units": int((yard["model"].isin(models) & ~yard["reserved"]).sum()),
                }
            )
        return pd.DataFrame(rows, columns=columns)

    # -- network availability -----------------------------------------------------------------------------
    @cached_property
    def _dealer_km(self) -> FloatArray:
        result: FloatArray = self.world.network.dealer_to_dealer_km()
        return result

    def network_availability(
        self,
        dealer_id: str,
        spec_id: str | None = None,
        model: str | None = None,
        sku_id: str | None = None,
    ) -> pd.DataFrame:
        """Who could supply the dealer a spec (or any spec of a model) or a part, within network policy:
        source_kind (dealer, stockyard, parts DC), source_id, source_name, distance_km, item, units, why.
        Vehicles: other dealers' unreserved yard stock within the network search's radius
        (``policy.sourcing.max_distance_km``), keeping a holder's last unit of a spec it sold fast
        (``protect_last_unit_sales_28d``), and the dealer's stockyard's unallocated cars
        (``allow_stockyard``). Parts: other dealers' surplus above their cover and safety floor within the
        transfer radius (``policy.transfers``), and the dealer's own DC. Only candidates for the item asked,
        never another dealer's stock list."""
        index = self.dealer_index(dealer_id)
        if sku_id is not None:
            return self._parts_availability(index, self.sku_index(sku_id))
        specs = self.world.specs
        if spec_id is not None:
            matches = np.flatnonzero(np.asarray(specs.spec_id) == str(spec_id))
            if not matches.size:
                raise ViewError("spec_id", spec_id, "is not a spec of this network's catalog")
        elif model is not None:
            names = [name.lower() for name in specs.model_names]
            if str(model).lower() not in names:
                raise ViewError("model", model, f"is not a model of this network {list(specs.model_names)}")
            matches = np.flatnonzero(specs.model == names.index(str(model).lower()))
        else:
            raise ViewError("spec_id", None, "name a spec, a model or a part (sku_id) to look for")
        return self._vehicle_availability(index, matches)

    @cached_property
    def _yard_counts(self) -> npt.NDArray[np.int64]:
        """``[dealer, spec]`` cars in each dealer's yard, unreserved (what a dealer trade could take)."""
        frame = self._yard_table
        unreserved = ~frame.frame["reserved"].to_numpy(dtype=bool)
        spec_index = {str(spec): index for index, spec in enumerate(self.world.specs.spec_id)}
        spec = np.array(
            [spec_index[str(name)] for name in frame.frame["spec_id"].to_numpy()[unreserved]], dtype=np.int64
        )
        counts = np.zeros((self.dealers, len(self.world.specs)), dtype=np.int64)
        np.add.at(counts, (frame.dealer[unreserved].astype(np.int64), spec), 1)
        return counts

    @cached_property
    def _stockyard_counts(self) -> npt.NDArray[np.int64]:
        """``[stockyard, spec]`` unallocated cars in each stockyard's pool."""
        pool = np.asarray(self.state.arrays["vehicles:stockyard_order"], dtype=np.float64).reshape(-1, 2)
        spec = self._vehicle_columns["spec"].astype(np.int64)[pool[:, 1].astype(np.int64)]
        counts = np.zeros((len(self.world.network.stockyards), len(self.world.specs)), dtype=np.int64)
        np.add.at(counts, (pool[:, 0].astype(np.int64), spec), 1)
        return counts

    def _vehicle_availability(self, dealer: int, wanted_specs: IntArray) -> pd.DataFrame:
        wanted = np.zeros(len(self.world.specs), dtype=bool)
        wanted[wanted_specs] = True
        radius = float(self.settings.network_search("max_distance_km"))
        near = self._dealer_km[dealer] <= radius
        near[dealer] = False
        holders, specs_held = np.nonzero(self._yard_counts[np.ix_(near, wanted)])
        holders, specs_held = np.flatnonzero(near)[holders], np.flatnonzero(wanted)[specs_held]
        units = self._yard_counts[holders, specs_held]
        # a holder keeps its last unit of a spec it sells fast (the network search's rule)
        protect = int(self.settings.network_search("protect_last_unit_sales_28d"))
        units = units - (self._sales_28d[holders, specs_held] >= protect)
        keep = units > 0
        holders, specs_held, units = holders[keep], specs_held[keep], units[keep]
        kinds = np.full(holders.size, "dealer", dtype=object)
        source_ids = self._dealer_id_array[holders]
        source_names = self._dealer_name_array[holders]
        distances = np.round(self._dealer_km[dealer, holders], 0)
        why = np.full(
            holders.size, "in the dealer's yard, within the network's dealer-trade radius", dtype=object
        )
        if bool(self.settings.network_search("allow_stockyard")):
            yard = int(self.world.network.dealers.stockyard[dealer])
            pool_specs = np.flatnonzero(self._stockyard_counts[yard] * wanted)
            if pool_specs.size:
                stockyards = self.world.network.stockyards
                count = pool_specs.size
                kinds = np.concatenate([kinds, np.full(count, "stockyard", dtype=object)])
                source_ids = np.concatenate(
                    [source_ids, np.full(count, str(stockyards.site_id[yard]), dtype=object)]
                )
                source_names = np.concatenate(
                    [source_names, np.full(count, str(stockyards.name[yard]), dtype=object)]
                )
                distances = np.concatenate(
                    [distances, np.full(count, round(float(self._yard_km[dealer]), 0))]
                )
                specs_held = np.concatenate([specs_held, pool_specs])
                units = np.concatenate([units, self._stockyard_counts[yard, pool_specs]])
                why = np.concatenate(
                    [why, np.full(count, "unallocated at the dealer's stockyard", dtype=object)]
                )
        order = np.lexsort((specs_held, source_ids.astype(str), distances))
        return pd.DataFrame(
            {
                "source_kind": kinds[order],
                "source_id": source_ids[order],
                "source_name": source_names[order],
                "distance_km": distances[order],
                "item": self._spec_id_array[specs_held[order]],
                "units": units[order].astype(np.int64),
                "why": why[order],
            }
        )

    @cached_property
    def _sales_28d(self) -> npt.NDArray[np.int64]:
        return np.asarray(self.state.arrays["vehicles:sales_28d"], dtype=np.int64)

    @cached_property
    def _dealer_id_array(self) -> npt.NDArray[Any]:
        return np.asarray(self.dealer_ids, dtype=object)

    @cached_property
    def _dealer_name_array(self) -> npt.NDArray[Any]:
        return np.asarray(self.world.network.dealers.name, dtype=object)

    @cached_property
    def _spec_id_array(self) -> npt.NDArray[Any]:
        return np.asarray(self.world.specs.spec_id, dtype=object)

    @cached_property
    def _yard_km(self) -> FloatArray:
        result: FloatArray = self.world.network.yard_to_dealer_km()
        return result

    @cached_property
    def _dc_km(self) -> FloatArray:
        result: FloatArray = self.world.network.dc_to_dealer_km()
        return result

    def _parts_availability(self, dealer: int, sku: int) -> pd.DataFrame:
        on_hand = np.asarray(self.state.arrays["parts:on_hand"])[:, sku].astype(np.int64)
        available = on_hand - np.asarray(self.state.arrays["parts:reserved"])[:, sku]
        demand = np.asarray(self.state.arrays["demand_history:units_per_day"], dtype=np.float64)[:, sku]
        floor = np.ceil(demand * float(self.settings.transfers("safety_cover_days")))
        need = demand * float(self.settings.transfers("surplus_cover_days")) + floor
        surplus = np.floor(np.clip(available[: self.dealers] - need, 0, None)).astype(np.int64)
        radius = float(self.settings.transfers("max_distance_km"))
        distance = self._dealer_km[dealer]
        candidates = np.flatnonzero(
            (surplus > 0) & (distance <= radius) & (np.arange(self.dealers) != dealer)
        )
        kinds = np.full(candidates.size, "dealer", dtype=object)
        source_ids = self._dealer_id_array[candidates]
        source_names = self._dealer_name_array[candidates]
        distances = np.round(distance[candidates], 0)
        units = surplus[candidates]
        why = np.full(
            candidates.size,
            "surplus above the holder's cover and safety floor, within the transfer radius",
            dtype=object,
        )
        network = self.world.network
        dc = int(network.dealers.parts_dc[dealer])
        dc_available = int(available[self.dealers + dc])
        if dc_available > 0:
            kinds = np.append(kinds, "parts DC")
            source_ids = np.append(source_ids, str(network.parts_dcs.site_id[dc]))
            source_names = np.append(source_names, str(network.parts_dcs.name[dc]))
            distances = np.append(distances, round(float(self._dc_km[dealer]), 0))
            units = np.append(units, dc_available)
            why = np.append(why, "the dealer's own parts DC")
        order = np.lexsort((source_ids.astype(str), distances))
        return pd.DataFrame(
            {
                "source_kind": kinds[order],
                "source_id": source_ids[order],
                "source_name": source_names[order],
                "distance_km": distances[order],
                "item": np.full(order.size, str(self._sku_ids[sku]), dtype=object),
                "units": units[order].astype(np.int64),
                "why": why[order],
            }
        )

    # -- network-wide (the OEM's roles) ------------------------------------------------------------------
    @cached_property
    def _yard_ages(self) -> tuple[npt.NDArray[np.integer[Any]], FloatArray]:
        """Dealer and age (days) of every unreserved car in a dealer yard."""
        frame = self._yard_table
        unreserved = ~frame.frame["reserved"].to_numpy(dtype=bool)
        return frame.dealer[unreserved], frame.frame["age_days"].to_numpy(dtype=np.float64)[unreserved]

    def _stock_values(self) -> tuple[FloatArray, FloatArray]:
        """Per dealer: vehicle stock at cost and parts on hand at cost (INR)."""
        margin = self.settings.operations("vehicle_margin_share")
        frame = self._yard_table
        unreserved = ~frame.frame["reserved"].to_numpy(dtype=bool)
        vehicle_value = np.bincount(
            frame.dealer[unreserved],
            weights=frame.frame["price_inr"].to_numpy(dtype=np.float64)[unreserved] * (1.0 - margin),
            minlength=self.dealers,
        )
        parts_value = self._positions("on_hand") @ self.world.parts.unit_cost_inr
        return np.asarray(vehicle_value, dtype=np.float64), np.asarray(parts_value, dtype=np.float64)

    def _open_alerts_by_dealer(self) -> IntArray:
        alerts = self._alerts_table
        return np.diff(alerts.offsets).astype(np.int64)

    def kpis(self, window_days: int = 28) -> dict[str, float]:
        """Network KPIs as of the state: parts first-pick fill rate and lost sales over the last
        ``window_days`` recorded, vehicle lost sales, aged share of yard stock (over 60 and 90 days), working
        capital (vehicles in dealer yards and parts on dealers' and DCs' shelves at cost), open alerts."""
        daily = np.asarray(self.state.arrays["kpis:daily"], dtype=np.float64)
        last = int(np.asarray(self.state.arrays["kpis:recorded_through_day"])[0])
        window = daily[max(0, last + 1 - window_days) : last + 1]

        def column(name: str) -> float:
            return float(window[:, DAILY_COLUMNS.index(name)].sum()) if window.size else 0.0

        lines = column("parts_demand_lines")
        customers = column("vehicle_customers")
        _, ages = self._yard_ages
        vehicle_value, parts_value = self._stock_values()
        dc_on_hand = np.asarray(self.state.arrays["parts:on_hand"], dtype=np.float64)[self.dealers :]
        dc_value = float((dc_on_hand @ self.world.parts.unit_cost_inr).sum())
        result = {
            "days_in_window": float(window.shape[0]),
            "parts_fill_rate_line": column("parts_first_pick_lines") / lines if lines else float("nan"),
            "parts_lost_lines": column("parts_lost_lines"),
            "parts_lost_units": column("parts_lost_units"),
            "vehicle_customers": customers,
            "vehicle_lost_sales": column("vehicle_lost_sales"),
            "vehicle_lost_sale_share": column("vehicle_lost_sales") / customers
            if customers
            else float("nan"),
            "vehicles_in_dealer_yards": float(ages.size),
            "working_capital_inr": float(vehicle_value.sum() + parts_value.sum() + dc_value),
            "vehicle_stock_value_inr": float(vehicle_value.sum()),
            "parts_stock_value_inr": float(parts_value.sum() + dc_value),
            "open_alerts": float(self._open_alerts_by_dealer().sum()),
            "parts_backorder_units": float(self._positions("backorder").sum()),
        }
        for limit in _AGED_DAYS:
            result[f"vehicle_aged_share_over_{limit}d"] = (
                float((ages > limit).mean()) if ages.size else float("nan")
            )
        return result

    def dealer_risk(self) -> pd.DataFrame:
        """Per dealer, for the OEM's map: dealer_id, name, region, latitude, longitude, open_alerts,
        vehicles_in_yard, aged_share_over_90d, vehicle_stock_value_inr, parts_stock_value_inr,
        stock_value_inr, inbound_cars."""
        dealers = self.world.network.dealers
        dealer_of_car, ages = self._yard_ages
        cars = np.bincount(dealer_of_car, minlength=self.dealers)
        aged = np.bincount(dealer_of_car, weights=(ages > 90).astype(float), minlength=self.dealers)
        vehicle_value, parts_value = self._stock_values()
        return pd.DataFrame(
            {
                "dealer_id": list(self.dealer_ids),
                "name": dealers.name.astype(str),
                "region": dealers.region.astype(str),
                "latitude": dealers.latitude,
                "longitude": dealers.longitude,
                "open_alerts": self._open_alerts_by_dealer(),
                "vehicles_in_yard": cars,
                "aged_share_over_90d": np.where(cars > 0, aged / np.maximum(cars, 1), np.nan),
                "vehicle_stock_value_inr": vehicle_value,
                "parts_stock_value_inr": parts_value,
                "stock_value_inr": vehicle_value + parts_value,
                "inbound_cars": np.diff(self._allocations_table.offsets),
            }
        )

    def recommendations(self) -> pd.DataFrame:
        """Rebalancing transfers awaiting a network manager's approval: approval, kind, sender_id,
        receiver_id, item, units, value_inr, benefit_inr, freight_inr, distance_km, decided_date,
        decision_due_date. Empty without transfers."""
        columns = ["approval", "kind", "sender_id", "receiver_id", "item", "units", "value_inr", "benefit_inr",
                   "freight_inr", "distance_km", "decided_date", "decision_due_date"]  # fmt: skip
        if "transfers:awaiting" not in self.state.arrays:
            return pd.DataFrame(columns=columns)
        table = np.asarray(self.state.arrays["transfers:awaiting"], dtype=np.float64).reshape(-1, 14)
        kind = table[:, 1].astype(np.int64)
        item = table[:, 4].astype(np.int64)
        names = np.asarray(self.dealer_ids, dtype=object)
        specs = np.asarray(self.world.specs.spec_id, dtype=object)
        return pd.DataFrame(
            {
                "approval": [f"A{int(token)}" for token in table[:, 0]],
                "kind": np.where(kind == 0, "parts", "vehicles"),
                "sender_id": names[table[:, 2].astype(np.int64)],
                "receiver_id": names[table[:, 3].astype(np.int64)],
                "item": np.where(
                    kind == 0,
                    self._sku_ids[np.where(kind == 0, item, 0)],
                    specs[np.where(kind == 1, item, 0)],
                ),
                "units": table[:, 5].astype(np.int64),
                "value_inr": table[:, 10],
                "benefit_inr": table[:, 8],
                "freight_inr": table[:, 9],
                "distance_km": table[:, 7],
                "decided_date": self.dates(table[:, 12]),
                "decision_due_date": self.dates(table[:, 13]),
            },
            columns=columns,
        )


# -- helpers ------------------------------------------------------------------------------------------------
_TRANSFER_FIELDS = ("transfer", "kind", "sender", "receiver", "item", "vins", "units", "status", "ship_date",
                    "eta_date", "value_inr")  # fmt: skip


def _transfer_row(*values: Any) -> dict[str, Any]:
    return dict(zip(_TRANSFER_FIELDS, values, strict=True))


def _kind_groups() -> IntArray:
    """Statement group (index into ``STATEMENT_GROUPS``) of each journal entry kind."""
    groups = {EntryKind.FREIGHT: "freight", EntryKind.TRANSFER: "transfers", EntryKind.INCENTIVE: "incentives",
              EntryKind.DEALER_PAYMENT: "payments"}  # fmt: skip
    return np.array([STATEMENT_GROUPS.index(groups.get(kind, "other")) for kind in EntryKind], dtype=np.int64)


def _reference_name(kind: int) -> str:
    from twin.settlement.journal import ReferenceKind

    try:
        return ReferenceKind(kind).name.lower().replace("_", " ")
    except ValueError:
        return "reference"


def _day_text(value: Any) -> str:
    return value.strftime("%d %b %Y").lstrip("0") if isinstance(value, dt.date) else "unknown"


def _city_of(name: str) -> str:
    """The city part of a dealer's name: the words before a generic word or a number ("Pune Motors 3")."""
    words = []
    for word in re.split(r"\s+", name.strip()):
        if word.lower() in _GENERIC_NAME_WORDS or word.isdigit():
            break
        words.append(word)
    return " ".join(words) or name
