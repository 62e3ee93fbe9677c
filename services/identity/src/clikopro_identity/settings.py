from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from clikopro_chassis.config import Settings


@dataclass(frozen=True)
class IdentitySettings(Settings):
    #: Minimum password length (the rest of the policy is in domain/passwords.py).
    password_min_length: int = 10
    #: Lifetime of an access token (JWT).
    access_token_ttl_seconds: int = 900
    #: Lifetime of a refresh token; each use gives a new one for as long again.
    refresh_token_ttl_days: int = 30
    #: A rotated-in signing key is published at once and signs after this delay: longer than the
    #: verifiers' JWKS refresh cooldown (JWKS_REFRESH_COOLDOWN_SECONDS, 30 s), so every verifier
    #: that meets the new key id can fetch it.
    key_activation_delay_seconds: int = 60
    #: Encrypts the private keys stored in the database (PEM); empty: stored unencrypted.
    signing_key_passphrase: str = ""
    #: Failed logins allowed per account, and per client address, in the window; then 429.
    login_max_failures_per_account: int = 5
    login_max_failures_per_ip: int = 50
    login_failure_window_seconds: int = 900

    @property
    def access_token_ttl(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.access_token_ttl_seconds)

    @property
    def refresh_token_ttl(self) -> dt.timedelta:
        return dt.timedelta(days=self.refresh_token_ttl_days)
