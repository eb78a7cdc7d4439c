"""Clara's domain lexicon, short model names typed with a slip and readings the text contradicts: the pieces
that let it read phrasings it never trained on, or know it did not (``twin.clara.lexicon``, the extractor's
one-slip model names, ``domain_conflict``). No classifier is trained here: all of these are cheap."""

from __future__ import annotations

import pytest

from twin.clara.entities import Entities, EntityExtractor
from twin.clara.lexicon import concept_features, concepts, word_concepts
from twin.clara.understanding import Understanding, domain_conflict
from twin.clara.vocabulary import Vocabulary
from twin.components import load_world
from twin.config import TwinConfig


@pytest.fixture(scope="module")
def extractor() -> EntityExtractor:
    return EntityExtractor(Vocabulary.from_world(load_world(TwinConfig())))


@pytest.mark.parametrize(
    ("word", "concept"),
    [
        ("dispatch", "movement"),
        ("dspatch", "movement"),  # a typo of five letters or more still means what the word means
        ("kb", "when"),
        ("clm", "claim"),
        ("allocatd", "allocation"),
        ("stmt", "money"),
    ],
)
def test_trade_words_and_their_typos_stand_for_their_concept(word, concept):
    assert concept in word_concepts(word)


def test_short_unknown_or_everyday_words_stand_for_nothing():
    assert word_concepts("xyzzy") == ()
    assert word_concepts("kaisa") == word_concepts("share") == ()  # not "paisa" and "spare" mistyped
    assert word_concepts("kbb") == ()  # under five letters only the lexicon's own spelling counts
    assert concepts("<part> <model>") == []


def test_concepts_are_combined_with_what_the_question_names():
    features = concept_features("<part> <model> dspatch hua kya")
    assert {"c:movement", "<part>&movement", "<model>&movement"} <= set(features)
    assert "<none>&claim" in concept_features("claim ka paisa kab aayega")
    assert concept_features("<vin>") == ["<vin>&only"]


@pytest.mark.parametrize(
    ("text", "model"),
    [
        ("how many gti are allocated to me", "Gati"),  # a letter dropped
        ("blot ka stock", "Bolt"),  # two swapped
        ("elyn kitni hai", "Elan"),  # one changed
        ("seat cover set agti lxi pu leather black kitne hai", "Gati"),
    ],
)
def test_a_short_model_name_one_slip_off_is_read(extractor, text, model):
    assert extractor.extract(text).entities.model == model


@pytest.mark.parametrize(
    "text",
    [
        "fan belt kitne hai",
        "gaadi aa gai kya",
        "apka statement bhejo",
        "stock in my area",
        "are you a bot",
    ],
)
def test_everyday_words_one_slip_from_a_model_are_not_read_as_one(extractor, text):
    assert extractor.extract(text).entities.model is None


@pytest.mark.parametrize("text", ["gal ka stock", "blat kitni hai"])
def test_a_word_two_slips_from_every_model_is_not_guessed(extractor, text):
    assert extractor.extract(text).entities.model is None


@pytest.mark.parametrize(
    ("intent", "masked_text", "conflicts"),
    [
        ("part_eta", "hamari gaadiyan kab dispatch hongi", True),  # cars, no part named
        ("part_eta", "<part> <model> kab aayega", False),
        ("part_eta", "gaadi ke spare parts kab aayenge", False),  # parts asked about, for a car
        ("vehicle_stock", "stock check <part> <model>", True),  # a part named
        ("network_availability", "<model> <variant> kahan hai", True),  # no other place named
        ("network_availability", "<model> <variant> <yard> mein hai kya", False),
        ("network_availability", "kis dealer ke paas <spec> hai", False),
        ("statement", "invoiced vehicles not received yet", True),
        ("statement", "freight billed for my cars", False),
        ("part_stock", "<part> kab tak milega", True),  # asks only when it comes
        ("part_stock", "<part> kitne hai", False),
        ("allocation_status", "increase my allocation by <qty>", True),  # a decision is asked for
        ("incentive_status", "approve the pending claim quickly", True),
        ("transfer_status", "is my transfer approved", False),
        ("statement", "weather kaisa hai aaj", True),  # nothing in it speaks of the account
    ],
)
def test_a_reading_the_text_contradicts_is_not_trusted(intent, masked_text, conflicts):
    assert (domain_conflict(intent, masked_text) is not None) == conflicts


def test_a_conflicting_reading_is_not_confident_however_sure_the_classifier_is():
    reading = Understanding("part_eta", 0.99, Entities(), False, (), conflict="cars, no part")
    assert not reading.confident
    assert reading.to_json()["conflict"] == "cars, no part"
    assert Understanding("part_eta", 0.99, Entities(), False, ()).confident
