"""Webhook delivery, signed like Stripe's (``Stripe-Signature: t=...,v1=HMAC-SHA256``).

Replaces localstripe's delivery: a configurable delay instead of a fixed second, a few retries
with back-off when the endpoint fails (Stripe retries for days), Connect events (those with an
``account``) only to endpoints registered for Connect, and a record of every delivery that tests
can read (``GET /_config/deliveries``).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp

from clikopro_stripe_emulator import clock

log = logging.getLogger("clikopro_stripe_emulator.webhooks")


@dataclass
class Endpoint:
    url: str
    secret: str
    events: list[str] | None = None
    #: True: Connect events only; False: platform events only (Stripe's two kinds of endpoint);
    #: None: both (an emulator shortcut for a single local endpoint).
    connect: bool | None = False


endpoints: dict[str, Endpoint] = {}
deliveries: list[dict[str, Any]] = []
settings = {"delay": 0.2, "retries": 3}
_pending: set[asyncio.Future[None]] = set()


def signature(payload: bytes, secret: str, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), b"%d." % timestamp + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def clear() -> None:
    """Forget the endpoints and what was delivered, and drop deliveries still waiting (a test's
    webhooks must not reach the next test)."""
    for task in list(_pending):
        task.cancel()
    endpoints.clear()
    deliveries.clear()


def _wants(endpoint: Endpoint, event: Any) -> bool:
    if endpoint.events and event.type not in endpoint.events and "*" not in endpoint.events:
        return False
    is_connect = getattr(event, "account", None) is not None
    return endpoint.connect is None or endpoint.connect == is_connect


def schedule(event: Any) -> None:
    """Called where localstripe would send an event; the payload is the state at this moment."""
    payload = json.dumps(event._export(), sort_keys=True).encode()
    targets = [(name, e) for name, e in endpoints.items() if _wants(e, event)]
    if targets:
        task = asyncio.ensure_future(_deliver(event.id, event.type, payload, targets))
        _pending.add(task)
        task.add_done_callback(_pending.discard)


async def _deliver(
    event_id: str, event_type: str, payload: bytes, targets: list[tuple[str, Endpoint]]
) -> None:
    await asyncio.sleep(settings["delay"])
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        await asyncio.gather(*(_deliver_one(session, event_id, event_type, payload, e) for _, e in targets))


async def _deliver_one(
    session: aiohttp.ClientSession, event_id: str, event_type: str, payload: bytes, endpoint: Endpoint
) -> None:
    delay = 0.5
    for attempt in range(1, settings["retries"] + 2):
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": signature(payload, endpoint.secret, int(clock.now())),
        }
        record: dict[str, Any] = {
            "event_id": event_id,
            "type": event_type,
            "url": endpoint.url,
            "attempt": attempt,
        }
        try:
            async with session.post(endpoint.url, data=payload, headers=headers) as response:
                record["status"] = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            record["status"] = None
            record["error"] = str(exc) or type(exc).__name__
        deliveries.append(record)
        if record["status"] is not None and 200 <= record["status"] < 300:
            log.info("webhook %s %s delivered to %s", event_type, event_id, endpoint.url)
            return
        log.info("webhook %s %s to %s failed (%s)", event_type, event_id, endpoint.url, record)
        await asyncio.sleep(delay)
        delay *= 2
