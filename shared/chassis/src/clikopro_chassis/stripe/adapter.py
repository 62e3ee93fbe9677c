"""The SDK client, the failure taxonomy and webhook verification, once for every service.

Two kinds of failure matter to a caller that moves money:

- :class:`StripeRefused`: Stripe answered and did nothing (invalid request, declined card,
  missing capability). Safe to try again later with a *new* idempotency key, since Stripe
  replays the first answer to a key.
- :class:`StripeUnavailable`: we do not know what happened (timeout, connection lost, 5xx,
  a concurrent request with the same key, rate limit). Before any new attempt, ask Stripe.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Self

import stripe

from clikopro_chassis.stripe.settings import StripeSettings


class StripeNotConfigured(RuntimeError):
    pass


class StripeRefused(Exception):
    def __init__(self, message: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status

    @property
    def declined(self) -> bool:
        return self.status == 402


class StripeUnavailable(Exception):
    pass


class InvalidSignature(Exception):
    pass


def get_field(obj: Any, key: str, default: Any = None) -> Any:
    """``obj[key]``, or ``default`` when absent or null (stripe-python 16 objects have no ``.get``)."""
    try:
        value = obj[key]
    except (KeyError, TypeError, AttributeError):
        return default
    return default if value is None else value


def object_id(value: Any) -> str | None:
    """An id whether the SDK gives an id or an expanded object (the emulator expands some)."""
    if value is None or isinstance(value, str):
        return value
    return get_field(value, "id")


def plain(value: Any) -> Any:
    """An SDK object as plain dicts and lists."""
    return value.to_dict() if hasattr(value, "to_dict") else value


class StripeAdapter:
    """Holds the SDK client (made on first use: building the adapter connects to nothing)."""

    def __init__(
        self,
        *,
        api_key: str,
        api_base: str,
        webhook_secrets: list[str],
        max_network_retries: int = 2,
        timeout_seconds: int = 20,
        webhook_tolerance_seconds: int = 300,
    ) -> None:
        self.api_key = api_key
        self.api_base = api_base.rstrip("/")
        self.webhook_secrets = list(webhook_secrets)
        self.max_network_retries = max_network_retries
        self.timeout_seconds = timeout_seconds
        self.webhook_tolerance_seconds = webhook_tolerance_seconds
        self._client: stripe.StripeClient | None = None

    @classmethod
    def from_settings(cls, settings: StripeSettings) -> Self:
        return cls(
            api_key=settings.stripe_api_key,
            api_base=settings.stripe_api_base,
            webhook_secrets=settings.webhook_secrets,
            max_network_retries=settings.stripe_max_network_retries,
            timeout_seconds=settings.stripe_timeout_seconds,
            webhook_tolerance_seconds=settings.stripe_webhook_tolerance_seconds,
        )

    @property
    def client(self) -> stripe.StripeClient:
        if not self.api_key:
            raise StripeNotConfigured("Stripe is not configured (STRIPE_API_KEY)")
        if self._client is None:
            self._client = stripe.StripeClient(
                self.api_key,
                base_addresses={"api": self.api_base, "connect": self.api_base, "files": self.api_base},
                max_network_retries=self.max_network_retries,
                http_client=stripe.RequestsClient(timeout=self.timeout_seconds),
            )
        return self._client

    def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except stripe.IdempotencyError as exc:  # a concurrent request with the key, or other parameters
            raise StripeUnavailable(f"idempotency: {exc.user_message or exc}") from exc
        except (stripe.CardError, stripe.InvalidRequestError, stripe.PermissionError) as exc:
            raise StripeRefused(str(exc.user_message or exc), code=exc.code, status=exc.http_status) from exc
        except stripe.StripeError as exc:  # connection, timeout, 5xx, rate limit, authentication
            raise StripeUnavailable(f"{type(exc).__name__}: {exc.user_message or exc}") from exc

    def construct_event(self, payload: bytes, signature: str | None) -> dict[str, Any]:
        """The webhook's event if signed by one of our secrets, recent enough; else InvalidSignature."""
        if not self.webhook_secrets:
            raise InvalidSignature("no webhook signing secret is configured (STRIPE_WEBHOOK_SECRETS)")
        if not signature:
            raise InvalidSignature("no Stripe-Signature header")
        for secret in self.webhook_secrets:
            try:
                event = stripe.Webhook.construct_event(
                    payload,
                    signature,
                    secret,
                    tolerance=self.webhook_tolerance_seconds,
                    api_key=self.api_key or None,
                )
            except stripe.SignatureVerificationError:
                continue
            except ValueError as exc:  # not JSON: it was signed, but is not an event
                raise InvalidSignature(f"invalid payload: {exc}") from exc
            return event.to_dict()
        raise InvalidSignature("the signature does not match any webhook secret")
