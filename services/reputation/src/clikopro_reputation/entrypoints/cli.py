"""``clikopro-reputation migrate|worker`` (see clikopro_chassis.cli)."""

from __future__ import annotations

from collections.abc import Sequence

from clikopro_chassis.cli import service_cli
from clikopro_reputation.bootstrap import bootstrap
from clikopro_reputation.service_layer.handlers import HANDLERS


def main(argv: Sequence[str] | None = None) -> None:
    service_cli("clikopro_reputation", bootstrap, HANDLERS, argv=argv)
