"""Finding a state and the network it belongs to, and building its view: the edge of the read side.

``load_view(path)`` accepts what a user has at hand:
- a state folder (``meta.json``, ``state.npz``, ``vehicles.parquet``): a snapshot, a run's ``state/``;
- a ``twin-run`` output folder: its final ``state/``, else its newest ``snapshots/day_NNN/``;
- a ``twin-shadow`` folder, its ``live_state/``, ``checkpoint/`` or one ``checkpoint-NNNNNN/``: the live
  state converted by ``twin.live.to_network_state.network_state_from_live`` (the state of the day after
  the last day the shadow closed; see docs/state.md "Starting from the live state");
- None: the newest state of a run under ``./outputs``; when there is none, a built-in world is made once
  (a short run of the small network, written under ``outputs/clara_default/``) so ``twin-ask`` answers
  right after install.

The ``World`` (master data) comes from the run's ``resolved_config.yaml`` beside the state (the run folder
or its parents), else from the network the state names (``conf/network/<name>.yaml``); the state's network
fingerprint must match, or the load is refused naming both. Every refusal is a ``ViewLoadError`` naming
the path. This module imports the engine lazily (the fingerprint, the live conversion, the built-in run);
``NetworkView`` itself stays pure.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path
from typing import Any

from twin.config import POLICY_OPTIONS, NetworkConfig, PolicyConfig, TwinConfig, validate
from twin.domain.state import NetworkState, SnapshotError
from twin.domain.world import World
from twin.errors import TwinError
from twin.views.errors import ViewLoadError
from twin.views.network_view import NetworkView
from twin.views.settings import declared_default

STATE_META = "meta.json"
LIVE_META = "live_meta.json"
RESOLVED_CONFIG = "resolved_config.yaml"
#: where ``load_view(None)`` looks for runs, and where it writes the built-in world when there is none
OUTPUTS_DIR = Path("outputs")
DEFAULT_WORLD_FOLDER = "clara_default"
#: the built-in world: the small network, a month, with the control tower's alerts on
DEFAULT_WORLD_OVERRIDES = (
    "network=small",
    "horizon_days=30",
    "warmup_days=5",
    "logger=none",
    "progress=false",
    "policy.alerts.enabled=true",
)
CONFIG_DIR = Path(__file__).resolve().parents[2] / "conf"
#: generated worlds kept per process by network settings (a service reloading states of one network, or a
#: test loading one state twice, builds its master data once); a user's master-data folder is read each time
WORLD_CACHE_SIZE = 4
_WORLDS: dict[str, World] = {}


def load_view(path: str | Path | None = None, outputs_dir: str | Path | None = None) -> NetworkView:
    """The view of the state at ``path`` (see the module docstring for what a path may be)."""
    if path is None:
        outputs = Path(outputs_dir) if outputs_dir is not None else OUTPUTS_DIR
        latest = latest_state_folder(outputs)
        if latest is None:
            latest = build_default_world(outputs / DEFAULT_WORLD_FOLDER)
        return _view_of_state_folder(latest)
    folder = Path(path)
    if not folder.exists():
        raise ViewLoadError("state", str(path), "no such file or folder")
    if not folder.is_dir():
        raise ViewLoadError(
            "state", str(path), "is a file: name a state folder, a twin-run folder or a twin-shadow folder"
        )
    if (folder / STATE_META).is_file():
        return _view_of_state_folder(folder)
    if _looks_live(folder):
        return _view_of_live_state(folder)
    newest = newest_state_in_run(folder)
    if newest is not None:
        return _view_of_state_folder(newest)
    raise ViewLoadError(
        "state",
        str(path),
        "is not a state folder (no meta.json), a twin-run folder (no state/ or snapshots/day_NNN/) or a "
        "twin-shadow live state (no live_meta.json)",
    )


# -- finding -------------------------------------------------------------------------------------------------
def newest_state_in_run(folder: Path) -> Path | None:
    """A run folder's final state, else its latest snapshot (by day); None when it has neither."""
    if (folder / "state" / STATE_META).is_file():
        return folder / "state"
    snapshots = sorted(
        (
            candidate
            for candidate in (folder / "snapshots").glob("day_*")
            if (candidate / STATE_META).is_file()
        ),
        key=lambda candidate: int(candidate.name.split("_", 1)[1]) if candidate.name[4:].isdigit() else -1,
    )
    return snapshots[-1] if snapshots else None


