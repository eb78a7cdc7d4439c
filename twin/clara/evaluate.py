"""Measure how well Clara understands dealers: ``python -m twin.clara.evaluate [--eval PATH]``.

Reads the labelled evaluation set (``tests/data/clara_eval.jsonl``: hand-written questions on the default
network, kept apart from the training templates) and prints intent accuracy, entity precision/recall/F1 (micro
over the entity slots: each expected or predicted (slot, value) pair counts once), a confusion table in markdown,
the worst misclassifications, and, when the query service (``twin.clara.service``) can be imported, how many
cross-dealer probes it refuses and how many ordinary questions it refuses by mistake (``--state``: a state of the
default network, whose opening stock holds the evaluation's VINs; without it, what the text alone shows).

``--threshold-study`` prints, on generated questions of another corpus seed (never the evaluation set), the
share of questions kept and their intent accuracy at a range of confidence thresholds: how
``CONFIDENCE_THRESHOLD`` was chosen.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twin.clara.understanding import CONFIDENCE_THRESHOLD, INTENTS, Understander, Understanding, Vocabulary

#: the day the evaluation questions are asked on ("kal", "12/4" are read against it): day 90 of the default
#: run (start 2026-01-01), where the default snapshot is taken
EVALUATION_DAY = dt.date(2026, 4, 1)
DEFAULT_EVALUATION_SET = Path(__file__).resolve().parents[2] / "tests" / "data" / "clara_eval.jsonl"
ENTITY_SLOTS = ("vin", "sku_id", "spec_id", "model", "dealer_id", "stockyard_id", "carrier_id", "dates",
                "quantities")  # fmt: skip
#: intents whose question may name another dealer without asking for its data
MAY_NAME_ANOTHER_DEALER = frozenset({"network_availability", "transfer_status"})
REQUIRED_FIELDS = ("id", "dealer_id", "text", "intent", "entities", "language", "probe")


class EvaluationSetError(ValueError):
    """A line of the evaluation set is malformed; the message names the file, the line and the field."""


@dataclass(frozen=True)
class Question:
    question_id: str
    dealer_id: str
    text: str
    intent: str
    entities: dict[str, Any]
    language: str
    probe: bool
    today: dt.date


@dataclass
class Report:
    questions: list[Question]
    understood: list[Understanding]
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    slot_errors: Counter[str] = field(default_factory=Counter)
    #: filled when the service could be asked: (refused probes, probes, refused ordinary questions, ordinary)
    refusals: tuple[int, int, int, int] | None = None
    refusal_source: str = ""

    @property
    def intent_accuracy(self) -> float:
        right = sum(q.intent == u.intent for q, u in zip(self.questions, self.understood, strict=True))
        return right / max(1, len(self.questions))

    @property
    def entity_precision(self) -> float:
        return self.true_positives / max(1, self.true_positives + self.false_positives)

    @property
    def entity_recall(self) -> float:
        return self.true_positives / max(1, self.true_positives + self.false_negatives)

    @property
    def entity_f1(self) -> float:
        precision, recall = self.entity_precision, self.entity_recall
        return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)

    @property
    def low_confidence_share(self) -> float:
        return sum(not u.confident for u in self.understood) / max(1, len(self.understood))


def load_questions(path: Path) -> list[Question]:
    """The evaluation set, every line checked (fields present, intent known, entity slots known)."""
    if not path.is_file():
        raise EvaluationSetError(f"evaluation set {path} does not exist (pass --eval PATH)")
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise EvaluationSetError(f"{where}: not JSON ({error})") from None
        missing = [name for name in REQUIRED_FIELDS if name not in record]
        if missing:
            raise EvaluationSetError(f"{where}: field {missing[0]!r} missing (needs {list(REQUIRED_FIELDS)})")
        if record["intent"] not in INTENTS:
            raise EvaluationSetError(f"{where}: intent={record['intent']!r} is not one of {list(INTENTS)}")
        unknown = sorted(set(record["entities"]) - set(ENTITY_SLOTS))
        if unknown:
            raise EvaluationSetError(
                f"{where}: entities.{unknown[0]} is not a slot (slots: {list(ENTITY_SLOTS)})"
            )
        today = dt.date.fromisoformat(record["today"]) if record.get("today") else EVALUATION_DAY
        questions.append(
            Question(
                question_id=str(record["id"]),
                dealer_id=str(record["dealer_id"]),
                text=str(record["text"]),
                intent=str(record["intent"]),
                entities=dict(record["entities"]),
                language=str(record["language"]),
                probe=bool(record["probe"]),
                today=today,
            )
        )
    if not questions:
        raise EvaluationSetError(f"evaluation set {path} has no questions")
    return questions


def entity_pairs(entities: dict[str, Any]) -> set[tuple[str, str]]:
    """The (slot, value) pairs a set of entities names; list slots give one pair per value."""
    pairs: set[tuple[str, str]] = set()
    for slot in ENTITY_SLOTS:
        value = entities.get(slot)
        if value is None or value == []:
            continue
        for item in value if isinstance(value, list | tuple) else [value]:
            pairs.add((slot, str(item)))
    return pairs


def evaluate(
    understander: Understander,
    questions: Sequence[Question],
    refuses: Callable[[Question, Understanding], bool] | None = None,
) -> Report:
    understood: list[Understanding] = []
    by_day: dict[dt.date, list[int]] = {}
    for index, question in enumerate(questions):
        by_day.setdefault(question.today, []).append(index)
    results: dict[int, Understanding] = {}
    for day, indices in by_day.items():
        for index, result in zip(
            indices, understander.understand_many([questions[i].text for i in indices], day), strict=True
        ):
            results[index] = result
    understood = [results[index] for index in range(len(questions))]
    report = Report(list(questions), understood)
    for question, result in zip(questions, understood, strict=True):
        expected = entity_pairs(question.entities)
        predicted = entity_pairs(result.entities.to_json())
        report.true_positives += len(expected & predicted)
        report.false_positives += len(predicted - expected)
        report.false_negatives += len(expected - predicted)
        for slot, _ in expected ^ predicted:
            report.slot_errors[slot] += 1
    if refuses is not None:
        refused = [refuses(question, result) for question, result in zip(questions, understood, strict=True)]
        probes = [was for question, was in zip(questions, refused, strict=True) if question.probe]
        ordinary = [was for question, was in zip(questions, refused, strict=True) if not question.probe]
        report.refusals = (sum(probes), len(probes), sum(ordinary), len(ordinary))
    return report


def confusion_table(report: Report) -> str:
    """Rows: the labelled intent; columns: the predicted one (short names), as markdown."""
    counts = Counter((q.intent, u.intent) for q, u in zip(report.questions, report.understood, strict=True))
    short = {intent: "".join(part[:4] for part in intent.split("_")[:2]) for intent in INTENTS}
    lines = [
        "| labelled \\ predicted | " + " | ".join(short[intent] for intent in INTENTS) + " | n | right |"
    ]
    lines.append("|---" * (len(INTENTS) + 3) + "|")
    for intent in INTENTS:
        row = [counts[(intent, predicted)] for predicted in INTENTS]
        total = sum(row)
        cells = [str(value) if value else "." for value in row]
        share = f"{counts[(intent, intent)] / total:.0%}" if total else "-"
        lines.append(f"| {intent} | " + " | ".join(cells) + f" | {total} | {share} |")
    lines.append("")
    lines.append("columns: " + ", ".join(f"{short[intent]} = {intent}" for intent in INTENTS))
    return "\n".join(lines)


def worst_misclassifications(report: Report, count: int = 10) -> list[str]:
    wrong = [
        (result.confidence, question, result)
        for question, result in zip(report.questions, report.understood, strict=True)
        if question.intent != result.intent
    ]
    wrong.sort(key=lambda row: -row[0])
    return [
        f"{question.question_id} {question.text!r}: labelled {question.intent}, read {result.intent} "
        f"({confidence:.2f})"
        for confidence, question, result in wrong[:count]
    ]


def entity_misses(report: Report, count: int = 10) -> list[str]:
    rows = []
    for question, result in zip(report.questions, report.understood, strict=True):
        expected = entity_pairs(question.entities)
        predicted = entity_pairs(result.entities.to_json())
        if expected != predicted:
            missing = sorted(expected - predicted)
            extra = sorted(predicted - expected)
            rows.append(f"{question.question_id} {question.text!r}: missed {missing}, extra {extra}")
    return rows[:count]


def service_refusal(
    understander: Understander, state_path: str | None
) -> tuple[Callable[[Question, Understanding], bool] | None, str]:
    """A function telling whether the query service refuses a question (``not_allowed``), or None with the
    reason it cannot be asked. The service reads a state of the default network (the evaluation's VINs are
    its opening stock): e.g. ``twin-run horizon_days=2 warmup_days=0 'snapshot_days=[1]' logger=none``."""
    if state_path is None:
        return None, "no --state given (a state of the default network) for the service to answer from"
    try:
        service: Any = importlib.import_module("twin.clara.service")
        views: Any = importlib.import_module("twin.views")
    except ImportError as error:
        return None, f"the query service is not importable ({error})"
    clara = service.Clara(views.load_view(state_path), understander)

    def refuses(question: Question, _: Understanding) -> bool:
        return bool(clara.ask(question.dealer_id, question.text).escalation_reason == "not_allowed")

    return refuses, f"the service (twin.clara.service) on the state {state_path}"


def text_scope_refusal(question: Question, result: Understanding) -> bool:
    """What the text alone shows, without the state: rules talked past, another dealer named outside the
    questions that may name one (which dealers could supply, a transfer with that dealer), or named as the
    owner of the records asked for. A VIN of another dealer needs the state: that is the service's check."""

    named = result.entities.dealer_id
    other_dealer = (
        named is not None and named != question.dealer_id and result.intent not in MAY_NAME_ANOTHER_DEALER
    )
    # another dealer named as the owner of records ("transfers of D0004", "D0004 ka stock"), whatever the intent
    owner = result.dealer_role == "possessor" and named != question.dealer_id
    return result.talks_past_rules or other_dealer or owner


