"""The portal and Atlas in a real browser: Debian's chromium driven by Playwright against a real uvicorn server
on 127.0.0.1 (a free port), on the small network's day-30 state.

A dealer signs in, sees its inbound allocations and expected arrivals, asks Clara; field ops approve a
transfer and see it leave the waiting list and appear in flight; a newer state on disk reaches an open page
through server-sent events. Screenshots go to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from tests.helpers.web_world import web_run_folder
from twin.web.accounts import UserStore
from twin.web.app import build_services, create_app
from twin.web.clara_bridge import warm_clara_in_background
from twin.web.database import Database
from twin.web.dependencies import Services
from twin.web.service import default_loader
from twin.web.settings import ServeConfig

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"
PASSWORD = "correct horse battery"
TIMEOUT_MS = 15_000

# without chromium a developer's run skips these; in CI (.ci/run installs it) a missing browser is a failure
if not CHROMIUM.is_file() and os.environ.get("CI"):
    raise RuntimeError(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium for the browser tests")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.is_file(), reason="Debian's chromium is not installed (.ci/run installs it)"
)


class Server:
    """uvicorn on a socket bound to 127.0.0.1 and a free port, in a thread of this process."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        config = uvicorn.Config(create_app(services), log_level="warning", timeout_graceful_shutdown=1)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.services.states.stop()  # ends the open event streams, so the server stops at once
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.socket.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("web_browser") / "run"
    shutil.copytree(web_run_folder(tmp_path_factory), folder)
    settings = ServeConfig(state=str(folder), users=str(folder.parent / "users.db"), refresh_seconds=0.3)
    store = UserStore(Database(settings.users))
    store.add("dealer3", "dealer", "D0003", PASSWORD)
    store.add("field", "field_ops", None, PASSWORD)
    # the state folder is read once: the refresh test rewrites its files' times, not its content, and what it
    # checks is the refresh (noticed, rebuilt off the request path, announced), not reading a state again
    views: dict[Path | None, Any] = {}
    services = build_services(
        settings, lambda path: views.get(path) or views.setdefault(path, default_loader(path))
    )
    warm_clara_in_background(services.states.current)
    with Server(services) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def _sign_in(browser: Any, server: Server, user: str, start: str) -> Any:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(server.url + start)
    assert "/login" in page.url  # no session yet: sent to sign in, and back afterwards
    page.fill("input[name=user]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(server.url + start)
    return page


def test_a_dealer_sees_its_allocations_and_arrivals_and_asks_clara(browser: Any, server: Server) -> None:
    view = server.services.states.current.view
    page = _sign_in(browser, server, "dealer3", "/portal")
    allocations = view.allocations("D0003")
    assert page.locator("#allocations-table tbody tr").count() == min(len(allocations), 200)
    first = allocations.iloc[0]
    row = page.locator("#allocations-table tbody tr").first
    assert first["vin"] in row.inner_text() and str(first["step"]) in row.inner_text()
    arrivals = view.arrivals("D0003")
    assert page.locator("#arrivals-table tbody tr").count() == min(len(arrivals), 200)
    assert page.locator("#allocations-table").inner_text().count("MA") >= 1
    page.screenshot(path=str(SCREENSHOTS / "portal.png"), full_page=True)

    page.fill("#ask-text", "where is my allocation?")
    page.click("#ask-form button[type=submit]")
    answer = page.locator("#ask-reply .answer")
    answer.wait_for(timeout=60_000)  # the first question may wait for Clara's classifier to be ready
    assert "as of" in answer.inner_text().lower()
    page.screenshot(path=str(SCREENSHOTS / "portal-clara.png"))
    page.close()


def test_field_ops_approve_a_transfer_and_see_it_in_flight(browser: Any, server: Server) -> None:
    page = _sign_in(browser, server, "field", "/atlas/recommendations")
    rows = page.locator("#waiting-table tbody tr")
    waiting = rows.count()
    assert waiting >= 1
    approval = rows.first.get_attribute("data-recommendation")
    page.screenshot(path=str(SCREENSHOTS / "atlas-approvals-before.png"))
    rows.first.locator("button.approve").click()
    page.wait_for_url(f"**/atlas/recommendations?done={approval}:approved")
    assert f"Recommendation {approval} approved." in page.locator(".notice").inner_text()
    assert page.locator(f'#waiting-table tr[data-recommendation="{approval}"]').count() == 0
    assert page.locator("#decided-table").inner_text().count(approval) == 1
    page.goto(server.url + "/atlas/transfers")
    in_flight = page.locator("#in-flight-table tbody tr", has_text=approval)
    assert in_flight.count() == 1  # the state's "awaiting approval" lines of it are replaced by the decision
    assert "approved in Atlas, dispatching" in in_flight.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "atlas-transfers-after.png"))
    page.close()


def test_a_newer_state_reaches_the_open_page_by_server_sent_events(browser: Any, server: Server) -> None:
    from playwright.sync_api import expect

    page = _sign_in(browser, server, "field", "/atlas")
    page.screenshot(path=str(SCREENSHOTS / "atlas-overview.png"))
    version = int(page.locator("body").get_attribute("data-version") or "0")
    assert page.locator("svg.india circle").count() == len(server.services.states.current.view.dealer_ids)
    meta = Path(str(server.services.states.source.root)) / "state" / "meta.json"
    os.utime(
        meta
    )  # the shadow (or a new run) wrote the state again: the server reloads it off the request path
    deadline = time.monotonic() + 30
    while server.services.states.version == version and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server.services.states.version == version + 1, server.services.states.last_error
    # (the page's content security policy forbids eval, so wait with a locator rather than a JS predicate)
    expect(page.locator("body")).to_have_attribute("data-version", str(version + 1), timeout=10_000)
    assert page.locator("#live-note").inner_text() == "updated to day 30"
    assert page.locator("#kpi-tiles .tile").count() == 5
    page.close()
