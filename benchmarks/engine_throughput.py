"""How fast the twin moves parts, measured against the same loop written two other ways.

The script owns one question: how many SKU-location-days per second the engine simulates, and how that
compares with the two obvious alternatives for the same parts replenishment loop (daily compound-Poisson
demand per SKU-location, fill from on hand, lost sales, min/max reorder, fixed lead time):

- the engine: ``twin.engine.simulation.Simulation`` with the default config and baseline policies (it does
  far more than the loop: vehicles, DCs, emergency orders, carriers, KPIs);
- bare numpy: one vectorised step per day on dense ``[dealer, sku]`` arrays, arrivals in a ring buffer;
- SimPy per SKU-location: one SimPy process per cell, the way SimPy supply-chain libraries model stock.

SKU-location-days count dealer locations only (N dealers x K SKUs x days); the engine's DC rows are extra work
that is not credited. Every measurement runs in a fresh interpreter (this script with a hidden ``--worker``
flag), so its peak resident memory (``VmHWM``) belongs to that configuration alone.

    python benchmarks/engine_throughput.py --quick      # seconds: smoke test
    python benchmarks/engine_throughput.py              # full grid: minutes
    python benchmarks/engine_throughput.py --profile 400x5000   # cProfile one engine run, top 15 cumulative
    python benchmarks/engine_throughput.py --all-on      # only the default year with every loop on
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parents[1]
RESULT_MARKER = "BENCHMARK_RESULT "

ENGINE = "engine"
#: the default scenario with every decision loop on: alerts, dynamic replenishment, rebalancing, network sourcing
ENGINE_ALL_ON = "engine, all loops on"
BARE_NUMPY = "numpy"
SIMPY_PER_SKU = "simpy"

#: targets the engine is held to
FULL_SCENARIO = (400, 2000, 365)
FULL_SCENARIO_SECONDS = 20.0
ALL_ON_SECONDS = 45.0
SMALL_SCENARIO = (20, 500, 365)
SMALL_SCENARIO_SECONDS = 2.0
THROUGHPUT_SCENARIO = (400, 5000, 365)
THROUGHPUT_TARGET_PER_SECOND = 25e6
NUMPY_SLOWDOWN_TARGET = 1.5
PEAK_MEMORY_TARGET_MB = 2000.0
#: with every loop on, the first weeks are a switch-over: dealers fill up to dynamic replenishment's higher
#: levels at once, the DCs run short and the rebalancer moves up to ~28k lines a day until about day 40
#: (against a few hundred later); the all-on runs report these days' share of the run time apart
SWITCH_OVER_DAYS = 45


@dataclass(frozen=True)
class Grid:
    """Which (dealers, skus) pairs each implementation runs, and over how many days."""

    engine_sizes: tuple[tuple[int, int], ...]
    engine_days: int
    simpy_sizes: tuple[tuple[int, int], ...]
    simpy_days: int


FULL_GRID = Grid(
    # (5, 500) is not part of the engine grid proper; it is there so the SimPy row has an engine partner
    engine_sizes=(
        (5, 500),
        (20, 500),
        (50, 500),
        (50, 2000),
        (50, 5000),
        (400, 500),
        (400, 2000),
        (400, 5000),
    ),
    engine_days=365,
    simpy_sizes=((5, 500), (50, 500)),
    simpy_days=365,
)
QUICK_GRID = Grid(
    engine_sizes=((5, 200), (5, 500), (20, 500)),
    engine_days=60,
    simpy_sizes=((5, 200), (5, 500)),
    simpy_days=30,
)


@dataclass(frozen=True)
class Job:
    implementation: str
    dealers: int
    skus: int
    days: int
    seed: int

    @property
    def label(self) -> str:
        return f"{self.implementation} {self.dealers}x{self.skus} {self.days}d"


@dataclass
class Measurement:
    """One configuration, aggregated over its replications (median times, maximum memory)."""

    job: Job
    build_seconds: list[float] = field(default_factory=list)
    run_seconds: list[float] = field(default_factory=list)
    events: list[int] = field(default_factory=list)
    peak_rss_mb: list[float] = field(default_factory=list)
    fill_rate: list[float] = field(default_factory=list)
    parts_seconds: list[float] = field(default_factory=list)
    #: all loops on only: run time of the first ``SWITCH_OVER_DAYS`` days
    switch_over_seconds: list[float] = field(default_factory=list)
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error and bool(self.run_seconds)

    @property
    def cell_days(self) -> int:
        return self.job.dealers * self.job.skus * self.job.days

    @property
    def median_run_seconds(self) -> float:
        return statistics.median(self.run_seconds)

    @property
    def median_build_seconds(self) -> float:
        return statistics.median(self.build_seconds)

    @property
    def throughput(self) -> float:
        """SKU-location-days per second of run (dealer locations only)."""
        return self.cell_days / self.median_run_seconds

    @property
    def parts_throughput(self) -> float:
        """SKU-location-days per second of the engine's parts phases only (engine runs only)."""
        return self.cell_days / statistics.median(self.parts_seconds) if self.parts_seconds else float("nan")

    @property
    def max_peak_rss_mb(self) -> float:
        return max(self.peak_rss_mb)


