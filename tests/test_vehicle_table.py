"""The VIN registry in columns (``twin.domain.vehicles.VehicleTable``): what the engine relies on when it moves
whole loads at once — lifecycle checks that name the VIN, stamped days, growth without losing a row, the
feed recorder hearing of every change, and the state's VIN table round trip."""

from __future__ import annotations

import numpy as np
import pytest

from twin.domain.state_schema import VEHICLE_COLUMN_NAMES
from twin.domain.vehicles import NOT_YET, SiteKind, VehicleStatus, VehicleTable


def vin_of(spec: int, model_year: int, serial: int) -> str:
    return f"MA1TEST{spec:02d}{model_year % 100:02d}{serial:06d}"


def table_with(count: int, capacity: int = 4) -> VehicleTable:
    table = VehicleTable(vin_maker=vin_of, capacity=capacity)
    specs = np.arange(count, dtype=np.int64) % 3
    table.add(specs, VehicleStatus.ORDERED, SiteKind.PLANT, np.zeros(count, dtype=np.int64), 5.0, 2026,
              np.arange(count, dtype=np.int64))  # fmt: skip
    return table


def test_growing_past_the_capacity_keeps_every_row() -> None:
    table = table_with(3, capacity=2)
    table.move(np.array([0, 1, 2]), VehicleStatus.BUILT, SiteKind.PLANT, 0, 7.0)
    more = table.add(np.array([2, 2, 2, 2, 2]), VehicleStatus.ORDERED, SiteKind.PLANT, 1, 9.0, 2026,
                     np.arange(3, 8))  # fmt: skip
    assert len(table) == 8 and more.tolist() == [3, 4, 5, 6, 7]
    assert table.column("built_day").tolist() == [7.0, 7.0, 7.0, *[NOT_YET] * 5]
    assert table.column("spec").tolist() == [0, 1, 2, 2, 2, 2, 2, 2]
    assert table.vins([0, 7]) == ["MA1TEST0026000000", "MA1TEST0226000007"]


def test_a_batch_move_stamps_its_day_and_arrival_at_a_dealer_stamps_received() -> None:
    table = table_with(4)
    ids = np.array([0, 1, 2, 3])
    table.move(ids, VehicleStatus.BUILT, SiteKind.PLANT, 0, 1.0)
    table.move(ids, VehicleStatus.IN_TRANSIT, SiteKind.ROAD, 2, 3.5)
    table.move(ids[:2], VehicleStatus.IN_YARD, SiteKind.STOCKYARD, 2, 6.0)
    table.move(ids[2:], VehicleStatus.IN_YARD, SiteKind.DEALER, np.array([7, 8]), 6.25)
    assert table.column("shipped_day").tolist() == [3.5] * 4
    assert table.column("received_day").tolist() == [NOT_YET, NOT_YET, 6.25, 6.25]
    assert table.column("site_index").tolist() == [2, 2, 7, 8]
    record = table[3]
    assert (record.status, record.site_kind, record.site_index) == (VehicleStatus.IN_YARD, SiteKind.DEALER, 8)


def test_an_illegal_jump_in_a_batch_names_the_vin_that_cannot_make_it() -> None:
    table = table_with(3)
    table.move(np.array([0, 1]), VehicleStatus.BUILT, SiteKind.PLANT, 0, 1.0)
    with pytest.raises(RuntimeError, match=r"MA1TEST0226000002: ORDERED -> IN_TRANSIT"):
        table.move(np.array([0, 1, 2]), VehicleStatus.IN_TRANSIT, SiteKind.ROAD, 0, 2.0)
    with pytest.raises(RuntimeError, match=r"MA1TEST0226000002: ORDERED -> DELIVERED"):
        table.move(2, VehicleStatus.DELIVERED, SiteKind.CUSTOMER, -1, 2.0)


def test_the_watcher_hears_of_new_rows_moves_and_writes_through_a_record() -> None:
    table = table_with(2)
    heard: list[list[int]] = []
    table.watch = lambda ids: heard.append(ids.tolist())
    table.add(np.array([1]), VehicleStatus.ORDERED, SiteKind.PLANT, 0, 3.0, 2026, np.array([9]))
    table.move(np.array([0, 2]), VehicleStatus.BUILT, SiteKind.PLANT, 0, 4.0)
    table[1].dealer = 5
    assert heard == [[2], [0, 2], [1]]
    assert table.dealer[1] == 5


def test_the_state_table_round_trips_with_its_vin_strings() -> None:
    table = table_with(5)
    table.move(np.array([1, 3]), VehicleStatus.BUILT, SiteKind.PLANT, 0, 2.0)
    frame = table.frame(VEHICLE_COLUMN_NAMES)
    assert list(frame.columns) == list(VEHICLE_COLUMN_NAMES)
    restored = VehicleTable()  # no VIN maker: the saved strings are the VINs
    restored.load_frame(frame)
    again = restored.frame(VEHICLE_COLUMN_NAMES)
    assert again.equals(frame)
    assert restored.vin(4) == table.vin(4)


def test_one_new_vehicle_is_the_row_a_batch_of_one_writes_and_the_watcher_hears_of_it() -> None:
    batch, single = table_with(2, capacity=2), table_with(2, capacity=2)  # the third row grows both tables
    heard: list[list[int]] = []
    single.watch = lambda ids: heard.append(ids.tolist())
    batch.add(np.array([2]), VehicleStatus.ORDERED, SiteKind.PLANT, np.array([1]), 6.5, 2027, np.array([41]))
    vehicle_id = single.add_one(2, VehicleStatus.ORDERED, SiteKind.PLANT, 1, 6.5, 2027, 41)
    assert vehicle_id == 2 and len(single) == 3 and heard == [[2]]
    assert single.frame(VEHICLE_COLUMN_NAMES).equals(batch.frame(VEHICLE_COLUMN_NAMES))
    assert single.vin(2) == "MA1TEST0227000041"


def test_a_group_of_one_is_indexed_by_a_plain_int_and_reads_the_same_values() -> None:
    table = table_with(4)
    one, several = VehicleTable.rows([2]), VehicleTable.rows([3, 1])
    assert one == 2 and type(one) is int and isinstance(several, np.ndarray)
    assert table.values("spec", one) == [2] and table.values("spec", several) == [0, 1]
    table.move(one, VehicleStatus.BUILT, SiteKind.PLANT, 0, 1.5)
    table.move(several, VehicleStatus.BUILT, SiteKind.PLANT, 0, 1.5)
    assert table.values("built_day", VehicleTable.rows([1, 2, 3])) == [1.5, 1.5, 1.5]
    assert all(type(value) is float for value in table.values("built_day", one))