def latest_state_folder(outputs: Path) -> Path | None:
    """The most recently written state under ``outputs`` (a run's final state or snapshot)."""
    if not outputs.is_dir():
        return None
    metas = [*outputs.glob(f"**/state/{STATE_META}"), *outputs.glob(f"**/snapshots/day_*/{STATE_META}")]
    if not metas:
        return None
    return max(metas, key=lambda meta: meta.stat().st_mtime).parent


def _looks_live(folder: Path) -> bool:
    return any(
        (folder / name).exists()
        for name in (LIVE_META, "live_state", "checkpoint", "CURRENT", f"live/{LIVE_META}")
    )


def find_resolved_config(folder: Path, levels: int = 3) -> Path | None:
    """``resolved_config.yaml`` in the folder or one of its ``levels`` parents (a run folder holds it)."""
    for candidate in [folder, *list(folder.resolve().parents)[:levels]]:
        if (candidate / RESOLVED_CONFIG).is_file():
            return candidate / RESOLVED_CONFIG
    return None


# -- the run's config and world ---------------------------------------------------------------------------------
def config_from_resolved(path: Path) -> TwinConfig:
    """A ``TwinConfig`` from a run's resolved config (keys of other entry points, e.g. a shadow's
    ``feed``/``shadow``, are left out)."""
    from omegaconf import OmegaConf

    from twin.hydra_store import register_configs

    register_configs()
    try:
        loaded = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
    except Exception as error:  # omegaconf and yaml raise their own kinds for a damaged file
        raise ViewLoadError("resolved_config", str(path), f"cannot be read ({error})") from None
    if not isinstance(loaded, dict):
        raise ViewLoadError("resolved_config", str(path), "is not a mapping of settings")
    known = {entry.name for entry in dataclasses.fields(TwinConfig)}
    kept = {key: value for key, value in loaded.items() if key in known}
    try:
        schema = OmegaConf.structured(_schema_for(kept.get("policy", {})))
        merged = OmegaConf.merge(schema, kept)
        config = OmegaConf.to_object(merged)
    except Exception as error:
        raise ViewLoadError(
            "resolved_config", str(path), f"does not fit this twin's settings ({error})"
        ) from None
    if not isinstance(config, TwinConfig):
        raise ViewLoadError("resolved_config", str(path), "did not compose to a twin config")
    return config


def _schema_for(policy: Any) -> TwinConfig:
    """A config whose policy families hold the option classes the resolved file names by ``_target_``
    (the families are typed ``Any``: the schema must be the chosen option's class to merge into)."""
    chosen: dict[str, Any] = {}
    for family, options in POLICY_OPTIONS.items():
        target = policy.get(family, {}).get("_target_") if isinstance(policy, dict) else None
        for option in options.values():
            if declared_default(option, "_target_") == target:
                chosen[family] = option()
    return TwinConfig(policy=PolicyConfig(**chosen))


def network_config_by_name(name: str) -> NetworkConfig | None:
    """The network a state names, from ``conf/network/<name>.yaml`` or a debug preset; None if unknown."""
    from omegaconf import OmegaConf

    candidates = [CONFIG_DIR / "network" / f"{name}.yaml"]
    for path in candidates:
        if path.is_file():
            merged = OmegaConf.merge(OmegaConf.structured(NetworkConfig), OmegaConf.load(path))
            network = OmegaConf.to_object(merged)
            return network if isinstance(network, NetworkConfig) else None
    for path in sorted((CONFIG_DIR / "debug").glob("*.yaml")):
        preset = OmegaConf.to_container(OmegaConf.load(path))
        section = preset.get("network") if isinstance(preset, dict) else None
        if isinstance(section, dict) and section.get("name") == name:
            network = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(NetworkConfig), section))
            return network if isinstance(network, NetworkConfig) else None
    return None


