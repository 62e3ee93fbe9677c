from clikopro_appointments.adapters.orm import metadata
from clikopro_chassis.migrations import run_migrations

run_migrations(metadata)
