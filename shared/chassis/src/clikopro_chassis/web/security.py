"""Bearer authentication for connexion operations.

An operation protected in its spec by the ``bearerAuth`` scheme::

    components:
      securitySchemes:
        bearerAuth: {type: http, scheme: bearer, bearerFormat: JWT,
                     x-bearerInfoFunc: clikopro_chassis.web.security.bearer_info}

gets the verified caller from :func:`principal`. connexion resolves the
function by name, so the verifier is configured per process by the app factory.
"""

from __future__ import annotations

from typing import Any

from connexion import context

from clikopro_chassis.auth import Principal, TokenVerifier
from clikopro_chassis.errors import Unauthenticated

_verifier: TokenVerifier | None = None


def configure(verifier: TokenVerifier | None) -> None:
    global _verifier
    _verifier = verifier


def bearer_info(token: str) -> dict[str, Any]:
    if _verifier is None:
        raise Unauthenticated("This service has no token verifier configured (JWKS_URL).")
    return _verifier.verify(token).claims()


def principal() -> Principal:
    """The caller of the operation in hand (the operation must require ``bearerAuth``)."""
    claims = context.context.get("token_info")
    if not claims:
        raise Unauthenticated()
    return Principal.from_claims(claims)
