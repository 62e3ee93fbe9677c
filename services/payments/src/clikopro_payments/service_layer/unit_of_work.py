from __future__ import annotations

from clikopro_chassis.unit_of_work import UnitOfWork


class PaymentsUnitOfWork(UnitOfWork):
    """The payments service's unit of work; repositories are added with its features."""
