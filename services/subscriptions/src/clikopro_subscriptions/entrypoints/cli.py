"""``clikopro-subscriptions migrate|worker`` (see clikopro_chassis.cli)."""

from __future__ import annotations

from collections.abc import Sequence

from clikopro_chassis.cli import service_cli
from clikopro_subscriptions.bootstrap import bootstrap
from clikopro_subscriptions.service_layer.handlers import HANDLERS


def main(argv: Sequence[str] | None = None) -> None:
    service_cli("clikopro_subscriptions", bootstrap, HANDLERS, argv=argv)
