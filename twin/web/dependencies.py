"""Who is asking, and what they may see: injected into every route, so scoping cannot be forgotten.

The dependencies are coroutines: each is a dictionary read or one indexed SQLite lookup, cheaper than the
hop to a worker thread FastAPI makes for a plain function.

``current_dealer`` is the dealer of the session, never of the URL or the body; ``scoped_dealer`` lets a
dealer user name only its own dealership (403 otherwise, with no data) and an OEM user any dealer of the
network (404 for an unknown id). ``csrf_checked`` guards every state-changing route.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import anyio.to_thread
from fastapi import Depends, HTTPException, Query, Request

from twin.web.accounts import DEALER_ROLE, User, UserStore
from twin.web.database import Database
from twin.web.records import DecisionLog, EscalationQueue
from twin.web.security import (
    APPROVER_ROLES,
    CSRF_FIELD,
    CSRF_HEADER,
    SESSION_COOKIE,
    RateLimiter,
    Session,
    SessionManager,
    csrf_matches,
)
from twin.web.service import ServedState, StateService
from twin.web.settings import ServeConfig


@dataclass
class Services:
    """Everything a request may use, built once when the app starts."""

    settings: ServeConfig
    database: Database
    users: UserStore
    sessions: SessionManager
    limiter: RateLimiter
    #: questions to Clara per user (``questions.*``)
    question_limiter: RateLimiter
    states: StateService
    decisions: DecisionLog
    escalations: EscalationQueue


class NotSignedInError(Exception):
    """No live session: 401 for the API, a redirect to the sign-in page for pages."""


async def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


ServicesDep = Annotated[Services, Depends(services)]


async def current_session(request: Request, found: ServicesDep) -> Session:
    session = found.sessions.find(request.cookies.get(SESSION_COOKIE))
    if session is None:
        raise NotSignedInError()
    return session


SessionDep = Annotated[Session, Depends(current_session)]


async def current_user(session: SessionDep) -> User:
    return session.user


UserDep = Annotated[User, Depends(current_user)]


async def current_dealer(user: UserDep) -> str:
    """The session's dealer; OEM users have none (they use the Atlas routes)."""
    if user.role != DEALER_ROLE or not user.dealer_id:
        raise HTTPException(403, "this is a dealer's page; OEM users see the dealers in Atlas")
    return user.dealer_id


DealerDep = Annotated[str, Depends(current_dealer)]


async def oem_user(user: UserDep) -> User:
    if not user.is_oem:
        raise HTTPException(403, "OEM roles only (field_ops, sales_ops, finance, admin)")
    return user


OemDep = Annotated[User, Depends(oem_user)]


async def approver(user: OemDep) -> User:
    if user.role not in APPROVER_ROLES:
        raise HTTPException(
            403, f"role {user.role} may not decide transfers ({', '.join(APPROVER_ROLES)} may)"
        )
    return user


ApproverDep = Annotated[User, Depends(approver)]


async def csrf_checked(request: Request, session: SessionDep) -> Session:
    """The request carries this session's CSRF token (header for JSON, form field for pages): else 403."""
    supplied = request.headers.get(CSRF_HEADER)
    if supplied is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        supplied = value if isinstance(value, str) else None
    if not csrf_matches(session, supplied):
        raise HTTPException(403, f"CSRF token missing or wrong: send the session's token as {CSRF_HEADER}")
    return session


CsrfDep = Annotated[Session, Depends(csrf_checked)]


async def served_state(
    found: ServicesDep, user: UserDep, day: Annotated[int | None, Query(ge=0)] = None
) -> ServedState:
    """The live state; an OEM planner may ask for another day of a run folder (``?day=N``)."""
    if day is None or not user.is_oem:
        return found.states.current
    # another day may need loading (seconds on the default network): in a worker thread, never on the event
    # loop, where it would hold up every other request
    served = await anyio.to_thread.run_sync(found.states.for_day, day)
    if served is None:
        days = [entry.day for entry in found.states.entries if entry.day is not None]
        raise HTTPException(404, f"day={day}: no state of that day here (days: {days})")
    return served


StateDep = Annotated[ServedState, Depends(served_state)]


#: the most of a caller's id an error message echoes (a 5,000-character id comes back cut)
ECHOED_ID_CHARACTERS = 60


def echoed(value: str) -> str:
    """A caller's id as an error message shows it: quoted, cut to ``ECHOED_ID_CHARACTERS``."""
    return repr(value if len(value) <= ECHOED_ID_CHARACTERS else value[:ECHOED_ID_CHARACTERS] + "...")


async def scoped_dealer(dealer_id: str, user: UserDep, state: StateDep) -> str:
    """A dealer id from the URL, allowed for this user: its own (dealer) or any in the network (OEM)."""
    if user.role == DEALER_ROLE:
        if dealer_id != user.dealer_id:
            raise HTTPException(403, "a dealer user may read only its own dealership's data")
        return dealer_id
    if dealer_id not in state.view.dealer_ids:
        raise HTTPException(404, f"dealer_id={echoed(dealer_id)}: no such dealer in the network")
    return dealer_id


ScopedDealerDep = Annotated[str, Depends(scoped_dealer)]
