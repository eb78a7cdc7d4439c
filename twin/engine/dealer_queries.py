"""Dealers' questions as a process in the twin, answered by the regional managers or by Clara (issue #16).

What a planner asks of it: if Clara answered the dealers, how many questions would need no person, how many
answers would be right, how long would dealers wait, and how many manager hours would be left?

Questions. Each day every dealer asks a Poisson number of questions per intent
(``queries.questions_per_dealer_week``) at times spread over its opening hours, about a subject drawn from its
own records at the start of the day (a car on its way, a VIN in its yard, a part it sells, a claim it filed).
Events add questions on the next day (``queries.ask_probability_by_trigger``): a car past its due day ->
``allocation_status``, a customer's part put on backorder -> ``part_eta`` for that part, an incentive claim
rejected -> ``incentive_status`` for that VIN, a dealer-to-dealer transfer to it leaving -> ``transfer_status``
(with ``policy/transfers=rebalancing``). The text is a template of the Clara corpus
(``twin.clara.corpus.templates``) for the true intent, filled with the true subject (its VIN, part number or
model) and made noisy by the corpus's own ``add_noise``. All of it is drawn from the stream ``queries:asked``,
and nothing here writes to any other component's state, so a run with queries on has every other KPI bit for
bit as without them (the answerers draw from ``queries:manager`` and ``queries:reopen``).

Answers and their truth. An answer states a few facts, the same for every answerer (``answer_facts``): for
``allocation_status`` the cars allocated and on their way and the day the next is due, for ``vin_status`` the
step the car is at, ``vehicle_stock`` the cars in the yard, ``part_stock`` on hand, reserved and workshop WIP,
``part_eta`` units in transit and the next consignment's due day, ``statement`` the last statement's close day,
closing position and whether it is paid, ``incentive_status`` the claims and their outcomes, ``transfer_status``
the transfers on their way to the dealer, their units and the first arrival day; ``other`` states
no fact (it needs a person's decision). The truth is the same function over the live state at the moment the
answer is given (``LiveRecords``: a handful of array reads and the dealer's own queues, never a snapshot).
- The regional manager (a FIFO queue per region, ``managers_per_region`` servers, working hours and days in
  IST, lognormal handling time; work stops at closing and resumes next working day) reads the question right
  and answers from the OEM's last weekly picture (``ExportRecords``): the vehicle export (cars in yards and on
  their way, as of ``vehicles.view.as_of_day``; a VIN's step rebuilt from its timestamps as of then) and the
  dealers' parts export taken on ``operations.parts_export_weekday`` (whatever ``parts_visibility`` the rest of
  the run uses: this is what the person has in front of them). Statements, claims and transfers are the
  OEM's own records (``OemRecords``), read live. So an answer is wrong when the picture is stale.
- Clara reads the text with the real ``twin.clara.understanding.Understander`` (one batched call per day, so a
  misread counts) and answers at once from the live state. It escalates, to the same managers' queue, text
  that talks past the rules or names a VIN that is not the dealer's (``not_allowed``), a classifier
  probability below ``CONFIDENCE_THRESHOLD`` (``low_confidence``), ``other`` (``needs_decision``), a subject it
  cannot find (``data_missing``) and an intent whose records this run does not keep (``out_of_scope``).
  Otherwise its answer is the facts of the intent and subject it read, computed live; it is accurate only
  when both are the ones asked (a misread is wrong even where the figures happen to agree).
Why not Clara's own answer code (``twin.clara.service`` over a ``NetworkView``): the view needs a snapshot,
and a snapshot of the default network costs 0.4 s of CPU at day 20 (61k VINs, growing with the VIN table)
against ~200 questions a simulated day: one per question would cost ~80 s a simulated day, one per simulated
hour ~10 s a day and still answer up to an hour stale. So the twin computes the figures an answer states
directly from the running components (their wording is the service's business, not the twin's).
A wrong answer is reopened with ``wrong_answer_reopen_probability`` and joins the managers' queue (once).

KPIs over questions asked after the warm-up: ``queries_autonomous_resolution_rate`` (answered by Clara and not
reopened, over all questions: CALIBRATION.md's definition; ``queries_containment_rate`` is the weaker "Clara
answered"), ``queries_answer_accuracy`` (first answers with facts that equal the truth when given),
``queries_first_response_minutes_median``/``_p90`` (asked to first answer; Clara's hand-over note is not an
answer), ``queries_manager_hours`` and ``queries_escalated_<reason>``. The state section ``queries`` holds the
questions, the managers' queue and the last export pictures, so a snapshot continues exactly.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import re
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt
import simpy

from twin.config import (
    MODELLED_QUERY_INTENTS,
    QUERY_TRIGGERS,
    WEEKDAYS,
    OperationsConfig,
    QueriesConfig,
)
from twin.domain.state_schema import row_table
from twin.domain.vehicles import NOT_YET, SiteKind, VehicleStatus
from twin.domain.world import World
from twin.engine.dealer_transfers import RebalancingFlow
from twin.engine.eventlog import EventLog
from twin.engine.parts_flow import PartsFlow
from twin.engine.parts_logistics import PartsLogistics
from twin.engine.settlement_posting import SettlementFlow
from twin.engine.streams import RandomStreams
from twin.engine.vehicle_flow import VehicleFlow
from twin.settlement.book import SettlementBook
from twin.settlement.incentives import ClaimOutcome

if TYPE_CHECKING:  # the reader is built only when Clara answers (it loads scikit-learn)
    from twin.clara.understanding import Understanding

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

INTENTS = MODELLED_QUERY_INTENTS
#: why Clara hands a question to a person (issue #16), and a dealer coming back after a wrong answer
ESCALATION_REASONS = (
    "not_allowed",
    "needs_decision",
    "out_of_scope",
    "data_missing",
    "low_confidence",
    "reopened",
)
#: a vehicle's step as a dealer is told it
VEHICLE_STEPS = ("ordered", "on_the_way", "at_dealer", "delivered")
#: the hours of a day
HOURS_PER_DAY = 24.0
MINUTES_PER_DAY = 1440.0
#: the day's questions are drawn just after midnight (after the day's customers are sampled); events are
#: looked for after the day's KPIs and exports (d+0.95) and before the campaigns' measurement (d+0.96)
PLAN_OFFSET_DAYS = 0.01
SCAN_OFFSET_DAYS = 0.955
#: intents whose records live in the settlement ledger (out of scope for Clara when it is off)
LEDGER_INTENTS = ("statement", "incentive_status")
#: what the other intents Clara knows need that this run may not keep
RECORDS_NEEDED = {"transfer_status": "transfers", "stockout_risk": "tower", "campaign_status": "campaigns"}
#: template slots that name something other than the question's subject: such templates are not used
_FOREIGN_SLOTS = frozenset({"dealer", "yard", "carrier", "city", "spec", "variant", "colour"})
_HARMLESS_SLOTS = frozenset({"date", "qty"})
_DATE_WORDS = ("12 dec", "5th jan", "kal", "tomorrow", "next week", "friday", "aaj", "monday")
_SLOT = re.compile(r"\{(\w+)\}")

Facts = tuple[Any, ...] | None
#: the slots of a subject (vehicle, sku, model, spec) an intent's answer depends on: Clara must read these
SUBJECT_SLOTS: dict[str, tuple[int, ...]] = {
    "allocation_status": (2, 3), "vin_status": (0,), "vehicle_stock": (2, 3), "part_stock": (1,),
    "part_eta": (1,), "statement": (), "incentive_status": (0,), "other": (), "transfer_status": (),
}  # fmt: skip
#: the OEM's exports are taken at this time of their day (``twin.engine.simulation``: d+0.95)
EXPORT_OFFSET_DAYS = 0.95


# -- the records an answer is read from -------------------------------------------------------------------------
class Records(Protocol):
    """Where an answerer reads a dealer's records: the live state (the truth) or the OEM's last picture."""

    def cars_on_the_way(self, dealer: int, model: int) -> int: ...
    def next_due_day(self, dealer: int, model: int) -> int: ...
    def yard_units(self, dealer: int, model: int) -> int: ...
    def vehicle_step(self, vehicle: int) -> str: ...
    def part_position(self, dealer: int, sku: int) -> tuple[int, int, int]: ...
    def part_inbound(self, dealer: int, sku: int) -> tuple[int, int]: ...
    def statement(self, dealer: int) -> tuple[int, int, bool]: ...
    def claims(self, dealer: int, vehicle: int) -> tuple[tuple[int, str], ...]: ...
    def transfers(self, dealer: int) -> tuple[int, int, int]: ...


def answer_facts(records: Records, intent: str, dealer: int, vehicle: int, sku: int, model: int) -> Facts:
    """The figures an answer to ``intent`` states about the subject (None: the intent states none)."""
    if intent == "allocation_status":
        return (records.cars_on_the_way(dealer, model), records.next_due_day(dealer, model))
    if intent == "vin_status":
        return (records.vehicle_step(vehicle),)
    if intent == "vehicle_stock":
        return (records.yard_units(dealer, model),)
    if intent == "part_stock":
        return records.part_position(dealer, sku)
    if intent == "part_eta":
        return records.part_inbound(dealer, sku)
    if intent == "statement":
        return records.statement(dealer)
    if intent == "incentive_status":
        return records.claims(dealer, vehicle)
    if intent == "transfer_status":
        return records.transfers(dealer)
    return None


class OemRecords:
    """The OEM's own records, read live by every answerer: statements and incentive claims (the settlement
    ledger) and the dealer-to-dealer transfers it ordered."""

    def __init__(self, book: SettlementBook | None, transfers: RebalancingFlow | None, dealers: int) -> None:
        self.book = book
        self.rebalancing = transfers
        self.dealers = dealers

    def transfers(self, dealer: int) -> tuple[int, int, int]:
        """(transfers on their way to the dealer, their units or cars, the day the first arrives; -1: none)."""
        if self.rebalancing is None:
            return (0, 0, -1)
        count = units = 0
        first = -1
        for arrive_day, batches in self.rebalancing.arriving.items():
            for batch in batches:
                mine = batch.receiver == dealer
                if mine.any():
                    count += int(mine.sum())
                    units += int(batch.volume[mine].sum())
                    first = arrive_day if first < 0 else min(first, arrive_day)
        return (count, units, int(first))

    def statement(self, dealer: int) -> tuple[int, int, bool]:
        """(close day, closing position in paise, paid) of the dealer's last statement; (-1, 0, False) before one."""
        if self.book is None or len(self.book.statements) < self.dealers:
            return (-1, 0, False)
        statements = self.book.statements
        row = len(statements) - self.dealers + dealer  # a cycle appends one row per dealer, in dealer order
        return (
            int(statements["close_day"][row]),
            int(statements["closing_paise"][row]),
            bool(statements["paid_day"][row] >= 0),
        )

    def claims(self, dealer: int, vehicle: int) -> tuple[tuple[int, str], ...]:
        """(scheme, outcome) of the dealer's claims on ``vehicle`` (every claim's, by outcome, when -1)."""
        if self.book is None:
            return ()
        claims = self.book.claims
        mine = claims["dealer"] == dealer
        if vehicle >= 0:
            mine &= claims["vehicle"] == vehicle
            rows = np.flatnonzero(mine)
            return tuple(
                sorted(
                    (int(claims["scheme"][row]), ClaimOutcome(int(claims["outcome"][row])).name.lower())
                    for row in rows.tolist()
                )
            )
        outcomes = np.bincount(claims["outcome"][mine] + 1, minlength=len(ClaimOutcome))
        return tuple((int(count), ClaimOutcome(code - 1).name.lower()) for code, count in enumerate(outcomes))


