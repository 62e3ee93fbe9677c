"""Pytest fixtures: one Stripe emulator process per test session, wiped before each test.

- ``stripe_emulator``: a :class:`~clikopro_stripe_emulator.process.StripeEmulator` with no objects,
  no webhook endpoints and the clock at now;
- ``stripe_client``: a ``stripe.StripeClient`` aimed at it, with no network retries.

Every service that talks to Stripe (payments, subscriptions) uses these, so a test run starts
one emulator.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from clikopro_stripe_emulator.process import EmulatorProcess, StripeEmulator


@pytest.fixture(scope="session")
def stripe_emulator_process() -> Iterator[EmulatorProcess]:
    echo = print if os.environ.get("STRIPE_EMULATOR_ECHO") else None
    with EmulatorProcess(webhook_delay=0.05, output=echo) as process:
        yield process


@pytest.fixture
def stripe_emulator(stripe_emulator_process: EmulatorProcess) -> StripeEmulator:
    emulator = stripe_emulator_process.emulator
    assert emulator is not None
    emulator.reset()
    return emulator


@pytest.fixture
def stripe_client(stripe_emulator: StripeEmulator) -> Any:
    return stripe_emulator.client()
