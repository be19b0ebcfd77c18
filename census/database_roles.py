"""The database role the running services use: it owns nothing and may only insert into and read the append-only
tables.

A superuser or the tables' owner can TRUNCATE the audit log, ``ALTER TABLE … DISABLE TRIGGER`` the trigger that
refuses UPDATE and DELETE, or ``SET session_replication_role = replica`` to skip it; a role that owns nothing and
holds only SELECT and INSERT on those tables can do none of that. So migrations (and restores) run as the owner,
and the web server, the Celery worker and beat and the backups run as the application role
(``CENSUS_APP_DB_ROLE``, in docker compose ``census_app``), which ``migrate`` keeps granted after every run
(``grant_after_migrate``, connected to ``post_migrate``) — a new table is granted by the migration run that creates
it.

What the role gets:

* tables of models with the class attribute ``census_append_only = True`` (the audit log and its hash chain):
  SELECT and INSERT;
* every other table of a model: SELECT, INSERT, UPDATE, DELETE and TRUNCATE (the roster check empties its
  working tables with TRUNCATE), never TRIGGER or REFERENCES;
* ``django_migrations``: SELECT (``showmigrations`` works, recording a migration does not);
* sequences: USAGE and SELECT (pg_dump reads their positions: the backups run as this role); the database:
  CONNECT and TEMPORARY (the checks work in temporary tables); the schema: USAGE, not CREATE.

It must not be a superuser, may not create roles or databases, bypass row security or replicate, and is a
member of no role (so it inherits no owner's rights and no ``pg_write_all_data``): whatever of that it has is
taken away, and anything it owns is handed to the owner running the migrations.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections, transaction

APPEND_ONLY_PRIVILEGES = ("SELECT", "INSERT")
TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")
MIGRATIONS_TABLE = "django_migrations"
ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
# Role attributes the application role must not have, as pg_roles columns and ALTER ROLE keywords.
FORBIDDEN_ATTRIBUTES = {
    "rolsuper": "NOSUPERUSER",
    "rolcreaterole": "NOCREATEROLE",
    "rolcreatedb": "NOCREATEDB",
    "rolreplication": "NOREPLICATION",
    "rolbypassrls": "NOBYPASSRLS",
}


@dataclass
class Grants:
    """What ``app_role_grant`` did, for the command's output and the tests."""

    role: str
    created: bool = False
    append_only: list[str] = field(default_factory=list)
    read_write: list[str] = field(default_factory=list)
    attributes_removed: list[str] = field(default_factory=list)
    memberships_revoked: list[str] = field(default_factory=list)
    ownership_reassigned: bool = False


def table_privileges(existing: set[str]) -> dict[str, tuple[str, ...]]:
    """The privileges of the application role on each table of a model that exists in the database."""
    privileges: dict[str, tuple[str, ...]] = {}
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if not meta.managed or meta.proxy or meta.db_table not in existing:
            continue
        append_only = bool(getattr(model, "census_append_only", False))
        privileges[meta.db_table] = APPEND_ONLY_PRIVILEGES if append_only else TABLE_PRIVILEGES
    if MIGRATIONS_TABLE in existing:
        privileges[MIGRATIONS_TABLE] = ("SELECT",)
    return privileges


