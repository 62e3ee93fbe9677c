from clikopro_chassis.migrations import run_migrations
from clikopro_payments.adapters.orm import metadata

run_migrations(metadata)
