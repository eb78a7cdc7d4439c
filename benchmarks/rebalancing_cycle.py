"""One rebalancing cycle at full scale: surplus/deficit -> transfer plan (parts by SKU) -> OEM policy decisions.

Prints seconds per phase, peak RSS, SKU sub-problems, moves, lanes, trucks, routes, and the plan's gap to the
LP optimum (GLOP on the full linear relaxation: every positive-benefit sender -> short-dealer arc, all SKUs in
one model). Run: ``.venv/bin/python benchmarks/rebalancing_cycle.py [--dealers 400 --skus 2000] [--no-lp]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

# a sibling script (run as python benchmarks/<name>.py): one definition of peak memory
from engine_throughput import peak_rss_mb

from twin.policies.transfer_planner import FreightModel, PlannerOptions, plan_transfers
from twin.policies.transfer_rules import (
    TransferBatch,
    TransferPolicyConfig,
    TransferPolicyEngine,
    TransferRule,
)

INDIA_LATITUDE = (8.0, 35.0)
INDIA_LONGITUDE = (68.0, 97.0)
ROAD_FACTOR = 1.25


def network(dealers: int, skus: int, seed: int) -> dict[str, np.ndarray]:
    """Random dealers in India's bounding box; 5-15% surplus cells, 2-5% deficit cells per SKU."""
    rng = np.random.default_rng(seed)
    latitude = np.radians(rng.uniform(*INDIA_LATITUDE, dealers))
    longitude = np.radians(rng.uniform(*INDIA_LONGITUDE, dealers))
    half_chord = (
        np.sin((latitude[:, None] - latitude[None]) / 2) ** 2
        + np.cos(latitude[:, None])
        * np.cos(latitude[None])
        * np.sin((longitude[:, None] - longitude[None]) / 2) ** 2
    )
    distance_km = ROAD_FACTOR * 2 * 6371.0 * np.arcsin(np.sqrt(half_chord))
    surplus_share = rng.uniform(0.05, 0.15, skus)
    deficit_share = rng.uniform(0.02, 0.05, skus)
    draw = rng.random((dealers, skus))
    has_surplus = draw < surplus_share
    has_deficit = (draw >= surplus_share) & (draw < surplus_share + deficit_share)
    surplus_units = np.where(has_surplus, rng.geometric(0.3, (dealers, skus)), 0)
    deficit_units = np.where(has_deficit, rng.geometric(0.4, (dealers, skus)), 0)
    unit_value_inr = rng.lognormal(np.log(1500), 1.0, skus)
    # avoided lost margin / emergency order per unit short: ~30% of a unit's value
    benefit_inr_per_unit = np.broadcast_to(0.3 * unit_value_inr, (dealers, skus)).copy()
    return {
        "distance_km": distance_km,
        "surplus_units": surplus_units,
        "deficit_units": deficit_units,
        "benefit_inr_per_unit": benefit_inr_per_unit,
        "unit_value_inr": unit_value_inr,
    }