# -- inside a worker process ------------------------------------------------------------------------------
def peak_rss_mb() -> float:
    """This process's peak resident set size in MB (10^6 bytes): VmHWM, else getrusage."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / 1e6
    except OSError:
        pass
    import resource

    kilobytes = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kilobytes * (1 if sys.platform == "darwin" else 1024) / 1e6


def twin_config(dealers: int, skus: int, days: int, seed: int, all_loops_on: bool = False) -> Any:
    from twin.config import (
        DynamicReplenishmentConfig,
        NetworkConfig,
        NetworkSourcingConfig,
        PolicyConfig,
        TransferConfig,
        TwinConfig,
    )

    policy = PolicyConfig()
    if all_loops_on:
        policy = PolicyConfig(
            replenishment=DynamicReplenishmentConfig(),
            sourcing=NetworkSourcingConfig(),
            transfers=TransferConfig(enabled=True),
        )
        policy.alerts.enabled = True
    return TwinConfig(
        network=NetworkConfig(dealers=dealers, skus=skus),
        policy=policy,
        horizon_days=days,
        warmup_days=min(28, days - 1),
        seed=seed,
        progress=False,
    )


def measure_engine(job: Job) -> dict[str, Any]:
    from twin.engine.simulation import Simulation

    all_loops_on = job.implementation == ENGINE_ALL_ON
    config = twin_config(job.dealers, job.skus, job.days, job.seed, all_loops_on)
    started = time.perf_counter()
    simulation = Simulation(config)
    built = time.perf_counter()
    if all_loops_on:  # stopping the clock at a day boundary changes nothing in the run
        simulation.advance(SWITCH_OVER_DAYS)
    switched_over = time.perf_counter()
    result = simulation.run()
    finished = time.perf_counter()
    parts_phases = ("parts_received", "parts_demand", "parts_replenished")
    measured = {
        "build_seconds": built - started,
        "run_seconds": finished - built,
        "events": result.processed_events,
        # wall time inside the daily parts phases alone: the part of the engine the references also do
        "parts_seconds": sum(simulation.phase_seconds.get(name, 0.0) for name in parts_phases),
    }
    if all_loops_on:
        measured["switch_over_seconds"] = switched_over - built
    return measured


@dataclass(frozen=True)
class LoopInputs:
    """The loop's parameters, taken from the engine's own world so all three see the same rates."""

    #: expected demand lines per day per [dealer, sku]
    rate_lines_per_day: Any
    #: mean extra units per line (a line is 1 + Poisson(extra) units) per SKU
    extra_units_per_line: Any
    #: parts seasonal factor per day
    season: Any
    minimum: Any
    maximum: Any
    lead_time_days: int


def loop_inputs(job: Job) -> LoopInputs:
    """Rates, levels and lead time for the reference loops, from an engine built but never run."""
    import numpy as np

    from twin.config import StaticMinMaxConfig
    from twin.domain.parts import PART_CLASSES
    from twin.engine.simulation import Simulation

    simulation = Simulation(twin_config(job.dealers, job.skus, job.days, job.seed))
    rate = np.asarray(simulation.demand.parts_rate_lines_per_day, dtype=np.float64)
    units_per_line = np.array([part_class.units_per_line_mean for part_class in PART_CLASSES])
    units_per_line = units_per_line[np.asarray(simulation.part_class)]
    daily_units = rate * units_per_line[None, :]
    levels = StaticMinMaxConfig()
    # the baseline's phase-in rule on expected lines: stock a part only if it sees a few lines a year
    stocked = rate * 365.0 >= levels.phase_in_lines_per_year
    minimum = np.where(stocked, np.maximum(1, np.ceil(daily_units * levels.min_cover_days)), 0).astype(
        np.int64
    )
    maximum = np.where(stocked, np.maximum(minimum + 1, np.ceil(daily_units * levels.max_cover_days)), 0)
    season = np.array([simulation.demand.parts_season(day) for day in range(job.days)])
    lead_time_days = max(1, round(float(np.median(simulation.dealer_lead_time_days))))
    return LoopInputs(rate, units_per_line - 1.0, season, minimum, maximum.astype(np.int64), lead_time_days)


def bare_numpy_loop(inputs: LoopInputs, days: int, seed: int) -> tuple[float, int]:
    """Dense vectorised recursion over days; returns (fill rate, 0 events)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    shape = inputs.rate_lines_per_day.shape
    rate = inputs.rate_lines_per_day
    extra = np.broadcast_to(inputs.extra_units_per_line[None, :], shape).reshape(-1)
    minimum, maximum = inputs.minimum, inputs.maximum
    lead = inputs.lead_time_days
    arrivals = np.zeros((lead + 1, *shape), dtype=np.int64)  # ring buffer: slot (day + lead) % (lead + 1)
    on_hand = maximum.copy()
    pipeline = np.zeros(shape, dtype=np.int64)
    rate_today = np.empty(shape)
    sold = np.empty(shape, dtype=np.int64)
    position = np.empty(shape, dtype=np.int64)
    order = np.empty(shape, dtype=np.int64)
    below = np.empty(shape, dtype=bool)
    demanded_units = 0
    sold_units = 0
    for day in range(days):
        slot = day % (lead + 1)
        on_hand += arrivals[slot]
        pipeline -= arrivals[slot]
        arrivals[slot] = 0
        np.multiply(rate, inputs.season[day], out=rate_today)
        units = rng.poisson(rate_today)  # lines; becomes units below
        flat_units = units.reshape(-1)
        with_lines = np.flatnonzero(flat_units)
        lines = flat_units[with_lines]
        flat_units[with_lines] = lines + rng.poisson(lines * extra[with_lines])
        np.minimum(on_hand, units, out=sold)
        on_hand -= sold
        demanded_units += int(flat_units[with_lines].sum())
        sold_units += int(sold.sum())
        np.add(on_hand, pipeline, out=position)
        np.less_equal(position, minimum, out=below)
        np.subtract(maximum, position, out=order)
        order *= below
        arrivals[(day + lead) % (lead + 1)] += order
        pipeline += order
    return sold_units / max(demanded_units, 1), 0


