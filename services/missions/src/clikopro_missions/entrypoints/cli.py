"""``clikopro-missions migrate|worker`` (see clikopro_chassis.cli)."""

from __future__ import annotations

from collections.abc import Sequence

from clikopro_chassis.cli import service_cli
from clikopro_missions.bootstrap import bootstrap
from clikopro_missions.service_layer.handlers import HANDLERS


def main(argv: Sequence[str] | None = None) -> None:
    service_cli("clikopro_missions", bootstrap, HANDLERS, argv=argv)
