"""Fixtures of the payments tests: the service on SQLite (or PostgreSQL), the real ``stripe`` SDK
against the local Stripe emulator (one process per run, wiped before each test), its web app
served over real HTTP so the emulator's signed webhooks reach it, and access tokens."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from payments_helpers import WEBHOOK_SECRET, Platform, payments_settings

from clikopro_chassis.testing.http import serve
from clikopro_chassis.testing.services import migrated_sqlite
from clikopro_chassis.testing.tokens import TokenFactory
from clikopro_payments.bootstrap import Services, bootstrap
from clikopro_payments.entrypoints.web import build
from clikopro_stripe_emulator import StripeEmulator


@pytest.fixture
def tokens(tmp_path: Path) -> Iterator[TokenFactory]:
    factory = TokenFactory(tmp_path / "jwks")
    yield factory
    factory.close()


@pytest.fixture
def services(tmp_path: Path, stripe_emulator: StripeEmulator, tokens: TokenFactory) -> Services:
    url = migrated_sqlite("clikopro_payments", tmp_path)
    return bootstrap(payments_settings(url, stripe_emulator, tokens.jwks_url))


@pytest.fixture
def platform(services: Services, stripe_emulator: StripeEmulator, tokens: TokenFactory) -> Iterator[Platform]:
    """The payments web app on real HTTP, Stripe's webhooks (platform and Connect) pointed at it."""
    with serve(build(services)) as base_url:
        stripe_emulator.add_webhook(
            f"payments-{uuid.uuid4().hex[:6]}",
            f"{base_url}/api/v1/payments/webhooks/stripe",
            WEBHOOK_SECRET,
            connect=None,
        )
        yield Platform(services, stripe_emulator, tokens, base_url)
