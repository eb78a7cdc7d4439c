"""One allocation cycle at network scale: every stockyard's waiting vehicles to the 400 dealers of the default
network (583 specs), by the pro-rata and by-request baselines and by demand-profile allocation (OR-Tools
min-cost flow); then the same cycle with campaign positioning's first call (a campaign on two models in two
regions starting in 30 days) in front of demand-profile allocation, and one positioning build plan.

Builds the default network, runs to just before the second weekly allocation (day 7, so a week of stock builds
waits in the yards), then allocates every yard's pool with both policies on the same view. Prints vehicles,
seconds per cycle, how many cars each policy allocates and the expected sales within the horizon of what it
allocated. Run: ``.venv/bin/python benchmarks/allocation_cycle.py``.
"""

from __future__ import annotations

import time

import numpy as np

# a sibling script (run as python benchmarks/<name>.py): one definition of peak memory
from engine_throughput import peak_rss_mb

from twin.config import TwinConfig
from twin.engine.simulation import Simulation
from twin.policies.baseline import ProRataAllocation
from twin.policies.by_request_allocation import ByRequestAllocation
from twin.policies.campaign_positioning import CampaignPositioning, CampaignWindow
from twin.policies.demand_allocation import DemandProfileAllocation


def main() -> None:
    config = TwinConfig(progress=False)
    config.logger.kind = "none"
    config.settlement.enabled = False
    simulation = Simulation(config)
    simulation.advance(7)
    flow = simulation.vehicles
    view = flow.export_view()
    pools = [
        np.array([flow.vehicles[v].spec for queue in pool.values() for v in queue], dtype=np.int64)
        for pool in flow.yard_pool
    ]
    demand_profile = DemandProfileAllocation(
        margin_share=config.operations.vehicle_margin_share,
        floor_plan_rate_per_year=config.operations.floor_plan_rate_per_year,
    )
    print(
        f"# One allocation cycle: {simulation.dealers} dealers x {len(simulation.world.specs)} specs, "
        f"{sum(p.size for p in pools):,} vehicles waiting in {len(pools)} stockyards\n"
    )
    print("| policy | seconds | allocated | kept in the yard | expected sale value within 28 days (INR) |")
    print("|---|---:|---:|---:|---:|")
    policies = (
        ("pro rata (baseline)", ProRataAllocation()),
        ("by request (baseline, dealers over-ask x1.3)", ByRequestAllocation()),
        ("demand profile", demand_profile),
    )
    for name, policy in policies:
        started = time.perf_counter()
        assignments = [policy.allocate(view, yard, specs) for yard, specs in enumerate(pools)]
        seconds = time.perf_counter() - started
        allocated = sum(int((a >= 0).sum()) for a in assignments)
        # the same yardstick for both: the demand-profile value of each allocated car, in order per dealer
        value = _expected_value(demand_profile, view, pools, assignments)
        kept = sum(p.size for p in pools) - allocated
        print(f"| {name} | {seconds:.3f} | {allocated:,} | {kept:,} | {value:,.0f} |")
    _positioning(simulation, view, pools, demand_profile)
    print(f"\npeak RSS {peak_rss_mb():,.0f} MB")


def _positioning(simulation: Simulation, view, pools, base: DemandProfileAllocation) -> None:
    """Campaign positioning's share of a cycle: first call on the yards, then demand profile on the rest."""
    world = simulation.world
    operations = simulation.config.operations
    regions = np.isin(np.asarray(world.region_names), ["North", "West"])
    models = np.isin(np.asarray(world.specs.model_names), ["Dhruv", "Elan"])
    campaign = CampaignWindow(
        "benchmark", regions[world.dealer_region], models, view.day + 30, view.day + 61, 1.4
    )
    policy = CampaignPositioning(
        margin_share=operations.vehicle_margin_share,
        floor_plan_rate_per_year=operations.floor_plan_rate_per_year,
    )
    started = time.perf_counter()
    builds = policy.builds(view, [campaign], view.day, np.zeros(view.yard_stock.shape, dtype=np.int64))
    build_seconds = time.perf_counter() - started
    started = time.perf_counter()
    results = [policy.allocate(view, yard, specs, [campaign], base) for yard, specs in enumerate(pools)]
    seconds = time.perf_counter() - started
    positioned = sum(int(p.sum()) for _, p in results)
    allocated = sum(int((a >= 0).sum()) for a, _ in results)
    print(
        f"\ncampaign positioning ({int(campaign.dealers.sum())} dealers x {int(models.sum())} models): build plan "
        f"{build_seconds:.3f} s ({int(builds.sum()):,} cars); allocation cycle with first call {seconds:.3f} s, "
        f"{positioned:,} cars positioned, {allocated:,} allocated in all"
    )


def _expected_value(policy: DemandProfileAllocation, view, pools, assignments) -> float:
    """Sum over allocated cars of the value of the k-th unit of its spec at its dealer (k in arrival order)."""
    total = 0.0
    for specs, assignment in zip(pools, assignments, strict=True):
        chosen = assignment >= 0
        if not chosen.any():
            continue
        dealers, spec = assignment[chosen], specs[chosen]
        pairs, counts = np.unique(np.stack([dealers, spec], axis=1), axis=0, return_counts=True)
        unique_dealers, dealer_row = np.unique(pairs[:, 0], return_inverse=True)
        unique_specs, spec_row = np.unique(pairs[:, 1], return_inverse=True)
        big = DemandProfileAllocation(
            horizon_days=policy.horizon_days,
            max_units_per_spec=int(counts.max()),
            margin_share=policy.margin_share,
            floor_plan_rate_per_year=policy.floor_plan_rate_per_year,
        )
        values = big.unit_values(view, unique_dealers, unique_specs)
        for row, count in enumerate(counts.tolist()):
            total += float(values[dealer_row[row], spec_row[row], :count].sum())
    return total


if __name__ == "__main__":
    main()
