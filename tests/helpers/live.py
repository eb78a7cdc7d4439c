"""Shadow-mode test helpers: compose twin-feed / twin-shadow configs in-process, make a feed, shadow it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir

from twin.cli import CONFIG_DIR
from twin.config import validate
from twin.hydra_store import register_configs
from twin.live.feed import produce_feed
from twin.live.settings import FeedRunConfig, ShadowRunConfig
from twin.live.shadow import ShadowRunner

register_configs()
SMALL = ["network=small", "logger=none", "progress=false"]


def compose_config(config_name: str, overrides: list[str]) -> Any:
    from omegaconf import OmegaConf

    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose(config_name, overrides=overrides)
    config = OmegaConf.to_object(cfg)
    validate(config)  # type: ignore[arg-type]
    return config


def make_feed(
    folder: Path, horizon_days: int = 20, seed: int = 3, overrides: list[str] | None = None
) -> dict:
    """A feed of the small network into ``folder``; returns its manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    config: FeedRunConfig = compose_config(
        "feed", [*SMALL, f"horizon_days={horizon_days}", "warmup_days=5", f"seed={seed}", *(overrides or [])]
    )
    return produce_feed(config, folder)


def shadow_overrides(feed_folder: Path, horizon_days: int = 20, seed: int = 3) -> list[str]:
    return [
        *SMALL,
        f"horizon_days={horizon_days}",
        "warmup_days=5",
        f"seed={seed}",
        f"feed.path={feed_folder / 'feed.jsonl'}",
        f"truth={feed_folder / 'truth'}",
    ]


def run_shadow(folder: Path, overrides: list[str]) -> dict:
    """Shadow in-process into ``folder`` (resuming if it holds a checkpoint); returns the report."""
    folder.mkdir(parents=True, exist_ok=True)
    config: ShadowRunConfig = compose_config("shadow", overrides)
    return ShadowRunner(config, folder).run(progress=False)


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
