"""The web app's API and security, through the ASGI test client on the small network's day-30 state.

Sign-in (cookie flags, wrong password, rate limit), no session, IDOR (a dealer asking for another dealer's
data gets 403 and none of it), CSRF on every state-changing route, OEM-only pages and API, bad input as a 4xx
with a message (never a traceback), and the approval flow (recorded with user and time, out of the waiting
list, into transfers in flight and approvals.jsonl).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import stat
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.helpers.web_world import SNAPSHOT_DAY, web_run_folder
from twin.errors import ConfigError
from twin.web import cli
from twin.web.accounts import AccountError, UserStore
from twin.web.app import build_services, create_app
from twin.web.database import Database
from twin.web.dependencies import Services, csrf_checked
from twin.web.routers import events
from twin.web.routers.atlas import ESCALATIONS_PER_PAGE
from twin.web.security import RateLimiter, limiter_keys
from twin.web.settings import ServeConfig, ServerSettings, proxy_settings, validate_serve

PASSWORD = "correct horse battery"
USERS = {
    "dealer3": ("dealer", "D0003"),
    "dealer4": ("dealer", "D0004"),
    "guessed": ("dealer", "D0005"),
    "field": ("field_ops", None),
    "money": ("finance", None),
}
DEALER_RESOURCES = ("allocations", "stock", "arrivals", "statement", "transfers", "claims", "alerts")


@pytest.fixture(scope="module")
def app_and_services(tmp_path_factory: pytest.TempPathFactory) -> tuple[FastAPI, Services, Path]:
    folder = tmp_path_factory.mktemp("web_api") / "run"
    shutil.copytree(web_run_folder(tmp_path_factory), folder)
    settings = ServeConfig(state=str(folder), users=str(folder.parent / "users.db"), refresh_seconds=0)
    store = UserStore(Database(settings.users))
    for name, (role, dealer_id) in USERS.items():
        store.add(name, role, dealer_id, PASSWORD)
    services = build_services(settings)
    return create_app(services), services, folder


@pytest.fixture(scope="module")
def app(app_and_services: tuple[FastAPI, Services, Path]) -> FastAPI:
    return app_and_services[0]


@pytest.fixture(scope="module")
def services(app_and_services: tuple[FastAPI, Services, Path]) -> Services:
    return app_and_services[1]


def _client(app: FastAPI, address: str = "10.0.0.1") -> TestClient:
    return TestClient(app, client=(address, 50000), follow_redirects=False, raise_server_exceptions=False)


@pytest.fixture(scope="module")
def dealer3(app: FastAPI) -> tuple[TestClient, str]:
    return _signed_in(app, "dealer3")


@pytest.fixture(scope="module")
def field(app: FastAPI) -> tuple[TestClient, str]:
    return _signed_in(app, "field")


def _signed_in(app: FastAPI, user: str, address: str = "10.0.0.1") -> tuple[TestClient, str]:
    client = _client(app, address)
    response = client.post("/api/login", json={"user": user, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return client, response.json()["csrf_token"]


# -- sign-in -----------------------------------------------------------------------------------------------
def test_login_sets_an_httponly_samesite_cookie_and_returns_the_csrf_token(app: FastAPI) -> None:
    response = _client(app).post("/api/login", json={"user": "dealer3", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["user"] == "dealer3" and body["role"] == "dealer" and body["dealer_id"] == "D0003"
    assert len(body["csrf_token"]) >= 32
    cookie = response.headers["set-cookie"].lower()
    assert (
        "twin_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    )
    assert "secure" not in cookie  # secure_cookies=false by default (plain HTTP on loopback)


def test_a_wrong_password_or_unknown_user_is_401_with_the_same_message(app: FastAPI) -> None:
    client = _client(app, "10.0.0.2")
    wrong = client.post("/api/login", json={"user": "dealer3", "password": "not it at all"})
    unknown = client.post("/api/login", json={"user": "nobody", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": "wrong user name or password"}
    assert "set-cookie" not in wrong.headers


def test_failed_sign_ins_are_limited_per_user_and_per_address(app: FastAPI) -> None:
    attacker = _client(app, "10.9.9.9")
    for _ in range(5):
        assert (
            attacker.post("/api/login", json={"user": "guessed", "password": "guess-guess"}).status_code
            == 401
        )
    blocked = attacker.post("/api/login", json={"user": "guessed", "password": PASSWORD})
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
    assert "too many failed sign-ins" in blocked.json()["detail"]
    # the account is protected from other addresses too; the attacker's address for other accounts as well
    assert (
        _client(app, "10.0.0.3")
        .post("/api/login", json={"user": "guessed", "password": PASSWORD})
        .status_code
        == 429
    )
    assert attacker.post("/api/login", json={"user": "dealer4", "password": PASSWORD}).status_code == 429
    # another user from another address is not affected
    assert (
        _client(app, "10.0.0.3")
        .post("/api/login", json={"user": "dealer4", "password": PASSWORD})
        .status_code
        == 200
    )


def test_the_login_form_signs_in_and_redirects_only_to_a_local_path(app: FastAPI) -> None:
    client = _client(app, "10.0.0.4")
    response = client.post("/login", data={"user": "field", "password": PASSWORD, "next": "//evil.example/x"})
    assert response.status_code == 303 and response.headers["location"] == "/atlas"
    local = _client(app, "10.0.0.4").post(
        "/login", data={"user": "field", "password": PASSWORD, "next": "/atlas/finance"}
    )
    assert local.headers["location"] == "/atlas/finance"
    bad = _client(app, "10.0.0.4").post("/login", data={"user": "field", "password": "wrong password"})
    assert bad.status_code == 401 and "wrong user name or password" in bad.text and "<form" in bad.text


def test_without_a_session_the_api_says_401_and_pages_redirect_to_sign_in(app: FastAPI) -> None:
    client = _client(app)
    response = client.get("/api/dealers/D0003/allocations")
    assert response.status_code == 401 and response.json() == {
        "detail": "not signed in: POST /api/login first"
    }
    for page in ("/portal", "/atlas", "/atlas/recommendations", "/"):
        redirect = client.get(page)
        assert redirect.status_code == 303 and redirect.headers["location"].startswith("/login?next=")
    assert client.get("/events").status_code == 401
    forged = _client(app)
    forged.cookies.set("twin_session", "made-up.signature")
    assert forged.get("/api/me").status_code == 401


# -- scoping -------------------------------------------------------------------------------------------------
def test_a_dealer_reads_its_own_allocations_stock_arrivals_and_statement(
    dealer3: tuple[TestClient, str], services: Services
) -> None:
    client, _ = dealer3
    view = services.states.current.view
    allocations = client.get("/api/dealers/D0003/allocations").json()
    assert allocations["day"] == view.day == 30 and allocations["as_of"] == "2026-01-31"
    assert [row["vin"] for row in allocations["rows"]] == view.allocations("D0003")["vin"].tolist()
    assert {"step", "due_date", "place"} <= set(allocations["rows"][0])
    stock = client.get("/api/dealers/D0003/stock").json()
    assert [row["vin"] for row in stock["vehicles"]] == view.yard("D0003")["vin"].tolist()
    assert sorted(row["sku_id"] for row in stock["parts"]) == sorted(view.parts("D0003")["sku_id"])
    assert sum(row["cars"] for row in stock["vehicles_by_spec"]) == len(view.yard("D0003"))
    arrivals = client.get("/api/dealers/D0003/arrivals").json()["rows"]
    assert sum(row["units"] for row in arrivals) == int(view.arrivals("D0003")["units"].sum())
    statement = client.get("/api/dealers/D0003/statement").json()["statement"]
    expected = view.statement("D0003")
    assert expected is not None and statement["balance_inr"] == pytest.approx(expected.balance_inr)


@pytest.mark.parametrize("resource", DEALER_RESOURCES)
def test_a_dealer_asking_for_another_dealers_data_gets_403_and_no_data(
    resource: str, dealer3: tuple[TestClient, str], services: Services
) -> None:
    client, _ = dealer3
    response = client.get(f"/api/dealers/D0004/{resource}")
    assert response.status_code == 403
    assert response.json() == {"detail": "a dealer user may read only its own dealership's data"}
    others_vins = services.states.current.view.allocations("D0004")["vin"].tolist()
    assert not any(vin in response.text for vin in others_vins)
    # an id that does not exist is refused the same way: a dealer learns nothing about which ids exist
    assert client.get(f"/api/dealers/D9999/{resource}").status_code == 403


def test_oem_users_read_any_dealer_and_an_unknown_dealer_is_404(field: tuple[TestClient, str]) -> None:
    client, _ = field
    assert client.get("/api/dealers/D0004/allocations").status_code == 200
    missing = client.get("/api/dealers/D9999/allocations")
    assert missing.status_code == 404 and "D9999" in missing.json()["detail"]


def test_a_dealer_cannot_reach_oem_pages_or_api(dealer3: tuple[TestClient, str]) -> None:
    client, token = dealer3
    for page in (
        "/atlas",
        "/atlas/alerts",
        "/atlas/recommendations",
        "/atlas/finance",
        "/atlas/dealers/D0004",
    ):
        response = client.get(page)
        assert (
            response.status_code == 403
            and "Not allowed" in response.text
            and "OEM roles only" in response.text
        )
    for path in ("/api/recommendations", "/api/kpis", "/api/state"):
        assert client.get(path).status_code == 403
    decided = client.post(
        "/api/recommendations/A1/decision", json={"decision": "approve"}, headers={"X-CSRF-Token": token}
    )
    assert decided.status_code == 403
    assert client.get("/portal").status_code == 200


def test_oem_users_have_no_portal(field: tuple[TestClient, str]) -> None:
    client, _ = field
    assert client.get("/portal").status_code == 403


# -- CSRF ----------------------------------------------------------------------------------------------------
def test_a_missing_or_wrong_csrf_token_is_403(
    field: tuple[TestClient, str], dealer3: tuple[TestClient, str]
) -> None:
    client, token = field
    path = "/api/recommendations/A0/decision"
    assert client.post(path, json={"decision": "approve"}).status_code == 403
    wrong = client.post(path, json={"decision": "approve"}, headers={"X-CSRF-Token": token[::-1]})
    assert wrong.status_code == 403 and "CSRF" in wrong.json()["detail"]
    form = client.post(
        "/atlas/recommendations/A0/decision", data={"decision": "approve", "csrf_token": "nope"}
    )
    assert form.status_code == 403 and "CSRF" in form.text
    dealer, _ = dealer3
    assert dealer.post("/api/ask", json={"text": "where is my car?"}).status_code == 403
    assert dealer.post("/logout").status_code == 403


def _dependencies(dependant: Any) -> set[Any]:
    found = {dependant.call}
    for child in dependant.dependencies:
        found |= _dependencies(child)
    return found


def test_every_state_changing_route_checks_the_csrf_token(app: FastAPI) -> None:
    """Only the two sign-in routes are exempt (there is no session yet to hold a token)."""
    unguarded = []
    for route in app.routes:
        methods = getattr(route, "methods", set()) or set()
        changes = methods & {"POST", "PUT", "PATCH", "DELETE"} and route.path not in ("/login", "/api/login")
        if changes and csrf_checked not in _dependencies(route.dependant):  # type: ignore[attr-defined]
            unguarded.append(route.path)
    assert unguarded == []


# -- bad input -------------------------------------------------------------------------------------------------
def test_bad_input_is_a_4xx_with_a_message_never_a_traceback(
    app: FastAPI, field: tuple[TestClient, str]
) -> None:
    client, token = field
    empty = _client(app).post("/api/login", json={"user": "", "password": "secret-password-echo"})
    assert empty.status_code == 422 and empty.json()["detail"][0]["loc"] == ["body", "user"]
    assert "secret-password-echo" not in empty.text  # the input is not echoed back
    extra = _client(app).post("/api/login", json={"user": "a", "password": "b", "role": "admin"})
    assert extra.status_code == 422
    not_json = _client(app).post(
        "/api/login", content=b"\xff\xfe", headers={"Content-Type": "application/json"}
    )
    assert not_json.status_code == 422
    verb = client.post(
        "/api/recommendations/A0/decision", json={"decision": "maybe"}, headers={"X-CSRF-Token": token}
    )
    assert verb.status_code == 422 and verb.json()["detail"][0]["loc"] == ["body", "decision"]
    assert client.get("/api/kpis?day=-1").status_code == 422
    no_day = client.get("/api/kpis?day=7")
    assert (
        no_day.status_code == 404
        and no_day.json()["detail"] == "day=7: no state of that day here (days: [22, 30])"
    )
    long_filter = client.get("/atlas/alerts?region=" + "x" * 65)
    assert long_filter.status_code == 422 and "Check the form" in long_filter.text
    sku = client.get("/atlas/dealers/D0003/skus/NO-SUCH-PART")
    assert sku.status_code == 404 and "NO-SUCH-PART" in sku.text
    for response in (empty, verb, long_filter, sku, no_day):
        assert "Traceback" not in response.text and 'File "' not in response.text


def test_an_unexpected_error_is_a_friendly_500(
    app: FastAPI, field: tuple[TestClient, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _ = field

    def broken(*arguments: Any, **keywords: Any) -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setattr("twin.web.routers.atlas.kpi_tiles", broken)
    monkeypatch.setattr("twin.web.routers.recommendations.records_from_frame", broken)
    page = client.get("/atlas")
    assert page.status_code == 500 and "Something went wrong" in page.text
    api = client.get("/api/recommendations")
    assert api.status_code == 500 and api.json() == {
        "detail": "internal error: the server logged it; nothing was changed"
    }
    for response in (page, api):
        assert "secret internals" not in response.text and "Traceback" not in response.text


# -- approvals ---------------------------------------------------------------------------------------------------
def test_approving_records_user_and_time_and_moves_the_recommendation_in_flight(
    app_and_services: tuple[FastAPI, Services, Path], field: tuple[TestClient, str]
) -> None:
    app, _, folder = app_and_services
    client, token = field
    waiting = client.get("/api/recommendations").json()["waiting"]
    assert waiting, "the day-30 state has rebalancing recommendations waiting"
    chosen = waiting[0]
    money, money_token = _signed_in(app, "money")
    refused = money.post(
        f"/api/recommendations/{chosen['approval']}/decision",
        json={"decision": "approve"},
        headers={"X-CSRF-Token": money_token},
    )
    assert refused.status_code == 403 and "finance may not decide" in refused.json()["detail"]

    made = client.post(
        f"/api/recommendations/{chosen['approval']}/decision",
        json={"decision": "approve", "note": "ok"},
        headers={"X-CSRF-Token": token},
    )
    assert made.status_code == 200
    decision = made.json()
    assert decision["user"] == "field" and decision["decision"] == "approved" and decision["state_day"] == 30
    assert decision["decided_at"].endswith("+00:00")

    after = client.get("/api/recommendations").json()
    assert chosen["approval"] not in [row["approval"] for row in after["waiting"]]
    assert after["decided"][-1]["approval"] == chosen["approval"] and after["decided"][-1]["user"] == "field"
    in_flight = client.get("/atlas/transfers").text
    assert chosen["approval"] in in_flight and "approved in Atlas, dispatching" in in_flight
    receiver = chosen["receiver_id"].split(", ")[0]
    rows = client.get(f"/api/dealers/{receiver}/transfers").json()["rows"]
    assert rows[0]["transfer"] == chosen["approval"] and rows[0]["direction"] == "in"

    lines = (folder / "approvals.jsonl").read_text().splitlines()
    assert len(lines) == 1
    line = json.loads(lines[0])
    assert line["recommendation_id"] == chosen["approval"] and line["decision"] == "approved"
    assert (
        line["user"] == "field" and line["format"] == 1 and line["recommendation"]["units"] == chosen["units"]
    )

    again = client.post(
        f"/api/recommendations/{chosen['approval']}/decision",
        json={"decision": "reject"},
        headers={"X-CSRF-Token": token},
    )
    assert again.status_code == 409 and "already approved by field" in again.json()["detail"]


def test_decisions_are_taken_on_the_live_state_only(field: tuple[TestClient, str]) -> None:
    client, _ = field
    old = client.get(f"/atlas/recommendations?day={SNAPSHOT_DAY}")
    assert (
        old.status_code == 200
        and "Decisions are taken on the live state" in old.text
        and "Approve</button>" not in old.text
    )


# -- state and days -----------------------------------------------------------------------------------------------
def test_planners_pick_a_day_and_dealers_always_see_the_live_state(
    field: tuple[TestClient, str], dealer3: tuple[TestClient, str]
) -> None:
    client, _ = field
    assert client.get("/api/state").json()["days"] == [SNAPSHOT_DAY, 30]
    assert client.get(f"/api/kpis?day={SNAPSHOT_DAY}").json()["day"] == SNAPSHOT_DAY
    overview = client.get(f"/atlas?day={SNAPSHOT_DAY}").text
    assert 'id="day-slider"' in overview and "a past day: read only" in overview
    dealer, _ = dealer3
    assert dealer.get(f"/api/dealers/D0003/allocations?day={SNAPSHOT_DAY}").json()["day"] == 30


def test_atlas_pages_render_for_oem_users(field: tuple[TestClient, str], services: Services) -> None:
    client, _ = field
    overview = client.get("/atlas")
    assert overview.status_code == 200
    assert overview.text.count('class="dot ') == len(services.states.current.view.dealer_ids)
    assert "Parts fill rate" in overview.text and "Working capital" in overview.text
    for page in (
        "/atlas/alerts",
        "/atlas/transfers",
        "/atlas/allocations",
        "/atlas/campaigns",
        "/atlas/finance",
        "/atlas/escalations",
        "/atlas/dealers/D0004",
    ):
        assert client.get(page).status_code == 200, page
    alerts = services.states.current.view.alerts("D0004")
    if len(alerts):
        filtered = client.get("/atlas/alerts?dealer=D0004").text
        assert f"{len(alerts)} of" in filtered
        sku = alerts["sku_id"].iloc[0]
        assert sku in client.get(f"/atlas/dealers/D0004/skus/{sku}").text
    fragment = client.get("/atlas", headers={"X-Fragment": "main"}).text
    assert "<html" not in fragment and "Network overview" in fragment


def test_security_headers_forbid_inline_scripts_and_framing(field: tuple[TestClient, str]) -> None:
    client, _ = field
    headers = client.get("/atlas").headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"


def test_the_server_refuses_to_start_with_a_dealer_user_of_another_network(
    tmp_path: Path, app_and_services: tuple[FastAPI, Services, Path]
) -> None:
    _, services, folder = app_and_services
    users = tmp_path / "users.db"
    UserStore(Database(users)).add("stray", "dealer", "D0999", PASSWORD)
    loaded = services.states.current.view  # the same state, not loaded again
    with pytest.raises(AccountError, match=r"stray \(D0999\)"):
        build_services(
            ServeConfig(state=str(folder), users=str(users), refresh_seconds=0), lambda path: loaded
        )


def test_sign_out_ends_the_session(app: FastAPI) -> None:
    client, token = _signed_in(app, "dealer4", "10.0.0.7")
    assert client.post("/api/logout", headers={"X-CSRF-Token": token}).status_code == 200
    assert client.get("/api/me").status_code == 401


# -- Clara -------------------------------------------------------------------------------------------------------
def test_a_dealer_asks_clara_and_an_unanswered_question_reaches_the_regional_queue(
    app: FastAPI, dealer3: tuple[TestClient, str], field: tuple[TestClient, str], services: Services
) -> None:
    client, token = dealer3
    headers = {"X-CSRF-Token": token}
    answered = client.post("/api/ask", json={"text": "where is my allocation?"}, headers=headers)
    assert answered.status_code == 200
    reply = answered.json()
    assert (
        reply["intent"] == "allocation_status"
        and reply["resolved"] is True
        and reply["as_of"].startswith("2026-01-31")
    )
    assert (
        client.post("/api/ask", json={"text": "stock?", "dealer_id": "D0004"}, headers=headers).status_code
        == 403
    )
    without_script = client.post("/portal/ask", data={"text": "where is my allocation?", "csrf_token": token})
    assert without_script.status_code == 200 and 'class="answer resolved"' in without_script.text
    assert client.post("/api/ask", json={"text": ""}, headers=headers).status_code == 422
    assert client.post("/api/ask", json={"text": "x" * 2001}, headers=headers).status_code == 422

    escalated = client.post(
        "/api/ask", json={"text": "please send me 20 more Dhruv cars next week"}, headers=headers
    )
    assert escalated.status_code == 200 and escalated.json()["resolved"] is False
    queued = services.escalations.list("open", dealer_id="D0003")
    assert queued and queued[0].text == "please send me 20 more Dhruv cars next week"
    assert queued[0].region == services.states.current.view.dealer("D0003").region

    oem, oem_token = field
    page = oem.get("/atlas/escalations").text
    assert "please send me 20 more Dhruv cars next week" in page
    missing = oem.post(
        "/api/ask", json={"text": "where is my allocation?"}, headers={"X-CSRF-Token": oem_token}
    )
    assert missing.status_code == 400 and "dealer_id" in missing.json()["detail"]
    on_behalf = oem.post("/api/ask", json={"text": "where is my allocation?", "dealer_id": "D0003"},
                         headers={"X-CSRF-Token": oem_token})  # fmt: skip
    assert on_behalf.status_code == 200 and len(services.escalations.list("open", dealer_id="D0003")) == len(
        queued
    )
    closed = oem.post(f"/atlas/escalations/{queued[0].id}/close", data={"csrf_token": oem_token})
    assert closed.status_code == 303
    assert services.escalations.list("closed", dealer_id="D0003")[0].closed_by == "field"


# -- security review fixes, most severe first -----------------------------------------------------------------
def test_parallel_wrong_guesses_cannot_get_past_the_per_user_limit(app: FastAPI) -> None:
    """The limit is checked and the attempt counted in one step, before the ~50 ms password check."""

    def guess(index: int) -> int:
        client = _client(app, f"10.20.0.{index}")  # a different address each: only the user's count limits
        return client.post("/api/login", json={"user": "parallel", "password": "guess-guess"}).status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(guess, range(10)))
    assert statuses.count(401) == 5 and statuses.count(429) == 5, statuses


def test_a_successful_sign_in_releases_its_reserved_attempt() -> None:
    limiter = RateLimiter(limit=2, window_seconds=60.0)
    keys = limiter_keys("someone", "10.1.1.1")
    wait, stamp = limiter.reserve(keys)  # a failure: kept
    assert wait is None
    wait, stamp = limiter.reserve(keys)  # a success: released
    assert wait is None
    limiter.release(keys, stamp)
    assert limiter.reserve(keys)[0] is None  # the user's count was cleared; the address has 1 failure
    assert limiter.reserve(limiter_keys("other", "10.1.1.1"))[0] is not None  # the address is at 2 now


def test_forwarded_for_headers_are_believed_only_from_configured_proxies() -> None:
    assert proxy_settings(ServerSettings()) == {"proxy_headers": False, "forwarded_allow_ips": None}
    behind = proxy_settings(ServerSettings(trusted_proxies="127.0.0.1, ::1"))
    assert behind == {"proxy_headers": True, "forwarded_allow_ips": ["127.0.0.1", "::1"]}
    with pytest.raises(ConfigError, match=r"server\.trusted_proxies"):
        validate_serve(ServeConfig(server=ServerSettings(trusted_proxies="127.0.0.1, proxy.example")))
    assert "**proxy_settings(config.server)" in Path(cli.__file__).read_text()  # what uvicorn is given


def test_the_users_database_is_owner_only_and_keeps_no_raw_session_id(
    app: FastAPI, services: Services, tmp_path: Path
) -> None:
    client = _client(app, "10.0.0.30")
    assert client.post("/api/login", json={"user": "dealer4", "password": PASSWORD}).status_code == 200
    session_id = services.sessions.signer.unsign(client.cookies["twin_session"]).decode("ascii")
    stored = {row["id"] for row in services.database.query("SELECT id FROM sessions")}
    assert session_id not in stored and hashlib.sha256(session_id.encode()).hexdigest() in stored
    path = Path(services.settings.users)
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
    loose = tmp_path / "loose.db"
    loose.write_bytes(b"")
    loose.chmod(0o644)
    Database(loose).close()
    assert stat.S_IMODE(loose.stat().st_mode) == 0o600


def test_another_day_loads_in_a_worker_thread_once_for_concurrent_requests(
    services: Services, field: tuple[TestClient, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    states = services.states
    loaded_before = dict(states._other_days)  # a day another test loaded is reused: the load is what counts
    monkeypatch.setattr(states, "_other_days", OrderedDict())
    loads: list[str] = []
    original = states.loader

    def counting(path: Path) -> Any:
        loads.append(threading.current_thread().name)
        time.sleep(0.05)  # long enough for the other requests to arrive while it loads
        return loaded_before[SNAPSHOT_DAY].view if SNAPSHOT_DAY in loaded_before else original(path)

    monkeypatch.setattr(states, "loader", counting)
    client, _ = field
    with ThreadPoolExecutor(max_workers=3) as pool:
        statuses = list(pool.map(lambda _: client.get(f"/api/kpis?day={SNAPSHOT_DAY}").status_code, range(3)))
    assert statuses == [200, 200, 200]
    assert len(loads) == 1 and loads[0].startswith("AnyIO worker thread"), loads


def test_sign_in_from_another_site_is_refused(app: FastAPI) -> None:
    client = _client(app, "10.0.0.31")
    body = {"user": "dealer4", "password": PASSWORD}
    evil = client.post("/api/login", json=body, headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403 and "not this site" in evil.json()["detail"]
    assert client.post("/api/login", json=body, headers={"Origin": "null"}).status_code == 403
    form = client.post("/login", data=body, headers={"Sec-Fetch-Site": "cross-site"})
    assert form.status_code == 403 and "another site" in form.text and "set-cookie" not in form.headers
    same = client.post(
        "/login", data=body, headers={"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
    )
    assert same.status_code == 303
    assert client.post("/api/login", json=body).status_code == 200  # API clients send no Origin


def test_a_non_ascii_csrf_token_is_403_not_500(app: FastAPI) -> None:
    client, _ = _signed_in(app, "dealer4", "10.0.0.32")
    assert client.post("/logout", data={"csrf_token": "jeton-é-ü"}).status_code == 403
    header = client.post("/api/logout", headers={"X-CSRF-Token": "é".encode("latin-1")})
    assert header.status_code == 403 and "CSRF" in header.json()["detail"]
    assert client.get("/api/me").status_code == 200


def test_signing_in_again_ends_the_previous_session(app: FastAPI) -> None:
    client, _ = _signed_in(app, "dealer4", "10.0.0.33")
    first = client.cookies["twin_session"]
    assert client.post("/api/login", json={"user": "dealer3", "password": PASSWORD}).status_code == 200
    assert client.get("/api/me").json()["user"] == "dealer3"
    replayed = _client(app, "10.0.0.33")
    replayed.cookies.set("twin_session", first)
    assert replayed.get("/api/me").status_code == 401


def test_an_event_stream_stops_when_its_session_ends(
    app: FastAPI, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events, "POLL_SECONDS", 0.02)
    monkeypatch.setattr(events, "SESSION_CHECK_SECONDS", 0.04)
    client, _ = _signed_in(app, "dealer4", "10.0.0.34")
    session = services.sessions.find(client.cookies["twin_session"])
    assert session is not None
    result: dict[str, Any] = {}

    def read() -> None:  # the test client returns once the stream has ended
        result["response"] = client.get("/events")

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    time.sleep(0.2)
    services.sessions.end(session)
    reader.join(timeout=10)
    assert not reader.is_alive(), "the stream went on after sign-out"
    assert "event: hello" in result["response"].text and "event: signed-out" in result["response"].text


def test_the_alerts_page_caches_only_known_filters(field: tuple[TestClient, str], services: Services) -> None:
    client, _ = field
    served = services.states.current
    before = len(served._cache)
    for index in range(5):
        page = client.get(f"/atlas/alerts?region=made-up-{index}&part_class=nothing-{index}")
        assert page.status_code == 200
    assert len(served._cache) == before


def test_the_sign_in_limiter_forgets_empty_keys_and_caps_them() -> None:
    limiter = RateLimiter(limit=3, window_seconds=60.0, maximum_keys=10)
    for index in range(50):
        limiter.reserve(limiter_keys(f"user{index}", f"10.3.0.{index}"))
    assert limiter.key_count() <= 10
    emptied = RateLimiter(limit=3, window_seconds=60.0)
    keys = limiter_keys("someone", "10.3.1.1")
    _, stamp = emptied.reserve(keys)
    emptied.release(keys, stamp)
    assert emptied.key_count() == 0
    expired = RateLimiter(limit=3, window_seconds=0.01, maximum_keys=2)
    expired.reserve(limiter_keys("old", "10.3.2.1"))
    time.sleep(0.02)
    expired.reserve(limiter_keys("new", "10.3.2.2"))
    assert expired.key_count() == 2  # the expired pair was swept, not the new one


def test_the_api_description_is_not_served(app: FastAPI, field: tuple[TestClient, str]) -> None:
    assert _client(app).get("/api/openapi.json").status_code == 404
    client, _ = field
    assert client.get("/api/openapi.json").status_code == 404


def test_the_approvals_banner_confirms_only_a_recorded_decision(field: tuple[TestClient, str]) -> None:
    client, token = field
    forged = client.get("/atlas/recommendations?done=Your account is locked, call 555:approved")
    assert forged.status_code == 200 and "Your account is locked" not in forged.text
    waiting = client.get("/api/recommendations").json()["waiting"]
    assert waiting
    chosen = waiting[-1]["approval"]
    wrong_verb = client.get(f"/atlas/recommendations?done={chosen}:approved")
    assert f"Recommendation {chosen} approved." not in wrong_verb.text  # not decided yet
    made = client.post(
        f"/api/recommendations/{chosen}/decision",
        json={"decision": "reject"},
        headers={"X-CSRF-Token": token},
    )
    assert made.status_code == 200
    assert (
        f"Recommendation {chosen} rejected."
        in client.get(f"/atlas/recommendations?done={chosen}:rejected").text
    )
    assert (
        f"Recommendation {chosen} approved."
        not in client.get(f"/atlas/recommendations?done={chosen}:approved").text
    )


# -- the second security review (2026-12-06): ids out of range, caching, flooding ----------------------
def test_an_escalation_id_past_what_the_database_holds_is_a_4xx_naming_it(
    field: tuple[TestClient, str],
) -> None:
    client, token = field
    response = client.post("/atlas/escalations/99999999999999999999999/close", data={"csrf_token": token})
    assert response.status_code == 422 and "escalation_id" in response.text


def test_a_dealers_data_is_not_kept_in_browser_or_proxy_caches(dealer3: tuple[TestClient, str]) -> None:
    client, _ = dealer3
    for path in ("/api/dealers/D0003/stock", "/api/dealers/D0003/statement", "/api/me", "/portal"):
        assert client.get(path).headers.get("cache-control") == "no-store", path
    assert client.get("/static/app.js").headers.get("cache-control") != "no-store"  # the same for everyone


def test_one_user_cannot_flood_the_managers_queue_of_questions(
    app: FastAPI, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "question_limiter", RateLimiter(limit=3, window_seconds=60.0))
    client, token = _signed_in(app, "dealer4", address="10.0.0.44")
    asked = "please send me 20 more Dhruv cars for the wedding season"
    before = len(services.escalations.list("open", dealer_id="D0004"))
    replies = [
        client.post("/api/ask", json={"text": asked}, headers={"X-CSRF-Token": token}) for _ in range(4)
    ]
    assert [reply.status_code for reply in replies] == [200, 200, 200, 429]
    assert "Retry-After" in replies[-1].headers and "too many questions" in replies[-1].json()["detail"]
    # the same open question is queued once, however often it is asked
    assert len(services.escalations.list("open", dealer_id="D0004")) == before + 1


def test_the_managers_queue_is_paged(field: tuple[TestClient, str], services: Services) -> None:
    region = services.states.current.view.dealer("D0005").region
    for number in range(ESCALATIONS_PER_PAGE + 5):
        services.escalations.add(
            "D0005", "guessed", region, f"paging probe {number}", "other", "needs_decision", "-"
        )
    client, _ = field
    total = services.escalations.count("open", region)
    first = client.get("/atlas/escalations", params={"region": region}).text
    assert first.count("<tr>") - 1 == ESCALATIONS_PER_PAGE  # the header row
    assert f"Page 1 of {-(-total // ESCALATIONS_PER_PAGE)}" in first and "paging probe 104" in first
    last = client.get("/atlas/escalations", params={"region": region, "page": 2}).text
    assert total <= 2 * ESCALATIONS_PER_PAGE and "paging probe 0<" in last and "paging probe 104<" not in last


def test_an_unknown_id_is_echoed_cut_to_a_readable_length(field: tuple[TestClient, str]) -> None:
    client, _ = field
    response = client.get(f"/api/dealers/{'D' * 5000}/stock")
    assert response.status_code == 404 and len(response.json()["detail"]) < 150
