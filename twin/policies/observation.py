"""Read-only views of the network handed to policies, and the decision records policies hand back.

Views hold numpy arrays flagged read-only, so a policy cannot change state by accident; the engine (or a
live service) is the only writer. Nothing here imports SimPy.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from twin.config import OperationsConfig

IntArray = npt.NDArray[np.int64]
QuantityArray = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.float64]


def read_only(array: npt.NDArray[Any]) -> npt.NDArray[Any]:
    view = array.view()
    view.flags.writeable = False
    return view


@dataclass(frozen=True)
class PartsView:
    """Parts state ``[location, sku]``: dealers are rows ``0..dealer_count-1``, parts DCs follow."""

    day: int
    dealer_count: int
    on_hand: QuantityArray
    reserved: QuantityArray
    in_transit: QuantityArray
    backorder: QuantityArray
    unit_cost_inr: FloatArray
    #: class index of each SKU (see twin.domain.parts.PART_CLASSES)
    part_class: npt.NDArray[np.int8]
    #: parts DC that supplies each dealer
    dealer_dc: IntArray
    #: last 12 months of demand per dealer x SKU, as in a DMS export: lines and units per day
    history_lines_per_year: FloatArray
    history_units_per_day: FloatArray
    #: lead time the DC promises a dealer, per dealer (days) and the supplier promises a DC
    dealer_lead_time_days: FloatArray
    supplier_lead_time_days: float
    #: supplier lead time to each DC (days) where a lane table sets them; None = ``supplier_lead_time_days``
    dc_supplier_lead_time_days: FloatArray | None = None
    #: spread (standard deviation, days) of each dealer's transit time around its promised lead time
    dealer_lead_time_sd_days: FloatArray | None = None
    #: earliest ETA (day) of stock on its way to each dealer cell, flat ``dealer * skus + sku``; inf if none
    inbound_eta_day: npt.NDArray[np.float32] | None = None
    #: demand forecasts per dealer cell (flat ``dealer * skus + sku``), when the control tower runs them
    forecast: DemandForecast | None = None
    #: per parts DC, whether it ships today (False during an outage); None = every DC ships
    dc_shipping: npt.NDArray[np.bool_] | None = None
    #: the DCs' backorder book: a dealer row holds what it ordered from its DC and was not shipped yet (on
    #: order, > 0), a DC row minus what it owes its dealers (committed); None = no open orders
    open_orders: QuantityArray | None = None
    #: customers' backorders wait for the dealer's shelf (``operations.dealer_shortage=backorder``): the
    #: position owes them. Otherwise a backorder waits for an emergency delivery and the shelf owes nothing
    backorders_owed_from_shelf: bool = False
    #: the id of every location row (dealer ids, then DC site ids) and of every SKU, for policies that read
    #: tables keyed by id; None where a view is built without them
    location_ids: tuple[str, ...] | None = None
    sku_ids: tuple[str, ...] | None = None
    #: per dealer, how many more transfers (sent or received) the OEM's weekly cap allows it now; None where
    #: no cap applies or it is not known
    transfers_left_this_week: IntArray | None = None

    def position(self, location: IntArray, sku: IntArray) -> QuantityArray:
        """Inventory position: on hand - reserved + in transit + on order at the DC (a dealer) - owed to
        dealers (a DC) - owed to waiting customers (with dealer backorders). An order the DC could not fill is
        owed, so it is counted, not asked for again."""
        return self.cell_position(location * self.on_hand.shape[1] + sku)

    def cell_position(self, cells: IntArray) -> QuantityArray:
        """``position`` of flat cells ``location * skus + sku``: one look-up per array, not two-index ones."""
        position = _take(self.on_hand, cells) - _take(self.reserved, cells) + _take(self.in_transit, cells)
        if self.open_orders is not None:
            position = position + _take(self.open_orders, cells)
        if self.backorders_owed_from_shelf:
            position = position - _take(self.backorder, cells)
        return position


def _take(array: QuantityArray, cells: IntArray) -> QuantityArray:
    """``array`` at flat ``cells`` (``array.reshape(-1)[cells]`` without copying a strided array)."""
    if array.flags.c_contiguous:
        return array.reshape(-1).take(cells)
    location, sku = np.divmod(cells, array.shape[1])
    return array[location, sku]


class DemandForecast(Protocol):
    """What policies read from a forecaster (see twin.policies.forecasting), per series index."""

    def distribution(self, series: IntArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(mean demand per day, variance-to-mean ratio over a horizon, demand lines a year)."""
        ...


