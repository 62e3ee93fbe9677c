from __future__ import annotations

from dataclasses import dataclass

from clikopro_chassis.config import Settings


@dataclass(frozen=True)
class SubscriptionsSettings(Settings):
    """Settings of the subscriptions service; each field reads the variable of the same name in upper
    case. Stripe is reached at ``STRIPE_API_BASE`` with ``STRIPE_API_KEY`` (``make run`` points them at
    the local emulator)."""

    #: Secret API key (``sk_...``); empty: Stripe is not configured and subscribing answers 503.
    stripe_api_key: str = ""
    #: Where Stripe's API is (the emulator's URL locally).
    stripe_api_base: str = "https://api.stripe.com"
    #: Signing secrets of the webhook endpoint, comma-separated (several while rotating).
    stripe_webhook_secrets: str = ""
    #: Network retries of the SDK itself (0 in tests, so failures are seen).
    stripe_max_network_retries: int = 2
    stripe_timeout_seconds: int = 20
    #: Age of a webhook signature beyond which it is refused (Stripe's default).
    stripe_webhook_tolerance_seconds: int = 300
    #: The plan catalog (YAML); empty: the one shipped with the service (plans.yaml).
    plans_file: str = ""
    #: RenewalReminderDue is published this many days before each tacit renewal (once per period).
    renewal_reminder_days: int = 30
    #: A renewal that failed lapses the plan this many days after it was due, unless paid meanwhile.
    retry_window_days: int = 7
    #: How often the worker sends reminders, lapses what is due and checks overdue renewals at Stripe.
    subscription_jobs_interval_seconds: int = 60
    #: An active subscription whose period ended this long ago without news from Stripe is fetched again.
    overdue_renewal_check_seconds: int = 3_600
    #: How long one request may hold a pro's checkout (the Stripe calls of a subscription) before
    #: another may take it over (a crashed request).
    checkout_lease_seconds: int = 60

    @property
    def webhook_secrets(self) -> list[str]:
        return [s.strip() for s in self.stripe_webhook_secrets.split(",") if s.strip()]