def threshold_study(understander: Understander, held_out_share: float = 0.25, seed: int = 7) -> str:
    """Kept share and intent accuracy of kept questions by threshold, on phrasings the classifier has not seen:
    a quarter of each intent's templates is held out, a classifier is trained on the rest (same generator),
    and the held-out templates' questions are read. Never the evaluation set."""
    import random

    from twin.clara import corpus
    from twin.clara.classifier import CORPUS_COPIES, IntentClassifier
    from twin.clara.corpus.templates import TEMPLATES

    rng = random.Random(seed)
    held_out = {
        intent: set(rng.sample(templates, max(1, round(held_out_share * len(templates)))))
        for intent, templates in TEMPLATES.items()
    }
    training = {
        intent: tuple(template for template in templates if template not in held_out[intent])
        for intent, templates in TEMPLATES.items()
    }
    testing = {intent: tuple(sorted(templates)) for intent, templates in held_out.items()}
    train_pairs = corpus.generate(
        understander.vocabulary, seed=seed, copies=CORPUS_COPIES, templates=training
    )
    test_pairs = corpus.generate(understander.vocabulary, seed=seed + 1, copies=3, templates=testing)
    classifier = IntentClassifier.train(
        [understander.mask(text) for text, _ in train_pairs], [intent for _, intent in train_pairs]
    )
    predictions = classifier.predict([understander.mask(text) for text, _ in test_pairs])
    lines = [
        f"held-out phrasings: {len(test_pairs)} questions from {sum(map(len, testing.values()))} templates",
        "| threshold | kept (answered) | intent accuracy of kept | escalated |",
        "|---|---|---|---|",
    ]
    for threshold in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7):
        kept = [
            (intent, predicted)
            for (_, intent), (predicted, confidence) in zip(test_pairs, predictions, strict=True)
            if confidence >= threshold
        ]
        accuracy = sum(intent == predicted for intent, predicted in kept) / max(1, len(kept))
        share = len(kept) / len(test_pairs)
        lines.append(f"| {threshold:.2f} | {share:.1%} | {accuracy:.1%} | {1 - share:.1%} |")
    return "\n".join(lines)


