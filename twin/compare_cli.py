"""``twin-compare``: run arms x replications on common random numbers and report paired differences.

Examples: ``twin-compare`` (the default comparison in conf/compare.yaml);
``twin-compare --config-dir experiments --config-name baseline_a_a``;
``twin-compare replications=20 executor=inline 'common_overrides=[network=small,horizon_days=120]'``.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

import hydra
import pandas as pd
from hydra import compose
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf
from tqdm import tqdm

from twin.analysis.comparison import (
    ArmResult,
    a_a_false_positive_share,
    compare_arms,
    crn_variance_reduction_summary,
    kpi_names,
)
from twin.analysis.report import terminal_table, write_report
from twin.cli import CONFIG_DIR, to_twin_config
from twin.config import CompareConfig, TwinConfig, validate_compare
from twin.errors import ConfigError, TwinError
from twin.hydra_store import register_configs
from twin.runner import JobFailure, ReplicationJob, run_jobs

register_configs()
#: summary entries that describe the run rather than measure it
NOT_COMPARED = frozenset({"days_measured"})


def arm_configs(compare: CompareConfig) -> dict[str, tuple[TwinConfig, DictConfig]]:
    """Compose each arm from the twin-run config with the common and the arm's own overrides (arms with the
    same overrides, as in an A/A, share one composition: composing is a quarter second each)."""
    composed = {}
    by_overrides: dict[tuple[str, ...], tuple[TwinConfig, DictConfig]] = {}
    for arm, overrides in compare.arms.items():
        seeded = [
            override
            for override in [*compare.common_overrides, *overrides]
            if override.lstrip("+~").startswith("seed=")
        ]
        if seeded:
            raise ConfigError(
                f"arms.{arm}", seeded[0], "seeds are set by base_seed + replication (common random numbers)"
            )
        key = tuple(overrides)
        if key in by_overrides:
            composed[arm] = by_overrides[key]
            continue
        try:
            cfg = compose(
                config_name="config",
                overrides=[*compare.common_overrides, *overrides, "progress=false", "logger=none"],
            )
        except Exception as error:
            raise ConfigError(f"arms.{arm}", list(overrides), f"does not compose: {error}") from None
        try:
            composed[arm] = by_overrides[key] = (to_twin_config(cfg), cfg)
        except ConfigError as error:  # the field as the user types it, and which arm set it
            raise ConfigError(error.field, error.value, f"{error.reason} (in arm {arm!r})") from None
    return composed


#: seeds apart between arms with independent_seeds: far more than any replication count
INDEPENDENT_SEED_BLOCK = 100_000


def plan_jobs(
    compare: CompareConfig, configs: dict[str, tuple[TwinConfig, DictConfig]]
) -> list[ReplicationJob]:
    """Replication r of every arm runs on seed base_seed + r: the arms see the same demand and lead times
    (with ``independent_seeds`` arm i runs on its own block of seeds instead)."""
    block = INDEPENDENT_SEED_BLOCK if compare.independent_seeds else 0
    return [
        ReplicationJob(
            arm,
            replication,
            dataclasses.replace(config, seed=compare.base_seed + replication + block * number),
        )
        for replication in range(compare.replications)
        for number, (arm, (config, _)) in enumerate(configs.items())
    ]


def freeze_live_starts(configs: dict[str, tuple[TwinConfig, DictConfig]], output_dir: Path) -> list[str]:
    """Arms that start from a live state start from one copy of it, taken now under ``output_dir``: a shadow
    still running moves its checkpoint on, and every arm and replication must start from the same day."""
    from twin.live.to_network_state import copy_live_state, find_live_state

    copies: dict[Path, Path] = {}
    for arm, (config, cfg) in configs.items():
        folder = find_live_state(config.start_from_snapshot) if config.start_from_snapshot else None
        if folder is None:
            continue
        if folder.resolve() not in copies:
            copies[folder.resolve()] = copy_live_state(folder, output_dir / f"live_start_{len(copies)}")
        configs[arm] = (
            dataclasses.replace(config, start_from_snapshot=str(copies[folder.resolve()])),
            cfg,
        )
    return [
        f"arms start from the live state {source} (copied to {copy}); KPIs are measured from its day"
        for source, copy in copies.items()
    ]


def execute_comparison(compare: CompareConfig, output_dir: Path) -> tuple[list[ArmResult], object]:
    validate_compare(compare)
    configs = arm_configs(compare)
    live_notes = freeze_live_starts(configs, output_dir)
    jobs = plan_jobs(compare, configs)
    bar = tqdm(
        total=len(jobs),
        unit="run",
        desc=f"{compare.name}: {len(configs)} arms x {compare.replications}",
        disable=not compare.progress,
    )
    failures: list[JobFailure] = []
    results = run_jobs(
        jobs,
        compare.executor,
        compare.workers,
        compare.ray_address,
        on_done=lambda _: bar.update(1),
        failures=failures,
    )
    bar.close()
    results = _set_failed_arms_aside(compare, results, failures, output_dir)
    # every arm's KPIs: one an arm alone reports (transfers, alerts) is shown with the baseline's as missing
    kpis = [kpi for kpi in kpi_names(results) if kpi not in NOT_COMPARED]
    table = compare_arms(
        results,
        compare.baseline_arm,
        alpha=compare.alpha,
        kpis=kpis,
        common_seeds=not compare.independent_seeds,
    )
    reduction = crn_variance_reduction_summary(table)
    headline = [kpi for kpi in compare.headline_kpis if kpi in set(table["kpi"])]
    unknown = [kpi for kpi in compare.headline_kpis if kpi not in headline]
    if unknown:
        print(f"warning: headline_kpis {unknown} are not KPIs of this comparison; left out", file=sys.stderr)
    notes = [
        compare.description,
        (
            f"{compare.replications} replications per arm, each arm on its own seeds (no common random numbers); "
            if compare.independent_seeds
            else f"{compare.replications} replications per arm on common random numbers (seeds {compare.base_seed}..{compare.base_seed + compare.replications - 1}); "
        )
        + f"warm-up days excluded ({configs[compare.baseline_arm][0].warmup_days}); executor {compare.executor}.",
        *[f"arm {arm}: {' '.join(overrides) or '(no overrides)'}" for arm, overrides in compare.arms.items()],
        f"common overrides: {' '.join(compare.common_overrides) or '(none)'}",
        *live_notes,
    ]
    paths = write_report(
        table,
        results,
        output_dir,
        title=f"Comparison: {compare.name}",
        notes=[n for n in notes if n],
        headline_kpis=headline or None,
    )
    headline_rows = table[table["kpi"].isin(headline)] if headline else table
    print(terminal_table(headline_rows))
    print("\nCRN variance reduction versus independent seeds (median over KPIs):")
    print(reduction.to_string(index=False))
    if compare.independent_seeds:
        share = a_a_false_positive_share(table)
        print(
            f"\nindependent seeds: {share:.1%} of {int(table['p_value'].notna().sum())} KPI differences flagged at "
            f"alpha={compare.alpha:g}; identical arms (an A/A) should land near {compare.alpha:.0%}"
        )
    print(f"\nfull report: {paths['markdown']} and {paths['html']}")
    if compare.logger.kind == "mlflow":
        _log(compare, configs, results, table, output_dir)
    return results, table


def _set_failed_arms_aside(
    compare: CompareConfig, results: list[ArmResult], failures: list[JobFailure], output_dir: Path
) -> list[ArmResult]:
    """An arm with a failed replication cannot be paired: it leaves the comparison, the others stay, and the
    finished replications and the failures are written. Without its baseline nothing can be compared."""
    if not failures:
        return results
    output_dir.mkdir(parents=True, exist_ok=True)
    pd.DataFrame([vars(failure) for failure in failures]).to_csv(output_dir / "failures.csv", index=False)
    finished = pd.DataFrame(
        [{"arm": r.arm, "replication": r.replication, "seed": r.seed, **r.summary} for r in results]
    )
    finished.to_csv(output_dir / "replications_finished.csv", index=False)
    for failure in failures:
        print(f"warning: {failure.describe()}", file=sys.stderr)
    failed_arms = sorted({failure.arm for failure in failures})
    if compare.baseline_arm in failed_arms:
        first = next(failure for failure in failures if failure.arm == compare.baseline_arm)
        raise ConfigError(
            f"arms.{compare.baseline_arm}",
            list(compare.arms[compare.baseline_arm]),
            f"the baseline arm failed ({first.describe()}); {len(results)} finished replications are kept in "
            f"{output_dir / 'replications_finished.csv'}",
        )
    if len(set(compare.arms) - set(failed_arms)) < 2:  # the baseline alone: nothing left to compare it with
        first = failures[0]
        raise ConfigError(
            f"arms.{first.arm}",
            list(compare.arms[first.arm]),
            f"every arm but the baseline failed ({first.describe()}); nothing is left to compare; "
            f"{len(results)} finished replications are kept in {output_dir / 'replications_finished.csv'}",
        )
    print(
        f"warning: arm(s) {', '.join(failed_arms)} left out of the comparison; failures in {output_dir / 'failures.csv'}",
        file=sys.stderr,
    )
    return [result for result in results if result.arm not in failed_arms]


def _plain_dict(cfg: DictConfig) -> dict[str, Any]:
    container = OmegaConf.to_container(cfg, resolve=True)
    if not isinstance(container, dict):
        raise TypeError(f"expected a mapping config, got {type(container).__name__}")
    return {str(key): value for key, value in container.items()}


def _log(
    compare: CompareConfig,
    configs: dict[str, tuple[TwinConfig, DictConfig]],
    results: list[ArmResult],
    table: object,
    output_dir: Path,
) -> None:
    from twin.io import tracking

    uri = tracking.resolve_tracking_uri(compare.logger.tracking_uri)
    params = _plain_dict(OmegaConf.structured(compare))
    arm_params = {arm: _plain_dict(cfg) for arm, (_, cfg) in configs.items()}
    children = [
        (
            f"{result.arm}-r{result.replication}",
            {
                "arm": result.arm,
                "replication": result.replication,
                **arm_params[result.arm],
                "seed": result.seed,
            },
            result.summary,
            {"arm": result.arm, "seed": str(result.seed)},
        )
        for result in results
    ]
    parent_metrics = {}
    for row in table.itertuples(index=False):  # type: ignore[attr-defined]
        parent_metrics[f"difference.{row.arm}.{row.kpi}"] = float(row.difference_mean)
        parent_metrics[f"ci_low.{row.arm}.{row.kpi}"] = float(row.ci_low)
        parent_metrics[f"ci_high.{row.arm}.{row.kpi}"] = float(row.ci_high)
    tags = {"git_commit": tracking.git_commit(), "comparison": compare.name, "output_dir": str(output_dir)}
    try:
        parent = tracking.log_comparison(
            uri, compare.name, compare.name, params, children, parent_metrics, tags, artifacts_dir=output_dir
        )
    except Exception as error:
        print(
            f"MLflow tracking store {uri} unreachable ({type(error).__name__}: {error}); the report is kept in {output_dir}"
        )
        return
    print(
        f"MLflow: experiment '{compare.name}', parent run {parent} with {len(children)} child runs at {uri}"
    )


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="compare")
def _hydra_entry(cfg: DictConfig) -> None:
    output_dir = Path(HydraConfig.get().runtime.output_dir)
    compare = OmegaConf.to_object(cfg)
    if not isinstance(compare, CompareConfig):
        raise TypeError(f"config composed to {type(compare).__name__}, expected CompareConfig")
    try:
        execute_comparison(compare, output_dir)
    except TwinError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)


def compare_main() -> None:
    _hydra_entry()
