"""Pydantic schemas of every JSON request and response of the API (``/api/...``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

#: Clara's own limit on a question's length (characters)
MAXIMUM_QUESTION_CHARACTERS = 2000


class Strict(BaseModel):
    """Unknown fields are refused (a typo in a field name is an error, not silently ignored)."""

    model_config = ConfigDict(extra="forbid")


class LoginRequest(Strict):
    user: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class SessionInfo(BaseModel):
    user: str
    role: str
    dealer_id: str | None
    #: send it back as the X-CSRF-Token header on every POST
    csrf_token: str
    expires_at: float


class AskRequest(Strict):
    text: str = Field(min_length=1, max_length=MAXIMUM_QUESTION_CHARACTERS)
    #: OEM users ask on a dealer's behalf and must name it; a dealer user's questions are always its own
    dealer_id: str | None = Field(default=None, max_length=32)


class DecisionRequest(Strict):
    decision: Literal["approve", "reject"]
    note: str = Field(default="", max_length=500)


class StateInfo(BaseModel):
    day: int
    as_of: str
    version: int
    source: str
    days: list[int]


class DealerRows(BaseModel):
    dealer_id: str
    day: int
    as_of: str
    rows: list[dict[str, Any]]


class DealerStatement(BaseModel):
    dealer_id: str
    day: int
    as_of: str
    statement: dict[str, Any]


class Recommendations(BaseModel):
    day: int
    as_of: str
    waiting: list[dict[str, Any]]
    decided: list[dict[str, Any]]


class DecisionMade(BaseModel):
    recommendation_id: str
    decision: str
    user: str
    decided_at: str
    state_day: int


class Kpis(BaseModel):
    day: int
    as_of: str
    kpis: dict[str, float | None]


class DealerStock(BaseModel):
    dealer_id: str
    day: int
    as_of: str
    vehicles: list[dict[str, Any]]
    vehicles_by_spec: list[dict[str, Any]]
    parts: list[dict[str, Any]]
