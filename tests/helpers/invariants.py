"""State invariants of a run, checked from outside the engine (read only) at any simulated moment.

``watch`` adds a SimPy process to a built ``Simulation`` that calls the checks between the daily phases
(see the phase table in ``twin.engine.simulation``), so a violation is caught when it happens, not only at
the end. The watcher only reads state; it cannot change the run's outcome.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import numpy as np

from twin.domain.vehicles import SiteKind, VehicleStatus
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
    for name, array, pending in (
        ("in_transit", state.in_transit, logistics.inbound),
        ("backorder", state.backorder, logistics.emergency_inbound),
    ):
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


def vehicle_violations(simulation: Simulation) -> list[str]:
    flow = simulation.vehicles
    vehicles = flow.vehicles
    stockyard_of = simulation.world.network.dealers.stockyard
    problems: list[str] = []
    seen: Counter[int] = Counter()

    def expect(vehicle_id: int, where: str, condition: bool) -> None:
        if not condition:
            vehicle = vehicles[vehicle_id]
            problems.append(
                f"{vehicle.vin} in {where} but {vehicle.status.name} at {vehicle.site_kind.name} {vehicle.site_index}"
            )

    dealer_counts = np.zeros_like(flow.dealer_stock)
    for dealer, yard in enumerate(flow.dealer_yard):
        for spec, queue in yard.items():
            dealer_counts[dealer, spec] += len(queue)
            for vehicle_id in queue:
                seen[vehicle_id] += 1
                vehicle = vehicles[vehicle_id]
                expect(
                    vehicle_id,
                    f"dealer yard {dealer}",
                    vehicle.status is VehicleStatus.IN_YARD
                    and vehicle.site_kind is SiteKind.DEALER
                    and vehicle.site_index == dealer
                    and vehicle.dealer == dealer
                    and vehicle.spec == spec,
                )
    yard_counts = np.zeros_like(flow.yard_stock)
    for yard, pool in enumerate(flow.yard_pool):
        for spec, queue in pool.items():
            yard_counts[yard, spec] += len(queue)
            for vehicle_id in queue:
                seen[vehicle_id] += 1
                vehicle = vehicles[vehicle_id]
                expect(
                    vehicle_id,
                    f"stockyard pool {yard}",
                    vehicle.status is VehicleStatus.IN_YARD
                    and vehicle.site_kind is SiteKind.STOCKYARD
                    and vehicle.site_index == yard
                    and vehicle.spec == spec,
                )
    for dealer, queue in enumerate(flow.carriers.dispatch_queue):
        for vehicle_id, _ in queue:
            seen[vehicle_id] += 1
            vehicle = vehicles[vehicle_id]
            expect(
                vehicle_id,
                f"dispatch queue of dealer {dealer}",
                vehicle.status is VehicleStatus.IN_YARD
                and vehicle.site_kind is SiteKind.STOCKYARD
                and vehicle.site_index == stockyard_of[dealer]
                and vehicle.dealer == dealer,
            )
    twice = [vehicles[vehicle_id].vin for vehicle_id, count in seen.items() if count > 1]
    if twice:
        problems.append(f"VINs in two places: {twice[:5]}")
    if not np.array_equal(dealer_counts, flow.dealer_stock):
        problems.append("dealer_stock array differs from the dealer yard deques")
    if not np.array_equal(yard_counts, flow.yard_stock):
        problems.append("yard_stock array differs from the stockyard pools")
    # no VIN lost: everything standing in a dealer yard is in that yard's deque
    for vehicle_id, vehicle in enumerate(vehicles):
        if (
            vehicle.status is VehicleStatus.IN_YARD
            and vehicle.site_kind is SiteKind.DEALER
            and seen[vehicle_id] == 0
        ):
            problems.append(f"{vehicle.vin} stands in dealer yard {vehicle.site_index} but is in no deque")
    # allocated and customer-ordered vehicles on their way are counted once in dealer_inbound
    inbound = np.zeros_like(flow.dealer_inbound)
    for vehicle in vehicles:
        on_the_way = vehicle.status in (VehicleStatus.BUILT, VehicleStatus.IN_TRANSIT) or (
            vehicle.status is VehicleStatus.IN_YARD and vehicle.site_kind is SiteKind.STOCKYARD
        )
        if vehicle.dealer >= 0 and on_the_way:
            inbound[vehicle.dealer, vehicle.spec] += 1
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
