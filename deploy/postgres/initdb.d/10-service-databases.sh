#!/usr/bin/env bash
# One database per service, each owned by a role of the same name that may connect to
# its own database only: a service owns its data, and nothing else reaches it.
#
# The postgres image runs this once, as the superuser, when its data volume is empty
# (later changes need the volume recreated, or the same statements by hand). Role
# passwords come from <SERVICE>_DB_PASSWORD, the variables that docker-compose.yml also
# puts into each service's DATABASE_URL. tools/check_compose.py reads the list below.
#
# Sourced by the image's entrypoint unless executable: the subshell keeps `set` local.
(
  set -euo pipefail

  create_service_database() {  # NAME PASSWORD: role NAME, database NAME owned by it
    echo "clikopro: role and database $1"
    psql -v ON_ERROR_STOP=1 --no-psqlrc --quiet \
      --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
      --set name="$1" --set password="$2" <<'SQL'
CREATE ROLE :"name" LOGIN PASSWORD :'password';
CREATE DATABASE :"name" OWNER :"name";
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
SQL
  }

  create_service_database identity "${IDENTITY_DB_PASSWORD:?}"
  create_service_database missions "${MISSIONS_DB_PASSWORD:?}"
  create_service_database payments "${PAYMENTS_DB_PASSWORD:?}"
  create_service_database subscriptions "${SUBSCRIPTIONS_DB_PASSWORD:?}"
  create_service_database appointments "${APPOINTMENTS_DB_PASSWORD:?}"
  create_service_database reputation "${REPUTATION_DB_PASSWORD:?}"
  create_service_database trust_safety "${TRUST_SAFETY_DB_PASSWORD:?}"
)
