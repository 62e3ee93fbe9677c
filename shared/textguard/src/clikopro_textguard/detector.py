"""Finds contact details in French text and masks them.

The rules run on a folded copy of the text (lower case, accents and compatibility forms removed,
see :mod:`clikopro_textguard.normalise`) that keeps, for each character, its index in the original:
findings are spans of the original text, so the masked text keeps everything else as written.

Kinds, in the order they claim text (a span already claimed by an earlier kind is not reported
again): ``iban``, ``email``, ``link``, ``phone``, ``social``, ``offplatform_payment``.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass

from clikopro_textguard import patterns
from clikopro_textguard.normalise import fold, tokens
from clikopro_textguard.phones import find_phones

#: Finding kinds, as events name them (clikopro_contracts CONTACT_KINDS).
KINDS = ("phone", "email", "iban", "link", "social", "offplatform_payment")

MASK = "•••"


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Scan:
    text: str
    masked: str
    findings: tuple[Finding, ...]

    @property
    def kinds(self) -> list[str]:
        """One entry per finding, in text order: what events carry as ``masked_contacts``."""
        return [f.kind for f in self.findings]

    @property
    def clean(self) -> bool:
        return not self.findings


def _candidates(folded: str) -> Iterable[tuple[str, int, int]]:
    for start, end in patterns.ibans(folded):
        yield "iban", start, end
    for m in patterns.EMAIL.finditer(folded):
        yield "email", m.start(), m.end()
    for m in patterns.LINK.finditer(folded):
        yield "link", m.start(), m.end()
    yield from patterns.spaced_out(folded)
    for start, end in find_phones(tokens(folded)):
        yield "phone", start, end
    for m in patterns.SOCIAL.finditer(folded):
        yield "social", m.start(), m.end()
    for m in patterns.OFFPLATFORM_PAYMENT.finditer(folded):
        yield "offplatform_payment", m.start(), m.end()


def _trim_link(text: str, start: int, end: int) -> int:
    """A link written at the end of a sentence does not take its full stop or closing bracket."""
    while end > start + 1 and text[end - 1] in ".,;:!?)]»\"'":
        end -= 1
    return end


def scan(text: str) -> Scan:
    folded = fold(text)
    # Claimed spans never overlap, so sorted by start they are sorted by end too.
    starts: list[int] = []
    claimed: list[Finding] = []
    for kind, fstart, fend in _candidates(folded.text):
        start, end = folded.span(fstart, fend)
        if kind == "link":
            end = _trim_link(text, start, end)
        at = bisect.bisect_left(starts, start)
        overlaps = (at > 0 and claimed[at - 1].end > start) or (at < len(claimed) and claimed[at].start < end)
        if start >= end or overlaps:
            continue
        starts.insert(at, start)
        claimed.insert(at, Finding(kind, start, end))
    masked, last = [], 0
    for finding in claimed:
        masked += [text[last : finding.start], MASK]
        last = finding.end
    masked.append(text[last:])
    return Scan(text=text, masked="".join(masked), findings=tuple(claimed))
