"""State snapshots: export the whole state of a run at a day boundary, and start a run from one.

A snapshot holds what a live control tower would know at the start of a day: the parts arrays and what is on
its way (consignments, emergency deliveries, repair and pickup releases), every vehicle with its status,
place and the end of its current timed step, the stockyard and carrier queues, trucks on the road, the
sales window and the OEM's last export, plus the random-stream states and KPIs so far. The later shadow
mode builds the same object from live feeds. On disk it is a folder: ``state.npz`` (arrays),
``vehicles.parquet`` (one row per VIN) and ``meta.json``.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from twin.domain.vehicles import SiteKind, Vehicle, VehicleStatus
from twin.engine.parts_logistics import Shipment
from twin.errors import ConfigError

if TYPE_CHECKING:
    from twin.engine.run_state import RunState

SNAPSHOT_VERSION = 1
VEHICLE_COLUMNS = (
    "vin", "spec", "status", "site_kind", "site_index", "dealer", "customer_order", "ordered_day", "built_day",
    "shipped_day", "received_day", "delivered_day", "eta_day",
)  # fmt: skip
_RELEASE_KINDS = ("workshop", "counter")
IN_FLIGHT_ARRAYS = (
    "builds_in_progress",
    "trunks_on_road",
    "loads_on_road",
    "trucks_returning",
    "loads_waiting",
)


@dataclass
class Snapshot:
    day: int
    seed: int
    #: every array of the state, by name (see ``take_snapshot`` for the names)
    arrays: dict[str, npt.NDArray[Any]]
    vehicles: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    def save(self, folder: str | Path) -> Path:
        target = Path(folder)
        target.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(target / "state.npz", **self.arrays)  # type: ignore[arg-type]
        self.vehicles.to_parquet(target / "vehicles.parquet", index=False)
        (target / "meta.json").write_text(
            json.dumps({"version": SNAPSHOT_VERSION, "day": self.day, "seed": self.seed, **self.meta})
        )
        return target

    @classmethod
    def load(cls, folder: str | Path) -> Snapshot:
        source = Path(folder)
        for name in ("state.npz", "vehicles.parquet", "meta.json"):
            if not (source / name).exists():
                raise ConfigError("snapshot", str(source), f"is not a snapshot folder ({name} missing)")
        meta = json.loads((source / "meta.json").read_text())
        if meta.get("version") != SNAPSHOT_VERSION:
            raise ConfigError(
                "snapshot.version", meta.get("version"), f"this twin reads version {SNAPSHOT_VERSION}"
            )
        with np.load(source / "state.npz") as archive:
            arrays = {name: archive[name] for name in archive.files}
        day, seed = int(meta.pop("day")), int(meta.pop("seed"))
        meta.pop("version")
        return cls(
            day=day,
            seed=seed,
            arrays=arrays,
            vehicles=pd.read_parquet(source / "vehicles.parquet"),
            meta=meta,
        )


def _columns(rows: Sequence[Sequence[float]], width: int) -> npt.NDArray[np.float64]:
    return np.asarray(rows, dtype=np.float64).reshape(-1, width)


def take_snapshot(simulation: RunState) -> Snapshot:
    """Capture the state at the current day boundary (call between ``advance`` calls)."""
    sim = simulation
    now = sim.env.now
    if now != int(now):
        raise ConfigError("snapshot.day", now, "snapshots are taken at a day boundary")
    parts, logistics, flow, kpis = sim.parts, sim.logistics, sim.vehicles, sim.kpis
    arrays: dict[str, npt.NDArray[Any]] = {
        f"parts_{name}": array.copy() for name, array in parts.state.arrays().items()
    }
    arrays |= {
        "parts_received_from_suppliers": parts.received_from_suppliers.copy(),
        "parts_consumed": parts.consumed.copy(),
        "parts_changed": logistics.changed.copy(),
        "parts_history_lines_per_year": sim.history_lines_per_year,
        "parts_history_units_per_day": sim.history_units_per_day,
        "parts_inbound_eta_day": logistics.inbound_eta_day.copy(),
    }
    if sim.control_tower is not None:
        arrays |= {f"tower:{name}": array.copy() for name, array in sim.control_tower.state_arrays().items()}
    arrays |= {f"settlement:{name}": array for name, array in sim.settlement.state_arrays().items()}
    if sim.rebalancing is not None:
        arrays |= {f"transfers:{name}": array for name, array in sim.rebalancing.state_arrays().items()}
    if sim.customer_orders is not None:
        arrays |= {f"orders:{name}": array for name, array in sim.customer_orders.state_arrays().items()}
    if sim.campaigns is not None:
        arrays |= {f"campaigns:{name}": array for name, array in sim.campaigns.state_arrays().items()}
    releases = [
        (day, _RELEASE_KINDS.index(kind), cell, units)
        for day, entries in parts.pending.by_day.items()
        for kind, cells, quantity in entries
        for cell, units in zip(cells.tolist(), quantity.tolist(), strict=True)
    ]
    arrays["parts_releases"] = _columns(releases, 4)  # day, kind, cell, units
    inbound = [
        (consignment.receive_day, number, location, sku, units)
        for number, consignment in enumerate(c for pending in logistics.inbound.values() for c in pending)
        for location, sku, units in zip(
            consignment.location.tolist(),
            consignment.sku.tolist(),
            consignment.quantity.tolist(),
            strict=True,
        )
    ]
    arrays["parts_inbound"] = _columns(inbound, 5)  # receive day, consignment, location, sku, units
    emergency = [
        (delivery.receive_day, number, location, sku, units)
        for number, delivery in enumerate(
            d for pending in logistics.emergency_inbound.values() for d in pending
        )
        for location, sku, units in zip(
            delivery.location.tolist(), delivery.sku.tolist(), delivery.quantity.tolist(), strict=True
        )
    ]
    arrays["parts_emergency_inbound"] = _columns(emergency, 5)
    # vehicles: order of every queue is kept as (owner, vehicle id) rows in queue order
    arrays["dealer_yard_order"] = _columns(
        [
            (dealer, vid)
            for dealer, yard in enumerate(flow.dealer_yard)
            for queue in yard.values()
            for vid in queue
        ],
        2,
    )
    arrays["stockyard_order"] = _columns(
        [(yard, vid) for yard, pool in enumerate(flow.yard_pool) for queue in pool.values() for vid in queue],
        2,
    )
    arrays["dispatch_queue"] = _columns(
        [
            (dealer, vid, since)
            for dealer, queue in enumerate(flow.carriers.dispatch_queue)
            for vid, since in queue
        ],
        3,
    )
    arrays["loads_waiting"] = _columns(
        [
            (number, dealer, carrier, vid)
            for number, (dealer, carrier, load) in enumerate(flow.carriers.loads_waiting)
            for vid in load
        ],
        4,
    )
    arrays["loads_on_road"] = _columns(
        [
            (token, dealer, carrier, vid, eta, back)
            for token, (dealer, carrier, load, eta, back) in flow.carriers.loads_on_road.items()
            for vid in load
        ],
        6,
    )
    arrays["trunks_on_road"] = _columns(
        [(token, yard, vid, eta) for token, (yard, load, eta) in flow.trunks_on_road.items() for vid in load],
        4,
    )
    arrays["builds_in_progress"] = _columns([(vid, eta) for vid, eta in flow.builds_in_progress.items()], 2)
    arrays["trucks_returning"] = _columns(list(flow.carriers.trucks_returning.values()), 2)
    if sim.pending_resume is not None:  # restored but not yet advanced: the in-flight steps are still data
        for name in IN_FLIGHT_ARRAYS:
            arrays[name] = sim.pending_resume[name].copy()
    arrays["deliveries_due"] = _columns(
        [(day, vid) for day, ids in flow.deliveries_due.items() for vid in ids], 2
    )
    arrays["sales_window"] = _columns(
        [(offset, dealer, spec) for offset, sales in enumerate(flow.sales_by_day) for dealer, spec in sales],
        3,
    )
    arrays["sales_28d"] = flow.sales_28d.copy()
    arrays["lane_credit"] = flow.carriers.lane_credit.copy()
    arrays["dealer_inbound"] = flow.dealer_inbound.copy()
    arrays["pipeline"] = flow.pipeline.copy()
    for name in ("dealer_stock", "dealer_inbound", "dealer_sales_28d", "yard_stock", "pipeline"):
        arrays[f"export_{name}"] = np.asarray(getattr(flow.view, name)).copy()
    arrays["build_plan"] = _columns(
        [
            (offset, spec, yard)
            for offset, (specs, yards) in enumerate(sim.build_plan)
            for spec, yard in zip(specs.tolist(), yards.tolist(), strict=True)
        ],
        3,
    )
    arrays["kpi_daily"] = kpis.daily.copy()
    arrays["kpi_by_region"] = kpis.by_region.copy()
    arrays["kpi_class_lines"] = kpis.class_lines.copy()
    arrays["kpi_class_first_pick_lines"] = kpis.class_first_pick_lines.copy()
    vehicles = pd.DataFrame(
        [[getattr(vehicle, column) for column in VEHICLE_COLUMNS] for vehicle in flow.vehicles],
        columns=list(VEHICLE_COLUMNS),
    )
    meta = {
        "streams": {name: _jsonable(state) for name, state in sim.streams.state().items()},
        "vin_serial": flow.serial,
        "export_as_of_day": flow.view.as_of_day,
        "outstanding_backorder_units": logistics.outstanding_backorder_units,
        "kpi_pending": [[day, name, value] for (day, name), value in kpis.pending.items()],
        "age_stats": list(sim.age_stats),
        "sales_window_days": len(flow.sales_by_day),
        "build_plan_days": len(sim.build_plan),
        "shape": {"dealers": sim.dealers, "skus": sim.skus, "specs": len(sim.world.specs)},
    }
    return Snapshot(day=int(now), seed=sim.config.seed, arrays=arrays, vehicles=vehicles, meta=meta)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, np.integer):
        return int(value)
    return value


def _check_shape(sim: RunState, snapshot: Snapshot) -> None:
    shape = snapshot.meta.get("shape", {})
    for name, actual in (("dealers", sim.dealers), ("skus", sim.skus), ("specs", len(sim.world.specs))):
        if shape.get(name) != actual:
            raise ConfigError(f"network.{name}", actual, f"does not match the snapshot's {shape.get(name)}")


def restore(sim: RunState, snapshot: Snapshot) -> None:
    """Load a snapshot's state into a freshly built simulation whose clock starts at ``snapshot.day``."""
    _check_shape(sim, snapshot)
    arrays = snapshot.arrays
    parts, logistics, flow, kpis = sim.parts, sim.logistics, sim.vehicles, sim.kpis
    for name in parts.state.field_names:
        getattr(parts.state, name)[:] = arrays[f"parts_{name}"]
    parts.received_from_suppliers[:] = arrays["parts_received_from_suppliers"]
    parts.consumed[:] = arrays["parts_consumed"]
    logistics.changed[:] = arrays["parts_changed"]
    sim.history_lines_per_year = arrays["parts_history_lines_per_year"]
    sim.history_units_per_day = arrays["parts_history_units_per_day"]
    logistics.inbound_eta_day[:] = arrays["parts_inbound_eta_day"]
    if sim.control_tower is not None:
        tower_arrays = {
            name[len("tower:") :]: array for name, array in arrays.items() if name.startswith("tower:")
        }
        if not tower_arrays:
            raise ConfigError("policy.forecast.enabled", True, "the snapshot was taken with forecasts off")
        sim.control_tower.load_state_arrays(tower_arrays)
    _restore_settlement(sim, arrays)
    if sim.rebalancing is not None:
        transfers = {
            name[len("transfers:") :]: a for name, a in arrays.items() if name.startswith("transfers:")
        }
        if not transfers:
            raise ConfigError("policy.transfers.enabled", True, "the snapshot was taken with transfers off")
        sim.rebalancing.load_state_arrays(transfers)
    if sim.customer_orders is not None:
        orders = {name[len("orders:") :]: a for name, a in arrays.items() if name.startswith("orders:")}
        if not orders:
            raise ConfigError("policy.sourcing", "network", "the snapshot was taken without network sourcing")
        sim.customer_orders.load_state_arrays(orders)
    if sim.campaigns is not None:
        campaigns = {
            name[len("campaigns:") :]: a for name, a in arrays.items() if name.startswith("campaigns:")
        }
        if not campaigns:
            raise ConfigError(
                "scenario.campaigns", len(sim.config.scenario.campaigns), "the snapshot has none"
            )
        if campaigns["table"].shape[0] != len(sim.campaigns.windows):
            raise ConfigError(
                "scenario.campaigns",
                len(sim.config.scenario.campaigns),
                f"the snapshot was taken with {campaigns['table'].shape[0]} campaigns",
            )
        sim.campaigns.load_state_arrays(campaigns)
    for day, kind, cell, units in arrays["parts_releases"].astype(np.int64).tolist():
        parts.pending.add(
            day, _RELEASE_KINDS[kind], np.array([cell], dtype=np.int64), np.array([units], dtype=np.int32)
        )
    for name, target in (
        ("parts_inbound", logistics.inbound),
        ("parts_emergency_inbound", logistics.emergency_inbound),
    ):
        table = arrays[name].astype(np.int64)
        for number in np.unique(table[:, 1]).tolist():
            rows = table[table[:, 1] == number]
            day = int(rows[0, 0])
            target[day].append(
                Shipment(day, rows[:, 2].copy(), rows[:, 3].copy(), rows[:, 4].astype(np.int32))
            )
    logistics.outstanding_backorder_units = int(snapshot.meta["outstanding_backorder_units"])

    frame = snapshot.vehicles
    for row in frame.itertuples(index=False):
        flow.vehicles.append(
            Vehicle(
                vin=str(row.vin), spec=int(row.spec), status=VehicleStatus(int(row.status)), site_kind=SiteKind(int(row.site_kind)),
                site_index=int(row.site_index), dealer=int(row.dealer), customer_order=bool(row.customer_order),
                ordered_day=float(row.ordered_day), built_day=float(row.built_day), shipped_day=float(row.shipped_day),
                received_day=float(row.received_day), delivered_day=float(row.delivered_day), eta_day=float(row.eta_day),
            )
        )  # fmt: skip
    flow.serial = int(snapshot.meta["vin_serial"])
    for dealer, vid in arrays["dealer_yard_order"].astype(np.int64).tolist():
        vehicle = flow.vehicles[vid]
        flow.dealer_yard[dealer].setdefault(vehicle.spec, deque()).append(vid)
        flow.dealer_stock[dealer, vehicle.spec] += 1
        flow.dealer_stock_value_inr[dealer] += flow.vehicle_cost_inr[vehicle.spec]
    for yard, vid in arrays["stockyard_order"].astype(np.int64).tolist():
        vehicle = flow.vehicles[vid]
        flow.yard_pool[yard].setdefault(vehicle.spec, deque()).append(vid)
        flow.yard_stock[yard, vehicle.spec] += 1
    for dealer, vid, since in arrays["dispatch_queue"].tolist():
        flow.carriers.dispatch_queue[int(dealer)].append((int(vid), float(since)))
    for day, vid in arrays["deliveries_due"].astype(np.int64).tolist():
        flow.deliveries_due.setdefault(day, []).append(vid)
    window = arrays["sales_window"].astype(np.int64)
    for offset in range(int(snapshot.meta["sales_window_days"])):  # days without a sale still count
        flow.sales_by_day.append(
            [(dealer, spec) for _, dealer, spec in window[window[:, 0] == offset].tolist()]
        )
    flow.sales_28d[:] = arrays["sales_28d"]
    flow.carriers.lane_credit[:] = arrays["lane_credit"]
    flow.dealer_inbound[:] = arrays["dealer_inbound"]
    flow.pipeline[:] = arrays["pipeline"]
    flow.restore_view(
        {
            name: arrays[f"export_{name}"]
            for name in ("dealer_stock", "dealer_inbound", "dealer_sales_28d", "yard_stock", "pipeline")
        },
        int(snapshot.meta["export_as_of_day"]),
    )
    plan = arrays["build_plan"].astype(np.int64)
    sim.build_plan = [
        (plan[plan[:, 0] == offset, 1], plan[plan[:, 0] == offset, 2])
        for offset in range(int(snapshot.meta["build_plan_days"]))  # a plan of empty days is still a plan
    ]
    kpis.daily[:] = arrays["kpi_daily"]
    kpis.by_region[:] = arrays["kpi_by_region"]
    kpis.class_lines[:] = arrays["kpi_class_lines"]
    kpis.class_first_pick_lines[:] = arrays["kpi_class_first_pick_lines"]
    kpis.pending.update(
        {(int(day), str(name)): float(value) for day, name, value in snapshot.meta["kpi_pending"]}
    )
    share_over_60, share_over_90, mean_age = snapshot.meta["age_stats"]
    sim.age_stats = (float(share_over_60), float(share_over_90), float(mean_age))
    sim.streams.restore(snapshot.meta["streams"])
    sim.pending_resume = arrays


