"""The read model answers from the state: every table checked against the raw arrays (or the engine's own
objects at the same moment), scoped to one dealer, empty where a section is missing, and loaded from what a
user has at hand with clear errors for anything else."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from tests.helpers.views_world import run_folder
from twin.domain.state import NetworkState
from twin.domain.vehicles import SiteKind, VehicleStatus
from twin.engine.allocation_status import allocation_status
from twin.views import NetworkView, UnknownDealerError, ViewError, ViewLoadError, load_view
from twin.views.loading import latest_state_folder, world_for_state


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory):
    folder, simulation = run_folder(tmp_path_factory.mktemp("views") / "run")
    return folder, simulation


@pytest.fixture(scope="module")
def view(run) -> NetworkView:
    return load_view(run[0])


def test_the_loader_takes_a_run_folder_and_its_state_folder_alike(run, view: NetworkView) -> None:
    folder, simulation = run
    assert view.source == str(folder / "state")
    assert view.day == simulation.config.horizon_days
    assert view.as_of.isoformat() == "2026-01-31"  # 2026-01-01 + 30 days
    again = load_view(folder / "state")
    assert again.dealer_ids == view.dealer_ids
    assert latest_state_folder(folder.parent) == folder / "state"


def test_allocations_are_the_engines_allocation_status_at_the_same_moment(run, view: NetworkView) -> None:
    engine = allocation_status(run[1].vehicles)
    assert len(engine) > 0
    seen = 0
    for dealer_id, expected in engine.groupby("dealer_id"):
        mine = view.allocations(str(dealer_id))
        assert sorted(mine["vin"]) == sorted(expected["vin"])
        joined = mine.set_index("vin").join(expected.set_index("vin"), rsuffix="_engine")
        assert (joined["step"] == joined["step_engine"]).all()
        assert np.allclose(joined["eta_day"], joined["eta_day_engine"], atol=0.011)
        assert [date.isoformat() for date in joined["due_date"]] == list(joined["eta_date"])
        seen += len(mine)
    assert seen == sum(len(view.allocations(dealer)) for dealer in view.dealer_ids)


def test_an_allocation_is_a_car_given_to_the_dealer_and_not_yet_received(view: NetworkView) -> None:
    vehicles = view.state.vehicles
    for dealer_id in view.dealer_ids[:5]:
        index = view.dealer_index(dealer_id)
        for vin in view.allocations(dealer_id)["vin"]:
            row = vehicles.loc[vehicles["vin"] == vin].iloc[0]
            assert row["dealer"] == index
            assert row["status"] not in (VehicleStatus.RESERVED, VehicleStatus.DELIVERED)
            assert not (row["status"] == VehicleStatus.IN_YARD and row["site_kind"] == SiteKind.DEALER
                        and row["site_index"] == index)  # fmt: skip


def test_the_yard_is_the_engines_dealer_yard_plus_sold_cars_awaiting_handover(view: NetworkView) -> None:
    order = np.asarray(view.state.arrays["vehicles:dealer_yard_order"], dtype=np.int64)
    vins = view.state.vehicles["vin"].to_numpy()
    for dealer_id in view.dealer_ids:
        index = view.dealer_index(dealer_id)
        yard = view.yard(dealer_id)
        expected = set(vins[order[order[:, 0] == index, 1]])
        assert set(yard.loc[~yard["reserved"], "vin"]) == expected
        received = view.state.vehicles.set_index("vin").loc[list(yard["vin"]), "received_day"].to_numpy()
        assert np.allclose(yard["age_days"], np.round(view.day - received, 1))
    ages = np.concatenate(
        [view.yard(d).query("not reserved")["age_days"].to_numpy() for d in view.dealer_ids]
    )
    recorded = np.asarray(view.state.arrays["kpis:age_stats"])
    assert view.kpis()["vehicle_aged_share_over_90d"] == pytest.approx((ages > 90).mean())
    assert recorded.size == 3


def test_parts_are_the_dealers_row_of_every_position_array(view: NetworkView) -> None:
    arrays = view.state.arrays
    dealer_id = view.dealer_ids[2]
    index = view.dealer_index(dealer_id)
    parts = view.parts(dealer_id)
    names = ("on_hand", "reserved", "workshop_wip", "in_transit", "backorder")
    held = np.zeros(view.skus, dtype=bool)
    for name in names:
        held |= np.asarray(arrays[f"parts:{name}"])[index] != 0
    assert len(parts) == int(held.sum())
    sku = np.array([view.sku_index(sku_id) for sku_id in parts["sku_id"]])
    for name in names:
        assert (parts[name].to_numpy() == np.asarray(arrays[f"parts:{name}"])[index, sku]).all()
    assert (parts["available"] == parts["on_hand"] - parts["reserved"]).all()
    one = parts.iloc[0]
    assert view.part_position(dealer_id, one["sku_id"])["available"] == one["available"]


def test_arrivals_are_the_dealers_consignment_lines(view: NetworkView) -> None:
    inbound = np.asarray(view.state.arrays["logistics:inbound"]).reshape(-1, 5)
    emergency = np.asarray(view.state.arrays["logistics:emergency_inbound"]).reshape(-1, 5)
    total = 0
    for dealer_id in view.dealer_ids:
        index = view.dealer_index(dealer_id)
        arrivals = view.arrivals(dealer_id)
        expected = inbound[inbound[:, 2] == index, 4].sum() + emergency[emergency[:, 2] == index, 4].sum()
        assert arrivals["units"].sum() == expected
        assert (arrivals["eta_day"] >= view.day).all()
        total += len(arrivals)
    assert total > 0


def test_open_alerts_are_the_towers_open_alerts_of_the_dealers_cells(view: NetworkView) -> None:
    assert view.has("tower")
    open_alert = np.asarray(view.state.arrays["tower:alerts_open_alert"]).reshape(view.dealers, view.skus)
    for dealer_id in view.dealer_ids:
        alerts = view.alerts(dealer_id)
        index = view.dealer_index(dealer_id)
        assert sorted(alerts["alert_id"]) == sorted(open_alert[index][open_alert[index] >= 0])
        for row in alerts.head(3).itertuples():
            position = view.part_position(dealer_id, row.sku_id)
            assert row.available == position["available"]
            assert str(row.available) in row.why
    assert view.kpis()["open_alerts"] == (open_alert >= 0).sum()


def test_the_statement_balance_is_the_sum_of_the_dealers_ledger_lines(view: NetworkView) -> None:
    settlement = view.state.section("settlement")
    account = np.asarray(settlement["journal_line_account"])
    amount = np.asarray(settlement["journal_line_amount_paise"])
    for dealer_id in view.dealer_ids[:6]:
        index = view.dealer_index(dealer_id)
        statement = view.statement(dealer_id)
        assert statement is not None
        assert statement.balance_inr == pytest.approx(amount[account == 5 + index].sum() / 100.0)
        rows = np.flatnonzero(np.asarray(settlement["statements_dealer"]) == index)
        assert statement.last_statement is not None
        assert (
            statement.last_statement["closing_inr"] == settlement["statements_closing_paise"][rows[-1]] / 100
        )
        # the balance is the last statement's closing plus everything posted since it closed
        assert statement.balance_inr == pytest.approx(
            statement.last_statement["closing_inr"] + sum(statement.since_last_close.values())
        )
        assert len(statement.recent_lines) <= 10


def test_claims_are_the_dealers_claims_with_a_reason_for_every_unpaid_one(view: NetworkView) -> None:
    settlement = view.state.section("settlement")
    claims_dealer = np.asarray(settlement["claims_dealer"])
    for dealer_id in view.dealer_ids:
        claims = view.claims(dealer_id)
        assert len(claims) == (claims_dealer == view.dealer_index(dealer_id)).sum()
        assert (claims.loc[claims["status"] == "rejected", "reason"] != "").all()
        assert (claims.loc[claims["status"] == "paid", "reason"] == "").all()


def test_transfers_and_trades_involve_the_dealer_and_another_one(view: NetworkView) -> None:
    kinds = set()
    for dealer_id in view.dealer_ids:
        transfers = view.transfers(dealer_id)
        assert (transfers["counterpart_dealer_id"] != dealer_id).all()
        kinds |= set(transfers["kind"])
    assert "parts" in kinds and "dealer trade" in kinds
    trades = np.asarray(view.state.arrays["orders:trades_on_road"]).reshape(-1, 4)
    vins = view.state.vehicles["vin"].to_numpy()
    for _, receiver, vehicle, _ in trades.astype(np.int64).tolist():
        incoming = view.transfers(view.dealer_ids[receiver])
        assert vins[vehicle] in set(incoming.loc[incoming["direction"] == "in", "vins"])
    # a car is named under one transfer at most, and only one going to the dealer it is now allocated to
    named: list[str] = []
    dealer_of = dict(zip(vins, view.state.vehicles["dealer"].to_numpy(), strict=True))
    for dealer_id in view.dealer_ids:
        transfers = view.transfers(dealer_id)
        incoming = transfers[transfers["direction"] == "in"]
        for cars in incoming["vins"]:
            for vin in str(cars).split():
                named.append(vin)
                assert view.dealer_ids[dealer_of[vin]] == dealer_id
    assert len(named) == len(set(named))


def test_network_availability_offers_other_holders_within_policy_and_only_for_the_item(
    view: NetworkView,
) -> None:
    dealer_id = view.dealer_ids[0]
    model = view.world.specs.model_names[0]
    offers = view.network_availability(dealer_id, model=model)
    assert len(offers) > 0
    assert dealer_id not in set(offers["source_id"])
    radius = float(view.settings.network_search("max_distance_km"))
    dealers = offers[offers["source_kind"] == "dealer"]
    assert (dealers["distance_km"] <= radius + 0.5).all()
    spec_model = dict(
        zip(
            view.world.specs.spec_id,
            np.asarray(view.world.specs.model_names)[view.world.specs.model],
            strict=True,
        )
    )
    assert {spec_model[item] for item in offers["item"]} == {model}
    for row in dealers.itertuples():
        yard = view.yard(row.source_id)
        assert row.units <= ((yard["spec_id"] == row.item) & ~yard["reserved"]).sum()
    sku_id = view.parts(dealer_id)["sku_id"].iloc[0]
    parts = view.network_availability(dealer_id, sku_id=sku_id)
    assert set(parts["item"]) <= {sku_id} and dealer_id not in set(parts["source_id"])
    with pytest.raises(ViewError, match="spec_id"):
        view.network_availability(dealer_id)


def test_vehicle_finds_any_vin_and_none_for_an_unknown_one(view: NetworkView) -> None:
    allocation = view.allocations(view.dealer_ids[1])
    if len(allocation):
        record = view.vehicle(allocation["vin"].iloc[0])
        assert record is not None and record.dealer_id == view.dealer_ids[1]
        assert record.allocation_step == allocation["step"].iloc[0]
        assert record.due_date == allocation["due_date"].iloc[0]
    assert view.vehicle("1HGCM82633A004352") is None


def test_network_wide_views_cover_every_dealer(view: NetworkView) -> None:
    risk = view.dealer_risk()
    assert list(risk["dealer_id"]) == list(view.dealer_ids)
    assert risk["open_alerts"].sum() == view.kpis()["open_alerts"]
    assert risk["vehicles_in_yard"].sum() == view.kpis()["vehicles_in_dealer_yards"]
    assert set(view.recommendations().columns) >= {"sender_id", "receiver_id", "units"}


def test_campaigns_list_the_scenarios_campaigns_covering_the_dealer(view: NetworkView) -> None:
    regions = view.world.network.dealers.region
    for dealer_id in view.dealer_ids:
        campaigns = view.campaigns(dealer_id)
        covered = regions[view.dealer_index(dealer_id)] in ("North", "West")
        assert len(campaigns) == int(covered)
        if covered:
            assert campaigns["status"].iloc[0] == "upcoming"


def test_an_unknown_dealer_is_refused_naming_the_field(view: NetworkView) -> None:
    with pytest.raises(UnknownDealerError, match="dealer_id='D9999'"):
        view.allocations("D9999")


def test_missing_optional_sections_give_empty_tables_and_has_says_so(view: NetworkView) -> None:
    optional = ("tower", "settlement", "transfers", "orders", "campaigns")
    arrays = {key: value for key, value in view.state.arrays.items() if key.split(":")[0] not in optional}
    bare = NetworkView.from_state(dataclasses.replace(view.state, arrays=arrays), view.world, source="bare")
    dealer_id = view.dealer_ids[0]
    assert not any(bare.has(section) for section in optional)
    for method in (bare.alerts, bare.claims, bare.transfers, bare.campaigns):
        assert method(dealer_id).empty
    assert bare.statement(dealer_id) is None
    assert bare.recommendations().empty
    assert len(bare.allocations(dealer_id)) == len(view.allocations(dealer_id))


def test_bad_paths_are_refused_naming_the_path(tmp_path: Path) -> None:
    with pytest.raises(ViewLoadError, match="no such file or folder"):
        load_view(tmp_path / "nowhere")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ViewLoadError, match="is a file"):
        load_view(tmp_path / "notes.txt")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ViewLoadError, match="is not a state folder"):
        load_view(tmp_path / "empty")


def test_a_state_of_another_network_is_refused(run) -> None:
    folder = run[0]
    state = NetworkState.load(folder / "state")
    state.run["network"] = "0" * 16  # as if written on other master data
    with pytest.raises(ViewLoadError, match="another network"):
        world_for_state(state, folder / "state")
