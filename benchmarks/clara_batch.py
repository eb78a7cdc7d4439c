"""Clara's batch throughput on the default network: questions per second with the state loaded once (issue 16).

Loads a state (``--state``: a state folder or a run folder; default: the newest run under ``./outputs``, so
run ``twin-run`` first), builds Clara on it (the classifier trains once), generates ``--questions``
questions with the paraphrase corpus generator (``twin.clara.corpus``, a seed kept apart from training),
each asked by a random dealer, and answers them with ``Clara.ask_many`` in chunks of ``--chunk`` (as
``twin-ask --batch`` does). Prints the load time, questions per second over the whole batch, the p50 and
p95 latency of a question answered alone (``Clara.ask``, on a sample), and the share answered and escalated.
The target is >= 500 questions/s. Run:
``.venv/bin/python benchmarks/clara_batch.py [--state PATH] [--questions 20000] [--chunk 1000]``.
"""

from __future__ import annotations

import argparse
import logging
import random
import time
from collections import Counter

import numpy as np

from twin.clara import corpus
from twin.clara.service import Clara
from twin.clara.understanding import Understander, Vocabulary
from twin.views import load_view

#: the corpus seed for benchmark questions (training uses another)
QUESTION_SEED = 16_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--state", default=None, help="a state or run folder (default: the newest run)")
    parser.add_argument("--questions", type=int, default=20_000)
    parser.add_argument("--chunk", type=int, default=1000)
    parser.add_argument("--latency-sample", type=int, default=500)
    arguments = parser.parse_args()

    audit = logging.getLogger("twin.clara.audit")  # refusals are counted below, not printed
    audit.addHandler(logging.NullHandler())
    audit.propagate = False
    started = time.perf_counter()
    view = load_view(arguments.state)
    loaded = time.perf_counter() - started
    vocabulary = Vocabulary.from_world(view.world)
    started = time.perf_counter()
    clara = Clara(view, Understander(vocabulary))
    trained = time.perf_counter() - started
    rng = random.Random(QUESTION_SEED)
    texts = [text for text, _ in corpus.generate(vocabulary, seed=QUESTION_SEED, copies=1)]
    questions = [(rng.choice(view.dealer_ids), rng.choice(texts)) for _ in range(arguments.questions)]
    print(
        f"state {view.source} (day {view.day}, {view.dealers} dealers, {len(view.state.vehicles):,} VINs): "
        f"loaded in {loaded:.1f} s, classifier trained in {trained:.1f} s; {len(texts):,} distinct questions"
    )

    clara.ask_many(questions[: arguments.chunk])  # first touch builds the per-dealer tables
    started = time.perf_counter()
    outcomes: Counter[str] = Counter()
    for start in range(0, len(questions), arguments.chunk):
        for reply in clara.ask_many(questions[start : start + arguments.chunk]):
            outcomes[reply.escalation_reason or "answered"] += 1
    seconds = time.perf_counter() - started
    latencies = []
    for dealer_id, text in questions[: arguments.latency_sample]:
        asked = time.perf_counter()
        clara.ask(dealer_id, text)
        latencies.append(time.perf_counter() - asked)
    p50, p95 = np.percentile(np.asarray(latencies) * 1000.0, [50, 95])
    print(
        f"{len(questions):,} questions in {seconds:.2f} s: {len(questions) / seconds:,.0f} questions/s "
        f"(batches of {arguments.chunk:,}); one at a time p50 {p50:.2f} ms, p95 {p95:.2f} ms"
    )
    print(
        "outcomes: "
        + ", ".join(f"{name} {count / len(questions):.1%}" for name, count in outcomes.most_common())
    )


if __name__ == "__main__":
    main()