class LiveRecords(OemRecords):
    """The running simulation's own records: what is true now (and what Clara reads)."""

    def __init__(
        self,
        vehicles: VehicleFlow,
        parts: PartsFlow,
        logistics: PartsLogistics,
        settlement: SettlementFlow | None,
        transfers: RebalancingFlow | None,
        world: World,
    ) -> None:
        book = settlement.book if settlement is not None and settlement.enabled else None
        super().__init__(book, transfers, world.dealer_count)
        self.flow = vehicles
        self.parts = parts
        self.logistics = logistics
        self.spec_model = world.specs.model
        self.skus = len(world.parts)

    def _model_specs(self, row: npt.NDArray[np.int32], model: int) -> int:
        return int(
            row.sum(dtype=np.int64) if model < 0 else row[self.spec_model == model].sum(dtype=np.int64)
        )

    def cars_on_the_way(self, dealer: int, model: int) -> int:
        return self._model_specs(self.flow.dealer_inbound[dealer], model)

    def yard_units(self, dealer: int, model: int) -> int:
        return self._model_specs(self.flow.dealer_stock[dealer], model)

    def next_due_day(self, dealer: int, model: int) -> int:
        """The day the first car that has left the plant's trunk is due (-1: none): a car at the stockyard is
        due the lane's transit from now (the earliest it can come), one on a truck at the truck's ETA."""
        due = due_days(self.flow, float(self.flow.env.now), dealer)
        if model >= 0:
            due = [(day, spec) for day, spec in due if self.spec_model[spec] == model]
        return math.floor(min(day for day, _ in due)) if due else -1

    def vehicle_step(self, vehicle: int) -> str:
        car = self.flow.vehicles[vehicle]
        status = car.status
        if status is VehicleStatus.ORDERED:
            return "ordered"
        if status is VehicleStatus.DELIVERED:
            return "delivered"
        if status is VehicleStatus.RESERVED or (
            status is VehicleStatus.IN_YARD and car.site_kind is SiteKind.DEALER
        ):
            return "at_dealer"
        return "on_the_way"

    def part_position(self, dealer: int, sku: int) -> tuple[int, int, int]:
        state = self.parts.state
        return (
            int(state.on_hand[dealer, sku]),
            int(state.reserved[dealer, sku]),
            int(state.workshop_wip[dealer, sku]),
        )

    def part_inbound(self, dealer: int, sku: int) -> tuple[int, int]:
        eta = float(self.logistics.inbound_eta_day[dealer * self.skus + sku])
        return (
            int(self.parts.state.in_transit[dealer, sku]),
            math.floor(eta) if math.isfinite(eta) else -1,
        )


