"""Finds contact details in text and masks them.

This first version knows plain phone numbers and e-mail addresses; the full detector
(disguises, IBANs, links, social handles, off-platform payment) replaces the rules, not the API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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


_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("email", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    ("phone", re.compile(r"(?<!\d)(?:\+33|0033|0)\s*[1-9](?:[\s.-]*\d{2}){4}(?!\d)")),
)


def scan(text: str) -> Scan:
    spans: list[Finding] = []
    for kind, pattern in _RULES:
        for match in pattern.finditer(text):
            if not any(f.start < match.end() and match.start() < f.end for f in spans):
                spans.append(Finding(kind, match.start(), match.end()))
    spans.sort(key=lambda f: f.start)
    masked, last = [], 0
    for finding in spans:
        masked += [text[last : finding.start], MASK]
        last = finding.end
    masked.append(text[last:])
    return Scan(text=text, masked="".join(masked), findings=tuple(spans))
