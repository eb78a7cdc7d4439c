"""``POST /api/ask``: a question to Clara, answered from the served state.

A dealer user asks about its own dealership (the session's dealer; a ``dealer_id`` naming another is 403).
An OEM user asks on a dealer's behalf and must name the dealer (``dealer_id``), e.g. a regional manager
checking what the dealer would be told.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException

from twin.web.clara_bridge import ask_clara, reply_json
from twin.web.dependencies import CsrfDep, ServicesDep, echoed
from twin.web.schemas import AskRequest

router = APIRouter(tags=["Clara"])


@router.post("/api/ask")
def api_ask(body: AskRequest, found: ServicesDep, session: CsrfDep) -> dict[str, Any]:
    user = session.user
    served = found.states.current
    if user.is_oem:
        if not body.dealer_id:
            raise HTTPException(
                400, "dealer_id: an OEM user asks on a dealer's behalf and must name the dealer"
            )
        if body.dealer_id not in served.view.dealer_ids:
            raise HTTPException(404, f"dealer_id={echoed(body.dealer_id)}: no such dealer in the network")
        dealer_id = body.dealer_id
    else:
        if body.dealer_id is not None and body.dealer_id != user.dealer_id:
            raise HTTPException(403, "a dealer user may ask only about its own dealership")
        dealer_id = str(user.dealer_id)
    if not body.text.strip():
        raise HTTPException(422, "text: the question is empty")
    return reply_json(ask_clara(found, served, user, dealer_id, body.text))
