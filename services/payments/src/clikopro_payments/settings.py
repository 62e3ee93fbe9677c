from __future__ import annotations

from dataclasses import dataclass

from clikopro_chassis.stripe.settings import StripeSettings


@dataclass(frozen=True)
class PaymentsSettings(StripeSettings):
    """Settings of the payments service. Stripe is reached at ``STRIPE_API_BASE`` with
    ``STRIPE_API_KEY`` (``make run`` points them at the local emulator)."""

    #: Publishable key (``pk_...``), returned with the client secret so the app can confirm the payment.
    stripe_publishable_key: str = ""
    #: Commission on Secure missions of a pro whose plan we have not heard of (the free plan's).
    default_commission_bps: int = 800
    #: Where Stripe's onboarding sends the pro back (done, or the link expired: ask for a new one).
    onboarding_return_url: str = "https://www.clikopro.fr/pro/paiements/onboarding/termine"
    onboarding_refresh_url: str = "https://www.clikopro.fr/pro/paiements/onboarding/relancer"
    #: How often the worker creates payment intents and performs releases and refunds.
    money_job_interval_ms: int = 1_000
    #: A release or refund "in flight" for longer than this is checked at Stripe, then retried.
    stale_claim_seconds: int = 60
    #: Back-off of a release or refund that Stripe refused (doubling, capped at 1 h).
    retry_base_seconds: int = 30
    #: How often a pro whose releases wait for onboarding is reminded.
    onboarding_reminder_interval_seconds: int = 86_400
    reconciliation_interval_seconds: int = 3_600
    #: Missions with money activity in this window are reconciled by the periodic job.
    reconciliation_window_hours: int = 48
