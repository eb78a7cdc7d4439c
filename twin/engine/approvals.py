"""People's decisions on transfer approvals, taken in Atlas, read back into the twin.

The web app appends each decision to ``approvals.jsonl`` in the folder it serves (docs/web.md, format 1): a
``recommendation_id`` ``A<token>`` (an approval still waiting in the state's ``transfers:awaiting`` table) and
``approved`` or ``rejected``. A run that starts from that state (``twin-run start_from_snapshot=...``) applies
them before its first step: an approved transfer ships at the first chance (the person decided: no simulated
wait is left), a rejected one is dropped. Lines of another format, or for approvals the state no longer holds,
are ignored and counted; a malformed line stops the run naming the file, the line and the field.
"""

from __future__ import annotations

import json
from pathlib import Path

from twin.errors import ConfigError

APPROVALS_FILE = "approvals.jsonl"
APPROVALS_FORMAT = 1
DECISIONS = {"approved": True, "rejected": False}


def find_approvals(start_folder: str | Path) -> Path | None:
    """``approvals.jsonl`` beside the state: in its folder, or in the run folder holding it (``<run>/state``)."""
    folder = Path(start_folder)
    for candidate in (folder / APPROVALS_FILE, folder.parent / APPROVALS_FILE):
        if candidate.is_file():
            return candidate
    return None


def read_approvals(path: Path) -> dict[int, bool]:
    """Approval token -> approved, the last decision of a recommendation winning (the web app records one)."""
    decisions: dict[int, bool] = {}
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            where = f"{path.name} line {number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise ConfigError(where, line.strip()[:80], f"is not JSON ({error.msg})") from None
            if not isinstance(record, dict):
                raise ConfigError(where, line.strip()[:80], "must be a JSON object")
            if record.get("format") != APPROVALS_FORMAT:
                continue
            identifier = record.get("recommendation_id")
            if not (isinstance(identifier, str) and identifier[:1] == "A" and identifier[1:].isdigit()):
                raise ConfigError(f"{where}: recommendation_id", identifier, "must be A<number>")
            decision = record.get("decision")
            if decision not in DECISIONS:
                raise ConfigError(f"{where}: decision", decision, "must be approved or rejected")
            decisions[int(identifier[1:])] = DECISIONS[decision]
    return decisions
