"""The network state: everything a day starts from, as one versioned, documented and validated object.

The engine steps it, a snapshot saves it, shadow mode (live feeds) builds it, and Clara and the web view read
it. It is plain data (numpy arrays, one pandas table of VINs, JSON metadata), so a live integrator can
produce it without the simulator. ``STATE_SCHEMA`` below is the contract: every array by section, with its
dtype, shape (named network dimensions), unit and meaning. Each section is owned by one engine component,
which alone writes and reads it; the snapshot module only walks the components.

On disk a state is a folder:
- ``state.npz``: every array, keyed ``"<section>:<field>"`` (numpy's compressed archive, no pickles);
- ``vehicles.parquet``: one row per VIN ever built or ordered (``VEHICLE_COLUMNS``), row number = vehicle id;
- ``meta.json``: ``schema_version``, the day the state starts, the seed, the network's dimensions and
  fingerprint, the run's identity (what it may be continued with), the random streams, and a SHA-256 of each
  data file, written last so a folder with a meta file is complete.

``NetworkState.load`` runs ``validate()``: a truncated, edited or inconsistent state fails with a
``SnapshotError`` that names the file, the field and the value, never a traceback or a silent run.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from twin.domain.state_checks import (
    DATA_FILES,
    META_FILE,
    STATE_FILE,
    VEHICLES_FILE,
    SnapshotError,
    check_field,
    check_kpi_day,
    check_meta_values,
    check_open_field,
    check_vehicles,
)
from twin.domain.state_schema import (
    SCHEMA_VERSION,
    SECTIONS,
    STATE_SCHEMA,
    VEHICLE_COLUMN_NAMES,
    VEHICLE_COLUMNS,
    row_table,
    schema_markdown,
    table_rows,
)

__all__ = [
    "SCHEMA_VERSION",
    "STATE_SCHEMA",
    "VEHICLE_COLUMNS",
    "VEHICLE_COLUMN_NAMES",
    "NetworkState",
    "SnapshotError",
    "row_table",
    "schema_markdown",
    "table_rows",
]


def write_npz(path: Path, arrays: dict[str, npt.NDArray[Any]]) -> None:
    """``np.savez_compressed`` at zlib level 1: what ``np.load`` reads, in about half the time (a default
    year's ledger and VIN-sized arrays are ~190 MB raw; level 6 saves a few per cent more space for twice the
    time)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, array in arrays.items():
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)


