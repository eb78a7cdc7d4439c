"""Writes a finished run into its folder: kpis.json, daily series (Parquet), plots, summary table."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from twin.engine import allocation_status
from twin.engine.simulation import RunResult
from twin.io import settlement_reports
from twin.plots import run as plots

#: what a planner looks at first; the terminal shows these, the run folder's kpi_summary.md has every KPI
TERMINAL_KPIS = (
    "parts_fill_rate_line",
    "parts_fill_rate_piece",
    "parts_lost_sales_units",
    "vehicle_sales",
    "vehicle_lost_sale_share",
    "vehicle_age_share_over_90d",
    "working_capital_inr",
    "freight_cost_inr",
    "floor_plan_interest_inr",
    "parts_dealer_stock_value_inr",
)


def format_kpi(name: str, value: float) -> str:
    """Shares as percentages, whole numbers (counts, units, rupees) without decimals."""
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    if "share" in name or "fill_rate" in name or "availability" in name:
        return f"{value:.1%}"
    if abs(value) >= 1000 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def summary_table(summary: dict[str, float], names: tuple[str, ...] | None = None) -> str:
    """A Markdown table of the summary KPIs, or of ``names`` among them (pastes into a report)."""
    rows = ["| KPI | value |", "|---|---:|"]
    for name in names if names is not None else tuple(summary):
        if name in summary:
            rows.append(f"| {name} | {format_kpi(name, summary[name])} |")
    return "\n".join(rows)


def window_note(warmup_days: int, horizon_days: int) -> str:
    """Which days the KPIs of a run's table cover (written above it, so a figure is read on its window)."""
    return (
        f"Measured window: days {warmup_days}-{horizon_days - 1} ({horizon_days - warmup_days} days; the "
        f"{warmup_days} warm-up days excluded), for every KPI including the ledger's freight "
        "(settlement_freight_*, settlement_shipments, settlement_transfers). The ledger's other settlement_* "
        "figures (balances, invoices, disputes, cycles, claims) are of the whole run."
    )


def headline_table(summary: dict[str, float]) -> str:
    return summary_table(summary, TERMINAL_KPIS)


def campaigns_markdown(table: pd.DataFrame) -> str:
    """A figure per row, a campaign per column: pastes into a report."""
    names = table["campaign"].astype(str).tolist()
    lines = ["| figure | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    for column in table.columns[1:]:
        lines.append(f"| {column} | " + " | ".join(f"{value:,.0f}" for value in table[column]) + " |")
    return "\n".join(lines) + "\n"


def write_outputs(result: RunResult, folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "kpis": folder / "kpis.json",
        "daily": folder / "daily_kpis.parquet",
        "daily_by_region": folder / "daily_kpis_by_region.parquet",
        "summary_table": folder / "kpi_summary.md",
    }
    payload = {
        "summary": {
            key: (None if isinstance(value, float) and math.isnan(value) else value)
            for key, value in result.summary.items()
        },
        "cost_breakdown_inr": result.cost_breakdown,
        "seed": result.config.seed,
        "wall_seconds": result.wall_seconds,
        "processed_events": result.processed_events,
    }
    paths["kpis"].write_text(json.dumps(payload, indent=2))
    result.daily.to_parquet(paths["daily"], index=False)
    result.daily_by_region.to_parquet(paths["daily_by_region"], index=False)
    note = window_note(result.config.warmup_days, result.config.horizon_days)
    paths["summary_table"].write_text(f"{note}\n\n{summary_table(result.summary)}\n")
    start = result.simulation.start_date
    paths["plot_regions"] = plots.plot_regions(
        result.daily_by_region,
        folder / "fill_rate_and_stock_by_region.png",
        warmup_end=pd.Timestamp(start) + pd.Timedelta(days=result.config.warmup_days),
    )
    paths["plot_age"] = plots.plot_age_in_yard(
        result.final_age_in_yard_days,
        folder / "age_in_yard.png",
        result.summary.get("vehicle_age_share_over_90d"),
    )
    paths["plot_costs"] = plots.plot_costs(result.cost_breakdown, folder / "cost_breakdown.png")
    tower = result.simulation.control_tower
    if tower is not None and tower.alerts is not None:
        measured = (result.config.warmup_days, result.config.horizon_days)
        paths["plot_alert_lead_times"] = plots.plot_alert_lead_times(
            tower.alerts.lead_times(*measured),
            int(result.summary.get("stockouts_unwarned", 0)),
            folder / "alert_lead_times.png",
        )
    rebalancing = result.simulation.rebalancing
    if rebalancing is not None:  # the audit trail: every transfer recommendation and the rule that decided it
        paths["transfer_decisions"] = folder / "transfer_decisions.parquet"
        rebalancing.audit_frame().to_parquet(paths["transfer_decisions"], index=False)
    # "where is my allocation?": every car on its way to a dealer at the horizon, and a line per dealer
    status = allocation_status.allocation_status(result.simulation.vehicles)
    paths["allocation_status"] = folder / "allocation_status.csv"
    status.to_csv(paths["allocation_status"], index=False)
    paths["allocation_status_by_dealer"] = folder / "allocation_status_by_dealer.csv"
    allocation_status.by_dealer(status).to_csv(paths["allocation_status_by_dealer"], index=False)
    campaigns = result.simulation.campaigns
    if campaigns is not None:  # one row per campaign: stock landed before the start, customers served, sold
        table = campaigns.frame()
        paths["campaigns"] = folder / "campaigns.csv"
        table.to_csv(paths["campaigns"], index=False)
        paths["campaigns_table"] = folder / "campaigns.md"
        paths["campaigns_table"].write_text(campaigns_markdown(table))
    settlement = result.simulation.settlement
    if settlement.enabled:
        paths |= settlement_reports.write_settlement(
            settlement.book,
            result.summary,
            folder,
            result.simulation.start_date,
            ledger_csv=result.config.settlement.ledger_csv,
        )
    return paths
