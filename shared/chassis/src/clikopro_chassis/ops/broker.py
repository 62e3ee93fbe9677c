"""What the broker can tell about a queue, from the best source there is.

- **RabbitMQ management API** (production: the ``rabbitmq_management`` plugin): ready and
  unacknowledged messages, consumers, publish and deliver rates, and the cumulative deliver
  count that tells a stalled queue (messages held, none delivered) from a slow one.
- **AMQP** (the plugin is off): a passive ``queue.declare`` gives the messages ready and the
  consumers; no unacked count, no rates.
- **The embedded broker** (kombu's filesystem transport, ``make run``): one file per message,
  named by the monotonic clock when it was enqueued, so the count and the age of the oldest
  message are read from the folder without taking any message; consumers are counted from the
  heartbeat files the workers touch each second (the transport keeps no consumer list another
  process could read). Unacked messages, rates and delivery counts do not exist there.

Quorum queues do not expose the age of their head message, and peeking would count against the
delivery limit, so on RabbitMQ the age of what waits is the consumers' metric
(``clikopro_event_wait_seconds``), and for a queue that delivers nothing ``clikopro-ops`` tracks
since when it has been stalled (:mod:`clikopro_chassis.ops.status`).
"""

from __future__ import annotations

import base64
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amqp.exceptions import ChannelError as AmqpChannelError
from kombu.exceptions import ChannelError

from clikopro_chassis.bus.connection import broker_connection, heartbeat_dir, is_amqp

#: A consumer whose heartbeat file is older than this is gone (it touches it each second).
HEARTBEAT_STALE_SECONDS = 10.0


@dataclass
class QueueStats:
    name: str
    exists: bool
    messages: int = 0
    ready: int | None = None
    unacked: int | None = None
    consumers: int | None = None
    publish_rate: float | None = None
    deliver_rate: float | None = None
    #: Cumulative deliveries (management API): unchanged while messages wait = stalled.
    delivered_total: int | None = None
    #: Age of the oldest message, where the broker can tell it without taking it (embedded).
    oldest_age_seconds: float | None = None
    #: Embedded broker: since when the last consumer was seen, when none is alive.
    consumer_last_seen_age_seconds: float | None = None


class BrokerView:
    source = "?"

    def stats(self, names: Iterable[str]) -> dict[str, QueueStats]:
        raise NotImplementedError


def _vhost(url: str) -> str:
    path = urllib.parse.urlsplit(url).path
    vhost = urllib.parse.unquote(path[1:]) if len(path) > 1 else "/"
    return vhost or "/"


class ManagementView(BrokerView):
    """``GET /api/queues/<vhost>/<name>`` of the management plugin."""

    source = "management"

    def __init__(self, api_url: str, vhost: str, *, timeout: float = 5.0) -> None:
        parts = urllib.parse.urlsplit(api_url)
        self.base = urllib.parse.urlunsplit(
            (parts.scheme, parts.hostname + (f":{parts.port}" if parts.port else ""), parts.path, "", "")
        ).rstrip("/")
        user = urllib.parse.unquote(parts.username or "guest")
        password = urllib.parse.unquote(parts.password or "guest")
        self.auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.vhost = vhost
        self.timeout = timeout

    def get(self, path: str) -> Any:
        request = urllib.request.Request(self.base + path, headers={"Authorization": self.auth})
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            return json.load(response)

    def available(self) -> bool:
        try:
            self.get("/api/overview")
        except (urllib.error.URLError, OSError, ValueError):
            return False
        return True

    def stats(self, names: Iterable[str]) -> dict[str, QueueStats]:
        vhost = urllib.parse.quote(self.vhost, safe="")
        result: dict[str, QueueStats] = {}
        for name in names:
            try:
                body = self.get(f"/api/queues/{vhost}/{urllib.parse.quote(name, safe='')}")
            except urllib.error.HTTPError as exc:
                if exc.code != 404:
                    raise
                result[name] = QueueStats(name, exists=False)
                continue
            result[name] = from_management(body)
        return result


