from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from clikopro_chassis.config import Settings


@dataclass(frozen=True)
class MissionsSettings(Settings):
    """Settings of the missions service; each field reads the variable of the same name in upper case."""

    #: Invoices are uploaded through the service: its bodies may be as large as the gateway's (10 MiB).
    max_body_bytes: int = 10 * 1024 * 1024
    #: Proposals per Paris calendar month for a pro on the free plan, or one subscriptions never told us
    #: about. A plan known from subscriptions' events brings its own figure (null = unlimited).
    free_plan_proposals_per_month: int = 5
    #: A submitted task the client neither validates nor contests is validated after this many days.
    task_auto_validate_days: int = 14
    #: ... and the client is reminded after this many days (once per submission).
    task_reminder_days: int = 7
    #: How often the worker looks for tasks to remind or auto-validate.
    task_deadlines_interval_seconds: int = 60
    #: Where invoices are stored (local directory adapter); default ``<DATA_DIR>/invoices``.
    invoice_storage_dir: str = ""
    #: Largest invoice accepted, in bytes.
    invoice_max_bytes: int = 10_000_000

    @property
    def invoice_directory(self) -> Path:
        return (
            Path(self.invoice_storage_dir) if self.invoice_storage_dir else Path(self.data_dir) / "invoices"
        )
