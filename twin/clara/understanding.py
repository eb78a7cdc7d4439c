"""Reading a dealer's question: its intent, the records it names, and whether it tries to talk past the rules.

English, Indian English and Hinglish in Roman script, typed fast ("mera allocation kab aayega", "Dhruv ZX ka
stock?", "stmt bhejo"), all offline: entities by pattern and fuzzy linking (``twin.clara.entities``), the intent
by a classifier trained at first use on the shipped paraphrase corpus (``twin.clara.classifier``), checked
against what the text names (``domain_conflict``: a parts intent for a question about cars is not trusted,
however sure the classifier is). The service (``twin.clara.service``) decides what to answer; this module only
says what was asked and how sure it is.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from twin.clara.classifier import IntentClassifier, trained_classifier
from twin.clara.entities import Entities, EntityExtractor, Extraction
from twin.clara.lexicon import concepts
from twin.clara.vocabulary import Vocabulary

__all__ = [
    "CONFIDENCE_THRESHOLD",
    "INTENTS",
    "Entities",
    "IntentClassifier",
    "Understander",
    "Understanding",
    "Vocabulary",
    "domain_conflict",
    "talks_past_rules",
]

INTENTS: tuple[str, ...] = (
    "allocation_status",
    "vin_status",
    "vehicle_stock",
    "part_stock",
    "part_eta",
    "network_availability",
    "transfer_status",
    "stockout_risk",
    "statement",
    "incentive_status",
    "campaign_status",
    "other",
)

#: below this classifier probability the service escalates (``low_confidence``) instead of answering.
#: Chosen on phrasings the classifier has not seen, never on the evaluation set: ``python -m twin.clara.evaluate
#: --threshold-study`` holds a quarter of the templates out, trains on the rest and reads the held-out ones.
#: There (2026-12-06, with the lexicon's concepts) 0.40 escalated 0.4% and the rest were 93% right; 0.50
#: escalated 2% for 94%, 0.70 5% for 96%. The classifier's wrong readings are mostly confident ones (a
#: phrasing of one intent made of another's words), so a higher threshold escalates many right readings for
#: little; what catches those is the text contradicting the reading (``domain_conflict``), not the probability.
CONFIDENCE_THRESHOLD = 0.40

#: how many characters of a question are read (a longer text is cut there: nobody types 10 kB to a chat)
MAX_TEXT_CHARACTERS = 2000

#: the families of text that try to set the rules aside, each general rather than one sentence:
_OVERRIDE = re.compile(
    # ignore / forget / bypass the rules, instructions, restrictions (English and Hinglish)
    r"\b(?:ignore|forget|disregard|bypass|override|skip|break|turn off|switch off|disable)\s+"
    r"(?:all\s+|the\s+|any\s+|your\s+|previous\s+|prior\s+|above\s+|earlier\s+|these\s+|those\s+|of\s+|my\s+)*"
    r"(?:rules?|instructions?|prompts?|restrictions?|guidelines?|polic(?:y|ies)|limits?|security|checks?|"
    r"filters?|guardrails?|safety|scope|permissions?)"
    r"|\b(?:ignore|disregard|forget)\s+(?:all\s+|the\s+|everything\s+)?(?:above|previous|prior|earlier|"
    r"everything|what\s+(?:you\s+were|i)\s+(?:told|said))\b"
    r"|\b(?:rules?|restrictions?|niyam|limits?|instructions?)\s+(?:ko\s+)?"
    r"(?:ignore|bhool|bhul|chhod|chod|bypass|hata|hatao|tod|todo|mat\s+maan|mat\s+mano)"
    # role play: "you are now ...", "act as ...", "pretend ...", "from now on you ...", "ab tum ... ho"
    r"|\byou\s+are\s+now\b|\bfrom\s+now\s+on\s+(?:you|u)\b|\bnow\s+you\s+are\b"
    r"|\byou\s+are\s+(?:an?\s+|the\s+)?(?:admin|administrator|root|superuser|super\s+user|developer|system|oem|"
    r"head\s+office|regional\s+manager|god|dan|unrestricted|unfiltered)\b"
    r"|\b(?:act|behave|pretend|roleplay|role\s+play)\s+(?:as|like|to\s+be)\b"
    r"|\bpretend\s+(?:you|u|that|to)\b|\bimagine\s+(?:you|u)\s+(?:are|r)\b|\brole\s*-?\s*play\b"
    r"|\b(?:ab\s+)?(?:tum|aap|tu)\s+(?:ab\s+)?(?:admin|developer|root|system|head\s+office|manager)\s+(?:ho|hai|hain|bano)\b"
    r"|\bi\s+am\s+(?:the\s+|your\s+|an?\s+)?(?:admin|administrator|developer|regional\s+manager|head\s+office|oem|"
    r"root|owner|ceo|auditor)\b"
    r"|\bmain\s+(?:admin|developer|head\s+office|regional\s+manager)\s+(?:hoon|hu|hun)\b"
    # special modes and commands
    r"|\b(?:developer|dev|debug|admin|god|root|maintenance|super\s*user|superuser|unrestricted|"
    r"privileged|sudo|dan)\s+(?:mode|access|privileges?|rights|console|shell)\b"
    r"|\bsudo\b|\bjailbreak\w*|\bsu\s+root\b|\bchmod\b|\bexec\s*\(|\bdrop\s+table\b|\bselect\s+\*|"
    r"\bunion\s+select\b|<\s*/?\s*script\b|\{\{.*\}\}"
    # the assistant's own set-up
    r"|\bsystem\s+prompt\b|\bsystem\s+message\b|\binitial\s+prompt\b|\bhidden\s+(?:prompt|instructions?|rules)\b"
    r"|\b(?:reveal|show|print|display|repeat|dump|leak|tell|dikhao|dikha|batao|bata|give)\s+(?:me\s+)?"
    r"(?:(?:your|apna|apne|apni)\s+(?:prompt|instructions|rules|config(?:uration)?|settings|source\s+code|"
    r"training\s+data)|(?:the\s+)?(?:prompt|source\s+code|training\s+data|api\s+keys?|passwords?|credentials|"
    r"secrets?|config(?:uration)?\s+files?))\b"
    r"|\b(?:prompt|instructions|config|source\s+code|password|credentials)\s+(?:dikhao|dikha|batao|bata|bhejo|do)\b"
    # bulk extraction: dump/export all, the whole database
    r"|\b(?:dump|export|download|extract|scrape|leak)\s+(?:me\s+)?(?:all|every|everything|the\s+whole|whole|"
    r"the\s+entire|entire|complete|full|the\s+full|sab|saara|sara|pura|poora)\b"
    r"(?!\s+(?:of\s+)?(?:my|mera|meri|mere|our|hamara|hamari|hamare)\b)"
    r"|\b(?:whole|entire|complete|full|pura|poora|saara)\s+(?:database|db|data\s*base|dataset|master\s+data|"
    r"dealer\s+list|network\s+data)\b|\bdatabase\b|\bsql\b",
    re.IGNORECASE,
)
#: "all dealers", "every dealer's", "sab dealers", "har dealer", "another dealer's", "kisi aur dealer ka" ...
_EVERY_DEALER = re.compile(
    r"\b(?:all|every|each|evry|al|sab|sabhi|saare|sare|saari|har|baaki|baki|other|others|dusre|doosre|another|"
    r"kisi\s+aur|kisi\s+dusre|any\s+other|the\s+other|rest\s+of\s+the|competitor|competitors|competing)"
    r"\s+(?:the\s+)?(?:other\s+)?(?:dealers?|dealerships?|dlrs?|delars?|showrooms?|outlets?)(?:'s|s'|’s)?",
    re.IGNORECASE,
)
#: what one dealer may not see of the others: their lists, accounts, claims, margins and contacts
_PRIVATE_DATA = re.compile(
    r"\b(?:list|lists|dump|export|download|show|dikhao|dikha|bata|batao|give|send|bhejo|print|details?|data|"
    r"statements?|stmt|balances?|ledgers?|accounts?|claims?|incentives?|payments?|sales|margins?|profits?|"
    r"discounts?|prices?|pricing|stock\s*lists?|inventory|inventories|numbers|names|contacts?|phone|mobile|"
    r"emails?|addresses|passwords?|logins?|vins|targets?|allocations?|transfers|performance|turnover|revenue)\b",
    re.IGNORECASE,
)
#: availability questions ("do other dealers have X") are allowed by network policy
_AVAILABILITY = re.compile(
    r"\b(?:have|has|hai|h|available|availability|supply|mil sakti|milegi|milega|transfer|spare|arrange|"
    r"holding|stock of|paas|with|having|kiske|kahan|where|who|which|nearest|nearby|get|source|lend|"
    r"give\s+(?:me\s+|us\s+)?(?:a|an|one|ek|some)|de\s+sakt[aei]|mil\w*)\b",
    re.IGNORECASE,
)
#: words of a request to see others' business rather than to find a car or part
_BULK_WORDS = re.compile(
    r"\b(?:list|dump|export|all|download|margins?|profits?|phone|mobile|contacts?|emails?|numbers|names|"
    r"passwords?|statements?|balances?|ledgers?|claims?|sales|turnover|revenue|performance|targets?)\b",
    re.IGNORECASE,
)


def talks_past_rules(text: str) -> bool:
    """True for text that tries to get round the dealer's scope: instructions to ignore the rules, role play
    ("you are now admin", "act as head office"), special modes ("developer mode", "sudo"), the assistant's
    set-up ("system prompt dikhao"), bulk extraction ("dump all", "export the whole database"), or a request
    for other dealers' lists, accounts, claims, margins or contacts ("every dealer's stock", "phone numbers of
    all dealers"). Asking which dealers could supply a spec is not one of these (network policy allows it)."""
    if _OVERRIDE.search(text):
        return True
    for match in _EVERY_DEALER.finditer(text):
        around = text[max(0, match.start() - 60) : match.end() + 60]
        if _PRIVATE_DATA.search(around) and not (
            _AVAILABILITY.search(around) and not _BULK_WORDS.search(around)
        ):
            return True
        if re.search(r"\b(?:list|dump|export)\s+(?:of\s+)?(?:all|every|sab|saare)\b", around, re.IGNORECASE):
            return True
    return bool(
        re.search(r"\b(?:list|dump|export)\s+(?:all|every|sab|saare)\s+(?:the\s+)?dealers?\b", text, re.I)
    )