# -- the state object -----------------------------------------------------------------------------------
@dataclass
class NetworkState:
    """The whole state at the start of ``day``: arrays by ``"section:field"``, the VIN table, and metadata."""

    day: int
    seed: int
    arrays: dict[str, npt.NDArray[Any]]
    vehicles: pd.DataFrame
    #: sizes of the named dimensions (``DIMENSIONS`` except ``vehicles``, ``cells``, ``dealer_cells``)
    dimensions: dict[str, int]
    #: what the state may be continued with: network fingerprint, start date, horizon, seed and the config
    #: sections that shape the future (``twin.engine.state_io.run_identity``)
    run: dict[str, Any] = field(default_factory=dict)
    #: bit-generator state of every named random stream used so far
    streams: dict[str, Any] = field(default_factory=dict)
    #: free-form provenance (what wrote it, forked from what)
    provenance: dict[str, Any] = field(default_factory=dict)

    def section(self, name: str) -> dict[str, npt.NDArray[Any]]:
        """The arrays of one section, keyed by field name (empty when the section is absent)."""
        prefix = f"{name}:"
        return {key[len(prefix) :]: value for key, value in self.arrays.items() if key.startswith(prefix)}

    def has_section(self, name: str) -> bool:
        prefix = f"{name}:"
        return any(key.startswith(prefix) for key in self.arrays)

    def sizes(self) -> dict[str, int]:
        sizes = dict(self.dimensions)
        sizes["vehicles"] = len(self.vehicles)
        sizes["cells"] = sizes.get("locations", 0) * sizes.get("skus", 0)
        sizes["dealer_cells"] = sizes.get("dealers", 0) * sizes.get("skus", 0)
        return sizes

    # -- disk ----------------------------------------------------------------------------------------
    def save(self, folder: str | Path) -> Path:
        """Write the three files; ``meta.json`` last and atomically, with the digests of the other two."""
        target = Path(folder)
        target.mkdir(parents=True, exist_ok=True)
        write_npz(target / STATE_FILE, self.arrays)
        self.vehicles.to_parquet(target / VEHICLES_FILE, index=False)
        meta = {
            "schema_version": SCHEMA_VERSION,
            "day": self.day,
            "seed": self.seed,
            "dimensions": self.dimensions,
            "vehicles": len(self.vehicles),
            "sections": sorted({key.split(":", 1)[0] for key in self.arrays}),
            "run": self.run,
            "streams": _jsonable(self.streams),
            "provenance": self.provenance,
            "sha256": {name: _digest(target / name) for name in DATA_FILES},
        }
        temporary = target / f".{META_FILE}.tmp"
        temporary.write_text(json.dumps(meta, indent=1))
        os.replace(temporary, target / META_FILE)
        return target

    @classmethod
    def load(cls, folder: str | Path) -> NetworkState:
        """Read and validate a state folder; any damage is a ``SnapshotError`` naming file and field."""
        source = Path(folder)
        if not source.is_dir():
            raise SnapshotError(
                str(source), "folder", str(source), "is not a snapshot folder (no such directory)"
            )
        for name in (META_FILE, *DATA_FILES):
            if not (source / name).is_file():
                raise SnapshotError(
                    name, "file", str(source / name), "is missing: not a complete snapshot folder"
                )
        meta = _read_meta(source / META_FILE)
        arrays = _read_arrays(source / STATE_FILE)
        vehicles = _read_vehicles(source / VEHICLES_FILE)
        state = cls(
            day=meta["day"],
            seed=meta["seed"],
            arrays=arrays,
            vehicles=vehicles,
            dimensions=meta["dimensions"],
            run=meta["run"],
            streams=meta["streams"],
            provenance=meta.get("provenance", {}),
        )
        state.validate(declared_sections=meta["sections"], declared_vehicles=meta["vehicles"])
        for name in DATA_FILES:
            recorded = meta["sha256"].get(name)
            if recorded != _digest(source / name):
                raise SnapshotError(
                    name,
                    "sha256",
                    recorded,
                    "the file differs from the one this snapshot was written with (edited?)",
                )
        return state

    # -- checks --------------------------------------------------------------------------------------
    def validate(
        self, declared_sections: list[str] | None = None, declared_vehicles: int | None = None
    ) -> None:
        """Check every array against ``STATE_SCHEMA`` and the VIN table against ``VEHICLE_COLUMNS``."""
        check_meta_values(self.day, self.dimensions)
        sizes = self.sizes()
        present = {key.split(":", 1)[0] for key in self.arrays}
        for key in self.arrays:
            section_name, _, name = key.partition(":")
            section = SECTIONS.get(section_name)
            if section is None:
                raise SnapshotError(
                    STATE_FILE, key, section_name, f"unknown section (known: {sorted(SECTIONS)})"
                )
            if section.field(name) is None and not name.startswith(section.open_prefixes or ("\0",)):
                raise SnapshotError(STATE_FILE, key, name, f"is not a field of section {section_name!r}")
        for section in STATE_SCHEMA:
            if section.name not in present:
                if section.optional:
                    continue
                raise SnapshotError(STATE_FILE, f"{section.name}:*", None, "required section is missing")
            for entry in section.fields:
                key = f"{section.name}:{entry.name}"
                if key not in self.arrays:
                    raise SnapshotError(STATE_FILE, key, None, "required field is missing")
                check_field(key, entry, self.arrays[key], sizes)
            for key, value in self.section(section.name).items():
                if section.field(key) is None:
                    check_open_field(f"{section.name}:{key}", value)
        if declared_sections is not None and sorted(present) != sorted(declared_sections):
            raise SnapshotError(
                STATE_FILE,
                "sections",
                sorted(present),
                f"meta.json lists the sections {sorted(declared_sections)}",
            )
        if declared_vehicles is not None and declared_vehicles != len(self.vehicles):
            raise SnapshotError(
                VEHICLES_FILE, "rows", len(self.vehicles), f"meta.json says the table has {declared_vehicles}"
            )
        check_vehicles(self.vehicles, sizes)
        check_kpi_day(self.day, self.arrays)


