"""Signing in, refreshing and signing out (R2), and the suspension check they share (R3)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from clikopro_chassis.errors import RateLimited, Unauthenticated
from clikopro_identity.adapters.keys import KeyStore, Signer
from clikopro_identity.domain.errors import AccountSuspended
from clikopro_identity.domain.throttling import ThrottleRule, retry_after
from clikopro_identity.domain.tokens import (
    RefreshToken,
    RefreshVerdict,
    TokenPair,
    access_claims,
    hash_refresh_secret,
    new_refresh_secret,
    refresh_verdict,
)
from clikopro_identity.domain.users import User, normalise_email
from clikopro_identity.service_layer.unit_of_work import IdentityUnitOfWork


@dataclass(frozen=True)
class SessionPolicy:
    access_ttl: dt.timedelta
    refresh_ttl: dt.timedelta
    per_account: ThrottleRule
    per_ip: ThrottleRule


class _DummyHash:
    """A hash to verify against when the e-mail is unknown, so that the answer takes as long."""

    value: str | None = None

    @classmethod
    def get(cls, hasher: PasswordHasher) -> str:
        if cls.value is None:
            cls.value = hasher.hash("no account has this password")
        return cls.value


def _refused_login() -> Unauthenticated:
    return Unauthenticated("Wrong e-mail or password.")


def _check_throttle(uow: IdentityUnitOfWork, keys: dict[str, str], policy: SessionPolicy, now: dt.datetime):
    waits = []
    for scope, rule in (("account", policy.per_account), ("ip", policy.per_ip)):
        if not keys.get(scope):
            continue
        failures = uow.login_failures.since(scope, keys[scope], now - rule.window, rule.max_failures)
        wait = retry_after(failures, rule, now)
        if wait is not None:
            waits.append(wait)
    if waits:
        wait = max(waits)
        raise RateLimited(
            f"Too many failed sign-ins; try again in {wait} seconds.",
            headers={"Retry-After": str(wait)},
            retry_after=wait,
        )


def ensure_not_suspended(uow: IdentityUnitOfWork, user_id: uuid.UUID, now: dt.datetime) -> None:
    suspension = uow.suspensions.get(user_id)
    if suspension is not None and suspension.in_force(now):
        until = suspension.until.isoformat() if suspension.until else None
        raise AccountSuspended("This account is suspended.", until=until)


def _issue(
    uow: IdentityUnitOfWork,
    signer: Signer,
    user: User,
    family_id: uuid.UUID,
    policy: SessionPolicy,
    now: dt.datetime,
) -> TokenPair:
    secret = new_refresh_secret()
    uow.refresh_tokens.add(
        RefreshToken(
            user_id=user.id,
            family_id=family_id,
            token_hash=hash_refresh_secret(secret),
            issued_at=now,
            expires_at=now + policy.refresh_ttl,
        )
    )
    access = signer.sign(access_claims(user.id, user.role, now=now, ttl=policy.access_ttl))
    return TokenPair(access, secret, int(policy.access_ttl.total_seconds()))


def login(
    uow: IdentityUnitOfWork,
    *,
    email: str,
    password: str,
    client_ip: str | None,
    keys: KeyStore,
    hasher: PasswordHasher,
    policy: SessionPolicy,
    now: dt.datetime,
) -> TokenPair:
    email = normalise_email(email)
    throttle_keys = {"account": email, "ip": client_ip or ""}
    signer = keys.signer(now)
    with uow:
        _check_throttle(uow, throttle_keys, policy, now)
        user = uow.users.by_email(email)
        try:
            hasher.verify(user.password_hash if user else _DummyHash.get(hasher), password)
            valid = user is not None and user.status == "active"
        except (VerificationError, InvalidHashError):
            valid = False
        if not valid:
            for scope, key in throttle_keys.items():
                if key:
                    uow.login_failures.record(scope, key, now)
            uow.commit()
            raise _refused_login()
        assert user is not None
        # Checked after the password, so that it tells nothing to someone who does not know it.
        ensure_not_suspended(uow, user.id, now)
        uow.login_failures.clear("account", email)
        if hasher.check_needs_rehash(user.password_hash):
            user.password_hash = hasher.hash(password)
            uow.users.save(user)
        pair = _issue(uow, signer, user, uuid.uuid4(), policy, now)
        uow.commit()
    return pair


def refresh(
    uow: IdentityUnitOfWork, *, refresh_token: str, keys: KeyStore, policy: SessionPolicy, now: dt.datetime
) -> TokenPair:
    invalid = Unauthenticated("The refresh token is not valid; sign in again.")
    signer = keys.signer(now)
    with uow:
        token = uow.refresh_tokens.by_hash(hash_refresh_secret(refresh_token))
        if token is None:
            raise invalid
        ensure_not_suspended(uow, token.user_id, now)
        verdict = refresh_verdict(token, now)
        if verdict is RefreshVerdict.USABLE and not uow.refresh_tokens.spend(token.id, now):
            verdict = RefreshVerdict.REUSED  # a concurrent refresh spent it first
        if verdict is RefreshVerdict.REUSED:
            uow.refresh_tokens.revoke_family(token.family_id, now, "reuse_detected")
            uow.commit()
            raise Unauthenticated(
                "This refresh token was already used; every session it belongs to is revoked."
            )
        if verdict is not RefreshVerdict.USABLE:
            raise invalid
        user = uow.users.get(token.user_id)
        if user is None or user.status != "active":
            raise invalid
        pair = _issue(uow, signer, user, token.family_id, policy, now)
        uow.commit()
    return pair


def logout(uow: IdentityUnitOfWork, *, refresh_token: str, now: dt.datetime) -> None:
    """Revoke the session (the token's family). An unknown token is not an error: the result is the same."""
    with uow:
        token = uow.refresh_tokens.by_hash(hash_refresh_secret(refresh_token))
        if token is not None:
            uow.refresh_tokens.revoke_family(token.family_id, now, "logout")
            uow.commit()
