"""``clikopro-trust-safety migrate|worker|scan`` (see clikopro_chassis.cli; ``scan``: entrypoints/scan.py)."""

from __future__ import annotations

from collections.abc import Sequence

from clikopro_chassis.cli import Command, service_cli
from clikopro_trust_safety.bootstrap import bootstrap
from clikopro_trust_safety.entrypoints import scan
from clikopro_trust_safety.service_layer.handlers import HANDLERS


def main(argv: Sequence[str] | None = None) -> None:
    service_cli(
        "clikopro_trust_safety",
        bootstrap,
        HANDLERS,
        extra_commands={
            "scan": Command("mask contact details: a message a line on stdin, a JSON line each", scan.run),
        },
        argv=argv,
    )