# -- reading the files ----------------------------------------------------------------------------------
_META_KEYS = {
    "schema_version": int,
    "day": int,
    "seed": int,
    "dimensions": dict,
    "vehicles": int,
    "sections": list,
    "run": dict,
    "streams": dict,
    "sha256": dict,
}


def _read_meta(path: Path) -> dict[str, Any]:
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        raise SnapshotError(META_FILE, "text", None, f"is not UTF-8 text ({error.reason})") from None
    except json.JSONDecodeError as error:
        reason = (
            "is empty" if not path.stat().st_size else f"is not valid JSON (line {error.lineno}: {error.msg})"
        )
        raise SnapshotError(META_FILE, "json", None, reason) from None
    if not isinstance(meta, dict):
        raise SnapshotError(META_FILE, "json", type(meta).__name__, "must be a JSON object")
    version = meta.get("schema_version", meta.get("version"))
    if version != SCHEMA_VERSION:
        raise SnapshotError(
            META_FILE,
            "schema_version",
            version,
            f"this twin reads schema version {SCHEMA_VERSION}; write the state again with this version",
        )
    for key, kind in _META_KEYS.items():
        if key not in meta:
            raise SnapshotError(META_FILE, key, None, "is missing")
        value = meta[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise SnapshotError(META_FILE, key, value, f"must be a JSON {kind.__name__}")
    if meta["seed"] < 0:
        raise SnapshotError(META_FILE, "seed", meta["seed"], "must be >= 0")
    for name, state in meta["streams"].items():
        if (
            not isinstance(state, dict)
            or not isinstance(state.get("bit_generator"), str)
            or "state" not in state
        ):
            raise SnapshotError(META_FILE, f"streams.{name}", state, "must be a bit generator's state")
    return meta


def _read_arrays(path: Path) -> dict[str, npt.NDArray[Any]]:
    try:
        with np.load(path, allow_pickle=False) as archive:
            if not isinstance(archive, np.lib.npyio.NpzFile):
                raise SnapshotError(STATE_FILE, "format", None, "is not a numpy .npz archive")
            arrays: dict[str, npt.NDArray[Any]] = {}
            for name in archive.files:
                try:
                    arrays[name] = archive[name]
                except ValueError as error:  # object arrays need pickles, which a state never holds
                    raise SnapshotError(STATE_FILE, name, None, f"cannot be read safely ({error})") from None
    except SnapshotError:
        raise
    except (OSError, EOFError, ValueError, zipfile.BadZipFile, KeyError) as error:
        empty = path.stat().st_size == 0
        reason = "is empty" if empty else f"cannot be read: truncated or not an .npz archive ({error})"
        raise SnapshotError(STATE_FILE, "archive", None, reason) from None
    return arrays


def _read_vehicles(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except (
        Exception
    ) as error:  # pyarrow raises its own hierarchy (ArrowInvalid, OSError...) for damaged files
        empty = path.stat().st_size == 0
        reason = "is empty" if empty else f"cannot be read: truncated or not Parquet ({type(error).__name__})"
        raise SnapshotError(VEHICLES_FILE, "table", None, reason) from None


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return value
    return value
