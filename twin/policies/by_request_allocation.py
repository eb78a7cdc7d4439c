"""By-request allocation: the other baseline the issue names. Dealers ask for cars and the OEM fills requests,
so the dealers that ask loudest get the most, whether or not their demand will move the stock.

- A dealer's **request** per model is what it thinks it needs to reach its days-supply target on its own
  trailing sales (target less stock and what is on the way), times its **inflation**: dealers over-ask to
  secure supply. Inflation is ``request_inflation`` for the typical dealer, spread over dealers lognormally
  (``request_inflation_spread``, the sigma); who asks loudly is a trait of the dealer, fixed per network.
- Each yard's cars of a model fill the requests in full when there are enough; otherwise each dealer gets a
  share proportional to its request (largest remainders), never more than its yard room.
- Cars nobody asked for (a model no dealer sold in 28 days, a new launch) are pushed out pro rata, as the
  OEM's sales team would, rather than left in the yard for good.

Production follows the same plan rule as the pro-rata baseline, so a comparison isolates the allocation.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from twin.config import ByRequestAllocationConfig
from twin.errors import ConfigError
from twin.policies.baseline import ProRataAllocation, deal_out
from twin.policies.observation import IntArray, VehicleView

FloatArray = npt.NDArray[np.float64]
_DEFAULTS = ByRequestAllocationConfig()  # defaults are declared once, in twin.config


class ByRequestAllocation(ProRataAllocation):
    def __init__(
        self,
        target_days_supply: float = _DEFAULTS.target_days_supply,
        request_inflation: float = _DEFAULTS.request_inflation,
        request_inflation_spread: float = _DEFAULTS.request_inflation_spread,
        request_seed: int = _DEFAULTS.request_seed,
    ) -> None:
        super().__init__(target_days_supply)
        if not request_inflation >= 1.0:
            raise ConfigError(
                "policy.allocation.request_inflation", request_inflation, "must be >= 1 (an over-ask)"
            )
        if request_seed < 0:
            raise ConfigError("policy.allocation.request_seed", request_seed, "must be >= 0")
        if not request_inflation_spread >= 0.0:
            raise ConfigError(
                "policy.allocation.request_inflation_spread", request_inflation_spread, "must be >= 0"
            )
        self.request_inflation = request_inflation
        self.request_inflation_spread = request_inflation_spread
        self.request_seed = request_seed
        self._inflation: FloatArray | None = None

    def inflation(self, dealers: int) -> FloatArray:
        """Each dealer's over-ask factor (>= 1), drawn once from ``request_seed``: the same in every run."""
        if self._inflation is None or self._inflation.size != dealers:
            noise = np.random.default_rng(self.request_seed).standard_normal(dealers)
            self._inflation = np.maximum(
                self.request_inflation * np.exp(self.request_inflation_spread * noise), 1.0
            )
        return self._inflation

    def requests(self, view: VehicleView, dealers: IntArray) -> IntArray:
        """``[dealer, model]``: cars each dealer asks for this cycle."""
        models = np.asarray(view.spec_model, dtype=np.int64)
        model_count = int(models.max()) + 1

        def by_model(array: npt.NDArray[np.generic]) -> FloatArray:
            total = np.zeros((dealers.size, model_count))
            np.add.at(total.T, models, np.asarray(array)[dealers].T.astype(float))
            return total

        rate = by_model(view.dealer_sales_28d) / view.sales_window_days
        held = by_model(view.dealer_stock) + by_model(view.dealer_inbound)
        need = np.maximum(rate * self.target_days_supply - held, 0.0)
        inflation = self.inflation(len(view.dealer_capacity))[dealers]
        return np.ceil(need * inflation[:, None] - 1e-9).astype(np.int64)

    def allocate(self, view: VehicleView, yard: int, vehicle_specs: IntArray) -> IntArray:
        dealers = np.flatnonzero(view.dealer_stockyard == yard)
        assignment = np.full(vehicle_specs.size, -1, dtype=np.int64)
        if dealers.size == 0 or vehicle_specs.size == 0:
            return assignment
        requests = self.requests(view, dealers)
        held = view.dealer_stock[dealers].sum(axis=1) + view.dealer_inbound[dealers].sum(axis=1)
        room = np.maximum(np.asarray(view.dealer_capacity)[dealers] - held, 0).astype(np.int64)
        models = np.asarray(view.spec_model)
        for model in np.unique(models[vehicle_specs]).tolist():
            vehicles = np.flatnonzero(models[vehicle_specs] == model)
            asked = np.minimum(requests[:, model], room)
            if asked.sum() <= vehicles.size:
                quota = asked
            else:  # short: each dealer gets its share of the requests
                share = asked / asked.sum() * vehicles.size
                quota = np.floor(share).astype(np.int64)
                remainder_order = np.argsort(-(share - quota), kind="stable")
                quota[remainder_order[: vehicles.size - int(quota.sum())]] += 1
            targets = deal_out(dealers, quota)
            assignment[vehicles[: targets.size]] = targets
            np.subtract.at(room, np.searchsorted(dealers, targets), 1)
        unasked = np.flatnonzero(requests.sum(axis=0)[models[vehicle_specs]] == 0)
        if unasked.size:  # pro rata sees what the requests just took
            chosen = assignment >= 0
            after = view.with_allocated(assignment[chosen], vehicle_specs[chosen])
            assignment[unasked] = super().allocate(after, yard, vehicle_specs[unasked])
        return assignment
