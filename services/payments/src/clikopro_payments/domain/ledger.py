"""The escrow ledger of a mission: double entry, balances derived (R14).

Accounts (balance = debits - credits):
- ``escrow``: what the platform holds for the mission;
- ``client``: what the client paid in (negative) and got back;
- ``pro``: what was transferred to the professional (net);
- ``commission``: what the platform kept.

Postings:
- capture ``A``:        debit escrow A,                         credit client A
- release task ``t``:   debit pro net, debit commission c,      credit escrow (net + c)
- refund ``r``:         debit client r,                         credit escrow r

Each posting balances, so the balances add up to zero; escrow = captured - released - commission
- refunded, and once nothing is held, released + commission + refunded = captured to the cent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

ACCOUNTS = ("escrow", "client", "pro", "commission")


@dataclass(frozen=True)
class Entry:
    account: str
    direction: str  # "debit" | "credit"
    amount_cents: int

    def __post_init__(self) -> None:
        if (
            self.account not in ACCOUNTS
            or self.direction not in ("debit", "credit")
            or self.amount_cents <= 0
        ):
            raise ValueError(f"invalid ledger entry {self}")

    @property
    def signed(self) -> int:
        return self.amount_cents if self.direction == "debit" else -self.amount_cents


def _posting(*entries: Entry | None) -> list[Entry]:
    posting = [e for e in entries if e is not None]
    if sum(e.signed for e in posting) != 0:
        raise ValueError("a posting must balance")
    return posting


def _maybe(account: str, direction: str, amount: int) -> Entry | None:
    return Entry(account, direction, amount) if amount else None


def capture(amount_cents: int) -> list[Entry]:
    return _posting(Entry("escrow", "debit", amount_cents), Entry("client", "credit", amount_cents))


def release(net_cents: int, commission_cents: int) -> list[Entry]:
    return _posting(
        _maybe("pro", "debit", net_cents),
        _maybe("commission", "debit", commission_cents),
        _maybe("escrow", "credit", net_cents + commission_cents),
    )


def refund(amount_cents: int) -> list[Entry]:
    return _posting(Entry("client", "debit", amount_cents), Entry("escrow", "credit", amount_cents))


@dataclass(frozen=True)
class Totals:
    captured_cents: int
    released_cents: int
    commission_cents: int
    refunded_cents: int
    held_cents: int


def totals(balances: Mapping[str, int], captured_cents: int, refunded_cents: int) -> Totals:
    return Totals(
        captured_cents=captured_cents,
        released_cents=balances.get("pro", 0),
        commission_cents=balances.get("commission", 0),
        refunded_cents=refunded_cents,
        held_cents=balances.get("escrow", 0),
    )


def balances_of(entries: Iterable[Entry]) -> dict[str, int]:
    result = dict.fromkeys(ACCOUNTS, 0)
    for entry in entries:
        result[entry.account] += entry.signed
    return result
