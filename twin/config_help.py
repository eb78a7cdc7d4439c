"""``twin-run --help``: every config group with its options, and every setting with its default, its
one-line meaning, taken from the ``#:`` comments above each field of ``twin.config``, and the range declared
on the field (each declared once)."""

from __future__ import annotations

import dataclasses
import inspect
from functools import cache
from pathlib import Path
from typing import Any

from twin.config import POLICY_OPTIONS, TwinConfig
from twin.hydra_store import scenario_files

USAGE = """twin-run: run a scenario of the dealer-network twin.

  twin-run                                         the default network (400 dealers), a year, baseline policies
  twin-run network=small horizon_days=90 seed=7    change groups and settings by override
  twin-run debug=default logger=none               8 dealers, 30 days, no MLflow: seconds
  twin-run -m seed=1,2,3                           a sweep (Hydra multirun)
  twin-run --cfg job                               the composed config, as YAML
  twin-run --hydra-help                            Hydra's own options
"""


@cache
def field_docs(cls: type) -> dict[str, str]:
    """The ``#:`` comment above each field of a dataclass, joined into one line. A comment above a run of
    fields with no blank line between them ("the chance, the days and how near ...") serves the whole run."""
    try:
        source = inspect.getsource(cls)
    except (OSError, TypeError):
        return {}
    docs: dict[str, str] = {}
    comment: list[str] = []
    run_doc = ""
    for line in source.splitlines()[1:]:
        text = line.strip()
        if not text:
            comment, run_doc = [], ""
        elif text.startswith("#:"):
            if not comment:
                run_doc = ""
            comment.append(text[2:].strip())
        elif line.startswith("    ") and not line.startswith("     ") and ":" in text and text[0].isalpha():
            name = text.split(":", 1)[0].strip()
            if name.isidentifier():
                if comment:
                    run_doc = " ".join(comment)
                    comment = []
                if run_doc:
                    docs[name] = run_doc
    return docs


def _shown(value: Any) -> str:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return "{...}"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def settings_lines(node: Any, prefix: str = "") -> list[str]:
    """One line per setting: ``key = default   meaning``; a section's header carries its class docstring."""
    lines: list[str] = []
    docs: dict[str, str] = {}
    for cls in reversed(type(node).__mro__):  # a field declared on a shared base class has its doc there
        docs |= field_docs(cls)
    nested = []
    for field in dataclasses.fields(node):
        if field.name.startswith("_"):
            continue
        value = getattr(node, field.name)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            nested.append((field.name, value))
            continue
        meaning = docs.get(field.name, "")
        allowed = field.metadata.get("range")
        lines.append(
            f"  {prefix}{field.name} = {_shown(value)}"
            + (f"  # {meaning}" if meaning else "")
            + (f"  [allowed: {allowed.describe()}]" if allowed is not None else "")
        )
    for name, value in nested:
        docstring = type(value).__doc__ or ""
        generated = docstring.startswith(f"{type(value).__name__}(")  # dataclasses invent one from the fields
        summary = "" if generated else inspect.cleandoc(docstring).split("\n\n")[0].replace("\n", " ")
        lines.append("")
        lines.append(f"{prefix}{name}:" + (f"  {summary}" if summary else ""))
        lines.extend(settings_lines(value, f"{prefix}{name}."))
    return lines


def groups_lines(config_dir: Path) -> list[str]:
    lines = ["Config groups (choose one option each, e.g. policy/transfers=rebalancing):"]
    groups = {
        folder.relative_to(config_dir).as_posix(): sorted(path.stem for path in folder.glob("*.yaml"))
        for folder in config_dir.rglob("*")
        if folder.is_dir()
    }
    groups["scenario"] = [path.stem for path in scenario_files()] + groups.get("scenario", [])
    for group, options in sorted(groups.items()):
        if options:
            lines.append(f"  {group}: {', '.join(options)}")
    return lines


def policy_option_lines() -> list[str]:
    """The settings each policy option takes beyond the baseline's: they exist only with that option chosen."""
    lines = [
        "",
        "Policy options and their own settings (choose the option first, e.g. policy/replenishment=dynamic):",
    ]
    for family, options in POLICY_OPTIONS.items():
        baseline_names = {field.name for field in dataclasses.fields(options["baseline"])}  # type: ignore[arg-type]
        for option, settings in options.items():
            if option == "baseline":
                continue
            lines.append(f"  policy/{family}={option}:")
            defaults = settings()
            docs: dict[str, str] = {}
            for cls in reversed(settings.__mro__):
                docs |= field_docs(cls)
            for field in dataclasses.fields(settings):  # type: ignore[arg-type]
                if field.name.startswith("_") or field.name in baseline_names:
                    continue
                meaning = docs.get(field.name, "")
                value = _shown(getattr(defaults, field.name))
                lines.append(
                    f"    policy.{family}.{field.name} = {value}" + (f"  # {meaning}" if meaning else "")
                )
    return lines


def help_text(config_dir: Path) -> str:
    return "\n".join(
        [
            USAGE,
            *groups_lines(config_dir),
            "",
            "Settings (key = default  # meaning; override as key=value; a key that is not here is refused):",
            *settings_lines(TwinConfig()),
            *policy_option_lines(),
        ]
    )
