"""Precision and recall on the labelled corpus (``corpus.jsonl``: one French message a line with the
kinds it contains). The unit is one (message, kind) pair, see :mod:`clikopro_textguard.evaluation`."""

import json
from pathlib import Path

from clikopro_textguard import KINDS
from clikopro_textguard.evaluation import PRECISION_GOAL, RECALL_GOAL, evaluate

CORPUS = Path(__file__).with_name("corpus.jsonl")


def load() -> list[dict]:
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_the_corpus_has_300_messages_positives_of_every_kind_and_lookalike_negatives():
    corpus = load()
    assert len(corpus) >= 300
    assert all(set(item["kinds"]) <= set(KINDS) for item in corpus)
    for kind in KINDS:
        assert sum(kind in item["kinds"] for item in corpus) >= 10, kind
    negatives = [item["text"] for item in corpus if not item["kinds"]]
    assert len(negatives) >= 100
    assert sum(any(c.isdigit() for c in text) for text in negatives) >= 80


def test_precision_and_recall_meet_the_goals():
    report = evaluate(load())
    print()
    print(report.table())
    for text, expected, found in report.errors:
        print(f"  expected {expected} found {found}: {text!r}")
    assert report.overall.precision >= PRECISION_GOAL
    assert report.overall.recall >= RECALL_GOAL
    for kind, counts in report.per_kind.items():
        assert counts.precision >= PRECISION_GOAL - 0.05, kind
        assert counts.recall >= RECALL_GOAL - 0.05, kind
