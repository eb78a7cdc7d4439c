"""Clara's query service: a dealer's question answered from the network view, or escalated with a reason.

Input: the dealer asking (its identity comes from the caller: the portal's login, the CLI's ``--dealer``),
the free text, and a read-only ``NetworkView``. ``twin.clara.understanding`` says what was asked; this module
decides whether it may be answered and answers it, every figure read from the view (never invented), with
the records used (``sources``) and the date the state is as of.

Scope and security: a dealer sees only its own allocations, VINs, yard, parts, consignments, transfers,
statement and claims. A question naming another dealer's stock, statement or claims, a VIN that is not the
dealer's, or text that tries to talk past the rules is refused (``not_allowed``) with an answer that holds
no number, and logged on ``twin.clara.audit`` (the dealer, the question's id, the entities probed and a
slice of the text). A VIN now at another dealer stays the asker's business where its own records hold it:
its claim on the car (claim questions), its transfer of it (transfer questions). Which dealers could supply
a spec or part is answered (``network_availability``: candidates only, as network policy allows).

Escalations: ``low_confidence`` (the classifier is unsure), ``data_missing`` (the state lacks the section
the answer needs, e.g. no control tower for stock-out risk, or the question lacks what it must name: a VIN
for a VIN's status, an item for availability; or it names a part the catalog does not hold, "stock of
P999999"), ``needs_decision`` (requests a person decides: "send me 20 more Dhruv", complaints),
``out_of_scope`` (nothing about the network). Questions that name no item are answered for the dealer as a
whole: part stock without a part is the dealer's parts position, a part ETA without a part lists every
consignment on its way.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from twin.errors import TwinError
from twin.settlement.book import STATEMENT_GROUPS
from twin.views import NetworkView, UnknownDealerError

audit_log = logging.getLogger("twin.clara.audit")

ESCALATION_REASONS = ("not_allowed", "needs_decision", "out_of_scope", "data_missing", "low_confidence")
#: the longest question accepted (the portal's text box holds no more)
MAX_TEXT_CHARACTERS = 2000
#: rows an answer lists by name before it sums up the rest
LISTED = 3
#: the most of a refused question's text an audit line quotes (one line)
AUDIT_TEXT_CHARACTERS = 80

_GREETING = re.compile(
    r"^\W*(?:hi+|hello+|hey+|namaste|namaskar|good\s+(?:morning|afternoon|evening|day)|thanks?|thank\s+you|"
    r"thx|ty|dhanyavaad|dhanyawad|shukriya|ok(?:ay)?|bye|gm|who\s+(?:is\s+this|are\s+you|r\s+u)|"
    r"what\s+is\s+your\s+name|aap\s+kaun|kaun\s+(?:ho|hai|bol))\b",
    re.IGNORECASE,
)
_DECISION = re.compile(
    r"\b(?:send|allocate|allot|give|bhejo|bhej|dedo|de do|chahiye|need|want|increase|extend|approve|waive|"
    r"discount|refund|cancel|complain\w*|escalate|urgent\w*|manager|call me|callback|call back|replace|"
    r"compensat\w*|penalt\w*|credit note|more|extra|zyada|jaldi|why (?:so|did)|not happy|unhappy|angry|worst|"
    r"delay\w*|late)\b",
    re.IGNORECASE,
)


#: intents where naming another dealer is no request for its data: who could supply (network policy), the
#: counterpart of the dealer's own transfer, and requests a person decides. Even there a dealer named as the
#: owner of records ("transfers of D0004", "D0004 ke transfers", "D0004's stock") is refused: see ``_refusal``
_NAMING_ANOTHER_DEALER_ALLOWED = ("network_availability", "transfer_status", "other")
#: words that make a mention a dealer's name, not a part's description
_DEALER_WORDS = frozenset({"dealer", "dealers", "dealership", "showroom", "outlet", "yard", "stockyard"})
#: an id that is no part number: a dealer, site or spec code, a VIN's length without dashes
_OTHER_ID = re.compile(
    r"[Dd]-?\d{1,4}|(?:SY|CR|PL|DC)[ -]?\d{1,2}|[A-Za-z]{3}-[A-Za-z0-9+]{2,8}-\d{1,2}|[A-Za-z0-9]{16,18}",
    re.IGNORECASE,
)
#: the view's status of a rebalancing proposal a network manager has not yet decided
PROPOSED = "awaiting approval"


class ClaraError(TwinError, ValueError):
    """A question Clara cannot take: a field and the value refused (an unknown dealer, bad text)."""

    def __init__(self, field: str, value: Any, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(field, value, reason)

    def __str__(self) -> str:
        shown = (
            self.value
            if not isinstance(self.value, str) or len(self.value) <= 60
            else self.value[:57] + "..."
        )
        return f"{self.field}={shown!r}: {self.reason}"


class ClaraInputError(ClaraError):
    """The text of a question is not a question: empty, too long, or binary."""


class UnderstandsQuestions(Protocol):
    """What Clara needs of ``twin.clara.understanding.Understander``."""

    def understand_many(self, texts: Sequence[str], today: dt.date | None = None) -> list[Any]: ...


@dataclass(frozen=True)
class ClaraReply:
    """The answer to one question, as JSON: what was asked, whether it was answered, and from what."""

    intent: str
    entities: dict[str, Any]
    resolved: bool
    #: None when resolved, else one of ``ESCALATION_REASONS``
    escalation_reason: str | None
    answer: str
    #: the date the state answered from is as of (ISO)
    as_of: str
    #: the records the answer used ("vehicles.parquet:vin=MA3...", "parts:on_hand[D0042,16510M68K00]")
    sources: list[str] = field(default_factory=list)
    confidence: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "intent": self.intent,
            "entities": self.entities,
            "resolved": self.resolved,
            "escalation_reason": self.escalation_reason,
            "answer": self.answer,
            "as_of": self.as_of,
            "sources": list(self.sources),
            "confidence": round(float(self.confidence), 4),
        }


def check_text(text: Any, field_name: str = "text") -> str:
    """The question's text, or a ``ClaraInputError`` saying why it is not one."""
    if isinstance(text, bytes):
        raise ClaraInputError(field_name, text[:40].hex(), "is binary data, not text")
    if not isinstance(text, str):
        raise ClaraInputError(field_name, str(text)[:40], f"must be text, not {type(text).__name__}")
    if "\x00" in text or "\ufffd" in text:
        raise ClaraInputError(field_name, text[:40], "holds binary data (NUL or undecodable bytes), not text")
    unprintable = sum(1 for character in text if not character.isprintable() and character not in "\n\r\t")
    if text and unprintable > max(2, len(text) // 10):
        raise ClaraInputError(field_name, text[:40], "is mostly control characters: binary data, not text")
    if not text.strip():
        raise ClaraInputError(field_name, text, "is empty: ask a question")
    if len(text) > MAX_TEXT_CHARACTERS:
        raise ClaraInputError(
            field_name,
            f"<{len(text):,} characters>",
            f"is too long: at most {MAX_TEXT_CHARACTERS:,} characters",
        )
    return text


class Clara:
    """Answers dealers' questions from one view. ``understander`` reads them (``twin.clara.understanding``);
    its confidence threshold (``CONFIDENCE_THRESHOLD``) decides ``low_confidence`` unless one is given."""

    def __init__(
        self, view: NetworkView, understander: UnderstandsQuestions, confidence_threshold: float | None = None
    ) -> None:
        self.view = view
        self.understander = understander
        if confidence_threshold is None:
            from twin.clara.understanding import CONFIDENCE_THRESHOLD

            confidence_threshold = CONFIDENCE_THRESHOLD
        self.confidence_threshold = float(confidence_threshold)
        self.as_of = view.as_of.isoformat()
        self._dealer_words: frozenset[str] | None = None

    # -- entry points -----------------------------------------------------------------------------------
    def check(self, dealer_id: Any, text: Any) -> tuple[str, str]:
        """Validate one question; ``ClaraError`` names an unknown dealer, ``ClaraInputError`` bad text."""
        if not isinstance(dealer_id, str) or not dealer_id.strip():
            raise ClaraError("dealer_id", dealer_id, "name the dealer asking (e.g. D0042)")
        try:
            self.view.dealer_index(dealer_id.strip())
        except UnknownDealerError as error:
            raise ClaraError("dealer_id", dealer_id, error.reason) from None
        return dealer_id.strip(), check_text(text)

    def ask(self, dealer_id: str, text: str, question_id: Any = None) -> ClaraReply:
        return self.ask_many([(dealer_id, text)], [question_id])[0]

    def ask_many(
        self, questions: Sequence[tuple[str, str]], question_ids: Sequence[Any] | None = None
    ) -> list[ClaraReply]:
        """Many questions, understood in one batch. Every question is checked first: the first bad one
        raises (``ClaraError`` naming ``questions[i]`` and the field), nothing is answered. ``question_ids``
        (a batch file's line ids) only label the audit log's lines, so a refusal can be traced."""
        if question_ids is None:
            question_ids = [None] * len(questions)
        elif len(question_ids) != len(questions):
            raise ClaraError(
                "question_ids",
                f"<{len(question_ids)} ids>",
                f"must hold one id per question ({len(questions)})",
            )
        checked = []
        for index, (dealer_id, text) in enumerate(questions):
            try:
                checked.append(self.check(dealer_id, text))
            except ClaraError as error:
                raise type(error)(f"questions[{index}].{error.field}", error.value, error.reason) from None
        understood = self.understander.understand_many([text for _, text in checked], self.view.as_of)
        return [
            self._reply(dealer_id, text, understanding, question_id)
            for (dealer_id, text), understanding, question_id in zip(
                checked, understood, question_ids, strict=True
            )
        ]

    # -- deciding ---------------------------------------------------------------------------------------
    def _reply(self, dealer_id: str, text: str, understanding: Any, question_id: Any = None) -> ClaraReply:
        entities = understanding.entities
        base = {
            "intent": understanding.intent,
            "entities": entities.to_json(),
            "as_of": self.as_of,
            "confidence": float(understanding.confidence),
        }
        refusal = self._refusal(dealer_id, understanding)
        if refusal is not None:
            audit_log.warning(
                'refused dealer=%s id=%s intent=%s reason=not_allowed probed=%s text="%s" why=%s',
                dealer_id,
                "-" if question_id is None else _one_line(str(question_id), 40),
                understanding.intent,
                _probed(entities, getattr(understanding, "dealer_role", None)),
                _one_line(text, AUDIT_TEXT_CHARACTERS),
                refusal,
            )
            return ClaraReply(
                **base,
                resolved=False,
                escalation_reason="not_allowed",
                answer=f"Sorry, I can only share your own dealership's data: {refusal}.",
                sources=[],
            )
        if (
            understanding.confidence < self.confidence_threshold
            or getattr(understanding, "conflict", None) is not None
        ):
            return ClaraReply(
                **base,
                resolved=False,
                escalation_reason="low_confidence",
                answer="I am not sure what you are asking; I have passed your question to your regional manager.",
                sources=[],
            )
        handler = getattr(self, f"_{understanding.intent}", None)
        if handler is None:
            return self._escalate(base, "out_of_scope", "I cannot answer that here; a person will follow up.")
        outcome: Answer = handler(dealer_id, entities, understanding, text)
        return ClaraReply(
            **base,
            resolved=outcome.reason is None,
            escalation_reason=outcome.reason,
            answer=outcome.text,
            sources=outcome.sources,
        )

    @staticmethod
    def _escalate(base: dict[str, Any], reason: str, text: str) -> ClaraReply:
        return ClaraReply(**base, resolved=False, escalation_reason=reason, answer=text, sources=[])

    def _refusal(self, dealer_id: str, understanding: Any) -> str | None:
        """Why the question must be refused (None when it may be answered)."""
        entities = understanding.entities
        if understanding.talks_past_rules:
            return "requests for other dealers' data or to set the rules aside are not allowed"
        other = entities.dealer_id
        if getattr(understanding, "dealer_role", None) == "possessor" and other != dealer_id:
            # "show me the transfers of D0004", "D0004 ke transfers", "Pune dealer ka stock": another dealer's
            # records, whatever the intent (a counterpart of the dealer's own transfer is named otherwise)
            return "another dealer's transfers, stock, statement and claims are private to that dealer"
        if other and other != dealer_id and understanding.intent not in _NAMING_ANOTHER_DEALER_ALLOWED:
            return "another dealer's stock, statement and claims are private to that dealer"
        if entities.vin:
            # a VIN elsewhere in the network and one nowhere get the same answer: a different one would tell
            # a dealer guessing serials which VINs exist at other dealers
            record = self.view.vehicle(entities.vin)
            if record is None or (
                record.dealer_id != dealer_id
                and not self._vin_of_own_records(dealer_id, entities.vin, understanding.intent)
            ):
                return "that VIN is not in your dealership's records"
        return None

    def _vin_of_own_records(self, dealer_id: str, vin: str, intent: str) -> bool:
        """Whether a VIN now at another dealer is still the asker's business: its own claim on the car (a
        claim question), its own transfer of it (a transfer question), either for the VIN's status."""
        if intent in ("incentive_status", "vin_status") and bool(
            np.any(self.view.rows("claims", dealer_id)["vin"] == vin)
        ):
            return True
        return intent in ("transfer_status", "vin_status") and bool(
            np.any(_vin_rows(self.view.rows("transfers", dealer_id), vin))
        )

    # -- the intents (each returns an Answer) -------------------------------------------------------------
    def _allocation_status(self, dealer_id: str, entities: Any, reading: Any, text: str) -> Answer:
        cars, what = self._vehicle_filter(self.view.rows("allocations", dealer_id), entities)
        when = self._as_of_text()
        count = len(cars["vin"])
        if count == 0:
            return Answer(
                f"No {what}cars are allocated to you and on their way {when}.",
                [f"vehicles.parquet:dealer={dealer_id},not_received"],
            )
        steps: dict[str, list[Any]] = {}
        for step, due in zip(cars["step"].tolist(), cars["due_date"].tolist(), strict=True):
            counted = steps.setdefault(step, [0, due])
            counted[0] += 1
            if due is not None and (counted[1] is None or due < counted[1]):
                counted[1] = due
        parts = [f"{number} {step} (next due {_date(due)})" for step, (number, due) in steps.items()]
        text_out = (
            f"You have {count} {what}car{_s(count)} allocated and not yet received {when}: "
            + "; ".join(parts)
            + f". The next is {_car_name(cars, 0)} (VIN {cars['vin'][0]}), {cars['step'][0]}, due "
            f"{_date(cars['due_date'][0])}."
        )
        return Answer(text_out, [f"vehicles.parquet:vin={vin}" for vin in cars["vin"][:5].tolist()])

    def _vin_status(self, dealer_id: str, entities: Any, reading: Any, text: str) -> Answer:
        if not entities.vin:
            unread = [mention for mention in reading.mentions if len(re.sub(r"\W", "", mention)) >= 11]
            detail = f" ({unread[0]!r} is not a valid VIN: check the characters)" if unread else ""
            return Answer(
                f"Please give the 17-character VIN you are asking about{detail}.", [], "data_missing"
            )
        record = self.view.vehicle(entities.vin)
        assert record is not None, "a VIN nowhere in the network is refused before the answer (_refusal)"
        name = f"{record.model} {record.variant.removeprefix(record.model).strip()} {record.colour}"
        if record.dealer_id != dealer_id:  # a car now elsewhere that the asker's own records hold
            return self._former_vin(dealer_id, record.vin, name)
        if record.status == "delivered":
            state = f"was delivered to the customer on {_date(record.delivered_date)}"
        elif record.status == "reserved":
            state = f"is sold and awaiting handover in your yard (received {_date(record.received_date)})"
        elif record.allocation_step is not None:
            state = f"is {record.allocation_step} ({record.place}), due at your dealership {_date(record.due_date)}"
        elif record.received_date is not None:
            age = (self.view.as_of - record.received_date).days
            state = f"is in your yard since {_date(record.received_date)} ({age} days)"
        else:
            state = f"is {record.place}"
        return Answer(
            f"VIN {record.vin} ({name}) {state}, {self._as_of_text()}.",
            [f"vehicles.parquet:vin={record.vin}"],
        )

    def _former_vin(self, dealer_id: str, vin: str, name: str) -> Answer:
        """A car no longer the asker's: only what its own records hold (its transfer of the car, its claims
        on it), never where the car is now or whose it is."""
        facts, sources = [], [f"vehicles.parquet:vin={vin}"]
        transfers = _select(
            self.view.rows("transfers", dealer_id), _vin_rows(self.view.rows("transfers", dealer_id), vin)
        )
        for row in range(len(transfers["transfer"])):
            way = "to" if transfers["direction"][row] == "out" else "from"
            eta = transfers["eta_date"][row]
            due = (
                f", due {_date(eta)}"
                if isinstance(eta, dt.date) and transfers["status"][row] != "arrived"
                else ""
            )
            facts.append(
                f"your {transfers['kind'][row]} {transfers['transfer'][row]} {way} "
                f"{transfers['counterpart_dealer_id'][row]} is {transfers['status'][row]}{due}"
            )
            sources.append(f"transfers[{dealer_id}]")
        claims = self.view.rows("claims", dealer_id)
        claims = _select(claims, claims["vin"] == vin)
        for row in range(len(claims["vin"])):
            reason = f" ({claims['reason'][row]})" if claims["reason"][row] else ""
            facts.append(
                f"your {claims['scheme'][row]} claim of {_date(claims['filed_date'][row])} is "
                f"{claims['status'][row]}{reason}"
            )
            sources.append(f"settlement:claims[{dealer_id}]")
        return Answer(
            f"VIN {vin} ({name}) is no longer with your dealership {self._as_of_text()}: "
            + "; ".join(facts)
            + ".",
            list(dict.fromkeys(sources)),
        )

    def _vehicle_stock(self, dealer_id: str, entities: Any, reading: Any, text: str) -> Answer:
        yard = self.view.rows("yard", dealer_id)
        yard = _select(yard, ~yard["reserved"].astype(bool))
        yard, what = self._vehicle_filter(yard, entities)
        when = self._as_of_text()
        source = [f"vehicles.parquet:dealer={dealer_id},in_yard"]
        count = len(yard["vin"])
        if count == 0:
            return Answer(f"You have no {what}cars in your yard {when}.", source)
        by = "variant" if entities.model or entities.spec_id else "model"
        names, counts = np.unique(yard[by].astype(str), return_counts=True)
        order = np.argsort(-counts, kind="stable")
        listed = ", ".join(f"{names[i]} {counts[i]}" for i in order[:4])
        more = f" and {len(names) - 4} more" if len(names) > 4 else ""
        aged = int((yard["age_days"] > 90).sum())
        return Answer(
            f"You have {count} {what}car{_s(count)} in your yard {when} (not counting sold cars awaiting "
            f"handover): {listed}{more}. {aged} {'is' if aged == 1 else 'are'} older than 90 days; the oldest has "
            f"waited {float(yard['age_days'].max()):.0f} days.",
            source,
        )

    def _part_stock(self, dealer_id: str, entities: Any, reading: Any, text: str) -> Answer:
        when = self._as_of_text()
        sku_ids = self._skus_asked(dealer_id, entities, reading)
        if not sku_ids and (unknown := self._unknown_part(reading)):
            return unknown
        if sku_ids:
            lines, sources = [], []
            for sku_id in sku_ids[:LISTED]:
                position = self.view.part_position(dealer_id, sku_id)
                transit = f", {position['in_transit']} in transit" if position["in_transit"] else ""
                back = f", {position['backorder']} on backorder" if position["backorder"] else ""
                lines.append(
                    f"{self._part_name(sku_id)}: {position['on_hand']} on hand, {position['reserved']} reserved for "
                    f"customer orders, {position['available']} available, {position['workshop_wip']} in workshop "
                    f"WIP{transit}{back}"
                )
                sources.append(f"parts:on_hand[{dealer_id},{sku_id}]")
            more = f" ({len(sku_ids) - LISTED} more parts match)" if len(sku_ids) > LISTED else ""
            return Answer(f"{_capital(when)}: " + "; ".join(lines) + more + ".", sources)
        parts = self.view.rows("parts", dealer_id)
        out = int((parts["on_hand"] == 0).sum())
        return Answer(
            f"{_capital(when)} you hold {len(parts['sku_id']):,} part numbers: {int(parts['on_hand'].sum()):,} "
            f"units on hand, {int(parts['reserved'].sum()):,} reserved for customer orders, "
            f"{int(parts['workshop_wip'].sum()):,} in workshop WIP, {int(parts['in_transit'].sum()):,} in "
            f"transit; {out} part number{_s(out)} at zero and {int(parts['backorder'].sum()):,} units on "
            "backorder. Name a part for its own figures.",
            [f"parts:*[{dealer_id}]"],
        )

    def _part_eta(self, dealer_id: str, entities: Any, reading: Any, text: str) -> Answer:
        when = self._as_of_text()
        arrivals = self.view.rows("arrivals", dealer_id)
        sku_ids = self._skus_asked(dealer_id, entities, reading)
        if not sku_ids and (unknown := self._unknown_part(reading)):
            return unknown
        if sku_ids:
            lines, sources = [], []
            for sku_id in sku_ids[:LISTED]:
                rows = np.flatnonzero(arrivals["sku_id"] == sku_id)
                sources.append(f"logistics:inbound[{dealer_id},{sku_id}]")
                if rows.size == 0:
                    position = self.view.part_position(dealer_id, sku_id)
                    back = f"; {position['backorder']} on backorder" if position["backorder"] else ""
                    lines.append(
                        f"nothing of {self._part_name(sku_id)} is on its way to you "
                        f"({position['available']} available{back})"
                    )
                    continue
                shipments = ", ".join(
                    f"{int(arrivals['units'][row])} units due {_date(arrivals['eta_date'][row])} "
                    f"({arrivals['consignment'][row]}, {arrivals['carrier_id'][row]})"
                    for row in rows[:LISTED]
                )
                lines.append(f"{self._part_name(sku_id)}: {shipments}")
            return Answer(f"{_capital(when)}: " + "; ".join(lines) + ".", sources)
        count = len(arrivals["sku_id"])
        if count == 0:
            return Answer(
                f"No parts consignment is on its way to you {when}.", [f"logistics:inbound[{dealer_id}]"]
            )
        by_day: dict[Any, list[int]] = {}
        for day, units in zip(arrivals["eta_date"].tolist(), arrivals["units"].tolist(), strict=True):
            counted = by_day.setdefault(day, [0, 0])
            counted[0] += 1
            counted[1] += int(units)
        listed = "; ".join(
            f"{_date(day)}: {lines} line{_s(lines)}, {units:,} units"
            for day, (lines, units) in list(by_day.items())[:LISTED]
        )
        return Answer(
            f"{count} consignment line{_s(count)} ({int(arrivals['units'].sum()):,} units) are on their way to you "
            f"{when}: {listed}. Name a part for its own ETA.",
            [f"logistics:inbound[{dealer_id}]"],
        )

    def _network_availability(self, dealer_id: str, entities: Any, reading: Any, text: str) -> Answer:
        view = self.view
        if entities.spec_id:
            offers, item = view.network_availability(dealer_id, spec_id=entities.spec_id), entities.spec_id
        elif entities.model:
            offers, item = view.network_availability(dealer_id, model=entities.model), entities.model
        else:
            sku_ids = self._skus_asked(dealer_id, entities, reading, require_position=False)
            if not sku_ids and (unknown := self._unknown_part(reading)):
                return unknown
            if not sku_ids:
                return Answer(
                    "Which model, spec or part should I look for in the network?", [], "data_missing"
                )
            offers = view.network_availability(dealer_id, sku_id=sku_ids[0])
            item = self._part_name(sku_ids[0])
        when = self._as_of_text()
        source = [f"network_availability[{dealer_id},{item}]"]
        if offers.empty:
            return Answer(f"No dealer or site within network policy can spare {item} {when}.", source)
        # rows come nearest first: name the nearest sources, count the rest
        source_ids = offers["source_id"].to_numpy()
        units = offers["units"].to_numpy()
        nearest: list[str] = []
        for source_id in source_ids:
            if source_id not in nearest:
                nearest.append(source_id)
                if len(nearest) == LISTED:
                    break
        listed_parts = []
        for source_id in nearest:
            rows = np.flatnonzero(source_ids == source_id)
            first = int(rows[0])
            kind = str(offers["source_kind"].iat[first])
            spare = int(units[rows].sum())
            # another dealer's stock is its own business: say whether it can spare one or several, never how
            # many it holds (asking model by model would rebuild its yard); the OEM's stockyards are counted
            amount = str(spare) if kind != "dealer" else ("1 to spare" if spare == 1 else "several to spare")
            listed_parts.append(
                f"{kind} {source_id} ({offers['source_name'].iat[first]}, "
                f"{offers['distance_km'].iat[first]:.0f} km): {amount}"
            )
        listed = "; ".join(listed_parts)
        sources = len(set(source_ids.tolist()))
        more = f"; {sources - LISTED} more sources" if sources > LISTED else ""
        return Answer(
            f"{item} could be sourced from {sources} source{_s(sources)} within network policy {when}: "
            f"{listed}{more}. A transfer or dealer trade needs the network's approval.",
            source,
        )

    def _transfer_status(self, dealer_id: str, entities: Any, reading: Any, text: str) -> Answer:
        if not (self.view.has("transfers") or self.view.has("orders") or self.view.has("settlement")):
            return _records_missing("Transfer")
        transfers = self.view.rows("transfers", dealer_id)
        when = self._as_of_text()
        source = [f"transfers[{dealer_id}]"]
        if entities.vin:
            transfers = _select(transfers, _vin_rows(transfers, entities.vin))
        proposed = transfers["status"] == PROPOSED
        if entities.dealer_id and entities.dealer_id != dealer_id:
            # the counterpart of its own transfers; a proposal has none yet (the network has not decided)
            transfers = _select(
                transfers, ~proposed & (transfers["counterpart_dealer_id"] == entities.dealer_id)
            )
            proposed = transfers["status"] == PROPOSED
        arrived = transfers["status"] == "arrived"
        # one transfer may span several rows (a proposal has a line per part): count and list by transfer id
        moving = _by_transfer(_select(transfers, ~arrived & ~proposed))
        proposals = _by_transfer(_select(transfers, proposed))
        if not moving and not proposals:
            dates = [day for day in transfers["eta_date"][arrived].tolist() if isinstance(day, dt.date)]
            last = f" The last one arrived {_date(max(dates))}." if dates else ""
            return Answer(f"You have no transfer or dealer trade open {when}.{last}", source)
        if moving:
            listed = []
            for transfer in moving[:LISTED]:
                direction = "from" if transfer["direction"] == "in" else "to"
                eta = transfer["eta_date"]
                due = f", due {_date(eta)}" if isinstance(eta, dt.date) else ""
                listed.append(
                    f"{transfer['transfer']} ({_transfer_goods(transfer)} {direction} "
                    f"{transfer['counterpart_dealer_id']}): {transfer['status']}{due}"
                )
            more = f"; {len(moving) - LISTED} more" if len(moving) > LISTED else ""
            text_out = (
                f"{len(moving)} transfer{_s(len(moving))} open {when}: " + "; ".join(listed) + more + "."
            )
        else:
            text_out = f"You have no transfer or dealer trade on its way {when}."
        if proposals:
            listed = [
                f"{proposal['transfer']} ({_transfer_goods(proposal)} "
                f"{'to you' if proposal['direction'] == 'in' else 'from you'})"
                for proposal in proposals[:LISTED]
            ]
            more = f"; {len(proposals) - LISTED} more" if len(proposals) > LISTED else ""
            text_out += (
                f" {len(proposals)} {'more ' if moving else ''}proposed, awaiting the network's approval: "
                + "; ".join(listed)
                + more
                + "."
            )
        return Answer(text_out, source)

    def _stockout_risk(self, dealer_id: str, entities: Any, reading: Any, text: str) -> Answer:
        if not self.view.has("tower"):
            return Answer(
                "Stock-out alerts are not running for your network, so I cannot tell the risk; your regional "
                "manager will reply.",
                [],
                "data_missing",
            )
        alerts = self.view.rows("alerts", dealer_id)
        when = self._as_of_text()
        sku_ids = self._skus_asked(dealer_id, entities, reading, require_position=False)
        if not sku_ids and (unknown := self._unknown_part(reading)):
            return unknown
        if sku_ids:
            alerts = _select(alerts, np.isin(alerts["sku_id"], sku_ids))
            if len(alerts["sku_id"]) == 0:
                return Answer(
                    f"There is no open stock-out alert on {', '.join(self._part_name(sku) for sku in sku_ids[:LISTED])} "
                    f"{when}.",
                    [f"tower:alerts_open_alert[{dealer_id},{sku}]" for sku in sku_ids[:LISTED]],
                )
        count = len(alerts["sku_id"])
        if count == 0:
            return Answer(
                f"You have no open stock-out alert {when}.", [f"tower:alerts_open_alert[{dealer_id}]"]
            )
        lines = [
            f"{self._part_name(alerts['sku_id'][row])}, {alerts['severity'][row]}, "
            f"{self._stockout_when(alerts, row)}: "
            f"{alerts['why'][row]}"
            for row in range(min(count, LISTED))
        ]
        return Answer(
            f"{count} open stock-out alert{_s(count)} {when}; the riskiest: " + " | ".join(lines) + ".",
            [f"tower:alert[{dealer_id},{sku}]" for sku in alerts["sku_id"][:LISTED].tolist()],
        )

    def _statement(self, dealer_id: str, entities: Any, reading: Any, text: str) -> Answer:
        statement = self.view.statement(dealer_id)
        if statement is None:
            return _records_missing("Settlement")
        balance = statement.balance_inr
        position = (
            f"you owe the network {_money(balance)}" if balance > 0.005 else
            f"the network owes you {_money(-balance)}" if balance < -0.005 else "your account is settled (balance zero)"
        )  # fmt: skip
        # one sign for every figure (the ledger's): + adds to what the dealer owes, - to what it is owed;
        # the closing balance plus every group posted since is the balance now
        text_out = (
            f"{_capital(self._as_of_text())} {position}. Amounts: + adds to what you owe, - to what the network "
            "owes you."
        )
        last = statement.last_statement
        closing = 0.0
        if last is not None:
            closing = float(last["closing_inr"])
            paid = f", paid {_date(last['paid_date'])}" if last["paid_date"] else ", not yet paid"
            groups = ", ".join(f"{group} {_signed(last[f'{group}_inr'])}" for group in STATEMENT_GROUPS)
            text_out += (
                f" Last statement (closed {_date(last['close_date'])}, due {_date(last['due_date'])}{paid}): "
                f"opening {_signed(last['opening_inr'])}, {groups}, closing {_signed(closing)}."
            )
        since = statement.since_last_close
        groups = ", ".join(f"{group} {_signed(since.get(group, 0.0))}" for group in STATEMENT_GROUPS)
        text_out += (
            f" Since then: {groups}; {'closing' if last is not None else 'opening'} {_signed(closing)} plus "
            f"these = {_signed(balance)} now."
        )
        return Answer(text_out, [f"settlement:journal[{dealer_id}]", f"settlement:statements[{dealer_id}]"])

    def _incentive_status(self, dealer_id: str, entities: Any, reading: Any, text: str) -> Answer:
        if not self.view.has("settlement"):
            return _records_missing("Incentive claim")
        claims = self.view.rows("claims", dealer_id)
        when = self._as_of_text()
        source = [f"settlement:claims[{dealer_id}]"]
        if entities.vin:
            claims = _select(claims, claims["vin"] == entities.vin)
            source.append(f"vehicles.parquet:vin={entities.vin}")
            if len(claims["vin"]) == 0:
                return Answer(f"No incentive claim on VIN {entities.vin} is recorded {when}.", source)
            lines = [
                f"{claims['scheme'][row]} {_inr(claims['amount_inr'][row])} filed {_date(claims['filed_date'][row])}: "
                f"{claims['status'][row]}" + (f" ({claims['reason'][row]})" if claims["reason"][row] else "")
                for row in range(len(claims["vin"]))
            ]
            return Answer(f"VIN {entities.vin}, {when}: " + "; ".join(lines) + ".", source)
        count = len(claims["vin"])
        if count == 0:
            return Answer(f"You have filed no incentive claims {when}.", source)
        paid = claims["status"] == "paid"
        rejected = claims["status"] == "rejected"
        text_out = (
            f"{_capital(when)} you have {count} incentive claim{_s(count)}: {int(paid.sum())} paid "
            f"({_inr(claims['amount_inr'][paid].sum())}), {int(rejected.sum())} not paid "
            f"({_inr(claims['amount_inr'][rejected].sum())})."
        )
        if rejected.any():
            reasons, counts = np.unique(claims["reason"][rejected].astype(str), return_counts=True)
            order = np.argsort(-counts, kind="stable")[:LISTED]
            text_out += " Not paid because: " + "; ".join(f"{reasons[i]} ({counts[i]})" for i in order)
            latest = int(np.flatnonzero(rejected)[0])
            text_out += f". Latest: VIN {claims['vin'][latest]}, filed {_date(claims['filed_date'][latest])}."
        return Answer(text_out, source)

    def _campaign_status(self, dealer_id: str, entities: Any, reading: Any, text: str) -> Answer:
        if not self.view.has("campaigns"):
            return _records_missing("Campaign")
        campaigns = self.view.campaigns(dealer_id)
        when = self._as_of_text()
        source = [f"campaigns[{dealer_id}]"]
        if entities.model:
            campaigns = campaigns[campaigns["models"].str.contains(entities.model, regex=False)]
        if campaigns.empty:
            return Answer(f"No campaign covers your dealership {when}.", source)
        lines = []
        for row in campaigns.head(LISTED).itertuples():
            target = f", stock target {row.target_units:.0f} cars" if np.isfinite(row.target_units) else ""
            lines.append(
                f"{row.campaign} ({row.models}, {_date(row.start_date)} to {_date(row.end_date)}, {row.status})"
                f"{target}; {row.positioned_units} cars positioned for you, {row.landed_units} landed, "
                f"{row.sold_units} sold; {row.stock_units} of its models in your yard"
            )
        return Answer(f"{_capital(when)}: " + " | ".join(lines) + ".", source)

    def _other(self, dealer_id: str, entities: Any, reading: Any, text: str) -> Answer:
        if _DECISION.search(text) or entities.quantities:
            return Answer(
                "That needs a decision by your regional manager; I have passed it on.", [], "needs_decision"
            )
        if _GREETING.search(text):
            return Answer(
                "Hello! Ask me about your allocations, a VIN, your yard, parts stock and ETAs, transfers, "
                "stock-out alerts, your statement, incentive claims or campaigns.",
                [],
            )
        return Answer(
            "I can only help with your dealership's vehicles, parts and accounts; a person will follow up.",
            [],
            "out_of_scope",
        )

    # -- helpers ----------------------------------------------------------------------------------------
    def _as_of_text(self) -> str:
        return f"as of {_date(self.view.as_of)}"

    def _stockout_when(self, alerts: dict[str, np.ndarray], row: int) -> str:
        """When the part runs out: now; the alert's expected day while it is still ahead; else (the alert's
        day gone by, stock left) today + available / demand a day, with the alert's own expectation."""
        available = int(alerts["available"][row])
        expected = alerts["expected_stockout_date"][row]
        if available <= 0:
            return "out of stock now"
        if isinstance(expected, dt.date) and expected > self.view.as_of:
            return f"expected out {_date(expected)}"
        raised = f"the alert of {_date(alerts['raised_date'][row])}"
        earlier = f"{raised} expected it by {_date(expected)}" if isinstance(expected, dt.date) else ""
        demand = float(alerts["demand_per_day"][row])
        if not (np.isfinite(demand) and demand > 0):
            return earlier or f"{raised} gave no run-out date"
        days = int(available // demand)
        estimate = f"expected out about {_date(self.view.as_of + dt.timedelta(days=days))} at today's demand"
        return f"{estimate} ({earlier})" if earlier else estimate

    def _part_name(self, sku_id: str) -> str:
        return f"{self.view.part_descriptions[self.view.sku_index(sku_id)]} ({sku_id})"

    def _vehicle_filter(
        self, cars: dict[str, np.ndarray], entities: Any
    ) -> tuple[dict[str, np.ndarray], str]:
        if entities.spec_id:
            return _select(cars, cars["spec_id"] == entities.spec_id), f"{entities.spec_id} "
        if entities.model:
            wanted = str(entities.model).lower()
            return _select(cars, np.char.lower(cars["model"].astype(str)) == wanted), f"{entities.model} "
        return cars, ""

    def _skus_asked(
        self, dealer_id: str, entities: Any, reading: Any, require_position: bool = True
    ) -> list[str]:
        """The part numbers a question names: the linked SKU; else, for a description that fits several SKUs,
        those of them the dealer holds or awaits (all of them when it holds none: the answer then says so);
        else the dealer's parts whose description holds every word of an unlinked mention."""
        if entities.sku_id:
            return [str(entities.sku_id)]
        held = self.view.skus_of_dealer(dealer_id) if require_position else None
        candidates = [str(sku) for sku in getattr(reading, "part_candidates", ()) or ()]
        if candidates:
            if held is None:
                return candidates
            kept = [sku for sku in candidates if held[self.view.sku_index(sku)]]
            return kept or candidates
        found: list[str] = []
        for mention in self._described_items(reading):
            words = tuple(re.findall(r"[a-z0-9]+", mention.lower()))
            # the dealer's own parts first; a description none of them fits is looked up in the catalog
            matched = self.view.skus_described_by(words, held)
            if not matched and held is not None:
                matched = self.view.skus_described_by(words)
            for sku_id in matched:
                if sku_id not in found:
                    found.append(sku_id)
        return found

    def _described_items(self, reading: Any) -> list[str]:
        """The mentions that may describe a part: not an id (VIN, part number, dealer, site or spec code)
        and not a place or dealer name ("Pune dealer", a city with several dealers)."""
        items = []
        for mention in reading.mentions:
            words = re.findall(r"[a-z0-9]+", str(mention).lower())
            if (
                not words
                or any(len(word) >= 11 for word in words)  # a malformed VIN or part number
                or _looks_like_part_number(str(mention))
                or _OTHER_ID.fullmatch(str(mention).strip())
                or self._names_a_dealer(words)
            ):
                continue
            items.append(str(mention))
        return items

    def _names_a_dealer(self, words: Sequence[str]) -> bool:
        if self._dealer_words is None:
            names = " ".join(str(name) for name in self.view.world.network.dealers.name).lower()
            self._dealer_words = frozenset(re.findall(r"[a-z]+", names)) | _DEALER_WORDS
        return any(word in self._dealer_words for word in words)

    def _unknown_part(self, reading: Any) -> Answer | None:
        """A question about a part that is not in the catalog: a part number no SKU has ("P999999"), or a
        description no part fits. Escalated (``data_missing``) rather than answered for every part."""
        for mention in reading.mentions:
            if _looks_like_part_number(str(mention)):
                return Answer(
                    f"Part number {mention} is not in the catalog {self._as_of_text()}; please check the number. "
                    "Your regional manager will follow up.",
                    ["catalog:parts"],
                    "data_missing",
                )
        for mention in self._described_items(reading):
            words = tuple(re.findall(r"[a-z0-9]+", mention.lower()))
            if not self.view.skus_described_by(words):
                return Answer(
                    f"No part in the catalog matches {mention!r} {self._as_of_text()}; please give the part "
                    "number. Your regional manager will follow up.",
                    ["catalog:parts"],
                    "data_missing",
                )
        return None


@dataclass(frozen=True)
class Answer:
    """What an intent's handler found: the text, the records used, and an escalation reason (None: answered)."""

    text: str
    sources: list[str]
    reason: str | None = None


# -- formatting ---------------------------------------------------------------------------------------------
def _date(value: Any) -> str:
    """ "12 Dec 2026" (no leading zero); "an unknown date" for a missing one."""
    if isinstance(value, pd.Timestamp):
        value = value.date()
    if isinstance(value, dt.date):
        return f"{value.day} {value.strftime('%b %Y')}"
    return "an unknown date"


def _inr(amount: float) -> str:
    rounded = round(float(amount))
    return f"INR {rounded:,}" if rounded >= 0 else f"INR -{-rounded:,}"


def _money(amount: float) -> str:
    """ "INR 1,545,998" or, with paise, "INR 849,611.82": a statement's figures add up to the paisa."""
    paise = round(abs(float(amount)) * 100)
    rupees, rest = divmod(paise, 100)
    return f"INR {rupees:,}" + (f".{rest:02d}" if rest else "")


def _signed(amount: float) -> str:
    """A statement figure with its sign: "+INR 62,756", "-INR 80,000", "INR 0"."""
    paise = round(float(amount) * 100)
    return _money(amount) if paise == 0 else f"{'+' if paise > 0 else '-'}{_money(amount)}"


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _one_line(text: str, limit: int) -> str:
    """``text`` as one printable line of at most ``limit`` characters (an audit line cannot be split or
    forged by the text it quotes)."""
    flat = " ".join("".join(c if c.isprintable() else " " for c in text).split()).replace('"', "'")
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _probed(entities: Any, dealer_role: str | None) -> str:
    """The entities a refused question named, for the audit line ("vin=MA3...,dealer_id=D0004")."""
    named = [
        f"{slot}={value}"
        for slot in ("vin", "dealer_id", "sku_id", "spec_id", "model")
        if (value := getattr(entities, slot, None))
    ]
    if dealer_role:
        named.append(f"dealer_role={dealer_role}")
    return ",".join(named) or "-"


def _select(rows: dict[str, np.ndarray], mask: Any) -> dict[str, np.ndarray]:
    """The rows of a column dict where ``mask`` holds."""
    return {name: column[mask] for name, column in rows.items()}


def _vin_rows(transfers: dict[str, np.ndarray], vin: str) -> np.ndarray:
    """Which transfer rows carry ``vin`` (their ``vins`` column lists the cars, space-separated)."""
    return np.fromiter(
        (vin in str(cars).split() for cars in transfers["vins"]), dtype=bool, count=len(transfers["vins"])
    )


def _looks_like_part_number(mention: str) -> bool:
    """Letters and at least four digits, 6 to 20 characters (as ``twin.clara.entities`` reads a part
    number), and not another kind of id."""
    compact = re.sub(r"[^A-Z0-9]", "", mention.upper())
    digits = sum(character.isdigit() for character in compact)
    return (
        6 <= len(compact) <= 20
        and digits >= 4
        and digits < len(compact)
        and not _OTHER_ID.fullmatch(mention.strip())
    )


def _by_transfer(rows: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    """Transfer rows grouped by transfer id, in the view's order: its kind, direction, counterpart, status,
    the latest ETA, the part numbers or specs (``items``), the units and cars it moves."""
    grouped: dict[str, dict[str, Any]] = {}
    for row in range(len(rows["transfer"])):
        transfer = grouped.setdefault(
            str(rows["transfer"][row]),
            {
                name: rows[name][row]
                for name in ("transfer", "kind", "direction", "counterpart_dealer_id", "status")
            }
            | {"eta_date": None, "items": [], "units": 0, "lines": 0},
        )
        transfer["lines"] += 1
        eta = rows["eta_date"][row]
        if isinstance(eta, dt.date) and (transfer["eta_date"] is None or eta > transfer["eta_date"]):
            transfer["eta_date"] = eta
        if rows["item"][row] and rows["item"][row] not in transfer["items"]:
            transfer["items"].append(rows["item"][row])
        transfer["units"] += max(int(rows["units"][row]), 0)
    return list(grouped.values())


def _transfer_goods(transfer: dict[str, Any]) -> str:
    """ "parts, 3 part numbers, 40 units", "dealer trade ELA-ZDi-3, 1 car": what a transfer moves."""
    kind, items, units = transfer["kind"], transfer["items"], transfer["units"]
    if kind == "parts":
        what = f", {items[0]}" if len(items) == 1 else f", {len(items)} part numbers" if items else ""
        amount = f", {units:,} unit{_s(units)}" if units else ""
    else:
        what = f" {items[0]}" if len(items) == 1 else f", {len(items)} specs" if items else ""
        amount = f", {units:,} car{_s(units)}" if units else ""
    return f"{kind}{what}{amount}"


def _car_name(cars: dict[str, np.ndarray], row: int) -> str:
    """ "Dhruv ZXi Magma Grey": the model, the variant without the model's name, the colour."""
    model = str(cars["model"][row])
    return f"{model} {str(cars['variant'][row]).removeprefix(model).strip()} {cars['colour'][row]}"


def _records_missing(records: str) -> Answer:
    """The state lacks the section an answer needs (the feature was off, or a live state carries none)."""
    return Answer(
        f"{records} records are not in the data I have; your regional manager will reply.", [], "data_missing"
    )
