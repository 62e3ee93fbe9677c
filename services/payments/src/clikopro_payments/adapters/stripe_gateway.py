"""Stripe, as the payments service sees it: a port and its one adapter on the official SDK.

The rest of the service deals in the small records below and in two kinds of failure:

- :class:`StripeRefused`: Stripe answered and did nothing (invalid request, declined card,
  missing capability). Safe to try again later with a *new* idempotency key, since Stripe
  replays the first answer to a key.
- :class:`StripeUnavailable`: we do not know what happened (timeout, connection lost, 5xx,
  a concurrent request with the same key, rate limit). Before any new attempt, ask Stripe.

Idempotency keys are always given by the caller (deterministic business keys).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from clikopro_chassis.stripe.adapter import (
    StripeAdapter,
    get_field,
    object_id,
)


@dataclass(frozen=True)
class Intent:
    id: str
    status: str
    amount: int
    currency: str
    client_secret: str | None
    charge_id: str | None
    last_error_code: str | None = None
    last_error_charge: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Account:
    id: str
    transfers_enabled: bool
    details_submitted: bool
    payouts_enabled: bool


@dataclass(frozen=True)
class AccountLink:
    url: str
    expires_at: int


@dataclass(frozen=True)
class Transfer:
    id: str
    amount: int
    amount_reversed: int
    destination: str
    transfer_group: str | None
    source_transaction: str | None
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Refund:
    id: str
    amount: int
    status: str
    metadata: Mapping[str, str] = field(default_factory=dict)


class StripePort(Protocol):
    def create_payment_intent(
        self,
        *,
        amount_cents: int,
        currency: str,
        transfer_group: str,
        description: str,
        metadata: Mapping[str, str],
        idempotency_key: str,
    ) -> Intent: ...

    def retrieve_payment_intent(self, intent_id: str) -> Intent: ...

    def cancel_payment_intent(self, intent_id: str, *, idempotency_key: str) -> Intent: ...

    def create_account(
        self, *, email: str | None, metadata: Mapping[str, str], idempotency_key: str
    ) -> Account: ...

    def retrieve_account(self, account_id: str) -> Account: ...

    def create_account_link(self, account_id: str, *, refresh_url: str, return_url: str) -> AccountLink: ...

    def create_transfer(
        self,
        *,
        amount_cents: int,
        currency: str,
        destination: str,
        source_transaction: str | None,
        transfer_group: str,
        metadata: Mapping[str, str],
        idempotency_key: str,
    ) -> Transfer: ...

    def list_transfers(self, *, transfer_group: str) -> Sequence[Transfer]: ...

    def create_refund(
        self, *, payment_intent: str, amount_cents: int, metadata: Mapping[str, str], idempotency_key: str
    ) -> Refund: ...

    def list_refunds(self, *, payment_intent: str) -> Sequence[Refund]: ...

    def construct_event(self, payload: bytes, signature: str | None) -> dict[str, Any]: ...


def _metadata(obj: Any) -> dict[str, str]:
    metadata = get_field(obj, "metadata", {})
    return dict(metadata.to_dict() if hasattr(metadata, "to_dict") else metadata)


def _intent(obj: Any) -> Intent:
    error = get_field(obj, "last_payment_error")
    return Intent(
        id=obj["id"],
        status=obj["status"],
        amount=int(obj["amount"]),
        currency=str(obj["currency"]).upper(),
        client_secret=get_field(obj, "client_secret"),
        charge_id=object_id(get_field(obj, "latest_charge")),
        last_error_code=get_field(error, "code") if error else None,
        last_error_charge=object_id(get_field(error, "charge")) if error else None,
        metadata=_metadata(obj),
    )


def _account(obj: Any) -> Account:
    capabilities = get_field(obj, "capabilities", {})
    return Account(
        id=obj["id"],
        transfers_enabled=get_field(capabilities, "transfers") == "active",
        details_submitted=bool(get_field(obj, "details_submitted", False)),
        payouts_enabled=bool(get_field(obj, "payouts_enabled", False)),
    )


def _transfer(obj: Any) -> Transfer:
    return Transfer(
        id=obj["id"],
        amount=int(obj["amount"]),
        amount_reversed=int(get_field(obj, "amount_reversed", 0)),
        destination=object_id(get_field(obj, "destination")) or "",
        transfer_group=get_field(obj, "transfer_group"),
        source_transaction=object_id(get_field(obj, "source_transaction")),
        metadata=_metadata(obj),
    )


def _refund(obj: Any) -> Refund:
    return Refund(id=obj["id"], amount=int(obj["amount"]), status=str(obj["status"]), metadata=_metadata(obj))


class SdkStripe(StripeAdapter):
    """The adapter: ``stripe.StripeClient`` with our keys, API base and retry policy."""

    # -- payments ---------------------------------------------------------------------------------

    def create_payment_intent(
        self,
        *,
        amount_cents: int,
        currency: str,
        transfer_group: str,
        description: str,
        metadata: Mapping[str, str],
        idempotency_key: str,
    ) -> Intent:
        params = {
            "amount": amount_cents,
            "currency": currency.lower(),
            "transfer_group": transfer_group,
            "description": description,
            "metadata": dict(metadata),
            "payment_method_types": ["card"],
        }
        obj = self._call(self.client.v1.payment_intents.create, params, {"idempotency_key": idempotency_key})
        return _intent(obj)

    def retrieve_payment_intent(self, intent_id: str) -> Intent:
        return _intent(self._call(self.client.v1.payment_intents.retrieve, intent_id))

    def cancel_payment_intent(self, intent_id: str, *, idempotency_key: str) -> Intent:
        obj = self._call(
            self.client.v1.payment_intents.cancel, intent_id, {}, {"idempotency_key": idempotency_key}
        )
        return _intent(obj)

    def create_refund(
        self, *, payment_intent: str, amount_cents: int, metadata: Mapping[str, str], idempotency_key: str
    ) -> Refund:
        params = {"payment_intent": payment_intent, "amount": amount_cents, "metadata": dict(metadata)}
        return _refund(
            self._call(self.client.v1.refunds.create, params, {"idempotency_key": idempotency_key})
        )

    def list_refunds(self, *, payment_intent: str) -> list[Refund]:
        listing = self._call(self.client.v1.refunds.list, {"payment_intent": payment_intent, "limit": 100})
        return [_refund(r) for r in listing.data]

    # -- Connect ----------------------------------------------------------------------------------

    def create_account(
        self, *, email: str | None, metadata: Mapping[str, str], idempotency_key: str
    ) -> Account:
        params: dict[str, Any] = {
            "type": "express",
            "country": "FR",
            "capabilities": {"transfers": {"requested": True}},
            "metadata": dict(metadata),
        }
        if email:
            params["email"] = email
        return _account(
            self._call(self.client.v1.accounts.create, params, {"idempotency_key": idempotency_key})
        )

    def retrieve_account(self, account_id: str) -> Account:
        return _account(self._call(self.client.v1.accounts.retrieve, account_id))

    def create_account_link(self, account_id: str, *, refresh_url: str, return_url: str) -> AccountLink:
        params = {
            "account": account_id,
            "refresh_url": refresh_url,
            "return_url": return_url,
            "type": "account_onboarding",
        }
        obj = self._call(self.client.v1.account_links.create, params)
        return AccountLink(url=obj["url"], expires_at=int(obj["expires_at"]))

    def create_transfer(
        self,
        *,
        amount_cents: int,
        currency: str,
        destination: str,
        source_transaction: str | None,
        transfer_group: str,
        metadata: Mapping[str, str],
        idempotency_key: str,
    ) -> Transfer:
        params: dict[str, Any] = {
            "amount": amount_cents,
            "currency": currency.lower(),
            "destination": destination,
            "transfer_group": transfer_group,
            "metadata": dict(metadata),
        }
        if source_transaction:
            params["source_transaction"] = source_transaction
        obj = self._call(self.client.v1.transfers.create, params, {"idempotency_key": idempotency_key})
        return _transfer(obj)

    def list_transfers(self, *, transfer_group: str) -> list[Transfer]:
        found: list[Transfer] = []
        params: dict[str, Any] = {"transfer_group": transfer_group, "limit": 100}
        while True:
            listing = self._call(self.client.v1.transfers.list, params)
            found += [_transfer(t) for t in listing.data]
            if not listing.has_more or not listing.data:
                return found
            params["starting_after"] = listing.data[-1]["id"]
