"""Linking the words a dealer uses for a part ("Amaron battery 35Ah", "185/65R15", "engine oil 5W-30 3.5 ltr",
"air filtr elan petrl", "wiper blade front driver side") to one SKU of the catalog, or to the few it could be.

Descriptions and questions go through the same normaliser, so the forms a spec is typed in meet: tyre sizes
(``185/65R15``, ``185/65 r 15``, ``185 65 R15`` -> ``185/65`` ``r15``), battery ratings (``35 ah``, ``35AH`` ->
``35ah``), oil grades (``5W-30``, ``5w30``, ``5 w 30`` -> ``5w30``), pack sizes (``3.5 ltr``, ``3.5 litre``,
``3.5L`` -> ``3.5l``; ``500 ml``, ``450 gm``), amps, volts and millimetres. A variant named after a model
("Dhruv ZXi+", the trims seat covers are made for) is one token, ``v:zxi+``.

Every description word weighs its inverse document frequency (a brand or a size names fewer parts than
"front" or "set"). A question's words are linked to description words exactly, fuzzily or by their consonants
("filtr" -> filter, "petrl" -> petrol), never from the words questions are phrased with or their typos
("staus" is status, not strut). Then, among the SKUs that fit the model named:

- the one whose description covers the most weight of the question's part words wins;
- another SKU that covers less (a subset of those words), or the same words with extra ones of its own (the
  clutch *pressure* plate beside the clutch plate, the *branded* copy beside the plain part, a superseded
  number of the same description), is no rival;
- a rival covering the same words with different extras ("front" or "rear", "petrol" or "diesel", Amaron
  "Go" or "Pro"), or other words of nearly the same weight (the margin), makes the reading ambiguous: no
  SKU, and every SKU still in the running is a candidate the service can look among.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from twin.clara.vocabulary import PartEntry, Vocabulary

#: a question word links to a description word at this rapidfuzz ratio or above (4-letter words need 85)
FUZZY_RATIO = 80.0
SHORT_TOKEN_RATIO = 85.0
#: a rival whose covered weight is within this share of the best's makes the reading ambiguous
AMBIGUITY_MARGIN = 0.12
#: what a link found only by consonants ("brek" -> brake) counts for beside an exact one
SKELETON_LINK_WEIGHT = 0.8
#: what a word questions are also phrased with counts for when a description has it ("driver" side, Amaron
#: "Go", "floor" mat): enough to choose among parts named otherwise, never enough to name one
PHRASING_LINK_WEIGHT = 0.25

#: spec forms as written -> the canonical token(s); applied to lower-cased text, in this order
SPEC_FORMS: tuple[tuple[re.Pattern[str], str], ...] = (
    # tyre sizes: 185/65 R15, 185/65R15, 185/65 ZR15, 185 65 r15, 185/65/15
    (
        re.compile(r"(?<![a-z0-9/.])(\d{3})\s*[/ ]\s*(\d{2})\s*(?:[/-]\s*)?z?r\s*(\d{2})(?![0-9])"),
        r" \1/\2 r\3 ",
    ),
    (re.compile(r"(?<![a-z0-9/.])(\d{3})\s*/\s*(\d{2})\s*/\s*(\d{2})(?![0-9/])"), r" \1/\2 r\3 "),
    (re.compile(r"(?<![a-z0-9/.])(\d{3})\s*/\s*(\d{2})(?![0-9/])"), r" \1/\2 "),
    # oil grades: 5W-30, 5w30, 5 w 30, 15W-40
    (re.compile(r"(?<![a-z0-9./])(\d{1,2})\s?w\s?-?\s?(\d{2})(?![0-9a-z])"), r" \1w\2 "),
    # battery ratings: 35Ah, 35 ah, 35 amp hour
    (re.compile(r"(?<![a-z0-9./])(\d{2,3})\s*(?:ah|amp\s*-?\s*hours?|amp\s*hr)(?![a-z])"), r" \1ah "),
    # brake fluid grades (DOT 4), screens and the like (7 inch)
    (re.compile(r"(?<![a-z0-9./])dot\s*-?\s*(\d)(?![0-9])"), r" dot\1 "),
    (re.compile(r"(?<![a-z0-9./])(\d+(?:\.\d+)?)\s*(?:inch|inches|\"|'')(?![a-z])"), r" \1inch "),
    (re.compile(r"(?<![a-z0-9./])(\d+)\s*-?\s*pins?(?![a-z])"), r" \1pin "),
    # pack sizes and units
    (re.compile(r"(?<![a-z0-9./])(\d+(?:\.\d+)?)\s*(?:l|ltrs?|litres?|liters?|lit|lt)(?![a-z])"), r" \1l "),
    (re.compile(r"(?<![a-z0-9./])(\d+)\s*(?:ml|mls)(?![a-z])"), r" \1ml "),
    (re.compile(r"(?<![a-z0-9./])(\d+)\s*(?:g|gm|gms|grams?)(?![a-z])"), r" \1g "),
    (re.compile(r"(?<![a-z0-9./])(\d+)\s*mm(?![a-z])"), r" \1mm "),
    (re.compile(r"(?<![a-z0-9./])(\d+(?:\.\d+)?)\s*(?:a|amps?)(?![a-z0-9])"), r" \1a "),
    (re.compile(r"(?<![a-z0-9./])(\d+)\s*(?:v|volts?)(?![a-z0-9])"), r" \1v "),
)
_TOKEN = re.compile(r"[a-z0-9+]+(?:[/.][a-z0-9+]+)*")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_STOP_WORDS = frozenset({"for", "and", "with", "of", "the", "a", "an", "to", "in", "ka", "ki", "ke", "assy"})
#: description words that narrow a part down but do not name one
GENERIC_PART_WORDS = frozenset(
    {"set", "kit", "front", "rear", "lh", "rh", "left", "right", "upper", "lower", "inner", "outer", "assembly",
     "petrol", "diesel", "cng", "at", "mt", "side", "driver", "passenger", "long", "life", "black", "grey", "tan",
     "silver", "white", "red", "blue", "brown", "beige", "pu", "leather", "fabric", "rubber", "chrome", "led",
     "halogen", "element", "concentrate", "universal", "heavy", "duty", "premium", "standard", "genuine",
     "pair", "high", "low", "tone", "positive", "negative", "single", "dual", "channel"}
)  # fmt: skip
#: attributes a part comes in one of: asking for one the best reading has another of is no match for it
#: ("spark plug elan cng" when the catalog has only the Elan's petrol plug, "rear pads" of a car with front ones)
ATTRIBUTE_FAMILIES: tuple[frozenset[str], ...] = tuple(
    frozenset(family)
    for family in (
        {"front", "rear"},
        {"lh", "rh", "driver", "passenger"},
        {"petrol", "diesel", "cng"},
        {"at", "mt"},
        {"black", "grey", "tan", "beige", "silver", "white", "red", "blue", "brown"},
        {"upper", "lower"},
        {"inner", "outer"},
        {"high", "low"},
        {"manual", "electric"},
        {"positive", "negative"},
        {"single", "dual"},
    )
)
#: words dealers use for a description's word ("right" for RH, "headlight" for headlamp)
SYNONYMS = {
    "right": "rh",
    "left": "lh",
    "headlight": "headlamp",
    "light": "lamp",
    "tire": "tyre",
    "windshield": "windscreen",
    "windscreen": "windshield",
    "hood": "bonnet",
    "tubeless": "tyre",
}
#: words dealers phrase questions with that descriptions also use; never read as naming a part
PHRASING_ONLY = frozenset({"car", "cars", "order", "stock", "status", "time", "date", "plant", "yard"})
#: question words that are part words all the same ("seat cover", "ac filter")
PART_WORDS_IN_PHRASING = frozenset({"ac", "cover"})


def spec_canonical(text: str) -> str:
    """Lower-cased text with every spec form written the one way descriptions are indexed."""
    lowered = text.lower()
    for pattern, replacement in SPEC_FORMS:
        lowered = pattern.sub(replacement, lowered)
    return lowered


def stem(word: str) -> str:
    """Plural to singular the simple way dealers' words need ("pads" -> "pad", "batteries" -> "battery")."""
    if len(word) > 4 and word.endswith("ies") and word.isalpha():
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss") and word.isalpha():
        return word[:-1]
    return word


