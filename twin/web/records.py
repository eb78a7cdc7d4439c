"""What people decide and ask in the app: approval decisions on transfer recommendations, and dealer questions
Clara escalated to the regional manager. Both in SQLite (the audit); decisions also appended to
``approvals.jsonl`` beside the state, the file shadow mode or a fork reads to apply them (docs/web.md).
"""

from __future__ import annotations

import builtins
import datetime as dt
import json
import os
import sqlite3
import threading
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from twin.errors import TwinError
from twin.web.database import Database

DECISIONS = ("approved", "rejected")
ESCALATION_STATUSES = ("open", "closed")
#: the version of an approvals.jsonl line; a reader refuses lines of another version
APPROVALS_FORMAT = 1


class DecisionConflictError(TwinError):
    """The recommendation was decided already (by someone else, or by a double click)."""

    def __init__(self, recommendation_id: str, decision: str, user_name: str, decided_at: str) -> None:
        self.recommendation_id, self.decision, self.user_name, self.decided_at = (
            recommendation_id,
            decision,
            user_name,
            decided_at,
        )
        super().__init__(recommendation_id, decision, user_name, decided_at)

    def __str__(self) -> str:
        return (
            f"recommendation {self.recommendation_id} was already {self.decision} by {self.user_name} "
            f"at {self.decided_at}"
        )


@dataclass(frozen=True)
class Decision:
    recommendation_id: str
    decision: str
    user_name: str
    decided_at: str
    state_day: int
    note: str
    recommendation: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": APPROVALS_FORMAT,
            "recommendation_id": self.recommendation_id,
            "decision": self.decision,
            "user": self.user_name,
            "decided_at": self.decided_at,
            "state_day": self.state_day,
            "note": self.note,
            "recommendation": self.recommendation,
        }


class DecisionLog:
    """Approval decisions: one per recommendation, recorded in SQLite and appended to ``approvals.jsonl``."""

    def __init__(self, database: Database, approvals_file: Path) -> None:
        self.database = database
        self.approvals_file = approvals_file
        #: recommendation ids are unique within one run: decisions are kept per served folder
        self.scope = str(approvals_file.parent)
        #: this scope's decisions, read once (this process is their only writer): pages ask on every request
        self._decisions: list[Decision] | None = None
        self._file_lock = threading.Lock()

    def record(
        self,
        recommendation_id: str,
        decision: str,
        user_name: str,
        state_day: int,
        note: str,
        recommendation: dict[str, Any],
    ) -> Decision:
        if decision not in DECISIONS:
            raise ValueError(f"decision={decision!r}: must be one of {', '.join(DECISIONS)}")
        made = Decision(recommendation_id, decision, user_name, _now(), state_day, note, recommendation)
        try:
            self.database.execute(
                "INSERT INTO decisions (scope, recommendation_id, decision, user_name, decided_at, state_day, note, "
                "recommendation) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    self.scope,
                    made.recommendation_id,
                    made.decision,
                    made.user_name,
                    made.decided_at,
                    made.state_day,
                    made.note,
                    json.dumps(made.recommendation, sort_keys=True),
                ),
            )
        except sqlite3.IntegrityError:
            earlier = self.get(recommendation_id)
            if earlier is None:
                raise
            raise DecisionConflictError(
                recommendation_id, earlier.decision, earlier.user_name, earlier.decided_at
            ) from None
        self._decisions = None
        line = json.dumps(made.to_json(), sort_keys=True) + "\n"
        with self._file_lock, self.approvals_file.open("a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
        return made

    def get(self, recommendation_id: str) -> Decision | None:
        rows = self.database.query(
            "SELECT * FROM decisions WHERE scope = ? AND recommendation_id = ?",
            (self.scope, recommendation_id),
        )
        return _decision(rows[0]) if rows else None

    def all(self) -> list[Decision]:
        if self._decisions is None:
            rows = self.database.query(
                "SELECT * FROM decisions WHERE scope = ? ORDER BY decided_at, rowid", (self.scope,)
            )
            self._decisions = [_decision(row) for row in rows]
        return self._decisions

    def decided_ids(self) -> set[str]:
        return {decision.recommendation_id for decision in self.all()}

    def touching(self, dealer_id: str) -> bool:
        """Whether any decision names the dealer as a sender or receiver (a quick test before a page looks)."""
        for decision in self.all():
            recommendation = decision.recommendation
            names = f"{recommendation.get('sender_id', '')}, {recommendation.get('receiver_id', '')}".split(
                ", "
            )
            if dealer_id in names:
                return True
        return False


def _decision(row: sqlite3.Row) -> Decision:
    return Decision(
        row["recommendation_id"],
        row["decision"],
        row["user_name"],
        row["decided_at"],
        int(row["state_day"]),
        row["note"],
        json.loads(row["recommendation"]),
    )


@dataclass(frozen=True)
class Escalation:
    id: int
    dealer_id: str
    user_name: str
    region: str
    text: str
    intent: str
    reason: str
    answer: str
    asked_at: str
    status: str
    closed_by: str | None
    closed_at: str | None


class EscalationQueue:
    """Dealer questions Clara could not answer on its own, waiting for the dealer's regional manager."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def add(
        self, dealer_id: str, user_name: str, region: str, text: str, intent: str, reason: str, answer: str
    ) -> int:
        """Queue a question; the dealer's same question still open is not queued again (its id is returned)."""
        with self.database.transaction() as connection:
            waiting = connection.execute(
                "SELECT id FROM escalations WHERE dealer_id = ? AND status = 'open' AND text = ? LIMIT 1",
                (dealer_id, text),
            ).fetchone()
            if waiting is not None:
                return int(waiting[0])
            cursor = connection.execute(
                "INSERT INTO escalations (dealer_id, user_name, region, text, intent, reason, answer, asked_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (dealer_id, user_name, region, text, intent, reason, answer, _now()),
            )
            return int(cursor.lastrowid or 0)

    def list(
        self,
        status: str | None = "open",
        region: str | None = None,
        dealer_id: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Escalation]:
        """Newest first; ``limit`` and ``offset`` page through them."""
        where, parameters = self._where(status, region, dealer_id)
        columns = ", ".join(field.name for field in fields(Escalation))
        page = ""
        if limit is not None:
            page = " LIMIT ? OFFSET ?"
            parameters += [limit, offset]
        rows = self.database.query(
            f"SELECT {columns} FROM escalations{where} ORDER BY id DESC{page}", parameters
        )
        return [Escalation(*row) for row in rows]

    def count(self, status: str | None = "open", region: str | None = None) -> int:
        where, parameters = self._where(status, region, None)
        return int(self.database.query(f"SELECT COUNT(*) FROM escalations{where}", parameters)[0][0])

    @staticmethod
    def _where(
        status: str | None, region: str | None, dealer_id: str | None
    ) -> tuple[str, builtins.list[Any]]:
        clauses, parameters = [], []
        for column, value in (("status", status), ("region", region), ("dealer_id", dealer_id)):
            if value:
                clauses.append(f"{column} = ?")
                parameters.append(value)
        return (f" WHERE {' AND '.join(clauses)}" if clauses else ""), parameters

    def close(self, escalation_id: int, user_name: str) -> bool:
        """Mark an open escalation answered; False when there is no such open escalation."""
        return (
            self.database.execute(
                "UPDATE escalations SET status = 'closed', closed_by = ?, closed_at = ? WHERE id = ? AND status = 'open'",
                (user_name, _now(), escalation_id),
            )
            > 0
        )


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
