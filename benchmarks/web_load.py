"""Load on twin-serve: 400 dealer sessions and 20 OEM users polling the main pages and API (issue #17).

  .venv/bin/python benchmarks/web_load.py --state outputs/<scenario>/<run>      # the default network's state
  .venv/bin/python benchmarks/web_load.py --state <run> --seconds 30 --think-seconds 5

Starts ``twin-serve`` (a separate process, so the load client does not share its interpreter) on 127.0.0.1
and a free port, with a throw-away users database of 400 dealer users (one per dealer of the state) and 20 OEM
users; signs every session in (its sign-in time reported apart), then for ``--seconds`` each session polls
its pages in a loop with ``--think-seconds`` (randomised +-50%) between rounds:
- a dealer: ``/portal``, ``/api/dealers/<own>/allocations``, ``/stock``, ``/arrivals``, ``/statement``;
- an OEM user: ``/atlas``, ``/atlas/alerts``, ``/atlas/recommendations``, ``/api/recommendations``, ``/api/kpis``.
Bounded in time (``--seconds``) and in count (``--max-requests``); loopback only. Prints p50/p95/max latency
per route group and the errors (any non-200 answer or transport failure); target: dealer pages p95 < 200 ms,
zero errors. Stops the server by its pid.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "benchmark password"
DEALER_PAGES = ("/portal", "/api/dealers/{dealer}/allocations", "/api/dealers/{dealer}/stock",
                "/api/dealers/{dealer}/arrivals", "/api/dealers/{dealer}/statement")  # fmt: skip
OEM_PAGES = ("/atlas", "/atlas/alerts", "/atlas/recommendations", "/api/recommendations", "/api/kpis")
OEM_ROLES = ("field_ops", "sales_ops", "finance", "admin")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _make_users(database: Path, dealer_ids: list[str], oem_users: int) -> list[tuple[str, str | None]]:
    """One dealer user per dealer and ``oem_users`` OEM users, sharing one argon2 hash (hashing 420 passwords
    one by one would only time argon2, which the sign-in phase measures anyway)."""
    from twin.web.accounts import HASHER
    from twin.web.database import Database

    db = Database(database)
    hashed = HASHER.hash(PASSWORD)
    users: list[tuple[str, str | None]] = [(f"dealer-{dealer}", dealer) for dealer in dealer_ids]
    users += [(f"oem-{index:02d}", None) for index in range(oem_users)]
    with db.transaction() as connection:
        for index, (name, dealer) in enumerate(users):
            role = "dealer" if dealer else OEM_ROLES[index % len(OEM_ROLES)]
            connection.execute(
                "INSERT INTO users (name, role, dealer_id, password_hash, created_at) VALUES (?, ?, ?, ?, ?)",
                (name, role, dealer, hashed, "benchmark"),
            )
    db.close()
    return users


def _dealer_ids(state: str) -> list[str]:
    from twin.web.state_source import StateSource

    source = StateSource(state)
    from twin.views import load_view

    return list(load_view(source.entries()[-1].path).dealer_ids)


def _start_server(
    state: str, users: Path, port: int, log: Path, profile: str | None
) -> subprocess.Popen[bytes]:
    profiler = ["-m", "cProfile", "-o", profile] if profile else []
    command = [sys.executable, *profiler, "-m", "twin.web.cli", f"state={state}", f"users={users}", f"server.port={port}",
               "refresh_seconds=0"]  # fmt: skip
    with log.open("wb") as handle:
        return subprocess.Popen(command, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT)


async def _wait_ready(url: str, process: subprocess.Popen[bytes], timeout_seconds: float) -> float:
    started = time.perf_counter()
    async with httpx.AsyncClient() as client:
        while time.perf_counter() - started < timeout_seconds:
            if process.poll() is not None:
                raise RuntimeError(f"twin-serve exited with {process.returncode} before answering")
            try:
                if (await client.get(url + "/login")).status_code == 200:
                    return time.perf_counter() - started
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.25)
    raise RuntimeError(f"twin-serve did not answer within {timeout_seconds} s")


async def _sign_in(
    url: str, users: list[tuple[str, str | None]], concurrency: int
) -> tuple[list[httpx.AsyncClient], list[float]]:
    gate = asyncio.Semaphore(concurrency)
    times: list[float] = []

    async def one(name: str) -> httpx.AsyncClient:
        client = httpx.AsyncClient(base_url=url, timeout=60.0, limits=httpx.Limits(max_connections=1))
        async with gate:
            started = time.perf_counter()
            response = await client.post("/api/login", json={"user": name, "password": PASSWORD})
            times.append(time.perf_counter() - started)
        response.raise_for_status()
        return client

    clients = await asyncio.gather(*(one(name) for name, _ in users))
    return list(clients), times


async def _poll(
    clients: list[httpx.AsyncClient], users: list[tuple[str, str | None]], seconds: float, think_seconds: float,
    max_requests: int,
) -> tuple[dict[str, list[float]], dict[str, int], int]:  # fmt: skip
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    count = 0
    deadline = time.perf_counter() + seconds
    rng = random.Random(17)

    async def session(client: httpx.AsyncClient, dealer: str | None, offset: float) -> None:
        nonlocal count
        await asyncio.sleep(offset)
        pages = [page.format(dealer=dealer) for page in DEALER_PAGES] if dealer else list(OEM_PAGES)
        group = "dealer" if dealer else "oem"
        while time.perf_counter() < deadline and count < max_requests:
            for page in pages:
                if time.perf_counter() >= deadline or count >= max_requests:
                    return
                count += 1
                kind = f"{group} {'page' if not page.startswith('/api') else 'API'}"
                started = time.perf_counter()
                try:
                    response = await client.get(page)
                    elapsed = time.perf_counter() - started
                    if response.status_code != 200:
                        errors[f"{page.split('/')[1]} {response.status_code}"] += 1
                except httpx.HTTPError as error:
                    elapsed = time.perf_counter() - started
                    errors[type(error).__name__] += 1
                latencies[kind].append(elapsed)
                latencies[group].append(elapsed)
            await asyncio.sleep(
                min(think_seconds * rng.uniform(0.5, 1.5), max(0.0, deadline - time.perf_counter()))
            )

    await asyncio.gather(*(
        session(client, dealer, rng.uniform(0, think_seconds))
        for client, (_, dealer) in zip(clients, users, strict=True)
    ))  # fmt: skip
    return latencies, errors, count


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def _run(arguments: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="web_load_"))
    dealer_ids = _dealer_ids(arguments.state)[: arguments.dealers]
    users = _make_users(workdir / "users.db", dealer_ids, arguments.oem)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = workdir / "twin-serve.log"
    process = _start_server(arguments.state, workdir / "users.db", port, log, arguments.profile)
    try:
        ready = await _wait_ready(url, process, arguments.start_timeout)
        print(f"twin-serve answered after {ready:.1f} s (state loaded and every page's data precomputed)")
        signed_in = time.perf_counter()
        clients, login_times = await _sign_in(url, users, arguments.login_concurrency)
        print(f"{len(clients)} sessions signed in in {time.perf_counter() - signed_in:.1f} s "
              f"(sign-in p50 {statistics.median(login_times) * 1000:.0f} ms, argon2id)")  # fmt: skip
        started = time.perf_counter()
        latencies, errors, count = await _poll(clients, users, arguments.seconds, arguments.think_seconds,
                                               arguments.max_requests)  # fmt: skip
        wall = time.perf_counter() - started
        for client in clients:
            await client.aclose()
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
    print(f"\n{count:,} requests in {wall:.1f} s ({count / wall:.0f} req/s) from {len(users)} sessions "
          f"({len(dealer_ids)} dealers, {arguments.oem} OEM users), think time {arguments.think_seconds} s\n")  # fmt: skip
    print("| requests | count | p50 ms | p95 ms | max ms |")
    print("|---|---:|---:|---:|---:|")
    for kind in ("dealer", "dealer page", "dealer API", "oem", "oem page", "oem API"):
        values = latencies.get(kind, [])
        if values:
            print(f"| {kind} | {len(values):,} | {_percentile(values, 0.5) * 1000:.1f} | "
                  f"{_percentile(values, 0.95) * 1000:.1f} | {max(values) * 1000:.1f} |")  # fmt: skip
    total_errors = sum(errors.values())
    print(f"\nerrors: {total_errors}" + (f" ({dict(errors)})" if errors else ""))
    dealer_p95 = _percentile(latencies["dealer"], 0.95) * 1000 if latencies.get("dealer") else float("nan")
    verdict = "PASS" if dealer_p95 < 200 and total_errors == 0 else "MISS"
    print(f"target dealer p95 < 200 ms and zero errors: {verdict} (dealer p95 {dealer_p95:.1f} ms)")
    print(f"server log: {log}")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--state", required=True, help="a twin-run folder (the default network's) or state folder"
    )
    parser.add_argument(
        "--dealers", type=int, default=400, help="dealer sessions (one per dealer; default 400)"
    )
    parser.add_argument("--oem", type=int, default=20, help="OEM sessions (default 20)")
    parser.add_argument("--seconds", type=float, default=60.0, help="polling time (default 60)")
    parser.add_argument(
        "--think-seconds", type=float, default=10.0, help="mean pause between a session's rounds"
    )
    parser.add_argument("--max-requests", type=int, default=50_000, help="stop after this many requests")
    parser.add_argument("--login-concurrency", type=int, default=4, help="sign-ins in flight at once")
    parser.add_argument("--profile", default=None, help="run the server under cProfile, writing this file")
    parser.add_argument("--start-timeout", type=float, default=180.0, help="seconds to wait for the server")
    arguments = parser.parse_args()
    if not os.path.isdir(arguments.state):
        parser.error(f"--state {arguments.state}: no such folder")
    sys.exit(asyncio.run(_run(arguments)))


if __name__ == "__main__":
    main()