def poisson(mean: float, uniform: Any) -> int:
    """Knuth's multiplication method: cheap for the small means of one SKU-location-day."""
    if mean <= 0.0:
        return 0
    limit = math.exp(-mean)
    count = 0
    product = uniform()
    while product > limit:
        count += 1
        product *= uniform()
    return count


class StockPoint:
    """One SKU at one dealer, as SimPy supply-chain libraries keep it: a Python object with its counters."""

    __slots__ = ("demanded", "on_hand", "pipeline", "sold")

    def __init__(self, on_hand: int) -> None:
        self.on_hand = on_hand
        self.pipeline = 0
        self.demanded = 0
        self.sold = 0


def simpy_per_sku_loop(inputs: LoopInputs, days: int, seed: int) -> tuple[float, int]:
    """One SimPy process per SKU-location, one timeout per day, one delivery process per order."""
    import simpy

    class CountingEnvironment(simpy.Environment):
        def __init__(self) -> None:
            super().__init__()
            self.processed_events = 0

        def step(self) -> None:
            self.processed_events += 1
            super().step()

    env = CountingEnvironment()
    uniform = random.Random(seed).random
    season = inputs.season.tolist()
    lead = inputs.lead_time_days

    def deliver(point: StockPoint, quantity: int):  # type: ignore[no-untyped-def]
        yield env.timeout(lead)
        point.on_hand += quantity
        point.pipeline -= quantity

    def replenish(point: StockPoint, rate: float, extra: float, minimum: int, maximum: int):  # type: ignore[no-untyped-def]
        for day in range(days):
            lines = poisson(rate * season[day], uniform)
            if lines:
                units = lines + poisson(lines * extra, uniform)
                sold = min(point.on_hand, units)
                point.on_hand -= sold
                point.demanded += units
                point.sold += sold
            position = point.on_hand + point.pipeline
            if maximum > 0 and position <= minimum:
                quantity = maximum - position
                point.pipeline += quantity
                env.process(deliver(point, quantity))
            yield env.timeout(1)

    points = []
    rates = inputs.rate_lines_per_day.tolist()
    extras = inputs.extra_units_per_line.tolist()
    minimums, maximums = inputs.minimum.tolist(), inputs.maximum.tolist()
    for dealer, dealer_rates in enumerate(rates):
        for sku, rate in enumerate(dealer_rates):
            point = StockPoint(maximums[dealer][sku])
            points.append(point)
            env.process(replenish(point, rate, extras[sku], minimums[dealer][sku], maximums[dealer][sku]))
    env.run(until=days)
    demanded = sum(point.demanded for point in points)
    return sum(point.sold for point in points) / max(demanded, 1), env.processed_events


