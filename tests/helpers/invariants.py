"""State invariants of a run, checked from outside the engine (read only) at any simulated moment.

``watch`` adds a SimPy process to a built ``Simulation`` that calls the checks between the daily phases
(see the phase table in ``twin.engine.simulation``), so a violation is caught when it happens, not only at
the end. The watcher only reads state; it cannot change the run's outcome.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from twin.domain.vehicles import SiteKind, VehicleStatus
from twin.engine.parts_flow import SHORTAGE_BACKORDER
from twin.engine.simulation import Simulation

#: moments of the day between the engine's phases (0.25 parts, 0.6 allocation, 0.75 replenishment, 0.8 loads)
CHECK_OFFSETS = (0.5, 0.9)


def parts_violations(simulation: Simulation) -> list[str]:
    state = simulation.parts.state
    flow = simulation.parts
    problems = []
    for name, array in state.arrays().items():
        if array.min(initial=0) < 0:
            location, sku = np.unravel_index(int(np.argmin(array)), array.shape)
            problems.append(f"{name}[{location}, {sku}] = {int(array[location, sku])} < 0")
    over = np.argwhere(state.reserved > state.on_hand)
    if over.size:
        location, sku = over[0]
        problems.append(
            f"reserved {state.reserved[location, sku]} > on_hand {state.on_hand[location, sku]} at [{location}, {sku}]"
        )
    expected = simulation.parts_initial_units + flow.received_from_suppliers - flow.consumed
    held = state.units_in_network()
    wrong = np.flatnonzero(expected != held)
    if wrong.size:
        sku = int(wrong[0])
        problems.append(
            f"SKU {sku}: initial + received - consumed = {int(expected[sku])} but network holds {int(held[sku])}"
        )
    if int(state.backorder.sum(dtype=np.int64)) != simulation.logistics.outstanding_backorder_units:
        problems.append(
            f"backorder array {int(state.backorder.sum())} != outstanding {simulation.logistics.outstanding_backorder_units}"
        )
    # every unit shown in transit / on backorder is on a real consignment / emergency delivery still to come
    logistics = simulation.logistics
    # the DCs fill their book from a list of owed cells kept as orders are booked and shipped: it is complete
    owed = np.flatnonzero(logistics.open_orders[: simulation.dealers].reshape(-1) > 0)
    listed = logistics.owed_cells()
    if not np.array_equal(listed, owed):
        problems.append(f"the DCs' book lists {listed.size} owed cells, the open orders hold {owed.size}")
    scheduled_arrays = [("in_transit", state.in_transit, logistics.inbound)]
    if flow.shortage != SHORTAGE_BACKORDER:
        scheduled_arrays.append(("backorder", state.backorder, logistics.emergency_inbound))
    else:  # customers wait for the shelf: nothing comes by express, and no one waits beside free stock
        problems.extend(_waiting_customer_violations(simulation))
    for name, array, pending in scheduled_arrays:
        scheduled = np.zeros(array.size, dtype=np.int64)
        for deliveries in pending.values():
            for delivery in deliveries:
                np.add.at(scheduled, delivery.location * flow.skus + delivery.sku, delivery.quantity)
        mismatch = np.flatnonzero(scheduled != array.reshape(-1))
        if mismatch.size:
            location, sku = divmod(int(mismatch[0]), flow.skus)
            problems.append(
                f"{name}[{location}, {sku}] = {int(array[location, sku])} but {int(scheduled[mismatch[0]])} scheduled"
            )
    return problems


def _waiting_customer_violations(simulation: Simulation) -> list[str]:
    """``dealer_shortage=backorder``: backorders are dealer cells only, listed in the logistics' waiting
    cells, never beside free stock (they are served first), and no emergency delivery is on its way."""
    state, logistics, dealers = simulation.parts.state, simulation.logistics, simulation.dealers
    problems = []
    if logistics.emergency_inbound:
        problems.append("an emergency delivery is on its way with dealer_shortage=backorder")
    if state.backorder[dealers:].any():
        problems.append("a DC row holds customers' backorders")
    owed = state.backorder[:dealers].reshape(-1)
    waiting = np.flatnonzero(owed > 0)
    if not np.isin(waiting, logistics._waiting()).all():
        problems.append("a dealer cell with backorders is missing from the waiting cells")
    free = state.on_hand[:dealers].reshape(-1) - state.reserved[:dealers].reshape(-1)
    beside = waiting[free[waiting] > 0]
    if beside.size:
        location, sku = divmod(int(beside[0]), simulation.skus)
        problems.append(f"customers wait at [{location}, {sku}] beside {int(free[beside[0]])} free units")
    return problems


def vehicle_violations(simulation: Simulation) -> list[str]:
    """Every VIN in exactly one place, and each place's records agree with it. Checked on the VIN table's
    columns at once (a pass over record objects would make the property tests slow)."""
    flow = simulation.vehicles
    table = flow.vehicles
    size = len(table)
    status, site_kind = table.column("status"), table.column("site_kind")
    site_index, dealer_of = table.column("site_index"), table.column("dealer")
    spec_of = table.column("spec")
    stockyard_of = simulation.world.network.dealers.stockyard
    problems: list[str] = []
    seen = np.zeros(size, dtype=np.int64)

    def listed(places: list[tuple[int, int, list[int]]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(vehicle ids, the place each is listed in, the spec its queue is for), one row per listing."""
        ids = [vehicle_id for _, _, queue in places for vehicle_id in queue]
        place = [index for index, _, queue in places for _ in queue]
        spec = [queue_spec for _, queue_spec, queue in places for _ in queue]
        return (
            np.array(ids, dtype=np.int64),
            np.array(place, dtype=np.int64),
            np.array(spec, dtype=np.int64),
        )

    def expect(ids: np.ndarray, where: str, condition: np.ndarray) -> None:
        for vehicle_id in ids[~condition][:5].tolist():
            problems.append(
                f"{table.vin(vehicle_id)} in {where} but {VehicleStatus(int(status[vehicle_id])).name} at "
                f"{SiteKind(int(site_kind[vehicle_id])).name} {int(site_index[vehicle_id])}"
            )

    in_yard, at_dealer = status == VehicleStatus.IN_YARD, site_kind == SiteKind.DEALER
    at_stockyard = site_kind == SiteKind.STOCKYARD
    ids, dealer, spec = listed(
        [
            (index, queue_spec, list(queue))
            for index, yard in enumerate(flow.dealer_yard)
            for queue_spec, queue in yard.items()
        ]
    )
    np.add.at(seen, ids, 1)
    expect(
        ids,
        "a dealer yard",
        in_yard[ids]
        & at_dealer[ids]
        & (site_index[ids] == dealer)
        & (dealer_of[ids] == dealer)
        & (spec_of[ids] == spec),
    )
    # and the other way round: what the KPIs and vehicle transfers read from the columns is the yards' cars
    if not np.array_equal(np.sort(ids), flow.in_dealer_yards()):
        problems.append(
            "the cars in yard at a dealer by the VIN table are not exactly the dealer yards' cars"
        )
    dealer_counts = np.zeros_like(flow.dealer_stock)
    np.add.at(dealer_counts, (dealer, spec), 1)
    ids, yard, spec = listed(
        [
            (index, queue_spec, list(queue))
            for index, pool in enumerate(flow.yard_pool)
            for queue_spec, queue in pool.items()
        ]
    )
    np.add.at(seen, ids, 1)
    expect(
        ids,
        "a stockyard pool",
        in_yard[ids] & at_stockyard[ids] & (site_index[ids] == yard) & (spec_of[ids] == spec),
    )
    yard_counts = np.zeros_like(flow.yard_stock)
    np.add.at(yard_counts, (yard, spec), 1)
    ids, dealer, _ = listed(
        [
            (index, -1, [vehicle_id for vehicle_id, _ in queue])
            for index, queue in enumerate(flow.carriers.dispatch_queue)
        ]
    )
    np.add.at(seen, ids, 1)
    expect(
        ids,
        "a dealer's dispatch queue",
        in_yard[ids]
        & at_stockyard[ids]
        & (site_index[ids] == stockyard_of[dealer])
        & (dealer_of[ids] == dealer),
    )
    twice = np.flatnonzero(seen > 1)
    if twice.size:
        problems.append(f"VINs in two places: {table.vins(twice[:5].tolist())}")
    if not np.array_equal(dealer_counts, flow.dealer_stock):
        problems.append("dealer_stock array differs from the dealer yard deques")
    if not np.array_equal(yard_counts, flow.yard_stock):
        problems.append("yard_stock array differs from the stockyard pools")
    # no VIN lost: everything standing in a dealer yard is in that yard's deque
    for vehicle_id in np.flatnonzero(in_yard & at_dealer & (seen == 0))[:5].tolist():
        problems.append(
            f"{table.vin(vehicle_id)} stands in dealer yard {int(site_index[vehicle_id])} but is in no deque"
        )
    # allocated and customer-ordered vehicles on their way are counted once in dealer_inbound
    on_the_way = (
        (status == VehicleStatus.BUILT) | (status == VehicleStatus.IN_TRANSIT) | (in_yard & at_stockyard)
    ) & (dealer_of >= 0)
    inbound = np.zeros_like(flow.dealer_inbound)
    np.add.at(inbound, (dealer_of[on_the_way].astype(np.int64), spec_of[on_the_way].astype(np.int64)), 1)
    if not np.array_equal(inbound, flow.dealer_inbound):
        problems.append("dealer_inbound differs from the allocated vehicles on their way")
    return problems


def watch(simulation: Simulation, vehicle_every_days: int = 5) -> list[str]:
    """Check invariants between the phases of every day; returns the (live) list of violations found."""
    violations: list[str] = []

    def watcher() -> Iterator[object]:
        env = simulation.env
        horizon = simulation.config.horizon_days
        for day in range(simulation.start_day, horizon):  # a restored run starts at its state's day
            for offset in CHECK_OFFSETS:
                yield env.timeout(day + offset - env.now)
                violations.extend(f"t={env.now:.2f} {problem}" for problem in parts_violations(simulation))
                if day % vehicle_every_days == 0 and offset == CHECK_OFFSETS[-1]:
                    violations.extend(
                        f"t={env.now:.2f} {problem}" for problem in vehicle_violations(simulation)
                    )

    simulation.env.process(watcher())
    return violations
