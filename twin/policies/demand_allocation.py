"""Demand-profile allocation: new vehicles go to the dealers whose demand profile says they will sell them within
the allocation horizon, not pro rata to last month's volume (or to whoever asks loudest).

Per stockyard and cycle, one OR-Tools min-cost flow decides which dealer gets each waiting vehicle:

- a dealer's **sales rate** of a spec is its model rate over the last 28 days times the spec's plan share (one
  sale of a spec in 28 days says little; the model volume does);
- the **k-th extra unit** of a spec at a dealer (after its stock and what is on the way) sells within the horizon
  with probability P(D >= position + k), D Poisson at rate x horizon: it earns the dealer margin then, and costs
  the floor-plan interest of the days it waits (the whole horizon when it does not sell); the values fall with k,
  so the flow takes a dealer's units in order and stops where the next one is worth less than keeping the car
  in the yard for the next cycle (value 0);
- **dealer capacity**: a dealer takes at most its yard capacity minus what it holds and has on the way.

The flow per yard: spec supply -> (dealer, spec) unit arcs of falling value -> dealer (capacity) -> sink, and
spec -> sink for cars that stay. Exact for this separable concave objective (a transportation problem with
unit arcs). Production follows the same plan rule as the baseline, so a comparison isolates the allocation.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow

from twin.config import DemandProfileAllocationConfig, OperationsConfig
from twin.errors import ConfigError
from twin.policies.baseline import ProRataAllocation
from twin.policies.demand_distribution import exceed_probability
from twin.policies.observation import IntArray, VehicleView
from twin.policies.vehicle_rebalancing import VehicleRebalancing

FloatArray = npt.NDArray[np.float64]
_DEFAULTS = DemandProfileAllocationConfig()  # defaults are declared once, in twin.config
_OPERATIONS = OperationsConfig()


def unit_economics(
    view: VehicleView, margin_share: float, floor_plan_rate_per_year: float
) -> tuple[FloatArray, FloatArray]:
    """Per spec: the dealer's margin on a sale, and the floor-plan interest a day of a car at cost (INR)."""
    specs = len(view.spec_model)
    price = np.ones(specs) if view.spec_price_inr is None else np.asarray(view.spec_price_inr)
    return price * margin_share, price * (1.0 - margin_share) * floor_plan_rate_per_year / 365.0


def unit_sale_values(
    position: npt.NDArray[np.generic],
    demand: FloatArray,
    margin: FloatArray,
    holding_per_day: FloatArray,
    horizon_days: float,
    units: int,
    days_before: float = 0.0,
) -> FloatArray:
    """``[..., k]``: what the k-th car beyond ``position`` is worth (INR), for cells of Poisson ``demand`` over
    ``horizon_days``. It sells if demand reaches it, P(D > position + k), earning ``margin``; it costs floor-plan
    interest for ``days_before`` the horizon starts, then about half the horizon if it sells and all of it if
    not. Values fall with k. Shared by demand-profile allocation and campaign positioning."""
    values = np.empty((*position.shape, units))
    flat_demand = demand.ravel()
    for k in range(units):
        ahead = (position + k).ravel().astype(np.float64)
        sells = exceed_probability(ahead, flat_demand, np.ones(flat_demand.size)).reshape(position.shape)
        waited = days_before + horizon_days * (1.0 - 0.5 * sells)
        values[..., k] = margin * sells - holding_per_day * waited
    return values