def due_days(flow: VehicleFlow, now: float, dealer: int) -> list[tuple[float, int]]:
    """(due day, spec) of every car for ``dealer`` at a stockyard or on a car carrier."""
    carriers = flow.carriers
    onward = float(carriers.yard_to_dealer_days[dealer])
    vehicles = flow.vehicles
    due: list[tuple[float, int]] = [
        (now + onward, vehicles[vehicle].spec) for vehicle, _ in carriers.dispatch_queue[dealer]
    ]
    for waiting in carriers.loads_waiting:
        if waiting.dealer == dealer:
            due.extend((now + onward, vehicles[vehicle].spec) for vehicle in waiting.vehicles)
    for road_dealer, _, cars, eta, _ in carriers.loads_on_road.values():
        if road_dealer == dealer:
            due.extend((eta, vehicles[vehicle].spec) for vehicle in cars)
    return due


def step_as_of(vehicle: Any, day: float, plant_to_yard_days: float) -> str:
    """A car's step as a picture taken at ``day`` shows it, rebuilt from its timestamps."""
    del plant_to_yard_days  # the coarse steps need no trunk time; kept for a finer picture
    if NOT_YET != vehicle.delivered_day <= day:
        return "delivered"
    if NOT_YET != vehicle.received_day <= day:
        return "at_dealer"
    if NOT_YET != vehicle.built_day <= day:
        return "on_the_way"
    return "ordered"


class ExportRecords(OemRecords):
    """The OEM's last weekly picture, which the regional managers answer from: the vehicle export and the
    dealers' parts export (copied here on the export day), with the cars' due days as of then."""

    def __init__(
        self,
        live: LiveRecords,
        world: World,
        operations: OperationsConfig,
        start_date: dt.date,
    ) -> None:
        super().__init__(live.book, live.rebalancing, world.dealer_count)
        self.live = live
        self.spec_model = world.specs.model
        self.plant_to_yard_days = operations.plant_to_stockyard_days
        dealers, skus = world.dealer_count, len(world.parts)
        self.parts_period_days = operations.parts_export_period_days
        self.first_parts_export_day = (
            WEEKDAYS.index(operations.parts_export_weekday) - start_date.weekday()
        ) % 7
        state = live.parts.state
        #: dealers' parts rows as of the last parts export (the opening position before the first)
        self.part_rows = {
            name: getattr(state, name)[:dealers].copy()
            for name in ("on_hand", "reserved", "workshop_wip", "in_transit")
        }
        self.part_eta_day = live.logistics.inbound_eta_day.reshape(dealers, skus).copy()
        self.parts_as_of_day = -1
        #: (dealer, model) -> first due day, and dealer -> first due day, as of the last vehicle export
        self.due_by_model: dict[tuple[int, int], float] = {}
        self.due_by_dealer: dict[int, float] = {}
        self.vehicles_as_of_day = -2  # not yet taken

    # -- taking the pictures --------------------------------------------------------------------------
    def is_parts_export_day(self, day: int) -> bool:
        since = day - self.first_parts_export_day
        return since >= 0 and since % self.parts_period_days == 0

    def take_parts(self, day: int) -> None:
        state, dealers = self.live.parts.state, len(self.part_eta_day)
        for name, rows in self.part_rows.items():
            np.copyto(rows, getattr(state, name)[:dealers])
        np.copyto(self.part_eta_day, self.live.logistics.inbound_eta_day.reshape(self.part_eta_day.shape))
        self.parts_as_of_day = day

    def take_vehicles(self, day: int, now: float) -> None:
        """The vehicle export landed (``vehicles.view``): keep the due days it implies."""
        flow = self.live.flow
        self.due_by_model, self.due_by_dealer = {}, {}
        for dealer in range(self.dealers):
            for due, spec in due_days(flow, now, dealer):
                key = (dealer, int(self.spec_model[spec]))
                self.due_by_model[key] = min(due, self.due_by_model.get(key, math.inf))
                self.due_by_dealer[dealer] = min(due, self.due_by_dealer.get(dealer, math.inf))
        self.vehicles_as_of_day = day

    # -- reading them ---------------------------------------------------------------------------------
    def _exported(self, name: str, dealer: int, model: int) -> int:
        row = np.asarray(getattr(self.live.flow.view, name))[dealer]
        return int(
            row.sum(dtype=np.int64) if model < 0 else row[self.spec_model == model].sum(dtype=np.int64)
        )

    def cars_on_the_way(self, dealer: int, model: int) -> int:
        return self._exported("dealer_inbound", dealer, model)

    def yard_units(self, dealer: int, model: int) -> int:
        return self._exported("dealer_stock", dealer, model)

    def next_due_day(self, dealer: int, model: int) -> int:
        due = self.due_by_dealer.get(dealer) if model < 0 else self.due_by_model.get((dealer, model))
        return math.floor(due) if due is not None else -1

    def vehicle_step(self, vehicle: int) -> str:
        as_of = self.live.flow.view.as_of_day + EXPORT_OFFSET_DAYS
        return step_as_of(self.live.flow.vehicles[vehicle], as_of, self.plant_to_yard_days)

    def part_position(self, dealer: int, sku: int) -> tuple[int, int, int]:
        rows = self.part_rows
        return (
            int(rows["on_hand"][dealer, sku]),
            int(rows["reserved"][dealer, sku]),
            int(rows["workshop_wip"][dealer, sku]),
        )

    def part_inbound(self, dealer: int, sku: int) -> tuple[int, int]:
        eta = float(self.part_eta_day[dealer, sku])
        return (
            int(self.part_rows["in_transit"][dealer, sku]),
            math.floor(eta) if math.isfinite(eta) else -1,
        )

    # -- state ----------------------------------------------------------------------------------------
    def state_arrays(self) -> dict[str, npt.NDArray[np.generic]]:
        arrays: dict[str, npt.NDArray[np.generic]] = {
            f"export_{name}": rows.copy() for name, rows in self.part_rows.items()
        }
        arrays["export_inbound_eta_day"] = self.part_eta_day.copy()
        arrays["export_as_of_days"] = np.array(
            [self.parts_as_of_day, self.vehicles_as_of_day], dtype=np.int64
        )
        arrays["export_due_days"] = row_table(
            [(dealer, model, due) for (dealer, model), due in sorted(self.due_by_model.items())]
            + [(dealer, -1, due) for dealer, due in sorted(self.due_by_dealer.items())],
            3,
        )
        return arrays

    def load_state_arrays(self, arrays: dict[str, npt.NDArray[np.generic]]) -> None:
        for name, rows in self.part_rows.items():
            np.copyto(rows, arrays[f"export_{name}"])
        np.copyto(self.part_eta_day, arrays["export_inbound_eta_day"])
        self.parts_as_of_day, self.vehicles_as_of_day = (
            int(v) for v in np.asarray(arrays["export_as_of_days"])
        )
        self.due_by_model, self.due_by_dealer = {}, {}
        for dealer, model, due in (
            np.asarray(arrays["export_due_days"], dtype=np.float64).reshape(-1, 3).tolist()
        ):
            if model < 0:
                self.due_by_dealer[int(dealer)] = due
            else:
                self.due_by_model[(int(dealer), int(model))] = due


