"""Fan replications out over an executor and bring the KPI summaries back to the driver.

Executors: ``inline`` (this process), ``process`` (a local process pool over the machine's cores) and ``ray``
(a Ray cluster; ``pip install -e ".[dist]"``). Workers only simulate; they return small summaries and never
write to the tracking store, so a shared SQLite file is touched by the driver alone.
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass

from twin.analysis.comparison import ArmResult
from twin.config import TwinConfig
from twin.errors import ConfigError

EXECUTORS = ("inline", "process", "ray")


@dataclass(frozen=True)
class ReplicationJob:
    arm: str
    replication: int
    config: TwinConfig

    @property
    def seed(self) -> int:
        return self.config.seed


@dataclass(frozen=True)
class JobFailure:
    """A replication that raised: which arm, which replication and seed, and the error it raised."""

    arm: str
    replication: int
    seed: int
    error: str

    def describe(self) -> str:
        return f"arm {self.arm!r} replication {self.replication} (seed {self.seed}) failed: {self.error}"


def run_job(job: ReplicationJob) -> ArmResult:
    """One replication of one arm (module level, so process pools and Ray can ship it)."""
    from twin.engine.simulation import Simulation
    from twin.live.to_network_state import load_start_state

    start = load_start_state(job.config)  # a saved state, or a live state converted (every arm alike)
    result = Simulation(start.config, snapshot=start.state, approval_decisions=start.approval_decisions).run()
    return ArmResult(arm=job.arm, replication=job.replication, seed=job.seed, summary=dict(result.summary))


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def run_jobs(
    jobs: Sequence[ReplicationJob],
    executor: str = "process",
    workers: int = 0,
    ray_address: str = "",
    on_done: Callable[[ArmResult], None] | None = None,
    failures: list[JobFailure] | None = None,
) -> list[ArmResult]:
    """Run every job; results come back in job order whatever order they finish in. With ``failures``, a job
    that raises is recorded there and the others go on (its result is left out); without, it raises."""
    if executor not in EXECUTORS:
        raise ConfigError("executor", executor, f"must be one of {list(EXECUTORS)}")
    workers = workers or default_workers()
    done: dict[int, ArmResult] = {}

    def finished(index: int, result: ArmResult) -> None:
        done[index] = result
        if on_done is not None:
            on_done(result)

    def failed(index: int, error: BaseException) -> None:
        if failures is None or not isinstance(error, Exception):
            raise error
        job = jobs[index]
        failures.append(JobFailure(job.arm, job.replication, job.seed, f"{type(error).__name__}: {error}"))

    if executor == "inline" or (executor == "process" and (workers == 1 or len(jobs) == 1)):
        for index, job in enumerate(jobs):
            try:
                result = run_job(job)
            except Exception as error:
                failed(index, error)
                continue
            finished(index, result)
    elif executor == "process":
        # fork is cheap and safe here (no threads started yet); spawn elsewhere
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        with ProcessPoolExecutor(
            max_workers=min(workers, len(jobs)), mp_context=multiprocessing.get_context(method)
        ) as pool:
            futures = {pool.submit(run_job, job): index for index, job in enumerate(jobs)}
            for future in as_completed(futures):
                raised = future.exception()
                if raised is not None:
                    failed(futures[future], raised)
                else:
                    finished(futures[future], future.result())
    else:
        for index, result in enumerate(_run_on_ray(jobs, workers, ray_address)):
            finished(index, result)
    return [done[index] for index in range(len(jobs)) if index in done]


def _run_on_ray(jobs: Sequence[ReplicationJob], workers: int, ray_address: str) -> list[ArmResult]:
    try:
        import ray
    except ImportError:
        raise ConfigError("executor", "ray", 'needs the Ray extra: pip install -e ".[dist]"') from None
    started_here = not ray.is_initialized()
    if started_here:
        if ray_address:
            ray.init(address=ray_address)
        else:
            # a local instance for this comparison only, advertised on loopback; Ray 2.60 still binds some of
            # its gRPC servers to every interface, so on a shared host run it in a network namespace of its
            # own (``unshare --net``, as tests/test_ray_executor.py does) or give a secured cluster's address
            if _interfaces_besides_loopback():
                warnings.warn(
                    "executor=ray starts a local Ray instance whose gRPC servers listen on every interface of "
                    "this machine (Ray 2.60), not only 127.0.0.1: run it in a network namespace of its own "
                    "(unshare --net) or set ray_address to a cluster you have secured",
                    stacklevel=3,
                )
            ray.init(num_cpus=workers, include_dashboard=False, _node_ip_address="127.0.0.1")
    try:
        remote = ray.remote(run_job)
        return list(ray.get([remote.remote(job) for job in jobs]))
    finally:
        if started_here:
            ray.shutdown()


def _interfaces_besides_loopback() -> bool:
    """Whether this process sees a network interface other than loopback (not so in ``unshare --net``)."""
    try:
        return any(name != "lo" for _, name in socket.if_nameindex())
    except OSError:
        return True
