"""``clikopro-appointments migrate|worker`` (see clikopro_chassis.cli)."""

from __future__ import annotations

from collections.abc import Sequence

from clikopro_appointments.bootstrap import bootstrap
from clikopro_appointments.service_layer.handlers import HANDLERS
from clikopro_chassis.cli import service_cli


def main(argv: Sequence[str] | None = None) -> None:
    service_cli("clikopro_appointments", bootstrap, HANDLERS, argv=argv)
