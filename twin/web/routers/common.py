"""What every page's template gets: the user, the CSRF token, the state shown, the day slider."""

from __future__ import annotations

from typing import Any

from twin.web.dependencies import Services
from twin.web.security import Session
from twin.web.service import ServedState


def page_context(
    found: Services, session: Session, served: ServedState, title: str, active: str = "", **extra: Any
) -> dict[str, Any]:
    current = found.states.current
    live = served is current
    days = [entry.day for entry in found.states.entries if entry.day is not None]
    oem = session.user.is_oem
    return {
        "title": title,
        "user": session.user,
        "csrf_token": session.csrf_token,
        "state": served,
        "live": live,
        "version": current.version,
        "active": active,
        # the day slider is for planners (OEM roles) on a run folder with several states
        "slider": oem and len(days) > 1,
        "slider_days": days,
        "slider_index": days.index(served.day) if served.day in days else len(days) - 1,
        "day_value": None if live else served.day,
        "day_query": "" if live else f"?day={served.day}",
        **extra,
    }
