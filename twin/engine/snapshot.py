"""Capture a run's state at a day boundary and start a run from one (``twin.domain.state`` is the schema).

The snapshot module knows no component's internals: each component owns a section of the state and saves
and loads it (``StateOwner``); this module walks them, checks a state against the run that wants to continue
from it, and restarts the timed steps (builds, trunk legs, carrier loads) the state caught half-way.

Continuing is safe by default: a state taken on another network, seed, start date or horizon, or with other
policies, scenario or operations, is refused. A what-if that deliberately changes policies or the scenario
from that day on sets ``fork=true``; the run then records what it forked from and what differs, and its
random streams continue from the state's (or start afresh from its own seed, if that differs).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from twin.config import TwinConfig
from twin.domain.state import NetworkState, SnapshotError
from twin.domain.world import World
from twin.engine.scenario_effects import VehicleFleetBlock
from twin.engine.vehicle_flow import VehicleFlow
from twin.errors import ConfigError

#: the name earlier code used for a state; a snapshot *is* the network state at a day boundary
Snapshot = NetworkState

#: sections every run has, in the order they are restored (the VIN table comes before ``vehicles``)
CORE_SECTIONS = ("parts", "logistics", "demand_history", "vehicles", "carriers", "production", "kpis")
#: config sections that shape the future of a run: a state continues only with the same ones (or a fork)
FORKABLE_SECTIONS = ("policy", "scenario", "demand", "operations", "settlement", "queries")


class StateOwner(Protocol):
    """An engine component that owns a section of the state."""

    def state_arrays(self) -> dict[str, npt.NDArray[Any]]: ...

    def load_state_arrays(self, arrays: dict[str, npt.NDArray[Any]]) -> None: ...


@dataclass(frozen=True)
class OwnState:
    """Adapter for state the simulation keeps itself (the demand history, the build plan)."""

    save: Callable[[], dict[str, npt.NDArray[Any]]]
    load: Callable[[dict[str, npt.NDArray[Any]]], None]

    def state_arrays(self) -> dict[str, npt.NDArray[Any]]:
        return self.save()

    def load_state_arrays(self, arrays: dict[str, npt.NDArray[Any]]) -> None:
        self.load(arrays)


class StateSource(Protocol):
    def snapshot(self) -> NetworkState: ...


def take_snapshot(simulation: StateSource) -> NetworkState:
    """The state of a run at its current day boundary (call between ``advance`` calls)."""
    return simulation.snapshot()


def capture(
    day: float,
    seed: int,
    owners: Sequence[tuple[str, StateOwner]],
    flow: VehicleFlow,
    dimensions: dict[str, int],
    run: dict[str, Any],
    streams: dict[str, Any],
) -> NetworkState:
    if day != int(day):
        raise ConfigError("snapshot.day", day, "snapshots are taken at a day boundary")
    arrays: dict[str, npt.NDArray[Any]] = {}
    for section, owner in owners:
        arrays |= {f"{section}:{name}": array for name, array in owner.state_arrays().items()}
    return NetworkState(
        day=int(day),
        seed=seed,
        arrays=arrays,
        vehicles=flow.vehicle_table(),
        dimensions=dimensions,
        run=run,
        streams=streams,
        provenance={"written_by": "twin-run"},
    )


def restore(owners: Sequence[tuple[str, StateOwner]], flow: VehicleFlow, state: NetworkState) -> list[str]:
    """Load every owner's section; returns the optional sections the state lacks (a fork starts them fresh)."""
    flow.load_vehicle_table(state.vehicles)
    fresh = []
    for section, owner in owners:
        if not state.has_section(section):
            if section in CORE_SECTIONS:
                raise SnapshotError("state.npz", f"{section}:*", None, "required section is missing")
            fresh.append(section)
            continue
        try:
            owner.load_state_arrays(state.section(section))
        except (KeyError, ValueError, IndexError) as error:
            raise SnapshotError("state.npz", f"{section}:*", None, f"cannot be loaded ({error})") from None
    return fresh


# -- may this run continue from that state? ----------------------------------------------------------------
def network_fingerprint(world: World) -> str:
    """A digest of the network's identity: its dealers, DCs, SKUs and specs, by id and in order."""
    network = world.network
    parts = [
        network.dealers.dealer_id.tolist(),
        [str(dc) for dc in network.parts_dcs.site_id.tolist()],
        world.parts.sku_id.tolist(),
        world.specs.spec_id.tolist(),
        list(world.region_names),
    ]
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:16]


def dimensions_of(world: World, horizon_days: int) -> dict[str, int]:
    network = world.network
    return {
        "dealers": network.dealer_count,
        "dcs": len(network.parts_dcs),
        "locations": network.location_count,
        "skus": len(world.parts),
        "specs": len(world.specs),
        "models": len(world.specs.model_names),
        "regions": len(world.region_names),
        "stockyards": len(network.stockyards),
        "carriers": len(network.carriers),
        "plants": len(network.plants),
        "part_classes": 6,
        "days": horizon_days,
    }


def run_identity(config: TwinConfig, world: World) -> dict[str, Any]:
    """What a state is recorded with, to check the run that continues from it."""
    return {
        "network": network_fingerprint(world),
        "network_name": config.network.name,
        "start_date": config.start_date,
        "horizon_days": config.horizon_days,
        "seed": config.seed,
        "config": {name: _plain(asdict(getattr(config, name))) for name in FORKABLE_SECTIONS},
    }


