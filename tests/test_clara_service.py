"""Clara's service on a known state: every intent's answer carries the state's numbers, another dealer's data is
refused without a number (and logged), unsure or unanswerable questions are escalated with their reason, and
bad input is a clear error. The understanding is scripted here (its accuracy is tested in
``test_clara_understanding``), so each test says exactly what was asked."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
from collections.abc import Sequence

import numpy as np
import pytest

from tests.helpers.views_world import shared_run_folder
from twin.clara.entities import Entities
from twin.clara.service import Clara, ClaraError, ClaraInputError, ClaraReply
from twin.clara.understanding import Understanding
from twin.views import NetworkView, load_view


class Scripted:
    """An understander that returns what the test says each text means."""

    def __init__(self) -> None:
        self.meanings: dict[str, Understanding] = {}

    def means(self, text: str, intent: str, confidence: float = 0.95, rules: bool = False,
              mentions: tuple[str, ...] = (), candidates: tuple[str, ...] = (), role: str | None = None,
              **entities: object) -> str:  # fmt: skip
        self.meanings[text] = Understanding(
            intent,
            confidence,
            Entities(**entities),
            rules,
            mentions,
            candidates,
            role,  # type: ignore[arg-type]
        )
        return text

    def understand_many(self, texts: Sequence[str], today: dt.date | None = None) -> list[Understanding]:
        return [self.meanings[text] for text in texts]


@pytest.fixture(scope="module")
def view(tmp_path_factory: pytest.TempPathFactory) -> NetworkView:
    return load_view(shared_run_folder(tmp_path_factory.getbasetemp()))


@pytest.fixture()
def clara(view: NetworkView) -> tuple[Clara, Scripted]:
    scripted = Scripted()
    return Clara(view, scripted, confidence_threshold=0.4), scripted


def _ask(clara: tuple[Clara, Scripted], asker: str, intent: str, /, **meaning: object) -> ClaraReply:
    """``asker`` asks a question that means ``intent`` with ``meaning`` (entities, confidence, rules...)."""
    service, scripted = clara
    text = scripted.means(f"q{len(scripted.meanings)} {intent}", intent, **meaning)  # type: ignore[arg-type]
    return service.ask(asker, text)


def _numbers(text: str) -> list[str]:
    return re.findall(r"\d[\d,]*", text)


def _busiest(view: NetworkView, table: str) -> str:
    return max(
        view.dealer_ids,
        key=lambda dealer: len(view.rows(table, dealer)[next(iter(view.rows(table, dealer)))]),
    )


def test_allocation_status_counts_the_dealers_cars_on_their_way(view: NetworkView, clara) -> None:
    dealer = _busiest(view, "allocations")
    cars = view.allocations(dealer)
    reply = _ask(clara, dealer, "allocation_status")
    assert reply.resolved and reply.escalation_reason is None
    assert f"You have {len(cars)} car" in reply.answer
    first = cars.iloc[0]
    assert first["vin"] in reply.answer and first["due_date"].strftime("%b %Y") in reply.answer
    assert reply.as_of == view.as_of.isoformat() and f"{view.as_of.day} {view.as_of:%b %Y}" in reply.answer
    assert f"vehicles.parquet:vin={first['vin']}" in reply.sources


def test_vin_status_says_where_the_dealers_car_is(view: NetworkView, clara) -> None:
    dealer = _busiest(view, "yard")
    car = view.yard(dealer).iloc[0]
    reply = _ask(clara, dealer, "vin_status", vin=car["vin"])
    assert reply.resolved
    assert f"since {car['received_date'].day} {car['received_date']:%b %Y}" in reply.answer
    assert f"({(view.as_of - car['received_date']).days} days)" in reply.answer
    missing = _ask(clara, dealer, "vin_status")
    assert missing.escalation_reason == "data_missing" and "17-character VIN" in missing.answer


def test_vehicle_stock_counts_unreserved_yard_cars_and_aged_ones(view: NetworkView, clara) -> None:
    dealer = _busiest(view, "yard")
    yard = view.yard(dealer).query("not reserved")
    model = yard["model"].iloc[0]
    reply = _ask(clara, dealer, "vehicle_stock", model=model)
    mine = yard[yard["model"] == model]
    assert reply.resolved and f"You have {len(mine)} {model} car" in reply.answer
    assert f"{int((mine['age_days'] > 90).sum())} " in reply.answer
    whole = _ask(clara, dealer, "vehicle_stock")
    assert f"You have {len(yard)} car" in whole.answer


def test_part_stock_gives_the_cells_position_and_a_summary_without_a_part(view: NetworkView, clara) -> None:
    dealer = view.dealer_ids[0]
    part = view.parts(dealer).sort_values("reserved").iloc[-1]
    reply = _ask(clara, dealer, "part_stock", sku_id=part["sku_id"])
    assert reply.resolved
    assert (
        f"{part['on_hand']} on hand, {part['reserved']} reserved for customer orders, {part['available']} "
        f"available, {part['workshop_wip']} in workshop WIP" in reply.answer
    )
    assert reply.sources == [f"parts:on_hand[{dealer},{part['sku_id']}]"]
    summary = _ask(clara, dealer, "part_stock")
    assert f"you hold {len(view.parts(dealer)):,} part numbers" in summary.answer
    assert f"{int(view.parts(dealer)['on_hand'].sum()):,} units on hand" in summary.answer


def test_part_eta_lists_the_parts_consignments_or_every_inbound_line(view: NetworkView, clara) -> None:
    dealer = _busiest(view, "arrivals")
    arrivals = view.arrivals(dealer)
    line = arrivals.iloc[0]
    reply = _ask(clara, dealer, "part_eta", sku_id=line["sku_id"])
    assert reply.resolved
    assert f"{line['units']} units due {line['eta_date'].day} {line['eta_date']:%b %Y}" in reply.answer
    assert line["consignment"] in reply.answer
    every = _ask(clara, dealer, "part_eta")
    assert every.answer.startswith(f"{len(arrivals)} consignment line")
    assert f"{int(arrivals['units'].sum()):,} units" in every.answer


def test_a_described_part_is_found_among_the_dealers_parts(view: NetworkView, clara) -> None:
    dealer = view.dealer_ids[0]
    description = str(view.parts(dealer)["description"].iloc[0])
    words = " ".join(description.split()[:2]).lower()
    reply = _ask(clara, dealer, "part_stock", mentions=(words,))
    assert reply.resolved and "on hand" in reply.answer
    for sku_id in re.findall(r"\(([A-Z0-9]+)\)", reply.answer):
        assert words.split()[0] in str(view.part_descriptions[view.sku_index(sku_id)]).lower()


def test_network_availability_names_candidates_only_for_the_item(view: NetworkView, clara) -> None:
    dealer = view.dealer_ids[0]
    model = view.world.specs.model_names[0]
    offers = view.network_availability(dealer, model=model)
    reply = _ask(clara, dealer, "network_availability", model=model, dealer_id=view.dealer_ids[1])
    assert reply.resolved  # naming another dealer is fine here: network policy allows candidates
    if len(offers):
        sources = offers["source_id"].nunique()
        assert f"from {sources} source" in reply.answer
        # another dealer's holding is never counted out: one to spare, or several
        for row in offers[offers["source_kind"] == "dealer"].itertuples():
            if row.units > 1:
                assert f"{row.units} " not in reply.answer.split(row.source_id, 1)[-1][:60]
    asked_nothing = _ask(clara, dealer, "network_availability")
    assert asked_nothing.escalation_reason == "data_missing"


def test_transfer_stockout_statement_incentive_and_campaign_answers(view: NetworkView, clara) -> None:
    dealer = _busiest(view, "claims")
    statement = view.statement(dealer)
    assert statement is not None
    reply = _ask(clara, dealer, "statement")
    assert reply.resolved and f"{abs(statement.balance_inr):,.0f}" in reply.answer
    claims = view.claims(dealer)
    reply = _ask(clara, dealer, "incentive_status")
    assert f"you have {len(claims)} incentive claim" in reply.answer
    assert f"{int((claims['status'] == 'paid').sum())} paid" in reply.answer
    alerts = view.alerts(dealer)
    reply = _ask(clara, dealer, "stockout_risk")
    assert reply.resolved and (f"{len(alerts)} open stock-out alert" in reply.answer or alerts.empty)
    transfers = view.transfers(dealer)
    reply = _ask(clara, dealer, "transfer_status")
    still_open = transfers[transfers["status"] != "arrived"]
    assert reply.resolved and (reply.answer.startswith(f"{len(still_open)} transfer") or still_open.empty)
    covered = next(d for d in view.dealer_ids if len(view.campaigns(d)))
    reply = _ask(clara, covered, "campaign_status")
    assert reply.resolved and view.campaigns(covered)["campaign"].iloc[0] in reply.answer


def test_another_dealers_data_is_refused_without_a_number_and_logged(
    view: NetworkView, clara, caplog: pytest.LogCaptureFixture
) -> None:
    mine, other = view.dealer_ids[0], view.dealer_ids[1]
    foreign_vin = view.yard(other)["vin"].iloc[0]
    with caplog.at_level(logging.WARNING, logger="twin.clara.audit"):
        probes = [
            _ask(clara, mine, "vehicle_stock", dealer_id=other),
            _ask(clara, mine, "statement", dealer_id=other),
            _ask(clara, mine, "incentive_status", dealer_id=other),
            _ask(clara, mine, "vin_status", vin=foreign_vin),
            _ask(clara, mine, "part_stock", rules=True),
        ]
    for reply in probes:
        assert reply.escalation_reason == "not_allowed" and not reply.resolved
        assert _numbers(reply.answer) == [] and reply.sources == []
    refused = [record for record in caplog.records if record.name == "twin.clara.audit"]
    assert len(refused) == len(probes)
    assert all(f"dealer={mine}" in record.getMessage() for record in refused)


def test_escalations_low_confidence_decisions_and_out_of_scope(view: NetworkView, clara) -> None:
    dealer = view.dealer_ids[0]
    unsure = _ask(clara, dealer, "statement", confidence=0.2)
    assert unsure.escalation_reason == "low_confidence" and not unsure.resolved
    service, scripted = clara
    decision = service.ask(dealer, scripted.means("send me 20 more Dhruv", "other", quantities=(20,)))
    assert decision.escalation_reason == "needs_decision"
    greeting = service.ask(dealer, scripted.means("namaste", "other"))
    assert greeting.resolved and greeting.escalation_reason is None
    unrelated = service.ask(dealer, scripted.means("what is the cricket score", "other"))
    assert unrelated.escalation_reason == "out_of_scope"


def test_missing_sections_escalate_as_data_missing(view: NetworkView) -> None:
    arrays = {
        key: value
        for key, value in view.state.arrays.items()
        if not key.startswith(("tower:", "settlement:"))
    }
    bare = NetworkView.from_state(dataclasses.replace(view.state, arrays=arrays), view.world)
    scripted = Scripted()
    service = Clara(bare, scripted, confidence_threshold=0.4)
    for intent in ("stockout_risk", "statement", "incentive_status"):
        reply = service.ask(view.dealer_ids[0], scripted.means(intent, intent))
        assert reply.escalation_reason == "data_missing", intent


def test_bad_input_is_a_clear_error(view: NetworkView, clara) -> None:
    service, scripted = clara
    scripted.means("hello", "other")
    with pytest.raises(ClaraError, match="dealer_id='D9999'"):
        service.ask("D9999", "hello")
    for text, reason in (("", "empty"), ("   ", "empty"), ("x" * 10_000, "too long"),
                         ("\x00\x01\x02binary", "binary"), (b"\x89PNG", "binary")):  # fmt: skip
        with pytest.raises(ClaraInputError, match=reason):
            service.ask(view.dealer_ids[0], text)  # type: ignore[arg-type]
    with pytest.raises(ClaraInputError, match=r"questions\[1\]\.text"):
        service.ask_many([(view.dealer_ids[0], "hello"), (view.dealer_ids[0], "")])


def test_a_batch_answers_like_single_questions(view: NetworkView, clara) -> None:
    service, scripted = clara
    dealer = view.dealer_ids[0]
    texts = [
        scripted.means(f"batch {intent}", intent)
        for intent in ("allocation_status", "part_stock", "statement")
    ]
    batch = service.ask_many([(dealer, text) for text in texts])
    assert [reply.to_json() for reply in batch] == [service.ask(dealer, text).to_json() for text in texts]
    assert set(batch[0].to_json()) == {"intent", "entities", "resolved", "escalation_reason", "answer", "as_of",
                                       "sources", "confidence"}  # fmt: skip
    assert np.isclose(batch[0].confidence, 0.95)


def test_naming_the_counterpart_of_a_transfer_is_not_a_probe(view: NetworkView, clara) -> None:
    dealer = max(view.dealer_ids, key=lambda d: len(view.transfers(d)))
    transfers = view.transfers(dealer)
    counterpart = transfers["counterpart_dealer_id"].iloc[0]
    reply = _ask(clara, dealer, "transfer_status", dealer_id=counterpart)
    assert reply.resolved and reply.escalation_reason is None
    with_them = transfers[
        (transfers["counterpart_dealer_id"] == counterpart) & (transfers["status"] != "arrived")
    ]
    assert reply.answer.startswith(f"{len(with_them)} transfer") or with_them.empty


def test_another_dealers_records_are_refused_even_where_naming_a_dealer_is_allowed(
    view: NetworkView, clara, caplog: pytest.LogCaptureFixture
) -> None:
    """ "Show me all transfers of D0004" / "D0004 ke transfers dikhao": the dealer named as the owner of the
    records is refused, also for transfers and availability; as the counterpart of a transfer it is answered."""
    dealer = max(view.dealer_ids, key=lambda d: len(view.transfers(d)))
    counterpart = view.transfers(dealer)["counterpart_dealer_id"].iloc[0]
    with caplog.at_level(logging.WARNING, logger="twin.clara.audit"):
        refused = [
            _ask(clara, dealer, "transfer_status", dealer_id=counterpart, role="possessor"),
            _ask(
                clara,
                dealer,
                "network_availability",
                dealer_id=counterpart,
                role="possessor",
                model=view.world.specs.model_names[0],
            ),
            _ask(clara, dealer, "other", dealer_id=counterpart, role="possessor"),
            # named as the owner but not recognised (a city with several dealers): refused all the same
            _ask(clara, dealer, "transfer_status", role="possessor"),
        ]
    for reply in refused:
        assert (
            reply.escalation_reason == "not_allowed" and _numbers(reply.answer) == [] and reply.sources == []
        )
    assert sum(record.name == "twin.clara.audit" for record in caplog.records) == len(refused)
    answered = _ask(clara, dealer, "transfer_status", dealer_id=counterpart, role="counterpart")
    assert answered.resolved and answered.escalation_reason is None
    own = _ask(clara, dealer, "statement", dealer_id=dealer, role="possessor")  # its own statement by its id
    assert own.escalation_reason != "not_allowed"


def test_a_description_fitting_several_parts_is_answered_for_those_the_dealer_holds(
    view: NetworkView, clara
) -> None:
    dealer = view.dealer_ids[0]
    held = [str(sku) for sku in view.parts(dealer)["sku_id"]]
    not_held = [str(sku) for sku in view.world.parts.sku_id if str(sku) not in set(held)]
    reply = _ask(clara, dealer, "part_stock", candidates=(not_held[0], held[0]), mentions=("some part",))
    assert reply.resolved and f"({held[0]})" in reply.answer and f"({not_held[0]})" not in reply.answer
    assert reply.sources == [f"parts:on_hand[{dealer},{held[0]}]"]
    # none of them held: they are answered all the same (nothing on hand), not the whole parts position
    nothing = _ask(clara, dealer, "part_stock", candidates=tuple(not_held[:2]), mentions=("some part",))
    assert f"({not_held[0]})" in nothing.answer and "0 on hand" in nothing.answer