def skeleton(word: str) -> str:
    """The first letter, then the consonants with repeats collapsed: "brek" and "brake" are both "brk"."""
    consonants = word[0] + "".join(character for character in word[1:] if character not in "aeiouy")
    return re.sub(r"(.)\1+", r"\1", consonants)


_DIGIT = re.compile(r"\d")


def has_digit(word: str) -> bool:
    return _DIGIT.search(word) is not None


def tokens_of(text: str) -> list[str]:
    """Canonical tokens of a text: spec forms joined ("185/65", "r15", "5w30", "3.5l"), words stemmed, "/"
    between plain words split ("Arka/Bolt"), bare numbers and stop words left out."""
    tokens: list[str] = []
    for raw in _TOKEN.findall(spec_canonical(text)):
        pieces = [raw] if has_digit(raw) else raw.split("/")
        for piece in pieces:
            if not piece or piece in _STOP_WORDS or _NUMBER.fullmatch(piece) or len(piece) < 2:
                continue
            tokens.append(piece if has_digit(piece) else stem(piece))
    return tokens


@dataclass(frozen=True)
class PartMatch:
    """What a question's part words link to: one SKU (``sku_id``), or None with the ``candidates`` still in
    the running; ``word_indices`` are the question words used, ``spec_tokens`` the spec tokens used."""

    sku_id: str | None
    candidates: tuple[str, ...]
    word_indices: tuple[int, ...]
    spec_tokens: frozenset[str]


