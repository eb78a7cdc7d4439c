"""Clara in the app: one query service per served state, and escalations routed to the regional manager.

A dealer's question Clara does not resolve on its own (not allowed, needs a decision, out of scope, data
missing, low confidence) goes to the escalation queue with the dealer's region; the regional managers see
it in Atlas. Questions OEM users ask on a dealer's behalf are answered but not queued.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from fastapi import HTTPException

from twin.web.accounts import User
from twin.web.dependencies import Services
from twin.web.service import ServedState

if TYPE_CHECKING:
    from twin.clara.service import Clara, ClaraReply

log = logging.getLogger("twin.web")


def clara_for(served: ServedState) -> Clara:
    def build() -> Clara:
        from twin.clara.service import Clara
        from twin.clara.understanding import Understander
        from twin.clara.vocabulary import Vocabulary

        return Clara(served.view, Understander(Vocabulary.from_world(served.view.world)))

    clara: Clara = served.cached("clara", "", build)
    return clara


def warm_clara_in_background(served: ServedState) -> threading.Thread:
    """Train/load Clara's classifier before the first question, without holding up the server's start."""

    def warm() -> None:
        try:
            clara_for(served)
        except Exception as error:  # the portal still works; the ask box reports the error when used
            log.warning("Clara could not be prepared: %s: %s", type(error).__name__, error)

    thread = threading.Thread(target=warm, name="twin-web-clara", daemon=True)
    thread.start()
    return thread


def ask_clara(found: Services, served: ServedState, user: User, dealer_id: str, text: str) -> ClaraReply:
    """Clara's answer; a dealer's question it could not resolve is queued for the regional managers (once:
    the same open question again is not queued twice). Each user has ``questions.per_window`` questions in
    ``questions.window_seconds``; the next is 429."""
    wait, _ = found.question_limiter.reserve([f"user:{user.name.lower()}"])
    if wait is not None:
        raise HTTPException(
            429,
            f"too many questions; ask again in {int(wait) + 1} s",
            headers={"Retry-After": str(int(wait) + 1)},
        )
    reply = clara_for(served).ask(dealer_id, text)
    if not reply.resolved and not user.is_oem:
        region = served.view.dealer(dealer_id).region
        found.escalations.add(
            dealer_id, user.name, region, text, reply.intent, str(reply.escalation_reason), reply.answer
        )
    return reply


def reply_json(reply: ClaraReply) -> dict[str, Any]:
    data: dict[str, Any] = reply.to_json()
    return data
