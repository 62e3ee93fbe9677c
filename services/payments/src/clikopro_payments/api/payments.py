"""Operation handlers of the payments API: parse, call the use case, answer."""

from __future__ import annotations

import uuid

import flask

from clikopro_chassis.errors import AppError, NotFound, ServiceUnavailable
from clikopro_chassis.stripe.adapter import (
    InvalidSignature,
    StripeNotConfigured,
    StripeRefused,
    StripeUnavailable,
)
from clikopro_chassis.web.app import services
from clikopro_chassis.web.idempotency import idempotent
from clikopro_chassis.web.responses import ok
from clikopro_chassis.web.security import principal
from clikopro_payments.bootstrap import Services
from clikopro_payments.service_layer import money


class InvalidWebhookSignature(AppError):
    status = 400
    code = "invalid_signature"
    title = "The Stripe signature is not valid"


def _stripe_errors(call):
    try:
        return call()
    except StripeNotConfigured as exc:
        raise ServiceUnavailable(str(exc)) from None
    except StripeUnavailable as exc:
        raise money.PaymentProviderUnavailable(str(exc)) from None
    except StripeRefused as exc:
        raise money.PaymentProviderUnavailable(f"Stripe refused: {exc}") from None


def get_mission_payment(mission_id: str) -> flask.Response:
    svc: Services = services()
    try:
        mission = uuid.UUID(mission_id)
    except ValueError:
        raise NotFound("No such mission.") from None
    return ok(money.client_payment(svc, mission, principal()), headers={"Cache-Control": "no-store"})


@idempotent
def start_onboarding() -> flask.Response:
    svc: Services = services()
    caller = principal()
    return ok(_stripe_errors(lambda: money.start_onboarding(svc, caller)))


def get_account() -> flask.Response:
    svc: Services = services()
    return ok(money.account_status(svc, principal()))


def stripe_webhook() -> flask.Response:
    svc: Services = services()
    payload = flask.request.get_data(cache=True)
    try:
        signature = flask.request.headers.get("Stripe-Signature")
        outcome = _stripe_errors(lambda: money.handle_webhook(svc, payload, signature))
    except InvalidSignature as exc:
        raise InvalidWebhookSignature(str(exc)) from None
    return ok({"received": True, "outcome": outcome})
