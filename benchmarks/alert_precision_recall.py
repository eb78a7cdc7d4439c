"""Stock-out alerts against the parts manager's rule: precision-recall curves and PR-AUC per horizon (issue 18).

The twin runs with alerts on (``policy.alerts.enabled=true``) on a small network for a few replications. Every
evening, right after the control tower's own assessment (d+0.78), this script scores every cell the tower
watches and could alert on (monitored: lines a year at or above the phase-in count; not already in a stock-out
episode) two ways, from what the tower sees at that moment:

- **risk score**: P(stock-out within h days) by ``twin.policies.stockout_risk.stockout_probability`` from the
  tower's own inputs (available stock, the forecaster's one-day-ahead mean and dispersion, the inbound
  consignment with its ETA and spread), exact for every cell. The tower computes the same probability, but
  only for the cells whose stock or demand changed and that pass its cheap screen, so it does not keep a
  score for every cell; here every cell gets one, every day;
- **naive rule**: days of cover = on hand / average daily demand over the last ``--average-days`` days (the
  days since the start while fewer have passed); the rule alerts when cover is below 7 days. Ranked by cover
  (less cover = riskier), its curve is the rule at every threshold; the 7-day point is marked. A cell with no
  demand in the window has infinite cover (never flagged).

Truth: the stock-out episodes the tower records (``AlertBook.stockouts``: the day a monitored cell's line
could not be filled from the shelf, counted once until stock arrives). A cell-evening (day d) is positive at
horizon h if an episode starts on one of days d+1..d+h (demand comes before the evening review, so day d+h
counts, as in the alert book). Evenings from the end of warm-up to the last day whose whole horizon lies inside
the run are scored. For reference the alerts the tower actually raised are marked too: a cell-evening counts
as alerted at h if the cell has an open alert flagged at h (its h-day risk reached ``risk_threshold`` on or
before that evening).

PR-AUC is average precision (``sklearn.metrics.average_precision_score``: the step-wise area, no
interpolation); the base rate (the share of positives, a random ranking's PR-AUC) is printed beside it.
Curves and figures pool every replication; the spread is the standard deviation of the per-replication
PR-AUC.

    .venv/bin/python benchmarks/alert_precision_recall.py                  # 20 x 500, 3 x 180 days, ~1 min
    .venv/bin/python benchmarks/alert_precision_recall.py --replications 5 --output benchmarks/output
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from twin.config import NetworkConfig, TwinConfig
from twin.engine.control_tower import ControlTower
from twin.engine.demand import PartsLines
from twin.engine.parts_flow import LineOutcome
from twin.engine.simulation import Simulation
from twin.policies.stockout_risk import stockout_probability

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
NAIVE_COVER_DAYS = 7.0


@dataclass
class Scores:
    """Every scored cell-evening of one or more runs (rows), with its labels per horizon."""

    run: list[IntArray] = field(default_factory=list)
    day: list[IntArray] = field(default_factory=list)
    cell: list[IntArray] = field(default_factory=list)
    risk: list[npt.NDArray[np.float32]] = field(default_factory=list)
    cover_days: list[npt.NDArray[np.float32]] = field(default_factory=list)
    alerted: list[npt.NDArray[np.bool_]] = field(default_factory=list)
    positive: list[npt.NDArray[np.bool_]] = field(default_factory=list)
    valid: list[npt.NDArray[np.bool_]] = field(default_factory=list)

    def joined(self, name: str) -> npt.NDArray[np.generic]:
        return np.concatenate(getattr(self, name))


class Observer:
    """Hooks on one simulation's control tower: learns each day's demand per cell and scores every watched
    cell after the tower's evening assessment (reading its state; it changes nothing)."""

    def __init__(self, simulation: Simulation, average_days: int, warmup_days: int) -> None:
        tower = simulation.control_tower
        if tower is None or tower.alerts is None:
            raise SystemExit("the control tower is off: this benchmark needs policy.alerts.enabled=true")
        self.tower: ControlTower = tower
        self.warmup_days = warmup_days
        self.average_days = average_days
        self.demand_window = np.zeros((average_days, tower.cells))
        self.rows: dict[str, list[npt.NDArray[np.generic]]] = {
            "day": [],
            "cell": [],
            "risk": [],
            "cover_days": [],
            "alerted": [],
        }
        self._observe_demand = tower.observe_demand
        self._assess = tower.assess
        tower.observe_demand = self.observe_demand
        tower.assess = self.assess

    def observe_demand(self, day: int, lines: PartsLines, outcome: LineOutcome) -> None:
        self._observe_demand(day, lines, outcome)
        tower = self.tower
        cells = lines.location.astype(np.int64) * tower.skus + lines.sku
        dealer = cells < tower.cells
        units = np.bincount(
            cells[dealer], weights=lines.quantity[dealer].astype(float), minlength=tower.cells
        )
        self.demand_window[day % self.average_days] = units

    def assess(self, day: int) -> None:
        self._assess(day)
        if day < self.warmup_days:
            return
        tower = self.tower
        book = tower.alerts
        assert book is not None
        every = np.arange(tower.cells, dtype=np.int64)
        watched = tower.forecaster.lines_per_year(every) >= tower.phase_in_lines_per_year
        cells = every[watched & ~tower.in_stockout]
        state = tower.parts.state
        on_hand = state.on_hand.reshape(-1)[cells].astype(float)
        available = on_hand - state.reserved.reshape(-1)[cells]
        inbound = state.in_transit.reshape(-1)[cells].astype(float)
        eta_days = tower.inbound_eta_day[cells].astype(float) - day
        spread = tower.dealer_lead_time_sd_days[cells // tower.skus]
        mean_per_day = tower.forecaster.mean_per_day(cells)
        dispersion = tower.forecaster.dispersion(cells)
        risk = stockout_probability(
            available, inbound, eta_days, spread, mean_per_day, dispersion, tower.horizons_days.tolist()
        )
        days_seen = min(day + 1, self.average_days)
        average = self.demand_window[:, cells].sum(axis=0) / days_seen
        with np.errstate(divide="ignore", invalid="ignore"):
            cover = np.where(average > 0, on_hand / average, np.inf)
        alert = book.open_alert[cells]
        flagged = np.zeros((cells.size, tower.horizons_days.size), dtype=bool)
        has_alert = alert >= 0
        flagged[has_alert] = book.alerts["flag_day"][alert[has_alert]] >= 0
        self.rows["day"].append(np.full(cells.size, day, dtype=np.int64))
        self.rows["cell"].append(cells)
        self.rows["risk"].append(risk.astype(np.float32))
        self.rows["cover_days"].append(cover.astype(np.float32))
        self.rows["alerted"].append(flagged)


def label(
    day: IntArray, cell: IntArray, stockout_day: IntArray, stockout_cell: IntArray, horizon: int
) -> npt.NDArray[np.bool_]:
    """True where ``cell`` starts a stock-out episode on one of days ``day + 1 .. day + horizon``."""
    span = int(max(day.max(initial=0), stockout_day.max(initial=0))) + horizon + 2
    keys = np.sort(stockout_cell * span + stockout_day)
    query = cell * span + day
    following = np.searchsorted(keys, query, side="right")  # first episode after day d of the same cell
    found = following < keys.size
    next_key = np.where(found, keys[np.minimum(following, keys.size - 1)], -1)
    return found & (next_key // span == cell) & (next_key - query <= horizon)


def run_replication(config: TwinConfig, average_days: int, scores: Scores, replication: int) -> float:
    """One seeded run; appends its scored rows to ``scores``; returns its CPU seconds."""
    started = time.process_time()
    simulation = Simulation(config)
    observer = Observer(simulation, average_days, config.warmup_days)
    simulation.run()
    book = observer.tower.alerts
    assert book is not None
    horizons = observer.tower.horizons_days.astype(np.int64)
    day = np.concatenate(observer.rows["day"])
    cell = np.concatenate(observer.rows["cell"])
    stockout_day, stockout_cell = book.stockouts["day"].copy(), book.stockouts["cell"].copy()
    scores.run.append(np.full(day.size, replication, dtype=np.int64))
    scores.day.append(day)
    scores.cell.append(cell)
    scores.risk.append(np.concatenate(observer.rows["risk"]))
    scores.cover_days.append(np.concatenate(observer.rows["cover_days"]))
    scores.alerted.append(np.concatenate(observer.rows["alerted"]))
    scores.positive.append(
        np.stack([label(day, cell, stockout_day, stockout_cell, int(h)) for h in horizons], axis=1)
    )
    scores.valid.append(np.stack([day + h < config.horizon_days for h in horizons], axis=1))
    return time.process_time() - started


def precision_recall_point(flag: npt.NDArray[np.bool_], truth: npt.NDArray[np.bool_]) -> tuple[float, float]:
    flagged, positives = int(flag.sum()), int(truth.sum())
    hits = int((flag & truth).sum())
    return (hits / flagged if flagged else float("nan"), hits / positives if positives else float("nan"))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dealers", type=int, default=20, help="network size (20 x 500: network=small)")
    parser.add_argument("--skus", type=int, default=500)
    parser.add_argument("--days", type=int, default=180, help="simulated days per replication")
    parser.add_argument("--warmup-days", type=int, default=28)
    parser.add_argument("--replications", type=int, default=3, help="seeds 1..N")
    parser.add_argument("--average-days", type=int, default=90, help="the naive rule's demand window")
    parser.add_argument(
        "--output",
        type=Path,
        default=Path("/tmp/alert_precision_recall"),
        help="folder for alert_precision_recall.png (not committed)",
    )
    arguments = parser.parse_args()
    from sklearn.metrics import average_precision_score, precision_recall_curve

    scores = Scores()
    cpu_seconds = []
    horizons: list[int] = []
    threshold = 0.0
    for replication in range(1, arguments.replications + 1):
        config = TwinConfig(
            network=NetworkConfig(name="small", dealers=arguments.dealers, skus=arguments.skus, stockyards=2),
            horizon_days=arguments.days,
            warmup_days=arguments.warmup_days,
            seed=replication,
            progress=False,
        )
        config.policy.alerts.enabled = True
        horizons, threshold = list(config.policy.alerts.horizons_days), config.policy.alerts.risk_threshold
        cpu_seconds.append(run_replication(config, arguments.average_days, scores, replication))
        print(f"replication {replication}: {cpu_seconds[-1]:.1f} s CPU", file=sys.stderr)

    run = scores.joined("run")
    risk = scores.joined("risk")
    cover = scores.joined("cover_days")
    alerted = scores.joined("alerted")
    positive = scores.joined("positive")
    valid = scores.joined("valid")
    naive_score = -np.nan_to_num(cover.astype(float), posinf=1e9)  # less cover = riskier

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(horizons), figsize=(4.2 * len(horizons), 4.2), sharey=True)
    print(
        f"## Stock-out alerts vs the parts manager's rule: {arguments.dealers} dealers x {arguments.skus} "
        f"SKUs, {arguments.replications} x {arguments.days} days (warm-up {arguments.warmup_days})"
    )
    print()
    print(
        f"{run.size:,} scored cell-evenings; naive rule: on hand < {NAIVE_COVER_DAYS:g} days of the last "
        f"{arguments.average_days} days' average demand; alerts raised at risk >= {threshold:g}. "
        f"CPU {sum(cpu_seconds):.0f} s for the runs."
    )
    print()
    print(
        "| horizon | cell-evenings | stock-outs within (base rate) | PR-AUC risk score | PR-AUC naive "
        "(days of cover) | risk ÷ naive | naive rule at 7 days: precision / recall | risk score at that "
        "recall: precision | tower's alerts: precision / recall |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for column, horizon in enumerate(horizons):
        rows = valid[:, column]
        truth = positive[rows, column]
        ours, naive = risk[rows, column].astype(float), naive_score[rows]
        by_run = []
        for replication in np.unique(run).tolist():
            members = run[rows] == replication
            by_run.append(
                (
                    average_precision_score(truth[members], ours[members]),
                    average_precision_score(truth[members], naive[members]),
                )
            )
        spread = np.std(np.array(by_run), axis=0, ddof=1) if len(by_run) > 1 else np.zeros(2)
        ours_auc = average_precision_score(truth, ours)
        naive_auc = average_precision_score(truth, naive)
        rule_precision, rule_recall = precision_recall_point(cover[rows] < NAIVE_COVER_DAYS, truth)
        alert_precision, alert_recall = precision_recall_point(alerted[rows, column], truth)
        precision, recall, _ = precision_recall_curve(truth, ours)
        reach = recall >= rule_recall
        ours_at_rule = float(precision[reach].max()) if reach.any() else float("nan")
        naive_precision, naive_recall, _ = precision_recall_curve(truth, naive)
        print(
            f"| {horizon} d | {rows.sum():,} | {int(truth.sum()):,} ({truth.mean():.4f}) "
            f"| {ours_auc:.3f} ± {spread[0]:.3f} | {naive_auc:.3f} ± {spread[1]:.3f} "
            f"| {ours_auc / naive_auc:.2f} | {rule_precision:.3f} / {rule_recall:.3f} | {ours_at_rule:.3f} "
            f"| {alert_precision:.3f} / {alert_recall:.3f} |"
        )
        axis = axes[column] if len(horizons) > 1 else axes
        # sklearn ends each curve with (recall 0, precision 1), no threshold's point: left out of the plot
        axis.plot(recall[:-1], precision[:-1], label=f"risk score (AP {ours_auc:.3f})", color="tab:blue")
        axis.plot(
            naive_recall[:-1],
            naive_precision[:-1],
            label=f"days of cover (AP {naive_auc:.3f})",
            color="tab:orange",
        )
        axis.plot(rule_recall, rule_precision, "o", color="tab:orange", label="cover < 7 days")
        axis.plot(alert_recall, alert_precision, "s", color="tab:blue", label="alerts raised")
        axis.axhline(truth.mean(), color="grey", linestyle=":", linewidth=1, label="base rate")
        axis.set_title(f"stock-out within {horizon} d")
        axis.set_xlabel("recall")
        axis.set_xlim(0, 1)
        axis.set_ylim(0, 1)
        axis.legend(loc="upper right", fontsize=7)
    (axes[0] if len(horizons) > 1 else axes).set_ylabel("precision")
    figure.tight_layout()
    arguments.output.mkdir(parents=True, exist_ok=True)
    path = arguments.output / "alert_precision_recall.png"
    figure.savefig(path, dpi=110)
    print()
    print(f"PR-AUC ± the standard deviation over the {arguments.replications} replications. Plot: {path}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
