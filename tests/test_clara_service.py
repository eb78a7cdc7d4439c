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
from twin.domain.vin import check_digit
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
            if (
                f"dealer {row.source_id} (" in reply.answer
            ):  # listed: "...km): 1 to spare" or "several to spare"
                listed = reply.answer.split(f"dealer {row.source_id} (", 1)[1].split("): ", 1)[1]
                assert listed.startswith(("1 to spare", "several to spare")), listed
    asked_nothing = _ask(clara, dealer, "network_availability")
    assert asked_nothing.escalation_reason == "data_missing"


def test_transfer_stockout_statement_incentive_and_campaign_answers(view: NetworkView, clara) -> None:
    dealer = _busiest(view, "claims")
    statement = view.statement(dealer)
    assert statement is not None
    reply = _ask(clara, dealer, "statement")
    assert reply.resolved and f"INR {abs(statement.balance_inr):,.2f}".removesuffix(".00") in reply.answer
    claims = view.claims(dealer)
    reply = _ask(clara, dealer, "incentive_status")
    assert f"you have {len(claims)} incentive claim" in reply.answer
    assert f"{int((claims['status'] == 'paid').sum())} paid" in reply.answer
    alerts = view.alerts(dealer)
    reply = _ask(clara, dealer, "stockout_risk")
    assert reply.resolved and (f"{len(alerts)} open stock-out alert" in reply.answer or alerts.empty)
    transfers = view.transfers(dealer)
    reply = _ask(clara, dealer, "transfer_status")
    still_open = transfers[~transfers["status"].isin(["arrived", "awaiting approval"])]
    assert reply.resolved
    assert reply.answer.startswith(f"{still_open['transfer'].nunique()} transfer") or still_open.empty
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
        (transfers["counterpart_dealer_id"] == counterpart)
        & ~transfers["status"].isin(["arrived", "awaiting approval"])
    ]
    assert reply.answer.startswith(f"{with_them['transfer'].nunique()} transfer") or with_them.empty


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


# -- the review's defects: each answer checked against the view's own rows -----------------------------------
def _changed(view: NetworkView, **arrays: np.ndarray) -> NetworkView:
    """The view of the same state with some arrays replaced (keys as ``section__name``)."""
    replaced = {key.replace("__", ":", 1): value for key, value in arrays.items()}
    state = dataclasses.replace(view.state, arrays={**view.state.arrays, **replaced})
    return NetworkView.from_state(state, view.world)


def _clara_on(view: NetworkView) -> tuple[Clara, Scripted]:
    scripted = Scripted()
    return Clara(view, scripted, confidence_threshold=0.4), scripted


