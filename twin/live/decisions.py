"""The live control tower's daily decision run: the twin's own policies, on the state the feeds keep in step.

Each business day the shadow consumer closes, ``LiveDecisions.close_day`` runs what the control tower would
run that evening, on a ``LiveState`` instead of the engine's state, and returns the decisions as JSON-able
records that name dealers, part numbers, specs and VINs by their codes:
- forecasts, stock-out risk and alerts: the day's demand lines go to the ``IntermittentForecaster``; dealer
  cells are assessed against forward demand, the stock the DMS reports and the consignments the carriers
  track (``stockout_risk``); the ``AlertBook`` raises, flags and clears (``alert_raised``, ``alert_cleared``);
- rebalancing: the configured transfer policy's planners recommend dealer-to-dealer moves on a ``PartsView``
  (and a ``VehicleView``) of the live state and the OEM's rule sheet decides each line
  (``transfer_recommended`` / ``vehicle_transfer_recommended`` with ``auto_execute`` or ``needs_approval``,
  ``transfer_rejected`` with the rule or guard that refused it);
- allocation: on allocation days the configured allocation policy splits each stockyard's unallocated VINs
  over its dealers (``allocation_proposed``). The live system publishes these; it moves nothing.

Inputs are built as the engine builds them (``twin.engine.parts_view``, ``control_tower``,
``dealer_transfers``, ``vehicle_flow``), with three differences a live service cannot avoid:
- no 12-month DMS history: the forecaster starts cold on the first closed day, the "history" the rebalancing
  screen reads is the demand observed since, and neither alerts nor parts transfers run before
  ``MINIMUM_HISTORY_DAYS`` of it (one demand line in two days is not a rate of 180 lines a year);
- the views are of today, not the OEM's weekly export, and a stock-out episode is read from the day's lost
  units and open backorders, where the engine sees each line's first pick;
- a network manager's answer is not simulated: lines sent for approval count against the weekly cap as if
  approved (the answer is not in the feeds), so a dealer is never offered more than the cap.
No SimPy runs here: the policies are pure; from the engine come only the policy builder
(``build_component``, whose module imports SimPy) and the OEM's volume plan and seasonality (``DemandModel``).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from twin.components import build_component
from twin.config import TwinConfig
from twin.domain.parts import PART_CLASS_NAMES
from twin.domain.vehicles import SiteKind, VehicleStatus
from twin.domain.world import World
from twin.engine.demand import DemandModel
from twin.engine.scenario_effects import ScenarioEffects
from twin.live.codes import MasterCodes
from twin.live.live_state import LiveState
from twin.policies.alerts import AlertBook, AlertOutcome
from twin.policies.demand_distribution import exceed_probability_approximate
from twin.policies.forecasting import (
    DEMAND_CLASS_NAMES,
    ForecastSettings,
    IntermittentForecaster,
    Method,
    Selection,
)
from twin.policies.observation import PartsView, VehicleView, read_only
from twin.policies.protocols import TransferPolicy, VehicleAllocationPolicy, VehicleTransferPlanner
from twin.policies.stockout_risk import expected_stockout_days, stockout_probability
from twin.policies.transfer_planner import FreightModel
from twin.policies.transfer_rules import (
    APPROVAL,
    AUTO_EXECUTE,
    REJECT,
    TransferBatch,
    TransferDecisions,
    transfer_groups,
)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: days of observed demand before alerts and parts transfers run: fewer make one line look like a steady rate
MINIMUM_HISTORY_DAYS = 14
#: safety margin on the risk screen's approximation (it errs by about 0.02), as in the engine's control tower
SCREEN_MARGIN = 0.05
#: the OEM's volume plan is read this many days ahead, as the engine's vehicle flow reads it
PLAN_LOOKAHEAD_DAYS = 14
#: days of seasonal index the forecaster is given from its first day (it holds the last value beyond)
SEASON_INDEX_DAYS = 3 * 366
#: the decision a record names for each action of the OEM's policy engine
DECISION_NAMES = {AUTO_EXECUTE: "auto_execute", APPROVAL: "needs_approval", REJECT: "rejected"}


class LiveDecisions:
    """Forecasts, alerts, rebalancing and allocation for each closed business day; see the module doc.

    Call ``close_day`` once per day, in order. Its state (forecasts, alerts, stock-out episodes, the demand
    observed so far, the weekly transfer counts) round-trips through ``state_arrays`` /
    ``load_state_arrays``; everything else is rebuilt from the config and the world.
    """

    def __init__(self, config: TwinConfig, world: World, codes: MasterCodes) -> None:
        self.config, self.world, self.codes = config, world, codes
        network, operations, policy = world.network, config.operations, config.policy
        self.dealers, self.skus = network.dealer_count, len(world.parts)
        self.cells = self.dealers * self.skus
        # the same facts of the network the engine derives (twin.engine.simulation)
        parts_lane = network.parts_carrier
        self.dealer_lead_time_days = (
            operations.dc_dispatch_delay_days
            + network.dc_to_dealer_km() / network.carriers.speed_km_per_day[parts_lane]
        )
        self.dealer_lead_time_sd_days = self.dealer_lead_time_days * operations.transit_time_cv
        business = {
            "margin_share": operations.vehicle_margin_share,
            "floor_plan_rate_per_year": operations.floor_plan_rate_per_year,
        }
        self.allocation: VehicleAllocationPolicy = build_component(
            policy.allocation, context=business, key="policy.allocation"
        )
        replenishment = build_component(policy.replenishment, key="policy.replenishment")
        #: a part is watched at a dealer once its demand lines a year reach the phase-in rule's count
        self.phase_in_lines_per_year = float(replenishment.phase_in_lines_per_year)
        # the OEM's volume plan and the parts seasonality it knows: the twin's demand model, bound as the
        # engine binds it (the network's seed; nothing is sampled from it here)
        self.demand: DemandModel = build_component({**asdict(config.demand)}, key="demand")
        self.demand.bind(
            world,
            dt.date.fromisoformat(config.start_date),
            np.random.default_rng(np.random.SeedSequence([config.network.generator_seed, 1])),
            ScenarioEffects(config.scenario, world, config.network.generator_seed),
        )
        self.runs_forecast = (
            policy.forecast.enabled or policy.alerts.enabled or bool(replenishment.needs_forecast)
        )
        forecast = policy.forecast
        self.forecast_settings = ForecastSettings(
            alpha=forecast.alpha,
            tsb_alpha_size=forecast.tsb_alpha_size,
            tsb_alpha_probability=forecast.tsb_alpha_probability,
            ses_alpha=forecast.ses_alpha,
            method_by_class=tuple(
                Method[getattr(forecast, f"method_{name}").upper()] for name in DEMAND_CLASS_NAMES
            ),
            selection=Selection(forecast.selection),
        )
        #: built on the first closed day (a cold start needs to know its first day)
        self.forecaster: IntermittentForecaster | None = None
        alerts = policy.alerts
        self.horizons_days = np.asarray(alerts.horizons_days, dtype=float)
        self.alerts = (
            AlertBook(self.cells, alerts.horizons_days, alerts.risk_threshold, alerts.clear_threshold)
            if alerts.enabled
            else None
        )
        #: dealer cells in a stock-out episode (a short line since stock was last back on the shelf)
        self.in_stockout = np.zeros(self.cells, dtype=bool)
        #: demand observed since the first closed day: lines and units per [dealer, sku]
        self.observed_lines = np.zeros((self.dealers, self.skus))
        self.observed_units = np.zeros((self.dealers, self.skus))
        self.first_day = -1
        self.last_day = -1
        #: transfers each dealer took part in, per day of the last 7 (the weekly cap's count)
        self.recent = np.zeros((7, self.dealers), dtype=np.int64)
        self._build_transfers()

    def _build_transfers(self) -> None:
        """The transfer family as the engine's rebalancing flow builds it: planners priced over the
        network, the rule sheet over part classes and models, the opted-in dealers of the network."""
        config, world, network = self.config, self.world, self.world.network
        transfers, operations = config.policy.transfers, config.operations
        self.transfers_on = bool(transfers.enabled)
        if not self.transfers_on:
            return
        self.transfer_policy: TransferPolicy = build_component(transfers, key="policy.transfers")
        self.distance_km = network.dealer_to_dealer_km()
        carriers = network.carriers

        def card(lanes: IntArray) -> FreightModel:
            main = int(np.bincount(lanes).argmax())
            return FreightModel.load_share_card(
                carriers.minimum_charge_inr[main],
                carriers.rate_per_km_inr[main],
                carriers.capacity_per_load[main],
            )

        self.parts_freight = card(network.parts_carrier)
        self.rules = self.transfer_policy.decision_rules((*PART_CLASS_NAMES, *world.specs.model_names))
        # a fact about the network, drawn from its generator seed exactly as the engine draws it
        opt_in_rng = np.random.default_rng(np.random.SeedSequence([config.network.generator_seed, 6]))
        self.opted_in = opt_in_rng.random(self.dealers) < transfers.dealer_opt_in_share
        self.vehicle_planner: VehicleTransferPlanner | None = None
        if transfers.vehicles:
            price = world.specs.price_inr
            self.vehicle_planner = self.transfer_policy.vehicle_planner(
                self.distance_km,
                card(network.vehicle_carrier),
                price * (1.0 - operations.vehicle_margin_share),
                price * operations.vehicle_margin_share,
                len(PART_CLASS_NAMES) + world.specs.model.astype(np.int64),
                operations.floor_plan_rate_per_year,
            )

    # -- the day ------------------------------------------------------------------------------------------
    def close_day(self, day: int, state: LiveState) -> list[dict[str, Any]]:
        """Run the live policies for the business day ``day`` that just closed (its demand is
        ``state.demand_of_day(day)``; the state is as of the end of that day); returns the decisions."""
        if day <= self.last_day:
            raise ValueError(f"day {day} is already closed (last closed day {self.last_day})")
        if self.first_day < 0:
            self.first_day = day
        for stale in range(max(self.last_day + 1, day - 6), day + 1):
            self.recent[stale % 7] = 0  # the weekly cap counts the last 7 days only
        self.last_day = day
        records = self._observe(day, state)
        settings = self.config.policy.transfers
        warm = day - self.first_day + 1 >= MINIMUM_HISTORY_DAYS
        if day % self.config.operations.allocation_period_days == 0:
            records += self._allocate(day, state)
        if self.transfers_on and self.vehicle_planner is not None and day % settings.vehicle_period_days == 0:
            records += self._vehicle_transfers(day, state)
        inbound = self._inbound(state)
        if self.transfers_on and warm and day % settings.period_days == 0:
            records += self._parts_transfers(day, state, inbound[1])
        if self.alerts is not None:
            records += self._alerts(day, state, inbound, assess=warm)
        return records

    def _observe(self, day: int, state: LiveState) -> list[dict[str, Any]]:
        """The day's demand into the forecaster and the observed history; stock-out episodes start and end."""
        lines = state.demand_of_day(day)
        cells, inverse = np.unique(lines[:, 0], return_inverse=True)
        requested = np.bincount(inverse.ravel(), weights=lines[:, 1], minlength=cells.size).astype(float)
        lost = np.bincount(inverse.ravel(), weights=lines[:, 2], minlength=cells.size)
        np.add.at(self.observed_lines.reshape(-1), lines[:, 0], 1.0)
        self.observed_units.reshape(-1)[cells] += requested
        if not self.runs_forecast:
            return []
        if self.forecaster is None:
            self.forecaster = self._cold_forecaster(day)
        self.forecaster.observe(day, cells, requested)
        # a stock-out episode ends once stock is back on the shelf and no customer is owed parts
        dealer_rows = slice(0, self.dealers)
        available = (state.parts["on_hand"][dealer_rows] - state.parts["reserved"][dealer_rows]).reshape(-1)
        backorder = state.parts["backorder"][dealer_rows].reshape(-1)
        self.in_stockout &= ~((available > 0) & (backorder == 0))
        # ... and starts with a short line: units lost, or units owed awaiting an emergency delivery
        short = cells[(lost > 0) | (backorder[cells] > 0)]
        monitored = self.forecaster.lines_per_year(short) >= self.phase_in_lines_per_year
        starting = short[monitored & ~self.in_stockout[short]]
        self.in_stockout[starting] = True
        if self.alerts is not None and starting.size:
            self.alerts.record_stockouts(day, starting)
        return [
            {
                "day": day,
                "kind": "forecast_updated",
                "series_with_demand": int(cells.size),
                "units_requested": int(requested.sum()),
                "units_lost": int(lost.sum()),
                "history_days": day - self.first_day + 1,
                "stockout_cells": int(self.in_stockout.sum()),
            }
        ]

    def _cold_forecaster(self, start_day: int) -> IntermittentForecaster:
        """A forecaster that starts at ``start_day`` with no history, given the network's parts seasonality
        (the OEM knows it from past years, as the engine's control tower does)."""
        season = np.array(
            [self.demand.parts_season(day) for day in range(start_day, start_day + SEASON_INDEX_DAYS)]
        )
        return IntermittentForecaster(
            self.cells, self.forecast_settings, season_index=season, start_day=start_day
        )

    # -- stock-out risk and alerts ------------------------------------------------------------------------
    def _inbound(self, state: LiveState) -> tuple[FloatArray, FloatArray]:
        """Per dealer cell: units on their way and the earliest ETA (day; inf: none). Units count only as far
        as both the carriers (open consignments) and the dealer's DMS (on order) report them: stock one side
        alone reports (a consignment whose delivery message was lost, an order no carrier tracks) may not
        come, and missing it costs an alert where counting on it could cost a stock-out."""
        cells, units, etas = state.open_inbound()
        to_dealer = cells < self.cells
        cells, units, etas = cells[to_dealer], units[to_dealer], etas[to_dealer]
        carried = np.bincount(cells, weights=units, minlength=self.cells)
        on_order = state.parts["in_transit"][: self.dealers].reshape(-1)
        eta_day = np.full(self.cells, np.inf)
        np.minimum.at(eta_day, cells, etas)
        return np.minimum(carried, on_order), eta_day

    def _dispatched_to(self, day: int, state: LiveState) -> IntArray:
        """Dealer cells a consignment left for during ``day``: their alerts have been acted on."""
        found = [
            consignment.to_location * self.skus + consignment.sku
            for consignment in state.consignments.values()
            if 0 <= consignment.to_location < self.dealers and day <= consignment.dispatched_day < day + 1
        ]
        return np.unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)

    def _alerts(
        self, day: int, state: LiveState, inbound: tuple[FloatArray, FloatArray], assess: bool
    ) -> list[dict[str, Any]]:
        book, forecaster = self.alerts, self.forecaster
        assert book is not None and forecaster is not None  # alerts on: the forecaster runs from day one
        book.acted_on(day, self._dispatched_to(day, state))
        records: list[dict[str, Any]] = []
        inbound_units, eta_day = inbound
        if assess:
            raised = self._assess(day, state, inbound_units, eta_day)
            records += self._raised_records(day, state, raised, inbound_units, eta_day)
        columns = book.alerts
        closed = np.flatnonzero(columns["closed_day"] == day)
        codes = self.codes
        for alert in closed.tolist():
            dealer, sku = divmod(int(columns["cell"][alert]), self.skus)
            records.append(
                {
                    "day": day,
                    "kind": "alert_cleared",
                    "alert_id": alert,
                    "dealer_id": codes.dealer_ids[dealer],
                    "part_number": codes.part_numbers[sku],
                    "outcome": AlertOutcome(int(columns["outcome"][alert])).name.lower(),
                    "raised_day": int(columns["raised_day"][alert]),
                }
            )
        return records

    def _assess(self, day: int, state: LiveState, inbound_units: FloatArray, eta_day: FloatArray) -> IntArray:
        """Risk within each horizon of the dealer cells not in a stock-out, as the engine's control tower
        assesses them: a cheap screen, exact risks where they matter, the book raises, flags and clears."""
        book, forecaster = self.alerts, self.forecaster
        assert book is not None and forecaster is not None
        now = day + 1.0  # the end of the closed day: horizons and ETAs count from here
        cells = np.flatnonzero(~self.in_stockout)
        dealer_rows = slice(0, self.dealers)
        on_hand = state.parts["on_hand"][dealer_rows].reshape(-1)
        reserved = state.parts["reserved"][dealer_rows].reshape(-1)
        available = (on_hand[cells] - reserved[cells]).astype(float)
        clear_threshold, risk_threshold = book.clear_threshold, book.risk_threshold
        upper_mean, dispersion, lines_per_year = forecaster.screen(cells)
        longest = float(self.horizons_days[-1])
        bound = exceed_probability_approximate(available, upper_mean * longest, dispersion) + SCREEN_MARGIN
        has_alert = book.open_alert[cells] >= 0
        monitored = lines_per_year >= self.phase_in_lines_per_year
        needs_exact = monitored & (bound >= np.where(has_alert, clear_threshold, risk_threshold))
        keep = needs_exact | has_alert  # open alerts out of reach of the clear level clear with risk 0
        cells, available, dispersion = cells[keep], available[keep], dispersion[keep]
        exact = np.flatnonzero(needs_exact[keep])
        inbound = inbound_units[cells]
        mean_per_day = np.zeros(cells.size)
        mean_per_day[exact] = forecaster.mean_per_day(cells[exact])
        risks = np.zeros((cells.size, self.horizons_days.size))
        eta_days = np.full(cells.size, np.inf)
        eta_days[exact] = eta_day[cells[exact]] - now
        spread = self.dealer_lead_time_sd_days[cells // self.skus]
        levels = (clear_threshold, risk_threshold)

        def risk_of(rows: IntArray, horizons: list[float]) -> FloatArray:
            return stockout_probability(
                available[rows], inbound[rows], eta_days[rows], spread[rows], mean_per_day[rows],
                dispersion[rows], horizons, levels,
            )  # fmt: skip

        risks[exact, -1] = risk_of(exact, [longest])[:, 0]
        # risk grows with the horizon: the shorter ones matter only where the longest reached the threshold
        high = exact[risks[exact, -1] >= risk_threshold]
        risks[high] = risk_of(high, self.horizons_days.tolist())
        rows = np.flatnonzero((risks[:, -1] >= risk_threshold) | (book.open_alert[cells] >= 0))
        expected_day = now + expected_stockout_days(
            available[rows], inbound[rows], eta_days[rows], mean_per_day[rows]
        )
        raised = book.assess(day, cells[rows], risks[rows], expected_day)
        book.expire(day)
        return raised

    def _raised_records(
        self, day: int, state: LiveState, raised: IntArray, inbound_units: FloatArray, eta_day: FloatArray
    ) -> list[dict[str, Any]]:
        book = self.alerts
        assert book is not None
        columns, codes, clock = book.alerts, self.codes, state.clock
        on_hand = state.parts["on_hand"][: self.dealers].reshape(-1)
        reserved = state.parts["reserved"][: self.dealers].reshape(-1)
        records = []
        for alert, severity in zip(raised.tolist(), book.severity(raised), strict=True):
            cell = int(columns["cell"][alert])
            dealer, sku = divmod(cell, self.skus)
            risk = columns["risk"][alert]
            flagged = np.flatnonzero(risk >= book.risk_threshold)
            first = int(flagged[0]) if flagged.size else risk.size - 1
            eta = float(eta_day[cell]) if inbound_units[cell] > 0 else math.inf
            expected = float(columns["expected_stockout_day"][alert])
            records.append(
                {
                    "day": day,
                    "kind": "alert_raised",
                    "alert_id": alert,
                    "dealer_id": codes.dealer_ids[dealer],
                    "part_number": codes.part_numbers[sku],
                    "severity": severity,
                    "horizon_days": int(self.horizons_days[first]),
                    "probability": round(float(risk[first]), 4),
                    "risk_by_horizon": {
                        str(int(horizon)): round(float(value), 4)
                        for horizon, value in zip(self.horizons_days, risk, strict=True)
                    },
                    "on_hand": int(on_hand[cell]),
                    "available": int(on_hand[cell] - reserved[cell]),
                    "inbound_units": int(inbound_units[cell]),
                    "eta": clock.iso(eta) if math.isfinite(eta) else None,
                    "expected_stockout": clock.iso(expected) if math.isfinite(expected) else None,
                }
            )
        return records

    # -- rebalancing --------------------------------------------------------------------------------------
    def parts_view(self, day: int, state: LiveState, inbound_eta_day: FloatArray) -> PartsView:
        """The parts policies' picture of the live network (as ``twin.engine.parts_view`` builds it);
        ``inbound_eta_day``: the earliest ETA per dealer cell."""
        network, operations = self.world.network, self.config.operations
        observed_days = max(self.last_day - self.first_day + 1, 1)
        return PartsView(
            day=day,
            dealer_count=self.dealers,
            on_hand=read_only(state.parts["on_hand"]),
            reserved=read_only(state.parts["reserved"]),
            in_transit=read_only(state.parts["in_transit"]),
            backorder=read_only(state.parts["backorder"]),
            unit_cost_inr=read_only(self.world.parts.unit_cost_inr),
            part_class=read_only(self.world.parts.part_class),
            dealer_dc=read_only(network.dealers.parts_dc),
            history_lines_per_year=read_only(self.observed_lines * 365.0 / observed_days),
            history_units_per_day=read_only(self.observed_units / observed_days),
            dealer_lead_time_days=read_only(self.dealer_lead_time_days),
            supplier_lead_time_days=operations.supplier_lead_time_days,
            dealer_lead_time_sd_days=read_only(self.dealer_lead_time_sd_days),
            inbound_eta_day=read_only(inbound_eta_day.astype(np.float32)),
            forecast=self.forecaster,
        )

    def _parts_transfers(
        self, day: int, state: LiveState, inbound_eta_day: FloatArray
    ) -> list[dict[str, Any]]:
        operations = self.config.operations
        # a planner per cycle: it reads the DCs' daily need from the history once, and the live one grows
        planner = self.transfer_policy.parts_planner(
            self.distance_km,
            self.parts_freight,
            operations.parts_margin_share,
            operations.emergency_charge_per_line_inr,
        )
        # the live service knows the transfers it let through this week, as the engine does
        left = self.rules.transfers_left(self.recent.sum(axis=0))
        view = replace(self.parts_view(day, state, inbound_eta_day), transfers_left_this_week=left)
        recommendations = planner.recommend(view)
        batch = recommendations.batch
        decisions = self._decide(day, batch, recommendations.stock_units, recommendations.floor_units)
        records = self._transfer_records(day, "transfer", batch, decisions)
        parts, sku, codes = state.parts, recommendations.sku, self.codes
        for line, record in enumerate(records):
            item, part = int(batch.item[line]), int(sku[line])
            sender, receiver = int(batch.sender[line]), int(batch.receiver[line])
            record |= {
                "part_number": codes.part_numbers[part],
                "units": int(batch.units[line]),
                "sender_available_units": int(recommendations.stock_units[sender, item]),
                "sender_floor_units": int(recommendations.floor_units[sender, item]),
                "receiver_position_units": int(
                    parts["on_hand"][receiver, part]
                    - parts["reserved"][receiver, part]
                    + parts["in_transit"][receiver, part]
                ),
            }
        return records

    def _vehicle_transfers(self, day: int, state: LiveState) -> list[dict[str, Any]]:
        assert self.vehicle_planner is not None
        view = self.vehicle_view(day, state)
        recommendations = self.vehicle_planner.recommend(view, self._aged_units(day, state))
        batch = recommendations.batch
        decisions = self._decide(day, batch, recommendations.stock_units, recommendations.floor_units)
        records = self._transfer_records(day, "vehicle_transfer", batch, decisions)
        for line, record in enumerate(records):
            record |= {
                "spec_code": self.codes.spec_codes[int(batch.item[line])],
                "vehicles": int(batch.units[line]),
            }
        return records

    def _decide(
        self, day: int, batch: TransferBatch, stock_units: IntArray, floor_units: IntArray
    ) -> TransferDecisions:
        """The OEM policy engine decides every line; transfers it lets through count against the cap."""
        decisions = self.rules.decide(batch, self.opted_in, self.recent.sum(axis=0), stock_units, floor_units)
        through = decisions.action != REJECT
        if through.any():
            sender, receiver = batch.sender[through], batch.receiver[through]
            first, _ = transfer_groups(batch.shipment[through], sender, receiver)
            row = self.recent[day % 7]
            np.add.at(row, sender[first], 1)
            np.add.at(row, receiver[first], 1)
        return decisions

    def _transfer_records(
        self, day: int, kind: str, batch: TransferBatch, decisions: TransferDecisions
    ) -> list[dict[str, Any]]:
        """One record per line, with its transfer's totals (the lines sharing a truck, sender and receiver):
        what the rule sheet judges with ``evaluate_per_transfer`` and what a network manager approves."""
        if len(batch) == 0:
            return []
        _, group = transfer_groups(batch.shipment, batch.sender, batch.receiver)
        totals = {
            name: np.bincount(group, weights=getattr(batch, name))[group]
            for name in ("value_inr", "freight_inr", "benefit_inr")
        }
        codes, records = self.codes, []
        for line in range(len(batch)):
            action = int(decisions.action[line])
            records.append(
                {
                    "day": day,
                    "kind": f"{kind}_rejected" if action == REJECT else f"{kind}_recommended",
                    "from_dealer_id": codes.dealer_ids[int(batch.sender[line])],
                    "to_dealer_id": codes.dealer_ids[int(batch.receiver[line])],
                    "decision": DECISION_NAMES[action],
                    "reason": str(decisions.decider_ids[int(decisions.decider[line])]),
                    "shipment_group": int(batch.shipment[line]),
                    "distance_km": round(float(batch.distance_km[line]), 1),
                    "value_inr": round(float(batch.value_inr[line]), 2),
                    "freight_inr": round(float(batch.freight_inr[line]), 2),
                    "benefit_inr": round(float(batch.benefit_inr[line]), 2),
                    **{f"transfer_{name}": round(float(values[line]), 2) for name, values in totals.items()},
                }
            )
        return records

    # -- vehicles -----------------------------------------------------------------------------------------
    def _vin_columns(self, state: LiveState) -> dict[str, npt.NDArray[Any]]:
        rows = len(state.vehicles)
        return {name: values[:rows] for name, values in state.vehicles.columns.items()}

    def vehicle_view(self, day: int, state: LiveState) -> VehicleView:
        """What the OEM sees of vehicles, from the live VIN table (as ``VehicleFlow.export_view`` counts it)."""
        world, operations = self.world, self.config.operations
        network, specs = world.network, world.specs
        column = self._vin_columns(state)
        status, kind, site, dealer, spec = (
            column["status"], column["site_kind"], column["site_index"], column["dealer"], column["spec"]
        )  # fmt: skip
        spec_count, yards = len(specs), len(network.stockyards)

        def count(mask: npt.NDArray[np.bool_], owner: IntArray, owners: int) -> npt.NDArray[np.int32]:
            table = np.zeros((owners, spec_count), dtype=np.int64)
            np.add.at(table, (owner[mask], spec[mask]), 1)
            return read_only(table.astype(np.int32))

        at_dealer = kind == SiteKind.DEALER
        in_dealer_yard = (status == VehicleStatus.IN_YARD) & at_dealer & (site >= 0)
        # allocated (or ordered by a customer and built) and not yet at its dealer
        on_the_way = np.isin(status, (VehicleStatus.BUILT, VehicleStatus.IN_TRANSIT, VehicleStatus.IN_YARD))
        inbound = on_the_way & (dealer >= 0) & ~at_dealer
        unallocated_in_yard = self._unallocated_in_yard(column)
        pipeline = np.isin(status, (VehicleStatus.BUILT, VehicleStatus.IN_TRANSIT)) & (dealer < 0)
        window = operations.sales_window_days
        delivered = column["delivered_day"]
        sold = (
            (status == VehicleStatus.DELIVERED)
            & (dealer >= 0)
            & (delivered >= day + 1 - window)
            & (delivered < day + 1)
        )
        yard_to_dealer_days = (
            network.yard_to_dealer_km() / network.carriers.speed_km_per_day[network.vehicle_carrier]
            + operations.dc_dispatch_delay_days
        )
        factory_lead_time_days = (
            operations.factory_order_build_days
            + operations.plant_to_stockyard_days
            + yard_to_dealer_days
            + operations.carrier_max_wait_days
        )
        plan = operations.planned_conversion * self.demand.expected_customers_by_spec(
            day + PLAN_LOOKAHEAD_DAYS
        )
        return VehicleView(
            day=day,
            as_of_day=day,
            dealer_stock=count(in_dealer_yard, site, self.dealers),
            dealer_inbound=count(inbound, dealer, self.dealers),
            dealer_sales_28d=count(sold, dealer, self.dealers),
            sales_window_days=window,
            dealer_capacity=read_only(network.dealers.capacity_vehicles),
            dealer_stockyard=read_only(network.dealers.stockyard),
            spec_model=read_only(specs.model),
            spec_variant=read_only(specs.variant),
            spec_colour=read_only(specs.colour),
            yard_stock=count(unallocated_in_yard, site, yards),
            pipeline=read_only(np.bincount(spec[pipeline], minlength=spec_count).astype(np.int32)),
            factory_lead_time_days=read_only(factory_lead_time_days),
            plan_daily_retail=read_only(plan),
            spec_price_inr=read_only(specs.price_inr),
        )

    @staticmethod
    def _unallocated_in_yard(column: dict[str, npt.NDArray[Any]]) -> npt.NDArray[np.bool_]:
        return (
            (column["status"] == VehicleStatus.IN_YARD)
            & (column["site_kind"] == SiteKind.STOCKYARD)
            & (column["site_index"] >= 0)
            & (column["dealer"] < 0)
        )

    def _aged_units(self, day: int, state: LiveState) -> IntArray:
        """Vehicles per dealer x spec in dealer yards longer than the age limit (age counts from the first
        arrival at a dealer, as the engine counts it)."""
        column = self._vin_columns(state)
        in_yard = (
            (column["status"] == VehicleStatus.IN_YARD)
            & (column["site_kind"] == SiteKind.DEALER)
            & (column["site_index"] >= 0)
        )
        aged = in_yard & (
            day + 1.0 - column["received_day"] > self.config.policy.transfers.vehicle_age_limit_days
        )
        table = np.zeros((self.dealers, len(self.world.specs)), dtype=np.int64)
        np.add.at(table, (column["site_index"][aged], column["spec"][aged]), 1)
        return table

    def _allocate(self, day: int, state: LiveState) -> list[dict[str, Any]]:
        """Each stockyard's unallocated VINs over its dealers by the configured policy, on one view of today
        (a dealer belongs to one stockyard, so the yards do not compete)."""
        view = self.vehicle_view(day, state)
        column = self._vin_columns(state)
        waiting = np.flatnonzero(self._unallocated_in_yard(column))
        codes, records = self.codes, []
        yard_ids = codes.site_ids[SiteKind.STOCKYARD]
        for yard in np.unique(column["site_index"][waiting]).tolist():
            rows = waiting[column["site_index"][waiting] == yard]
            rows = rows[
                np.argsort(column["spec"][rows], kind="stable")
            ]  # grouped by spec, as a yard lists them
            specs = column["spec"][rows].astype(np.int64)
            dealers = np.asarray(self.allocation.allocate(view, yard, specs), dtype=np.int64)
            given = dealers >= 0
            pairs = np.stack([dealers[given], specs[given]], axis=1)
            for dealer, spec in np.unique(pairs, axis=0).tolist():
                chosen = rows[given][(pairs[:, 0] == dealer) & (pairs[:, 1] == spec)]
                records.append(
                    {
                        "day": day,
                        "kind": "allocation_proposed",
                        "stockyard_id": yard_ids[yard],
                        "dealer_id": codes.dealer_ids[dealer],
                        "spec_code": codes.spec_codes[spec],
                        "vehicles": int(chosen.size),
                        "vins": [state.vehicles.vins[row] for row in chosen.tolist()],
                    }
                )
        return records

    # -- checkpoint ---------------------------------------------------------------------------------------
    def state_arrays(self) -> dict[str, np.ndarray]:
        """Copies of everything later decisions depend on (numeric arrays only, for an ``.npz``)."""
        arrays: dict[str, np.ndarray] = {
            "days": np.array([self.first_day, self.last_day], dtype=np.int64),
            "in_stockout": self.in_stockout.copy(),
            "observed_lines": self.observed_lines.copy(),
            "observed_units": self.observed_units.copy(),
            "recent_transfers": self.recent.copy(),
        }
        if self.forecaster is not None:
            for name, values in self.forecaster.state_arrays().items():
                arrays[f"forecast_{name}"] = np.array(values, copy=True)
        if self.alerts is not None:
            for name, values in self.alerts.state_arrays().items():
                arrays[f"alerts_{name}"] = np.array(values, copy=True)
        return arrays

    def load_state_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self.first_day, self.last_day = (int(value) for value in arrays["days"])
        self.in_stockout[:] = arrays["in_stockout"]
        self.observed_lines[:] = arrays["observed_lines"]
        self.observed_units[:] = arrays["observed_units"]
        self.recent[:] = arrays["recent_transfers"]
        self.forecaster = None
        if self.runs_forecast and "forecast_state" in arrays:
            self.forecaster = self._cold_forecaster(int(arrays["forecast_day"][1]))
            self.forecaster.load_state_arrays(
                {
                    name[len("forecast_") :]: np.array(values)
                    for name, values in arrays.items()
                    if name.startswith("forecast_")
                }
            )
        if self.alerts is not None and "alerts_open_alert" in arrays:
            self.alerts.load_state_arrays(
                {
                    name[len("alerts_") :]: np.array(values)
                    for name, values in arrays.items()
                    if name.startswith("alerts_")
                }
            )
