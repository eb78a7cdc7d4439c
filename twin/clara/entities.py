"""Finding the things a dealer's question is about: ids by pattern, names by fuzzy linking to master data.

Patterns first, because they are exact: a 17-character VIN (its ISO 3779 check digit decides whether it is
linked or only kept as a mention), dealer/yard/carrier ids, spec codes, the catalog's spec tokens as dealers type
them ("185/65R15", "35 ah", "5W-30", "3.5 ltr", "H4": read before dates and quantities, so a pack size is no
quantity and "3.5" no 3 May), part numbers, dates and quantities. Then the names dealers type, linked with
rapidfuzz to the network's vocabulary: models ("druv" -> Dhruv), variants ("zx" -> ZXi), dealer names and cities
("Pune dealer"), stockyards, carriers, part descriptions ("brek pads for kavi", "Amaron Go 35Ah", "air filtr elan
petrl": ``twin.clara.part_index``), and last the car's colour, among the words no part description took ("PU
leather black" is a seat cover's). A span that looks like an entity but links to nothing, or to several records
equally well, is kept in ``mentions`` and its slot stays empty (a part description fitting several SKUs also gives
them as ``part_candidates``): the service then asks, or answers for those, instead of guessing.

A dealer named is also read for its role (``dealer_role``): the owner of the records asked for ("transfers of
D0004", "D0004's stock", "D0004 ka statement", "D0004 ki list"), the counterpart of the asker's own business
("transfer from D0004", "Pune Motors 3 se", "to D0389"), or neither. The service refuses the first for another
dealer whatever the intent.

Every span found is also masked in a copy of the text ("<vin>", "<part>", "<model>"...), which is what the
intent classifier reads, so it learns how a question is phrased rather than which VIN or part it names.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Set
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from twin.clara.corpus import ABBREVIATIONS, FILLERS_AFTER, FILLERS_BEFORE
from twin.clara.corpus.templates import TEMPLATES
from twin.clara.lexicon import CONCEPT_WORDS
from twin.clara.part_index import SPEC_FORMS, PartIndex, has_digit, tokens_of
from twin.clara.vocabulary import Vocabulary, normalise
from twin.domain.vin import VIN_LENGTH, check_digit

_VIN_CANDIDATE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{16,18}(?![A-Za-z0-9])")
_DEALER_ID = re.compile(r"(?<![A-Za-z0-9])[Dd]-?(\d{1,4})(?![A-Za-z0-9])")
_SITE_ID = re.compile(r"(?<![A-Za-z0-9])(SY|CR|PL|DC)[ -]?(\d{1,2})(?![A-Za-z0-9])", re.IGNORECASE)
_SPEC_CODE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{3}-[A-Za-z0-9+]{2,8}-\d{1,2}(?![A-Za-z0-9])")
_PART_NUMBER = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){4,19}(?![A-Za-z0-9])")
_WORD = re.compile(r"[A-Za-z0-9+]+")
#: a word that may be a catalog spec token ("h4", "38b20l", "p21/5w", "r15")
_SPEC_WORD = re.compile(r"(?<![a-z0-9/.])[a-z0-9+]+(?:[/.][a-z0-9+]+)*")

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
    re.compile(
        r"(?<![A-Za-z0-9<])(\d{1,5})\s+(?:(?!days?\b|din\b|weeks?\b|months?\b|hours?\b)[a-z]+\s+)?<model>",
        re.IGNORECASE,
    ),
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
     "pad", "pads", "pade", "pada", "padi", "part", "parts", "send", "sent", "arrive", "aata", "aati", "ata", "bhai", "sir",
     "again", "also", "order", "orders", "older", "alert", "claim", "claims", "cost", "left", "list", "tyre",
     "tire", "tyres", "tires", "will", "hello", "hi", "ok", "okay", "thanks", "front", "rear", "yet", "abhi",
     "tak", "ka", "ki", "ke", "ko", "se", "me", "mein", "nahi", "nhi", "bhi", "aur", "and", "the", "for", "our",
     "your", "mujhe", "hume", "humara", "hamara", "please", "pls", "plz", "kya", "kyu", "kyun", "kaise",
     "statement", "balance", "payment", "campaign", "transfer", "allocation", "incentive", "vehicle"}
)  # fmt: skip
#: everyday words (English, Hinglish, chat) one letter from a short name: never read as a model mistyped
_COMMON_WORDS = frozenset(
    {"area", "aura", "ark", "arm", "apka", "aapka", "arc", "bot", "bol", "bola", "bole", "boli", "boat",
     "boot", "belt", "volt", "colt", "bolt", "plan", "clan", "flan", "gai", "gayi", "gaya", "gat", "jati",
     "hati", "gali", "bati", "sati", "get", "got", "gift", "city", "cat", "can", "man", "all", "ola",
     "also", "else", "pan", "van", "fan", "ban", "tan", "than", "then", "when", "alan", "eat", "ela", "elm",
     "mat", "bat", "rat", "sat", "hat", "fat", "pat", "art", "arts", "earn", "loan", "lane", "lone", "bill",
     "dhruva", "falco", "alert", "alarm"}
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
    #: when a part description fits several SKUs equally well: those SKUs (catalog order), else empty
    part_candidates: tuple[str, ...] = ()
    #: how another dealer is named: "possessor" (whose data is asked for: "D0004's stock", "transfers of
    #: D0004", "D0004 ka statement"), "counterpart" (the other side of the asker's own business: "transfer
    #: from D0004", "Pune Motors 3 se"), "named" (neither shows), None when no dealer is named
    dealer_role: str | None = None


@dataclass
class _Found:
    """Spans claimed so far (character ranges of the original text) and what they linked to."""

    text: str
    spans: list[tuple[int, int, str]] = field(default_factory=list)
    slots: dict[str, str] = field(default_factory=dict)
    dates: list[tuple[int, str]] = field(default_factory=list)
    quantities: list[tuple[int, int]] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)
    #: character spans naming a dealer (by id, full name or city), linked or not
    dealer_spans: list[tuple[int, int]] = field(default_factory=list)
    part_candidates: tuple[str, ...] = ()

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
        self._parts = PartIndex(vocabulary, _phrasing_words())
        #: words that are never a model mistyped, though one letter off one ("belt", "plan", "gai", "apka")
        self._known_words = (
            _phrasing_words()
            | set(_NOT_NAMES)
            | _COMMON_WORDS
            | {word for words in CONCEPT_WORDS.values() for phrase in words for word in phrase.split()}
            | {word for entry in vocabulary.parts for word in normalise(entry.description).split()}
            | {
                word
                for entry in vocabulary.parts
                for word in normalise(entry.category.replace("_", " ")).split()
            }
            | {word for colour in vocabulary.colours for word in normalise(colour).split()}
            | set(_COLOUR_WORDS)
            | {
                word
                for names in vocabulary.variants_by_model.values()
                for name in names
                for word in normalise(name).split()
            }
        )

    # -- the whole pass -------------------------------------------------------------------------------
    def extract(self, text: str, today: dt.date | None = None) -> Extraction:
        found = _Found(text)
        self._vins(found)
        self._ids(found)
        self._spec_codes(found)
        part_specs = self._part_specs(found)
        self._part_numbers(found)
        self._dates(found, today)
        tokens = [
            _Token(match.start(), match.end(), match.group().lower())
            for match in _WORD.finditer(text)
            if found.free(match.start(), match.end())
        ]
        tokens = self._dealer_names(found, tokens)
        tokens = self._yards_and_carriers(found, tokens)
        vehicle = self._vehicles(found, tokens)
        used = self._part_descriptions(found, tokens, part_specs, vehicle)
        self._vehicle_colour(found, tokens, vehicle, used | vehicle.token_indices)
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
        return Extraction(
            entities,
            tuple(found.mentions),
            found.masked(),
            part_candidates=found.part_candidates,
            dealer_role=_dealer_role(text, found.dealer_spans),
        )

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
            found.dealer_spans.append((match.start(), match.end()))
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
                found.dealer_spans.append((tokens[index].start, tokens[index + size - 1].end))
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
            found.dealer_spans.append((token.start, end_token.end))
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
        if len(word) < 3 or word in _NOT_NAMES or word.isdigit():
            return None
        if len(word) == 3:
            return self._model_one_slip_away(word)
        best = process.extractOne(word, list(self._models_lower), scorer=fuzz.ratio)
        if best is None:
            return None
        needed = self.SHORT_TOKEN_RATIO if len(word) == 4 else self.FUZZY_RATIO
        if best[1] >= needed:
            return self._models_lower[best[0]]
        return self._model_one_slip_away(word)

    def _model_one_slip_away(self, word: str) -> str | None:
        """The model a word is one slip of the thumb from (a letter dropped, added, changed or two swapped:
        "gti", "blot", "elyn", "agti" -> Gati, Bolt, Elan, Gati), when exactly one model is and the word is
        no word of the trade, of the catalog or of everyday chat ("belt", "plan", "gai" are words). A slip of
        an everyday word can still land on a model ("gaai" for "gaadi" reads as the Gati): measured on the
        twin's held-out phrasings, also refusing words one slip from an everyday word lost more right
        readings ("blot", "agti") than it saved (2026-12-06)."""
        if not 3 <= len(word) <= 6 or not word.isalpha() or word in self._known_words:
            return None
        near = [model for lowered, model in self._models_lower.items() if OSA.distance(word, lowered) <= 1]
        return near[0] if len(near) == 1 else None

    def _vehicles(self, found: _Found, tokens: list[_Token]) -> _VehicleReading:
        """Models, and the variant next to the first, claimed. The colour is left to ``_vehicle_colour``, once
        the part words are known ("PU leather black" is a seat cover's colour, not the car's)."""
        used: set[int] = set()
        models: list[tuple[int, str]] = []
        for index, token in enumerate(tokens):
            model = self._model_of(token.word)
            if model is not None:
                models.append((index, model))
        if not models:
            return _VehicleReading(None, None, frozenset(), frozenset())
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
        model_indices = frozenset(index for index, _ in models)
        return _VehicleReading(model, variant, frozenset(used), model_indices)

    def _vehicle_colour(
        self, found: _Found, tokens: list[_Token], vehicle: _VehicleReading, part_words: Set[int]
    ) -> None:
        """The car's colour among the words no part description took; with the variant, the spec id."""
        if vehicle.model is None:
            return
        words = [token.word for token in tokens]
        colours, colour_span = self._colour_in(words, set(part_words), vehicle.model)
        if colour_span is None:
            return
        start, end = colour_span
        found.claim(tokens[start].start, tokens[end - 1].end, "<colour>")
        if vehicle.variant is None or not colours:
            return
        if len(colours) == 1:
            spec_id = self.vocabulary.spec_by_parts.get((vehicle.model, vehicle.variant, next(iter(colours))))
            if spec_id is not None:
                found.link("spec_id", spec_id, vehicle.model)
        else:
            found.mention(found.text[tokens[start].start : tokens[end - 1].end])

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

    def _part_specs(self, found: _Found) -> list[tuple[int, int, str]]:
        """Spec tokens of the catalog written in the question ("185/65R15", "35 ah", "5W-30", "3.5 ltr", "H4"):
        claimed before dates and quantities read them ("3.5" is no 3 May, "1 ltr" no quantity)."""
        text = found.text
        lowered = text.lower()
        if len(lowered) != len(text):
            return []
        specs: list[tuple[int, int, str]] = []
        for pattern, _ in SPEC_FORMS:
            for match in pattern.finditer(lowered):
                self._claim_spec(found, specs, match.start(), match.end())
        for match in _SPEC_WORD.finditer(lowered):
            if has_digit(match.group()):
                self._claim_spec(found, specs, match.start(), match.end())
        return specs

    def _claim_spec(self, found: _Found, specs: list[tuple[int, int, str]], start: int, end: int) -> None:
        if not found.free(start, end):
            return
        known = [token for token in tokens_of(found.text[start:end]) if self._parts.knows(token)]
        if not known:
            return
        found.claim(start, end, "<part>")
        specs.extend((start, end, token) for token in known)

    def _part_descriptions(
        self, found: _Found, tokens: list[_Token], specs: list[tuple[int, int, str]], vehicle: _VehicleReading
    ) -> set[int]:
        """Link the part words (see ``twin.clara.part_index``); the indices of the tokens it took. The words
        of a variant stay in ("elan cng spark plug": CNG is the engine the plug is for), models do not."""
        match = self._parts.match(
            ["" if index in vehicle.model_indices else token.word for index, token in enumerate(tokens)],
            [token for _, _, token in specs],
            found.slots.get("model"),
            vehicle.variant,
            _NOT_NAMES,
        )
        if match is None:
            return set()
        spans = [(tokens[index].start, tokens[index].end) for index in match.word_indices]
        spans += [(start, end) for start, end, token in specs if token in match.spec_tokens]
        if not spans:
            return set()
        for index in match.word_indices:
            if index not in vehicle.token_indices:
                found.claim(tokens[index].start, tokens[index].end, "<part>")
        span = found.text[min(start for start, _ in spans) : max(end for _, end in spans)]
        if match.sku_id is None:
            found.mention(span)
            found.part_candidates = match.candidates
        elif "sku_id" not in found.slots:
            found.link("sku_id", match.sku_id, span)
        return set(match.word_indices)