def measure_reference(job: Job) -> dict[str, Any]:
    inputs = loop_inputs(job)
    loop = bare_numpy_loop if job.implementation == BARE_NUMPY else simpy_per_sku_loop
    started = time.perf_counter()
    fill_rate, events = loop(inputs, job.days, job.seed)
    return {
        "build_seconds": 0.0,
        "run_seconds": time.perf_counter() - started,
        "events": events,
        "fill_rate": fill_rate,
    }


def worker(encoded_job: str) -> None:
    job = Job(**json.loads(encoded_job))
    engine = job.implementation in (ENGINE, ENGINE_ALL_ON)
    measured = measure_engine(job) if engine else measure_reference(job)
    measured["peak_rss_mb"] = peak_rss_mb()
    print(RESULT_MARKER + json.dumps(measured), flush=True)


# -- in the parent --------------------------------------------------------------------------------------
def run_in_subprocess(job: Job, timeout_seconds: float) -> dict[str, Any]:
    """Run one job in a fresh interpreter; the result or ``{"error": ...}``."""
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(job.__dict__)]
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPOSITORY), os.environ.get("PYTHONPATH")])),
    }
    try:
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout_seconds, cwd=REPOSITORY, env=environment
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout_seconds:.0f} s"}
    for line in reversed(completed.stdout.splitlines()):
        if line.startswith(RESULT_MARKER):
            return dict(json.loads(line[len(RESULT_MARKER) :]))
    tail = [line for line in completed.stderr.strip().splitlines() if line.strip()][-1:] or [
        f"exit {completed.returncode}"
    ]
    return {"error": f"crashed (exit {completed.returncode}): {tail[0]}"}