@dataclass(frozen=True)
class _Scored:
    index: int
    weight: float
    matched: frozenset[str]
    extras: frozenset[str]


class PartIndex:
    """The catalog's descriptions as weighted token sets, for ``match``; built once per vocabulary."""

    def __init__(self, vocabulary: Vocabulary, phrasing_words: Iterable[str]) -> None:
        self.entries: tuple[PartEntry, ...] = vocabulary.described_parts
        # as ``tokens_of`` writes them ("Cirrus" is "cirru" there)
        models = {stem(model.lower()) for model in vocabulary.models}
        variant_forms = {
            stem(model.lower()): sorted(
                ((tuple(tokens_of(variant)), variant.lower()) for variant in variants if tokens_of(variant)),
                key=lambda pair: -len(pair[0]),
            )
            for model, variants in vocabulary.variants_by_model.items()
        }
        self.sequences: list[tuple[str, ...]] = []
        self.words: list[frozenset[str]] = []
        self.head_nouns: set[str] = set()
        for entry in self.entries:
            sequence = _description_sequence(entry.description, models, variant_forms)
            self.sequences.append(sequence)
            self.words.append(frozenset(sequence))
            if sequence:
                self.head_nouns.add(sequence[0])
            self.head_nouns.update(stem(word) for word in entry.category.replace("_", " ").lower().split())
        self.by_word: dict[str, list[int]] = defaultdict(list)
        for index, words in enumerate(self.words):
            for word in words:
                self.by_word[word].append(index)
        total = max(1, len(self.entries))
        #: inverse document frequency: a brand or a size names few parts, "front" or "set" many
        self.weight = {word: math.log(1.0 + total / len(indices)) for word, indices in self.by_word.items()}
        self.phrasing_words = (set(phrasing_words) | PHRASING_ONLY) - PART_WORDS_IN_PHRASING
        self._phrasing_list = sorted(word for word in self.phrasing_words if len(word) >= 4)
        self._phrasing_skeletons = {skeleton(word) for word in self._phrasing_list}
        self._fuzzy_targets = sorted(
            # three-letter words ("pad", "cap") only exactly: "pade" (Hinglish "lying") is no pad
            word
            for word in self.by_word
            if word.isalpha() and len(word) >= 4 and not word.startswith("v:")
        )
        skeletons: dict[str, set[str]] = defaultdict(set)
        for word in self._fuzzy_targets:
            if len(word) >= 4 and word not in GENERIC_PART_WORDS:
                skeletons[skeleton(word)].add(word)
        self._by_skeleton = {key: next(iter(words)) for key, words in skeletons.items() if len(words) == 1}
        self._links: dict[str, tuple[str, float] | None] = {}
        self._ranked: dict[
            tuple[frozenset[tuple[str, float]], str | None],
            tuple[str | None, tuple[str, ...], frozenset[str]],
        ] = {}
        self.blocked_words = PHRASING_ONLY - PART_WORDS_IN_PHRASING
        self._first_index = {entry.sku_id: index for index, entry in enumerate(self.entries)}

    def knows(self, token: str) -> bool:
        """Whether a canonical token ("185/65", "35ah", "h4") is a description word."""
        return token in self.by_word

    def link(self, word: str, not_names: frozenset[str]) -> tuple[str, float] | None:
        """The description word a question word stands for, with how sure (1.0 exact), or None."""
        if word in self._links:
            return self._links[word]
        linked = self._link(word, not_names)
        if len(self._links) < 50_000:
            self._links[word] = linked
        return linked

    def _link(self, word: str, not_names: frozenset[str]) -> tuple[str, float] | None:
        stemmed = stem(word)
        if stemmed not in self.by_word and SYNONYMS.get(stemmed) in self.by_word:
            stemmed = SYNONYMS[stemmed]
        if word in self.phrasing_words or stemmed in self.phrasing_words:
            if word in self.blocked_words or stemmed not in self.by_word:
                return None
            return stemmed, PHRASING_LINK_WEIGHT
        if stemmed in self.by_word:
            return stemmed, 1.0
        if len(stemmed) < 4 or word in not_names or has_digit(stemmed):
            return None
        # one letter changed in five is 80: "reply" is no relay, so five letters need a little more
        needed = (
            SHORT_TOKEN_RATIO
            if len(stemmed) == 4
            else FUZZY_RATIO + 1.0
            if len(stemmed) == 5
            else FUZZY_RATIO
        )
        best = process.extractOne(stemmed, self._fuzzy_targets, scorer=fuzz.ratio, score_cutoff=needed)
        # a typo of a word questions are phrased with ("staus", "stok", "alloc") is that word, not a part's
        phrased = process.extractOne(stemmed, self._phrasing_list, scorer=fuzz.ratio, score_cutoff=needed)
        if best is not None and (phrased is None or best[1] > phrased[1]):
            return str(best[0]), float(best[1]) / 100.0
        if phrased is not None:
            return None
        # a vowel typed wrong or left out ("brek" for brake, "filtr" for filter): the consonants agree
        shape = skeleton(stemmed)
        if shape in self._phrasing_skeletons:
            return None
        found = self._by_skeleton.get(shape)
        return (found, SKELETON_LINK_WEIGHT) if found is not None else None

    def match(
        self,
        words: Sequence[str],
        spec_tokens: Iterable[str],
        model: str | None,
        variant: str | None,
        not_names: frozenset[str],
    ) -> PartMatch | None:
        """The SKU the question's free ``words`` and pre-read ``spec_tokens`` describe (see the module), among
        the parts that fit ``model``; None when they name no part."""
        if not self.entries:
            return None
        linked: dict[int, tuple[str, float]] = {}
        for index, word in enumerate(words):
            found = self.link(word, not_names)
            if found is not None:
                linked[index] = found
        query: dict[str, float] = {}
        for token, certainty in linked.values():
            query[token] = max(query.get(token, 0.0), certainty)
        specs = {token for token in spec_tokens if token in self.by_word}
        for token in specs:
            query[token] = 1.0
        variant_token = f"v:{variant.lower()}" if variant else None
        if variant_token in self.by_word:
            query[variant_token] = 1.0
        naming = {
            token
            for token, certainty in query.items()
            if token not in GENERIC_PART_WORDS
            and not token.startswith("v:")
            and certainty > PHRASING_LINK_WEIGHT
        }
        strong = {token for token in naming if token in self.head_nouns or has_digit(token)}
        if not naming or (len(naming) == 1 and not strong and len(query) == 1):
            return None  # "colour", "low", a brand alone name no part; "battery", "horn", "35ah", "mat rubber" do
        key = (frozenset(query.items()), model)
        ranked = self._ranked.get(key)
        if ranked is None:
            ranked = self._rank(query, naming, model)
            if len(self._ranked) < 20_000:
                self._ranked[key] = ranked
        sku_id, candidates, used_tokens = ranked
        word_indices = tuple(sorted(index for index, (token, _) in linked.items() if token in used_tokens))
        used_specs = frozenset(token for token in specs if token in used_tokens)
        if sku_id is None and not candidates and not word_indices and not used_specs:
            return None
        return PartMatch(sku_id, candidates, word_indices, used_specs)

    def _rank(
        self, query: dict[str, float], naming: set[str], model: str | None
    ) -> tuple[str | None, tuple[str, ...], frozenset[str]]:
        """(the SKU, or None with the candidates in the running, the query tokens they cover)."""
        candidates: set[int] = set()
        for token in naming:
            candidates.update(self.by_word[token])
        fitting = [
            index
            for index in candidates
            if model is None
            or not self.entries[index].fits_models
            or model in self.entries[index].fits_models
        ]
        if not fitting:
            return None, (), frozenset(naming)
        # the covered weight of every fitting SKU from the postings; the full comparison only for the SKUs near
        # the best (a tyre size alone is a hundred candidates)
        covered = dict.fromkeys(fitting, 0.0)
        for token, certainty in query.items():
            weight = self.weight[token] * certainty
            for index in self.by_word[token]:
                if index in covered:
                    covered[index] += weight
        top = max(covered.values())
        near = [index for index, weight in covered.items() if weight >= top * (1.0 - AMBIGUITY_MARGIN) - 0.05]
        scored = [self._score(index, query) for index in near]
        scored.sort(key=lambda row: (-row.weight, self._extra_weight(row), self._superseded(row), row.index))
        best = scored[0]
        if _conflicts(query, best, self.words[best.index]):
            return None, (), frozenset(best.matched | set(naming))
        rivals = [row for row in scored[1:] if self._rivals(best, row)]
        used_tokens = best.matched | {token for row in rivals for token in row.matched}
        if not rivals:
            return self.entries[best.index].sku_id, (), used_tokens
        tied = [best, *rivals]
        tied.sort(key=lambda row: self._first_index[self.entries[row.index].sku_id])
        return None, tuple(self.entries[row.index].sku_id for row in tied), used_tokens

    def _score(self, index: int, query: dict[str, float]) -> _Scored:
        words = self.words[index]
        matched = frozenset(token for token in query if token in words)
        weight = sum(self.weight[token] * query[token] for token in matched)
        # words written together count a little ("clutch plate" is the Clutch plate before the pressure plate)
        sequence = self.sequences[index]
        weight += 0.01 * sum(
            first in matched and second in matched for first, second in itertools.pairwise(sequence)
        )
        return _Scored(index, weight, matched, words - matched)

    def _extra_weight(self, row: _Scored) -> float:
        return sum(self.weight[token] for token in row.extras)

    def _superseded(self, row: _Scored) -> bool:
        return self.entries[row.index].superseded_by >= 0

    def _rivals(self, best: _Scored, other: _Scored) -> bool:
        """Whether ``other`` is as likely a reading as ``best`` (see the module docstring)."""
        if other.weight < best.weight * (1.0 - AMBIGUITY_MARGIN):
            return False
        if other.matched < best.matched:
            return False  # it covers less of what was asked
        if other.matched == best.matched:
            if self.sequences[other.index] == self.sequences[best.index]:
                return not (self._superseded(other) and not self._superseded(best))
            if other.extras > best.extras:
                return False  # the same part with more to it (pressure plate, a brand's copy)
            if _naming(other.extras - best.extras) and not _naming(best.extras - other.extras):
                return False  # another kind of part (a pressure plate of the other engine, a pad shim kit)
        return True


