"""CLIKOPRO missions service: missions, proposals, contracts, tasks with checkpoints (R5-R9)."""

SERVICE = "missions"
