"""Runs two replications on a local Ray cluster and inline, and prints whether they agree.

Started by ``tests/test_ray_executor.py`` inside a network namespace of its own (``unshare -n``) whose only
interface is loopback: Ray 2.60's local instance binds several gRPC servers to every interface it has, and
a test must not listen beyond 127.0.0.1.
"""

from __future__ import annotations

import dataclasses
import json
import sys

from twin.config import TwinConfig
from twin.runner import ReplicationJob, run_jobs


def main() -> int:
    base = TwinConfig(horizon_days=8, warmup_days=1, progress=False)
    base.network.dealers, base.network.skus, base.network.stockyards = 6, 80, 2
    jobs = [ReplicationJob("baseline", r, dataclasses.replace(base, seed=1 + r)) for r in range(2)]
    on_ray = [result.summary for result in run_jobs(jobs, "ray", workers=2)]
    inline = [result.summary for result in run_jobs(jobs, "inline")]
    print(json.dumps({"equal": on_ray == inline, "replications": len(on_ray)}))
    return 0 if on_ray == inline else 1


if __name__ == "__main__":
    sys.exit(main())
