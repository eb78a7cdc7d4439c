"""``twin-feed`` and ``twin-shadow``: the live-feed commands (Hydra entry points, like ``twin-run``).

Examples:
- ``twin-feed network=small horizon_days=30 seed=3 feed.duplicate_share=0.1 feed.reorder_share=0.1``
  writes ``feed.jsonl``, ``truth/day_030/`` and ``feed_manifest.json`` into its run folder;
- ``twin-shadow network=small horizon_days=30 feed.path=<feed.jsonl> truth=<truth dir>`` applies the feed and
  writes ``shadow_report.json``, ``decisions.jsonl``, ``dead_letters.jsonl``, ``drift_daily.jsonl``,
  ``drift.png`` and ``live_state/``; run again with the same ``hydra.run.dir`` and it resumes from its
  checkpoint.
Both take ``logger=none`` (no MLflow) and ``feed.sink=redis`` / ``feed.source=redis`` for Redis Streams.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import hydra
import pandas as pd
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf
from tqdm import tqdm

from twin.cli import CONFIG_DIR
from twin.config import validate
from twin.errors import TwinError
from twin.hydra_store import register_configs
from twin.live.settings import FeedRunConfig, ShadowRunConfig

register_configs()
log = logging.getLogger("twin.live")


def _compose(cfg: DictConfig, kind: type[Any]) -> Any:
    config = OmegaConf.to_object(cfg)
    if not isinstance(config, kind):
        raise TypeError(f"config composed to {type(config).__name__}, expected {kind.__name__}")
    validate(config)
    return config


def _broker_error(error: BaseException) -> bool:
    """A Redis server that cannot be reached is a setting to fix, not a crash."""
    return type(error).__module__.startswith("redis")


def _refused(error: BaseException) -> None:
    log.info("refused: %s", error)
    print(f"error: {error}", file=sys.stderr)
    sys.exit(2)


def _log_to_mlflow(
    config: Any, cfg: DictConfig, experiment: str, run_name: str, summary: dict[str, float], output_dir: Path,
    daily: pd.DataFrame | None = None,
) -> None:  # fmt: skip
    if config.logger.kind != "mlflow":
        return
    from twin.io import tracking

    uri = tracking.resolve_tracking_uri(config.logger.tracking_uri)
    params = {str(key): value for key, value in dict(OmegaConf.to_container(cfg, resolve=True)).items()}  # type: ignore[arg-type]
    tags = {"seed": str(config.seed), "network": config.network.name, "git_commit": tracking.git_commit(),
            "output_dir": str(output_dir)}  # fmt: skip
    try:
        run_id = tracking.log_run(
            uri, experiment, run_name, params, summary, tags, artifacts_dir=output_dir, daily=daily
        )
    except Exception as error:
        print(
            f"MLflow tracking store {uri} unreachable ({type(error).__name__}: {error}); outputs kept in {output_dir}"
        )
        return
    print(f"MLflow: experiment '{experiment}', run {run_id} at {uri}")


def _numbers(report: dict[str, Any]) -> dict[str, float]:
    flat: dict[str, float] = {}
    for key, value in report.items():
        if isinstance(value, dict):
            flat.update({f"{key}.{inner}": v for inner, v in _numbers(value).items()})
        elif isinstance(value, int | float) and not isinstance(value, bool):
            flat[key] = float(value)
    return flat


# -- twin-feed ---------------------------------------------------------------------------------------------
def feed_execute(cfg: DictConfig, output_dir: Path) -> dict[str, Any]:
    from twin.live.feed import produce_feed

    config: FeedRunConfig = _compose(cfg, FeedRunConfig)
    bar = tqdm(
        total=config.horizon_days, unit="day", desc=f"feed seed={config.seed}", disable=not config.progress
    )

    def progress(day: int, horizon_days: int, records: int) -> None:
        bar.update(day - bar.n)
        bar.set_postfix(records=f"{records:,}", refresh=False)

    try:
        manifest = produce_feed(config, output_dir, progress)
    finally:
        bar.close()
    (output_dir / "resolved_config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
    print(
        f"feed: {manifest['records_written']:,} records ({manifest['events']:,} events, "
        f"{manifest.get('duplicates', 0)} duplicates, {manifest.get('malformed', 0)} malformed, "
        f"{manifest.get('lost_silent_dealer', 0)} lost to silent dealers) -> {manifest['feed']}"
    )
    print(
        f"ground truth: {output_dir / 'truth'} (days {manifest['truth_days']}); manifest: {output_dir / 'feed_manifest.json'}"
    )
    _log_to_mlflow(config, cfg, "feed", f"feed-{config.network.name}-{config.horizon_days}d-seed{config.seed}",
                   _numbers(manifest), output_dir)  # fmt: skip
    return manifest


def _run_job(execute: Any, cfg: DictConfig, interrupted: str) -> None:
    """One Hydra job: refusals (bad settings, files, an unreachable broker) exit 2 in one line; Ctrl-C exits 130."""
    output_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        execute(cfg, output_dir)
    except (TwinError, OSError) as error:
        _refused(error)
    except Exception as error:
        if not _broker_error(error):
            raise
        _refused(error)
    except KeyboardInterrupt:
        print(f"\ninterrupted: {interrupted.format(output_dir=output_dir)}", file=sys.stderr)
        sys.exit(130)


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="feed")
def _feed_entry(cfg: DictConfig) -> None:
    _run_job(feed_execute, cfg, "the feed in {output_dir} is incomplete")


FEED_USAGE = """twin-feed: run the twin as the world and write the live feed its systems would send.

  twin-feed network=small horizon_days=30 seed=3              feed.jsonl + truth/day_030/ in the run folder
  twin-feed ... feed.duplicate_share=0.1 feed.reorder_share=0.1 feed.malformed_share=0.02   with faults
  twin-feed ... feed.sink=redis feed.redis_url=redis://127.0.0.1:6379/0                     to a Redis Stream
