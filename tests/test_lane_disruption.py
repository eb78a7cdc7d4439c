"""A partly closed parts lane carries its share of each day's consignment (issue #18 item 3).

Before, the share was applied to every line with ``floor``: at share 0.5 a one-unit line never shipped, so
a half-open lane carried almost nothing of a parts mix made mostly of one-unit lines.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from twin.engine.parts_logistics import PartsLogistics, first_come_within
from twin.engine.streams import RandomStreams


def _cut(dealer, granted, lane_share, seed: int = 0):
    logistics = SimpleNamespace(streams=RandomStreams(seed))
    return PartsLogistics._within_lane_share(
        logistics,  # type: ignore[arg-type]
        np.asarray(dealer, dtype=np.int64),
        np.asarray(granted, dtype=np.int32),
        np.asarray(lane_share, dtype=float),
    )


def test_a_half_open_lane_carries_half_of_its_one_unit_consignments():
    days = 2_000
    logistics = SimpleNamespace(streams=RandomStreams(7))
    shipped = 0
    for _ in range(days):  # one dealer, one one-unit line a day, lane at half capacity
        shipped += int(
            PartsLogistics._within_lane_share(
                logistics,  # type: ignore[arg-type]
                np.array([0]),
                np.array([1], dtype=np.int32),
                np.array([0.5]),
            ).sum()
        )
    standard_error = np.sqrt(days * 0.25)
    assert abs(shipped - days / 2) < 3 * standard_error


def test_the_share_is_of_the_consignment_and_lines_are_filled_in_order():
    # ten one-unit lines to dealer 0 on a half-open lane: five units go, the first five lines
    allowed = _cut([0] * 10, [1] * 10, [0.5])
    assert allowed.tolist() == [1] * 5 + [0] * 5


def test_open_lanes_are_untouched_and_a_closed_lane_carries_nothing():
    allowed = _cut([0, 1, 1, 2], [3, 2, 4, 5], [1.0, 0.0, 1.0])
    assert allowed.tolist() == [3, 0, 0, 5]


def test_first_come_within_fills_each_group_in_list_order():
    allowed = first_come_within(np.array([1, 0, 1, 0, 1]), [4, 3, 4, 3, 4], np.array([6, 5, 6, 5, 6]))
    assert allowed.tolist() == [4, 3, 2, 2, 0]
