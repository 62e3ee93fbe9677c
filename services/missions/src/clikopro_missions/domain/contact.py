"""Anti-circumvention on a mission (R19): when its two parties may reach each other, and what the free
text written on it may say until then.

- Before a contract binds them, and always for what the public reads, free text is masked by the
  contact-detail detector (``clikopro_textguard``) before it is stored: mission title and description,
  proposal message, task titles. Events carry the kinds that were masked, never the contact itself.
- A contract binds the client and the pro at acceptance with Paiement Direct, and once the payment is
  secured with Secure (the mission is then ``in_progress``, later ``completed``). From then on each
  party sees the other's contact details and the intervention address; a cancelled mission binds no one.
- An invitation to pay outside the platform (``offplatform_payment``) in a Secure mission is masked and
  counted at any time, after the contract too: the client paid the platform, not the pro.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from clikopro_textguard import MASK, Finding, scan

OFFPLATFORM = "offplatform_payment"


def contact_allowed(*, status: str, payment_mode: str | None) -> bool:
    """Whether the parties of a mission in ``status``, contracted with ``payment_mode`` (``None``: no
    contract), may see each other's contact details."""
    if payment_mode is None or status == "cancelled":
        return False
    if payment_mode == "direct":
        return True
    return status in ("in_progress", "completed")  # Secure: the payment is secured


@dataclass(frozen=True)
class GuardedText:
    """Free text as it is stored and shown, and the kinds masked in it (one per finding)."""

    text: str
    kinds: list[str]


def _mask(text: str, findings: Iterable[Finding]) -> str:
    parts, last = [], 0
    for f in findings:
        parts += [text[last : f.start], MASK]
        last = f.end
    parts.append(text[last:])
    return "".join(parts)


def guard(
    text: str,
    *,
    contact_allowed: bool = False,
    payment_mode: str | None = None,
    max_length: int | None = None,
) -> GuardedText:
    """Mask what may not be said yet. Before contact is allowed: every finding. After: only invitations
    to pay outside a Secure mission. ``max_length``: the column's (a mask may be longer than what it
    hides, e.g. ``fb``)."""
    findings = scan(text).findings
    if contact_allowed:
        findings = tuple(f for f in findings if f.kind == OFFPLATFORM and payment_mode == "secure")
    masked = _mask(text, findings)
    return GuardedText(masked[:max_length] if max_length else masked, [f.kind for f in findings])
