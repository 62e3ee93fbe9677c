"""``POST /api/v1/subscriptions/webhooks/stripe``: Stripe's calls, signature checked, no token."""

from __future__ import annotations

import flask

from clikopro_chassis.errors import AppError, ServiceUnavailable
from clikopro_chassis.stripe.adapter import InvalidSignature, StripeNotConfigured, StripeUnavailable
from clikopro_chassis.web.app import services
from clikopro_chassis.web.responses import ok
from clikopro_subscriptions.service_layer import webhooks
from clikopro_subscriptions.service_layer.common import unavailable


class InvalidWebhookSignature(AppError):
    status = 400
    code = "invalid_signature"
    title = "The Stripe signature is not valid"


def stripe_webhook() -> flask.Response:
    payload = flask.request.get_data(cache=True)
    signature = flask.request.headers.get("Stripe-Signature")
    try:
        outcome = webhooks.handle(services(), payload, signature)
    except InvalidSignature as exc:
        raise InvalidWebhookSignature(str(exc)) from None
    except StripeNotConfigured as exc:
        raise ServiceUnavailable(str(exc)) from None
    except StripeUnavailable as exc:
        raise unavailable(str(exc)) from None
    return ok({"received": True, "outcome": outcome})
