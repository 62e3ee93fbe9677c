"""The gateway's copy of the suspended accounts (R3, R21).

Fed by trust & safety's ``AccountSuspended`` / ``AccountReinstated`` events (see
:mod:`clikopro_gateway.events`) and, at start-up, by identity's list of the suspensions in force
(``GET /internal/suspensions``), so that a restarted gateway refuses the right accounts at once.

Changes are order-proof: each carries the time it took effect, and an older one than the one
recorded for the account is ignored (the list from identity is applied the same way, so it cannot
undo a reinstatement the gateway already knows of). A temporary suspension ends at ``until`` by
itself.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from clikopro_chassis.auth import internal_headers

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _State:
    suspended: bool
    changed_at: dt.datetime
    until: dt.datetime | None = None


def _parse_time(value: Any) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


class SuspensionSet:
    def __init__(self) -> None:
        self._states: dict[uuid.UUID, _State] = {}
        self._lock = threading.Lock()
        #: Set once identity's list has been applied.
        self.loaded = threading.Event()

    def _apply(self, user_id: uuid.UUID, state: _State) -> bool:
        with self._lock:
            current = self._states.get(user_id)
            if current is not None and state.changed_at < current.changed_at:
                return False
            self._states[user_id] = state
            return True

    def suspend(self, user_id: uuid.UUID, at: dt.datetime, until: dt.datetime | None = None) -> bool:
        return self._apply(user_id, _State(True, at, until))

    def reinstate(self, user_id: uuid.UUID, at: dt.datetime) -> bool:
        return self._apply(user_id, _State(False, at))

    def is_suspended(self, user_id: uuid.UUID, now: dt.datetime | None = None) -> bool:
        state = self._states.get(user_id)
        if state is None or not state.suspended:
            return False
        return state.until is None or state.until > (now or dt.datetime.now(dt.UTC))

    def suspended_ids(self) -> set[uuid.UUID]:
        now = dt.datetime.now(dt.UTC)
        return {u for u in list(self._states) if self.is_suspended(u, now)}

    def apply_list(self, items: list[dict[str, Any]], *, replace: bool = False) -> None:
        """Apply identity's list of suspensions in force.

        ``replace``: forget what is not in it (after events may have been lost). Otherwise it only
        adds, so that it can never undo an event already applied.
        """
        listed = {}
        for item in items:
            user_id = uuid.UUID(str(item["user_id"]))
            listed[user_id] = _State(True, _parse_time(item["since"]), _parse_time(item.get("until")))
        if replace:
            with self._lock:
                self._states = listed
        else:
            for user_id, state in listed.items():
                self._apply(user_id, state)
        self.loaded.set()


def fetch_list(identity_url: str, timeout: float, token: str) -> list[dict[str, Any]]:
    """Identity's list of suspensions in force (blocking: called from the event listener's thread).

    Raises ``httpx.HTTPError`` if identity cannot answer.
    """
    url = f"{identity_url}/internal/suspensions"
    response = httpx.get(url, headers=internal_headers(token), timeout=timeout)
    if response.status_code == 401:
        # Not a passing outage: the gateway and identity disagree on INTERNAL_API_TOKEN, and the
        # gateway will answer 503 to every signed-in request until they agree.
        log.error("identity refuses the gateway's internal token: check INTERNAL_API_TOKEN on both")
    response.raise_for_status()
    return response.json()["items"]
