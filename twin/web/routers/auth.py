"""Signing in and out, by form (pages) and by JSON (``POST /api/login`` for DMS integrations)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from twin.web.accounts import User
from twin.web.dependencies import CsrfDep, Services, ServicesDep, SessionDep
from twin.web.pages import render
from twin.web.schemas import LoginRequest, SessionInfo
from twin.web.security import SESSION_COOKIE, Session, limiter_keys

router = APIRouter(tags=["sign-in"])


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _sign_in(request: Request, found: Services, name: str, password: str) -> tuple[str, Session]:
    """Check the rate limit, then the password; a failure counts against the user and the address."""
    _refuse_cross_site(request)
    keys = limiter_keys(name, _client(request))
    wait, stamp = found.limiter.reserve(keys)
    if wait is not None:
        raise HTTPException(
            429,
            f"too many failed sign-ins; try again in {int(wait) + 1} s",
            headers={"Retry-After": str(int(wait) + 1)},
        )
    user: User | None = found.users.verify(name, password)
    if user is None:
        raise HTTPException(401, "wrong user name or password")  # the reserved attempt stays counted
    found.limiter.release(keys, stamp)
    # the session this browser already had ends here: a cookie planted before sign-in (or another user's)
    # must not outlive it
    previous = found.sessions.find(request.cookies.get(SESSION_COOKIE))
    if previous is not None:
        found.sessions.end(previous)
    return found.sessions.create(user)


def _refuse_cross_site(request: Request) -> None:
    """Login CSRF: another site must not sign a browser in (as the attacker's account). A browser names the
    page that sent a POST (``Origin``, ``Sec-Fetch-Site``); API clients send neither and are not affected."""
    if request.headers.get("sec-fetch-site", "").lower() == "cross-site":
        raise HTTPException(403, "sign-in refused: the form was sent from another site")
    origin = request.headers.get("origin")
    if origin is None:
        return
    parts = urlsplit(origin)
    if (
        parts.scheme not in ("http", "https")
        or parts.netloc.lower() != request.headers.get("host", "").lower()
    ):
        raise HTTPException(403, f"sign-in refused: Origin {origin!r} is not this site")


def _set_cookie(response: Response, found: Services, cookie: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=int(found.settings.session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=found.settings.secure_cookies,
        path="/",
    )


def _home(user: User) -> str:
    return "/atlas" if user.is_oem else "/portal"


def _safe_next(target: str | None, user: User) -> str:
    """Only a path on this site (never ``//evil`` or ``https://...``): no open redirect after sign-in."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return _home(user)


@router.get("/login", include_in_schema=False)
async def login_page(request: Request, next: str = "") -> Response:
    return render(request, "login.html", {"title": "Sign in", "next": next, "error": None})


@router.post("/login", include_in_schema=False)
def login_form(
    request: Request,
    found: ServicesDep,
    user: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        cookie, session = _sign_in(request, found, user, password)
    except HTTPException as error:
        context = {"title": "Sign in", "next": next, "error": error.detail, "user_name": user}
        page = render(request, "login.html", context, status=error.status_code)
        for name, value in (error.headers or {}).items():
            page.headers[name] = value
        return page
    response = RedirectResponse(_safe_next(next, session.user), status_code=303)
    _set_cookie(response, found, cookie)
    return response


@router.post("/logout", include_in_schema=False)
def logout_form(found: ServicesDep, session: CsrfDep) -> Response:
    found.sessions.end(session)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/", include_in_schema=False)
async def home(session: SessionDep) -> Response:
    return RedirectResponse(_home(session.user), status_code=303)


@router.post("/api/login", response_model=SessionInfo)
def api_login(request: Request, body: LoginRequest, found: ServicesDep, response: Response) -> SessionInfo:
    """Sign in: sets the session cookie and returns the CSRF token every later POST must carry."""
    cookie, session = _sign_in(request, found, body.user, body.password)
    _set_cookie(response, found, cookie)
    return _info(session)


@router.post("/api/logout")
def api_logout(found: ServicesDep, session: CsrfDep, response: Response) -> dict[str, str]:
    found.sessions.end(session)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return {"detail": "signed out"}


@router.get("/api/me", response_model=SessionInfo)
async def api_me(session: SessionDep) -> SessionInfo:
    return _info(session)


def _info(session: Session) -> SessionInfo:
    return SessionInfo(
        user=session.user.name,
        role=session.user.role,
        dealer_id=session.user.dealer_id,
        csrf_token=session.csrf_token,
        expires_at=session.expires_at,
    )