# -- questions --------------------------------------------------------------------------------------------------
@dataclass(slots=True)
class Question:
    """One dealer question, from being asked to its last answer. Subjects are engine ids, -1 when not named."""

    number: int
    asked_day: float
    dealer: int
    intent: int
    #: -1 for a question of the base rate, else its index in ``QUERY_TRIGGERS``
    trigger: int
    vehicle: int
    sku: int
    model: int
    text: str
    #: -1 not escalated, else the index in ``ESCALATION_REASONS`` of why Clara handed it over
    escalation: int = -1
    clara_answered: bool = False
    first_answer_day: float = math.nan
    #: 1 right, 0 wrong, -1 states no fact
    first_answer_accurate: int = -1
    reopened: bool = False
    manager_minutes: float = 0.0
    #: answered for good (no answer pending)
    closed: bool = False

    FIELDS = (
        "number", "asked_day", "dealer", "intent", "trigger", "vehicle", "sku", "model", "escalation",
        "clara_answered", "first_answer_day", "first_answer_accurate", "reopened", "manager_minutes", "closed",
    )  # fmt: skip

    def row(self) -> list[float]:
        return [float(getattr(self, name)) for name in self.FIELDS]


class Reader(Protocol):
    """Clara's reading of dealers' texts (``twin.clara.understanding.Understander``)."""

    def understand_many(
        self, texts: Sequence[str], today: dt.date | None = None
    ) -> Sequence[Understanding]: ...


class WorkingHours:
    """The managers' calendar: working windows of ``[opens, closes)`` hours on working weekdays (IST days)."""

    def __init__(
        self, opens_hour: float, closes_hour: float, weekdays: Sequence[str], start_date: dt.date
    ) -> None:
        self.opens = opens_hour / HOURS_PER_DAY
        self.closes = closes_hour / HOURS_PER_DAY
        working = {WEEKDAYS.index(name) for name in weekdays}
        self.working = [(start_date.weekday() + offset) % 7 in working for offset in range(7)]

    def works_on(self, day: int) -> bool:
        return self.working[day % 7]

    def is_open(self, time_days: float) -> bool:
        day = math.floor(time_days)
        return self.works_on(day) and self.opens <= time_days - day < self.closes

    def next_open(self, time_days: float) -> float:
        """``time_days`` if the managers work then, else when they next start."""
        day = math.floor(time_days)
        if self.works_on(day) and time_days - day < self.closes:
            return max(time_days, day + self.opens)
        day += 1
        while not self.works_on(day):
            day += 1
        return day + self.opens

    def after_working(self, start: float, minutes: float) -> float:
        """When work of ``minutes`` started at ``start`` (open) ends, paused outside working hours."""
        remaining = minutes / MINUTES_PER_DAY
        while True:
            start = self.next_open(start)
            closing = math.floor(start) + self.closes
            if start + remaining <= closing:
                return start + remaining
            remaining -= closing - start
            start = math.floor(start) + 1.0  # the next morning (next_open skips days off)


#: every HELD_OUT_EVERY-th template of each (intent, subject) group, the first included, is kept out of the
#: twin's Clara training and is the only phrasing the twin's dealers write: Clara is measured on phrasings it
#: never learnt (it scored 99.8% on its own training phrasings, about 87% on held-out ones)
HELD_OUT_EVERY = 3


def writer_groups(templates: Mapping[str, Sequence[str]]) -> dict[tuple[str, str], list[str]]:
    """The templates the twin can fill, by (intent, subject kind): none, vin, model, part or part_model."""
    groups: dict[tuple[str, str], list[str]] = {}
    for intent in INTENTS:
        for template in templates.get(intent, ()):
            slots = set(_SLOT.findall(template))
            if slots & _FOREIGN_SLOTS:
                continue
            subject = slots - _HARMLESS_SLOTS
            if not subject:
                kind = "none"
            elif subject == {"vin"}:
                kind = "vin"
            elif subject == {"model"}:
                kind = "model"
            elif subject <= {"part", "partno", "model"} and subject & {"part", "partno"}:
                kind = "part_model" if "model" in subject else "part"
            else:
                continue
            groups.setdefault((intent, kind), []).append(template)
    return groups


def held_out_templates(templates: Mapping[str, Sequence[str]]) -> frozenset[str]:
    """The phrasings the twin's dealers use and the twin's Clara is not trained on."""
    return frozenset(
        template
        for group in writer_groups(templates).values()
        for position, template in enumerate(group)
        if position % HELD_OUT_EVERY == 0
    )


_READERS: dict[str, Reader] = {}


def twin_reader(world: World) -> Reader:
    """Clara's understanding for the twin: the real extraction and classifier, trained on the corpus without
    the held-out phrasings (cached per process and network)."""
    from twin.clara import corpus
    from twin.clara.classifier import CORPUS_COPIES, CORPUS_SEED, IntentClassifier, corpus_digest
    from twin.clara.corpus.templates import TEMPLATES
    from twin.clara.entities import EntityExtractor
    from twin.clara.understanding import Understander
    from twin.clara.vocabulary import Vocabulary

    vocabulary = Vocabulary.from_world(world)
    key = f"{corpus_digest()}-{vocabulary.digest()}-{HELD_OUT_EVERY}"
    reader = _READERS.get(key)
    if reader is None:
        held_out = held_out_templates(TEMPLATES)
        training = {
            intent: tuple(template for template in phrasings if template not in held_out)
            for intent, phrasings in TEMPLATES.items()
        }
        extractor = EntityExtractor(vocabulary)
        pairs = corpus.generate(vocabulary, seed=CORPUS_SEED, copies=CORPUS_COPIES, templates=training)
        classifier = IntentClassifier.train(
            [extractor.extract(text).masked_text for text, _ in pairs], [intent for _, intent in pairs]
        )
        reader = _READERS[key] = Understander(vocabulary, classifier=classifier)
    return reader