@dataclass(frozen=True)
class _VehicleReading:
    """The first model named and the variant next to it (suffix as the specs write it), if any, and the
    indices of the tokens they took (all, and the models')."""

    model: str | None
    variant: str | None
    token_indices: frozenset[int]
    model_indices: frozenset[int]


#: possessive marks after a dealer: "D0004's", "D0004 ka/ke/ki ..." (not "ke paas", "ke saath", "se")
_POSSESSIVE_AFTER = re.compile(
    r"^(?:\s*['\u2019]s?\b|s'|\s+(?:ka|ke|ki|kaa|kee)\b(?!\s+(?:paas|pass|pas|saath|sath|yahan|yaha|yahaan|"
    r"taraf|liye|se|ko|dwara|through|wala|wale)\b))",
    re.IGNORECASE,
)
#: a dealer followed by a word for its private records: "D0004 transfers", "Pune Motors 3 stock"
_RECORDS_AFTER = re.compile(
    r"^\s+(?:transfers|stocks?|inventory|inventories|statements?|stmt|balances?|ledgers?|claims?|allocations?|"
    r"allotments?|list|data|details|sales|vins|alerts|accounts?|dues|yard|incentives?|orders|margins?|"
    r"numbers?|contacts?|phone|email|(?:transfer|stock|parts?|claim|payment)\s+(?:list|history|details|records|"
    r"data|report))\b",
    re.IGNORECASE,
)
#: "of D0004", "for D0004" after a records word ("statement for D0004")
_OF_BEFORE = re.compile(r"\bof\s+(?:the\s+)?(?:dealer(?:ship)?\s+)?$", re.IGNORECASE)
_RECORDS_FOR_BEFORE = re.compile(
    r"\b(?:transfers|stock|inventory|statement|stmt|balance|ledger|claims|allocations?|list|data|details|sales|"
    r"vins|alerts|account|dues|incentives?|margins?|numbers?|contacts?)\s+(?:\w+\s+)?for\s+(?:the\s+)?"
    r"(?:dealer(?:ship)?\s+)?$",
    re.IGNORECASE,
)
#: the other side of the asker's own business: "from D0004", "to D0004", "D0004 se", "D0004 ko"
_COUNTERPART_BEFORE = re.compile(
    r"\b(?:from|frm|to|with|between|by|via)\s+(?:the\s+)?(?:dealer(?:ship)?\s+)?$", re.IGNORECASE
)
_COUNTERPART_AFTER = re.compile(
    r"^\s+(?:se|ko|ne|sey|say|wala|wale|wali|waala|waale|waali|ke\s+(?:saath|sath|yahan|yaha|yahaan)|"
    r"ki\s+taraf)\b",
    re.IGNORECASE,
)