@dataclass(frozen=True)
class Understanding:
    """What a question asks (``intent``, with the classifier's ``confidence``), what it names, and whether it
    tries to talk past the rules."""

    intent: str
    confidence: float
    entities: Entities
    talks_past_rules: bool
    #: spans seen but not linked: a VIN with a bad check digit, an unknown part number, an ambiguous name
    mentions: tuple[str, ...]
    #: the SKUs a part description fits equally well when it fits several (catalog order), else empty
    part_candidates: tuple[str, ...] = ()
    #: how another dealer is named: "possessor" (its records are asked for: "D0004's stock", "transfers of
    #: D0004", "D0004 ka statement"), "counterpart" ("transfer from D0004", "Pune Motors 3 se"), "named"
    #: (neither shows); None when no dealer is named
    dealer_role: str | None = None

    #: why the intent read disagrees with what the text names (``domain_conflict``), else None: escalated as
    #: ``low_confidence`` however sure the classifier is
    conflict: str | None = None

    @property
    def confident(self) -> bool:
        return self.confidence >= CONFIDENCE_THRESHOLD and self.conflict is None

    def to_json(self) -> dict[str, object]:
        return {
            "intent": self.intent,
            "confidence": round(self.confidence, 4),
            "entities": self.entities.to_json(),
            "talks_past_rules": self.talks_past_rules,
            "mentions": list(self.mentions),
            "part_candidates": list(self.part_candidates),
            "dealer_role": self.dealer_role,
            "conflict": self.conflict,
        }