def plan_jobs(grid: Grid, skip_references: bool, seed: int, all_loops_on: bool = False) -> list[Job]:
    jobs = [Job(ENGINE, dealers, skus, grid.engine_days, seed) for dealers, skus in grid.engine_sizes]
    if grid is FULL_GRID or all_loops_on:
        jobs.append(Job(ENGINE_ALL_ON, *FULL_SCENARIO[:2], grid.engine_days, seed))
    if not skip_references:
        jobs += [
            Job(BARE_NUMPY, dealers, skus, grid.engine_days, seed) for dealers, skus in grid.engine_sizes
        ]
        jobs += [
            Job(SIMPY_PER_SKU, dealers, skus, grid.simpy_days, seed) for dealers, skus in grid.simpy_sizes
        ]
    return jobs


def measure_all(jobs: list[Job], repeat: int, timeout_seconds: float) -> list[Measurement]:
    from tqdm import tqdm

    measurements = [Measurement(job) for job in jobs]
    with tqdm(total=len(jobs) * repeat, unit="run", file=sys.stderr, dynamic_ncols=True) as progress:
        for measurement in measurements:
            for _ in range(repeat):
                progress.set_description(measurement.job.label)
                result = run_in_subprocess(measurement.job, timeout_seconds)
                progress.update(1)
                if "error" in result:
                    measurement.error = str(result["error"])
                    progress.write(f"{measurement.job.label}: {measurement.error}", file=sys.stderr)
                    break
                measurement.build_seconds.append(float(result["build_seconds"]))
                measurement.run_seconds.append(float(result["run_seconds"]))
                measurement.events.append(int(result["events"]))
                measurement.peak_rss_mb.append(float(result["peak_rss_mb"]))
                if "fill_rate" in result:
                    measurement.fill_rate.append(float(result["fill_rate"]))
                if "parts_seconds" in result:
                    measurement.parts_seconds.append(float(result["parts_seconds"]))
                if "switch_over_seconds" in result:
                    measurement.switch_over_seconds.append(float(result["switch_over_seconds"]))
    return measurements


def millions(value: float) -> str:
    return f"{value / 1e6:,.2f} M"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---:" if index else "---" for index in range(len(header))) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def config_label(job: Job) -> str:
    size = f"{job.dealers}x{job.skus}"
    return size if job.implementation == ENGINE else f"{size}, all loops on"


def engine_table(measurements: list[Measurement]) -> str:
    rows = []
    for measurement in measurements:
        job = measurement.job
        if not measurement.ok:
            rows.append(
                [
                    config_label(job),
                    str(job.dealers),
                    str(job.skus),
                    str(job.days),
                    "",
                    "",
                    measurement.error,
                    "",
                    "",
                    "",
                ]
            )
            continue
        rows.append(
            [
                config_label(job),
                str(job.dealers),
                str(job.skus),
                str(job.days),
                f"{measurement.median_build_seconds:.2f}",
                f"{measurement.median_run_seconds:.2f}",
                millions(measurement.throughput),
                millions(measurement.parts_throughput),
                f"{statistics.median(measurement.events):,.0f}",
                f"{measurement.max_peak_rss_mb:,.0f}",
            ]
        )
    header = [
        "config", "N", "K", "days", "build s", "run s", "SKU-location-days/s", "parts phases only /s", "events",
        "peak RSS MB",
    ]  # fmt: skip
    return table(header, rows)


def comparison_rows(
    measurements: list[Measurement],
) -> list[tuple[Measurement, Measurement | None, Measurement | None]]:
    by_key = {(m.job.implementation, m.job.dealers, m.job.skus): m for m in measurements}
    rows = []
    for engine in (m for m in measurements if m.job.implementation == ENGINE):
        key = (engine.job.dealers, engine.job.skus)
        rows.append((engine, by_key.get((BARE_NUMPY, *key)), by_key.get((SIMPY_PER_SKU, *key))))
    return rows


def throughput_cell(measurement: Measurement | None) -> str:
    if measurement is None:
        return "not run"
    if not measurement.ok:
        return measurement.error
    return millions(measurement.throughput)