def lp_optimum(data: dict[str, np.ndarray], freight: FreightModel) -> tuple[float, float]:
    """GLOP on the full linear relaxation (all SKUs, all positive arcs, one model); (net cost INR, seconds)."""
    from ortools.linear_solver import pywraplp

    start = time.perf_counter()
    surplus, deficit = data["surplus_units"], data["deficit_units"]
    benefit, distance = data["benefit_inr_per_unit"], data["distance_km"]
    solver = pywraplp.Solver.CreateSolver("GLOP")
    objective = solver.Objective()
    supply_rows: dict[tuple[int, int], object] = {}
    demand_rows: dict[tuple[int, int], object] = {}
    for sku in range(surplus.shape[1]):
        senders = np.flatnonzero(surplus[:, sku])
        receivers = np.flatnonzero(deficit[:, sku])
        if not len(senders) or not len(receivers):
            continue
        per_unit = (
            freight.handling_inr_per_unit
            + freight.truck_cost_inr(distance[np.ix_(senders, receivers)]) / freight.truck_capacity_units
        )
        cost_paise = np.rint((per_unit - benefit[receivers, sku][None]) * 100)
        for a, b in zip(*np.nonzero(cost_paise < 0), strict=True):
            sender, receiver = int(senders[a]), int(receivers[b])
            variable = solver.NumVar(0, solver.infinity(), "")
            objective.SetCoefficient(variable, float(cost_paise[a, b]) / 100)
            for rows, key, bound in (
                (supply_rows, (sender, sku), surplus),
                (demand_rows, (receiver, sku), deficit),
            ):
                if key not in rows:
                    rows[key] = solver.Constraint(0, float(bound[key]))
                rows[key].SetCoefficient(variable, 1)  # type: ignore[attr-defined]
    objective.SetMinimization()
    status = solver.Solve()
    if status != solver.OPTIMAL:
        raise RuntimeError(f"GLOP status {status}")
    return objective.Value(), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dealers", type=int, default=400)
    parser.add_argument("--skus", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-lp", action="store_true", help="skip the GLOP reference")
    arguments = parser.parse_args()
    data = network(arguments.dealers, arguments.skus, arguments.seed)
    freight = FreightModel()
    rows = []
    plans = {}
    for label, options in (
        (
            "direct lanes (the engine's default: slope scaling, lane pruning)",
            PlannerOptions(use_routing=False),
        ),
        (
            "direct lanes, no slope scaling, no pruning (the groundwork's planner)",
            PlannerOptions(use_routing=False, slope_scaling_iterations=0, prune_lanes=False),
        ),
        ("with multi-stop routing", PlannerOptions()),
        (
            "all senders, no pruning (the LP check)",
            PlannerOptions(max_senders_per_deficit=None, use_routing=False, prune_lanes=False),
        ),
    ):
        start = time.perf_counter()
        plan = plan_transfers(
            data["surplus_units"],
            data["deficit_units"],
            data["benefit_inr_per_unit"],
            data["distance_km"],
            freight,
            options,
        )
        plan_seconds = time.perf_counter() - start
        plans[label] = plan
        rows.append((label, plan_seconds, plan))

    plan = plans["with multi-stop routing"]
    engine = TransferPolicyEngine(
        TransferPolicyConfig(
            rules=(
                TransferRule("reject_uneconomic", "reject", max_benefit_cost_ratio=1.0),
                TransferRule(
                    "auto_small_near",
                    "auto_execute",
                    max_value_inr=50_000,
                    max_distance_km=500,
                    sender_opted_in=True,
                ),
                TransferRule("approve_far", "approval", min_distance_km=500),
            ),
            default_action="approval",
            max_transfers_per_dealer_per_week=10,
        ),
        category_names=["parts"],
    )
    moves = len(plan.units)
    batch_order = np.argsort(-plan.benefit_cost_ratio, kind="stable")
    batch = TransferBatch(
        sender=plan.sender[batch_order],
        receiver=plan.receiver[batch_order],
        item=plan.item[batch_order],
        units=plan.units[batch_order],
        value_inr=(plan.units * data["unit_value_inr"][plan.item])[batch_order],
        distance_km=plan.distance_km[batch_order],
        freight_inr=plan.freight_inr[batch_order],
        benefit_inr=plan.benefit_inr[batch_order],
        category=np.zeros(moves, dtype=np.int64),
        day=np.zeros(moves, dtype=np.int64),
        shipment=np.where(plan.route >= 0, plan.route, 100_000 + plan.lane)[batch_order],
    )
    stock = data["surplus_units"] + 2
    start = time.perf_counter()
    decisions = engine.decide(
        batch,
        np.arange(arguments.dealers) % 3 != 0,
        np.zeros(arguments.dealers, np.int64),
        stock,
        np.full_like(stock, 2),
    )
    decide_seconds = time.perf_counter() - start

    print(
        f"# Rebalancing cycle: {arguments.dealers} dealers x {arguments.skus} SKUs (seed {arguments.seed})\n"
    )
    print(
        f"surplus cells {int((data['surplus_units'] > 0).sum()):,}, deficit cells {int((data['deficit_units'] > 0).sum()):,}, "
        f"units short {int(data['deficit_units'].sum()):,}\n"
    )
    print(
        "| planner | seconds | SKU sub-problems | moves | units | lanes | trucks | routes | freight INR | benefit INR | net INR | LP net on candidate arcs INR | gap bound INR |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, seconds, p in rows:
        print(
            f"| {label} | {seconds:.3f} | {p.subproblems:,} | {len(p.units):,} | {int(p.units.sum()):,} | {len(p.lane_units):,} | "
            f"{p.trucks:,} | {len(p.routes)} | {p.freight_total_inr:,.0f} | {p.benefit_inr.sum():,.0f} | {p.net_cost_inr:,.0f} | "
            f"{p.lp_net_cost_inr:,.0f} | {p.gap_bound_inr:,.0f} |"
        )
    counts = np.bincount(decisions.action, minlength=3)
    print(
        f"\npolicy engine: {moves:,} recommendations decided in {decide_seconds:.3f} s; auto {counts[0]:,}, approval {counts[1]:,}, reject {counts[2]:,}"
    )
    if not arguments.no_lp:
        lp_net, lp_seconds = lp_optimum(data, freight)
        print(f"\nGLOP full LP (no k-nearest pruning): net {lp_net:,.0f} INR in {lp_seconds:.1f} s")
        for label, _, p in rows:
            print(
                f"- {label}: min-cost-flow LP part {p.lp_net_cost_inr:,.0f} INR = {100 * (p.lp_net_cost_inr - lp_net) / abs(lp_net):.3f}% above the LP optimum; "
                f"plan after trucks {p.net_cost_inr:,.0f} INR (benefit captured {100 * p.net_cost_inr / lp_net:.1f}% of the LP bound)"
            )
    peak_mb = peak_rss_mb()
    print(f"\npeak RSS {peak_mb:,.0f} MB (whole process, GLOP model included)")


if __name__ == "__main__":
    main()