class Understander:
    """Reads questions for one network. The classifier is trained on first use and shared per process."""

    def __init__(self, vocabulary: Vocabulary, classifier: IntentClassifier | None = None) -> None:
        self.vocabulary = vocabulary
        self.extractor = EntityExtractor(vocabulary)
        self.classifier = classifier if classifier is not None else trained_classifier(vocabulary, self.mask)

    def mask(self, text: str) -> str:
        """The text as the classifier reads it: entities replaced by placeholders (no date context needed)."""
        return self.extractor.extract(text).masked_text

    def understand(self, text: str, today: dt.date | None = None) -> Understanding:
        return self.understand_many([text], today)[0]

    def understand_many(self, texts: Sequence[str], today: dt.date | None = None) -> list[Understanding]:
        """Many questions at once: one vectorised classifier call (``today`` resolves "kal", "12 Dec")."""
        cleaned = [_clean(text) for text in texts]
        extractions = [self.extractor.extract(text, today) for text in cleaned]
        readable = [index for index, text in enumerate(cleaned) if re.search(r"[A-Za-z0-9]", text)]
        predictions = dict(
            zip(
                readable,
                self.classifier.predict([extractions[index].masked_text for index in readable]),
                strict=True,
            )
        )
        results = []
        for index, (text, extraction) in enumerate(zip(cleaned, extractions, strict=True)):
            intent, confidence = predictions.get(index, ("other", 0.0))
            results.append(_understanding(text, extraction, intent, confidence))
        return results


