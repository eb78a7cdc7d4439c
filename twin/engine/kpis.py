"""KPIs: a daily series recorded in preallocated arrays and the run summary derived from it.

Definitions (as in CALIBRATION.md):
- first-pick fill rate = (demand - emergency orders - lost sales) / demand. By line: a line counts as filled
  only when it is filled in full from the shelf at once (a partial line is not). By piece: units handed over
  from the shelf at once (partial lines included) / units demanded;
- emergency order share = emergency-ordered lines / demand lines; lost sales = units walked away;
- backorder days = sum over days of units owed to customers at the end of the day;
- textbook costs (docs/textbook.md), zero unless configured: ordering cost = order lines placed (dealers on
  their DC, DCs on suppliers) x ``order_cost_inr``; lost-sale penalty per lost unit; backorder penalty per
  unit owed at the end of a day; lateral cost per unit moved between dealers at the moment of demand;
- parts stock (``parts_dealer_stock_units``, ``parts_dealer_stock_value_inr``, ``parts_dc_stock_value_inr``, end
  of day) = on hand - reserved: units reserved for a customer's counter pickup were sold (in
  ``parts_sold_units`` and COGS) when the order was filled, so they are not stock any more, though they wait
  on the shelf until picked up. Working capital, turns, days supply and holding cost all use this stock;
- days supply = units in dealer stock / average daily sales over the last 30 days (in-transit not counted);
- turns = annualised cost of goods sold / average dealer inventory at cost;
- vehicle spec availability = share of customers whose first-choice spec was in the dealer's yard;
- age in yard = days since a vehicle arrived at its dealer; share over 60/90 days of dealer stock (sampled
  weekly and on the last day, carried forward in the daily series);
- working capital = dealer vehicles at cost + parts at cost (dealers and DCs); floor-plan interest accrues
  daily on dealer vehicles at cost; holding cost daily on parts at cost; freight per shipment as charged.
Everything in the summary excludes the warm-up days (the measured window: days ``warmup_days`` to the horizon),
and so do the settlement ledger's freight figures (``settlement_freight_*``, ``settlement_shipments``,
``settlement_transfers``); the ledger's other figures (balances, invoices, disputes, cycles, claims) are of
the whole run (see ``SettlementFlow.summary``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from twin.domain.parts import PART_CLASS_NAMES

#: network-level daily columns, all summed over the day unless noted "end of day"
DAILY_COLUMNS: tuple[str, ...] = (
    "parts_demand_lines",
    "parts_demand_units",
    "parts_first_pick_lines",
    "parts_filled_units",
    "parts_first_pick_units",
    "parts_emergency_lines",
    "parts_emergency_units",
    "parts_lost_lines",
    "parts_lost_units",
    "parts_lost_margin_inr",
    "parts_backorder_units",
    "parts_sold_units",
    "parts_cogs_inr",
    "parts_dealer_stock_units",
    "parts_dealer_stock_value_inr",
    "parts_dc_stock_value_inr",
    "parts_dc_units_ordered",
    "parts_dc_units_filled_at_once",
    "parts_dc_backorder_units",
    "vehicle_customers",
    "vehicle_first_choice_available",
    "vehicle_sold_from_stock",
    "vehicle_substitutions",
    "vehicle_factory_orders",
    "vehicle_network_orders",
    "vehicle_lost_sales",
    "vehicle_deliveries",
    "vehicle_dealer_stock",
    "vehicle_dealer_stock_value_inr",
    "vehicle_stockyard_stock",
    "vehicle_age_share_over_60d",
    "vehicle_age_share_over_90d",
    "vehicle_age_mean_days",
    "vehicle_lost_margin_inr",
    "freight_parts_inr",
    "freight_emergency_inr",
    "freight_vehicle_inr",
    "freight_transfer_inr",
    "holding_cost_inr",
    "floor_plan_interest_inr",
    "parts_alerts_raised",
    "parts_stockouts",
    "parts_stockouts_unwarned",
    # textbook mode (docs/textbook.md); appended, so older columns keep their places
    "parts_lateral_units",
    "parts_backordered_units",
    "parts_backorders_served_units",
    "parts_dealer_order_lines",
    "parts_dc_order_lines",
    "parts_ordering_cost_inr",
    "parts_lost_sale_penalty_inr",
    "parts_backorder_penalty_inr",
    "parts_lateral_cost_inr",
)
REGION_COLUMNS: tuple[str, ...] = (
    "parts_demand_lines",
    "parts_first_pick_lines",
    "parts_dealer_stock_value_inr",
    "vehicle_dealer_stock",
    "vehicle_deliveries",
)


@dataclass
class KpiRecorder:
    horizon_days: int
    region_names: tuple[str, ...]
    dealer_region: npt.NDArray[np.int64]
    start_date: dt.date
    daily: npt.NDArray[np.float64] = field(init=False)
    by_region: npt.NDArray[np.float64] = field(init=False)
    class_lines: npt.NDArray[np.float64] = field(init=False)
    class_first_pick_lines: npt.NDArray[np.float64] = field(init=False)

    def __post_init__(self) -> None:
        self.daily = np.zeros((self.horizon_days, len(DAILY_COLUMNS)))
        self.by_region = np.zeros((self.horizon_days, len(self.region_names), len(REGION_COLUMNS)))
        self.class_lines = np.zeros((self.horizon_days, len(PART_CLASS_NAMES)))
        self.class_first_pick_lines = np.zeros((self.horizon_days, len(PART_CLASS_NAMES)))
        self._column = {name: index for index, name in enumerate(DAILY_COLUMNS)}
        self._region_column = {name: index for index, name in enumerate(REGION_COLUMNS)}
        self.final_age_in_yard_days = np.zeros(0)
        self.pending: dict[tuple[int, str], float] = {}
        #: yard age at the last weekly look: share over 60 days, share over 90 days, mean age in days
        self.age_stats = (0.0, 0.0, 0.0)
        #: the last day whose KPIs were recorded (-1: none yet)
        self.recorded_through_day = -1

    def count(self, day: int, name: str, value: float = 1.0) -> None:
        """Cheap accumulation for frequent events (customers, deliveries), kept by day until flushed."""
        key = (day, name)
        self.pending[key] = self.pending.get(key, 0.0) + value

    def flush_counts(self, through_day: int) -> None:
        """Write the pending counts of every day up to ``through_day`` into the daily series."""
        for key in [key for key in self.pending if key[0] <= through_day]:
            self.add(key[0], key[1], self.pending.pop(key))

    def add(self, day: float, name: str, value: float) -> None:
        index = int(day)
        if 0 <= index < self.horizon_days:
            self.daily[index, self._column[name]] += value

    def add_many(self, day: float, figures: Iterable[tuple[str, float]]) -> None:
        """``add(day, name, value)`` for each (name, value) of distinct names, as one vectorised add (a parts
        day adds sixteen): the same float adds."""
        index = int(day)
        if 0 <= index < self.horizon_days:
            names, values = zip(*figures, strict=True)
            columns = [self._column[name] for name in names]
            self.daily[index, columns] += np.array([float(value) for value in values])

    def set(self, day: int, name: str, value: float) -> None:
        if 0 <= day < self.horizon_days:
            self.daily[day, self._column[name]] = value

    def add_dealer_totals(self, day: float, name: str, per_dealer: npt.NDArray[np.integer]) -> None:
        """Add per-dealer totals (one value per dealer, e.g. the day's lines at each) to their regions."""
        index = int(day)
        if 0 <= index < self.horizon_days:
            self.by_region[index, :, self._region_column[name]] += np.bincount(
                self.dealer_region, weights=per_dealer, minlength=len(self.region_names)
            )

    def set_by_region(self, day: int, name: str, per_dealer: npt.NDArray[np.float64]) -> None:
        if 0 <= day < self.horizon_days:
            self.by_region[day, :, self._region_column[name]] = np.bincount(
                self.dealer_region, weights=per_dealer, minlength=len(self.region_names)
            )

    # -- outputs -------------------------------------------------------------------------------------
    def dates(self) -> pd.DatetimeIndex:
        return pd.date_range(self.start_date, periods=self.horizon_days, freq="D")

    def daily_frame(self) -> pd.DataFrame:
        frame = pd.DataFrame(self.daily, columns=list(DAILY_COLUMNS))
        frame.insert(0, "date", self.dates())
        frame.insert(0, "day", np.arange(self.horizon_days))
        with np.errstate(invalid="ignore", divide="ignore"):
            frame["parts_fill_rate_line"] = frame["parts_first_pick_lines"] / frame["parts_demand_lines"]
            frame["parts_fill_rate_piece"] = frame["parts_filled_units"] / frame["parts_demand_units"]
        return frame

    def region_frame(self) -> pd.DataFrame:
        days, regions = self.horizon_days, len(self.region_names)
        frame = pd.DataFrame(self.by_region.reshape(days * regions, -1), columns=list(REGION_COLUMNS))
        frame.insert(0, "region", np.tile(np.array(self.region_names), days))
        frame.insert(0, "date", np.repeat(self.dates(), regions))
        frame.insert(0, "day", np.repeat(np.arange(days), regions))
        with np.errstate(invalid="ignore", divide="ignore"):
            frame["parts_fill_rate_line"] = frame["parts_first_pick_lines"] / frame["parts_demand_lines"]
        return frame

    def summary(self, warmup_days: int) -> dict[str, float]:
        window = slice(warmup_days, self.horizon_days)
        days = self.horizon_days - warmup_days
        column = {name: self.daily[window, index] for name, index in self._column.items()}

        def ratio(numerator: float, denominator: float) -> float:
            return float(numerator / denominator) if denominator > 0 else float("nan")

        total = {name: float(values.sum()) for name, values in column.items()}
        last_30 = slice(max(warmup_days, self.horizon_days - 30), self.horizon_days)
        sold_last_30 = self.daily[last_30, self._column["parts_sold_units"]].mean()
        vehicle_sales_last_30 = self.daily[last_30, self._column["vehicle_deliveries"]].mean()
        parts_stock_value = column["parts_dealer_stock_value_inr"].mean()
        parts_dc_value = column["parts_dc_stock_value_inr"].mean()
        vehicle_value = column["vehicle_dealer_stock_value_inr"].mean()
        freight = (
            total["freight_parts_inr"]
            + total["freight_emergency_inr"]
            + total["freight_vehicle_inr"]
            + total["freight_transfer_inr"]
        )
        summary: dict[str, float] = {
            "days_measured": float(days),
            "parts_fill_rate_line": ratio(total["parts_first_pick_lines"], total["parts_demand_lines"]),
            "parts_fill_rate_piece": ratio(total["parts_filled_units"], total["parts_demand_units"]),
            "parts_demand_lines": total["parts_demand_lines"],
            "parts_lost_sales_units": total["parts_lost_units"],
            # demand lines not filled from the shelf and not waited for (lost sales), and lines the customer
            # waited for (emergency orders): the two ends of a line that missed the first pick
            "parts_lost_lines": total["parts_lost_lines"],
            "parts_emergency_lines": total["parts_emergency_lines"],
            "parts_lost_margin_inr": total["parts_lost_margin_inr"],
            "parts_emergency_order_share": ratio(total["parts_emergency_lines"], total["parts_demand_lines"]),
            "parts_backorder_unit_days": total["parts_backorder_units"],
            # the DCs as suppliers of their dealers: units of dealer stock orders shipped the day they were
            # ordered, and units owed to dealers at the end of a day (the backorder book), on average
            "parts_dc_fill_rate_units": ratio(
                total["parts_dc_units_filled_at_once"], total["parts_dc_units_ordered"]
            ),
            "parts_dc_backorder_units": float(column["parts_dc_backorder_units"].mean()),
            "parts_days_supply": ratio(
                self.daily[self.horizon_days - 1, self._column["parts_dealer_stock_units"]], sold_last_30
            ),
            "parts_turns_per_year": ratio(total["parts_cogs_inr"] * 365.0 / days, parts_stock_value),
            "parts_dealer_stock_value_inr": float(parts_stock_value),
            "vehicle_customers": total["vehicle_customers"],
            "vehicle_sales": total["vehicle_deliveries"],
            "vehicle_lost_sales": total["vehicle_lost_sales"],
            "vehicle_lost_sale_share": ratio(total["vehicle_lost_sales"], total["vehicle_customers"]),
            "vehicle_spec_availability": ratio(
                total["vehicle_first_choice_available"], total["vehicle_customers"]
            ),
            "vehicle_substitution_share": ratio(total["vehicle_substitutions"], total["vehicle_customers"]),
            "vehicle_factory_order_share": ratio(total["vehicle_factory_orders"], total["vehicle_customers"]),
            "vehicle_network_order_share": ratio(total["vehicle_network_orders"], total["vehicle_customers"]),
            "vehicle_days_supply": ratio(
                self.daily[self.horizon_days - 1, self._column["vehicle_dealer_stock"]], vehicle_sales_last_30
            ),
            "vehicle_dealer_stock": float(column["vehicle_dealer_stock"].mean()),
            #: the OEM's own unallocated stock in the stockyards (not in the dealers' working capital)
            "vehicle_stockyard_stock": float(column["vehicle_stockyard_stock"].mean()),
            "vehicle_age_share_over_60d": float(column["vehicle_age_share_over_60d"].mean()),
            "vehicle_age_share_over_90d": float(column["vehicle_age_share_over_90d"].mean()),
            "vehicle_age_mean_days": float(column["vehicle_age_mean_days"].mean()),
            "working_capital_inr": float(parts_stock_value + parts_dc_value + vehicle_value),
            "floor_plan_interest_inr": total["floor_plan_interest_inr"],
            "holding_cost_inr": total["holding_cost_inr"],
            "freight_cost_inr": freight,
            "freight_parts_inr": total["freight_parts_inr"],
            "freight_emergency_inr": total["freight_emergency_inr"],
            "freight_vehicle_inr": total["freight_vehicle_inr"],
            "freight_transfer_inr": total["freight_transfer_inr"],
            "vehicle_lost_margin_inr": total["vehicle_lost_margin_inr"],
            # textbook mode (docs/textbook.md): lateral fills, dealer backorders, order lines and penalties
            "parts_lateral_units": total["parts_lateral_units"],
            "parts_backordered_units": total["parts_backordered_units"],
            "parts_dealer_backorder_units": float(column["parts_backorder_units"].mean()),
            "parts_dealer_order_lines": total["parts_dealer_order_lines"],
            "parts_dc_order_lines": total["parts_dc_order_lines"],
            "parts_ordering_cost_inr": total["parts_ordering_cost_inr"],
            "parts_lost_sale_penalty_inr": total["parts_lost_sale_penalty_inr"],
            "parts_backorder_penalty_inr": total["parts_backorder_penalty_inr"],
            "parts_lateral_cost_inr": total["parts_lateral_cost_inr"],
        }
        lines = self.class_lines[window].sum(axis=0)
        first_pick = self.class_first_pick_lines[window].sum(axis=0)
        for index, name in enumerate(PART_CLASS_NAMES):
            summary[f"parts_fill_rate_line_{name}"] = ratio(first_pick[index], lines[index])
        return summary

    def cost_breakdown(self, warmup_days: int) -> dict[str, float]:
        window = slice(warmup_days, self.horizon_days)
        names = (
            "freight_parts_inr",
            "freight_emergency_inr",
            "freight_vehicle_inr",
            "freight_transfer_inr",
            "holding_cost_inr",
            "floor_plan_interest_inr",
            "parts_lost_margin_inr",
            "vehicle_lost_margin_inr",
            "parts_ordering_cost_inr",
            "parts_lost_sale_penalty_inr",
            "parts_backorder_penalty_inr",
            "parts_lateral_cost_inr",
        )
        return {name: float(self.daily[window, self._column[name]].sum()) for name in names}

    # -- state (section "kpis" of twin.domain.state) ------------------------------------------------
    def state_arrays(self) -> dict[str, npt.NDArray[np.generic]]:
        pending = list(self.pending.items())
        return {
            "daily": self.daily.copy(),
            "by_region": self.by_region.copy(),
            "class_lines": self.class_lines.copy(),
            "class_first_pick_lines": self.class_first_pick_lines.copy(),
            "pending_day": np.array([day for (day, _), _ in pending], dtype=np.int64),
            "pending_name": np.array([name for (_, name), _ in pending], dtype=np.str_),
            "pending_value": np.array([value for _, value in pending], dtype=np.float64),
            "age_stats": np.array(self.age_stats, dtype=np.float64),
            "recorded_through_day": np.array([self.recorded_through_day], dtype=np.int64),
        }

    def load_state_arrays(self, arrays: dict[str, npt.NDArray[np.generic]]) -> None:
        for name in ("daily", "by_region", "class_lines", "class_first_pick_lines"):
            target = getattr(self, name)
            if np.shape(arrays[name]) != target.shape:
                raise ValueError(
                    f"kpis:{name} has shape {np.shape(arrays[name])}, this run keeps {target.shape}"
                )
            target[:] = arrays[name]
        unknown = sorted(set(np.asarray(arrays["pending_name"]).tolist()) - set(self._column))
        if unknown:
            raise ValueError(f"kpis:pending_name holds KPI columns this twin does not know: {unknown}")
        self.pending = {
            (int(day), str(name)): float(value)
            for day, name, value in zip(
                np.asarray(arrays["pending_day"]).tolist(),
                np.asarray(arrays["pending_name"]).tolist(),
                np.asarray(arrays["pending_value"]).tolist(),
                strict=True,
            )
        }
        share_over_60, share_over_90, mean_age = np.asarray(arrays["age_stats"], dtype=float).tolist()
        self.age_stats = (share_over_60, share_over_90, mean_age)
        self.recorded_through_day = int(np.asarray(arrays["recorded_through_day"])[0])