def _conflicts(query: dict[str, float], best: _Scored, words: frozenset[str]) -> bool:
    """Whether the question asks for an attribute the best part has another value of (rear for front)."""
    for token, certainty in query.items():
        if certainty < 1.0 or token in best.matched:
            continue
        for family in ATTRIBUTE_FAMILIES:
            if token in family and words & family:
                return True
    return False


def _naming(words: frozenset[str]) -> set[str]:
    """The words that name what a part is, as opposed to which one (side, engine, colour, trim)."""
    return {word for word in words if word not in GENERIC_PART_WORDS and not word.startswith("v:")}


def _description_sequence(
    description: str, models: set[str], variant_forms: dict[str, list[tuple[tuple[str, ...], str]]]
) -> tuple[str, ...]:
    """A description's canonical tokens in order: model names left out (they filter, through the fitment),
    a variant after its model as one ``v:`` token."""
    tokens = tokens_of(description)
    sequence: list[str] = []
    position = 0
    while position < len(tokens):
        token = tokens[position]
        position += 1
        if token not in models:
            sequence.append(token)
            continue
        for form, name in variant_forms.get(token, ()):
            if tuple(tokens[position : position + len(form)]) == form:
                sequence.append(f"v:{name}")
                position += len(form)
                break
    return tuple(sequence)
