"""The event bus on kombu: topology, confirmed publishing, the outbox relay and
the idempotent consumer (EVENTS.md, "Topology" and "Guarantees")."""
