"""``GET /events``: server-sent events. A ``state`` event (``{"day", "version", "as_of"}``) when a newer state
is served; a comment every few seconds keeps proxies from closing the stream. The page then re-fetches its
panels (``X-Fragment: main``)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from twin.web.dependencies import ServicesDep, SessionDep
from twin.web.security import SESSION_COOKIE

router = APIRouter(tags=["live"])
#: how often a stream looks at the served version (seconds); a check is reading one integer
POLL_SECONDS = 0.5
KEEPALIVE_SECONDS = 15.0
#: how often a stream checks that its session still lives (seconds): a signed-out stream stops within it
SESSION_CHECK_SECONDS = 3.0


@router.get("/events")
async def events(request: Request, found: ServicesDep, session: SessionDep) -> StreamingResponse:
    states = found.states

    async def stream() -> AsyncIterator[str]:
        seen = states.version
        yield f"retry: 3000\nevent: hello\ndata: {json.dumps(_payload(found))}\n\n"
        quiet = 0.0
        unchecked = 0.0
        cookie = request.cookies.get(SESSION_COOKIE)
        while not states.stopping:
            await asyncio.sleep(POLL_SECONDS)
            if await request.is_disconnected():
                return
            unchecked += POLL_SECONDS
            if unchecked >= SESSION_CHECK_SECONDS:
                unchecked = 0.0
                if found.sessions.find(cookie) is None:
                    yield "event: signed-out\ndata: {}\n\n"
                    return
            if states.version != seen:
                seen = states.version
                quiet = 0.0
                yield f"event: state\ndata: {json.dumps(_payload(found))}\n\n"
                continue
            quiet += POLL_SECONDS
            if quiet >= KEEPALIVE_SECONDS:
                quiet = 0.0
                yield ": keep-alive\n\n"

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)


def _payload(found: ServicesDep) -> dict[str, object]:
    current = found.states.current
    return {"day": current.day, "version": current.version, "as_of": str(current.view.as_of)}
