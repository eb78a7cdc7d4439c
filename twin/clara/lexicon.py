"""The dealer's domain words, grouped by what they ask about: evidence for an intent beside the classifier.

A classifier trained on a few hundred phrasings learns the words of those phrasings; a dealer who asks "brake pad
dspatch hua kya" with words it saw only next to cars reads as a stock question. The words themselves carry the
meaning whatever the sentence around them: "dispatch", "transit", "kab aayega" ask when something comes;
"claim", "clm", "scheme" ask about incentives. This module maps the words of a (masked) question, typos
included, to such concepts (``concepts``), which the classifier reads as a feature view of their own and in
combination with what the question names (``<part>`` with "dispatch" asks for a part's ETA, ``<vin>`` with
"claim" for the claims on a car), so a new phrasing made of known words is read as those words mean.

The words are the trade's (English, Indian English and Hinglish in Roman script), not any one phrasing's.
"""

from __future__ import annotations

import re
from functools import lru_cache

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from twin.clara.corpus import FILLERS_AFTER, FILLERS_BEFORE
from twin.clara.corpus.templates import TEMPLATES

#: concept -> the words (and a few two-word phrases) that express it
CONCEPT_WORDS: dict[str, tuple[str, ...]] = {
    # when something comes
    "when": (
        "eta", "kab", "kb", "when", "wen", "whn", "arrive", "arrival", "arriving", "aayega", "aayegi", "aayenge",
        "ayega", "ayegi", "aaega", "aaegi", "aega", "aaye", "aayi", "aaya", "milega", "milegi", "milenge",
        "pahuchega", "pahunchega", "pahuchegi", "pahunchegi", "pahuncha", "pahucha", "reach", "reached",
        "expected", "expect", "due", "come", "coming", "comes", "aane", "delivery", "dlvry", "delayed", "late",
        "delay", "tak", "by", "kitne din", "how long", "get", "received", "receive", "recd", "rcvd", "not yet", "arrived", "arrives", "jayega", "jayegi", "upcoming",
    ),
    # something on its way
    "movement": (
        "dispatch", "dispatched", "despatch", "despatched", "ship", "shipped", "shipment", "transit", "consignment",
        "inbound", "nikla", "nikli", "niklega", "niklegi", "bheja", "bheji", "sent", "carrier", "truck", "road",
        "way", "rasta", "raste", "backorder", "courier", "docket",
    ),
    # an order placed (asked about for its status, or placed because stock is short: the sentence decides)
    "order": ("order", "orders", "ordered", "ordering"),
    # how many are here
    "count": (
        "stock", "stk", "kitne", "kitna", "kitni", "kitana", "many", "much", "qty", "quantity", "hand", "available",
        "avail", "avl", "pada", "padi", "pade", "khadi", "khade", "shelf", "store", "stores", "inventory",
        "bache", "bacha", "bachi", "count", "units", "pcs", "left", "position", "free", "hai", "hain", "h",
    ),
    # held for customers or the workshop
    "reserved": ("reserved", "reserve", "reservation", "reservations", "workshop", "wip", "issued", "issue", "booked", "customer"),
    # cars allotted by the OEM
    "allocation": (
        "allocation", "allocations", "allocated", "alloc", "allot", "allotted", "alloted", "allotment",
        "allocate", "allocaton", "alocation", "alot",
    ),
    # one car by its number
    "vehicle_trace": ("vin", "chassis", "track", "trace", "location", "kahan", "kidhar", "where", "kaha"),
    # the dealer's own cars
    "yard": (
        "yard", "floor", "showroom", "ageing", "aging", "aged", "old", "older", "oldest", "purani", "purana",
        "unsold", "days", "gaadi", "gaadiyan", "gadi", "cars", "car", "vehicle", "vehicles", "veh", "colour",
        "color", "variant", "variants",
    ),
    # the dealer's account
    "money": (
        "statement", "stmt", "statment", "balance", "bal", "ledger", "outstanding", "dues", "due amount", "payable",
        "owe", "payment", "payments", "paid", "freight", "hisab", "hisaab", "soa", "credit", "debit", "invoice",
        "rtgs", "neft", "amount", "charge", "invoiced", "payables", "paisa", "account", "charges", "charged", "billed", "receivables",
    ),
    # incentive claims
    "claim": (
        "claim", "claims", "clm", "clms", "incentive", "incentives", "incentiv", "incntv", "scheme", "payout",
        "reject", "rejected", "hold", "target", "retail",
    ),
    # dealer-to-dealer moves
    "transfer": ("transfer", "transfers", "transferred", "trf", "trnsfr", "trade", "inter"),
    # the control tower's warnings
    "alert": (
        "alert", "alerts", "stockout", "khatam", "short", "shortage", "risk", "cover", "kami", "finish", "run",
        "warning", "reorder", "low", "running", "runs", "safety", "below", "out of", "stock out", "run out",
    ),
    "campaign": ("campaign", "campaigns", "offer", "promotion", "promo", "uplift"),
    # somewhere else in the network
    "network": (
        "network", "nearby", "near", "nearest", "other", "another", "dusre", "doosre", "kisi", "anywhere",
        "kahin", "dealers", "arrange", "supply", "somewhere", "region", "which dealer",
        "who has", "kis dealer", "kiske", "other dealer", "another dealer", "any dealer", "koi dealer",
        "source", "sourcing", "find", "where can", "lend", "borrow", "udhar", "spare <qty>", "spare <model>", "spare a", "spare one", "which yard", "kahan milegi", "kahan milega",
    ),
    # asking a person for something, or talking
    "request": (
        "send", "give", "approve", "complaint", "complain", "call", "manager", "bhejo", "more", "extra", "aur",
        "cancel", "change", "help", "increase", "reduce", "waive", "discount", "chahiye", "want", "need",
        "escalate", "meeting", "talk", "baat", "kharab", "broken", "damaged",
    ),
    "greeting": (
        "hello", "hi", "namaste", "thanks", "thank", "ok", "okay", "dhanyavad", "bye", "noted", "good",
        "morning", "evening", "hmm", "accha", "theek",
    ),
}  # fmt: skip

