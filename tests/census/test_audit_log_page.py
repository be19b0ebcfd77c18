"""The audit log as the auditor reads it (issue 21, item 11): what was touched in words, the detail as label: value
pairs — no Python dicts, no "app.model_name" codes."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.utils import translation

from census.models import AuditAction
from census.services import audit_record
from tests.conftest import Cast

pytestmark = pytest.mark.django_db


def test_the_audit_log_shows_words_not_codes_and_dicts(cast: Cast, login: Any) -> None:
    audit_record(
        actor=cast.district_office,
        action=AuditAction.RECORD_CHANGE,
        object_type="organisation.rectification_task",
        object_id=8,
        detail={"evidence_added": 276, "department": "fgj", "dues": [1, 2]},
    )
    audit_record(
        actor=cast.district_office,
        action=AuditAction.VIEW_PERSONAL_DATA,
        object_type="enumeration.household",
        object_id=3,
        detail={"fields": ["head_name_listed"], "households": [3]},
    )
    audit_record(actor=cast.district_office, action=AuditAction.EXPORT, object_type="microdata", object_id=1)
    with translation.override("zh-hans"):
        html = login(cast.auditor).get("/frame/audit-log/").content.decode()
    rows = re.search(r"<tbody>(.*)</tbody>", html, re.S)
    assert rows is not None
    text = rows.group(1)
    for raw in ("organisation.rectification_task", "enumeration.household", "{'", "evidence_added", "head_name_listed"):
        assert raw not in text, f"the log shows {raw!r}"
    assert "#8" in text and "276" in text and "1, 2" in text
