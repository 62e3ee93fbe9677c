"""The gateway's pure rules, as tables of cases."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from clikopro_chassis.auth import Principal
from clikopro_chassis.errors import MalformedBody, ValidationFailed
from clikopro_gateway.access import is_public
from clikopro_gateway.entitlements import EntitlementCache, Entitlements, Requirement, refusal, requirement
from clikopro_gateway.routes import owner_of
from clikopro_gateway.suspensions import SuspensionSet

PRO = Principal(uuid.uuid4(), "pro")
CLIENT = Principal(uuid.uuid4(), "client")
OTHER_PRO = uuid.uuid4()
M = uuid.uuid4()


@pytest.mark.parametrize(
    ("method", "path", "public"),
    [
        ("POST", "/api/v1/auth/register", True),
        ("POST", "/api/v1/auth/token", True),
        ("POST", "/api/v1/auth/refresh", True),
        ("POST", "/api/v1/auth/logout", True),
        ("GET", "/.well-known/jwks.json", True),
        ("GET", "/api/v1/plans", True),
        ("GET", "/api/v1/pros", True),
        ("GET", f"/api/v1/pros/{M}/reviews", True),
        ("GET", f"/api/v1/pros/{M}/reputation", True),
        ("GET", "/api/v1/ranking-criteria", True),
        ("POST", "/api/v1/payments/webhooks/stripe", True),
        ("POST", "/api/v1/subscriptions/webhooks/stripe", True),
        ("GET", "/api/v1/subscriptions/webhooks/stripe", False),
        ("POST", "/api/v1/subscriptions/me", False),
        ("GET", "/api/v1/auth/token", False),
        ("POST", "/api/v1/plans", False),
        ("GET", "/api/v1/plans/pro", False),
        ("GET", f"/api/v1/pros/{M}/reviews/x", False),
        ("GET", "/api/v1/prosx", False),
        ("GET", "/api/v1/me", False),
        ("GET", "/api/v1/entitlements/me", False),
        ("GET", "/api/v1/subscriptions/me", False),
        ("GET", "/api/v1/auth/register/../../me", False),
        ("POST", "/api/v1/payments/webhooks/stripe/x", False),
    ],
)
def test_public_routes(method: str, path: str, public: bool) -> None:
    assert is_public(method, path) is public


@pytest.mark.parametrize(
    ("method", "path", "who", "body", "needed"),
    [
        (
            "POST",
            f"/api/v1/missions/{M}/proposals",
            PRO,
            b'{"payment_mode": "direct"}',
            ("direct_payment", "self"),
        ),
        (
            "POST",
            f"/api/v1/missions/{M}/proposals/",
            PRO,
            b'{"payment_mode": "direct"}',
            ("direct_payment", "self"),
        ),
        ("POST", f"/api/v1/missions/{M}/proposals", PRO, b'{"payment_mode": "secure"}', None),
        ("POST", f"/api/v1/missions/{M}/proposals", PRO, b"{}", None),
        (
            "POST",
            f"/api/v1/missions/{M}/proposals",
            CLIENT,
            b'{"payment_mode": "direct"}',
            None,
        ),  # service refuses
        ("GET", f"/api/v1/missions/{M}/proposals", PRO, None, None),
        ("PUT", "/api/v1/appointments/availability", PRO, None, ("appointments", "self")),
        ("DELETE", "/api/v1/appointments/availability/slot-1", PRO, None, ("appointments", "self")),
        ("GET", "/api/v1/appointments/availability", PRO, None, None),
        ("POST", f"/api/v1/appointments/{M}/accept", PRO, None, ("appointments", "self")),
        ("POST", f"/api/v1/appointments/{M}/decline", PRO, None, ("appointments", "self")),
        ("POST", f"/api/v1/appointments/{M}/cancel", PRO, None, None),
        ("GET", f"/api/v1/appointments/{M}", CLIENT, None, None),
        ("POST", f"/api/v1/appointments/{M}/accept", CLIENT, None, None),  # service refuses
        (
            "POST",
            "/api/v1/appointments",
            CLIENT,
            f'{{"pro_id": "{OTHER_PRO}"}}'.encode(),
            ("appointments", "other"),
        ),
        (
            "POST",
            "/api/v1/appointments",
            PRO,
            f'{{"pro_id": "{OTHER_PRO}"}}'.encode(),
            ("appointments", "other"),
        ),
        ("POST", "/api/v1/missions", CLIENT, b'{"payment_mode": "direct"}', None),
    ],
)
def test_which_requests_need_which_feature(method, path, who, body, needed) -> None:
    found = requirement(method, path, who, body)
    if needed is None:
        assert found is None
    else:
        feature, whose = needed
        assert found == Requirement(feature, who.user_id if whose == "self" else OTHER_PRO)


@pytest.mark.parametrize(
    ("path", "body", "error"),
    [
        (f"/api/v1/missions/{M}/proposals", b"{oops", MalformedBody),
        (f"/api/v1/missions/{M}/proposals", b'"direct"', MalformedBody),
        ("/api/v1/appointments", b"", MalformedBody),
        ("/api/v1/appointments", b'{"pro_id": 12}', ValidationFailed),
        ("/api/v1/appointments", b"{}", ValidationFailed),
    ],
)
def test_an_unreadable_body_on_a_checked_route_is_refused(path: str, body: bytes, error: type) -> None:
    with pytest.raises(error):
        requirement("POST", path, PRO, body)


def test_refusal_names_the_feature_and_only_the_callers_own_plan() -> None:
    free = Entitlements("free", frozenset())
    own = refusal(Requirement("direct_payment", PRO.user_id), free, PRO)
    assert own is not None and own.body()["feature"] == "direct_payment" and own.body()["plan"] == "free"
    others = refusal(Requirement("appointments", OTHER_PRO), free, CLIENT)
    assert others is not None and "plan" not in others.body()
    paid = Entitlements("pro", frozenset({"appointments"}))
    assert refusal(Requirement("appointments", OTHER_PRO), paid, CLIENT) is None


T = dt.datetime(2026, 11, 26, 10, tzinfo=dt.UTC)


def test_suspensions_are_order_proof() -> None:
    user = uuid.uuid4()
    suspensions = SuspensionSet()
    assert suspensions.suspend(user, T)
    assert not suspensions.reinstate(user, T - dt.timedelta(seconds=1))  # older: ignored
    assert suspensions.is_suspended(user, T)
    assert suspensions.reinstate(user, T + dt.timedelta(seconds=1))
    assert not suspensions.is_suspended(user, T)
    # Identity's list cannot undo a reinstatement the gateway already knows of.
    suspensions.apply_list([{"user_id": str(user), "since": T.isoformat(), "until": None}])
    assert not suspensions.is_suspended(user, T)
    # ... unless it replaces everything (after events were lost).
    suspensions.apply_list([{"user_id": str(user), "since": T.isoformat(), "until": None}], replace=True)
    assert suspensions.is_suspended(user, T)
    assert suspensions.suspended_ids() == {user}


def test_plans_keep_the_newest_effective_state() -> None:
    cache = EntitlementCache("http://unused")
    pro = uuid.uuid4()
    paid = {
        "plan": "pro",
        "features": ["direct_payment"],
        "effective_at": T,
        "period_end": T + dt.timedelta(days=365),
    }
    lapsed = {"plan": "free", "features": [], "effective_at": T + dt.timedelta(days=1), "period_end": None}
    assert cache.apply_event(pro, paid)
    assert cache.apply_event(pro, lapsed)
    assert not cache.apply_event(pro, paid)  # late and older
    assert cache._plans[pro].features == frozenset()


def test_a_paid_copy_is_not_used_after_its_period_end() -> None:
    copy = Entitlements("pro", frozenset({"direct_payment"}), T, period_end=T + dt.timedelta(days=1))
    assert copy.usable(T, 0.0)
    assert not copy.usable(T + dt.timedelta(days=1, seconds=1), 0.0)


@pytest.mark.parametrize(
    ("path", "owner"),
    [
        ("/api/v1/incidents", "trust-safety"),
        ("/api/v1/incidents/0b7e3c1a-9d2f-4e8a-b6c5-1f0e9d8c7b6a/messages", "trust-safety"),
        ("/api/v1/moderation/incidents", "trust-safety"),
        ("/api/v1/moderation/incidents/0b7e3c1a-9d2f-4e8a-b6c5-1f0e9d8c7b6a/resolve", "trust-safety"),
        ("/api/v1/moderation/users/0b7e3c1a-9d2f-4e8a-b6c5-1f0e9d8c7b6a/suspend", "trust-safety"),
        ("/api/v1/moderation", None),  # no catch-all: each moderation area names its owner
        ("/api/v1/moderation/incidentsx", None),
    ],
)
def test_moderation_is_routed_per_sub_path(path: str, owner: str | None) -> None:
    assert owner_of(path) == owner