"""
SHADOW_USAGE = """twin-shadow: keep a live state from a feed, run the live policies each day, report drift.

  twin-shadow network=small feed.path=<feed.jsonl> truth=<truth dir>    apply a feed, compare with the truth
  twin-shadow ... shadow.follow=true                                    follow a feed file as it grows
  twin-shadow ... feed.source=redis feed.stream=twin:feed               consume a Redis Stream (consumer group)
  twin-shadow ... hydra.run.dir=<the same folder>                       resume from its checkpoint
"""


def live_help(usage: str, sections: dict[str, Any]) -> str:
    from twin.config_help import groups_lines, settings_lines

    lines = [usage, *groups_lines(Path(CONFIG_DIR)), "", "Its own settings (key = default  # meaning):"]
    for name, node in sections.items():
        lines.extend(settings_lines(node, f"{name}."))
    lines += [
        "",
        "Every twin-run setting applies too (network, demand, policies, seed, horizon): twin-run --help.",
    ]
    return "\n".join(lines)


def _asks_for_help() -> bool:
    return any(argument in ("--help", "-h") for argument in sys.argv[1:])


def feed_main() -> None:
    if _asks_for_help():
        from twin.live.settings import FeedSettings

        print(live_help(FEED_USAGE, {"feed": FeedSettings()}))
        return
    _feed_entry()


# -- twin-shadow -------------------------------------------------------------------------------------------
def shadow_execute(cfg: DictConfig, output_dir: Path) -> dict[str, Any]:
    from twin.live.shadow import DRIFT_FILE, REPORT_FILE, ShadowRunner
    from twin.plots.live import plot_drift

    config: ShadowRunConfig = _compose(cfg, ShadowRunConfig)
    runner = ShadowRunner(config, output_dir)
    if runner.resumed:
        print(f"resuming from the checkpoint in {output_dir} ({runner.counts['events_read']:,} records read)")
    report = runner.run(progress=config.progress)
    (output_dir / "resolved_config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
    daily = plot_drift(output_dir / DRIFT_FILE, output_dir / "drift.png")
    print(shadow_summary(report))
    print(f"report: {output_dir / REPORT_FILE}")
    _log_to_mlflow(config, cfg, "shadow", f"shadow-{config.network.name}-seed{config.seed}", _numbers(report),
                   output_dir, daily)  # fmt: skip
    return report


def shadow_summary(report: dict[str, Any]) -> str:
    rows = [
        ("records read", report["events_read"]),
        ("applied", report["events_applied"]),
        ("duplicates ignored", report["duplicates_ignored"]),
        ("superseded (late, older than what was applied)", report["superseded"]),
        ("dead-lettered", report["dead_lettered"]),
        ("days closed", report["days_closed"]),
        ("decisions published", report["decisions_published"]),
        ("stale sources", report["stale_source_count"]),
    ]
    if "state_differences_vs_truth" in report:
        rows.append(
            (f"differences from the truth (day {report['truth_day']})", report["state_differences_vs_truth"])
        )
    width = max(len(name) for name, _ in rows)
    lines = [f"| {'shadow':<{width}} | {'count':>10} |", f"|{'-' * (width + 2)}|{'-' * 12}|"]
    lines += [f"| {name:<{width}} | {value:>10,} |" for name, value in rows]
    return "\n".join(lines)


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="shadow")
def _shadow_entry(cfg: DictConfig) -> None:
    _run_job(shadow_execute, cfg, "run twin-shadow again with hydra.run.dir={output_dir} to resume")


def shadow_main() -> None:
    if _asks_for_help():
        from twin.live.settings import ShadowFeedSettings, ShadowSettings

        sections = {"feed": ShadowFeedSettings(), "shadow": ShadowSettings()}
        print(live_help(SHADOW_USAGE, sections))
        print(
            "  truth = ''  # a ground-truth state folder (twin-feed's truth/day_NNN or truth/) to compare with"
        )
        return
    _shadow_entry()
