"""The Ray executor gives the same replications as running them inline, on a cluster that can only listen
on loopback: it runs in a network namespace of its own (``unshare -n``, root in CI) with only ``lo`` up."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parent.parent


def test_the_ray_executor_matches_inline_on_a_loopback_only_cluster() -> None:
    pytest.importorskip("ray")
    assert shutil.which("unshare") and shutil.which("ip"), "needs util-linux unshare and iproute2 ip"
    command = f"ip link set lo up && exec {sys.executable} -m tests.helpers.ray_loopback"
    completed = subprocess.run(
        ["unshare", "--net", "sh", "-c", command],
        cwd=REPOSITORY, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert json.loads(completed.stdout.strip().splitlines()[-1]) == {"equal": True, "replications": 2}


def test_a_local_ray_instance_outside_a_loopback_namespace_is_warned_about() -> None:
    from twin.runner import _interfaces_besides_loopback

    assert _interfaces_besides_loopback()  # this machine has eth0: a local Ray instance would listen on it
    probe = f"{sys.executable} -c 'from twin.runner import _interfaces_besides_loopback as f; print(f())'"
    inside = subprocess.run(
        ["unshare", "--net", "sh", "-c", probe], cwd=REPOSITORY, capture_output=True, text=True
    )
    assert inside.stdout.strip() == "False", inside.stderr