def ratio_cell(numerator: Measurement | None, denominator: Measurement | None) -> str:
    if numerator is None or denominator is None or not numerator.ok or not denominator.ok:
        return "-"
    return f"{numerator.throughput / denominator.throughput:,.2f}x"


def fill_cell(measurement: Measurement | None) -> str:
    if measurement is None or not measurement.ok or not measurement.fill_rate:
        return "-"
    return f"{100 * statistics.median(measurement.fill_rate):.1f}"


def comparison_table(measurements: list[Measurement]) -> str:
    rows = []
    for engine, numpy_run, simpy_run in comparison_rows(measurements):
        simpy_days = f" ({simpy_run.job.days} d)" if simpy_run is not None and simpy_run.ok else ""
        rows.append(
            [
                f"{engine.job.dealers}x{engine.job.skus}",
                str(engine.job.dealers),
                str(engine.job.skus),
                throughput_cell(engine),
                millions(engine.parts_throughput) if engine.ok else "-",
                throughput_cell(numpy_run),
                throughput_cell(simpy_run) + simpy_days,
                ratio_cell(numpy_run, engine),
                f"{numpy_run.throughput / engine.parts_throughput:,.2f}x"
                if numpy_run is not None and numpy_run.ok and engine.ok
                else "-",
                ratio_cell(engine, simpy_run),
                fill_cell(numpy_run),
                fill_cell(simpy_run),
            ]
        )
    header = [
        "config",
        "N",
        "K",
        "engine /s",
        "engine parts phases /s",
        "bare numpy /s",
        "SimPy per SKU /s",
        "numpy ÷ engine (slowdown)",
        "numpy ÷ engine parts phases",
        "engine ÷ SimPy (speedup)",
        "numpy fill %",
        "SimPy fill %",
    ]
    return table(header, rows)


def verdict(met: bool) -> str:
    return "PASS" if met else "MISS"


def find(
    measurements: list[Measurement], scenario: tuple[int, int, int], implementation: str = ENGINE
) -> Measurement | None:
    dealers, skus, days = scenario
    for measurement in measurements:
        job = measurement.job
        if (job.implementation, job.dealers, job.skus, job.days) == (
            implementation,
            dealers,
            skus,
            days,
        ) and measurement.ok:
            return measurement
    return None


def seconds_target(
    measurements: list[Measurement],
    what: str,
    scenario: tuple[int, int, int],
    limit: float,
    implementation: str,
) -> str:
    found = find(measurements, scenario, implementation)
    name = "{}x{}, {} days".format(*scenario)
    if found is None:
        return f"- {what} ({name}) build + run <= {limit:.0f} s: NOT MEASURED"
    total = found.median_build_seconds + found.median_run_seconds
    line = f"- {what} ({name}) build + run <= {limit:.0f} s: {verdict(total <= limit)} ({total:.1f} s"
    if found.switch_over_seconds:
        switch_over = statistics.median(found.switch_over_seconds)
        line += (
            f"; days 0-{SWITCH_OVER_DAYS - 1}, the switch-over to dynamic replenishment: {switch_over:.1f} s"
        )
    return line + ")"


