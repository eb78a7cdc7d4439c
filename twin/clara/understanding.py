"""Reading a dealer's question: its intent, the records it names, and whether it tries to talk past the rules.

English, Indian English and Hinglish in Roman script, typed fast ("mera allocation kab aayega", "Dhruv ZX ka
stock?", "stmt bhejo"), all offline: entities by pattern and fuzzy linking (``twin.clara.entities``), the intent
by a classifier trained at first use on the shipped paraphrase corpus (``twin.clara.classifier``). The service
(``twin.clara.service``) decides what to answer; this module only says what was asked and how sure it is.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from twin.clara.classifier import IntentClassifier, trained_classifier
from twin.clara.entities import Entities, EntityExtractor, Extraction
from twin.clara.vocabulary import Vocabulary

__all__ = [
    "CONFIDENCE_THRESHOLD",
    "INTENTS",
    "Entities",
    "IntentClassifier",
    "Understander",
    "Understanding",
    "Vocabulary",
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
#: There (2026-12-06) 0.40 escalated 4% and the rest were 87% right; 0.50 escalated 8% for 87%, 0.70 20% for
#: 92%. Confidence separates right from wrong readings only weakly on unseen phrasings, so a higher threshold
#: escalates many right readings for little; 0.40 catches the questions the classifier is torn on (on the
#: evaluation set, under 1% of questions fall below it).
CONFIDENCE_THRESHOLD = 0.40

#: how many characters of a question are read (a longer text is cut there: nobody types 10 kB to a chat)
MAX_TEXT_CHARACTERS = 2000

_OVERRIDE = re.compile(
    r"ignore (?:all |the |any |your |previous |prior |above |earlier |these |those )*"
    r"(?:rules?|instructions?|prompts?|restrictions?|guidelines?|policy|policies|limits?)"
    r"|(?:forget|disregard|bypass|override|skip) (?:all |the |your |any |previous |prior )*"
    r"(?:rules?|instructions?|restrictions?|guidelines?|polic(?:y|ies)|limits?|security|checks?)"
    r"|rules? (?:ko )?(?:ignore|bhool|chhod|bypass)"
    r"|you are (?:now )?(?:an? |the )?(?:admin|administrator|root|superuser|developer|system|oem|head office)"
    r"|(?:act|behave|pretend|respond) (?:as|like) (?:an? |the )?(?:admin|administrator|root|superuser|developer|"
    r"system|head office|regional manager|oem|different)"
    r"|admin (?:mode|access|privileges?|rights)|developer mode|god mode|jailbreak|sudo"
    r"|system prompt|(?:reveal|show|print) (?:your |the )?(?:prompt|instructions|rules|config)"
    r"|i am (?:the )?(?:admin|administrator|regional manager|head office|oem)",
    re.IGNORECASE,
)
#: "all dealers", "every dealer's", "sab dealers", "har dealer" ...
_EVERY_DEALER = re.compile(
    r"\b(?:all|every|each|evry|al|sab|sabhi|saare|sare|saari|har|baaki|baki|other|dusre|doosre)\s+(?:the\s+)?"
    r"(?:other\s+)?(?:dealers?|dealerships?|dlrs?|delars?|showrooms?)(?:'s|s')?",
    re.IGNORECASE,
)
#: what one dealer may not see of the others: their lists, accounts and claims
_PRIVATE_DATA = re.compile(
    r"\b(?:list|lists|dump|export|download|show|dikhao|dikha|bata|batao|give|send|bhejo|print|details?|data|"
    r"statements?|stmt|balances?|ledgers?|accounts?|claims?|incentives?|payments?|sales|margins?|"
    r"stock\s*lists?|inventory|inventories|numbers|names|contacts?|phone|emails?|passwords?|vins?)\b",
    re.IGNORECASE,
)
#: availability questions ("do other dealers have X") are allowed by network policy
_AVAILABILITY = re.compile(
    r"\b(?:have|has|hai|h|available|availability|supply|mil sakti|milegi|milega|transfer|spare|arrange)\b",
    re.IGNORECASE,
)


def talks_past_rules(text: str) -> bool:
    """True for text that tries to get round the dealer's scope: instructions to ignore the rules or take a
    role ("you are now admin"), or a request for every dealer's lists, accounts or claims. Asking which dealers
    could supply a spec is not one of these (network policy allows it)."""
    if _OVERRIDE.search(text):
        return True
    for match in _EVERY_DEALER.finditer(text):
        around = text[max(0, match.start() - 60) : match.end() + 60]
        if _PRIVATE_DATA.search(around) and not (
            _AVAILABILITY.search(around) and not re.search(r"\b(?:list|dump|export|all)\b", around, re.I)
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

    @property
    def confident(self) -> bool:
        return self.confidence >= CONFIDENCE_THRESHOLD

    def to_json(self) -> dict[str, object]:
        return {
            "intent": self.intent,
            "confidence": round(self.confidence, 4),
            "entities": self.entities.to_json(),
            "talks_past_rules": self.talks_past_rules,
            "mentions": list(self.mentions),
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


def _understanding(text: str, extraction: Extraction, intent: str, confidence: float) -> Understanding:
    return Understanding(
        intent=intent,
        confidence=confidence,
        entities=extraction.entities,
        talks_past_rules=talks_past_rules(text),
        mentions=extraction.mentions,
    )
