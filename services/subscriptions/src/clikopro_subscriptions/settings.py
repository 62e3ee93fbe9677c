from __future__ import annotations

from dataclasses import dataclass

from clikopro_chassis.stripe.settings import StripeSettings


@dataclass(frozen=True)
class SubscriptionsSettings(StripeSettings):
    """Settings of the subscriptions service; each field reads the variable of the same name in upper
    case. Stripe is reached at ``STRIPE_API_BASE`` with ``STRIPE_API_KEY`` (``make run`` points them at
    the local emulator)."""

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
