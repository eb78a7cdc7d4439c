"""Atlas's precomputed tables give exactly what pricing each candidate on its own gives, and a dealer-trade
truck priced in scalars costs exactly what the batch pricing charges it (to the paisa, to the bit)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twin.errors import ConfigError
from twin.policies.network_sourcing import (
    Candidates,
    NetworkGeometry,
    NetworkSourcing,
    PlaceTables,
    Refusal,
    SourceKind,
    SourcingRequest,
    SourcingRules,
    VinInventory,
)
from twin.settlement.payers import FreightCategory
from twin.settlement.rate_cards import RateBook, RateCard
from twin.settlement.transfers import TransferBatch, truck_charges_paise


def reference_candidates(atlas: NetworkSourcing, request: SourcingRequest) -> Candidates:
    """Each candidate priced and refused on its own, reasons written last-reason first (Atlas before its
    per-place tables): what the tables must reproduce bit for bit."""
    inventory, geometry, rules = atlas.inventory, atlas.geometry, atlas.rules
    rows, position = atlas.index.rows_of(np.asarray(request.specs, dtype=np.int64))
    kind_all, site_all = inventory.kind, inventory.site
    from_dealer_all = (kind_all == SourceKind.DEALER_YARD) | (kind_all == SourceKind.IN_TRANSIT)
    dealer_count = geometry.dealer_km.shape[0]
    place_all = np.where(from_dealer_all, site_all, dealer_count + site_all)
    km_to_dealer = np.concatenate([geometry.dealer_km, geometry.yard_to_dealer_km]).T
    spec, site, kind = inventory.spec[rows], inventory.site[rows], kind_all[rows]
    match = np.asarray(request.match, dtype=np.int64)[position]
    from_dealer = from_dealer_all[rows]
    km = km_to_dealer[request.dealer, place_all[rows]]
    travel_days = geometry.dispatch_delay_days + km / geometry.speed_km_per_day
    travel_days = travel_days + np.where(from_dealer, 0.0, geometry.stockyard_wait_days)
    delivery_day = np.maximum(inventory.ready_day[rows], request.day) + travel_days
    load = np.maximum(geometry.minimum_charge_inr, geometry.rate_per_km_inr * km)
    freight = load / geometry.slots_per_load + geometry.handling_fee_inr
    floor_plan = geometry.floor_plan_inr_per_day[spec] * (delivery_day - request.day)
    received = inventory.received_day[rows]
    age = np.where(np.isnan(received), 0.0, request.day - received)
    cost = freight + floor_plan - rules.aged_credit_inr_per_day * np.maximum(age - rules.aged_days, 0.0)
    at_yard = kind == SourceKind.DEALER_YARD
    holder = np.where(from_dealer, site, 0)
    refusal = np.zeros(rows.size, dtype=np.int64)
    refusal[delivery_day - request.day > request.patience_days] = Refusal.TOO_LATE
    last_fast = (
        at_yard
        & (atlas.dealer_stock[holder, spec] <= 1)
        & (atlas.dealer_sales_28d[holder, spec] >= rules.protect_last_unit_sales_28d)
    )
    refusal[last_fast] = Refusal.LAST_UNIT_OF_FAST_SPEC
    refusal[from_dealer & ~atlas.dealer_trades[holder]] = Refusal.HOLDER_DOES_NOT_TRADE
    refusal[from_dealer & (km > rules.max_distance_km)] = Refusal.TOO_FAR
    if atlas.dealer_stockyard is not None:
        refusal[~from_dealer & (site != atlas.dealer_stockyard[request.dealer])] = Refusal.OTHER_STOCKYARD
    not_allowed = (
        ((kind == SourceKind.STOCKYARD) & (not rules.allow_stockyard))
        | ((kind == SourceKind.IN_TRANSIT) & (not rules.allow_in_transit))
        | ((kind == SourceKind.PIPELINE) & (not rules.allow_pipeline))
    )
    refusal[not_allowed] = Refusal.KIND_NOT_ALLOWED
    refusal[at_yard & (site == request.dealer)] = Refusal.SAME_DEALER
    refusal[inventory.reserved[rows]] = Refusal.RESERVED
    rank = np.full(rows.size, -1, dtype=np.int64)
    offered = np.flatnonzero(refusal == Refusal.ACCEPTED)
    order = np.lexsort((cost[offered], np.floor(delivery_day[offered]), match[offered]))
    rank[offered[order]] = np.arange(offered.size)
    return Candidates(
        row=rows, vehicle=inventory.vehicle[rows], spec=spec, match=match, kind=kind, site=site,
        delivery_day=delivery_day, cost_inr=cost, age_days=age, refusal=refusal, rank=rank,
    )  # fmt: skip


def random_atlas(rng: np.random.Generator, fortran_stock: bool) -> NetworkSourcing:
    dealers, stockyards, specs, vins = 7, 2, 5, 120
    points = rng.random((dealers, 2)) * 800.0
    yard_points = rng.random((stockyards, 2)) * 800.0
    geometry = NetworkGeometry(
        dealer_km=np.linalg.norm(points[:, None] - points[None], axis=2),
        yard_to_dealer_km=np.linalg.norm(yard_points[:, None] - points[None], axis=2),
        speed_km_per_day=float(rng.uniform(200, 500)),
        dispatch_delay_days=float(rng.uniform(0, 1)),
        rate_per_km_inr=float(rng.uniform(20, 80)),
        minimum_charge_inr=float(rng.uniform(2000, 20000)),
        slots_per_load=int(rng.integers(4, 10)),
        handling_fee_inr=float(rng.uniform(0, 5000)),
        floor_plan_inr_per_day=rng.uniform(100, 400, specs),
        stockyard_wait_days=float(rng.uniform(0, 3)),
    )
    kind = rng.integers(0, 4, vins)
    site = np.where(
        (kind == SourceKind.DEALER_YARD) | (kind == SourceKind.IN_TRANSIT),
        rng.integers(0, dealers, vins),
        rng.integers(0, stockyards, vins),
    )
    received = np.where(rng.random(vins) < 0.3, np.nan, rng.uniform(0, 100, vins))
    inventory = VinInventory(
        vehicle=rng.permutation(vins).astype(np.int64),
        spec=rng.integers(0, specs, vins),
        kind=kind,
        site=site,
        ready_day=rng.uniform(90, 130, vins),
        received_day=received,
        reserved=rng.random(vins) < 0.15,
    )
    rules = SourcingRules(
        max_distance_km=float(rng.uniform(100, 900)),
        allow_stockyard=bool(rng.random() < 0.7),
        allow_in_transit=bool(rng.random() < 0.5),
        allow_pipeline=bool(rng.random() < 0.7),
        protect_last_unit_sales_28d=int(rng.integers(0, 3)),
        aged_days=float(rng.uniform(0, 60)),
        aged_credit_inr_per_day=float(rng.uniform(0, 200)),
    )
    stock = rng.integers(0, 3, (dealers, specs))
    stock = np.asfortranarray(stock) if fortran_stock else stock
    stockyard_of = rng.integers(0, stockyards, dealers) if rng.random() < 0.7 else None
    return NetworkSourcing(
        inventory,
        geometry,
        rules,
        rng.random(dealers) < 0.6,
        stock,
        rng.integers(0, 4, (dealers, specs)),
        stockyard_of,
    )


def assert_same(got: Candidates, expected: Candidates) -> None:
    for name in Candidates.__dataclass_fields__:
        assert np.array_equal(getattr(got, name), getattr(expected, name)), name


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(seed=st.integers(0, 100_000), fortran_stock=st.booleans())
def test_candidates_from_the_tables_are_those_priced_one_by_one_to_the_bit(seed, fortran_stock):
    rng = np.random.default_rng(seed)
    atlas = random_atlas(rng, fortran_stock)
    specs = rng.permutation(5)[: rng.integers(1, 5)]
    for _ in range(3):
        request = SourcingRequest(
            dealer=int(rng.integers(0, 7)),
            specs=specs,
            match=np.sort(rng.integers(0, 3, specs.size)),
            patience_days=float(rng.uniform(1, 40)),
            day=float(rng.uniform(100, 120)),
        )
        assert_same(atlas.candidates(request), reference_candidates(atlas, request))
        # claims and sales during the day are seen by the next search (the stock is read live)
        atlas.dealer_stock[rng.integers(0, 7), rng.integers(0, 5)] = rng.integers(0, 3)
        atlas.inventory.reserved[rng.integers(0, 120)] = True
        assert_same(atlas.candidates(request), reference_candidates(atlas, request))


def test_a_search_hands_out_views_of_the_days_tables_that_cannot_be_written():
    atlas = random_atlas(np.random.default_rng(4), False)
    spec = int(atlas.inventory.spec[0])
    request = SourcingRequest(0, np.array([spec]), np.array([0]), patience_days=30.0, day=110.0)
    candidates = atlas.candidates(request)
    assert candidates.vehicle.size and not candidates.vehicle.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        candidates.kind[0] = SourceKind.PIPELINE
    assert_same(atlas.candidates(request), reference_candidates(atlas, request))


def test_tables_kept_by_the_caller_are_the_ones_atlas_builds():
    atlas = random_atlas(np.random.default_rng(3), False)
    built = PlaceTables.build(atlas.geometry, atlas.rules, atlas.dealer_stockyard)
    for name in PlaceTables.__dataclass_fields__:
        assert np.array_equal(getattr(built, name), getattr(atlas.places, name)), name


def rate_book(rng: np.random.Generator, versioned: bool) -> RateBook:
    cards = []
    for carrier in range(3):
        starts = [0, 40, 90] if versioned else [0]
        for number, start in enumerate(starts):
            end = starts[number + 1] if number + 1 < len(starts) else -1
            cards.append(
                RateCard(
                    carrier=carrier,
                    version=f"v{number}",
                    valid_from_day=start,
                    valid_to_day=end,
                    rate_per_km_inr=round(float(rng.uniform(20, 90)), 2),
                    minimum_charge_inr=round(float(rng.uniform(1000, 15000)), 2),
                    capacity_per_load=int(rng.integers(4, 10)),
                    fuel_base_price_inr=90.0,
                    fuel_price_inr=round(float(rng.uniform(85, 110)), 2),
                    fuel_pass_through=float(rng.uniform(0, 0.5)) if versioned else 0.0,
                    extra_charge_per_shipment_inr=round(float(rng.uniform(0, 500)), 2) if versioned else 0.0,
                )
            )
    return RateBook(cards, ["a", "b", "c"])


@settings(max_examples=30, deadline=None, derandomize=True, database=None)
@given(seed=st.integers(0, 100_000), versioned=st.booleans())
def test_one_truck_priced_in_scalars_costs_what_the_batch_pricing_charges(seed, versioned):
    rng = np.random.default_rng(seed)
    rates = rate_book(rng, versioned)
    cars = int(rng.integers(1, 12))
    carrier, ship_day = int(rng.integers(0, 3)), int(rng.integers(0, 150))
    distance = rng.uniform(5, 1500, cars)
    batch = TransferBatch.of(
        transfer_id=-1 - np.arange(cars), category=np.full(cars, int(FreightCategory.VEHICLE_TRANSFER)), sender=rng.integers(0, 9, cars),
        receiver=rng.integers(0, 9, cars), carrier=np.full(cars, carrier), truck=np.full(cars, -7),
        ship_day=np.full(cars, ship_day), arrive_day=np.full(cars, ship_day + 2), distance_km=distance,
        volume=np.ones(cars), transfer_price_paise=np.full(cars, 50_000_000),
    )  # fmt: skip
    card = rates.card_of_one(carrier, ship_day)
    share = min(1.0, float(cars) / rates.capacity_per_load[card])
    scalar = rates.load_charge_one_paise(card, max(0.0, *distance.tolist()), share)
    assert card == int(rates.card_of(np.array([carrier]), ship_day)[0])
    assert scalar == int(truck_charges_paise(batch, rates)[1].sum())


def test_a_vin_of_a_spec_the_stock_table_does_not_have_is_refused_by_name():
    atlas = random_atlas(np.random.default_rng(5), False)
    inventory = atlas.inventory
    wrong = VinInventory(
        vehicle=inventory.vehicle, spec=np.where(np.arange(inventory.spec.size) == 3, 9, inventory.spec),
        kind=inventory.kind, site=inventory.site, ready_day=inventory.ready_day,
        received_day=inventory.received_day, reserved=inventory.reserved,
    )  # fmt: skip
    with pytest.raises(ConfigError, match=r"VinInventory\.spec"):
        NetworkSourcing(wrong, atlas.geometry, atlas.rules, atlas.dealer_trades, atlas.dealer_stock,
                        atlas.dealer_sales_28d)  # fmt: skip


def test_with_one_card_per_carrier_a_batch_of_ship_days_finds_each_carrier_its_card():
    rates = rate_book(np.random.default_rng(11), versioned=False)
    carriers, days = np.array([2, 0, 1, 2]), np.array([0, 17, 364, 5])
    assert rates.card_of(carriers, days).tolist() == [2, 0, 1, 2]
    versioned = rate_book(np.random.default_rng(11), versioned=True)
    assert versioned.card_of(carriers, days).tolist() == [
        versioned.card_of_one(int(carrier), int(day)) for carrier, day in zip(carriers, days, strict=True)
    ]
