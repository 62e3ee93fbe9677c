"""Event handlers of the subscriptions service: event type -> handler(event, uow)."""

from __future__ import annotations

from clikopro_chassis.bus.consumer import Handler

HANDLERS: dict[str, Handler] = {}