class QuestionWriter:
    """A question's text: a held-out corpus template of its intent naming its subject, with a dealer's typing
    noise (``held_out_templates``: the twin's Clara never trained on these phrasings)."""

    def __init__(self, world: World) -> None:
        from twin.clara.corpus import add_noise
        from twin.clara.corpus.templates import TEMPLATES
        from twin.clara.vocabulary import Vocabulary

        self.add_noise = add_noise
        vocabulary = Vocabulary.from_world(world)
        self.model_names = [str(name) for name in world.specs.model_names]
        parts = vocabulary.parts
        self.part_number = [entry.part_number or entry.sku_id for entry in parts]
        self.part_phrase = [
            entry.description.lower() if "#" not in entry.description else "" for entry in parts
        ]
        #: the models each part fits: a template naming a model and a part names one the part fits
        self.part_fits = [entry.fits_models for entry in parts]
        held_out = held_out_templates(TEMPLATES)
        self.templates: dict[tuple[str, str], list[str]] = {
            group: [template for template in members if template in held_out]
            for group, members in writer_groups(TEMPLATES).items()
        }

    def write(self, intent: str, vin: str, sku: int, model: int, rng: random.Random) -> str:
        """The text of a question of ``intent`` about ``vin``, ``sku`` or ``model`` (empty / -1: none)."""
        kind = "vin" if vin else "part" if sku >= 0 else "model" if model >= 0 else "none"
        templates = list(self.templates.get((intent, kind), ()))
        if kind == "part" and self.part_fits[sku]:
            templates += self.templates.get((intent, "part_model"), [])
        if not templates:
            raise ValueError(f"the Clara corpus has no template for intent {intent!r} naming a {kind}")
        template = rng.choice(templates)
        if model >= 0:
            model_name = self.model_names[model]
        elif sku >= 0 and self.part_fits[sku]:
            model_name = rng.choice(self.part_fits[sku])
        else:
            model_name = ""  # no template without a subject model names one
        values = {
            "vin": vin if rng.random() < 0.8 else vin.lower(),
            "partno": self.part_number[sku] if sku >= 0 else "",
            "part": (self.part_phrase[sku] or self.part_number[sku]) if sku >= 0 else "",
            "model": rng.choice((model_name, model_name.lower())),
            "date": rng.choice(_DATE_WORDS),
            "qty": str(rng.randint(1, 20)),
        }
        return str(self.add_noise(_SLOT.sub(lambda match: values[match.group(1)], template), rng))


