"""Operations tooling: inspect queues and dead letters, replay dead letters (R22)."""