def targets(measurements: list[Measurement]) -> str:
    lines = [
        seconds_target(measurements, "default scenario", FULL_SCENARIO, FULL_SCENARIO_SECONDS, ENGINE),
        seconds_target(measurements, "small network", SMALL_SCENARIO, SMALL_SCENARIO_SECONDS, ENGINE),
        seconds_target(
            measurements, "default scenario, all loops on", FULL_SCENARIO, ALL_ON_SECONDS, ENGINE_ALL_ON
        ),
    ]
    largest = find(measurements, THROUGHPUT_SCENARIO)
    name = "{}x{}".format(*THROUGHPUT_SCENARIO[:2])
    if largest is None:
        lines.append(
            f"- >= {millions(THROUGHPUT_TARGET_PER_SECOND)} SKU-location-days/s at {name}: NOT MEASURED"
        )
    else:
        met = largest.throughput >= THROUGHPUT_TARGET_PER_SECOND
        lines.append(
            f"- >= {millions(THROUGHPUT_TARGET_PER_SECOND)} SKU-location-days/s at {name}: "
            f"{verdict(met)} ({millions(largest.throughput)})"
        )
    slowdowns = [
        (numpy_run.throughput / engine.throughput, engine)
        for engine, numpy_run, _ in comparison_rows(measurements)
        if numpy_run is not None and numpy_run.ok and engine.ok
    ]
    # issue 20 holds the default year to 1.5x of the bare loop of its own size; the other sizes are context
    default_size = [
        ratio for ratio, engine in slowdowns if (engine.job.dealers, engine.job.skus) == FULL_SCENARIO[:2]
    ]
    name = "{}x{}".format(*FULL_SCENARIO[:2])
    if not default_size:
        lines.append(
            f"- default year within {NUMPY_SLOWDOWN_TARGET:.1f}x of bare numpy ({name}): NOT MEASURED"
        )
    else:
        worst, engine = max(slowdowns, key=lambda pair: pair[0])
        within = sum(ratio <= NUMPY_SLOWDOWN_TARGET for ratio, _ in slowdowns)
        lines.append(
            f"- default year within {NUMPY_SLOWDOWN_TARGET:.1f}x of bare numpy of the same size ({name}): "
            f"{verdict(default_size[0] <= NUMPY_SLOWDOWN_TARGET)} ({default_size[0]:.2f}x; {within} of "
            f"{len(slowdowns)} sizes within, worst {worst:.1f}x at {engine.job.dealers}x{engine.job.skus})"
        )
    engines = [m for m in measurements if m.job.implementation == ENGINE and m.ok]
    if not engines:
        lines.append(f"- peak memory < {PEAK_MEMORY_TARGET_MB:,.0f} MB: NOT MEASURED")
    else:
        heaviest = max(engines, key=lambda m: m.max_peak_rss_mb)
        met = heaviest.max_peak_rss_mb < PEAK_MEMORY_TARGET_MB
        lines.append(
            f"- peak memory < {PEAK_MEMORY_TARGET_MB:,.0f} MB: {verdict(met)} "
            f"({heaviest.max_peak_rss_mb:,.0f} MB at {heaviest.job.dealers}x{heaviest.job.skus})"
        )
    failed = [m for m in measurements if not m.ok]
    lines += [f"- FAILED: {m.job.label}: {m.error}" for m in failed]
    return "\n".join(lines)


def git_commit() -> str:
    try:
        completed = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPOSITORY
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "twin"], capture_output=True, text=True, cwd=REPOSITORY
        )
    except OSError:
        return "unknown"
    return completed.stdout.strip() + (" (twin/ has uncommitted changes)" if dirty.stdout.strip() else "")


def report(measurements: list[Measurement], grid: Grid, repeat: int, wall_seconds: float) -> str:
    import numpy
    import simpy

    return "\n".join(
        [
            "## Engine throughput",
            "",
            f"commit {git_commit()}; Python {platform.python_version()}, numpy {numpy.__version__}, "
            f"SimPy {simpy.__version__}; {os.cpu_count()} CPUs ({platform.machine()}); "
            f"{repeat} replication(s) per configuration, median times, maximum peak RSS",
            "",
            "SKU-location-days = dealers x SKUs x days (dealer locations only; "
            "the engine's DC rows are not counted). "
            "build s = master data + world + state; run s = the SimPy clock to the horizon plus finalize. "
            "Peak RSS is the whole fresh interpreter (VmHWM), imports included.",
            "",
            engine_table([m for m in measurements if m.job.implementation in (ENGINE, ENGINE_ALL_ON)]),
            "",
            "## Same replenishment loop, three ways",
            "",
            f"Engine and bare numpy over {grid.engine_days} days; "
            f"SimPy per SKU-location over {grid.simpy_days} days "
            "(its throughput is per second, so the horizons compare). "
            "The engine also runs vehicles, DCs, emergency orders, carriers and KPIs; "
            "the two references run only the parts loop, on the engine's own demand rates "
            "and min/max levels. Fill % (units) shows the two references simulate the same thing.",
            "",
            comparison_table(measurements),
            "",
            "## Targets",
            "",
            targets(measurements),
            "",
            f"benchmark wall time {wall_seconds / 60:.1f} min",
        ]
    )


