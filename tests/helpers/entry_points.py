"""Run a console script's entry point in-process, as the installed command would (argv in, exit code,
stdout and stderr out): the end-to-end path without paying a fresh interpreter's imports each time."""

from __future__ import annotations

import importlib
import subprocess
import sys
from typing import Any

import pytest


def run_entry(
    module_call: str, *arguments: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> subprocess.CompletedProcess[str]:
    """``module_call`` is ``"twin.cli:run_main"``; returns what a subprocess run would."""
    module_name, _, function_name = module_call.partition(":")
    entry: Any = getattr(importlib.import_module(module_name), function_name)
    capsys.readouterr()  # drop anything printed before
    code = 0
    with monkeypatch.context() as patch:
        patch.setattr(sys, "argv", [function_name, *arguments])
        try:
            entry()
        except SystemExit as stopped:
            code = stopped.code if isinstance(stopped.code, int) else (0 if stopped.code is None else 1)
    captured = capsys.readouterr()
    return subprocess.CompletedProcess([module_call, *arguments], code, captured.out, captured.err)
