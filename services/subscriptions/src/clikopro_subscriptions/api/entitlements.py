"""Entitlements: the pro's own (public API), any pro's (internal network, for the gateway)."""

from __future__ import annotations

import uuid

import flask

from clikopro_chassis.errors import NotFound
from clikopro_chassis.web.app import services
from clikopro_chassis.web.responses import ok
from clikopro_subscriptions.api.common import caller
from clikopro_subscriptions.service_layer import entitlements


def get_mine() -> flask.Response:
    return ok(entitlements.mine(services(), caller()), headers={"Cache-Control": "no-store"})


def get_of_pro(pro_id: str) -> flask.Response:
    """Internal (not routed by the gateway): 404 when the pro never subscribed (the free plan)."""
    try:
        pro = uuid.UUID(pro_id)
    except ValueError:
        raise NotFound("No such professional.") from None
    return ok(entitlements.of_pro(services(), pro), headers={"Cache-Control": "no-store"})
