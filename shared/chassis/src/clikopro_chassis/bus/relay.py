"""The outbox relay: publishes what services wrote into their outbox.

It selects pending rows in id order (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so several relays can share a table), publishes them as one
confirmed batch, and marks them published in the same transaction. If the
broker is unreachable the rows stay pending with their attempt count and last
error, and the relay keeps trying with back-off: nothing is lost, and
publication resumes by itself once the broker is back.

It sleeps until a producer's commit wakes it (PostgreSQL ``LISTEN``; the
unit of work sends ``NOTIFY`` in its transaction) or the safety poll
interval passes; SQLite has no notifications and is polled.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import psycopg
from sqlalchemy import select, update
from sqlalchemy.engine import make_url

from clikopro_chassis import metrics
from clikopro_chassis.bus.publisher import ConfirmingPublisher, OutgoingMessage
from clikopro_chassis.bus.topology import Topology
from clikopro_chassis.db import Database
from clikopro_chassis.messaging import outbox_messages as outbox
from clikopro_chassis.messaging import utcnow
from clikopro_chassis.outbox import NOTIFY_CHANNEL, pending_summary
from clikopro_chassis.tracing import TRACEPARENT, traceparent_of_body

log = logging.getLogger(__name__)

SQLITE_POLL_SECONDS = 0.05
MAX_BACKOFF_SECONDS = 30.0
LAG_EVERY_SECONDS = 5.0


class _Wakeup:
    """Waits for a NOTIFY from a committing producer, or a timeout."""

    def __init__(self, database: Database, poll_seconds: float) -> None:
        self._database = database
        self._poll = poll_seconds
        self._conn: psycopg.Connection | None = None

    def wait(self) -> None:
        if not self._database.is_postgres:
            time.sleep(min(self._poll, SQLITE_POLL_SECONDS))
            return
        try:
            if self._conn is None or self._conn.closed:
                url = make_url(self._database.url).set(drivername="postgresql")
                self._conn = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)
                self._conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                return  # rows may have arrived before LISTEN: look again before sleeping
            for _ in self._conn.notifies(timeout=self._poll, stop_after=1):
                break
        except psycopg.Error as exc:
            log.warning("outbox wake-up channel lost, polling instead: %s", exc)
            self.close()
            time.sleep(self._poll)

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None


def _trace_headers(body: str) -> dict[str, str]:
    traceparent = traceparent_of_body(body)
    return {TRACEPARENT: traceparent} if traceparent else {}


class OutboxRelay:
    def __init__(
        self,
        *,
        service: str,
        database: Database,
        topology: Topology,
        publisher_factory: Callable[[], ConfirmingPublisher],
        batch_size: int = 500,
        poll_interval: float = 1.0,
    ) -> None:
        self.service = service
        self.database = database
        self.topology = topology
        self._publisher_factory = publisher_factory
        self._publisher: ConfirmingPublisher | None = None
        self.batch_size = batch_size
        self._wakeup = _Wakeup(database, poll_interval)
        self._last_lag = 0.0

    @property
    def publisher(self) -> ConfirmingPublisher:
        if self._publisher is None:
            self._publisher = self._publisher_factory()
            with self._publisher.connection.channel() as channel:
                self.topology.declare_exchange(channel)
        return self._publisher

    def publish_pending(self) -> int:
        """Publish one batch of pending events; returns how many were published."""
        with self.database.session() as session, session.begin():
            query = (
                select(
                    outbox.c.id,
                    outbox.c.event_id,
                    outbox.c.event_type,
                    outbox.c.routing_key,
                    outbox.c.correlation_id,
                    outbox.c.body,
                )
                .where(outbox.c.published_at.is_(None))
                .order_by(outbox.c.id)
                .limit(self.batch_size)
            )
            if self.database.is_postgres:
                query = query.with_for_update(skip_locked=True)
            rows = session.execute(query).all()
            if not rows:
                return 0
            messages = [
                OutgoingMessage(
                    body=row.body,
                    exchange=self.topology.exchange_name,
                    routing_key=row.routing_key,
                    message_id=row.event_id,
                    correlation_id=row.correlation_id,
                    type=row.event_type,
                    headers=_trace_headers(row.body),
                )
                for row in rows
            ]
            ids = [row.id for row in rows]
            try:
                started = time.perf_counter()
                self.publisher.publish(messages)
                metrics.RELAY_CONFIRM.labels(self.service).observe(time.perf_counter() - started)
            except Exception as exc:
                session.rollback()
                self._record_failure(ids, exc)
                raise
            session.execute(update(outbox).where(outbox.c.id.in_(ids)).values(published_at=utcnow()))
        metrics.OUTBOX_PUBLISHED.labels(self.service).inc(len(ids))
        return len(ids)

    def _record_failure(self, ids: list[int], exc: BaseException) -> None:
        metrics.OUTBOX_FAILURES.labels(self.service).inc()
        try:
            with self.database.session() as session, session.begin():
                session.execute(
                    update(outbox)
                    .where(outbox.c.id.in_(ids))
                    .values(attempts=outbox.c.attempts + 1, last_error=f"{type(exc).__name__}: {exc}"[:2000])
                )
        except Exception:
            log.exception("could not record the failed outbox batch")

    def measure_lag(self) -> tuple[int, float]:
        """Pending count and age of the oldest pending event, for metrics and ``/ready``."""
        with self.database.session() as session:
            count, age = pending_summary(session)
        metrics.OUTBOX_PENDING.labels(self.service).set(count)
        metrics.OUTBOX_LAG.labels(self.service).set(age)
        return count, age

    def _periodic(self) -> None:
        now = time.monotonic()
        if now - self._last_lag >= LAG_EVERY_SECONDS:
            self._last_lag = now
            self.measure_lag()

    def run(self, stop: threading.Event) -> None:
        log.info("outbox relay started", extra={"exchange": self.topology.exchange_name})
        backoff = 0.5
        while not stop.is_set():
            try:
                published = self.publish_pending()
                backoff = 0.5
                if published == self.batch_size:
                    continue  # more may be waiting
                self._periodic()
                if self._publisher is not None:
                    self._publisher.heartbeat()
                self._wakeup.wait()
            except Exception as exc:  # noqa: BLE001 - broker or database down: keep trying
                log.warning("outbox relay failed, retrying in %.1fs: %s", backoff, exc)
                self._drop_publisher()
                stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
        self._drop_publisher()
        self._wakeup.close()
        log.info("outbox relay stopped")

    def _drop_publisher(self) -> None:
        if self._publisher is not None:
            try:
                self._publisher.close()
            except Exception:  # noqa: BLE001
                pass
            self._publisher = None