def profile(size: str, days: int, seed: int) -> None:
    """cProfile one engine run in this process; print the top 15 functions by cumulative, then own time."""
    import cProfile
    import pstats

    from twin.engine.simulation import Simulation

    dealers, skus = (int(part) for part in size.lower().split("x"))
    simulation = Simulation(twin_config(dealers, skus, days, seed))
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    simulation.run()
    profiler.disable()
    print(f"## cProfile: engine {dealers}x{skus}, {days} days, run {time.perf_counter() - started:.1f} s\n")
    profile_stats = pstats.Stats(profiler, stream=sys.stdout)
    profile_stats.sort_stats("cumulative").print_stats(15)
    profile_stats.sort_stats("tottime").print_stats(15)


def parse_sizes(parser: argparse.ArgumentParser, text: str) -> tuple[tuple[int, int], ...]:
    """``400x2000,20x500`` as ((400, 2000), (20, 500)); anything else is a usage error naming the item."""
    sizes = []
    for item in text.split(","):
        parts = item.strip().lower().split("x")
        if len(parts) != 2 or not all(part.isdigit() and int(part) > 0 for part in parts):
            parser.error(f"--sizes: {item.strip()!r} is not DEALERSxSKUS with both positive, e.g. 400x2000")
        sizes.append((int(parts[0]), int(parts[1])))
    return tuple(sizes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="small grid and short horizons: a smoke test in seconds"
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="replications per configuration (median is reported)"
    )
    parser.add_argument("--seed", type=int, default=1, help="run seed of every configuration")
    parser.add_argument("--engine-only", action="store_true", help="skip the bare numpy and SimPy references")
    parser.add_argument(
        "--timeout", type=float, default=3600.0, help="seconds before one configuration is abandoned"
    )
    parser.add_argument(
        "--profile", metavar="NxK", help="instead of the grid: cProfile one engine run, e.g. 400x5000"
    )
    parser.add_argument("--days", type=int, default=365, help="horizon of the --profile run")
    parser.add_argument(
        "--sizes",
        metavar="NxK[,NxK...]",
        help="instead of the grid: only these engine sizes over a year, e.g. 400x2000,20x500 --repeat 3 "
        "(with the numpy reference unless --engine-only; the targets of sizes not run say NOT MEASURED)",
    )
    parser.add_argument(
        "--all-on",
        action="store_true",
        help="with --sizes: also the default scenario with every loop on; alone: only that scenario",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.worker:
        worker(arguments.worker)
        return 0
    if arguments.profile:
        profile(arguments.profile, arguments.days, arguments.seed)
        return 0
    if arguments.repeat < 1:
        parser.error(f"--repeat must be at least 1, got {arguments.repeat}")
    grid = QUICK_GRID if arguments.quick else FULL_GRID
    if arguments.sizes or arguments.all_on:
        sizes = parse_sizes(parser, arguments.sizes) if arguments.sizes else ()
        grid = Grid(engine_sizes=sizes, engine_days=365, simpy_sizes=(), simpy_days=365)
    jobs = plan_jobs(grid, arguments.engine_only, arguments.seed, arguments.all_on)
    started = time.perf_counter()
    measurements = measure_all(jobs, arguments.repeat, arguments.timeout)
    print(report(measurements, grid, arguments.repeat, time.perf_counter() - started))
    return 0


if __name__ == "__main__":
    if str(REPOSITORY) not in sys.path:
        sys.path.insert(0, str(REPOSITORY))
    sys.exit(main())
