"""Worker entry point: ``clikopro-identity worker`` (outbox relay, event consumer, jobs)."""

from clikopro_chassis import worker
from clikopro_identity.bootstrap import bootstrap
from clikopro_identity.service_layer.handlers import HANDLERS


def main() -> None:
    services = bootstrap()
    worker.main(services.settings, services.database, handlers=HANDLERS, uow_factory=services.joined_uow)
