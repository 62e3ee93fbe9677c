"""Worker entry point: ``clikopro-appointments worker`` (outbox relay, event consumer, jobs)."""

from clikopro_appointments.bootstrap import bootstrap
from clikopro_appointments.service_layer.handlers import HANDLERS
from clikopro_chassis import worker


def main() -> None:
    services = bootstrap()
    worker.main(services.settings, services.database, handlers=HANDLERS, uow_factory=services.joined_uow)
