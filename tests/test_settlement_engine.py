"""Settlement in a small run: the ledger charges exactly the freight the engine's KPIs report, every dealer
gets a statement each cycle, nothing in the engine changes when settlement is switched on, and a run
restarted from a snapshot ends with the same ledger."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from twin.config import NetworkConfig, SettlementConfig, TwinConfig
from twin.engine.simulation import RunResult, Simulation
from twin.engine.snapshot import take_snapshot
from twin.io.settlement_reports import read_ledger_csv, read_ledger_parquet, write_settlement
from twin.settlement.payers import FreightCategory

HORIZON_DAYS = 50


def _config(enabled: bool = True) -> TwinConfig:
    return TwinConfig(
        network=NetworkConfig(dealers=12, skus=300, stockyards=2, vehicles_per_dealer=60),
        settlement=SettlementConfig(enabled=enabled),
        horizon_days=HORIZON_DAYS,
        warmup_days=7,
        progress=False,
    )


@pytest.fixture(scope="module")
def run() -> RunResult:
    return Simulation(_config()).run()


def test_ledger_freight_equals_the_engines_freight_kpis(run: RunResult) -> None:
    book = run.simulation.settlement.book
    category, expected = book.shipments["category"], book.shipments["expected_paise"]
    daily = run.daily
    for categories, column in (
        ((FreightCategory.PARTS_REPLENISHMENT,), "freight_parts_inr"),
        ((FreightCategory.PARTS_EMERGENCY,), "freight_emergency_inr"),
        ((FreightCategory.VEHICLE_DELIVERY, FreightCategory.VEHICLE_TRUNK), "freight_vehicle_inr"),
    ):
        charged = np.isin(category, categories)
        assert charged.sum() > 0, column
        ledger_inr = expected[charged].sum() / 100
        # each shipment is rounded to the paisa once
        assert ledger_inr == pytest.approx(daily[column].sum(), abs=0.005 * charged.sum() + 1e-6), column


def test_the_kpi_tables_freight_and_the_ledgers_freight_are_the_same_figure(run: RunResult) -> None:
    """Both over the measured window (warm-up excluded): one number for freight in the KPI table."""
    summary = run.summary
    assert summary["freight_transfer_inr"] == 0  # no transfers in this run: all freight is network freight
    shipments = run.simulation.settlement.book.shipments
    measured = int((shipments["ship_day"] >= run.config.warmup_days).sum())
    assert 0 < measured == summary["settlement_shipments"] < len(shipments)  # warm-up shipments left out
    # each shipment is rounded to the paisa once
    assert summary["settlement_freight_inr"] == pytest.approx(
        summary["freight_cost_inr"], abs=0.005 * measured
    )
    by_category = sum(summary[f"settlement_freight_{name}_inr"] for name in ("parts_replenishment",
        "parts_emergency", "vehicle_delivery", "vehicle_trunk"))  # fmt: skip
    assert by_category == pytest.approx(summary["settlement_freight_inr"], abs=1e-6)


def test_every_dealer_gets_a_statement_every_cycle_and_the_books_balance(run: RunResult) -> None:
    summary = run.summary
    cycles = HORIZON_DAYS // 7
    assert summary["settlement_cycles"] == cycles
    assert summary["settlement_statements"] == cycles * 12
    assert summary["settlement_dealers_with_statement"] == 12
    assert summary["settlement_unbalanced_entries"] == 0
    assert summary["settlement_balance_sum_inr"] == 0
    assert summary["settlement_invoice_lines_reconciled"] > 0
    assert summary["settlement_incentive_claims_paid"] > 0
    # a statement's closing balance is the dealer's ledger balance at the close
    book = run.simulation.settlement.book
    last = book.statements["cycle"] == cycles - 1
    at_close = book.journal.recompute_balances(0, int(book.cycles["line_end"][cycles - 1]))
    np.testing.assert_array_equal(
        book.statements["closing_paise"][last], at_close[book.chart.dealer_accounts()]
    )


def test_settlement_files_are_written_and_the_ledger_reloads_identically(
    run: RunResult, tmp_path: Path
) -> None:
    book = run.simulation.settlement.book
    paths = write_settlement(book, run.summary, tmp_path, run.simulation.start_date, ledger_csv=True)
    for reloaded in (
        read_ledger_csv(paths["ledger_csv"], book.chart.size),
        read_ledger_parquet(paths["ledger"], book.chart.size),
    ):
        for name, array in book.journal.arrays().items():
            np.testing.assert_array_equal(reloaded.arrays()[name], array, err_msg=name)
    statements = pd.read_csv(paths["statements"])
    assert sorted(statements["dealer_id"].unique()) == sorted(book.chart.dealer_ids)
    text = paths["statements_summary"].read_text()
    assert all(dealer in text for dealer in book.chart.dealer_ids)


def test_switching_settlement_on_changes_nothing_in_the_engine(run: RunResult) -> None:
    off = Simulation(_config(enabled=False)).run()
    pd.testing.assert_frame_equal(off.daily, run.daily, check_exact=True)
    engine_kpis = {name: value for name, value in run.summary.items() if not name.startswith("settlement_")}
    np.testing.assert_equal(off.summary, engine_kpis)


def test_a_restarted_run_ends_with_the_same_ledger(run: RunResult) -> None:
    first_leg = Simulation(_config())
    first_leg.advance(23)
    resumed = Simulation(_config(), snapshot=take_snapshot(first_leg)).run()
    assert resumed.summary == run.summary
    for name, array in run.simulation.settlement.book.arrays().items():
        np.testing.assert_array_equal(resumed.simulation.settlement.book.arrays()[name], array, err_msg=name)