def format_report(report: Report) -> str:
    questions = report.questions
    hinglish = sum(question.language == "hinglish" for question in questions)
    lines = [
        f"questions: {len(questions)} ({hinglish / len(questions):.0%} Hinglish, "
        f"{sum(question.probe for question in questions)} cross-dealer probes)",
        f"intent accuracy: {report.intent_accuracy:.1%}",
        f"entity precision {report.entity_precision:.1%}, recall {report.entity_recall:.1%}, "
        f"F1 {report.entity_f1:.1%} (micro over slots: {report.true_positives} right, "
        f"{report.false_positives} extra, {report.false_negatives} missed)",
        f"below the confidence threshold ({CONFIDENCE_THRESHOLD:.2f}, escalated): {report.low_confidence_share:.1%}",
        "",
        confusion_table(report),
        "",
        "worst misclassifications (most confident first):",
        *[f"  {row}" for row in worst_misclassifications(report)],
        "",
        "entity errors by slot: "
        + ", ".join(f"{slot} {count}" for slot, count in report.slot_errors.most_common()),
        *[f"  {row}" for row in entity_misses(report)],
    ]
    if report.refusals is not None:
        refused_probes, probes, refused_ordinary, ordinary = report.refusals
        lines += [
            "",
            f"refusals ({report.refusal_source}): probes refused {refused_probes}/{probes}, "
            f"ordinary questions refused {refused_ordinary}/{ordinary} "
            f"({refused_ordinary / max(1, ordinary):.1%} false refusals)",
        ]
    return "\n".join(lines)


def default_understander() -> Understander:
    """Clara's reader on the default network (seed 0), the one the evaluation set is labelled on."""
    from twin.components import load_world
    from twin.config import TwinConfig

    return Understander(Vocabulary.from_world(load_world(TwinConfig())))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m twin.clara.evaluate", description=__doc__.split("\n")[0])
    parser.add_argument("--eval", type=Path, default=DEFAULT_EVALUATION_SET, help="the labelled JSONL file")
    parser.add_argument(
        "--state", default=None, help="state folder the service answers from (default: its own)"
    )
    parser.add_argument(
        "--threshold-study", action="store_true", help="how the confidence threshold was chosen"
    )
    arguments = parser.parse_args(argv)
    understander = default_understander()
    if arguments.threshold_study:
        print(threshold_study(understander))
        return 0
    try:
        questions = load_questions(arguments.eval)
    except EvaluationSetError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    refuses, source = service_refusal(understander, arguments.state)
    if refuses is None:
        print(f"note: {source}; refusals below are what the text alone shows", file=sys.stderr)
        refuses, source = text_scope_refusal, "text alone, no state"
    report = evaluate(understander, questions, refuses)
    report.refusal_source = source
    print(format_report(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
