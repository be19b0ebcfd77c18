"""Load scenario: enumerators submitting households and reading their lists, office users on dashboards.

Run by ``bench/bench_40_load.py`` (headless, bounded in time, against gunicorn on loopback) and, short, by
``tests/security/test_load.py``. Users come from a JSON file named by ``CENSUS_LOAD_USERS``: API tokens and
small areas of enumerators, and session cookies of office users, prepared by ``prepare_users``.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import threading
import uuid
from pathlib import Path
from typing import Any

from locust import between, events, task
from locust.contrib.fasthttp import FastHttpUser

from bench.payloads import four_person_household

_USERS: dict[str, Any] = {}
_lock = threading.Lock()
_enumerators: itertools.cycle[dict[str, Any]] | None = None
_offices: itertools.cycle[dict[str, Any]] | None = None


@events.init.add_listener
def load_users(environment: Any, **kwargs: Any) -> None:
    global _enumerators, _offices
    path = os.environ.get("CENSUS_LOAD_USERS", "")
    if path:
        _USERS.update(json.loads(Path(path).read_text(encoding="utf-8")))
        _enumerators = itertools.cycle(_USERS["enumerators"])
        _offices = itertools.cycle(_USERS["offices"])


def _next(pool: itertools.cycle[dict[str, Any]] | None) -> dict[str, Any]:
    assert pool is not None, "CENSUS_LOAD_USERS is not set"
    with _lock:
        return next(pool)


# FastHttpUser (geventhttpclient) rather than HttpUser (requests): the load generator shares the server's two
# cores, and requests' client spent a sixth of them that the server under test should have.
class Enumerator(FastHttpUser):
    weight = 10
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        me = _next(_enumerators)
        self.small_area = me["small_area"]
        self.password = me["password"]
        self.auth = {"Authorization": f"Token {me['token']}"}
        self.rng = random.Random(me["token"])

    @task(6)
    def submit_household(self) -> None:
        body = four_person_household(self.small_area, self.rng)
        body["password"] = self.password
        with self.client.post(
            "/api/households/submit/",
            json=body,
            name="submit household",
            headers={**self.auth, "Idempotency-Key": str(uuid.uuid4())},
            catch_response=True,
        ) as response:
            if response.status_code != 201:
                response.failure(f"{response.status_code}: {response.text[:200]}")

    @task(2)
    def my_households(self) -> None:
        self.client.get(f"/api/households/?small_area={self.small_area}", name="list my households", headers=self.auth)

    @task(1)
    def open_household(self) -> None:
        listing = self.client.get(
            f"/api/households/?small_area={self.small_area}", name="list my households", headers=self.auth
        ).json()
        rows = listing.get("results") or []
        if rows:
            self.client.get(f"/api/households/{rows[0]['id']}/", name="household detail", headers=self.auth)


class OfficeUser(FastHttpUser):
    weight = 1
    wait_time = between(1, 3)

    def on_start(self) -> None:
        me = _next(_offices)
        self.cookie = {"Cookie": f"sessionid={me['session']}"}
        self.pages = me["pages"]

    @task
    def dashboard(self) -> None:
        page = random.choice(self.pages)
        with self.client.get(
            page, name="office page", catch_response=True, allow_redirects=False, headers=self.cookie
        ) as response:
            if response.status_code != 200:
                response.failure(f"{page}: {response.status_code}")
