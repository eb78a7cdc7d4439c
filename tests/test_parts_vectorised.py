"""The parts day's vectorised steps decide exactly what their plain definitions decide: the speed-ups of the
demand draw and the replenishment review change no line and no order.

- every demand line lands on the SKU an inverse-CDF search in its dealer's own cumulative rate row gives
  (``searchsorted`` per dealer, as the model is defined), including after supersessions and with SKUs and
  dealers of zero rate;
- a dealer reviews a class on the days its review period divides ``day + dealer``, DCs every day.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import numpy.typing as npt

from tests.helpers.worlds import ROAD_FACTOR, DealerSpec, SkuSpec, tiny_master_data
from twin.domain.parts import PART_CLASSES
from twin.domain.world import build_world
from twin.engine.demand import DemandModel
from twin.policies.baseline import due_for_review
from twin.policies.observation import PartsView

START = dt.date(2026, 1, 5)


def _demand(dealer_activity: list[float], sku_weights: list[float]) -> DemandModel:
    classes = [part_class.name for part_class in PART_CLASSES]
    master = tiny_master_data(
        [DealerSpec(f"D{index}", 50.0 + index, parts_activity=a) for index, a in enumerate(dealer_activity)],
        [
            SkuSpec(f"P{index}", classes[index % len(classes)], weight)
            for index, weight in enumerate(sku_weights)
        ],
    )
    model = DemandModel(parts_lines_per_dealer_day=400.0, seasonality=False)
    model.bind(build_world(master, ROAD_FACTOR), START, np.random.default_rng(11))
    return model


def _searched_per_dealer(
    rate: npt.NDArray[np.float64], counts: npt.NDArray[np.int64], uniforms: npt.NDArray[np.float64]
) -> npt.NDArray[np.int64]:
    """The definition: each dealer's lines, drawn at sorted uniforms, looked up in its cumulative rate row."""
    cumulative = np.cumsum(rate, axis=1)
    skus, start = [], 0
    for dealer, count in enumerate(counts.tolist()):
        row = cumulative[dealer]
        found = np.searchsorted(row, np.sort(uniforms[start : start + count]) * row[-1], side="right")
        skus.append(np.minimum(found, row.size - 1))
        start += count
    return np.concatenate(skus).astype(np.int64)


def test_every_line_lands_on_the_sku_its_dealers_inverse_cdf_gives() -> None:
    rng = np.random.default_rng(3)
    # weights spanning seven orders of magnitude, some zero; one dealer with no parts demand at all
    weights = rng.lognormal(0.0, 3.0, 700) * (rng.random(700) < 0.8)
    weights = (weights / weights.sum()).tolist()
    model = _demand([1.0, 0.0, 2.5, 0.3, 1.0], weights)
    for day in range(12):
        if day == 6:  # demand of superseded numbers rolls up to their successors
            for old_sku, new_sku in ((3, 4), (10, 690), (699, 0)):
                model.supersede(old_sku, new_sku)
        lines = model.parts_lines(day, np.random.default_rng(100 + day))
        replay = np.random.default_rng(100 + day)
        rate = model.parts_rate_lines_per_day
        counts = replay.poisson(np.cumsum(rate, axis=1)[:, -1] * model.parts_season(day))
        uniforms = replay.random(int(counts.sum()))
        np.testing.assert_array_equal(lines.location, np.repeat(np.arange(counts.size), counts))
        np.testing.assert_array_equal(lines.sku, _searched_per_dealer(rate, counts, uniforms))
        assert counts[1] == 0 and (counts[[0, 2, 3, 4]] > 0).all()


def _view(day: int, dealers: int, dcs: int, part_class: npt.NDArray[np.int8]) -> PartsView:
    shape = (dealers + dcs, part_class.size)
    empty = np.zeros(shape, dtype=np.int32)
    return PartsView(
        day=day,
        dealer_count=dealers,
        on_hand=empty,
        reserved=empty,
        in_transit=empty,
        backorder=empty,
        unit_cost_inr=np.ones(part_class.size),
        part_class=part_class,
        dealer_dc=np.zeros(dealers, dtype=np.int64),
        history_lines_per_year=np.zeros((dealers, part_class.size)),
        history_units_per_day=np.zeros((dealers, part_class.size)),
        dealer_lead_time_days=np.ones(dealers),
        supplier_lead_time_days=7.0,
    )


def test_a_dealer_reviews_a_class_when_its_period_divides_day_plus_dealer_and_dcs_review_daily() -> None:
    rng = np.random.default_rng(8)
    dealers, dcs, skus = 37, 3, 120
    part_class = rng.integers(0, len(PART_CLASSES), skus).astype(np.int8)
    period = np.array([c.review_period_days for c in PART_CLASSES])[part_class]
    for day in (0, 1, 6, 13, 29, 364):
        cells = np.sort(rng.choice((dealers + dcs) * skus, 2000, replace=False))
        location, sku = np.divmod(cells, skus)
        expected = ((day + location) % period[sku] == 0) | (location >= dealers)
        np.testing.assert_array_equal(due_for_review(_view(day, dealers, dcs, part_class), cells), expected)
