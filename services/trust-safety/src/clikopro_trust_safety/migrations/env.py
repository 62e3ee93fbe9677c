from clikopro_chassis.migrations import run_migrations
from clikopro_trust_safety.adapters.orm import metadata

run_migrations(metadata)