def _dealer_role(text: str, spans: list[tuple[int, int]]) -> str | None:
    """How the dealers named are named: "possessor" if any is asked about as the owner of records (the
    service refuses that for another dealer), else "counterpart" if one is the other side of the asker's own
    transfer or trade, else "named"; None when no dealer is named."""
    if not spans:
        return None
    roles = set()
    for start, end in spans:
        before, after = text[max(0, start - 60) : start], text[end : end + 60]
        if (
            _POSSESSIVE_AFTER.search(after)
            or _RECORDS_AFTER.search(after)
            or _OF_BEFORE.search(before)
            or _RECORDS_FOR_BEFORE.search(before)
        ):
            roles.add("possessor")
        elif _COUNTERPART_BEFORE.search(before) or _COUNTERPART_AFTER.search(after):
            roles.add("counterpart")
    for role in ("possessor", "counterpart"):
        if role in roles:
            return role
    return "named"


def _phrasing_words() -> set[str]:
    """Every word of the training templates outside their slots, the abbreviations the corpus types them
    with and the polite words around them: how questions are asked, not what about."""
    words: set[str] = set()
    for templates in TEMPLATES.values():
        for template in templates:
            words.update(normalise(re.sub(r"\{\w+\}", " ", template)).split())
    for forms in ABBREVIATIONS.values():
        for form in forms:
            words.update(normalise(form).split())
    # the polite words around a question ("dear team", "sir ji", "asap"): "dear" is no gear
    for filler in (*FILLERS_BEFORE, *FILLERS_AFTER):
        words.update(normalise(filler).split())
    return words


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