#: what naming a kind of record says by itself: a stockyard named is the OEM's stock, not the dealer's yard
PLACEHOLDER_CONCEPTS: dict[str, tuple[str, ...]] = {"<yard>": ("network",)}

_WORD = re.compile(r"<\w+>|[a-z0-9+]+")
#: words shorter than this are matched exactly only (a typo of "kb" is anything)
_FUZZY_MIN_LENGTH = 5
#: a four-letter word one slip (a letter dropped, added, changed, two swapped) from lexicon words of five
#: letters or more that all mean one thing stands for that ("aloc" for "alloc"; "dear" is not "near"); longer
#: words need the ratio below ("kabin" is one slip from "kahin" but is a cabin)
_SLIP_MIN_LENGTH = 4
#: rapidfuzz ratio a typed word needs to stand for a lexicon word ("dspatch" -> dispatch 93, "alot" no)
_FUZZY_RATIO = 85.0


def _index() -> dict[str, tuple[str, ...]]:
    words: dict[str, list[str]] = {}
    for concept, members in CONCEPT_WORDS.items():
        for member in members:
            words.setdefault(member, []).append(concept)
    return {word: tuple(concepts) for word, concepts in words.items()}


_CONCEPTS_OF = _index()
#: the words of the corpus's phrasings and the polite words around them: spelt right, so never read as a typo
#: of a lexicon word ("kaisa" is not "paisa", "share" not "spare", "dear" not "near")
_EVERYDAY_WORDS = frozenset(
    word
    for phrasing in (*(p for ps in TEMPLATES.values() for p in ps), *FILLERS_BEFORE, *FILLERS_AFTER)
    for word in re.findall(r"[a-z0-9+]+", re.sub(r"\{\w+\}", " ", phrasing.lower()))
)
_SINGLE_WORDS = sorted(
    word for word in _CONCEPTS_OF if " " not in word and len(word) >= _FUZZY_MIN_LENGTH - 1
)
_PHRASES = {word for word in _CONCEPTS_OF if " " in word}


@lru_cache(maxsize=65536)
def word_concepts(word: str) -> tuple[str, ...]:
    """The concepts a lower-case word stands for: the lexicon's own, else, for a word the corpus does not
    spell so, (from five letters) those of the lexicon word it is a typo of ("dspatch", "allcated"), or (four
    letters) those of the lexicon words one slip away when they all mean one thing ("aloc")."""
    exact = _CONCEPTS_OF.get(word)
    if exact is not None:
        return exact
    if len(word) < _SLIP_MIN_LENGTH or word.isdigit() or word in _EVERYDAY_WORDS:
        return ()
    if len(word) >= _FUZZY_MIN_LENGTH:
        best = process.extractOne(word, _SINGLE_WORDS, scorer=fuzz.ratio, score_cutoff=_FUZZY_RATIO)
        return _CONCEPTS_OF[best[0]] if best is not None else ()
    # one slip of the thumb from lexicon words of one meaning ("aloc", "allc" -> alloc)
    near = {
        _CONCEPTS_OF[known]
        for known in _SINGLE_WORDS
        if len(known) >= _FUZZY_MIN_LENGTH and OSA.distance(word, known, score_cutoff=1) <= 1
    }
    return near.pop() if len(near) == 1 else ()


def concepts(masked_text: str) -> list[str]:
    """The concepts a masked question expresses (each once, in order of first appearance)."""
    tokens = _WORD.findall(masked_text.lower())
    found: dict[str, None] = {}
    for index, token in enumerate(tokens):
        if token.startswith("<"):
            for concept in PLACEHOLDER_CONCEPTS.get(token, ()):
                found.setdefault(concept)
            continue
        for concept in word_concepts(token):
            found.setdefault(concept)
        if index + 1 < len(tokens):
            phrase = f"{token} {tokens[index + 1]}"
            if phrase in _PHRASES:
                for concept in _CONCEPTS_OF[phrase]:
                    found.setdefault(concept)
    return list(found)


#: what a question names, as the classifier's placeholders
NAMED_KINDS = ("<vin>", "<part>", "<model>", "<variant>", "<spec>", "<dealer>", "<yard>", "<date>", "<qty>")


def concept_features(masked_text: str) -> list[str]:
    """The features the classifier reads from the lexicon: each concept, each pair of concepts, and each
    concept with each kind of thing named ("<part>&when"), or with nothing named."""
    found = concepts(masked_text)
    lowered = masked_text.lower()
    named = [kind for kind in NAMED_KINDS if kind in lowered] or ["<none>"]
    features = [f"c:{concept}" for concept in found]
    ordered = sorted(found)
    features += [f"c:{a}+{b}" for position, a in enumerate(ordered) for b in ordered[position + 1 :]]
    features += [f"{kind}&{concept}" for kind in named for concept in found]
    features += [f"{kind}&only" for kind in named] if not found else []
    return features