class DemandProfileAllocation(ProRataAllocation):
    def __init__(
        self,
        target_days_supply: float = _DEFAULTS.target_days_supply,
        horizon_days: float = _DEFAULTS.horizon_days,
        max_units_per_spec: int = _DEFAULTS.max_units_per_spec,
        margin_share: float = _OPERATIONS.vehicle_margin_share,
        floor_plan_rate_per_year: float = _OPERATIONS.floor_plan_rate_per_year,
    ) -> None:
        """``margin_share`` and ``floor_plan_rate_per_year`` are facts of the business, not of the policy: the
        engine passes its ``operations`` values."""
        super().__init__(target_days_supply)
        if not horizon_days > 0:
            raise ConfigError("policy.allocation.horizon_days", horizon_days, "must be > 0")
        if max_units_per_spec < 1:
            raise ConfigError("policy.allocation.max_units_per_spec", max_units_per_spec, "must be >= 1")
        self.horizon_days = horizon_days
        self.margin_share = margin_share
        self.floor_plan_rate_per_year = floor_plan_rate_per_year
        self.max_units_per_spec = max_units_per_spec

    def unit_values(self, view: VehicleView, dealers: IntArray, specs: IntArray) -> FloatArray:
        """``[dealer, spec, k]``: what the k-th extra unit is worth at each dealer over the horizon (INR)."""
        rate = VehicleRebalancing.sales_rate_per_day(view)[np.ix_(dealers, specs)]
        position = (
            view.dealer_stock[np.ix_(dealers, specs)] + view.dealer_inbound[np.ix_(dealers, specs)]
        ).astype(float)
        margin, holding_per_day = unit_economics(view, self.margin_share, self.floor_plan_rate_per_year)
        return unit_sale_values(
            position,
            rate * self.horizon_days,
            margin[specs][None, :],
            holding_per_day[specs][None, :],
            self.horizon_days,
            self.max_units_per_spec,
        )

    def allocate(self, view: VehicleView, yard: int, vehicle_specs: IntArray) -> IntArray:
        dealers = np.flatnonzero(view.dealer_stockyard == yard)
        assignment = np.full(vehicle_specs.size, -1, dtype=np.int64)
        if dealers.size == 0 or vehicle_specs.size == 0:
            return assignment
        specs, supply = np.unique(vehicle_specs, return_counts=True)
        held = view.dealer_stock[dealers].sum(axis=1) + view.dealer_inbound[dealers].sum(axis=1)
        room = np.maximum(np.asarray(view.dealer_capacity)[dealers] - held, 0).astype(np.int64)
        values = self.unit_values(view, dealers, specs)
        units = np.minimum(self.max_units_per_spec, supply)  # no more unit arcs than cars of the spec
        dealer_index, spec_index, k = np.nonzero(
            (values > 0) & (np.arange(self.max_units_per_spec)[None, None, :] < units[None, :, None])
        )
        keep = room[dealer_index] > 0
        if not keep.any():
            return assignment
        # nodes: specs, dealers, sink
        spec_nodes = np.arange(specs.size)
        dealer_nodes = specs.size + np.arange(dealers.size)
        sink = specs.size + dealers.size
        cost_paise = -np.rint(values[dealer_index, spec_index, k] * 100).astype(np.int64)
        solver = min_cost_flow.SimpleMinCostFlow()
        unit_arcs = solver.add_arcs_with_capacity_and_unit_cost(
            spec_nodes[spec_index[keep]],
            dealer_nodes[dealer_index[keep]],
            np.ones(int(keep.sum()), np.int64),
            cost_paise[keep],
        )
        solver.add_arcs_with_capacity_and_unit_cost(
            dealer_nodes, np.full(dealers.size, sink), room, np.zeros(dealers.size, np.int64)
        )
        solver.add_arcs_with_capacity_and_unit_cost(  # cars that stay in the yard for the next cycle
            spec_nodes, np.full(specs.size, sink), supply.astype(np.int64), np.zeros(specs.size, np.int64)
        )
        solver.set_nodes_supplies(
            np.arange(sink + 1),
            np.concatenate([supply.astype(np.int64), np.zeros(dealers.size, np.int64), [-int(supply.sum())]]),
        )
        if solver.solve() != solver.OPTIMAL:
            raise RuntimeError("allocation min-cost flow failed")
        flow = solver.flows(unit_arcs)
        chosen = flow > 0
        target_dealer = dealers[dealer_index[keep][chosen]]
        target_spec = specs[spec_index[keep][chosen]]
        # hand the yard's cars of each spec to the dealers that won them, in the order the yard lists them
        for spec in np.unique(target_spec).tolist():
            cars = np.flatnonzero(vehicle_specs == spec)
            winners = target_dealer[target_spec == spec]
            assignment[cars[: winners.size]] = winners
        return assignment