# -- the component ----------------------------------------------------------------------------------------------
class DealerQueries:
    """The questions process, its two answerers and their KPIs (see the module docstring)."""

    def __init__(
        self,
        clock: simpy.Environment,
        settings: QueriesConfig,
        operations: OperationsConfig,
        world: World,
        start_date: dt.date,
        horizon_days: int,
        warmup_days: int,
        vehicles: VehicleFlow,
        parts: PartsFlow,
        logistics: PartsLogistics,
        settlement: SettlementFlow | None,
        parts_rate_lines_per_day: FloatArray,
        streams: RandomStreams,
        event_log: EventLog,
        reader: Reader | None,
        kept_records: frozenset[str] = frozenset(),
        transfers: RebalancingFlow | None = None,
    ) -> None:
        """``reader`` is Clara's (``answered_by=clara``; None for the managers alone). ``kept_records`` names
        the optional records this run keeps (``transfers``, ``tower``, ``campaigns``) for Clara's scope;
        ``transfers`` is the dealer-to-dealer rebalancing when it runs."""
        self.env = clock
        self.settings = settings
        self.world = world
        self.start_date = start_date
        self.horizon_days = horizon_days
        self.warmup_days = warmup_days
        self.vehicles = vehicles
        self.parts = parts
        self.streams = streams
        self.event_log = event_log
        self.reader = reader
        if settings.answered_by == "clara" and reader is None:
            raise ValueError("queries.answered_by=clara needs Clara's reader")
        self.dealers = world.dealer_count
        self.dealer_ids = [str(dealer) for dealer in world.network.dealers.dealer_id]
        self.dealer_region = world.dealer_region
        self.live = LiveRecords(vehicles, parts, logistics, settlement, transfers, world)
        self.export = ExportRecords(self.live, world, operations, start_date)
        self.ledger_kept = self.live.book is not None
        self.kept_records = kept_records
        self.writer = QuestionWriter(world)
        self.sku_index = {str(sku): index for index, sku in enumerate(world.parts.sku_id)}
        self.model_index = {str(name): index for index, name in enumerate(world.specs.model_names)}
        self.spec_model = world.specs.model
        self.rate_per_day = np.array(
            [settings.questions_per_dealer_week.get(intent, 0.0) / 7.0 for intent in INTENTS],
            dtype=np.float64,
        )
        self.trigger_share = np.array(
            [settings.ask_probability_by_trigger.get(trigger, 0.0) for trigger in QUERY_TRIGGERS]
        )
        #: cumulative parts demand per dealer: the parts a dealer asks about are the parts it sells
        self.parts_weight = np.cumsum(parts_rate_lines_per_day[: self.dealers], axis=1)
        self.hours = WorkingHours(
            settings.manager_opens_hour, settings.manager_closes_hour, settings.manager_weekdays, start_date
        )
        self.free_at = np.zeros((len(world.region_names), settings.managers_per_region))
        self.questions: list[Question] = []
        #: questions a manager has taken: number -> when the answer is given
        self.manager_due: dict[int, float] = {}
        #: triggered questions planned for the next day
        self.tomorrow: list[Question] = []
        self._vin_of: dict[str, int] = {}
        self._vins_indexed = 0
        #: late-car watch: vehicle -> (dealer, due day); cars already reported
        self.watched: dict[int, tuple[int, float]] = {}
        self.reported_late: set[int] = set()
        self.backordered = np.zeros((self.dealers, len(world.parts)), dtype=bool)
        self.claims_seen = 0
        self.grace_days = settings.late_allocation_grace_days + operations.carrier_max_wait_days
        self._restored = False

    def start(self, day: int) -> None:
        """When the clock starts: the opening pictures (unless restored), and the managers' work under way."""
        if not self._restored:
            self.export.take_parts(day - 1)
            self.export.take_vehicles(self.vehicles.view.as_of_day, float(self.env.now))
            np.copyto(self.backordered, self.parts.state.backorder[: self.dealers] > 0)
            self.claims_seen = len(self.live.book.claims) if self.live.book is not None else 0
        for number, finish in sorted(self.manager_due.items()):
            self.env.process(self._manager_answers(number, finish))

    # -- processes -------------------------------------------------------------------------------------------
    def plan_day(self, day: int) -> None:
        """d+0.01: the day's questions (base rate and yesterday's events), read by Clara in one batch."""
        rng = self.streams.get("queries:asked")
        counts = rng.poisson(np.broadcast_to(self.rate_per_day, (self.dealers, len(INTENTS))))
        settings = self.settings
        opens, closes = (
            settings.dealer_opens_hour / HOURS_PER_DAY,
            settings.dealer_closes_hour / HOURS_PER_DAY,
        )
        planned = self.tomorrow
        self.tomorrow = []
        # claims are verified at d+0.97: a dealer learns of yesterday's rejections this morning
        planned += self._triggered(day, self._rejected_claims(), rng)
        dealer_of, intent_of = np.nonzero(counts)
        for dealer, intent in zip(
            np.repeat(dealer_of, counts[dealer_of, intent_of]).tolist(),
            np.repeat(intent_of, counts[dealer_of, intent_of]).tolist(),
            strict=True,
        ):
            asked = day + opens + rng.random() * (closes - opens)
            question = self._new_question(asked, dealer, intent, -1, rng)
            if question is not None:
                planned.append(question)
        planned.sort(key=lambda question: (question.asked_day, question.number))
        if not planned:
            return
        readings: Sequence[Understanding | None] = [None] * len(planned)
        if self.reader is not None:
            readings = self.reader.understand_many(
                [question.text for question in planned], self.start_date + dt.timedelta(days=day)
            )
        self.env.process(self._ask_in_turn(planned, readings))

    def _ask_in_turn(
        self, questions: list[Question], readings: Sequence[Understanding | None]
    ) -> Generator[simpy.Event, Any, None]:
        for question, reading in zip(questions, readings, strict=True):
            wait = question.asked_day - self.env.now
            if wait > 0:
                yield self.env.timeout(wait)
            self._ask(question, reading)

    def scan(self, day: int) -> None:
        """d+0.955: the exports that landed tonight, and the events that make dealers ask tomorrow (cars
        past due, parts newly on backorder)."""
        now = float(self.env.now)
        if self.vehicles.view.as_of_day != self.export.vehicles_as_of_day:
            self.export.take_vehicles(self.vehicles.view.as_of_day, now)
        if self.export.is_parts_export_day(day):
            self.export.take_parts(day)
        events = self._late_cars(now) + self._new_backorders() + self._departed_transfers(day)
        self.tomorrow += self._triggered(day + 1, events, self.streams.get("queries:asked"))

    def _triggered(
        self, day: int, events: list[tuple[int, int, int, int, int]], rng: np.random.Generator
    ) -> list[Question]:
        """The questions events make dealers ask on ``day``: each with its trigger's probability."""
        settings = self.settings
        opens, closes = (
            settings.dealer_opens_hour / HOURS_PER_DAY,
            settings.dealer_closes_hour / HOURS_PER_DAY,
        )
        questions = []
        for trigger, dealer, intent, vehicle, sku in events:
            if rng.random() < self.trigger_share[trigger]:
                asked = day + opens + rng.random() * (closes - opens)
                questions.append(self._question(asked, dealer, intent, trigger, vehicle, sku, -1, rng))
        return questions

    # -- events that make a dealer ask -----------------------------------------------------------------------
    def _late_cars(self, now: float) -> list[tuple[int, int, int, int, int]]:
        """One event per dealer with a car allocated to it that is past its due day and not yet in."""
        flow, carriers = self.vehicles, self.vehicles.carriers
        onward = carriers.yard_to_dealer_days
        for dealer, queue in enumerate(carriers.dispatch_queue):
            for vehicle, since in queue:
                if vehicle not in self.watched:
                    self.watched[vehicle] = (dealer, since + float(onward[dealer]) + self.grace_days)
        late_dealers: dict[int, int] = {}
        for vehicle, (dealer, due) in list(self.watched.items()):
            car = flow.vehicles[vehicle]
            arrived = (
                car.dealer != dealer
                or car.status in (VehicleStatus.RESERVED, VehicleStatus.DELIVERED)
                or (car.status is VehicleStatus.IN_YARD and car.site_kind is SiteKind.DEALER)
            )
            if arrived:
                del self.watched[vehicle]
                self.reported_late.discard(vehicle)
            elif due < now and vehicle not in self.reported_late:
                self.reported_late.add(vehicle)
                late_dealers.setdefault(dealer, vehicle)
        trigger = QUERY_TRIGGERS.index("late_allocation")
        intent = INTENTS.index("allocation_status")
        return [(trigger, dealer, intent, -1, -1) for dealer in sorted(late_dealers)]

    def _new_backorders(self) -> list[tuple[int, int, int, int, int]]:
        """One event per dealer with a part newly on backorder (the lowest SKU of them, for determinism)."""
        open_now = self.parts.state.backorder[: self.dealers] > 0
        fresh = open_now & ~self.backordered
        np.copyto(self.backordered, open_now)
        dealers, skus = np.nonzero(fresh)
        first = np.unique(dealers, return_index=True)[1]
        trigger, intent = QUERY_TRIGGERS.index("parts_backorder"), INTENTS.index("part_eta")
        return [(trigger, int(dealers[i]), intent, -1, int(skus[i])) for i in first.tolist()]

    def _departed_transfers(self, day: int) -> list[tuple[int, int, int, int, int]]:
        """One event per dealer with a transfer to it that left today."""
        rebalancing = self.live.rebalancing
        if rebalancing is None:
            return []
        receivers = {
            int(receiver)
            for batches in rebalancing.arriving.values()
            for batch in batches
            for receiver in batch.receiver[batch.ship_day == day].tolist()
        }
        trigger, intent = QUERY_TRIGGERS.index("transfer_departed"), INTENTS.index("transfer_status")
        return [(trigger, dealer, intent, -1, -1) for dealer in sorted(receivers)]

    def _rejected_claims(self) -> list[tuple[int, int, int, int, int]]:
        book = self.live.book
        if book is None:
            return []
        claims = book.claims
        rows = np.arange(self.claims_seen, len(claims))
        self.claims_seen = len(claims)
        rejected = rows[claims["outcome"][rows] > ClaimOutcome.PAID]
        trigger, intent = QUERY_TRIGGERS.index("claim_rejected"), INTENTS.index("incentive_status")
        return [
            (trigger, int(claims["dealer"][row]), intent, int(claims["vehicle"][row]), -1)
            for row in rejected.tolist()
        ]

    # -- a question's subject and text -----------------------------------------------------------------------
    def _new_question(
        self, asked: float, dealer: int, intent: int, trigger: int, rng: np.random.Generator
    ) -> Question | None:
        """A question of the base rate about something of the dealer's (None: it has nothing to ask about)."""
        name = INTENTS[intent]
        vehicle = sku = model = -1
        flow = self.vehicles
        if name == "allocation_status" and rng.random() < 0.3:
            model = self._model_of_row(flow.dealer_inbound[dealer], rng)
        elif name == "vehicle_stock" and rng.random() < 0.7:
            model = self._model_of_row(flow.dealer_stock[dealer], rng)
        elif name == "vin_status":
            # sorted: a yard's order of specs is not part of the state (a restored run rebuilds it)
            candidates = sorted(
                [vid for queue in flow.dealer_yard[dealer].values() for vid in queue]
                + [vid for vid, _ in flow.carriers.dispatch_queue[dealer]]
            )
            if not candidates:
                return None
            vehicle = candidates[int(rng.integers(len(candidates)))]
        elif name in ("part_stock", "part_eta"):
            coming = (
                np.flatnonzero(self.parts.state.in_transit[dealer]) if name == "part_eta" else np.zeros(0)
            )
            if coming.size and rng.random() < 0.8:
                sku = int(coming[int(rng.integers(coming.size))])
            else:
                weights = self.parts_weight[dealer]
                if weights[-1] <= 0:
                    return None
                sku = int(np.searchsorted(weights, rng.random() * weights[-1], side="right"))
        elif name == "incentive_status" and self.live.book is not None and rng.random() < 0.3:
            claims = self.live.book.claims
            mine = np.flatnonzero(claims["dealer"] == dealer)
            if mine.size:
                vehicle = int(claims["vehicle"][mine[int(rng.integers(mine.size))]])
        return self._question(asked, dealer, intent, trigger, vehicle, sku, model, rng)

    def _model_of_row(self, row: npt.NDArray[np.int32], rng: np.random.Generator) -> int:
        total = int(row.sum(dtype=np.int64))
        if total <= 0:
            return -1
        spec = int(np.searchsorted(np.cumsum(row, dtype=np.int64), rng.integers(total), side="right"))
        return int(self.spec_model[spec])

    def _question(
        self, asked: float, dealer: int, intent: int, trigger: int, vehicle: int, sku: int, model: int,
        rng: np.random.Generator,
    ) -> Question:  # fmt: skip
        vin = self.vehicles.vehicles[vehicle].vin if vehicle >= 0 else ""
        writer_rng = random.Random(int(rng.integers(2**62)))
        text = self.writer.write(INTENTS[intent], vin, sku, model, writer_rng)
        question = Question(len(self.questions), asked, dealer, intent, trigger, vehicle, sku, model, text)
        self.questions.append(question)
        return question

    # -- answering -------------------------------------------------------------------------------------------
    def _ask(self, question: Question, reading: Understanding | None) -> None:
        now = float(self.env.now)
        self.event_log.record(
            now, "query_asked", number=question.number, dealer=self.dealer_ids[question.dealer],
            intent=INTENTS[question.intent], text=question.text,
        )  # fmt: skip
        if reading is None:
            self._to_manager(question, now)
            return
        reason, subject = self._clara_reads(question, reading)
        if reason is not None:
            question.escalation = ESCALATION_REASONS.index(reason)
            self.event_log.record(now, "query_escalated", number=question.number, reason=reason)
            self._to_manager(question, now)
            return
        question.clara_answered = True
        truth = self._facts(self.live, question.intent, question)
        read_intent = INTENTS.index(reading.intent) if reading.intent in INTENTS else -1
        slots = SUBJECT_SLOTS[INTENTS[question.intent]]
        asked = (question.vehicle, question.sku, question.model, -1)
        read_right = read_intent == question.intent and all(subject[slot] == asked[slot] for slot in slots)
        given = (
            self._facts(self.live, read_intent, _Subject(*subject, dealer=question.dealer))
            if read_intent >= 0
            else None
        )
        self._first_answer(question, now, bool(read_right and given == truth), "clara", given)

    def _clara_reads(
        self, question: Question, reading: Understanding
    ) -> tuple[str | None, tuple[int, int, int, int]]:
        """Why Clara hands the question over (None: it answers), and the subject it read: (vehicle, sku,
        model, spec)."""
        entities = reading.entities
        vehicle = self._vehicle_of(entities.vin)
        sku = self.sku_index.get(entities.sku_id, -1) if entities.sku_id else -1
        model = self.model_index.get(entities.model, -1) if entities.model else -1
        spec = 0 if entities.spec_id else -1  # a spec named: the answer is about that spec, not a model
        subject = (vehicle, sku, model, spec)
        intent = reading.intent
        own = self.dealer_ids[question.dealer]
        if reading.talks_past_rules or (
            entities.dealer_id and entities.dealer_id != own and intent != "network_availability"
        ):
            return "not_allowed", subject
        if not reading.confident:
            return "low_confidence", subject
        if intent == "other":
            return "needs_decision", subject
        if (intent in LEDGER_INTENTS and not self.ledger_kept) or RECORDS_NEEDED.get(intent, "") not in (
            "",
            *self.kept_records,
        ):
            return "out_of_scope", subject
        if intent == "vin_status" or (intent == "incentive_status" and entities.vin):
            if vehicle < 0:
                return "data_missing", subject
            if self.vehicles.vehicles[vehicle].dealer != question.dealer:
                return "not_allowed", subject
        if intent in ("part_stock", "part_eta") and sku < 0:
            return "data_missing", subject
        return None, subject

    def _vehicle_of(self, vin: str | None) -> int:
        if not vin:
            return -1
        registry = self.vehicles.vehicles
        for vehicle in range(self._vins_indexed, len(registry)):
            self._vin_of[registry[vehicle].vin] = vehicle
        self._vins_indexed = len(registry)
        return self._vin_of.get(vin.upper(), -1)

    def _facts(self, records: Records, intent: int, subject: Question | _Subject) -> Facts:
        return answer_facts(
            records, INTENTS[intent], subject.dealer, subject.vehicle, subject.sku, subject.model
        )

    def _to_manager(self, question: Question, arrival: float) -> None:
        """FIFO per region: the question goes to the manager free first, who starts it in working hours."""
        region = int(self.dealer_region[question.dealer])
        free_at = self.free_at[region]
        manager = int(np.argmin(free_at))
        start = self.hours.next_open(max(arrival, float(free_at[manager])))
        settings = self.settings
        sigma = settings.handling_minutes_sigma
        minutes = float(
            self.streams.get("queries:manager").lognormal(
                math.log(settings.handling_minutes_mean) - sigma**2 / 2, sigma
            )
        )
        finish = self.hours.after_working(start, minutes)
        free_at[manager] = finish
        question.manager_minutes += minutes
        self.manager_due[question.number] = finish
        self.env.process(self._manager_answers(question.number, finish))

    def _manager_answers(self, number: int, finish: float) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(max(0.0, finish - self.env.now))
        del self.manager_due[number]
        question = self.questions[number]
        given = self._facts(self.export, question.intent, question)
        truth = self._facts(self.live, question.intent, question)
        if math.isnan(question.first_answer_day):
            self._first_answer(question, float(self.env.now), given == truth, "manager", given)
        else:
            question.closed = True
            self.event_log.record(self.env.now, "query_answered_again", number=number, right=given == truth)

    def _first_answer(self, question: Question, now: float, right: bool, by: str, facts: Facts) -> None:
        # a question that needs a person has no factual answer, but Clara answering it with figures is a
        # wrong answer (it read a request as a question), so her answers are always judged
        factual = INTENTS[question.intent] != "other" or by == "clara"
        question.first_answer_day = now
        question.first_answer_accurate = int(right) if factual else -1
        self.event_log.record(
            now, "query_answered", number=question.number, by=by, right=bool(right), facts=repr(facts)
        )
        reopen = (
            factual
            and not right
            and self.streams.get("queries:reopen").random() < (self.settings.wrong_answer_reopen_probability)
        )
        if reopen:
            question.reopened = True
            self._to_manager(question, now)
        else:
            question.closed = True

    # -- results ---------------------------------------------------------------------------------------------
    def table(self) -> FloatArray:
        return np.array([question.row() for question in self.questions], dtype=np.float64).reshape(
            -1, len(Question.FIELDS)
        )

    def summary(self) -> dict[str, float]:
        """The queries KPIs over questions asked in the measured window (after the warm-up)."""
        table = self.table()
        column = {name: table[:, index] for index, name in enumerate(Question.FIELDS)}
        asked = column["asked_day"]
        measured = (asked >= self.warmup_days) & (asked < self.horizon_days)
        count = float(measured.sum())

        def share(numerator: npt.NDArray[np.bool_], denominator: npt.NDArray[np.bool_]) -> float:
            total = float(denominator.sum())
            return float(numerator.sum()) / total if total else math.nan

        clara = measured & (column["clara_answered"] > 0)
        reopened = column["reopened"] > 0
        answered = measured & ~np.isnan(column["first_answer_day"])
        factual = answered & (column["first_answer_accurate"] >= 0)
        minutes = (column["first_answer_day"][answered] - asked[answered]) * MINUTES_PER_DAY
        summary = {
            "queries_asked": count,
            "queries_triggered": float((measured & (column["trigger"] >= 0)).sum()),
            "queries_autonomous_resolution_rate": share(clara & ~reopened, measured),
            "queries_containment_rate": share(clara, measured),
            "queries_answer_accuracy": share(factual & (column["first_answer_accurate"] > 0), factual),
            "queries_clara_answer_accuracy": share(
                clara & factual & (column["first_answer_accurate"] > 0), clara & factual
            ),
            "queries_first_response_minutes_median": float(np.median(minutes)) if minutes.size else math.nan,
            "queries_first_response_minutes_p90": float(np.quantile(minutes, 0.9))
            if minutes.size
            else math.nan,
            "queries_manager_hours": float(column["manager_minutes"][measured].sum()) / 60.0,
            "queries_reopened": float((measured & reopened).sum()),
            "queries_unanswered_at_horizon": float((measured & np.isnan(column["first_answer_day"])).sum()),
        }
        escalation = column["escalation"]
        for index, reason in enumerate(ESCALATION_REASONS[:-1]):
            summary[f"queries_escalated_{reason}"] = float((measured & (escalation == index)).sum())
        summary["queries_escalated_reopened"] = float((clara & reopened).sum())
        for index, intent in enumerate(INTENTS):
            summary[f"queries_asked_{intent}"] = float((measured & (column["intent"] == index)).sum())
        return summary

    # -- state (section "queries" of twin.domain.state) ------------------------------------------------------
    def state_arrays(self) -> dict[str, npt.NDArray[np.generic]]:
        arrays = self.export.state_arrays()
        arrays |= {
            "questions": np.nan_to_num(self.table(), nan=-1.0),  # not answered yet: -1
            "question_texts": np.array([question.text for question in self.questions], dtype=np.str_),
            "tomorrow": np.array([question.number for question in self.tomorrow], dtype=np.int64),
            "manager_due": row_table(sorted(self.manager_due.items()), 2),
            "managers_free_at": self.free_at.copy(),
            "watched": row_table(
                [(vehicle, dealer, due) for vehicle, (dealer, due) in self.watched.items()], 3
            ),
            "reported_late": np.array(sorted(self.reported_late), dtype=np.int64),
            "backordered": self.backordered.copy(),
            "claims_seen": np.array([self.claims_seen], dtype=np.int64),
        }
        return arrays

    def load_state_arrays(self, arrays: dict[str, npt.NDArray[np.generic]]) -> None:
        self.export.load_state_arrays(arrays)
        table = np.asarray(arrays["questions"], dtype=np.float64).reshape(-1, len(Question.FIELDS))
        texts = np.asarray(arrays["question_texts"]).tolist()
        self.questions = []
        for row, text in zip(table.tolist(), texts, strict=True):
            values = dict(zip(Question.FIELDS, row, strict=True))
            self.questions.append(
                Question(
                    number=int(values["number"]), asked_day=values["asked_day"], dealer=int(values["dealer"]),
                    intent=int(values["intent"]), trigger=int(values["trigger"]), vehicle=int(values["vehicle"]),
                    sku=int(values["sku"]), model=int(values["model"]), text=str(text),
                    escalation=int(values["escalation"]), clara_answered=bool(values["clara_answered"]),
                    first_answer_day=values["first_answer_day"] if values["first_answer_day"] >= 0 else math.nan,
                    first_answer_accurate=int(values["first_answer_accurate"]),
                    reopened=bool(values["reopened"]), manager_minutes=values["manager_minutes"],
                    closed=bool(values["closed"]),
                )
            )  # fmt: skip
        self.tomorrow = [self.questions[number] for number in np.asarray(arrays["tomorrow"]).tolist()]
        self.manager_due = {
            int(number): finish
            for number, finish in np.asarray(arrays["manager_due"], dtype=np.float64).reshape(-1, 2).tolist()
        }
        np.copyto(self.free_at, arrays["managers_free_at"])
        self.watched = {
            int(vehicle): (int(dealer), due)
            for vehicle, dealer, due in np.asarray(arrays["watched"], dtype=np.float64)
            .reshape(-1, 3)
            .tolist()
        }
        self.reported_late = set(np.asarray(arrays["reported_late"]).tolist())
        np.copyto(self.backordered, arrays["backordered"])
        self.claims_seen = int(np.asarray(arrays["claims_seen"])[0])
        self._restored = True


@dataclass(frozen=True)
class _Subject:
    """A subject as Clara read it, shaped like a question for ``answer_facts``."""

    vehicle: int
    sku: int
    model: int
    spec: int
    dealer: int = -1
