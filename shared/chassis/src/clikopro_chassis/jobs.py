"""Periodic jobs of a worker (reminders, auto-validation, housekeeping).

A job is a plain function run every ``interval`` seconds in the worker; it
gets its own correlation id so that what it causes can be traced. Jobs take
their notion of "now" from an injectable clock in their service, so that a
test can move time instead of waiting.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from clikopro_chassis.context import message_context, new_id

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    interval: float
    run: Callable[[], object]


def run_jobs(jobs: Sequence[PeriodicJob], stop: threading.Event) -> None:
    next_run = {job.name: time.monotonic() for job in jobs}
    while not stop.is_set() and jobs:
        now = time.monotonic()
        for job in jobs:
            if next_run[job.name] > now:
                continue
            correlation = new_id()
            with message_context(correlation_id=correlation, causation_id=f"job:{job.name}"):
                try:
                    job.run()
                except Exception:
                    log.exception("job %s failed", job.name)
            next_run[job.name] = time.monotonic() + job.interval
        stop.wait(max(0.0, min(next_run.values()) - time.monotonic()))
