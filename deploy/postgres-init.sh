#!/bin/bash
# MNR's PostgreSQL roles and database (docs/audit.md, "Roles").
#
# Run by the postgres image on the first start of an empty data volume
# (mounted into /docker-entrypoint-initdb.d by docker-compose.yml), as the
# superuser, which then stays for administration only:
#   - mnr_owner: owns the database and its tables; runs `migrate` and
#     `db_roles` (the compose service `migrate`). Not a superuser, cannot
#     create roles or databases.
#   - mnr_app: what web, worker and beat connect as. Created here so the owner
#     needs no CREATEROLE; `manage.py db_roles` (run as the owner after every
#     migrate) gives it its privileges and checks it owns nothing.
#
# Idempotent: it can also be run by hand on an existing cluster (e.g. one
# created by an older docker-compose.yml, where the superuser was `mnr` and
# owned everything), to create what is missing and hand the database and the
# objects of its public schema over to mnr_owner:
#   docker-compose exec -e MNR_OWNER_DB_PASSWORD -e MNR_APP_DB_PASSWORD postgres \
#     bash /docker-entrypoint-initdb.d/10-mnr-roles.sh
# then run the `migrate` service (migrate + db_roles).
#
# Passwords come from the environment (MNR_OWNER_DB_PASSWORD,
# MNR_APP_DB_PASSWORD) and are passed to psql as variables, quoted by psql.
set -euo pipefail

: "${MNR_OWNER_DB_PASSWORD:?MNR_OWNER_DB_PASSWORD must be set}"
: "${MNR_APP_DB_PASSWORD:?MNR_APP_DB_PASSWORD must be set}"
DB="${MNR_DB_NAME:-mnr}"
OWNER="${MNR_DB_OWNER:-mnr_owner}"
APP="${MNR_DB_APP_ROLE:-mnr_app}"
SUPERUSER="${POSTGRES_USER:-postgres}"

psql_as_superuser() {
    psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$SUPERUSER" \
        -v owner="$OWNER" -v app="$APP" -v db="$DB" \
        -v owner_password="$MNR_OWNER_DB_PASSWORD" -v app_password="$MNR_APP_DB_PASSWORD" "$@"
}

# Roles (cluster-wide) and the database, created if missing; the passwords are
# (re)set each time the script runs.
psql_as_superuser --dbname postgres <<'SQL'
SELECT format('CREATE ROLE %I', :'owner')
    WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'owner') \gexec
SELECT format('CREATE ROLE %I', :'app')
    WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app') \gexec
SELECT format('ALTER ROLE %I WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD %L',
              :'owner', :'owner_password') \gexec
SELECT format('ALTER ROLE %I WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD %L',
              :'app', :'app_password') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'owner')
    WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
SELECT format('ALTER DATABASE %I OWNER TO %I', :'db', :'owner') \gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'db') \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO %I', :'db', :'app') \gexec
SQL

# Inside the database: the public schema and everything in it belong to the
# owner (on a fresh volume there is nothing yet; on an older one, the tables
# the old superuser created move to mnr_owner). Only the owner creates.
psql_as_superuser --dbname "$DB" <<'SQL'
SELECT format('ALTER SCHEMA public OWNER TO %I', :'owner') \gexec
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SELECT format('ALTER TABLE public.%I OWNER TO %I', c.relname, :'owner')
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
      AND pg_get_userbyid(c.relowner) <> :'owner' \gexec
SELECT format('ALTER SEQUENCE public.%I OWNER TO %I', c.relname, :'owner')
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind = 'S'
      AND pg_get_userbyid(c.relowner) <> :'owner'
      AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')) \gexec
SELECT format('ALTER FUNCTION %s OWNER TO %I', p.oid::regprocedure, :'owner')
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> :'owner' \gexec
SQL

echo "mnr roles ready: database $DB owned by $OWNER; application role $APP (run db_roles after migrate)."
