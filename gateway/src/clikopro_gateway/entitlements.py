"""Plan entitlements checked at the edge (R11, R12, R15, R21).

Which requests need which feature, and of whom:

| request | whose plan | feature |
|---|---|---|
| ``POST /api/v1/missions/{id}/proposals``, ``payment_mode: "direct"`` (pro) | caller | ``direct_payment`` |
| ``PUT/POST/PATCH/DELETE /api/v1/appointments/availability`` (pro) | caller | ``appointments`` |
| ``POST /api/v1/appointments/{id}/accept`` or ``/decline`` (pro) | caller | ``appointments`` |
| ``POST /api/v1/appointments`` ``{pro_id, ...}`` (asking a pro for a slot) | ``pro_id`` | ``appointments`` |

Reading an appointment or cancelling one stays open whatever the plan. Requests from other roles
on the pro-only routes go through: the service refuses them by role.

The plans come from subscription events (each carries the entitlements in force after it;
newest ``effective_at`` wins), and on a miss from the subscriptions service
(``GET <SUBSCRIPTIONS_URL>/internal/entitlements/{pro_id}``). Until that service answers, a miss
is the free plan: no paid feature. A body that cannot be read on a checked route is refused here
(400) rather than let through unchecked.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from clikopro_chassis.auth import Principal, internal_headers
from clikopro_chassis.errors import AppError, Forbidden, MalformedBody, ValidationFailed, field_error

log = logging.getLogger(__name__)

FREE_PLAN = "free"


class PlanRequired(Forbidden):
    code = "plan_required"
    title = "A paid plan is required"


@dataclass(frozen=True, slots=True)
class Entitlements:
    plan: str
    features: frozenset[str]
    #: When this state took effect (events); None for an assumed free plan.
    effective_at: dt.datetime | None = None
    #: End of the paid period in force; after it the copy is stale until an event or a read.
    period_end: dt.datetime | None = None
    #: "event", "read" or "assumed".
    source: str = "event"
    #: time.monotonic() after which a read or assumed copy must be read again.
    fresh_until: float = float("inf")

    def usable(self, now: dt.datetime, clock: float) -> bool:
        if clock > self.fresh_until:
            return False
        return self.period_end is None or self.period_end > now


def _time(value: Any) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


class EntitlementCache:
    def __init__(
        self,
        subscriptions_url: str,
        *,
        read_ttl: float = 60.0,
        unreachable_ttl: float = 5.0,
        internal_token: str = "",
    ) -> None:
        self.subscriptions_url = subscriptions_url
        self.read_ttl = read_ttl
        self.unreachable_ttl = unreachable_ttl
        self.internal_headers = internal_headers(internal_token)
        self._plans: dict[uuid.UUID, Entitlements] = {}
        self._lock = threading.Lock()

    # -- fed by events (the listener thread) ----------------------------------------------------

    def apply_event(self, pro_id: uuid.UUID, data: dict[str, Any]) -> bool:
        state = Entitlements(
            plan=data["plan"],
            features=frozenset(data["features"]),
            effective_at=_time(data["effective_at"]),
            period_end=_time(data.get("period_end")),
        )
        with self._lock:
            current = self._plans.get(pro_id)
            if (
                current is not None
                and current.effective_at is not None
                and state.effective_at is not None
                and state.effective_at < current.effective_at
            ):
                return False
            self._plans[pro_id] = state
            return True

    def forget_events(self) -> None:
        """Events may have been lost: every copy must be read again (kept only for when it cannot be)."""
        with self._lock:
            self._plans = {k: _stale(v) for k, v in self._plans.items()}

    # -- read by requests (the event loop) ------------------------------------------------------

    async def of(self, pro_id: uuid.UUID, client: httpx.AsyncClient, timeout: float) -> Entitlements:
        now, clock = dt.datetime.now(dt.UTC), time.monotonic()
        cached = self._plans.get(pro_id)
        if cached is not None and cached.usable(now, clock):
            return cached
        read = await self._read(pro_id, client, timeout)
        if read is None:  # subscriptions unreachable: the last copy if any, else the free plan
            if cached is not None and (cached.period_end is None or cached.period_end > now):
                return cached
            read = Entitlements(
                FREE_PLAN, frozenset(), source="assumed", fresh_until=clock + self.unreachable_ttl
            )
        with self._lock:
            current = self._plans.get(pro_id)
            # An event that arrived meanwhile wins over the read.
            if current is None or not current.usable(now, clock) or current.source != "event":
                self._plans[pro_id] = read
            else:
                read = current
        return read

    async def _read(
        self, pro_id: uuid.UUID, client: httpx.AsyncClient, timeout: float
    ) -> Entitlements | None:
        url = f"{self.subscriptions_url}/internal/entitlements/{pro_id}"
        clock = time.monotonic()
        try:
            response = await client.get(url, headers=self.internal_headers, timeout=timeout)
        except httpx.HTTPError as exc:
            log.warning(
                "entitlements of %s unreadable (%s): assuming the free plan", pro_id, type(exc).__name__
            )
            return None
        if response.status_code == 404:
            # No subscription known (or the route is not there yet): the free plan.
            return Entitlements(FREE_PLAN, frozenset(), source="assumed", fresh_until=clock + self.read_ttl)
        if response.status_code == 401:
            log.error("subscriptions refuses the gateway's internal token: check INTERNAL_API_TOKEN on both")
            return None
        if response.status_code != 200:
            log.warning("entitlements of %s: subscriptions answered %s", pro_id, response.status_code)
            return None
        try:
            data = response.json()
            return Entitlements(
                plan=data["plan"],
                features=frozenset(data["features"]),
                effective_at=_time(data.get("effective_at")),
                period_end=_time(data.get("period_end")),
                source="read",
                fresh_until=clock + self.read_ttl,
            )
        except (ValueError, KeyError, TypeError):
            log.warning("entitlements of %s: unreadable answer from subscriptions", pro_id)
            return None


def _stale(entitlements: Entitlements) -> Entitlements:
    return Entitlements(
        entitlements.plan,
        entitlements.features,
        entitlements.effective_at,
        entitlements.period_end,
        source="stale",
        fresh_until=0.0,
    )


# -- which requests need what ------------------------------------------------------------------------

_ID = r"[^/]+"
_PROPOSALS = re.compile(rf"^/api/v1/missions/{_ID}/proposals/?$")
_AVAILABILITY = re.compile(r"^/api/v1/appointments/availability(/.*)?$")
_ANSWER = re.compile(rf"^/api/v1/appointments/{_ID}/(accept|decline)/?$")
_REQUEST = re.compile(r"^/api/v1/appointments/?$")


@dataclass(frozen=True, slots=True)
class Requirement:
    feature: str
    #: The professional whose plan must include it.
    pro_id: uuid.UUID


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise MalformedBody("The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise MalformedBody("The request body must be a JSON object.")
    return data


def requirement(method: str, path: str, principal: Principal, body: bytes | None) -> Requirement | None:
    """The entitlement this request needs, if any. ``body`` is read only for the routes that need it."""
    if method == "POST" and _PROPOSALS.match(path):
        if principal.role != "pro":
            return None
        if _json_object(body or b"").get("payment_mode") == "direct":
            return Requirement("direct_payment", principal.user_id)
        return None
    if not path.startswith("/api/v1/appointments"):
        return None
    if _AVAILABILITY.match(path) and method in {"PUT", "POST", "PATCH", "DELETE"}:
        return Requirement("appointments", principal.user_id) if principal.role == "pro" else None
    if method == "POST" and _ANSWER.match(path):
        return Requirement("appointments", principal.user_id) if principal.role == "pro" else None
    if method == "POST" and _REQUEST.match(path):
        raw = _json_object(body or b"").get("pro_id")
        try:
            pro_id = uuid.UUID(str(raw))
        except ValueError:
            raise ValidationFailed(errors=[field_error("pro_id", "must be a professional's id")]) from None
        return Requirement("appointments", pro_id)
    return None


def needs_body(method: str, path: str) -> bool:
    return method == "POST" and bool(_PROPOSALS.match(path) or _REQUEST.match(path))


def refusal(requirement: Requirement, entitlements: Entitlements, principal: Principal) -> AppError | None:
    if requirement.feature in entitlements.features:
        return None
    if requirement.pro_id == principal.user_id:
        detail = f"Your plan ({entitlements.plan}) does not include {requirement.feature}; a paid plan does."
        return PlanRequired(detail, feature=requirement.feature, plan=entitlements.plan)
    detail = f"This professional's plan does not include {requirement.feature}."
    return PlanRequired(detail, feature=requirement.feature)
