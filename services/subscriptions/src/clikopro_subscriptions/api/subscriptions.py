"""Operation handlers of a professional's subscription: parse, call the use case, answer."""

from __future__ import annotations

from typing import Any

import flask

from clikopro_chassis.web.app import services
from clikopro_chassis.web.idempotency import idempotent
from clikopro_chassis.web.responses import created, ok
from clikopro_subscriptions.api.common import caller
from clikopro_subscriptions.service_layer import subscribing


@idempotent
def subscribe(body: dict[str, Any]) -> flask.Response:
    subscription = subscribing.subscribe(services(), caller(), body["plan"], body["payment_method"])
    return created(subscription, location="/api/v1/subscriptions/me")


def get_mine() -> flask.Response:
    return ok(subscribing.mine(services(), caller()), headers={"Cache-Control": "no-store"})


def get_my_history() -> flask.Response:
    return ok(subscribing.history(services(), caller()))


@idempotent
def cancel_mine() -> flask.Response:
    return ok(subscribing.set_renewal(services(), caller(), on=False))


@idempotent
def resume_mine() -> flask.Response:
    return ok(subscribing.set_renewal(services(), caller(), on=True))


@idempotent
def change_payment_method(body: dict[str, Any]) -> flask.Response:
    return ok(subscribing.change_payment_method(services(), caller(), body["payment_method"]))
