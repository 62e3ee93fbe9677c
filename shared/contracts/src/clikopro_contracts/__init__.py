"""CLIKOPRO event contracts (EVENTS.md): the envelope, one module of marshmallow
schemas per producer, the registry ``(type, version) -> schema``, example
messages and the generated catalog."""

from clikopro_contracts.envelope import EXCHANGE, Event, format_time
from clikopro_contracts.registry import (
    Contract,
    ContractError,
    contract_for,
    contracts,
    latest_version,
    load_data,
    make_event,
    parse_event,
    producer_of,
)

__version__ = "0.1.0"

__all__ = [
    "EXCHANGE",
    "Contract",
    "ContractError",
    "Event",
    "contract_for",
    "contracts",
    "format_time",
    "latest_version",
    "load_data",
    "make_event",
    "parse_event",
    "producer_of",
]
