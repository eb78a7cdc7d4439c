"""Finding the things a dealer's question is about: ids by pattern, names by fuzzy linking to master data.

Patterns first, because they are exact: a 17-character VIN (its ISO 3779 check digit decides whether it is
linked or only kept as a mention), dealer/yard/carrier ids, spec codes, part numbers, dates and quantities. Then
the names dealers type, linked with rapidfuzz to the network's vocabulary: models ("druv" -> Dhruv), variants
("zx" -> ZXi), colours, dealer names and cities ("Pune dealer"), stockyards, carriers and part descriptions
("brek pads for kavi"). A span that looks like an entity but links to nothing, or to several records equally
well, is kept in ``mentions`` and its slot stays empty: the service then asks or escalates instead of guessing.

Every span found is also masked in a copy of the text ("<vin>", "<part>", "<model>"...), which is what the
intent classifier reads, so it learns how a question is phrased rather than which VIN or part it names.
"""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process

from twin.clara.corpus.templates import TEMPLATES
from twin.clara.vocabulary import Vocabulary, normalise
from twin.domain.vin import VIN_LENGTH, check_digit

_VIN_CANDIDATE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{16,18}(?![A-Za-z0-9])")
_DEALER_ID = re.compile(r"(?<![A-Za-z0-9])[Dd]-?(\d{1,4})(?![A-Za-z0-9])")
_SITE_ID = re.compile(r"(?<![A-Za-z0-9])(SY|CR|PL|DC)[ -]?(\d{1,2})(?![A-Za-z0-9])", re.IGNORECASE)
_SPEC_CODE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{3}-[A-Za-z0-9+]{2,8}-\d{1,2}(?![A-Za-z0-9])")
_PART_NUMBER = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){4,19}(?![A-Za-z0-9])")
_WORD = re.compile(r"[A-Za-z0-9+]+")

