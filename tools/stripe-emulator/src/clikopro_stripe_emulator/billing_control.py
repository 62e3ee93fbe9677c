"""Driving the emulator's Billing from a test or a script (standard library only, like process.py).

    card = create_card(emulator, CARD_CHARGE_FAILS)   # as the app does, with the publishable key
    renew_now(emulator, "sub_...")                     # the period ends now: renewal charged or ended
    run_renewals(emulator)                             # after advance_clock: what is due renews

See billing.py for what is emulated.
"""

from __future__ import annotations

from typing import Any

from clikopro_stripe_emulator.process import StripeEmulator

#: Test card numbers (Stripe's): charged successfully; attached fine but every charge declined.
CARD_VISA = "4242424242424242"
CARD_CHARGE_FAILS = "4000000000000341"


def create_card(emulator: StripeEmulator, number: str = CARD_VISA) -> str:
    """A card payment method created from the client side (publishable key), as Stripe's mobile SDK
    does; returns its id (``pm_...``) for the app to give the platform."""
    created = emulator.request(
        "POST",
        "/v1/payment_methods",
        {"type": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"}},
        key=emulator.publishable_key,
    )
    return created["id"]


def renew_now(emulator: StripeEmulator, subscription_id: str) -> dict[str, Any]:
    """End the subscription's current period now and run its renewal; ``outcome`` is ``renewed``,
    ``payment_failed`` or ``canceled`` (renewal was off)."""
    return emulator.request("POST", f"/_config/subscriptions/{subscription_id}/renew")


def run_renewals(emulator: StripeEmulator) -> list[dict[str, Any]]:
    """Renew or end now whatever is due at the emulator's clock (the background task does it too)."""
    return emulator.request("POST", "/_config/billing/run")["processed"]
