"""Authentication for connexion operations: bearer tokens, and the internal token.

An operation protected in its spec by the ``bearerAuth`` scheme::

    components:
      securitySchemes:
        bearerAuth: {type: http, scheme: bearer, bearerFormat: JWT,
                     x-bearerInfoFunc: clikopro_chassis.web.security.bearer_info}

gets the verified caller from :func:`principal`. connexion resolves the
function by name, so the verifier is configured per process by the app factory.

The ``/internal/...`` routes (read by the gateway, never routed by it) are not
left to network isolation alone: they require the ``internalToken`` scheme, a
shared secret (``INTERNAL_API_TOKEN``) in the ``X-Internal-Token`` header::

        internalToken: {type: apiKey, in: header, name: X-Internal-Token,
                        x-apikeyInfoFunc: clikopro_chassis.web.security.internal_token_info}

A service without the secret configured refuses every internal call.
"""

from __future__ import annotations

import hmac
from typing import Any

from connexion import context

from clikopro_chassis.auth import Principal, TokenVerifier
from clikopro_chassis.errors import Unauthenticated

_verifier: TokenVerifier | None = None
_internal_token: bytes = b""


def configure(verifier: TokenVerifier | None) -> None:
    global _verifier
    _verifier = verifier


def configure_internal(token: str) -> None:
    """The shared secret of the internal routes; empty closes them."""
    global _internal_token
    _internal_token = token.encode()


def bearer_info(token: str) -> dict[str, Any]:
    if _verifier is None:
        raise Unauthenticated("This service has no token verifier configured (JWKS_URL).")
    return _verifier.verify(token).claims()


def internal_token_info(token: str, required_scopes: Any = None) -> dict[str, Any]:
    """The caller of an internal route holds the shared secret (compared in constant time)."""
    if not _internal_token:
        raise Unauthenticated("This service has no INTERNAL_API_TOKEN: its internal routes are closed.")
    if not hmac.compare_digest(token.encode(), _internal_token):
        raise Unauthenticated("Invalid internal token.")
    return {"sub": "internal"}


def principal() -> Principal:
    """The caller of the operation in hand (the operation must require ``bearerAuth``)."""
    claims = context.context.get("token_info")
    if not claims:
        raise Unauthenticated()
    return Principal.from_claims(claims)
