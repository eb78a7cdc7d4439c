"""The dealer portal: one page with the dealership's own panels, and the ask-Clara box.

The dealer is always the session's (``current_dealer``): there is no dealer id in any portal URL to change.
The panels are rendered once per state and dealer (``dealer_panels_html``); a request renders only the shell.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from twin.web.clara_bridge import ask_clara
from twin.web.dependencies import CsrfDep, DealerDep, Services, ServicesDep, SessionDep
from twin.web.pages import render
from twin.web.panels import dealer_panels
from twin.web.routers.approvals_view import dealer_panels_html
from twin.web.routers.common import page_context
from twin.web.schemas import MAXIMUM_QUESTION_CHARACTERS
from twin.web.security import Session

router = APIRouter(tags=["dealer portal"], include_in_schema=False)


def _context(found: Services, session: Session, dealer_id: str, **extra: Any) -> dict[str, Any]:
    served = found.states.current
    return page_context(
        found, session, served, "Dealer portal", panels=dealer_panels(served, dealer_id),
        panels_html=dealer_panels_html(found, served, dealer_id), **extra,
    )  # fmt: skip


@router.get("/portal")
async def portal(request: Request, found: ServicesDep, session: SessionDep, dealer_id: DealerDep) -> Response:
    return render(request, "portal.html", _context(found, session, dealer_id))


@router.post("/portal/ask")
def portal_ask(
    request: Request,
    found: ServicesDep,
    session: CsrfDep,
    dealer_id: DealerDep,
    text: Annotated[str, Form(min_length=1, max_length=MAXIMUM_QUESTION_CHARACTERS)],
) -> Response:
    """The ask box without JavaScript: the answer is shown on the portal page."""
    reply = ask_clara(found, found.states.current, session.user, dealer_id, text)
    return render(request, "portal.html", _context(found, session, dealer_id, reply=reply, asked=text))
