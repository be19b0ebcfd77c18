"""API authentication: DRF tokens with an expiry (kept apart from census.api, which DRF's settings import)."""

from __future__ import annotations

import datetime
import functools
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from census.db import execute_prepared


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF tokens that stop working ``API_TOKEN_MAX_AGE_DAYS`` after they were issued (field devices get a new
    one when the enumerator logs in again); a deactivated account's tokens stop at once (DRF checks is_active)."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        # The token and its user in one statement written once and prepared on the connection, as DRF's
        # select_related lookup reads them: every API request asks, and composing that join through the ORM cost
        # more than running it.
        from census.models import StaffMember

        fields, sql = _token_user_sql()
        with connection.cursor() as cursor:
            execute_prepared(cursor, sql, [key])
            row = cursor.fetchone()
        if row is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        user = StaffMember.from_db(connection.alias, fields, row[:-1])
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        created = row[-1]
        max_age = datetime.timedelta(days=settings.API_TOKEN_MAX_AGE_DAYS)
        if created < timezone.now() - max_age:
            raise exceptions.AuthenticationFailed(_("The API token has expired; log in again for a new one."))
        token = Token(key=key, user=user, created=created)
        token._state.adding = False  # it is the stored row
        token._state.db = user._state.db
        return user, token


@functools.cache
def _token_user_sql() -> tuple[list[str], str]:
    from census.models import StaffMember

    concrete = StaffMember._meta.concrete_fields
    columns = ", ".join(f"u.{field.column}" for field in concrete)
    return [field.attname for field in concrete], (
        f"SELECT {columns}, t.created FROM {StaffMember._meta.db_table} u"
        f" JOIN {Token._meta.db_table} t ON t.user_id = u.{StaffMember._meta.pk.column} WHERE t.key = %s"
    )