def _restore_settlement(sim: RunState, arrays: dict[str, npt.NDArray[Any]]) -> None:
    """The settlement ledger and registers (absent from a snapshot taken with settlement off)."""
    if not sim.settlement.enabled:
        return
    prefix = "settlement:"
    settlement = {name[len(prefix) :]: array for name, array in arrays.items() if name.startswith(prefix)}
    if not settlement:
        raise ConfigError("settlement.enabled", True, "the snapshot was taken with settlement off")
    sim.settlement.load_state_arrays(settlement)


def resume_in_flight(sim: RunState) -> None:
    """Restart the timed steps a snapshot caught half-way: builds, trunk legs, carrier loads, trucks."""
    arrays = sim.pending_resume
    if arrays is None:
        return
    flow, env = sim.vehicles, sim.env
    now = env.now
    for vid, eta in arrays["builds_in_progress"].tolist():
        env.process(flow.build(int(vid), max(0.0, eta - now)))
    trunks = arrays["trunks_on_road"]
    for token in np.unique(trunks[:, 0]).tolist() if trunks.size else []:
        rows = trunks[trunks[:, 0] == token]
        env.process(
            flow.trunk(
                [int(v) for v in rows[:, 2]],
                int(rows[0, 1]),
                max(0.0, float(rows[0, 3]) - now),
                departed=True,
            )
        )
    loads = arrays["loads_on_road"]
    for token in np.unique(loads[:, 0]).tolist() if loads.size else []:
        rows = loads[loads[:, 0] == token]
        dealer, carrier, eta, back = int(rows[0, 1]), int(rows[0, 2]), float(rows[0, 4]), float(rows[0, 5])
        env.process(
            flow.carriers.resume_load(
                dealer, carrier, [int(v) for v in rows[:, 3]], max(0.0, eta - now), back
            )
        )
    for carrier, free_at in arrays["trucks_returning"].tolist():
        env.process(flow.carriers.hold_truck(int(carrier), max(0.0, free_at - now)))


def resume_waiting_loads(sim: RunState) -> None:
    """Loads that were waiting for a truck queue again, behind the trucks already out (call last)."""
    arrays = sim.pending_resume
    if arrays is None:
        return
    sim.pending_resume = None
    flow, env = sim.vehicles, sim.env
    waiting = arrays["loads_waiting"]
    for number in np.unique(waiting[:, 0]).tolist() if waiting.size else []:
        rows = waiting[waiting[:, 0] == number]
        env.process(flow.carriers.carry_load(int(rows[0, 1]), int(rows[0, 2]), [int(v) for v in rows[:, 3]]))