@dataclass(frozen=True)
class ReplenishmentDecision:
    """Stock orders: dealer rows order from their DC, DC rows from the supplier. Order = fill priority."""

    location: IntArray
    sku: IntArray
    quantity: QuantityArray
    #: flat cells (location * skus + sku) the policy wants offered again at the next cycle
    deferred_cells: IntArray


@dataclass(frozen=True)
class VehicleView:
    """What the OEM sees of vehicles: as of ``as_of_day`` (a weekly export in the baseline world)."""

    day: int
    as_of_day: int
    #: unreserved vehicles in each dealer's yard, by spec
    dealer_stock: QuantityArray
    #: vehicles allocated and on the way to each dealer, by spec
    dealer_inbound: QuantityArray
    #: retail deliveries per dealer and spec over the last ``sales_window_days``
    dealer_sales_28d: QuantityArray
    dealer_capacity: IntArray
    dealer_stockyard: IntArray
    spec_model: IntArray
    spec_variant: IntArray
    spec_colour: IntArray
    #: unallocated vehicles in each stockyard, by spec
    yard_stock: QuantityArray
    #: vehicles built or being built, not yet in a stockyard, by spec
    pipeline: QuantityArray
    #: typical days from a factory order to the dealer, per dealer
    factory_lead_time_days: FloatArray
    #: the OEM's volume plan for today: expected retail per day by spec (the annual plan with its season)
    plan_daily_retail: FloatArray
    #: list price per spec (INR); None where a view is built without prices
    spec_price_inr: FloatArray | None = None
    #: days the trailing sales window ``dealer_sales_28d`` covers (``operations.sales_window_days``)
    sales_window_days: int = OperationsConfig.sales_window_days

    def with_allocated(self, dealers: IntArray, specs: IntArray) -> VehicleView:
        """The view once these cars (one per dealer, spec pair) count as on their way: what a second
        allocation step sees after a first one gave them out."""
        given = np.zeros(self.dealer_inbound.shape, dtype=np.int64)
        np.add.at(given, (dealers, specs), 1)
        inbound = (np.asarray(self.dealer_inbound) + given).astype(np.int32)
        return replace(self, dealer_inbound=read_only(inbound))


@dataclass(frozen=True)
class CustomerRequest:
    """A customer at ``dealer`` wants ``spec``, which is not in that dealer's yard (nor a substitute they take)."""

    day: float
    dealer: int
    spec: int
    #: days the customer will wait for delivery
    patience_days: float = float("inf")
    #: Atlas's network candidates (``twin.policies.network_sourcing.Candidates``) for policies that need them
    candidates: Any = None
    #: a uniform draw for policies that model chance (a phone-around that may or may not find a unit)
    draw: float = 0.0
    #: the search behind ``candidates`` (``twin.policies.network_sourcing.SourcingRequest``), to ask it again
    query: Any = None


class SourcingKind(Enum):
    FACTORY_ORDER = "factory_order"
    LOST = "lost"
    #: a VIN from the network (another dealer's yard, a stockyard, the pipeline): ``candidate`` names it
    NETWORK = "network"


@dataclass(frozen=True)
class SourcingDecision:
    kind: SourcingKind
    #: delivery time quoted to the customer (days); the customer walks if it exceeds their patience
    quoted_days: float = 0.0
    #: row of the chosen VIN in the request's candidates (NETWORK decisions)
    candidate: int = -1
