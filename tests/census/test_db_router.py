"""The read replica's router without a replica (the replica that answers, lags, catches up or does not answer is
in tests/census/test_replica_topology.py)."""

from __future__ import annotations

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from census import db_router
from census.db_router import replica_reads, replica_status
from census.models import Township
from tests.conftest import Cast


@pytest.mark.django_db
def test_without_a_replica_every_read_stays_on_the_primary_at_no_cost(cast: Cast) -> None:
    with CaptureQueriesContext(connections["default"]) as queries, replica_reads() as alias:
        assert alias == "default"
        assert db_router.read_connection() is connections["default"]
    assert len(queries) == 0
    assert not replica_status().configured
    with replica_reads():
        assert Township.objects.get(pk=cast.township_a.pk).name == "甲镇"
