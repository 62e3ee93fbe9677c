"""Operation handlers of /api/v1/auth and the JWKS: parse, call the use case, answer."""

from __future__ import annotations

import datetime as dt
from typing import Any

import flask

from clikopro_chassis.web.app import services
from clikopro_chassis.web.idempotency import idempotent
from clikopro_chassis.web.responses import created, no_content, ok
from clikopro_identity.bootstrap import Services
from clikopro_identity.domain.throttling import ThrottleRule
from clikopro_identity.service_layer import sessions
from clikopro_identity.service_layer.profile import user_view
from clikopro_identity.service_layer.registration import Registration, register

PRO_FIELDS = ("company_name", "siret", "insurance", "trades", "postcode")


def session_policy(svc: Services) -> sessions.SessionPolicy:
    settings = svc.settings
    window = dt.timedelta(seconds=settings.login_failure_window_seconds)
    return sessions.SessionPolicy(
        access_ttl=settings.access_token_ttl,
        refresh_ttl=settings.refresh_token_ttl,
        per_account=ThrottleRule(settings.login_max_failures_per_account, window),
        per_ip=ThrottleRule(settings.login_max_failures_per_ip, window),
    )


def client_ip() -> str | None:
    """The caller's address: ``X-Client-Ip`` as the gateway determined it (it drops the client's
    own), else the last ``X-Forwarded-For`` entry (appended by the proxy in front), else the peer.
    Identity is reached through the gateway only (internal network)."""
    given = flask.request.headers.get("X-Client-Ip", "").strip()
    if given:
        return given
    forwarded = flask.request.headers.get("X-Forwarded-For")
    if forwarded:
        last = forwarded.split(",")[-1].strip()
        if last:
            return last
    return flask.request.remote_addr


@idempotent
def register_user(body: dict[str, Any]) -> flask.Response:
    svc: Services = services()
    command = Registration(
        role=body["role"],
        email=body["email"],
        password=body["password"],
        first_name=body["first_name"],
        last_name=body["last_name"],
        phone=body["phone"],
        profile={k: body[k] for k in PRO_FIELDS if k in body},
    )
    user = register(
        svc.uow(),
        command,
        now=svc.now(),
        hasher=svc.hasher,
        password_min_length=svc.settings.password_min_length,
    )
    return created(user_view(user), location="/api/v1/me")


def issue_token(body: dict[str, Any]) -> flask.Response:
    svc: Services = services()
    pair = sessions.login(
        svc.uow(),
        email=body["email"],
        password=body["password"],
        client_ip=client_ip(),
        keys=svc.keys,
        hasher=svc.hasher,
        policy=session_policy(svc),
        now=svc.now(),
    )
    return ok(pair.as_json(), headers={"Cache-Control": "no-store"})


def refresh_token(body: dict[str, Any]) -> flask.Response:
    svc: Services = services()
    pair = sessions.refresh(
        svc.uow(),
        refresh_token=body["refresh_token"],
        keys=svc.keys,
        policy=session_policy(svc),
        now=svc.now(),
    )
    return ok(pair.as_json(), headers={"Cache-Control": "no-store"})


def logout(body: dict[str, Any]) -> flask.Response:
    svc: Services = services()
    sessions.logout(svc.uow(), refresh_token=body["refresh_token"], now=svc.now())
    return no_content()


def jwks() -> flask.Response:
    svc: Services = services()
    # Verifiers cache it (and refetch on an unknown key id); a short max-age for HTTP caches.
    return ok(svc.keys.jwks(svc.now()), headers={"Cache-Control": "public, max-age=60"})
