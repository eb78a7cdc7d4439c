"""Rebalancing recommendations waiting for a manager, and the decision on each (OEM roles).

A decision is the human step of the OEM policy engine: it is recorded (decision, user, time, the state's day,
the recommendation as shown) in SQLite and appended to ``approvals.jsonl`` beside the state, and the
recommendation leaves the waiting list at once; approved ones show in transfers in flight as dispatching.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException
from fastapi.responses import RedirectResponse, Response

from twin.web.dependencies import ApproverDep, CsrfDep, OemDep, Services, ServicesDep, StateDep
from twin.web.presenters import records_from_frame
from twin.web.records import Decision, DecisionConflictError
from twin.web.routers.approvals_view import decision_record, waiting_frame
from twin.web.schemas import DecisionMade, DecisionRequest, Kpis, Recommendations, StateInfo
from twin.web.service import ServedState

router = APIRouter(tags=["recommendations"])
#: the form's and the API's verbs, and what is recorded
DECISION_WORDS = {"approve": "approved", "reject": "rejected"}


def decide(
    found: Services, served: ServedState, user_name: str, approval: str, verb: str, note: str
) -> Decision:
    """Record one decision on a waiting recommendation of the live state."""
    if served is not found.states.current:
        raise HTTPException(409, "decisions are taken on the live state, not on a past day")
    waiting = waiting_frame(found, served)
    rows = waiting[waiting["approval"] == approval]
    if rows.empty:
        earlier = found.decisions.get(approval)
        if earlier is not None:
            raise HTTPException(
                409,
                str(DecisionConflictError(approval, earlier.decision, earlier.user_name, earlier.decided_at)),
            )
        raise HTTPException(
            404, f"recommendation={approval!r}: not waiting for approval in the state of day {served.day}"
        )
    recommendation = records_from_frame(rows)[0]
    try:
        return found.decisions.record(
            approval, DECISION_WORDS[verb], user_name, served.day, note, recommendation
        )
    except DecisionConflictError as conflict:
        raise HTTPException(409, str(conflict)) from None


@router.get("/api/recommendations", response_model=Recommendations)
async def api_recommendations(found: ServicesDep, user: OemDep, served: StateDep) -> Recommendations:
    """Transfers waiting for approval (one row per approval, its lines summed) and the decisions taken."""
    return Recommendations(
        day=served.day,
        as_of=str(served.view.as_of),
        waiting=records_from_frame(waiting_frame(found, served)),
        decided=[decision_record(decision) for decision in found.decisions.all()],
    )


@router.post("/api/recommendations/{approval}/decision", response_model=DecisionMade)
def api_decide(
    approval: str, body: DecisionRequest, found: ServicesDep, user: ApproverDep, session: CsrfDep
) -> DecisionMade:
    made = decide(found, found.states.current, user.name, approval, body.decision, body.note)
    return DecisionMade(
        recommendation_id=made.recommendation_id,
        decision=made.decision,
        user=made.user_name,
        decided_at=made.decided_at,
        state_day=made.state_day,
    )


@router.post("/atlas/recommendations/{approval}/decision", include_in_schema=False)
def form_decide(
    approval: str,
    found: ServicesDep,
    user: ApproverDep,
    session: CsrfDep,
    decision: Annotated[str, Form(pattern="^(approve|reject)$")],
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    made = decide(found, found.states.current, user.name, approval, decision, note)
    return RedirectResponse(
        f"/atlas/recommendations?done={made.recommendation_id}:{made.decision}", status_code=303
    )


@router.get("/api/state", response_model=StateInfo)
async def api_state(found: ServicesDep, user: OemDep) -> StateInfo:
    current = found.states.current
    return StateInfo(
        day=current.day,
        as_of=str(current.view.as_of),
        version=current.version,
        source=current.view.source,
        days=[entry.day for entry in found.states.entries if entry.day is not None],
    )


@router.get("/api/kpis", response_model=Kpis)
async def api_kpis(user: OemDep, served: StateDep) -> Kpis:
    from twin.web.presenters import json_value

    kpis: dict[str, Any] = served.cached(
        "atlas", "kpis", lambda: {key: json_value(value) for key, value in served.view.kpis().items()}
    )
    return Kpis(day=served.day, as_of=str(served.view.as_of), kpis=kpis)
