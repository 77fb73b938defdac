#!/bin/sh
# PostgreSQL's entrypoint runs this once, on the first start of an empty data volume
# (/docker-entrypoint-initdb.d, see infra/compose.yaml): a role and a database for the
# Prefect server, and a role and a database for revcycle, each owning its own. Changing a
# password later is ALTER ROLE, not an edit of infra/.env alone.
#
# The passwords reach SQL as psql variables (:'name' quotes them), never pasted into a
# statement. They also go into connection URLs, so keep them URL-safe (letters, digits).
set -eu

psql --set ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
     --set prefect_password="$PREFECT_DB_PASSWORD" \
     --set revcycle_password="$REVCYCLE_DB_PASSWORD" <<'SQL'
CREATE ROLE prefect LOGIN PASSWORD :'prefect_password';
CREATE DATABASE prefect OWNER prefect;
CREATE ROLE revcycle LOGIN PASSWORD :'revcycle_password';
CREATE DATABASE revcycle OWNER revcycle;
-- Prefect's migrations use trigram indexes; the extension is made here, by the superuser.
\connect prefect
CREATE EXTENSION IF NOT EXISTS pg_trgm;
SQL
