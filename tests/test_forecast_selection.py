"""Method selection by in-sample error (``ForecastSettings(selection="error")``, issue 18): the lazily kept
errors equal a day-by-day sum of each method's one-step absolute errors, a series gets the method that
forecast it best so far, and the default (selection by class) is untouched."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from tests.test_forecast_peers import intermittent_panel, observe_panel
from twin.policies.forecasting import DemandClass, ForecastSettings, IntermittentForecaster, Method, Selection

FloatArray = npt.NDArray[np.float64]
BY_ERROR = ForecastSettings(selection=Selection.ERROR)


def dense_errors(demand: FloatArray, settings: ForecastSettings) -> FloatArray:
    """``[series, method]`` sum over days 1.. of |forecast made the evening before - demand|, asking a
    forecaster for every method's forecast every day."""
    forecaster = IntermittentForecaster(demand.shape[0], settings)
    series = np.arange(demand.shape[0])
    errors = np.zeros((demand.shape[0], len(Method)))
    for day in range(demand.shape[1]):
        if day > 0:
            for method in Method:
                errors[:, method] += np.abs(forecaster.method_forecast(method, series) - demand[:, day])
        observe_panel(forecaster, demand, day, day, skip_empty=False)
    return errors


def test_lazy_errors_equal_the_day_by_day_sum_of_one_step_errors() -> None:
    demand = intermittent_panel(120, 150, seed=4)
    demand[:, 60:75] = 0.0  # days without any demand, skipped below: their errors come with the next update
    demand[:, 120:] = 0.0  # a trailing stretch without demand: its errors are pending at the query
    forecaster = IntermittentForecaster(demand.shape[0], BY_ERROR)
    observe_panel(forecaster, demand, 0, 119, skip_empty=True)
    last_day = demand.shape[1] - 1
    forecaster.observe(last_day, np.zeros(0, dtype=np.int64), np.zeros(0))
    expected = dense_errors(demand, ForecastSettings())
    # day 0's forecasts are made before any observation: all zero, an equal error the dense sum leaves out
    on_day_zero = demand[:, 0][:, None]
    ours = forecaster.in_sample_errors(np.arange(demand.shape[0])) - on_day_zero
    np.testing.assert_allclose(ours, expected, rtol=1e-9, atol=1e-9)


def test_each_series_gets_the_method_that_forecast_it_best_unless_its_class_method_ties() -> None:
    demand = intermittent_panel(200, 180, seed=9)
    forecaster = IntermittentForecaster(demand.shape[0], BY_ERROR)
    observe_panel(forecaster, demand, 0, demand.shape[1] - 1, skip_empty=False)
    series = np.arange(demand.shape[0])
    errors = forecaster.in_sample_errors(series)
    class_method = np.array(BY_ERROR.method_by_class)[forecaster.demand_class(series)]
    chosen = forecaster.method(series)
    rows = np.arange(series.size)
    assert (errors[rows, chosen] <= errors[rows, class_method]).all()
    has_class = forecaster.demand_class(series) != DemandClass.NO_DEMAND
    switched = chosen != class_method
    assert switched.any() and (switched <= has_class).all()
    np.testing.assert_allclose(errors[rows, chosen][has_class], errors[has_class].min(axis=1))
    expected = np.array(
        [
            forecaster.method_forecast(Method(method), np.array([index]))[0]
            for index, method in enumerate(chosen)
        ]
    )
    np.testing.assert_allclose(forecaster.mean_per_day(series), expected)


def test_a_level_shift_moves_a_smooth_series_to_the_faster_method() -> None:
    """Demand every day that steps from 2 to 6 a day: SES at 0.05 lags, Croston's size at 0.1 follows
    faster, so selection by error leaves the class's method (seasonal SES) for Croston."""
    demand = np.concatenate([np.full(100, 2.0), np.full(100, 6.0)])[None, :]
    by_class = IntermittentForecaster(1, ForecastSettings())
    by_error = IntermittentForecaster(1, BY_ERROR)
    for forecaster in (by_class, by_error):
        observe_panel(forecaster, demand, 0, demand.shape[1] - 1, skip_empty=False)
    one = np.array([0])
    assert by_class.method(one).tolist() == [Method.SEASONAL_SES]
    assert by_error.method(one).tolist() in ([Method.CROSTON], [Method.TSB])
    assert abs(by_error.mean_per_day(one)[0] - 6.0) < abs(by_class.mean_per_day(one)[0] - 6.0)


def test_the_default_selection_keeps_no_errors_and_snapshots_carry_them_when_kept() -> None:
    demand = intermittent_panel(30, 60, seed=2)
    plain = IntermittentForecaster(30)
    assert plain.errors is None and "errors" not in plain.state_arrays()
    with pytest.raises(ValueError, match="selection=error"):
        plain.in_sample_errors(np.arange(30))
    tracked = IntermittentForecaster(30, BY_ERROR)
    observe_panel(tracked, demand, 0, 59, skip_empty=False)
    restored = IntermittentForecaster(30, BY_ERROR)
    restored.load_state_arrays(tracked.state_arrays())
    np.testing.assert_array_equal(
        restored.in_sample_errors(np.arange(30)), tracked.in_sample_errors(np.arange(30))
    )
    with pytest.raises(ValueError, match="errors"):
        IntermittentForecaster(30, BY_ERROR).load_state_arrays(plain.state_arrays())


def test_an_unknown_selection_is_refused_by_name() -> None:
    assert ForecastSettings(selection="error").selection is Selection.ERROR  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="selection 'best'"):
        ForecastSettings(selection="best")  # type: ignore[arg-type]
