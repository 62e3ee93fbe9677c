"""Building kombu connections from a broker URL.

``amqp://`` is RabbitMQ; ``filesystem:///some/dir`` is the embedded broker of
the local run (kombu's filesystem transport, folders under that directory);
``memory://`` serves pure-logic tests inside one process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kombu import Connection

HEARTBEAT_SECONDS = 30


def is_amqp(url: str) -> bool:
    return url.split("://", 1)[0] in {"amqp", "amqps", "pyamqp"}


def broker_connection(url: str, **kwargs: Any) -> Connection:
    scheme, _, rest = url.partition("://")
    if scheme == "filesystem":
        root = Path(rest or "var/broker")
        queue_dir, control_dir = root / "queue", root / "control"
        queue_dir.mkdir(parents=True, exist_ok=True)
        control_dir.mkdir(parents=True, exist_ok=True)
        options = {
            "data_folder_in": str(queue_dir),
            "data_folder_out": str(queue_dir),
            "control_folder": str(control_dir),
            "store_processed": False,
            # kombu polls virtual queues once a second by default: too slow for a local run.
            "polling_interval": 0.05,
        }
        return Connection("filesystem://", transport_options=options, **kwargs)
    if scheme == "memory":
        return Connection(url, transport_options={"polling_interval": 0.01}, **kwargs)
    kwargs.setdefault("heartbeat", HEARTBEAT_SECONDS)
    kwargs.setdefault("connect_timeout", 5)
    return Connection(url, **kwargs)


#: Where consumers of the embedded broker say they are alive (kombu's filesystem transport keeps
#: no consumer list that another process could read): one file per consumer, touched each second.
CONSUMERS_DIR = "consumers"


def heartbeat_dir(url: str) -> Path | None:
    """The embedded broker's consumer heartbeat folder, ``None`` for a broker that counts consumers."""
    scheme, _, rest = url.partition("://")
    if scheme != "filesystem":
        return None
    return Path(rest or "var/broker") / CONSUMERS_DIR


def describe(url: str) -> str:
    """The URL without its password, for logs and health answers."""
    scheme, _, rest = url.partition("://")
    if "@" in rest:
        credentials, _, host = rest.rpartition("@")
        user = credentials.split(":", 1)[0]
        rest = f"{user}:***@{host}"
    return f"{scheme}://{rest}"
