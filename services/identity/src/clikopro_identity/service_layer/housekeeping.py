"""Periodic clean-up of the worker: spent refresh tokens and old login failures."""

from __future__ import annotations

import datetime as dt
import logging

from clikopro_identity.service_layer.unit_of_work import IdentityUnitOfWork

log = logging.getLogger(__name__)

#: Revoked and expired refresh tokens are kept this long (to recognise a replay), then deleted.
KEEP_DEAD_TOKENS = dt.timedelta(days=7)


def purge(uow: IdentityUnitOfWork, *, now: dt.datetime, failure_window: dt.timedelta) -> None:
    with uow:
        tokens = uow.refresh_tokens.purge(now - KEEP_DEAD_TOKENS)
        failures = uow.login_failures.purge(now - failure_window)
        uow.commit()
    if tokens or failures:
        log.info("purged %d refresh tokens and %d login failures", tokens, failures)
