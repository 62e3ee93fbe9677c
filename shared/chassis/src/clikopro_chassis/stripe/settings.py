"""Settings of a service that calls Stripe (each reads the variable of its name in upper case)."""

from __future__ import annotations

from dataclasses import dataclass

from clikopro_chassis.config import Settings


@dataclass(frozen=True)
class StripeSettings(Settings):
    #: Secret API key (``sk_...``); empty: Stripe is not configured (money routes answer 503).
    stripe_api_key: str = ""
    #: Where Stripe's API is (the local emulator's URL in ``make run`` and tests).
    stripe_api_base: str = "https://api.stripe.com"
    #: Signing secrets of the webhook endpoints, comma-separated (several while rotating).
    stripe_webhook_secrets: str = ""
    #: Network retries of the SDK itself (0 in tests, so that failures are seen).
    stripe_max_network_retries: int = 2
    stripe_timeout_seconds: int = 20
    #: Age of a webhook signature beyond which it is refused (Stripe's default).
    stripe_webhook_tolerance_seconds: int = 300

    @property
    def webhook_secrets(self) -> list[str]:
        return [s.strip() for s in self.stripe_webhook_secrets.split(",") if s.strip()]
