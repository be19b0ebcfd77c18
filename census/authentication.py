"""API authentication: DRF tokens with an expiry (kept apart from census.api, which DRF's settings import)."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF tokens that stop working ``API_TOKEN_MAX_AGE_DAYS`` after they were issued (field devices get a new
    one when the enumerator logs in again); a deactivated account's tokens stop at once (DRF checks is_active)."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        user, token = super().authenticate_credentials(key)
        max_age = datetime.timedelta(days=settings.API_TOKEN_MAX_AGE_DAYS)
        if token.created < timezone.now() - max_age:
            raise exceptions.AuthenticationFailed(_("The API token has expired; log in again for a new one."))
        return user, token