_MONTHS = {name.lower(): index for index, name in enumerate(calendar.month_abbr) if name}
_MONTHS |= {name.lower(): index for index, name in enumerate(calendar.month_name) if name}
_MONTHS |= {"sept": 9}
_MONTH_WORD = r"(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")"
_ORDINAL = r"(?:st|nd|rd|th)?"
_DATE_PATTERNS = (
    ("iso", re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)")),
    (
        "day_month_number",
        re.compile(r"(?<![\d/.-])(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{2}|\d{4}))?(?![\d/.-])"),
    ),
    (
        "day_month_word",
        re.compile(
            rf"(?<![A-Za-z0-9])(\d{{1,2}}){_ORDINAL}\s*(?:of\s+)?({_MONTH_WORD})\b\.?(?:\s*(\d{{4}}))?", re.I
        ),
    ),
    (
        "month_word_day",
        re.compile(rf"\b({_MONTH_WORD})\.?\s*(\d{{1,2}}){_ORDINAL}(?![A-Za-z0-9])(?:,?\s*(\d{{4}}))?", re.I),
    ),
)
#: any day, to tell whether "31/2" is a date when the day asked is not known
_ANY_DAY = dt.date(2000, 1, 1)
#: how far back a date written without a year may lie before it is read as next year's
RECENT_PAST_DAYS = 60
_WEEKDAYS = {name.lower(): index for index, name in enumerate(calendar.day_name)}
_WEEKDAYS |= {name.lower(): index for index, name in enumerate(calendar.day_abbr)}
_WEEKDAYS |= {"tues": 1, "thurs": 3, "thur": 3, "weds": 2}
#: relative day words (English and Hinglish) -> days from today; "kal" is tomorrow, the reading dealers mean
#: when they ask when something comes
_RELATIVE_DAYS = {
    "day after tomorrow": 2,
    "parso": 2,
    "parson": 2,
    "tomorrow": 1,
    "tomorow": 1,
    "tommorow": 1,
    "tommorrow": 1,
    "tmrw": 1,
    "tmr": 1,
    "kal": 1,
    "today": 0,
    "aaj": 0,
    "yesterday": -1,
}
_RELATIVE_DAY = re.compile(
    r"\b(" + "|".join(sorted((re.escape(word) for word in _RELATIVE_DAYS), key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)
_NEXT_WEEK = re.compile(r"\b(?:next|agle|agla|agli)\s+(?:week|hafte|hafta|wk)\b", re.IGNORECASE)
_WEEKDAY = re.compile(
    r"\b(?:(next|this|by|on|till|until|coming|agle|since|last)\s+)?("
    + "|".join(sorted(_WEEKDAYS, key=len, reverse=True))
    + r")\b",
    re.IGNORECASE,
)

_QUANTITY_UNITS = (
    r"units?|pcs?|pieces?|nos?|sets?|pairs?|litres?|liters?|ltrs?|boxes|box|cars?|vehicles?|gaadi(?:yan|yaan)?|"
    r"gadi(?:yan|yaan)?|qty|tyres?|batteries|battery"
)
_QUANTITY_PATTERNS = (
    re.compile(rf"(?<![A-Za-z0-9<])(\d{{1,5}})\s*(?:{_QUANTITY_UNITS})\b", re.IGNORECASE),
    re.compile(r"\b(?:qty|quantity|qnty|qtty)\s*(?:of|:|=|-)?\s*(\d{1,5})(?![A-Za-z0-9])", re.IGNORECASE),
    re.compile(r"(?<![A-Za-z0-9<])(\d{1,5})\s+(?:more|extra|aur|additional|zyada|jyada)\b", re.IGNORECASE),
    re.compile(r"(?<![A-Za-z0-9<])(\d{1,5})\s+<model>", re.IGNORECASE),
    re.compile(
        r"\b(?:need|needs|want|send|order|bhejo|bhej|chahiye|chaiye|dedo|required|require|book|allot|allocate)"
        r"\s+(\d{1,5})(?![A-Za-z0-9/.-])",
        re.IGNORECASE,
    ),
)

#: words a dealer writes next to a city when the city means a dealership
_DEALER_WORDS = frozenset(
    {"dealer", "dealers", "dealership", "dealr", "delar", "showroom", "motors", "motor", "wale", "wala", "waale",
     "outlet", "branch"}
)  # fmt: skip
_YARD_WORDS = frozenset({"yard", "yards", "stockyard", "stockyards", "stock-yard", "depot"})
#: common words too close to a model or part word to be linked fuzzily (they must match exactly or not at all)
_NOT_NAMES = frozenset(
    {"gadi", "gaadi", "bold", "plan", "clean", "kitna", "kitne", "bata", "batao", "hai", "kab", "mera", "meri",
     "mere", "what", "when", "where", "with", "stock", "status", "have", "gate", "date", "data", "late", "rate",
     "pad", "pads", "part", "parts", "send", "sent", "arrive", "aata", "aati", "ata", "bhai", "sir",
     "again", "also", "order", "orders", "older", "alert", "claim", "claims", "cost", "left", "list", "tyre",
     "tire", "tyres", "tires", "will", "hello", "hi", "ok", "okay", "thanks", "front", "rear", "yet", "abhi",
     "tak", "ka", "ki", "ke", "ko", "se", "me", "mein", "nahi", "nhi", "bhi", "aur", "and", "the", "for", "our",
     "your", "mujhe", "hume", "humara", "hamara", "please", "pls", "plz", "kya", "kyu", "kyun", "kaise",
     "statement", "balance", "payment", "campaign", "transfer", "allocation", "incentive", "vehicle"}
)  # fmt: skip
#: generic colour words and the named colours they may stand for
_COLOUR_WORDS = {
    "white": "white",
    "safed": "white",
    "silver": "silver",
    "grey": "grey",
    "gray": "grey",
    "black": "black",
    "kala": "black",
    "kaali": "black",
    "red": "red",
    "laal": "red",
    "lal": "red",
    "blue": "blue",
    "neela": "blue",
    "brown": "brown",
}
_VARIANT_AUTOMATIC = ("at", "amt", "auto", "automatic")


@dataclass(frozen=True)
class Entities:
    """What a question names, as master-data ids (``None`` when not named or not linkable)."""

    vin: str | None = None
    sku_id: str | None = None
    spec_id: str | None = None
    model: str | None = None
    dealer_id: str | None = None
    stockyard_id: str | None = None
    carrier_id: str | None = None
    #: ISO dates (yyyy-mm-dd), in the order written
    dates: tuple[str, ...] = ()
    quantities: tuple[int, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Every slot, set or not (``None`` / ``[]``), so a consumer can rely on the keys."""
        return {
            "vin": self.vin,
            "sku_id": self.sku_id,
            "spec_id": self.spec_id,
            "model": self.model,
            "dealer_id": self.dealer_id,
            "stockyard_id": self.stockyard_id,
            "carrier_id": self.carrier_id,
            "dates": list(self.dates),
            "quantities": list(self.quantities),
        }


@dataclass(frozen=True)
class Extraction:
    entities: Entities
    #: spans that look like entities but link to nothing (or to several records equally well)
    mentions: tuple[str, ...]
    #: the text with every span replaced by its placeholder: what the intent classifier reads
    masked_text: str


@dataclass
class _Found:
    """Spans claimed so far (character ranges of the original text) and what they linked to."""

    text: str
    spans: list[tuple[int, int, str]] = field(default_factory=list)
    slots: dict[str, str] = field(default_factory=dict)
    dates: list[tuple[int, str]] = field(default_factory=list)
    quantities: list[tuple[int, int]] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)

    def free(self, start: int, end: int) -> bool:
        return all(end <= taken_start or start >= taken_end for taken_start, taken_end, _ in self.spans)

    def claim(self, start: int, end: int, placeholder: str) -> None:
        self.spans.append((start, end, placeholder))

    def link(self, slot: str, value: str, span_text: str) -> None:
        """Fill ``slot`` unless already filled by another value (then the span becomes a mention)."""
        current = self.slots.get(slot)
        if current is None:
            self.slots[slot] = value
        elif current != value:
            self.mention(span_text)

    def mention(self, span_text: str) -> None:
        cleaned = span_text.strip()
        if cleaned and cleaned not in self.mentions:
            self.mentions.append(cleaned)

    def masked(self) -> str:
        pieces = []
        position = 0
        for start, end, placeholder in sorted(self.spans):
            if start < position:
                continue
            pieces.append(self.text[position:start])
            pieces.append(f" {placeholder} ")
            position = end
        pieces.append(self.text[position:])
        return re.sub(r"\s+", " ", "".join(pieces)).strip()


@dataclass(frozen=True)
class _Token:
    start: int
    end: int
    word: str  # lower case


class EntityExtractor:
    """Patterns plus fuzzy linking against one network's ``Vocabulary``; stateless per call."""

    #: a name token links to a model/part word at this rapidfuzz ratio or above (4-letter tokens need 85,
    #: shorter ones must match exactly): "druv" -> dhruv (89), "brek" -> brake (89), "gadi" vs gati (75) not
    FUZZY_RATIO = 80.0
    SHORT_TOKEN_RATIO = 85.0

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary
        self._models_lower = {model.lower(): model for model in vocabulary.models}
        self._spec_by_code = {spec_id.upper(): spec_id for spec_id in vocabulary.spec_parts}
        self._variant_forms = {
            model: _variant_forms(names) for model, names in vocabulary.variants_by_model.items()
        }
        self._colours_by_word: dict[str, set[str]] = defaultdict(set)
        for colour in vocabulary.colours:
            words = normalise(colour).split()
            self._colours_by_word[" ".join(words)].add(colour)
            for word in words:
                self._colours_by_word[_COLOUR_WORDS.get(word, word)].add(colour)
        for word, generic in _COLOUR_WORDS.items():
            if generic in self._colours_by_word:
                self._colours_by_word[word] = self._colours_by_word[generic]
        self._cities = {city: ids for city, ids in vocabulary.dealers_by_city.items()}
        self._city_first_words = {city.split()[0] for city in self._cities}
        self._parts = _PartIndex(vocabulary)

    # -- the whole pass -------------------------------------------------------------------------------
    def extract(self, text: str, today: dt.date | None = None) -> Extraction:
        found = _Found(text)
        self._vins(found)
        self._ids(found)
        self._spec_codes(found)
        self._part_numbers(found)
        self._dates(found, today)
        tokens = [
            _Token(match.start(), match.end(), match.group().lower())
            for match in _WORD.finditer(text)
            if found.free(match.start(), match.end())
        ]
        tokens = self._dealer_names(found, tokens)
        tokens = self._yards_and_carriers(found, tokens)
        tokens = self._vehicles(found, tokens)
        self._part_descriptions(found, tokens)
        self._quantities(found)
        slots = found.slots
        entities = Entities(
            vin=slots.get("vin"),
            sku_id=slots.get("sku_id"),
            spec_id=slots.get("spec_id"),
            model=slots.get("model"),
            dealer_id=slots.get("dealer_id"),
            stockyard_id=slots.get("stockyard_id"),
            carrier_id=slots.get("carrier_id"),
            dates=tuple(dict.fromkeys(value for _, value in sorted(found.dates))),
            quantities=tuple(value for _, value in sorted(found.quantities)),
        )
        return Extraction(entities, tuple(found.mentions), found.masked())

    # -- patterns -------------------------------------------------------------------------------------
    def _vins(self, found: _Found) -> None:
        for match in _VIN_CANDIDATE.finditer(found.text):
            candidate = match.group()
            letters = sum(character.isalpha() for character in candidate)
            digits = sum(character.isdigit() for character in candidate)
            if letters < 2 or digits < 4:
                continue
            found.claim(match.start(), match.end(), "<vin>")
            upper = candidate.upper()
            if len(upper) == VIN_LENGTH and not set("IOQ") & set(upper) and check_digit(upper) == upper[8]:
                found.link("vin", upper, candidate)
            else:
                found.mention(candidate)

    def _ids(self, found: _Found) -> None:
        vocabulary = self.vocabulary
        for match in _DEALER_ID.finditer(found.text):
            if not found.free(match.start(), match.end()):
                continue
            dealer_id = f"D{int(match.group(1)):04d}"
            found.claim(match.start(), match.end(), "<dealer>")
            if dealer_id in vocabulary.dealer_names:
                found.link("dealer_id", dealer_id, match.group())
            else:
                found.mention(match.group())
        for match in _SITE_ID.finditer(found.text):
            if not found.free(match.start(), match.end()):
                continue
            kind = match.group(1).upper()
            site_id = f"{kind}{int(match.group(2)):02d}"
            slot, known, placeholder = {
                "SY": ("stockyard_id", vocabulary.stockyard_names, "<yard>"),
                "CR": ("carrier_id", vocabulary.carrier_names, "<carrier>"),
            }.get(kind, ("", vocabulary.site_names, "<site>"))
            found.claim(match.start(), match.end(), placeholder)
            if site_id not in known:
                found.mention(match.group())
            elif slot:
                found.link(slot, site_id, match.group())

    def _spec_codes(self, found: _Found) -> None:
        for match in _SPEC_CODE.finditer(found.text):
            if not found.free(match.start(), match.end()):
                continue
            code = match.group().upper().replace("+", "P")
            found.claim(match.start(), match.end(), "<spec>")
            spec_id = self._spec_by_code.get(code)
            if spec_id is None:
                found.mention(match.group())
                continue
            found.link("spec_id", spec_id, match.group())
            found.link("model", self.vocabulary.spec_parts[spec_id][0], match.group())

    def _part_numbers(self, found: _Found) -> None:
        for match in _PART_NUMBER.finditer(found.text):
            if not found.free(match.start(), match.end()):
                continue
            raw = match.group()
            compact = re.sub(r"[^A-Z0-9]", "", raw.upper())
            sku_id = self.vocabulary.sku_by_number.get(compact)
            if sku_id is not None:
                found.claim(match.start(), match.end(), "<part>")
                found.link("sku_id", sku_id, raw)
                continue
            digits = sum(character.isdigit() for character in compact)
            letters = sum(character.isalpha() for character in compact)
            # looks like a part number: letters and at least four digits (a pincode or a bare count does not)
            if letters and digits >= 4 and len(compact) >= 6 and not _is_date_like(raw):
                found.claim(match.start(), match.end(), "<part>")
                found.mention(raw)

    def _dates(self, found: _Found, today: dt.date | None) -> None:
        text = found.text
        for kind, pattern in _DATE_PATTERNS:
            for match in pattern.finditer(text):
                if not found.free(match.start(), match.end()):
                    continue
                # without the day asked a date is still a date (masked alike), but a year left out is unknown
                parsed = _parse_date(kind, match, today or _ANY_DAY)
                if parsed is None:
                    continue
                found.claim(match.start(), match.end(), "<date>")
                if today is not None or kind == "iso" or match.group(3):
                    found.dates.append((match.start(), parsed.isoformat()))
        for match in _NEXT_WEEK.finditer(text):
            if found.free(match.start(), match.end()):
                found.claim(match.start(), match.end(), "<date>")
                if today is not None:
                    monday = today + dt.timedelta(days=7 - today.weekday())
                    found.dates.append((match.start(), monday.isoformat()))
        for match in _RELATIVE_DAY.finditer(text):
            if found.free(match.start(), match.end()):
                found.claim(match.start(), match.end(), "<date>")
                if today is not None:
                    word = match.group(1).lower()
                    offset = _RELATIVE_DAYS[word]
                    if word == "kal" and _past_around(text, match):
                        offset = -1  # "kal bheja tha": yesterday
                    found.dates.append((match.start(), (today + dt.timedelta(days=offset)).isoformat()))
        for match in _WEEKDAY.finditer(text):
            if not found.free(match.start(), match.end()):
                continue
            word = match.group(2).lower()
            # "sat"/"sun"/"wed"/"mon" alone are too often other words; full names or a lead word count
            if len(word) <= 3 and not match.group(1):
                continue
            found.claim(match.start(), match.end(), "<date>")
            if today is not None:
                # the coming one ("next friday" said on a Wednesday is in two days, as dealers mean it), or the
                # one just gone when the sentence is about the past ("the request I raised monday")
                if (match.group(1) or "").lower() in ("since", "last") or _past_around(text, match):
                    ahead = -((today.weekday() - _WEEKDAYS[word]) % 7 or 7)
                else:
                    ahead = (_WEEKDAYS[word] - today.weekday()) % 7 or 7
                found.dates.append((match.start(), (today + dt.timedelta(days=ahead)).isoformat()))

    def _quantities(self, found: _Found) -> None:
        masked = found.masked()
        # quantities are read off the masked text (ids, dates and names already replaced), then located back
        for pattern in _QUANTITY_PATTERNS:
            for match in pattern.finditer(masked):
                value = int(match.group(1))
                if value <= 0:
                    continue
                found.quantities.append((match.start(1), value))
        seen: dict[int, int] = {}
        for position, value in found.quantities:
            seen.setdefault(position, value)
        found.quantities = sorted(seen.items())
        if found.quantities:
            # mark the numbers in the original text for the classifier
            for match in re.finditer(r"(?<![A-Za-z0-9])\d{1,5}(?![A-Za-z0-9/.-])", found.text):
                if found.free(match.start(), match.end()) and int(match.group()) in {
                    v for _, v in found.quantities
                }:
                    found.claim(match.start(), match.end(), "<qty>")

    # -- names ----------------------------------------------------------------------------------------
    def _dealer_names(self, found: _Found, tokens: list[_Token]) -> list[_Token]:
        """Full dealer names ("Pune Motors 3"), then a city next to a dealer word ("Pune dealer")."""
        words = [token.word for token in tokens]
        used: set[int] = set()
        for size in (4, 3, 2):
            for index in range(len(tokens) - size + 1):
                if used & set(range(index, index + size)):
                    continue
                phrase = " ".join(words[index : index + size])
                dealer_id = self.vocabulary.dealer_by_name.get(phrase)
                if dealer_id is None:
                    continue
                span = found.text[tokens[index].start : tokens[index + size - 1].end]
                found.claim(tokens[index].start, tokens[index + size - 1].end, "<dealer>")
                found.link("dealer_id", dealer_id, span)
                used |= set(range(index, index + size))
        for index, token in enumerate(tokens):
            if index in used or token.word not in self._city_first_words:
                continue
            city, length = self._city_at(words, index)
            if city is None:
                continue
            neighbours = set(words[max(0, index - 2) : index]) | set(
                words[index + length : index + length + 3]
            )
            if not neighbours & _DEALER_WORDS:
                continue
            end_token = tokens[index + length - 1]
            span = found.text[token.start : end_token.end]
            found.claim(token.start, end_token.end, "<dealer>")
            used |= set(range(index, index + length))
            dealers = self._cities[city]
            if len(dealers) == 1:
                found.link("dealer_id", dealers[0], span)
            else:
                found.mention(span)
        return [token for index, token in enumerate(tokens) if index not in used]

    def _city_at(self, words: list[str], index: int) -> tuple[str | None, int]:
        for length in (3, 2, 1):
            phrase = " ".join(words[index : index + length])
            if phrase in self._cities:
                return phrase, length
        return None, 0

    def _yards_and_carriers(self, found: _Found, tokens: list[_Token]) -> list[_Token]:
        vocabulary = self.vocabulary
        words = [token.word for token in tokens]
        used: set[int] = set()
        for index, word in enumerate(words):
            if word not in _YARD_WORDS:
                continue
            # "<place> yard", "yard <place>", "stockyard at <place>"
            for start, length in (
                (index - 2, 2),
                (index - 1, 1),
                (index + 1, 1),
                (index + 2, 1),
                (index + 1, 2),
            ):
                if start < 0 or start + length > len(words) or used & set(range(start, start + length)):
                    continue
                phrase = " ".join(words[start : start + length])
                yard_id = vocabulary.stockyard_by_name.get(phrase)
                if yard_id is None:
                    continue
                first, last = min(start, index), max(start + length - 1, index)
                span = found.text[tokens[first].start : tokens[last].end]
                found.claim(tokens[first].start, tokens[last].end, "<yard>")
                found.link("stockyard_id", yard_id, span)
                used |= set(range(first, last + 1))
                break
        for index, word in enumerate(words):
            if index in used or len(word) < 5:
                continue
            for size in (3, 2, 1):
                phrase = " ".join(words[index : index + size])
                carrier_id = vocabulary.carrier_by_name.get(phrase)
                if carrier_id is None:
                    continue
                span = found.text[tokens[index].start : tokens[index + size - 1].end]
                found.claim(tokens[index].start, tokens[index + size - 1].end, "<carrier>")
                found.link("carrier_id", carrier_id, span)
                used |= set(range(index, index + size))
                break
        return [token for index, token in enumerate(tokens) if index not in used]

    def _model_of(self, word: str) -> str | None:
        exact = self._models_lower.get(word)
        if exact is not None:
            return exact
        if len(word) < 4 or word in _NOT_NAMES or word.isdigit():
            return None
        best = process.extractOne(word, list(self._models_lower), scorer=fuzz.ratio)
        if best is None:
            return None
        needed = self.SHORT_TOKEN_RATIO if len(word) == 4 else self.FUZZY_RATIO
        return self._models_lower[best[0]] if best[1] >= needed else None

    def _vehicles(self, found: _Found, tokens: list[_Token]) -> list[_Token]:
        """Model, then variant and colour near it; all three known -> the spec id."""
        used: set[int] = set()
        models: list[tuple[int, str]] = []
        for index, token in enumerate(tokens):
            model = self._model_of(token.word)
            if model is not None:
                models.append((index, model))
        if not models:
            return tokens
        words = [token.word for token in tokens]
        for index, model in models:
            found.claim(tokens[index].start, tokens[index].end, "<model>")
            found.link("model", model, found.text[tokens[index].start : tokens[index].end])
            used.add(index)
        model_index, model = models[0]
        variant, variant_span = self._variant_near(words, model_index, model)
        if variant is not None:
            start, end = variant_span
            found.claim(tokens[start].start, tokens[end - 1].end, "<variant>")
            used |= set(range(start, end))
        colours, colour_span = self._colour_in(words, used, model)
        if colour_span is not None:
            start, end = colour_span
            found.claim(tokens[start].start, tokens[end - 1].end, "<colour>")
            used |= set(range(start, end))
        if variant is not None and colours:
            if len(colours) == 1:
                spec_id = self.vocabulary.spec_by_parts.get((model, variant, next(iter(colours))))
                if spec_id is not None:
                    found.link("spec_id", spec_id, model)
            elif colour_span is not None:
                found.mention(found.text[tokens[colour_span[0]].start : tokens[colour_span[1] - 1].end])
        return [token for index, token in enumerate(tokens) if index not in used]

    def _variant_near(
        self, words: list[str], model_index: int, model: str
    ) -> tuple[str | None, tuple[int, int]]:
        forms = self._variant_forms.get(model, {})
        for start in range(model_index + 1, min(len(words), model_index + 3)):
            for length in (3, 2, 1):
                phrase = " ".join(words[start : start + length])
                if start + length <= len(words) and phrase in forms:
                    return forms[phrase], (start, start + length)
        return None, (0, 0)

    def _colour_in(
        self, words: list[str], used: set[int], model: str
    ) -> tuple[set[str], tuple[int, int] | None]:
        offered = {colour for (name, _, colour) in self.vocabulary.spec_by_parts if name == model}
        for index in range(len(words)):
            if index in used:
                continue
            for length in (2, 1):
                phrase = " ".join(words[index : index + length])
                colours = self._colours_by_word.get(phrase)
                if colours and index + length <= len(words):
                    return colours & offered or colours, (index, index + length)
        return set(), None

    def _part_descriptions(self, found: _Found, tokens: list[_Token]) -> None:
        match = self._parts.match([token.word for token in tokens], found.slots.get("model"))
        if match is None:
            return
        sku_id, token_indices = match
        first, last = min(token_indices), max(token_indices)
        span = found.text[tokens[first].start : tokens[last].end]
        for index in token_indices:
            found.claim(tokens[index].start, tokens[index].end, "<part>")
        if sku_id is None:
            found.mention(span)
        elif "sku_id" not in found.slots:
            found.link("sku_id", sku_id, span)


class _PartIndex:
    """Part descriptions as word sets. A question's words are linked to part words, exactly or fuzzily
    ("brek" -> brake, "pads" -> pad), never from the words questions are phrased with ("stock", "status",
    "cars"); then the SKU whose description covers the most of them, fits the model named and is current
    wins. Several SKUs covering them equally well (front and rear pads, petrol and diesel filters) is an
    ambiguity: no SKU, the span is a mention."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        described = vocabulary.described_parts
        model_words = {model.lower() for model in vocabulary.models}
        self.entries = described
        #: each description's words in order (models, sizes and stop words left out), and as a set
        self.sequences: list[tuple[str, ...]] = []
        self.words: list[frozenset[str]] = []
        #: words that name a part on their own: a description's first word or a category ("battery", "horn")
        self.head_nouns: set[str] = set()
        for entry in described:
            sequence = tuple(
                _stem(word)
                for word in normalise(entry.description).split()
                if word not in model_words
                and len(word) > 1
                and not any(character.isdigit() for character in word)
                and word not in _PART_STOP_WORDS
            )
            self.sequences.append(sequence)
            self.words.append(frozenset(sequence))
            if sequence:
                self.head_nouns.add(sequence[0])
            self.head_nouns.update(
                _stem(word) for word in normalise(entry.category.replace("_", " ")).split()
            )
        self.by_word: dict[str, list[int]] = defaultdict(list)
        for index, words in enumerate(self.words):
            for word in words:
                self.by_word[word].append(index)
        self.phrasing_words = (_phrasing_words() | _PHRASING_ONLY) - _PART_WORDS_IN_PHRASING
        #: words that say what a part is (the generic ones only narrow it down: "front", "set", "petrol")
        self.naming_words = sorted(word for word in self.by_word if word not in _GENERIC_PART_WORDS)
        skeletons: dict[str, set[str]] = defaultdict(set)
        for word in self.naming_words:
            if len(word) >= 4:
                skeletons[_skeleton(word)].add(word)
        self.by_skeleton = {
            skeleton: next(iter(words)) for skeleton, words in skeletons.items() if len(words) == 1
        }

    def _word_of(self, word: str) -> str | None:
        if word in self.phrasing_words:
            return None
        stemmed = _stem(word)
        if stemmed in self.by_word:
            return stemmed
        if len(stemmed) < 4 or word in _NOT_NAMES or any(character.isdigit() for character in stemmed):
            return None
        best = process.extractOne(stemmed, self.naming_words, scorer=fuzz.ratio)
        needed = EntityExtractor.SHORT_TOKEN_RATIO if len(stemmed) == 4 else EntityExtractor.FUZZY_RATIO
        if best is not None and best[1] >= needed:
            return str(best[0])
        # a vowel typed wrong or left out ("brek" for brake, "filtr" for filter): the consonants agree
        return self.by_skeleton.get(_skeleton(stemmed))

    def match(self, words: list[str], model: str | None) -> tuple[str | None, list[int]] | None:
        """(sku id, or None when ambiguous; the indices of the words that named a part), or None."""
        if not self.entries:
            return None
        linked: dict[int, str] = {}
        for index, word in enumerate(words):
            part_word = self._word_of(word)
            if part_word is not None:
                linked[index] = part_word
        naming = {word for word in linked.values() if word not in _GENERIC_PART_WORDS}
        if not naming or (len(naming) == 1 and not naming & self.head_nouns):
            return None  # "colour", "low" alone name no part; "battery", "horn" do
        wanted = set(linked.values())
        candidates: set[int] = set()
        for word in naming:
            candidates |= set(self.by_word[word])
        scored = []
        for candidate in candidates:
            entry = self.entries[candidate]
            fits = model is None or not entry.fits_models or model in entry.fits_models
            sequence = self.sequences[candidate]
            # "clutch plate" is the Clutch plate, not the Clutch pressure plate: words written together count
            together = sum(
                first in wanted and second in wanted for first, second in itertools.pairwise(sequence)
            )
            scored.append(
                (len(wanted & self.words[candidate]), fits, together, entry.superseded_by < 0, candidate)
            )
        scored.sort(reverse=True)
        best = scored[0]
        token_indices = sorted(index for index, word in linked.items() if word in self.words[best[-1]])
        if not token_indices:
            return None
        ties = [row for row in scored if row[:-1] == best[:-1]]
        if (model is not None and not best[1]) or len(ties) > 1:
            return None, token_indices
        return self.entries[best[-1]].sku_id, token_indices


_PART_STOP_WORDS = frozenset(
    {"for", "and", "with", "of", "the", "a", "an", "to", "in", "ka", "ki", "ke", "assy"}
)
#: description words that narrow a part down but do not name one
_GENERIC_PART_WORDS = frozenset(
    {"set", "kit", "front", "rear", "lh", "rh", "left", "right", "upper", "lower", "inner", "outer", "assembly",
     "petrol", "diesel", "cng", "at", "mt", "side", "driver", "passenger", "long", "life", "black", "grey", "tan",
     "silver", "white", "red", "blue", "brown", "pu", "leather", "fabric", "rubber", "chrome", "led", "halogen",
     "element", "concentrate", "universal", "heavy", "duty", "premium", "standard", "genuine"}
)  # fmt: skip
#: words dealers phrase questions with that descriptions also use; never read as naming a part
_PHRASING_ONLY = frozenset(
    {"car", "cars", "order", "stock", "status", "time", "date", "plant", "yard", "low"}
)
#: template words that are part words all the same ("seat cover", "ac filter")
_PART_WORDS_IN_PHRASING = frozenset({"ac", "cover"})


def _phrasing_words() -> set[str]:
    """Every word of the training templates outside their slots: how questions are asked, not what about."""
    words: set[str] = set()
    for templates in TEMPLATES.values():
        for template in templates:
            words.update(normalise(re.sub(r"\{\w+\}", " ", template)).split())
    return words


def _skeleton(word: str) -> str:
    """The first letter, then the consonants with repeats collapsed: "brek" and "brake" are both "brk"."""
    consonants = word[0] + "".join(character for character in word[1:] if character not in "aeiouy")
    return re.sub(r"(.)\1+", r"\1", consonants)


def _stem(word: str) -> str:
    """Plural to singular the simple way dealers' words need ("pads" -> "pad", "batteries" -> "battery")."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _variant_forms(names: Iterable[str]) -> dict[str, str]:
    """Surface forms dealers type for each variant suffix: "zxi+", "zxi plus", "zx+", "zx", "vxi amt"."""
    forms: dict[str, str] = {}
    for name in names:
        base = name.lower().replace("+", " plus").split()
        head, rest = base[0], base[1:]
        heads = [head] + ([head[:-1]] if head.endswith("i") and len(head) > 2 else [])
        rests: list[list[str]] = [rest]
        if rest and rest[-1] == "at":
            rests = [[*rest[:-1], word] for word in _VARIANT_AUTOMATIC]
        if rest and rest[0] == "plus":
            rests = [rest, ["+", *rest[1:]]]
        for head_form in heads:
            for rest_form in rests:
                phrase = " ".join([head_form, *rest_form])
                forms.setdefault(phrase.replace(" + ", "+ ").replace(" +", "+"), name)
                forms.setdefault(phrase, name)
                if rest_form and rest_form[0] == "plus":
                    forms.setdefault(" ".join([f"{head_form}+", *rest_form[1:]]), name)
    return forms


#: words that put a sentence in the past, so "kal" is yesterday and "monday" the one gone
_PAST_MARKERS = re.compile(
    r"\b(?:tha|thi|bheja|bheji|bheje|kiya|kiye|kari|hua|hui|hue|gaya|gayi|gaye|raised|ordered|sent|placed|"
    r"submitted|paid|received|requested|applied|booked|last|since|ago|was|were|did)\b",
    re.IGNORECASE,
)


def _past_around(text: str, match: re.Match[str]) -> bool:
    return bool(_PAST_MARKERS.search(text[max(0, match.start() - 25) : match.end() + 25]))


def _is_date_like(raw: str) -> bool:
    return bool(re.fullmatch(r"\d{1,4}[-/.]\d{1,2}([-/.]\d{1,4})?", raw))


def _parse_date(kind: str, match: re.Match[str], today: dt.date) -> dt.date | None:
    """A written date as a ``date``; a year left out is filled in relative to ``today``."""
    try:
        if kind == "iso":
            return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        if kind == "day_month_number":
            day, month, year = int(match.group(1)), int(match.group(2)), match.group(3)
        elif kind == "day_month_word":
            day, month, year = (
                int(match.group(1)),
                _MONTHS[match.group(2).lower().rstrip(".")],
                match.group(3),
            )
        else:
            month, day, year = (
                _MONTHS[match.group(1).lower().rstrip(".")],
                int(match.group(2)),
                match.group(3),
            )
        if year is not None:
            full_year = int(year) + (2000 if len(year) == 2 else 0)
            return dt.date(full_year, month, day)
        if not (1 <= month <= 12 and 1 <= day <= 31):
            return None
        options = []
        for candidate_year in (today.year - 1, today.year, today.year + 1):
            try:
                options.append(dt.date(candidate_year, month, day))
            except ValueError:
                continue
        # a date without a year is the next one on or after two months ago: "12/12" asked in April is this
        # December, "15 March" asked on April 1 the March just gone
        recent = [option for option in options if (option - today).days >= -RECENT_PAST_DAYS]
        return min(recent) if recent else None
    except (ValueError, KeyError):
        return None
