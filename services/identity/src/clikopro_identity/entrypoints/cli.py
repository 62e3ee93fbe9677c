"""``clikopro-identity migrate|worker`` (see clikopro_chassis.cli)."""

from __future__ import annotations

from collections.abc import Sequence

from clikopro_chassis.cli import service_cli
from clikopro_identity.bootstrap import bootstrap
from clikopro_identity.service_layer.handlers import HANDLERS


def main(argv: Sequence[str] | None = None) -> None:
    service_cli("clikopro_identity", bootstrap, HANDLERS, argv=argv)
