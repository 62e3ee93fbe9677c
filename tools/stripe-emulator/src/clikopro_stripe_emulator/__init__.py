"""A local, stateful Stripe for CLIKOPRO's tests and ``make run``.

The real ``stripe`` SDK talks to it over HTTP exactly as to Stripe. It is
localstripe (customers, PaymentIntents, refunds, plans, subscriptions,
invoices, signed webhooks) with what CLIKOPRO needs added:

- Connect: Accounts (Express), AccountLinks with a local onboarding page,
  Transfers with ``source_transaction``, ``transfer_group`` and reversals;
- the Connect parameters of PaymentIntents (``transfer_group``, ...), charges
  that carry their transfer group, confirmation with a ``payment_method``
  from the client side (publishable key + ``client_secret``), as the mobile
  app does;
- ``Idempotency-Key`` replay (same key and parameters: the first answer;
  other parameters: ``idempotency_error``; concurrent: 409);
- an adjustable clock (``POST /_config/clock``) for what depends on time;
- no disk dump per write (optional state file instead), bound to 127.0.0.1.

Control endpoints (not Stripe's): ``DELETE /_config/data`` (wipe),
``POST|DELETE /_config/webhooks[/{id}]``, ``POST /_config/accounts/{id}/onboard``,
``GET /_config/health``.

This module is import-light (no localstripe): tests and the launcher use
:class:`~clikopro_stripe_emulator.process.EmulatorProcess` and
:class:`~clikopro_stripe_emulator.process.StripeEmulator` from here.
"""

from clikopro_stripe_emulator.process import (
    PUBLISHABLE_KEY,
    SECRET_KEY,
    EmulatorProcess,
    StripeEmulator,
    sign_webhook,
    start_emulator,
)

__all__ = [
    "PUBLISHABLE_KEY",
    "SECRET_KEY",
    "EmulatorProcess",
    "StripeEmulator",
    "sign_webhook",
    "start_emulator",
]
