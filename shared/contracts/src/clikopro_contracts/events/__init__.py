"""One module per producing service; importing them registers their contracts."""

from clikopro_contracts.events import (  # noqa: F401
    appointments,
    identity,
    missions,
    payments,
    reputation,
    subscriptions,
    trust_safety,
)
