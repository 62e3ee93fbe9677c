from __future__ import annotations

from clikopro_chassis.unit_of_work import UnitOfWork


class AppointmentsUnitOfWork(UnitOfWork):
    """The appointments service's unit of work; repositories are added with its features."""
