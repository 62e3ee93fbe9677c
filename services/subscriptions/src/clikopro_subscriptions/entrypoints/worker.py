"""Worker entry point: ``clikopro-subscriptions worker`` (outbox relay, event consumer, jobs)."""

from clikopro_chassis import worker
from clikopro_subscriptions.bootstrap import bootstrap
from clikopro_subscriptions.service_layer.handlers import HANDLERS


def main() -> None:
    services = bootstrap()
    worker.main(services.settings, services.database, handlers=HANDLERS, uow_factory=services.joined_uow)