def from_management(body: dict[str, Any]) -> QueueStats:
    """One queue of the management API's answer."""
    stats = body.get("message_stats") or {}

    def rate(key: str) -> float:
        return float((stats.get(f"{key}_details") or {}).get("rate", 0.0))

    return QueueStats(
        name=body["name"],
        exists=True,
        messages=int(body.get("messages") or 0),
        ready=int(body.get("messages_ready") or 0),
        unacked=int(body.get("messages_unacknowledged") or 0),
        consumers=int(body.get("consumers") or 0),
        publish_rate=rate("publish"),
        deliver_rate=rate("deliver_get"),
        delivered_total=int(stats.get("deliver_get") or 0),
    )


class AmqpView(BrokerView):
    """Passive declares: messages ready and consumers, nothing declared or taken."""

    source = "amqp"

    def __init__(self, broker_url: str) -> None:
        self.broker_url = broker_url

    def stats(self, names: Iterable[str]) -> dict[str, QueueStats]:
        result: dict[str, QueueStats] = {}
        with broker_connection(self.broker_url) as conn:
            channel = conn.channel()
            for name in names:
                try:
                    _, messages, consumers = channel.queue_declare(name, passive=True)
                except (AmqpChannelError, ChannelError):
                    channel = conn.channel()  # a failed passive declare closes the channel
                    result[name] = QueueStats(name, exists=False)
                    continue
                result[name] = QueueStats(name, True, messages=messages, ready=messages, consumers=consumers)
        return result


class EmbeddedView(BrokerView):
    """kombu's filesystem transport: the folder of messages and the consumers' heartbeat files."""

    source = "embedded"

    def __init__(self, broker_url: str) -> None:
        root = Path(broker_url.partition("://")[2] or "var/broker")
        self.queue_dir = root / "queue"
        self.heartbeats = heartbeat_dir(broker_url)

    def stats(self, names: Iterable[str]) -> dict[str, QueueStats]:
        now_ms = time.monotonic() * 1000
        wall = time.time()
        files = os.listdir(self.queue_dir) if self.queue_dir.is_dir() else []
        beats = list(self.heartbeats.iterdir()) if self.heartbeats and self.heartbeats.is_dir() else []
        result: dict[str, QueueStats] = {}
        for name in names:
            stamps = []
            for filename in files:
                stamp, _, rest = filename.partition("_")
                if rest.partition(".")[2] == f"{name}.msg" and stamp.isdigit():
                    stamps.append(int(stamp))
            ages, alive = [], []
            for beat in beats:
                if beat.name.rpartition("@")[0] == name:
                    try:
                        age = wall - beat.stat().st_mtime
                    except FileNotFoundError:
                        continue
                    ages.append(age)
                    if age <= HEARTBEAT_STALE_SECONDS and not beat.name.endswith(".stopped"):
                        alive.append(age)
            stats = QueueStats(
                name,
                exists=bool(stamps or ages),
                messages=len(stamps),
                ready=len(stamps),
                consumers=len(alive),
                oldest_age_seconds=max(0.0, (now_ms - min(stamps)) / 1000) if stamps else None,
            )
            if ages and not alive:
                stats.consumer_last_seen_age_seconds = min(ages)
            result[name] = stats
        return result


def management_url_for(broker_url: str) -> str:
    """The management API beside an AMQP broker: same host and credentials, port 15672."""
    parts = urllib.parse.urlsplit(broker_url.replace("amqps://", "amqp://").replace("pyamqp://", "amqp://"))
    netloc = parts.netloc.rpartition("@")
    credentials = netloc[0] + "@" if netloc[0] else ""
    return f"http://{credentials}{parts.hostname}:15672"


def view_for(broker_url: str, management_url: str | None = None) -> BrokerView:
    """The management API if it answers (or is named), else AMQP; the folder for the embedded broker."""
    if broker_url.startswith("filesystem://"):
        return EmbeddedView(broker_url)
    if not is_amqp(broker_url):
        raise ValueError(f"clikopro-ops cannot inspect {broker_url.partition('://')[0]}:// brokers")
    if management_url != "":
        view = ManagementView(management_url or management_url_for(broker_url), _vhost(broker_url))
        if management_url or view.available():
            return view
    return AmqpView(broker_url)
