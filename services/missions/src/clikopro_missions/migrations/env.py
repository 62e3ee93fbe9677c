from clikopro_chassis.migrations import run_migrations
from clikopro_missions.adapters.orm import metadata

run_migrations(metadata)
