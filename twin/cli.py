"""``twin-run``: compose the Hydra config -> validate -> build -> run with a progress bar -> write -> log.

Examples: ``twin-run``; ``twin-run network=small horizon_days=90 seed=7 demand.seasonality=false``;
``twin-run debug=default logger=none``; ``twin-run -m seed=1,2,3``; ``twin-run --help`` lists the groups.
"""

from __future__ import annotations

import json
import logging
import shutil
import sys
import time
from pathlib import Path

import hydra
import pandas as pd
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf
from tqdm import tqdm

from twin.config import TwinConfig, validate
from twin.errors import TwinError
from twin.hydra_store import register_configs
from twin.io.outputs import headline_table, write_outputs

register_configs()
log = logging.getLogger("twin.cli")
#: conf/ sits beside the package in the repository (the install is editable, as the README says)
CONFIG_DIR = str(Path(__file__).resolve().parent.parent / "conf")


def to_twin_config(cfg: DictConfig) -> TwinConfig:
    config = OmegaConf.to_object(cfg)
    if not isinstance(config, TwinConfig):
        raise TypeError(f"config composed to {type(config).__name__}, expected TwinConfig")
    return validate(config)


def execute(
    cfg: DictConfig, output_dir: Path, choices: dict[str, str | None] | None = None
) -> dict[str, float]:
    """Run one composed config and write its outputs; returns the summary KPIs. ``choices`` are the config
    group options Hydra chose (they name the MLflow run)."""
    # heavy imports after argument parsing, so --help answers at once
    from twin.engine.simulation import Simulation
    from twin.live.to_network_state import load_start_state

    # a saved state, or a shadow's live state converted (a fork whose KPIs count from its day)
    start = load_start_state(to_twin_config(cfg))
    config = start.config
    for line in start.describe():
        print(line)
    simulation = Simulation(config, snapshot=start.state, approval_decisions=start.approval_decisions)
    bar = tqdm(
        total=config.horizon_days,
        unit="day",
        desc=f"{config.scenario.name} seed={config.seed}",
        disable=not config.progress,
    )

    def progress(days_done: int, horizon_days: int, events: int) -> None:
        bar.update(days_done - bar.n)
        elapsed = max(bar.format_dict.get("elapsed", 0.0), 1e-9)
        bar.set_postfix(events_per_s=f"{events / elapsed:,.0f}", refresh=False)

    bar.update(simulation.start_day)
    result = simulation.run(
        progress, snapshot_days=config.snapshot_days, snapshot_dir=output_dir / "snapshots"
    )
    bar.close()
    paths = write_outputs(result, output_dir)
    if config.final_state:  # the end of the run as a state: what twin-ask and the web view read
        saving = time.perf_counter()
        simulation.snapshot().save(output_dir / "state")
        log.info("final state written in %.1f s to %s", time.perf_counter() - saving, output_dir / "state")
    (output_dir / "resolved_config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
    if simulation.forked_from is not None:
        (output_dir / "forked_from.json").write_text(json.dumps(simulation.forked_from, indent=1))
        print(
            f"forked from {config.start_from_snapshot} (day {simulation.start_day}): "
            + "; ".join(simulation.forked_from["differences"] or ["no setting differs"])  # type: ignore[arg-type]
        )
    log.info(
        "simulated %d days in %.1f s (%d events); %d KPIs in %s",
        config.horizon_days - simulation.start_day,
        result.wall_seconds,
        result.processed_events,
        len(result.summary),
        paths["summary_table"],
    )
    print(headline_table(result.summary))
    print(f"\nall {len(result.summary)} KPIs: {paths['summary_table']}")
    print(
        f"simulated {config.horizon_days - simulation.start_day} days in {result.wall_seconds:.1f} s ({result.processed_events:,} events); outputs in {output_dir}"
    )
    if config.logger.kind == "mlflow":
        _log_to_mlflow(cfg, config, result.summary, result.daily, output_dir, choices or {})
    return result.summary


def run_name(config: TwinConfig, choices: dict[str, str | None]) -> str:
    """What sets a run apart: scenario, network, horizon, the policies not at their baseline, seed."""
    if config.run_name:
        return config.run_name
    policies = [
        f"{group.split('/', 1)[1]}={choice}"
        for group, choice in sorted(choices.items())
        if group.startswith("policy/") and choice not in (None, "baseline", "none")
    ]
    parts = [
        config.scenario.name,
        config.network.name,
        f"{config.horizon_days}d",
        *policies,
        f"seed{config.seed}",
    ]
    return "-".join(parts)


def _log_to_mlflow(
    cfg: DictConfig,
    config: TwinConfig,
    summary: dict[str, float],
    daily: pd.DataFrame,
    output_dir: Path,
    choices: dict[str, str | None],
) -> None:
    from twin.io import tracking

    uri = tracking.resolve_tracking_uri(config.logger.tracking_uri)
    params = {str(key): value for key, value in dict(OmegaConf.to_container(cfg, resolve=True)).items()}  # type: ignore[arg-type]
    tags = {
        "forked_from": config.start_from_snapshot if config.fork else "",
        "seed": str(config.seed),
        "network": config.network.name,
        "horizon_days": str(config.horizon_days),
        "debug": str(choices.get("debug") is not None).lower(),
        **{
            f"choice.{group}": str(choice)
            for group, choice in sorted(choices.items())
            if group.startswith("policy/")
        },
        "git_commit": tracking.git_commit(),
        "scenario": config.scenario.name,
        "output_dir": str(output_dir),
    }
    try:
        run_id = tracking.log_run(
            uri,
            config.scenario.name,
            run_name(config, choices),
            params,
            summary,
            tags,
            artifacts_dir=output_dir,
            daily=daily if config.logger.log_daily_metrics else None,
            max_artifact_bytes=int(config.logger.max_artifact_mb * (1 << 20)),
        )
    except Exception as error:
        message = f"MLflow tracking store {uri} unreachable ({type(error).__name__}: {error}); the run's outputs are kept in {output_dir}"
        log.warning(message)
        print(message)
        return
    log.info("logged to MLflow: experiment %r, run %s at %s", config.scenario.name, run_id, uri)
    print(f"MLflow: experiment '{config.scenario.name}', run {run_id} at {uri}")
    print(f"  browse: mlflow ui --backend-store-uri {uri} --host 127.0.0.1 --port 5000")


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="config")
def _hydra_entry(cfg: DictConfig) -> float:
    output_dir = Path(HydraConfig.get().runtime.output_dir)
    logging.captureWarnings(True)  # warnings go to twin-run.log as well as the terminal
    try:
        summary = execute(cfg, output_dir, dict(HydraConfig.get().runtime.choices))
    except TwinError as error:
        log.info("refused: %s", error)
        _remove_if_only_hydra_files(output_dir)
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        written = (output_dir / "kpis.json").exists()
        log.warning("interrupted by the user (outputs %s)", "written" if written else "not written")
        print(
            f"\ninterrupted: {'the outputs are in ' if written else 'no outputs were written to '}{output_dir}",
            file=sys.stderr,
        )
        sys.exit(130)
    return float(summary.get("parts_fill_rate_line", float("nan")))


def _remove_if_only_hydra_files(folder: Path) -> None:
    """A run refused before it started leaves no folder behind (Hydra made it for its own record and log)."""
    if not folder.is_dir():
        return
    if {path.name for path in folder.iterdir()} <= {".hydra", "twin-run.log"}:
        shutil.rmtree(folder, ignore_errors=True)
        for parent in list(folder.parents)[:2]:  # outputs/<scenario>/ and outputs/, if nothing else is there
            if parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()


def run_main() -> None:
    if any(argument in ("--help", "-h") for argument in sys.argv[1:]):
        from twin.config_help import help_text

        print(help_text(Path(CONFIG_DIR)))
        return
    _hydra_entry()


if __name__ == "__main__":
    run_main()
