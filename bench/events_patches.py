"""Experimental chassis changes, applied by monkeypatching inside the benchmark's own
processes only (``python -m bench.events_pipeline --patch NAME``), to measure a
proposal before anyone edits the chassis. Nothing here is used by a plain run.

The patches measured so far were adopted in the chassis (2026-11-26): one schema
instance per contract, a batch without savepoints unless a handler fails, the
batch's inbox rows in one statement. Measured and not adopted: one
``basic.ack(multiple=True)`` per batch, engines without ``pool_pre_ping`` (no
measurable difference). Add the next experiment here as a function and a name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

PATCHES: dict[str, Callable[[], None]] = {}
AVAILABLE = tuple(PATCHES)


def apply(names: Sequence[str]) -> None:
    unknown = set(names) - set(PATCHES)
    if unknown:
        raise ValueError(f"unknown patch(es) {sorted(unknown)}; available: {AVAILABLE or 'none'}")
    for name in names:
        PATCHES[name]()
