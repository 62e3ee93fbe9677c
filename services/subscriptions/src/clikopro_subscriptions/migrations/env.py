from clikopro_chassis.migrations import run_migrations
from clikopro_subscriptions.adapters.orm import metadata

run_migrations(metadata)
