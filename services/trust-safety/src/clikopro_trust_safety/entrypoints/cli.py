"""``clikopro-trust-safety migrate|worker`` (see clikopro_chassis.cli)."""

from __future__ import annotations

from collections.abc import Sequence

from clikopro_chassis.cli import service_cli
from clikopro_trust_safety.bootstrap import bootstrap
from clikopro_trust_safety.service_layer.handlers import HANDLERS


def main(argv: Sequence[str] | None = None) -> None:
    service_cli("clikopro_trust_safety", bootstrap, HANDLERS, argv=argv)
