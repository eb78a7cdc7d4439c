"""Where is my allocation? Every vehicle on its way to a dealer, with where it is now and when it is due.

A dealer's allocation is every car given to it that it has not received: stock the OEM allocated, its
customers' factory orders, cars bought from another dealer or moved to it. Each row says which step the car
is at and when it is due at the dealer: the current leg's end where a leg is under way, plus the typical days
of the legs still ahead (plant to stockyard, stockyard to dealer). A car waiting at a stockyard for its load
is due the yard-to-dealer transit after it leaves, so its ``eta_day`` is the earliest it can arrive.

Read from the engine's vehicle records at any moment (the run writes it at the horizon); a live service would
build the same table from its feeds.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from twin.domain.vehicles import SiteKind, VehicleStatus

if TYPE_CHECKING:
    from twin.engine.vehicle_flow import VehicleFlow


class AllocationStep(Enum):
    IN_BUILD = "in build"
    ON_TRUNK = "built, on its way to the stockyard"
    AT_STOCKYARD = "allocated, waiting at the stockyard for its load"
    AT_SENDING_DEALER = "at the sending dealer, waiting for its truck"
    SHIPPED = "shipped to the dealer"


COLUMNS = ("dealer_id", "vin", "model", "variant", "colour", "customer_order", "step", "eta_day", "eta_date")


def allocation_status(flow: VehicleFlow) -> pd.DataFrame:
    """One row per vehicle allocated to a dealer and not yet received there, by dealer and ETA."""
    world = flow.world
    operations = flow.operations
    now = float(flow.env.now)
    on_trunk = {
        vehicle_id for _, vehicle_ids, _ in flow.trunks_on_road.values() for vehicle_id in vehicle_ids
    }
    yard_to_dealer = flow.carriers.yard_to_dealer_days
    rows = []
    table = flow.vehicles
    dealer, status_column = table.column("dealer"), table.column("status")
    received = (
        (status_column == VehicleStatus.IN_YARD)
        & (table.column("site_kind") == SiteKind.DEALER)
        & (table.column("site_index") == dealer)
    )
    handed_over = (status_column == VehicleStatus.RESERVED) | (status_column == VehicleStatus.DELIVERED)
    for vehicle_id in np.flatnonzero((dealer >= 0) & ~handed_over & ~received).tolist():
        vehicle = table[vehicle_id]
        status, site = vehicle.status, vehicle.site_kind
        onward = float(yard_to_dealer[vehicle.dealer])
        if status is VehicleStatus.ORDERED:
            step = AllocationStep.IN_BUILD
            eta = vehicle.eta_day + operations.plant_to_stockyard_days + onward
        elif vehicle_id in on_trunk or status is VehicleStatus.BUILT:
            step = AllocationStep.ON_TRUNK
            eta = max(vehicle.eta_day, now) + onward
        elif status is VehicleStatus.IN_YARD and site is SiteKind.STOCKYARD:
            step, eta = AllocationStep.AT_STOCKYARD, now + onward
        elif status is VehicleStatus.IN_YARD:  # a transfer still at the sender's yard
            step, eta = AllocationStep.AT_SENDING_DEALER, now + onward
        else:
            step, eta = AllocationStep.SHIPPED, vehicle.eta_day
        rows.append((vehicle.dealer, vehicle.vin, vehicle.spec, vehicle.customer_order, step.value, eta))
    frame = pd.DataFrame(rows, columns=["dealer", "vin", "spec", "customer_order", "step", "eta_day"])
    specs = world.specs
    frame.insert(0, "dealer_id", np.asarray(world.network.dealers.dealer_id)[frame["dealer"].to_numpy(int)])
    spec = frame["spec"].to_numpy(int)
    frame.insert(2, "model", np.asarray(specs.model_names)[specs.model[spec]])
    frame.insert(3, "variant", np.asarray(specs.variant_names)[specs.variant[spec]])
    frame.insert(4, "colour", np.asarray(specs.colour_names)[specs.colour[spec]])
    frame["eta_day"] = frame["eta_day"].astype(float).round(2)
    frame["eta_date"] = [
        (flow.start_date + dt.timedelta(days=int(day))).isoformat() for day in frame["eta_day"]
    ]
    return frame.sort_values(["dealer", "eta_day", "vin"], kind="stable")[list(COLUMNS)].reset_index(
        drop=True
    )


def by_dealer(status: pd.DataFrame) -> pd.DataFrame:
    """Per dealer: how many cars at each step, and the next and last due dates."""
    counts = status.pivot_table(
        index="dealer_id", columns="step", values="vin", aggfunc="count", fill_value=0
    )
    counts = counts.reindex(columns=[step.value for step in AllocationStep], fill_value=0)
    due = status.groupby("dealer_id")["eta_date"].agg(next_due="min", last_due="max")
    table = counts.join(due)
    table.insert(0, "allocated_not_received", counts.sum(axis=1))
    return table.reset_index()