def check_continuation(state: NetworkState, config: TwinConfig, world: World) -> list[str]:
    """Refuse a state this run cannot continue; returns what a fork changes (empty when nothing does)."""
    recorded, wanted = state.run, run_identity(config, world)
    expected_dimensions = dimensions_of(world, config.horizon_days)
    for name, size in expected_dimensions.items():
        if state.dimensions.get(name, size) != size:
            field = "horizon_days" if name == "days" else f"network.{name}"
            raise ConfigError(field, size, f"does not match the snapshot's {state.dimensions.get(name)}")
    for key, field in (
        ("network", "network"),
        ("start_date", "start_date"),
        ("horizon_days", "horizon_days"),
    ):
        if recorded.get(key) != wanted[key]:
            shown = wanted["network_name"] if key == "network" else wanted[key]
            raise ConfigError(
                field,
                shown,
                f"the snapshot was taken with {recorded.get('network_name') if key == 'network' else recorded.get(key)!r}"
                + (" (another network: its dealers, SKUs or specs differ)" if key == "network" else "")
                + "; a run continues only on the same network, start date and horizon",
            )
    differences = []
    if recorded.get("seed") != wanted["seed"]:
        differences.append(f"seed: {recorded.get('seed')} -> {wanted['seed']}")
    before, after = _flatten(recorded.get("config", {})), _flatten(wanted["config"])
    for key in sorted(set(before) | set(after)):
        if before.get(key, "<absent>") != after.get(key, "<absent>"):
            differences.append(f"{key}: {before.get(key, '<absent>')!r} -> {after.get(key, '<absent>')!r}")
    if differences and not config.fork:
        raise ConfigError(
            differences[0].split(":", 1)[0],
            differences[0].split(": ", 1)[1],
            f"differs from the snapshot ({len(differences)} setting(s) differ); to continue as a what-if from "
            "this state, set fork=true",
        )
    return differences


def _plain(value: Any) -> Any:
    """A config section as JSON would give it back (tuples as lists, inf as inf)."""
    return json.loads(json.dumps(value))


def _flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(tree, dict):
        flat: dict[str, Any] = {}
        for key, value in tree.items():
            flat |= _flatten(value, f"{prefix}{key}.")
        return flat
    return {prefix[:-1]: tree}


# -- timed steps caught half-way --------------------------------------------------------------------------
def resume_in_flight(flow: VehicleFlow, state: NetworkState) -> None:
    """Restart the builds, trunk legs, carrier loads and returning trucks the state caught half-way."""
    env, now = flow.env, flow.env.now
    vehicles, carriers = state.section("vehicles"), state.section("carriers")
    for vid, eta in np.asarray(vehicles["builds_in_progress"]).tolist():
        flow.build(int(vid), max(0.0, eta - now))
    trunks = np.asarray(vehicles["trunks_on_road"])
    for token in np.unique(trunks[:, 0]).tolist() if trunks.size else []:
        rows = trunks[trunks[:, 0] == token]
        flow.trunk(
            [int(v) for v in rows[:, 2]], int(rows[0, 1]), max(0.0, float(rows[0, 3]) - now), departed=True
        )
    loads = np.asarray(carriers["loads_on_road"])
    for token in np.unique(loads[:, 0]).tolist() if loads.size else []:
        rows = loads[loads[:, 0] == token]
        dealer, carrier, eta, back = int(rows[0, 1]), int(rows[0, 2]), float(rows[0, 4]), float(rows[0, 5])
        env.process(
            flow.carriers.resume_load(
                dealer, carrier, [int(v) for v in rows[:, 3]], max(0.0, eta - now), back
            )
        )
    for carrier, free_at in np.asarray(carriers["trucks_returning"]).tolist():
        env.process(flow.carriers.hold_truck(int(carrier), max(0.0, free_at - now)))


def resume_truck_claims(
    flow: VehicleFlow, blocks: Sequence[VehicleFleetBlock], state: NetworkState | None
) -> None:
    """Carrier disruptions' holds and the loads that were waiting for a truck claim their trucks again, in the
    order they first did: a disruption's holds at its start, a load when it was formed (one formed before a
    disruption began is ahead of its holds, and gets the next truck back). Call after the trucks already out
    have claimed theirs (``resume_in_flight``); a disruption yet to start claims when it starts."""
    carriers = flow.carriers
    claims: list[tuple[float, int, int, Callable[[], object]]] = [
        (float(block.start_day), 0, index, partial(flow.env.process, carriers.block_trucks(block)))
        for index, block in enumerate(blocks)
    ]
    if state is not None:
        rows = np.asarray(state.section("carriers")["loads_waiting"], dtype=np.float64).reshape(-1, 5)
        for number in np.unique(rows[:, 0]).astype(np.int64).tolist():
            load = rows[rows[:, 0] == number]
            dealer, carrier, claimed_day = int(load[0, 1]), int(load[0, 2]), float(load[0, 4])
            vehicles = load[:, 3].astype(np.int64).tolist()
            claims.append(
                (
                    claimed_day,
                    1,
                    number,
                    partial(flow.env.process, carriers.carry_load(dealer, carrier, vehicles, claimed_day)),
                )
            )
    for _, _, _, start in sorted(claims, key=lambda claim: claim[:3]):
        start()


#: arrays of the timed steps a restored run has not restarted yet (a snapshot taken before it advances
#: copies them from the state it was restored from)
IN_FLIGHT = (
    ("vehicles", "builds_in_progress"),
    ("vehicles", "trunks_on_road"),
    ("carriers", "loads_on_road"),
    ("carriers", "trucks_returning"),
    ("carriers", "loads_waiting"),
)
