"""How Clara reads phrasings it never trained on, as the twin's dealers write them, without running the twin.

``python benchmarks/clara_held_out.py [--fold 0] [--questions 3000]``

The twin (``twin.engine.dealer_queries``) holds every third template of each (intent, subject) group out of its
Clara's training and has its dealers write only those, filled with a real subject and the corpus's typing
noise. This script does the same without the simulation: it trains Clara's classifier on the corpus without the
fold's templates (fold 0 is the twin's own split; folds 1 and 2 hold out the other thirds, for developing
without looking at the twin's phrasings), writes ``--questions`` questions with the twin's ``QuestionWriter`` in
the twin's mix of intents and subjects (``MIX``, counted in a small-network run), reads them in one batch and
applies the twin's rules: escalated as the twin's Clara would (``not_allowed``, ``low_confidence``,
``needs_decision``, ``out_of_scope``, ``data_missing``), else right only when the intent and the subject read
are the ones asked. Subjects are drawn uniformly (a random valid VIN, any current SKU, any model), so it is a proxy:
the twin's own figure is ``twin-run queries=clara`` (``queries_autonomous_resolution_rate``,
``queries_clara_answer_accuracy``). About 10 s of CPU.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import Counter
from collections.abc import Sequence

from twin.clara import corpus
from twin.clara.classifier import CORPUS_COPIES, CORPUS_SEED, IntentClassifier
from twin.clara.corpus.templates import TEMPLATES
from twin.clara.entities import EntityExtractor
from twin.clara.understanding import Understander
from twin.clara.vocabulary import Vocabulary
from twin.components import load_world
from twin.config import TwinConfig
from twin.domain.vin import make_vin
from twin.engine import dealer_queries

#: questions by (intent, subject kind) in a small-network run of 120 days (868 questions, seed 1)
MIX: dict[tuple[str, str], int] = {
    ("allocation_status", "none"): 120, ("allocation_status", "model"): 32, ("vin_status", "vin"): 79,
    ("vehicle_stock", "none"): 19, ("vehicle_stock", "model"): 44, ("part_stock", "part"): 119,
    ("part_eta", "part"): 207, ("statement", "none"): 57, ("incentive_status", "none"): 33,
    ("incentive_status", "vin"): 75, ("other", "none"): 83,
}  # fmt: skip
#: the asker in this study (any dealer: a dealer named in the text is another one)
ASKER = "D0001"
#: a wrong answer is reopened with this chance (``queries.wrong_answer_reopen_probability``'s default)
REOPEN_PROBABILITY = 0.8
#: intents whose records a default run does not keep (``dealer_queries.RECORDS_NEEDED``)
OUT_OF_SCOPE = frozenset(dealer_queries.RECORDS_NEEDED)


def held_out(fold: int) -> frozenset[str]:
    """Every third template of each group, starting at ``fold`` (fold 0: ``held_out_templates``)."""
    return frozenset(
        template
        for group in dealer_queries.writer_groups(TEMPLATES).values()
        for position, template in enumerate(group)
        if position % dealer_queries.HELD_OUT_EVERY == fold
    )


def study(fold: int, count: int, show: int) -> str:
    world = load_world(TwinConfig())
    vocabulary = Vocabulary.from_world(world)
    excluded = held_out(fold)
    training = {intent: tuple(t for t in ts if t not in excluded) for intent, ts in TEMPLATES.items()}
    extractor = EntityExtractor(vocabulary)
    pairs = corpus.generate(vocabulary, seed=CORPUS_SEED, copies=CORPUS_COPIES, templates=training)
    classifier = IntentClassifier.train(
        [extractor.extract(text).masked_text for text, _ in pairs], [intent for _, intent in pairs]
    )
    reader = Understander(vocabulary, classifier=classifier)
    writer = dealer_queries.QuestionWriter(world)
    writer.templates = {
        group: [template for template in members if template in excluded]
        for group, members in dealer_queries.writer_groups(TEMPLATES).items()
    }
    rng = random.Random(1000 + fold)
    keys = list(MIX)
    skus = [str(sku) for sku in world.parts.sku_id]
    models = [str(name) for name in world.specs.model_names]
    # the twin's dealers ask about the parts they sell: never a superseded number (its description is its
    # successor's, so a question naming it by description names the successor)
    current = [index for index, successor in enumerate(world.parts.superseded_by) if successor < 0]
    questions: list[tuple[str, str, int, int, str]] = []
    while len(questions) < count:
        intent, kind = rng.choices(keys, [MIX[key] for key in keys])[0]
        vin, sku, model = "", -1, -1
        if kind == "vin":
            attributes = "".join(rng.choice("ABCDEFGH") for _ in range(5))
            vin = make_vin("MA7", attributes, 2026, "M", rng.randrange(1_000_000))
        elif kind == "part":
            sku = rng.choice(current)
        elif kind == "model":
            model = rng.randrange(len(models))
        try:
            text = writer.write(intent, vin, sku, model, rng)
        except ValueError:
            continue  # this fold holds out no template of the group
        questions.append((intent, vin, sku, model, text))
    readings = reader.understand_many([question[4] for question in questions])
    outcomes: Counter[str] = Counter()
    by_intent: dict[str, Counter[str]] = {}
    wrong: list[tuple[float, str]] = []
    for (intent, vin, sku, model, text), reading in zip(questions, readings, strict=True):
        entities = reading.entities
        read_sku = skus.index(entities.sku_id) if entities.sku_id in skus else -1
        read = (entities.vin or "", read_sku, models.index(entities.model) if entities.model else -1)
        names_vin = reading.intent == "vin_status" or (reading.intent == "incentive_status" and entities.vin)
        if reading.talks_past_rules or (
            entities.dealer_id not in (None, ASKER) and reading.intent != "network_availability"
        ):
            outcome = "not_allowed"
        elif not reading.confident:
            outcome = "low_confidence"
        elif reading.intent == "other":
            outcome = "needs_decision"
        elif reading.intent in OUT_OF_SCOPE:
            outcome = "out_of_scope"
        elif (names_vin and read[0] != vin) or (reading.intent.startswith("part_") and read_sku < 0):
            outcome = "data_missing"
        elif intent == "other":
            outcome = "answered_other"  # states no fact: neither right nor wrong in the twin
            wrong.append((reading.confidence, f"other answered as {reading.intent}: {text!r}"))
        else:
            asked = (vin, sku, model)
            slots = [slot for slot in dealer_queries.SUBJECT_SLOTS[intent] if slot < 3]
            spec_read = entities.spec_id is not None and 3 in dealer_queries.SUBJECT_SLOTS[intent]
            right = reading.intent == intent and not spec_read and all(read[s] == asked[s] for s in slots)
            outcome = "right" if right else "wrong"
            if not right:
                wrong.append((reading.confidence, f"{intent} read {reading.intent}: {text!r}"))
        outcomes[outcome] += 1
        by_intent.setdefault(intent, Counter())[outcome] += 1
    answered = outcomes["right"] + outcomes["wrong"] + outcomes["answered_other"]
    resolved = answered - REOPEN_PROBABILITY * outcomes["wrong"]
    lines = [
        f"fold {fold} ({len(excluded)} templates held out), {count} questions:",
        f"resolution about {resolved / count:.1%} (answered {answered / count:.1%}, less the wrong answers "
        f"reopened), Clara's answers right {outcomes['right'] / max(1, answered - outcomes['answered_other']):.2%}",
        "outcomes: " + ", ".join(f"{name} {n / count:.1%}" for name, n in sorted(outcomes.items())),
    ]
    for intent, counts in by_intent.items():
        total = sum(counts.values())
        shares = " ".join(f"{name} {n / total:.0%}" for name, n in sorted(counts.items()))
        lines.append(f"  {intent:18} {total:5}  {shares}")
    wrong.sort(key=lambda row: -row[0])
    lines += [f"  wrong ({confidence:.2f}) {text}" for confidence, text in wrong[:show]]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fold", type=int, default=0, choices=range(dealer_queries.HELD_OUT_EVERY))
    parser.add_argument("--questions", type=int, default=3000)
    parser.add_argument(
        "--show", type=int, default=0, help="print this many wrong answers, most confident first"
    )
    arguments = parser.parse_args(argv)
    if arguments.questions <= 0:
        parser.error(f"--questions={arguments.questions}: must be positive")
    print(study(arguments.fold, arguments.questions, arguments.show))
    return 0


if __name__ == "__main__":
    sys.exit(main())
