"""Alert lifecycle: raised -> acted on -> stocked out / resolved / false alarm, and the figures built on it."""

from __future__ import annotations

import numpy as np

from twin.policies.alerts import AlertBook, AlertOutcome

HORIZONS = [1, 3, 7, 14]


def _book(cells: int = 10) -> AlertBook:
    return AlertBook(cells, HORIZONS, risk_threshold=0.5, clear_threshold=0.2)


def _risk(*values: float) -> np.ndarray:
    return np.array([values])


def test_one_open_alert_per_cell_and_horizons_flag_as_the_risk_rises() -> None:
    book = _book()
    raised = book.assess(10, np.array([4]), _risk(0.1, 0.2, 0.3, 0.6), np.array([22.0]))
    assert raised.tolist() == [0]
    assert book.severity(raised) == ["low"]
    again = book.assess(12, np.array([4]), _risk(0.2, 0.6, 0.7, 0.9), np.array([14.0]))
    assert again.size == 0 and book.alerts.size == 1
    assert book.alerts["flag_day"][0].tolist() == [-1, 12, 12, 10]
    assert book.severity(np.array([0])) == ["high"]


def test_a_stockout_closes_the_alert_as_a_true_alarm_with_its_lead_time() -> None:
    book = _book()
    book.assess(10, np.array([4, 5]), np.array([[0.1, 0.2, 0.6, 0.8], [0.0, 0.0, 0.0, 0.1]]), np.zeros(2))
    assert book.acted_on(11, np.array([4])).tolist() == [0]
    warned_by = book.record_stockouts(15, np.array([4, 5]))
    assert warned_by.tolist() == [0, -1]  # cell 5 had no alert: an unwarned stock-out
    assert book.alerts["outcome"][0] == AlertOutcome.STOCKED_OUT
    assert book.open_alert[4] == -1
    assert book.lead_times(0, 30).tolist() == [5]
    figures = book.kpis(0, 30)
    assert figures["stockouts"] == 2 and figures["stockouts_unwarned"] == 1
    assert figures["alert_precision_7d"] == 1.0  # flagged at 7 days on day 10, out on day 15
    assert np.isnan(figures["alert_precision_1d"])  # never flagged at 1 day
    assert figures["alert_recall_3d"] == 0.0 and figures["alert_recall_7d"] == 0.5
    assert figures["alert_lead_days_mean"] == 5.0
    assert figures["alert_warning_days_per_stockout"] == 2.5  # 5 days for one, none for the unwarned one


def test_an_alert_raised_the_same_day_as_the_stockout_is_not_a_warning() -> None:
    book = _book()
    book.assess(15, np.array([4]), _risk(0.9, 0.9, 0.9, 0.9), np.zeros(1))
    assert book.record_stockouts(15, np.array([4])).tolist() == [-1]
    assert book.alerts["outcome"][0] == AlertOutcome.OPEN


def test_cleared_risk_resolves_acted_alerts_and_marks_the_others_false_alarms() -> None:
    book = _book()
    book.assess(10, np.array([1, 2]), np.array([[0.6] * 4, [0.6] * 4]), np.zeros(2))
    book.acted_on(11, np.array([1]))
    book.assess(13, np.array([1, 2]), np.array([[0.0] * 4, [0.1] * 4]), np.zeros(2))
    assert book.alerts["outcome"].tolist() == [AlertOutcome.RESOLVED, AlertOutcome.FALSE_ALARM]
    assert (book.open_alert == -1).all()


def test_alerts_older_than_the_longest_horizon_expire_and_a_new_one_can_be_raised() -> None:
    book = _book()
    book.assess(0, np.array([3]), _risk(0.6, 0.6, 0.6, 0.6), np.zeros(1))
    assert book.expire(13).size == 0
    assert book.record_stockouts(14, np.array([5])).tolist() == [-1]  # another cell
    assert book.expire(14).tolist() == [0]  # 14 days on: no stock-out within the longest horizon
    assert book.alerts["outcome"][0] == AlertOutcome.FALSE_ALARM
    assert book.record_stockouts(15, np.array([3])).tolist() == [-1]  # too late to count as warned
    assert book.assess(15, np.array([3]), _risk(0.6, 0.6, 0.6, 0.6), np.zeros(1)).tolist() == [1]


def test_a_stockout_on_the_last_day_of_the_horizon_counts_as_warned() -> None:
    book = _book()
    book.assess(0, np.array([3]), _risk(0.1, 0.1, 0.1, 0.6), np.zeros(1))
    assert book.record_stockouts(14, np.array([3])).tolist() == [0]  # demand comes before the evening review
    assert book.lead_times(0, 30).tolist() == [14]


def test_precision_leaves_out_alerts_too_young_to_have_come_true() -> None:
    book = _book()
    book.assess(25, np.array([3]), _risk(0.1, 0.1, 0.6, 0.6), np.zeros(1))
    figures = book.kpis(0, 30)
    assert np.isnan(figures["alert_precision_7d"]) and np.isnan(figures["alert_precision_14d"])


def test_the_book_survives_a_state_round_trip() -> None:
    book = _book()
    book.assess(5, np.array([1, 2, 3]), np.full((3, 4), 0.7), np.zeros(3))
    book.record_stockouts(8, np.array([2]))
    copy = _book()
    copy.load_state_arrays({name: np.array(array) for name, array in book.state_arrays().items()})
    assert copy.kpis(0, 30) == book.kpis(0, 30) or all(
        (a == b) or (np.isnan(a) and np.isnan(b))
        for a, b in zip(copy.kpis(0, 30).values(), book.kpis(0, 30).values(), strict=True)
    )
    assert np.array_equal(copy.open_alert, book.open_alert)
    assert copy.assess(9, np.array([4]), _risk(0.9, 0.9, 0.9, 0.9), np.zeros(1)).tolist() == [3]
