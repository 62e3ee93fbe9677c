"""Webhook verification shared by every service that Stripe calls back."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest

from clikopro_chassis.stripe.adapter import InvalidSignature, StripeAdapter, StripeNotConfigured
from clikopro_chassis.stripe.settings import StripeSettings

EVENT = json.dumps(
    {"id": "evt_1", "object": "event", "type": "invoice.paid", "data": {"object": {}}}
).encode()


def signed(payload: bytes, secret: str, at: int | None = None) -> str:
    at = int(time.time()) if at is None else at
    digest = hmac.new(secret.encode(), f"{at}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def adapter(*secrets: str) -> StripeAdapter:
    settings = StripeSettings.from_env(
        "probe", {"STRIPE_API_KEY": "sk_test_x", "STRIPE_WEBHOOK_SECRETS": ",".join(secrets)}
    )
    return StripeAdapter.from_settings(settings)


def test_an_event_signed_with_one_of_the_secrets_is_accepted_during_a_rotation() -> None:
    stripe = adapter("whsec_old", "whsec_new")
    assert stripe.construct_event(EVENT, signed(EVENT, "whsec_new"))["id"] == "evt_1"
    assert stripe.construct_event(EVENT, signed(EVENT, "whsec_old"))["id"] == "evt_1"


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "t=1,v1=00",
        signed(EVENT, "whsec_other"),
        signed(EVENT, "whsec_new", at=int(time.time()) - 3600),
    ],
    ids=["absent", "empty", "garbage", "another-secret", "too-old"],
)
def test_anything_else_is_an_invalid_signature(signature: str | None) -> None:
    with pytest.raises(InvalidSignature):
        adapter("whsec_new").construct_event(EVENT, signature)


def test_a_tampered_payload_is_refused() -> None:
    signature = signed(EVENT, "whsec_new")
    with pytest.raises(InvalidSignature):
        adapter("whsec_new").construct_event(EVENT.replace(b"invoice.paid", b"invoice.void"), signature)


def test_without_configuration_nothing_is_trusted_and_no_client_is_made() -> None:
    with pytest.raises(InvalidSignature):
        adapter().construct_event(EVENT, signed(EVENT, "whsec_new"))
    unconfigured = StripeAdapter.from_settings(StripeSettings.from_env("probe", {}))
    with pytest.raises(StripeNotConfigured):
        unconfigured.client  # noqa: B018 - the property is the behaviour under test
