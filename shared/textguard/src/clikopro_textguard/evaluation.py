"""Precision and recall of the detector on a labelled corpus.

The unit is one (message, kind) pair: a kind the detector reports for a message is a true positive
if the message is labelled with it, else a false positive; a labelled kind it does not report is a
false negative. How many times a kind occurs in one message, and the exact spans, do not count
(spans are tested one by one in the unit tests)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from clikopro_textguard.detector import KINDS, scan

#: The issue's goals (issue 12).
PRECISION_GOAL = 0.97
RECALL_GOAL = 0.92


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


@dataclass
class Report:
    messages: int = 0
    clean_messages: int = 0
    overall: Counts = field(default_factory=Counts)
    per_kind: dict[str, Counts] = field(default_factory=lambda: {k: Counts() for k in KINDS})
    #: (text, expected kinds, found kinds) of every message the detector got wrong.
    errors: list[tuple[str, list[str], list[str]]] = field(default_factory=list)

    def table(self) -> str:
        lines = [
            f"{self.messages} messages ({self.clean_messages} without contact details); "
            "unit: one (message, kind) pair",
            f"{'kind':<20} {'TP':>4} {'FP':>4} {'FN':>4} {'precision':>9} {'recall':>7}",
        ]
        rows = [*self.per_kind.items(), ("overall", self.overall)]
        for name, c in rows:
            lines.append(f"{name:<20} {c.tp:>4} {c.fp:>4} {c.fn:>4} {c.precision:>9.3f} {c.recall:>7.3f}")
        return "\n".join(lines)


def evaluate(corpus: Iterable[Mapping[str, object]]) -> Report:
    """``corpus``: items ``{"text": str, "kinds": [kind, ...]}`` (the kinds the message contains)."""
    report = Report()
    for item in corpus:
        text = str(item["text"])
        kinds = item["kinds"]
        assert isinstance(kinds, Sequence)
        expected = set(map(str, kinds))
        found = set(scan(text).kinds)
        report.messages += 1
        report.clean_messages += not expected
        for kind in expected | found:
            counts = report.per_kind[kind]
            hit = "tp" if kind in expected and kind in found else "fp" if kind in found else "fn"
            setattr(counts, hit, getattr(counts, hit) + 1)
            setattr(report.overall, hit, getattr(report.overall, hit) + 1)
        if expected != found:
            report.errors.append((text, sorted(expected), sorted(found)))
    return report
