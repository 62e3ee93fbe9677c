"""CLIKOPRO service chassis: the mechanisms every service shares (event bus,
transactional outbox and relay, idempotent inbox, database and unit of work,
connexion app factory, problem+json errors, health, metrics, JSON logs).

It holds no business rule: those live in their service."""
