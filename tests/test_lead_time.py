"""The lead-time convention (issue #18 item 2): an order placed on day d with lead time L is usable from the
morning of day d + L, whatever time of day d it left; the engine-level check is the known-answer test
(``tests/test_known_answer.py``: a 3-day lead time gives the 3-day lost-sales chain, not 4)."""

from __future__ import annotations

import numpy as np
import pytest

from twin.domain.lead_time import uncovered_demand_days, usable_day, usable_days


def test_a_one_day_lead_time_is_on_the_shelf_the_next_morning_whenever_the_order_left():
    for order_time in (5.0, 5.25, 5.70, 5.75, 5.99):  # start of day, demand, rebalancing, review, late
        assert usable_day(order_time, 1.0) == 6


def test_whole_lead_times_are_exact_and_fractions_round_up_to_whole_days():
    assert usable_day(10.75, 3.0) == 13
    assert usable_day(10.75, 2.0000000001) == 12  # km / speed arithmetic is not a late delivery
    assert usable_day(10.75, 2.2) == 13
    assert usable_day(10.25, 0.2) == 11  # never before the next morning
    assert usable_day(10.25, 0.0) == 11
    np.testing.assert_array_equal(usable_days(10.75, [0.0, 1.0, 1.5, 3.0]), [11, 11, 12, 13])


def test_uncovered_days_average_a_noisy_transit_over_whole_mornings():
    np.testing.assert_allclose(uncovered_demand_days([0.5, 1.0, 1.1, 2.0, 3.0]), [0, 0, 1, 1, 2])
    # a 1.9-day lane with a 0.2-day sd is late past the second morning about 31% of the time
    rng = np.random.default_rng(0)
    draws = rng.normal(1.9, 0.2, 200_000)
    simulated = (np.maximum(1, np.ceil(draws)) - 1).mean()
    assert uncovered_demand_days(1.9, 0.2) == pytest.approx(simulated, abs=0.01)