def world_for_state(state: NetworkState, folder: Path) -> World:
    """The master data the state was written on, checked against its recorded network fingerprint."""
    from twin.components import load_world
    from twin.engine.snapshot import network_fingerprint

    resolved = find_resolved_config(folder)
    if resolved is not None:
        network = config_from_resolved(resolved).network
        told_by = str(resolved)
    else:
        name = str(state.run.get("network_name", ""))
        found = network_config_by_name(name)
        if found is None:
            raise ViewLoadError(
                "state",
                str(folder),
                f"names the network {name!r}, and there is no {RESOLVED_CONFIG} beside it (its run folder) "
                "nor a conf/network file of that name: the master data cannot be told",
            )
        network, told_by = found, f"conf/network/{name}.yaml"
    key = repr(sorted(dataclasses.asdict(network).items()))
    world = _WORLDS.get(key)
    if world is None:
        try:
            world = load_world(dataclasses.replace(TwinConfig(), network=network))
        except TwinError as error:
            raise ViewLoadError("network", told_by, f"cannot be built ({error})") from None
        if not network.master_data_dir:  # a user's files may change between loads: read them every time
            if len(_WORLDS) >= WORLD_CACHE_SIZE:
                _WORLDS.clear()
            _WORLDS[key] = world
    recorded = state.run.get("network")
    if recorded and recorded != network_fingerprint(world):
        raise ViewLoadError(
            "network",
            told_by,
            f"gives another network (fingerprint {network_fingerprint(world)}) than the state in {folder} was "
            f"written on ({recorded})",
        )
    return world


def _view_of_state_folder(folder: Path) -> NetworkView:
    try:
        state = NetworkState.load(folder)
    except SnapshotError as error:
        raise ViewLoadError("state", str(folder), f"cannot be read: {error}") from None
    return NetworkView.from_state(state, world_for_state(state, folder), source=str(folder))


def _view_of_live_state(folder: Path) -> NetworkView:
    from twin.components import load_world
    from twin.live.to_network_state import (
        find_live_state,
        live_state_day,
        network_state_from_live,
        read_live_state,
    )

    live_folder = find_live_state(folder)
    if live_folder is None:
        raise ViewLoadError(
            "state", str(folder), "looks like a twin-shadow folder but holds no live state yet"
        )
    resolved = find_resolved_config(live_folder, levels=4)
    if resolved is None:
        raise ViewLoadError(
            "state",
            str(folder),
            f"is a live state without the shadow's {RESOLVED_CONFIG}: its network is unknown",
        )
    config = config_from_resolved(resolved)
    try:
        validate(config)
        world = load_world(config)
        live = read_live_state(live_folder, config, world)
        day = live_state_day(live)
        if day > config.horizon_days:
            config = dataclasses.replace(config, horizon_days=day)
        state = network_state_from_live(live, config, world, day)
    except TwinError as error:
        raise ViewLoadError("state", str(live_folder), f"cannot be converted: {error}") from None
    state.provenance["live_state"] = str(live_folder)
    return NetworkView.from_state(state, world, source=f"live state {live_folder}")


# -- the built-in world -------------------------------------------------------------------------------------
def build_default_world(target: Path) -> Path:
    """Run the small network for a month (seconds) and keep its final state: a world to ask about before
    any run was made. Returns the state folder."""
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from twin.engine.simulation import Simulation
    from twin.hydra_store import register_configs

    register_configs()
    started = time.perf_counter()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("config", overrides=list(DEFAULT_WORLD_OVERRIDES))
    config = OmegaConf.to_object(cfg)
    if not isinstance(config, TwinConfig):
        raise ViewLoadError("config", "built-in world", "did not compose to a twin config")
    validate(config)
    folder = target / time.strftime("%Y-%m-%d_%H-%M-%S")
    simulation = Simulation(config)
    simulation.run()
    simulation.snapshot().save(folder / "state")
    (folder / RESOLVED_CONFIG).write_text(OmegaConf.to_yaml(cfg, resolve=True))
    print(
        f"no run with a state under {target.parent}: made the built-in world ({' '.join(DEFAULT_WORLD_OVERRIDES)}) "
        f"in {time.perf_counter() - started:.1f} s, state in {folder / 'state'}",
        file=sys.stderr,
    )
    return folder / "state"
