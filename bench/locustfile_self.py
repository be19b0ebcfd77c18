"""Load scenario of self-enumeration (issue 24): respondents filling in their households' forms on the public pages
under /self/<code>/ while enumerators keep submitting households (``FieldEnumerator``: the ``Enumerator`` of
``bench/locustfile.py`` at a field pace).

Run by ``bench/bench_70_self_enumeration.py`` as ``locust -f bench/locustfile_self.py … Respondent FieldEnumerator``.
``CENSUS_LOAD_USERS`` names a JSON file with the enumerators (``prepare_users``) and the codes of invited
households (``prepare_invitations``). A respondent walks the pages a person on a phone walks, thinking
``CENSUS_SELF_LOAD_THINK`` seconds (default 15–45) before each page: the home page the QR code opens, the household
items, person 1 and "save and add another", person 2, then leaves; comes back later with the same code in a new
browser session (no cookies), adds person 3, reads the form back and declares, and reads the confirmation number.
Then the same simulated user takes the next code (another household), so that ``CENSUS_SELF_LOAD_RESPONDENTS``
households fill in at once for the whole run.

Every walk has its own client address, sent as the reverse proxy sends it (``X-Real-IP``, and ``X-Forwarded-For``
as nginx sets it too) to a server that trusts loopback as its proxy (``FORWARDED_ALLOW_IPS=127.0.0.1``): the
throttles per address (``SELF_ENUMERATION``) stay on and count each respondent apart, as they do in production.
"""

from __future__ import annotations

import json
import os
import random
import re
import threading
from pathlib import Path
from typing import Any

import gevent
from locust import between, events, task
from locust.contrib.fasthttp import FastHttpUser
from locust.exception import StopUser

from bench.locustfile import Enumerator
from bench.payloads import family, household_items

_lock = threading.Lock()
_codes: list[str] = []
_taken = 0
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CONFIRMATION = re.compile(r"\b\d{12}\b")
THINK = tuple(float(s) for s in os.environ.get("CENSUS_SELF_LOAD_THINK", "15,45").split(","))
RESPONDENTS = int(os.environ.get("CENSUS_SELF_LOAD_RESPONDENTS", "500"))
ENUMERATOR_WAIT = tuple(float(s) for s in os.environ.get("CENSUS_SELF_LOAD_ENUMERATOR_WAIT", "5,15").split(","))


@events.init.add_listener
def load_codes(environment: Any, **kwargs: Any) -> None:
    path = os.environ.get("CENSUS_LOAD_USERS", "")
    if path:
        _codes[:] = json.loads(Path(path).read_text(encoding="utf-8")).get("codes", [])


def _next_code() -> tuple[int, str] | None:
    """The next household's code and its number (from 1), or None when every code has been handed out."""
    global _taken
    with _lock:
        if _taken >= len(_codes):
            return None
        _taken += 1
        return _taken, _codes[_taken - 1]


def _address(number: int) -> str:
    """A client address of its own per walk: 10.0.0.1, 10.0.0.2, …"""
    return f"10.{(number >> 16) & 255}.{(number >> 8) & 255}.{number & 255}"


class Respondent(FastHttpUser):
    """A household filling in its own form on a phone."""

    fixed_count = RESPONDENTS
    wait_time = between(*THINK)

    def on_start(self) -> None:
        self.rng = random.Random()
        self.headers: dict[str, str] = {}
        self.base = ""
        # Respondents do not all open their slips in the same second.
        gevent.sleep(self.rng.uniform(0, THINK[1]))

    def page(self, path: str, name: str, must_contain: str = "") -> str:
        with self.client.get(
            self.base + path, name=name, headers=self.headers, allow_redirects=False, catch_response=True
        ) as response:
            text = response.text or ""
            if response.status_code != 200:
                response.failure(f"{path}: {response.status_code}")
            elif must_contain and must_contain not in text:
                response.failure(f"{path}: the page lacks {must_contain!r}")
            return text

    def save(self, path: str, page: str, data: dict[str, Any], name: str, then: str) -> None:
        """Post the page's form; the answer must send the browser on to ``then``."""
        token = CSRF.search(page)
        body = {**data, "csrfmiddlewaretoken": token.group(1) if token else ""}
        with self.client.post(
            self.base + path, data=body, name=name, headers=self.headers, allow_redirects=False, catch_response=True
        ) as response:
            location = response.headers.get("Location", "") if response.headers else ""
            if response.status_code != 302 or not location.endswith(self.base + then):
                response.failure(f"{path}: {response.status_code} → {location!r} {(response.text or '')[:300]!r}")

    @task
    def fill_in(self) -> None:
        handed = _next_code()
        if handed is None:
            raise StopUser()
        number, code = handed
        address = _address(number)
        self.headers = {"X-Real-IP": address, "X-Forwarded-For": address, "Accept-Language": "zh-hans"}
        self.base = f"/self/{code}/"
        self.client.cookiejar.clear()
        people = family(self.rng)
        # First visit: the QR code opens the home page; the household's items; persons 1 and 2.
        self.page("", "self: home", must_contain='id="respondent-home"')
        self.wait()
        form = self.page("household/", "self: household form")
        self.wait()
        self.save("household/", form, household_items(), "self: save household", "")
        self.page("", "self: home")
        self.wait()
        form = self.page("persons/1/", "self: person form")
        self.wait()
        self.save("persons/1/", form, {**people[0], "add_another": "1"}, "self: save person", "persons/2/")
        form = self.page("persons/2/", "self: person form")
        self.wait()
        self.save("persons/2/", form, people[1], "self: save person", "")
        self.page("", "self: home", must_contain="2. 李芳")
        # Leaves, and comes back later with the same code in a new browser session.
        self.wait()
        self.wait()
        self.client.cookiejar.clear()
        self.page("", "self: home", must_contain="1. 王伟")
        self.wait()
        form = self.page("persons/3/", "self: person form")
        self.wait()
        self.save("persons/3/", form, people[2], "self: save person", "")
        self.page("", "self: home", must_contain="3. 王小明")
        self.wait()
        form = self.page("review/", "self: review", must_contain='id="declare"')
        self.wait()
        self.save("review/", form, {"name": "李芳", "relationship": "1", "confirm": "on"}, "self: declare", "done/")
        done = self.page("done/", "self: done")
        if not CONFIRMATION.search(done):
            events.request.fire(
                request_type="CHECK",
                name="self: confirmation number shown",
                response_time=0,
                response_length=0,
                exception=AssertionError(f"no confirmation number on {self.base}done/"),
                context={},
            )


class FieldEnumerator(Enumerator):
    """The load row's enumerator at a field pace: a request every 5–15 s (two in three submit a household), about
    forty times what 200 enumerators at the doors send in a day's busiest hour. ``load_locust`` measures how many
    submissions the server can take at most; here the question is whether the public pages stay quick while the
    enumerators' work goes on, and a server kept saturated by them would answer every page late by construction."""

    wait_time = between(*ENUMERATOR_WAIT)
