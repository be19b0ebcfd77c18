"""Load scenario: enumerators submitting households and reading their lists, office users on dashboards.

Run by ``bench/bench_40_load.py`` (headless, bounded in time, against gunicorn on loopback) and, short, by
``tests/security/test_load.py``. Users come from a JSON file named by ``CENSUS_LOAD_USERS``: API tokens and
small areas of enumerators, and session cookies of office users, prepared by ``prepare_users``.
"""

from __future__ import annotations

import datetime
import itertools
import json
import os
import random
import threading
import uuid
from typing import Any

from locust import HttpUser, between, events, task

from enumeration.identity import make_id_number

_USERS: dict[str, Any] = {}
_lock = threading.Lock()
_enumerators: itertools.cycle[dict[str, Any]] | None = None
_offices: itertools.cycle[dict[str, Any]] | None = None
SIGNATURE = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAACgAAAAUCAAAAADaLSBnAAAAFUlEQVR4nGP4z0AsGFU5qnJUJRAAALREE+2QKLzLAAAAAElFTkSuQmCC"
)


@events.init.add_listener
def load_users(environment: Any, **kwargs: Any) -> None:
    global _enumerators, _offices
    path = os.environ.get("CENSUS_LOAD_USERS", "")
    if path:
        _USERS.update(json.loads(open(path, encoding="utf-8").read()))
        _enumerators = itertools.cycle(_USERS["enumerators"])
        _offices = itertools.cycle(_USERS["offices"])


def _next(pool: itertools.cycle[dict[str, Any]] | None) -> dict[str, Any]:
    assert pool is not None, "CENSUS_LOAD_USERS is not set"
    with _lock:
        return next(pool)


def _person(row: int, name: str, relationship: int, sex: int, year: int, month: int, education: int | None,
            literate: int | None, rng: random.Random) -> dict[str, Any]:
    # Sequence 600–997: above what the synthetic district hands out, so no number collides with it.
    sequence = rng.randrange(300, 499) * 2 + (1 if sex == 1 else 0)
    return {
        "row_no": row, "d1_name": name, "d2_relationship": relationship, "d4_sex": sex, "d5_birth_year": year,
        "d5_birth_month": month, "d3_id_number": make_id_number("511521", datetime.date(year, month, rng.randint(1, 28)), sequence),
        "d6_ethnicity": "01", "d7_residence": 1, "d8_hukou_place": 1, "d9_away_duration": 1,
        "d11_education": education, "d12_literate": literate,
    }


def four_person_household(small_area: int, rng: random.Random) -> dict[str, Any]:
    head_year = rng.randint(1965, 1990)
    return {
        "small_area": small_area,
        "head_name": "王伟",
        "household": {"h1_kind": 1, "h2_present": 4, "h2_away": 0, "h3_births_male": 0, "h3_births_female": 0,
                      "h4_deaths_male": 0, "h4_deaths_female": 0, "h5_residence_type": 1,
                      "h6_floor_area": rng.randint(60, 160), "h7_rooms": rng.randint(2, 6)},
        "persons": [
            _person(1, "王伟", 0, 1, head_year, rng.randint(1, 10), 4, 1, rng),
            _person(2, "李芳", 1, 2, head_year + 1, rng.randint(1, 10), 5, 1, rng),
            _person(3, "王小明", 2, 1, 2008, rng.randint(1, 10), 3, None, rng),
            _person(4, "王小红", 2, 2, 2014, rng.randint(1, 10), 3, None, rng),
        ],
        "respondent": {"name": "王伟", "relationship": 0, "signature_image": SIGNATURE},
    }


class Enumerator(HttpUser):
    weight = 10
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        me = _next(_enumerators)
        self.small_area = me["small_area"]
        self.password = me["password"]
        self.client.headers["Authorization"] = f"Token {me['token']}"
        self.rng = random.Random(me["token"])

    @task(6)
    def submit_household(self) -> None:
        body = four_person_household(self.small_area, self.rng)
        body["password"] = self.password
        with self.client.post("/api/households/submit/", json=body, name="submit household",
                              headers={"Idempotency-Key": str(uuid.uuid4())}, catch_response=True) as response:
            if response.status_code != 201:
                response.failure(f"{response.status_code}: {response.text[:200]}")

    @task(2)
    def my_households(self) -> None:
        self.client.get(f"/api/households/?small_area={self.small_area}", name="list my households")

    @task(1)
    def open_household(self) -> None:
        listing = self.client.get(f"/api/households/?small_area={self.small_area}", name="list my households").json()
        rows = listing.get("results") or []
        if rows:
            self.client.get(f"/api/households/{rows[0]['id']}/", name="household detail")


class OfficeUser(HttpUser):
    weight = 1
    wait_time = between(1, 3)

    def on_start(self) -> None:
        me = _next(_offices)
        self.client.cookies.set("sessionid", me["session"])
        self.pages = me["pages"]

    @task
    def dashboard(self) -> None:
        page = random.choice(self.pages)
        with self.client.get(page, name="office page", catch_response=True, allow_redirects=False) as response:
            if response.status_code != 200:
                response.failure(f"{page}: {response.status_code}")
