"""Where the served states come from, and how the server notices a newer one.

``state=`` may name a twin-run folder (its final ``state/`` and its ``snapshots/day_NNN/``: a planner may pick
the day), one state folder (``meta.json``), or a twin-shadow folder (its newest checkpoint or live state, which
moves on while the shadow runs). Empty: the newest twin-run folder under ``./outputs`` that holds a state, else
what ``twin.views.load_view(None)`` falls back to.

A newer state is noticed by a signature: the state files' paths and modification times, read without opening
them (a few ``stat`` calls per refresh).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from twin.errors import TwinError

STATE_META = "meta.json"
LIVE_META = "live_meta.json"
OUTPUTS = Path("outputs")
#: where state files sit under a served folder: a state, a run's state/ and snapshots/day_NNN/, a shadow's
#: live_state/ and checkpoint/checkpoint-NNNNNN/live/
SIGNATURE_PATTERNS = (
    STATE_META,
    LIVE_META,
    f"*/{STATE_META}",
    f"*/{LIVE_META}",
    f"*/*/{STATE_META}",
    f"*/*/{LIVE_META}",
    f"*/*/*/{LIVE_META}",
)


class StateSourceError(TwinError, ValueError):
    def __init__(self, field: str, value: object, reason: str) -> None:
        self.field, self.value, self.reason = field, value, reason
        super().__init__(field, value, reason)

    def __str__(self) -> str:
        return f"{self.field}={self.value!r}: {self.reason}"


@dataclass(frozen=True)
class StateEntry:
    """One state a planner can choose: its day and folder (``None`` for the loader's own choice)."""

    day: int | None
    path: Path | None
    label: str


def _state_folders(root: Path) -> list[Path]:
    """State folders (with ``meta.json``) a run folder holds: the final state and the snapshots."""
    found = [root / "state"] if (root / "state" / STATE_META).is_file() else []
    snapshots = root / "snapshots"
    if snapshots.is_dir():
        found += sorted(path for path in snapshots.iterdir() if (path / STATE_META).is_file())
    return found


def _day_of(folder: Path) -> int:
    try:
        return int(json.loads((folder / STATE_META).read_text(encoding="utf-8"))["day"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise StateSourceError("state", str(folder), f"meta.json cannot be read ({error})") from None


def newest_run_folder(outputs: Path = OUTPUTS) -> Path | None:
    """The twin-run folder under ``outputs`` whose newest state was written last (None: no run has a state)."""
    if not outputs.is_dir():
        return None
    best: tuple[float, Path] | None = None
    for meta in outputs.glob("*/*/state/" + STATE_META):
        stamp = meta.stat().st_mtime
        if best is None or stamp > best[0]:
            best = (stamp, meta.parent.parent)
    for meta in outputs.glob("*/*/snapshots/*/" + STATE_META):
        stamp = meta.stat().st_mtime
        if best is None or stamp > best[0]:
            best = (stamp, meta.parent.parent.parent)
    return best[1] if best else None


class StateSource:
    """The folder served and the states in it."""

    def __init__(self, setting: str) -> None:
        self.setting = setting
        if setting:
            root = Path(setting).expanduser()
            if not root.is_dir():
                raise StateSourceError(
                    "state", setting, "is not a folder (a twin-run, state or twin-shadow folder)"
                )
            self.root: Path | None = root.resolve()
        else:
            newest = newest_run_folder()
            self.root = newest.resolve() if newest is not None else None

    @property
    def kind(self) -> str:
        if self.root is None:
            return "default"
        if (self.root / STATE_META).is_file():
            return "state"
        if _state_folders(self.root):
            return "run"
        return "live"

    def entries(self) -> list[StateEntry]:
        """The states to choose from, oldest first; the last is the one served by default."""
        kind = self.kind
        if kind == "state" and self.root is not None:
            return [StateEntry(_day_of(self.root), self.root, f"state {self.root.name}")]
        if kind == "run" and self.root is not None:
            by_day: dict[int, Path] = {}
            for folder in _state_folders(self.root):
                day = _day_of(folder)
                # the final state and a snapshot of the same day are the same state: keep the final one
                if day not in by_day or folder.name == "state":
                    by_day[day] = folder
            return [StateEntry(day, by_day[day], f"day {day}") for day in sorted(by_day)]
        return [StateEntry(None, self.root, "live" if kind == "live" else "default")]

    def signature(self) -> tuple[tuple[str, int], ...]:
        """Changes whenever a state file is written or replaced under the folder (``SIGNATURE_PATTERNS``)."""
        if self.root is None:
            return ()
        stamps: list[tuple[str, int]] = []
        for pattern in SIGNATURE_PATTERNS:
            for path in self.root.glob(pattern):
                try:
                    stamps.append((str(path.relative_to(self.root)), path.stat().st_mtime_ns))
                except OSError:
                    continue  # replaced while we looked: the next refresh sees it
        return tuple(sorted(stamps))

    @property
    def approvals_file(self) -> Path:
        """Where approval decisions are written for shadow mode or a fork to apply: beside the state served."""
        return (self.root if self.root is not None else Path.cwd()) / "approvals.jsonl"


def dealer_ids_of(path: str) -> tuple[str, ...]:
    """The dealer ids of the network a run, state or shadow folder holds (``twin-users add --network``)."""
    from twin.views import load_view

    return tuple(load_view(path).dealer_ids)
