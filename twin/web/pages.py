"""Rendering pages: the Jinja2 environment, the context every page gets, fragments for live updates.

A page asked with the header ``X-Fragment: main`` answers only its ``main`` block: the browser's live update
(``/events`` said a new state landed) swaps that part in place, without a full reload.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from twin.web.presenters import cell_text, heading
from twin.web.security import CSRF_FIELD, SESSION_COOKIE

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
FRAGMENT_HEADER = "X-Fragment"

environment = Environment(
    loader=FileSystemLoader(TEMPLATE_DIR), autoescape=select_autoescape(["html"]), auto_reload=False
)
environment.filters["cell"] = cell_text
environment.filters["heading"] = heading
environment.globals["csrf_field"] = CSRF_FIELD

#: Atlas's pages, in menu order: (path, label)
ATLAS_MENU = (
    ("/atlas", "Overview"),
    ("/atlas/alerts", "Alerts"),
    ("/atlas/recommendations", "Approvals"),
    ("/atlas/transfers", "Transfers"),
    ("/atlas/allocations", "Allocations"),
    ("/atlas/campaigns", "Campaigns"),
    ("/atlas/finance", "Finance"),
    ("/atlas/escalations", "Questions"),
)


def render(request: Request, template: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    """The whole page, or its ``main`` block alone when the live update asks for it."""
    compiled = environment.get_template(template)
    values = {"request": request, "menu": ATLAS_MENU, **context}
    if request.headers.get(FRAGMENT_HEADER) == "main" and "main" in compiled.blocks:
        body = "".join(compiled.blocks["main"](compiled.new_context(values)))
    else:
        body = compiled.render(values)
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


def render_fragment(template: str, context: dict[str, Any]) -> Markup:
    """A part of a page rendered on its own (cached per state by the caller)."""
    return Markup(environment.get_template(template).render(context))


def render_error(
    request: Request, status: int, message: str, headers: dict[str, str] | None = None
) -> HTMLResponse:
    """A friendly error page: the status, what went wrong in one line, a way back. Never a traceback."""
    titles = {
        400: "Bad request",
        401: "Please sign in",
        403: "Not allowed",
        404: "Not found",
        409: "Already decided",
        422: "Check the form",
        429: "Too many attempts",
        500: "Something went wrong",
    }
    response = render(
        request,
        "error.html",
        {
            "title": titles.get(status, "Error"),
            "status": status,
            "message": message,
            "signed_in": SESSION_COOKIE in request.cookies,
        },
        status=status,
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response
