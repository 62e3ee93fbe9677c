"""Stripe, the parts every service that calls it shares (payments, subscriptions):
settings, the SDK client, the two kinds of failure, webhook verification, reading SDK
objects. What each service asks Stripe stays in its own adapter, built on
:class:`clikopro_chassis.stripe.adapter.StripeAdapter`.

Install with ``clikopro-chassis[stripe]``; :mod:`.settings` needs no SDK.
"""
