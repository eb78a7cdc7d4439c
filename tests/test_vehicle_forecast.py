"""Vehicle demand forecast: levels and spec mix converge to the demand that generated the customers, and the
risk of running out of a spec is the Poisson tail beyond the yard plus inbound."""

from __future__ import annotations

import numpy as np
from scipy import stats

from twin.policies.vehicle_forecast import VehicleDemandForecaster

SPEC_MODEL = np.array([0, 0, 0, 1, 1])  # two models: three specs and two specs
DEALER_REGION = np.array([0, 0, 1])


def _simulate(days: int, seed: int = 5) -> tuple[VehicleDemandForecaster, np.ndarray, np.ndarray]:
    rate = np.array([[1.2, 0.6], [0.3, 0.9], [2.0, 0.4]])  # customers a day per dealer x model
    mix = np.array([[0.5, 0.3, 0.2, 0.7, 0.3], [0.2, 0.2, 0.6, 0.5, 0.5]])  # per region, within model
    season = np.ones(days + 30)
    forecaster = VehicleDemandForecaster(DEALER_REGION, SPEC_MODEL, season)
    forecaster.prime(0, np.ones((3, 5), dtype=np.int32))
    rng = np.random.default_rng(seed)
    for day in range(days):
        dealers, specs = [], []
        for dealer in range(3):
            for model in range(2):
                count = rng.poisson(rate[dealer, model])
                members = np.flatnonzero(model == SPEC_MODEL)
                weights = mix[DEALER_REGION[dealer], members]
                specs += rng.choice(members, size=count, p=weights / weights.sum()).tolist()
                dealers += [dealer] * count
        forecaster.observe(day, np.array(dealers, dtype=np.int64), np.array(specs, dtype=np.int64))
    return forecaster, rate, mix


def test_levels_and_spec_mix_converge_to_the_generating_demand() -> None:
    forecaster, rate, mix = _simulate(900)
    # SES of Poisson counts: the level's spread is sqrt(alpha / (2 - alpha) x rate); allow four of those
    alpha = forecaster.level_alpha
    spread = np.sqrt(alpha / (2 - alpha) * rate)
    assert (np.abs(forecaster.model_mean_per_day() - rate) <= 4 * spread).all()
    assert np.allclose(forecaster.spec_mix(), mix, atol=0.1)


def test_spec_stockout_risk_is_the_poisson_tail_beyond_yard_plus_inbound() -> None:
    forecaster, _, _ = _simulate(200)
    stock = np.array([[0, 1, 2, 0, 3], [1, 0, 0, 2, 2], [4, 0, 1, 1, 0]])
    inbound = np.array([[1, 0, 0, 0, 0], [0, 0, 1, 0, 0], [0, 2, 0, 0, 0]])
    risks = forecaster.stockout_risk(stock, inbound, [7, 14])
    mean = forecaster.mean_per_day()
    for column, horizon in enumerate((7, 14)):
        assert np.allclose(risks[..., column], stats.poisson.sf(stock + inbound, mean * horizon), atol=1e-10)
    assert (risks[..., 1] >= risks[..., 0]).all()


def test_state_round_trip_continues_identically() -> None:
    forecaster, _, _ = _simulate(60)
    copy = VehicleDemandForecaster(DEALER_REGION, SPEC_MODEL, np.ones(90))
    copy.load_state_arrays(forecaster.state_arrays())
    for model in (forecaster, copy):
        model.observe(60, np.array([0, 2]), np.array([1, 4]))
    assert np.array_equal(copy.mean_per_day(), forecaster.mean_per_day())