def app_role_grant(*, role: str, password: str = "", using: str = DEFAULT_DB_ALIAS) -> Grants:
    """Create (with ``password``) or correct the application role and grant it exactly what the application needs.

    Runs as the owner of the tables; safe to run any number of times. Without ``password`` the role must exist.
    """
    if not ROLE_NAME.fullmatch(role):
        raise ImproperlyConfigured(f"CENSUS_APP_DB_ROLE {role!r} is not a plain lower-case PostgreSQL role name.")
    connection = connections[using]
    quote = connection.ops.quote_name
    grants = Grants(role=role)
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute("SELECT current_user, current_database()")
        owner, database = cursor.fetchone()
        if owner == role:
            raise ImproperlyConfigured(
                f"migrate runs as {role}, the application role (CENSUS_APP_DB_ROLE): run migrations as the owner "
                "of the tables, with the application role named in CENSUS_APP_DB_ROLE."
            )
        cursor.execute(f"SELECT {', '.join(FORBIDDEN_ATTRIBUTES)} FROM pg_roles WHERE rolname = %s", [role])
        row = cursor.fetchone()
        if row is None:
            if not password:
                raise ImproperlyConfigured(
                    f"the database role {role} does not exist: set CENSUS_APP_DB_PASSWORD so that migrate creates it."
                )
            # Parameters in utility statements are interpolated by psycopg2 on the client, quoted as literals.
            cursor.execute(f"CREATE ROLE {quote(role)} LOGIN PASSWORD %s", [password])
            grants.created = True
        else:
            if password:
                cursor.execute(f"ALTER ROLE {quote(role)} LOGIN PASSWORD %s", [password])
            grants.attributes_removed = [
                keyword for (column, keyword), has in zip(FORBIDDEN_ATTRIBUTES.items(), row, strict=True) if has
            ]
            if grants.attributes_removed:
                cursor.execute(f"ALTER ROLE {quote(role)} {' '.join(grants.attributes_removed)}")
            cursor.execute(
                "SELECT granted.rolname FROM pg_auth_members m JOIN pg_roles granted ON granted.oid = m.roleid "
                "JOIN pg_roles member ON member.oid = m.member WHERE member.rolname = %s ORDER BY 1",
                [role],
            )
            grants.memberships_revoked = [name for (name,) in cursor.fetchall()]
            for granted in grants.memberships_revoked:
                cursor.execute(f"REVOKE {quote(granted)} FROM {quote(role)}")
            if _owns_anything(cursor, role):
                cursor.execute(f"REASSIGN OWNED BY {quote(role)} TO CURRENT_USER")
                grants.ownership_reassigned = True

        cursor.execute(f"GRANT CONNECT, TEMPORARY ON DATABASE {quote(database)} TO {quote(role)}")
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {quote(role)}")
        # Start from nothing, so that a privilege granted by hand earlier (TRIGGER, UPDATE on the audit log) goes.
        cursor.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {quote(role)}")
        existing = set(connection.introspection.table_names(cursor))
        for table, privileges in sorted(table_privileges(existing).items()):
            cursor.execute(f"GRANT {', '.join(privileges)} ON TABLE {quote(table)} TO {quote(role)}")
            if privileges == APPEND_ONLY_PRIVILEGES:
                grants.append_only.append(table)
            elif privileges == TABLE_PRIVILEGES:
                grants.read_write.append(table)
        cursor.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {quote(role)}")
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quote(role)}")
    return grants


def _owns_anything(cursor: Any, role: str) -> bool:
    cursor.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_class WHERE relowner = r.oid) "
        "OR EXISTS (SELECT 1 FROM pg_namespace WHERE nspowner = r.oid) "
        "OR EXISTS (SELECT 1 FROM pg_proc WHERE proowner = r.oid) "
        "OR EXISTS (SELECT 1 FROM pg_type WHERE typowner = r.oid) "
        "OR EXISTS (SELECT 1 FROM pg_database WHERE datdba = r.oid) "
        "FROM pg_roles r WHERE r.rolname = %s",
        [role],
    )
    return bool(cursor.fetchone()[0])


def grant_after_migrate(using: str = DEFAULT_DB_ALIAS, verbosity: int = 1, **kwargs: Any) -> None:
    """post_migrate: keep the application role's grants in step with the tables, when one is configured."""
    role = getattr(settings, "CENSUS_APP_DB_ROLE", "")
    if not role:
        return
    grants = app_role_grant(role=role, password=getattr(settings, "CENSUS_APP_DB_PASSWORD", ""), using=using)
    if verbosity >= 1:
        stdout = kwargs.get("stdout") or sys.stdout
        stdout.write(
            f"  Database role {role}{' (created)' if grants.created else ''}: SELECT, INSERT on "
            f"{len(grants.append_only)} append-only tables; SELECT, INSERT, UPDATE, DELETE, TRUNCATE on "
            f"{len(grants.read_write)} others; owns nothing.\n"
        )
