from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from clikopro_chassis.config import Settings


@dataclass(frozen=True)
class TrustSafetySettings(Settings):
    """Settings of the trust-safety service; each field reads the variable of the same name in upper case."""

    #: Attachments are uploaded through the service: its bodies may be as large as the gateway's (10 MiB).
    max_body_bytes: int = 10 * 1024 * 1024
    #: Days the other party has to answer an incident (``answer_due_at``); past it without an answer the
    #: incident is flagged ``answer_overdue`` in the moderation queue (no automatic outcome).
    incident_answer_days: int = 7
    #: Largest attachment accepted, in bytes, and most attachments on one message.
    incident_attachment_max_bytes: int = 5_000_000
    incident_attachments_per_message: int = 5
    #: Where attachments are stored (local directory adapter, private); default
    #: ``<DATA_DIR>/incident-attachments``.
    incident_storage_dir: str = ""
    #: The consumer mediator the platform adheres to (Code de la consommation, L612-1), named in every
    #: resolution notice. Operations set the one in the contract the company signed.
    consumer_mediator_name: str = (
        "CM2C - Centre de la Médiation de la Consommation de Conciliateurs de Justice"
    )
    consumer_mediator_url: str = "https://www.cm2c.net"

    @property
    def attachment_directory(self) -> Path:
        return (
            Path(self.incident_storage_dir)
            if self.incident_storage_dir
            else Path(self.data_dir) / "incident-attachments"
        )