def _clean(text: str) -> str:
    if not isinstance(text, str):
        raise TypeError(f"question text must be a string, got {type(text).__name__}")
    printable = "".join(character if character.isprintable() else " " for character in text)
    return printable[:MAX_TEXT_CHARACTERS].strip()


#: the intents about cars and about parts, and the words that say which a question is about
_CAR_INTENTS = frozenset({"allocation_status", "vin_status", "vehicle_stock"})
_PART_INTENTS = frozenset({"part_stock", "part_eta"})
_CAR_WORDS = re.compile(r"\b(?:gaa?d(?:i|ee|iy)\w*|cars?|vehicles?|vehs?|vehicals?)\b", re.IGNORECASE)
#: concepts of a question that asks only when something comes
_ONLY_WHEN = frozenset({"when", "movement", "request", "greeting", "vehicle_trace"})
_PART_WORDS = re.compile(r"<part>|\b(?:parts?|prts|spares?)\b", re.IGNORECASE)


#: a request for a decision, in the imperative: "increase my allocation by 5", "approve the pending claim",
#: "extend my credit limit", "waive the freight" (not "is my transfer approved", "transfer kab approve hoga")
_DECISION_ASKED = re.compile(
    r"\b(?:approve|increase|extend|waive|reduce|cancel|stop|sanction|release|raise|badhao|badha\s+do|kam\s+karo)"
    r"\s+(?:my|the|our|this|these|all|pending|mera|meri|mere|hamara|hamari|hamare|<\w+>)\b",
    re.IGNORECASE,
)
#: the concepts or named things that say a question is of an intent (none: nothing in the text points to it)
_EVIDENCE = {
    "allocation_status": {"allocation", "when", "movement", "yard"},
    "vin_status": {"<vin>", "vehicle_trace", "when", "movement"},
    "vehicle_stock": {"yard", "count", "<model>", "<variant>", "<spec>", "<colour>"},
    "part_stock": {"count", "reserved", "<part>", "order"},
    "part_eta": {"when", "movement", "order", "<part>"},
    "network_availability": {"network", "<yard>", "<dealer>"},
    "transfer_status": {"transfer"},
    "stockout_risk": {"alert"},
    "statement": {"money"},
    "incentive_status": {"claim", "money"},
    "campaign_status": {"campaign"},
}


def domain_conflict(intent: str, masked_text: str) -> str | None:
    """Why reading ``intent`` contradicts what the (masked) question says, or None. The classifier can be sure
    of a misreading when a phrasing of one kind of question is made of words it learnt for another; the text
    then still shows it: a decision asked for ("increase my allocation by 5" is no allocation status), nothing
    in it that speaks of the intent ("weather kaisa hai" is no statement), a parts intent for a question that
    speaks of cars and names no part ("hamari gaadiyan kab dispatch hongi"), a car intent for one naming a
    part, an account question asking when cars come, a stock question asking only when something comes. Such
    a reading is escalated (``low_confidence``), not answered."""
    found = set(concepts(masked_text))
    named = {
        kind
        for kind in ("<vin>", "<part>", "<model>", "<variant>", "<spec>", "<colour>", "<yard>", "<dealer>")
        if kind in masked_text
    }
    if intent != "other" and _DECISION_ASKED.search(masked_text):
        return "it asks for a decision, which is a person's to make"
    if intent in _EVIDENCE and not _EVIDENCE[intent] & (found | named):
        return f"nothing in it speaks of {intent.replace('_', ' ')}"
    if intent in _PART_INTENTS and _CAR_WORDS.search(masked_text) and not _PART_WORDS.search(masked_text):
        return "read as a parts question, but it speaks of cars and names no part"
    if intent in _CAR_INTENTS and "<part>" in named:
        return "read as a question about cars, but it names a part"
    if intent == "statement" and _CAR_WORDS.search(masked_text) and "when" in found:
        return "read as a question about the account, but it asks when cars come"
    if intent == "part_stock" and found and found <= _ONLY_WHEN:
        return "read as a question about stock on hand, but it asks only when something comes"
    return None


def _understanding(text: str, extraction: Extraction, intent: str, confidence: float) -> Understanding:
    return Understanding(
        intent=intent,
        confidence=confidence,
        entities=extraction.entities,
        talks_past_rules=talks_past_rules(text),
        mentions=extraction.mentions,
        part_candidates=extraction.part_candidates,
        dealer_role=extraction.dealer_role,
        conflict=domain_conflict(intent, extraction.masked_text),
    )
