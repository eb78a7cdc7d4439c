"""Where a default year's time goes, and what that leaves of issue 20's targets.

``engine_throughput.py`` says how fast the engine is; this script says what it spends the time on, so a
target can be weighed against the work the model must do. Without a profiler (cProfile doubles the cost of
Python-heavy code and not of numpy's, which skews the shares), it runs in one interpreter:

1. the default year (400 dealers x 2,000 SKUs, baseline policies) with the engine's own phase clock
   (``Simulation.phase_seconds``) and timers around the vehicle side's event handlers: the customers' walk,
   car-carrier loads, builds and trunks (a timer costs well under a microsecond; a handler tens of them). What
   neither covers is SimPy's own loop and the handlers not timed;
2. the same year without vehicle customers (no sales, so no production either): the parts side and the fixed
   costs alone;
3. the bare numpy parts loop of the same size (``engine_throughput.bare_numpy_loop``), the 1.5x yardstick;
4. with ``--all-on DAYS``: the first days of the year with every loop on, timing the parts planner's min-cost-flow
   solves (``transfer_planner._solve_group``) apart: the planner's solver work, heaviest in the switch-over to
   dynamic replenishment.

    .venv/bin/python benchmarks/year_breakdown.py                 # ~1 min
    .venv/bin/python benchmarks/year_breakdown.py --all-on 45     # + ~1 min

Prints Markdown tables ready to paste. Run on an otherwise idle machine: the three runs are compared.
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engine_throughput import Job, bare_numpy_loop, git_commit, loop_inputs, table, twin_config

DEALERS, SKUS, DAYS, SEED = 400, 2000, 365, 1
#: the vehicle side's event handlers, by class: each is timed as a whole (nested calls are not counted twice)
VEHICLE_HANDLERS = {
    "twin.engine.vehicle_flow.VehicleFlow": (
        "_built",
        "_build_stock_now",
        "_trunk_arrived",
    ),
    "twin.engine.car_carriers.CarCarriers": ("_loads_leave", "_load_arrived", "_truck_back"),
}
#: what each timed handler is, for the table
HANDLER_LABELS = {
    "customers": "vehicle customers (the day's walk-in customers, served one by one)",
    "_loads_leave": "car-carrier loads leaving (freight, VIN moves)",
    "_load_arrived": "car-carrier loads arriving (unloading into dealer yards)",
    "_truck_back": "car-carrier trucks back",
    "_built": "factory orders built (then trunked alone)",
    "_build_stock_now": "stock builds (one trunk per yard a day)",
    "_trunk_arrived": "trunks arriving at stockyards",
}


class HandlerClock:
    """Seconds spent in chosen methods, the outermost call only (a handler calling another is one span)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._depth = 0

    def wrap(self, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def timed(*args: Any, **kwargs: Any) -> Any:
            if self._depth:
                return method(*args, **kwargs)
            self._depth += 1
            started = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started
                self._depth -= 1

        return timed

    def wrap_process(
        self, name: str, process: Callable[..., Generator[Any, Any, None]]
    ) -> Callable[..., Generator[Any, Any, None]]:
        """A SimPy process: the time of each of its steps (between two yields) counts."""

        @functools.wraps(process)
        def timed(*args: Any, **kwargs: Any) -> Generator[Any, Any, None]:
            steps = process(*args, **kwargs)
            sent = None
            while True:
                self._depth += 1
                started = time.perf_counter()
                try:
                    event = steps.send(sent)
                except StopIteration:
                    return
                finally:
                    self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started
                    self._depth -= 1
                sent = yield event

        return timed


def import_class(path: str) -> Any:
    module_name, class_name = path.rsplit(".", 1)
    module = __import__(module_name, fromlist=[class_name])
    return getattr(module, class_name)


def timed_year(clock: HandlerClock | None, vehicle_customers: bool) -> tuple[float, dict[str, float], int]:
    """Build and run the default year; returns (seconds, phase seconds, events)."""
    from twin.engine.simulation import Simulation

    config = twin_config(DEALERS, SKUS, DAYS, SEED)
    if not vehicle_customers:
        config.demand.vehicle_customers_per_dealer_month = 0.0
    started = time.perf_counter()
    simulation = Simulation(config)
    result = simulation.run()
    return time.perf_counter() - started, dict(simulation.phase_seconds), result.processed_events


def install_clock() -> HandlerClock:
    from twin.engine.vehicle_flow import VehicleFlow

    clock = HandlerClock()
    VehicleFlow.customers = clock.wrap_process("customers", VehicleFlow.customers)  # type: ignore[method-assign]
    for class_path, names in VEHICLE_HANDLERS.items():
        owner = import_class(class_path)
        for name in names:
            setattr(owner, name, clock.wrap(name, getattr(owner, name)))
    return clock


def share(seconds: float, total: float) -> str:
    return f"{100.0 * seconds / total:.0f}%"


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def breakdown() -> tuple[str, float, float]:
    """The default year's breakdown table; returns (table, year seconds, numpy loop seconds)."""
    say("1/3 the default year without vehicle customers (~10 s)")
    without_seconds, without_phases, without_events = timed_year(None, vehicle_customers=False)
    say("2/3 the default year, its vehicle handlers timed (~20 s)")
    clock = install_clock()
    year_seconds, phases, events = timed_year(clock, vehicle_customers=True)
    say("3/3 the bare numpy loop of the same size (~10 s)")
    inputs = loop_inputs(Job("numpy", DEALERS, SKUS, DAYS, SEED))
    started = time.perf_counter()
    bare_numpy_loop(inputs, DAYS, SEED)
    numpy_seconds = time.perf_counter() - started

    parts = ("parts_received", "parts_demand", "parts_replenished")
    rows: list[list[str]] = []
    for name in parts:
        rows.append(
            [f"phase {name}", f"{phases.get(name, 0.0):.2f}", share(phases.get(name, 0.0), year_seconds)]
        )
    others = sorted((name for name in phases if name not in parts), key=lambda name: -phases[name])
    for name in others:
        rows.append([f"phase {name}", f"{phases[name]:.2f}", share(phases[name], year_seconds)])
    for name, seconds in sorted(clock.seconds.items(), key=lambda item: -item[1]):
        rows.append([HANDLER_LABELS.get(name, name), f"{seconds:.2f}", share(seconds, year_seconds)])
    counted = sum(phases.values()) + sum(clock.seconds.values())
    rest = year_seconds - counted
    rows.append(["SimPy's loop, the build, handlers not timed", f"{rest:.2f}", share(rest, year_seconds)])
    rows.append(["**the year (build + run)**", f"**{year_seconds:.2f}**", "100%"])
    parts_seconds = sum(phases.get(name, 0.0) for name in parts)
    customers = clock.seconds.get("customers", 0.0)
    lines = [
        f"### The default year ({DEALERS} x {SKUS}, {DAYS} days, seed {SEED}), commit {git_commit()}",
        "",
        table(["where", "seconds", "share"], rows),
        "",
        f"- the same year without vehicle customers (no sales, no production): {without_seconds:.2f} s "
        f"({without_events:,} events; its parts phases {sum(without_phases.get(n, 0.0) for n in parts):.2f} s); "
        f"with them: {year_seconds:.2f} s ({events:,} events)",
        f"- the bare numpy parts loop of the same size: {numpy_seconds:.2f} s; the engine's parts phases "
        f"{parts_seconds / numpy_seconds:.2f}x it; the year {year_seconds / numpy_seconds:.2f}x it (target 1.5x)",
        f"- the year with the customers' walk free: {(year_seconds - customers) / numpy_seconds:.2f}x the "
        f"numpy loop; 1.5x leaves {1.5 * numpy_seconds - parts_seconds:.2f} s for everything but the parts phases, "
        f"which take {year_seconds - parts_seconds:.2f} s now",
    ]
    return "\n".join(lines), year_seconds, numpy_seconds


def solver_share(days: int) -> str:
    """The all-on year's first ``days``: the planner's min-cost-flow solves against the whole run."""
    import twin.policies.transfer_planner as planner
    from twin.engine.simulation import Simulation

    solved = planner._solve_group
    solves, solver = 0, 0.0

    def timed_solve(*args: Any, **kwargs: Any) -> Any:
        nonlocal solves, solver
        solves += 1
        started = time.perf_counter()
        try:
            return solved(*args, **kwargs)
        finally:
            solver += time.perf_counter() - started

    planner._solve_group = timed_solve
    say(f"every loop on, days 0-{days - 1} (~1 s a day)")
    config = twin_config(DEALERS, SKUS, days, 7, all_loops_on=True)
    started = time.perf_counter()
    simulation = Simulation(config)
    simulation.run()
    seconds = time.perf_counter() - started
    planned = simulation.phase_seconds.get("transfers_planned", 0.0)
    return "\n".join(
        [
            f"### Every loop on, days 0-{days - 1} (seed 7)",
            "",
            table(
                ["where", "seconds", "share"],
                [
                    [f"min-cost-flow solves ({solves:,}, OR-Tools)", f"{solver:.2f}", share(solver, seconds)],
                    [
                        "the rest of the parts planner",
                        f"{planned - solver:.2f}",
                        share(planned - solver, seconds),
                    ],
                    ["everything else", f"{seconds - planned:.2f}", share(seconds - planned, seconds)],
                    [f"**{days} days (build + run)**", f"**{seconds:.2f}**", "100%"],
                ],
            ),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--all-on", type=int, default=0, metavar="DAYS", help="also the first DAYS of the all-on year"
    )
    arguments = parser.parse_args(argv)
    if arguments.all_on < 0 or arguments.all_on > DAYS:
        parser.error(f"--all-on must be in 0..{DAYS} days, not {arguments.all_on}")
    text, _, _ = breakdown()
    print(text)
    if arguments.all_on:
        print()
        print(solver_share(arguments.all_on))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
