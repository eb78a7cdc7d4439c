"""The ASGI app: services built once, one router per resource, errors that never show a traceback.

``/api/...`` answers JSON (errors as ``{"detail": ...}``); pages answer HTML (errors as a friendly page, a
missing session as a redirect to the sign-in page). ``build_services`` refuses to start when a dealer user
is bound to a dealer the served network does not have.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from twin.errors import TwinError
from twin.web.accounts import AccountError, UserStore
from twin.web.database import Database
from twin.web.dependencies import NotSignedInError, Services
from twin.web.headers import SecurityHeaders
from twin.web.pages import render_error
from twin.web.panels import warm_state
from twin.web.records import DecisionLog, EscalationQueue
from twin.web.security import RateLimiter, SessionManager
from twin.web.service import StateService, ViewLoader, default_loader
from twin.web.settings import ServeConfig
from twin.web.state_source import StateSource

log = logging.getLogger("twin.web")
STATIC_DIR = Path(__file__).resolve().parent / "static"
#: paths answered as JSON (errors included); everything else is a page
JSON_PREFIXES = ("/api/", "/events")


def build_services(settings: ServeConfig, loader: ViewLoader = default_loader) -> Services:
    """Open the database, load the state, check every dealer user against its network."""
    database = Database(settings.users)
    users = UserStore(database)
    source = StateSource(settings.state)
    states = StateService(source, settings.refresh_seconds, loader, warm=warm_state)
    strays = users.unknown_dealers(states.current.view.dealer_ids)
    if strays:
        listed = ", ".join(f"{user.name} ({user.dealer_id})" for user in strays)
        raise AccountError(
            "users", settings.users, f"dealer users bound to dealers this network does not have: {listed}"
        )
    states.warm_current()
    return Services(
        settings=settings,
        database=database,
        users=users,
        sessions=SessionManager(database, users, settings.session_hours),
        limiter=RateLimiter(settings.login.failures, settings.login.window_seconds),
        question_limiter=RateLimiter(settings.questions.per_window, settings.questions.window_seconds),
        states=states,
        decisions=DecisionLog(database, source.approvals_file),
        escalations=EscalationQueue(database),
    )


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith(JSON_PREFIXES)


def _error_response(
    request: Request, status: int, detail: Any, headers: dict[str, str] | None = None
) -> Response:
    if _wants_json(request):
        return JSONResponse({"detail": detail}, status_code=status, headers=headers)
    return render_error(
        request, status, detail if isinstance(detail, str) else _validation_text(detail), headers
    )


def _validation_text(errors: Any) -> str:
    if not isinstance(errors, list):
        return str(errors)
    parts = []
    for error in errors:
        if isinstance(error, dict):
            where = ".".join(str(item) for item in error.get("loc", ()) if item != "body")
            parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def _json_safe_errors(errors: Any) -> list[dict[str, Any]]:
    """Validation errors without the raw input echoed back (it may be a password) nor exception objects."""
    safe = []
    for error in errors:
        safe.append(
            {
                "loc": list(error.get("loc", ())),
                "msg": str(error.get("msg", "invalid")),
                "type": str(error.get("type", "")),
            }
        )
    return safe


def create_app(services: Services) -> FastAPI:
    from twin.web.routers import ask, atlas, auth, dealer_api, events, portal, recommendations

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services.states.start()
        try:
            yield
        finally:
            services.states.stop()

    app = FastAPI(
        title="Dealer-network twin: Atlas and the dealer portal",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # the API description is not served: it would map the API for anyone, signed in or not
        lifespan=lifespan,
    )
    app.state.services = services
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for module in (auth, portal, atlas, dealer_api, ask, recommendations, events):
        app.include_router(module.router)

    @app.exception_handler(NotSignedInError)
    async def not_signed_in(request: Request, error: NotSignedInError) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": "not signed in: POST /api/login first"}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        return _error_response(request, error.status_code, error.detail, dict(error.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": _json_safe_errors(error.errors())}, status_code=422)
        return render_error(request, 422, _validation_text(error.errors()))

    @app.exception_handler(TwinError)
    async def refused(request: Request, error: TwinError) -> Response:
        return _error_response(request, 400, str(error))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return _error_response(request, 500, "internal error: the server logged it; nothing was changed")

    return app


def app_from_settings(settings: ServeConfig, loader: ViewLoader = default_loader) -> FastAPI:
    return create_app(build_services(settings, loader))
