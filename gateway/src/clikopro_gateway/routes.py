"""Which service owns which public path (API.md, "Surface").

Most specific first: ``/api/v1/missions/{id}/payment`` belongs to payments
although ``/api/v1/missions`` belongs to missions.
"""

from __future__ import annotations

import re

#: Service -> port in the local run (compose and Kubernetes set ``<SERVICE>_URL``).
UPSTREAMS: dict[str, int] = {
    "identity": 8101,
    "missions": 8102,
    "payments": 8103,
    "subscriptions": 8104,
    "appointments": 8105,
    "reputation": 8106,
    "trust-safety": 8107,
}

_ID = r"[^/]+"

ROUTES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"^/api/v1/missions/{_ID}/payment$"), "payments"),
    (re.compile(rf"^/api/v1/missions/{_ID}/review$"), "reputation"),
    (re.compile(r"^/api/v1/(auth|me|users)(/|$)"), "identity"),
    (re.compile(r"^/\.well-known/jwks\.json$"), "identity"),
    (re.compile(r"^/api/v1/(missions|proposals)(/|$)"), "missions"),
    (re.compile(r"^/api/v1/payments(/|$)"), "payments"),
    (re.compile(r"^/api/v1/(plans|subscriptions|entitlements)(/|$)"), "subscriptions"),
    (re.compile(r"^/api/v1/appointments(/|$)"), "appointments"),
    (re.compile(r"^/api/v1/(reviews|pros|ranking-criteria)(/|$)"), "reputation"),
    (re.compile(r"^/api/v1/(incidents|document-requests)(/|$)"), "trust-safety"),
    # Moderation is routed per sub-path: each owner adds its own (reputation: `moderation/reviews`).
    (
        re.compile(r"^/api/v1/moderation/(incidents|appeals|strikes|document-requests|users)(/|$)"),
        "trust-safety",
    ),
]


def owner_of(path: str) -> str | None:
    for pattern, service in ROUTES:
        if pattern.match(path):
            return service
    return None
