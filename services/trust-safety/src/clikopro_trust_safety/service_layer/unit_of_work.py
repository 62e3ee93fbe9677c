from __future__ import annotations

from clikopro_chassis.unit_of_work import UnitOfWork


class TrustSafetyUnitOfWork(UnitOfWork):
    """The trust-safety service's unit of work; repositories are added with its features."""
