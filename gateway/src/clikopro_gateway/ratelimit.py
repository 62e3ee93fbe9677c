"""Per-address and per-user rate limits at the edge (``limits``, sliding window counters).

Counters live in Redis when ``REDIS_URL`` is set (shared by every gateway replica), else in this
process's memory. If Redis fails, requests are let through (and it is logged): a rate limiter
must not take the whole API down with it.
"""

from __future__ import annotations

import logging
import math
import time

from limits import parse
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string

from clikopro_chassis.errors import RateLimited

log = logging.getLogger(__name__)


class EdgeRateLimits:
    def __init__(
        self, *, per_ip: str, per_user: str, redis_url: str = "", key_prefix: str = "clikopro"
    ) -> None:
        if redis_url:
            uri = "async+" + redis_url if not redis_url.startswith("async+") else redis_url
            # Under the bus prefix: deployments (and test runs) sharing one Redis count apart.
            self.storage = storage_from_string(
                uri, implementation="redispy", key_prefix=f"{key_prefix}.ratelimit"
            )
        else:
            self.storage = storage_from_string("async+memory://")
        self.limiter = SlidingWindowCounterRateLimiter(self.storage)
        self.limits = {"ip": parse(per_ip) if per_ip else None, "user": parse(per_user) if per_user else None}
        self._last_failure_log = 0.0

    async def check(self, scope: str, key: str) -> None:
        limit = self.limits[scope]
        if limit is None:
            return
        try:
            if await self.limiter.hit(limit, "gw", scope, key):
                return
            stats = await self.limiter.get_window_stats(limit, "gw", scope, key)
        except Exception as exc:  # noqa: BLE001 - the store is down: let the request through
            if time.monotonic() - self._last_failure_log > 10:
                self._last_failure_log = time.monotonic()
                log.warning("rate limit store unavailable, not limiting: %s", exc)
            return
        wait = max(1, math.ceil(stats.reset_time - time.time()))
        who = "address" if scope == "ip" else "account"
        raise RateLimited(
            f"Too many requests from this {who}; try again in {wait} seconds.",
            headers={"Retry-After": str(wait)},
            retry_after=wait,
        )