def test_an_alert_whose_day_has_passed_is_dated_from_the_stock_left(view: NetworkView) -> None:
    """An alert's expected stock-out day is fixed when it is raised: once gone by with stock still available,
    the answer dates the run-out from available / demand a day (or quotes the alert), never "within a day"."""
    dealer = max(view.dealer_ids, key=lambda d: int((view.alerts(d)["available"] > 0).sum()))
    alerts = view.alerts(dealer)
    assert (alerts["available"] > 0).sum() >= 2
    first, second = alerts[alerts["available"] > 0].iloc[:2].itertuples()
    tower = view.state.section("tower")
    expected = np.asarray(tower["alerts_alert_expected_stockout_day"], dtype=np.float64).copy()
    expected[[first.alert_id, second.alert_id]] = view.state.day - 2  # both alerts' days are gone by
    demand = np.asarray(view.state.arrays["demand_history:units_per_day"], dtype=np.float64).copy()
    dealer_index, second_sku = view.dealer_index(dealer), view.sku_index(second.sku_id)
    demand[dealer_index, second_sku] = 0.0  # no demand: no date to compute, the alert's is quoted
    changed = _changed(
        view, tower__alerts_alert_expected_stockout_day=expected, demand_history__units_per_day=demand
    )
    service, scripted = _clara_on(changed)
    old = changed.alerts(dealer).set_index("sku_id")
    row = old.loc[first.sku_id]
    assert row["expected_stockout_date"] < changed.as_of and row["available"] > 0
    reply = service.ask(dealer, scripted.means("q first", "stockout_risk", sku_id=first.sku_id))
    runs_out = changed.as_of + dt.timedelta(days=int(row["available"] // row["demand_per_day"]))
    assert reply.resolved and "within a day" not in reply.answer
    assert f"expected out about {runs_out.day} {runs_out:%b %Y} at today's demand" in reply.answer
    raised, gone = row["raised_date"], row["expected_stockout_date"]
    assert f"the alert of {raised.day} {raised:%b %Y} expected it by {gone.day} {gone:%b %Y}" in reply.answer
    reply = service.ask(dealer, scripted.means("q second", "stockout_risk", sku_id=second.sku_id))
    row = old.loc[second.sku_id]
    assert row["demand_per_day"] == 0 and "expected out about" not in reply.answer
    gone = row["expected_stockout_date"]
    assert f"expected it by {gone.day} {gone:%b %Y}" in reply.answer and "within a day" not in reply.answer


def test_transfers_are_counted_by_transfer_and_a_proposal_names_no_sender(view: NetworkView) -> None:
    """A rebalancing proposal of eight part lines is one proposal, awaiting the network's approval, and the
    sender it proposes is not named (the network has not decided); open transfers are counted by id."""
    receiver = max(view.dealer_ids, key=lambda d: int((view.transfers(d)["status"] != "arrived").sum()))
    sender = next(
        d
        for d in view.dealer_ids
        if d != receiver and d not in set(view.transfers(receiver)["counterpart_dealer_id"])
    )
    skus = np.arange(8)
    proposal = np.zeros((8, 14))
    proposal[:, 0] = 7  # one awaiting token: one proposal
    proposal[:, 2], proposal[:, 3] = view.dealer_index(sender), view.dealer_index(receiver)
    proposal[:, 4], proposal[:, 5] = skus, skus + 1  # eight part numbers, 36 units
    proposal[:, 10], proposal[:, 12] = 1000.0, view.state.day
    changed = _changed(view, transfers__awaiting=proposal)
    service, scripted = _clara_on(changed)
    transfers = changed.transfers(receiver)
    moving = transfers[~transfers["status"].isin(["arrived", "awaiting approval"])]
    assert (transfers["status"] == "awaiting approval").sum() == 8 and not moving.empty
    reply = service.ask(receiver, scripted.means("receiver asks", "transfer_status"))
    count = moving["transfer"].nunique()
    assert reply.resolved and reply.answer.startswith(f"{count} transfer{'' if count == 1 else 's'} open")
    assert (
        "1 more proposed, awaiting the network's approval: A7 (parts, 8 part numbers, 36 units to you)"
        in (reply.answer)
    )
    assert sender not in reply.answer and f"{count + 8} transfer" not in reply.answer
    reply = service.ask(sender, scripted.means("sender asks", "transfer_status"))
    assert "1 proposed, awaiting the network's approval: A7 (parts, 8 part numbers, 36 units from you)" in (
        reply.answer
    )
    assert receiver not in reply.answer
    # asked about its transfers with the proposed sender, the receiver learns nothing of the proposal
    reply = service.ask(
        receiver, scripted.means("with sender", "transfer_status", dealer_id=sender, role="counterpart")
    )
    assert reply.resolved and "A7" not in reply.answer and "proposed" not in reply.answer


def test_a_vin_now_at_another_dealer_is_answered_from_the_askers_own_claim_or_transfer(
    view: NetworkView, caplog: pytest.LogCaptureFixture
) -> None:
    """The scope check follows the asker's records, not the car's current dealer: its claim on a car now
    elsewhere (claim and VIN questions), its transfer of one (transfer and VIN questions); nothing else."""
    owner = _busiest(view, "claims")
    claim = view.claims(owner).iloc[0]
    asker = next(d for d in view.dealer_ids if d != owner)
    settlement = view.state.section("settlement")
    vehicle = int(np.flatnonzero(view.state.vehicles["vin"].to_numpy() == claim["vin"])[0])
    claims_dealer = np.asarray(settlement["claims_dealer"]).copy()
    row = int(
        np.flatnonzero(
            (claims_dealer == view.dealer_index(owner))
            & (np.asarray(settlement["claims_vehicle"]) == vehicle)
        )[0]
    )
    claims_dealer[row] = view.dealer_index(asker)  # the asker filed it; the car is the owner's
    changed = _changed(view, settlement__claims_dealer=claims_dealer)
    service, scripted = _clara_on(changed)
    assert changed.vehicle(claim["vin"]).dealer_id == owner
    mine = changed.claims(asker)
    mine = mine[mine["vin"] == claim["vin"]].iloc[0]
    reply = service.ask(asker, scripted.means("my claim", "incentive_status", vin=claim["vin"]))
    assert (
        reply.resolved
        and f"filed {mine['filed_date'].day} {mine['filed_date']:%b %Y}: {mine['status']}" in reply.answer
    )
    reply = service.ask(asker, scripted.means("that vin", "vin_status", vin=claim["vin"]))
    assert (
        reply.resolved and "no longer with your dealership" in reply.answer and mine["status"] in reply.answer
    )
    assert owner not in reply.answer  # where the car is now is the owner's business
    foreign = next(vin for vin in changed.yard(owner)["vin"] if vin != claim["vin"] and vin not in set(mine))
    with caplog.at_level(logging.WARNING, logger="twin.clara.audit"):
        refused = [
            service.ask(asker, scripted.means("yard", "vehicle_stock", vin=claim["vin"])),
            service.ask(asker, scripted.means("other claim", "incentive_status", vin=foreign)),
            service.ask(asker, scripted.means("other vin", "vin_status", vin=foreign)),
        ]
    assert [reply.escalation_reason for reply in refused] == ["not_allowed"] * 3
    # a car the dealer sent away by transfer: its transfer question is answered, the car's place is not told
    sent = [
        (dealer, row.transfer, vin)
        for dealer in view.dealer_ids
        for row in view.transfers(dealer).itertuples()
        for vin in str(row.vins).split()
        if row.direction == "out" and view.vehicle(vin).dealer_id != dealer
    ]
    assert sent, "the known state has a car transferred out"
    dealer, transfer, vin = sent[0]
    service, scripted = _clara_on(view)
    reply = service.ask(dealer, scripted.means("my transfer", "transfer_status", vin=vin))
    assert reply.resolved and transfer in reply.answer
    reply = service.ask(dealer, scripted.means("sent vin", "vin_status", vin=vin))
    assert reply.resolved and f"{transfer} to {view.vehicle(vin).dealer_id}" in reply.answer
    assert view.vehicle(vin).place not in reply.answer
    assert (
        service.ask(dealer, scripted.means("claim on it", "incentive_status", vin=vin)).escalation_reason
        == "not_allowed"
    )


_AMOUNT = re.compile(
    r"\b(opening|freight|transfers|incentives|payments|other|closing) ([+-]?)INR ([\d,]+(?:\.\d\d)?)"
)


def _paise(answer: str) -> dict[str, int]:
    """Each named amount of a statement answer, signed, in paise."""
    return {
        name: (-1 if sign == "-" else 1) * round(float(amount.replace(",", "")) * 100)
        for name, sign, amount in _AMOUNT.findall(answer)
    }


def test_a_statement_adds_up_for_every_dealer(view: NetworkView) -> None:
    """Every group of the statement is listed with one sign (+ owed by the dealer): the last statement's
    opening plus its groups is its closing, and that closing plus every group since is the balance now. Also
    on the same state with its last cycle not yet closed, so that payments and the rest fall "since"."""
    settlement = view.state.section("settlement")
    cycles = len(settlement["cycles_close_day"])
    assert cycles >= 2
    keep = np.asarray(settlement["statements_cycle"]) < cycles - 1
    reopened = _changed(
        view,
        **{
            f"settlement__{name}": np.asarray(settlement[name])[:-1]
            for name in settlement
            if name.startswith("cycles_")
        },
        **{
            f"settlement__{name}": np.asarray(settlement[name])[keep]
            for name in settlement
            if name.startswith("statements_")
        },
    )
    moved = 0
    for known in (view, reopened):
        service, scripted = _clara_on(known)
        text = scripted.means("stmt", "statement")
        for dealer in known.dealer_ids:
            statement = known.statement(dealer)
            assert statement is not None
            answer = service.ask(dealer, text).answer
            last, since = answer.split("Since then:")
            closed, movements = _paise(last), _paise(since.split(";")[0])
            assert set(movements) == {"freight", "transfers", "incentives", "payments", "other"}, answer
            groups = sum(value for name, value in closed.items() if name not in ("opening", "closing"))
            assert closed["opening"] + groups == closed["closing"], answer
            now = round(statement.balance_inr * 100)
            assert closed["closing"] + sum(movements.values()) == now, answer
            assert f"= {'-' if now < 0 else '+' if now > 0 else ''}INR" in since
            moved += sum(value != 0 for value in movements.values())
    assert moved > 0  # the reopened state has movements since its last close


def test_an_unknown_part_number_or_description_is_escalated_not_summed_up(view: NetworkView, clara) -> None:
    dealer = view.dealer_ids[0]
    for intent in ("part_stock", "part_eta", "stockout_risk", "network_availability"):
        reply = _ask(clara, dealer, intent, mentions=("P999999",))
        assert reply.escalation_reason == "data_missing" and not reply.resolved, intent
        assert "Part number P999999 is not in the catalog" in reply.answer, intent
        assert "part numbers" not in reply.answer and "consignment" not in reply.answer
    reply = _ask(clara, dealer, "part_stock", mentions=("flux capacitor",))
    assert reply.escalation_reason == "data_missing" and "'flux capacitor'" in reply.answer
    # a dealer named by its city is no part: the dealer's parts position, as without a mention
    city = str(view.world.network.dealers.name[0]).split()[0]
    reply = _ask(clara, dealer, "part_stock", mentions=(f"{city} dealer",))
    assert reply.resolved and "part numbers" in reply.answer


def test_a_refusal_is_logged_with_what_was_probed_and_a_slice_of_the_text(
    view: NetworkView, clara, caplog: pytest.LogCaptureFixture
) -> None:
    service, scripted = clara
    mine, other = view.dealer_ids[0], view.dealer_ids[1]
    foreign_vin = view.yard(other)["vin"].iloc[0]
    text = scripted.means(
        "show me this car\nrefused dealer=D0001 " + "x" * 200, "vin_status", vin=foreign_vin
    )
    with caplog.at_level(logging.WARNING, logger="twin.clara.audit"):
        reply = service.ask(mine, text, question_id="line-7")
        service.ask(mine, scripted.means("their stmt", "statement", dealer_id=other))
    assert reply.escalation_reason == "not_allowed"
    first, second = [record.getMessage() for record in caplog.records if record.name == "twin.clara.audit"]
    assert "\n" not in first and f"dealer={mine} id=line-7 " in first and f"probed=vin={foreign_vin}" in first
    quoted = re.search(r'text="([^"]*)"', first)
    assert quoted and len(quoted.group(1)) <= 80 and quoted.group(1).startswith("show me this car refused")
    assert f"probed=dealer_id={other}" in second and "id=- " in second


def test_a_vin_at_another_dealer_and_a_vin_nowhere_get_the_same_answer(view: NetworkView, clara) -> None:
    """Otherwise a dealer guessing serials learns which VINs exist at other dealers."""
    mine, other = view.dealer_ids[0], view.dealer_ids[1]
    foreign_vin = view.yard(other)["vin"].iloc[0]
    serial = int(foreign_vin[-6:])

    def guessed(step: int) -> str:
        """The foreign VIN with another serial and its check digit made right (what a guesser would do)."""
        body = foreign_vin[:-6] + f"{(serial + step) % 1_000_000:06d}"
        return body[:8] + check_digit(body) + body[9:]

    nowhere = next(guessed(step) for step in range(1, 1000) if view.vehicle(guessed(step)) is None)
    elsewhere, missing = (
        _ask(clara, mine, "vin_status", vin=foreign_vin),
        _ask(clara, mine, "vin_status", vin=nowhere),
    )
    assert (elsewhere.answer, elsewhere.escalation_reason) == (missing.answer, missing.escalation_reason)
    assert elsewhere.escalation_reason == "not_allowed" and foreign_vin not in elsewhere.answer
