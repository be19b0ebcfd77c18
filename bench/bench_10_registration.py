"""Issue "Household registration": server time of submitting a 4-person household (validation and signing
included) p95 ≤ 50 ms, and of the enumerator's household page p95 ≤ 100 ms, on the 1,000,000-person district.

Server time is measured inside the server process around Django's request handling (the test client, no
network), after a warm-up. As in the field, each enumerator submits a run of households (an enumerator covers
about 80): the first signature of a session pays the full Argon2 check of the re-entered password, the next ones
match it against the remembered digest (census/passwords.py). The first-of-session time is reported too.
"""

from __future__ import annotations

import json

from bench_00_seed import ensure_seeded
from run import BenchContext, Benchmark, Measured

SUBMIT_TARGET_MS = 50.0
PAGE_TARGET_MS = 100.0
REQUESTS = 300
PER_ENUMERATOR = 30

_SUBMIT = r"""
import json, statistics, time, datetime
from django.test import Client
from django.test.utils import setup_test_environment
from django.db import transaction
from census.models import SmallAreaAssignment
from enumeration.identity import make_id_number
from tests.enumeration.test_services_registration import png_data_url

setup_test_environment()
N = %(n)d
PER_ENUMERATOR = %(per)d
assignments = list(SmallAreaAssignment.objects.select_related("staff").order_by("small_area_id")[: max(1, N // PER_ENUMERATOR)])
signature = png_data_url()

def person(row, name, rel, sex, year, month, seq, education, literate):
    return {"row_no": row, "d1_name": name, "d2_relationship": rel, "d4_sex": sex, "d5_birth_year": year,
            "d5_birth_month": month, "d3_id_number": make_id_number("511521", datetime.date(year, month, 12), seq),
            "d6_ethnicity": "01", "d7_residence": 1, "d8_hukou_place": 1, "d9_away_duration": 1,
            "d11_education": education, "d12_literate": literate}

timings = []
first_of_session = []
handler = Client().handler
plan = [(assignment, n) for n in range(PER_ENUMERATOR) for assignment in assignments]
clients = {}
for index, (assignment, n) in enumerate(plan):
    client = clients.get(assignment.pk)
    if client is None:
        client = clients[assignment.pk] = Client()
        # One request handler for every client, as in a server process: a new test client would otherwise load
        # the middleware again (WhiteNoise indexing every static file) on its first request.
        client.handler = handler
        client.force_login(assignment.staff)
    seq = 900 - (index %% 400) * 2
    body = {
        "small_area": assignment.small_area_id, "head_name": "测试户",
        "household": {"h1_kind": 1, "h2_present": 4, "h2_away": 0, "h3_births_male": 0, "h3_births_female": 0,
                      "h4_deaths_male": 0, "h4_deaths_female": 0, "h5_residence_type": 1, "h6_floor_area": 110, "h7_rooms": 4},
        "persons": [person(1, "王伟", 0, 1, 1980, 5, seq + 1, 4, 1), person(2, "李芳", 1, 2, 1982, 3, seq, 5, 1),
                    person(3, "王小明", 2, 1, 2010, 9, seq + 1, 3, None), person(4, "王小红", 2, 2, 2016, 4, seq, 2, None)],
        "respondent": {"name": "王伟", "relationship": 0, "signature_image": signature},
        "password": "census-demo-2020",
    }
    started = time.perf_counter()
    response = client.post("/api/households/submit/", json.dumps(body), content_type="application/json",
                           HTTP_IDEMPOTENCY_KEY=f"bench-{index}-{time.time()}")
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 201, response.content[:500]
    (first_of_session if n == 0 else timings).append(elapsed)
warm = timings[10:]
warm.sort()
p95 = warm[int(len(warm) * 0.95) - 1]
print(json.dumps({"p50": statistics.median(warm), "p95": p95, "n": len(warm),
                  "first_median": statistics.median(first_of_session), "sessions": len(first_of_session)}))
"""


def submit(context: BenchContext) -> Measured:
    ensure_seeded(context)
    out = context.python(_SUBMIT % {"n": REQUESTS, "per": PER_ENUMERATOR}).stdout.strip().splitlines()[-1]
    result = json.loads(out)
    return Measured(
        f"p95 {result['p95']:.1f} ms",
        result["p95"] <= SUBMIT_TARGET_MS,
        f"p50 {result['p50']:.1f} ms over {result['n']} submissions; first signature of each of {result['sessions']} "
        f"sessions (full Argon2 check) median {result['first_median']:.1f} ms",
    )


BENCHMARKS = [
    Benchmark(name="household_submit", target=f"4-person household submit p95 ≤ {SUBMIT_TARGET_MS:.0f} ms", run=submit),
]


_PAGE = r"""
import json, statistics, time
from django.test import Client
from django.test.utils import setup_test_environment
from census.models import SmallAreaAssignment
from django.db.models import Q
from enumeration.models import Household

setup_test_environment()
N = %(n)d
timings = []
assignments = list(SmallAreaAssignment.objects.select_related("staff").order_by("?")[: max(1, N // 10)])
handler = Client().handler
for assignment in assignments:
    client = Client()
    client.handler = handler  # one request handler, as in a server process (see the submit benchmark)
    client.force_login(assignment.staff)
    # The households the enumerator is working on: drafts, returned forms, and listed ones not started yet.
    households = list(Household.objects.filter(small_area_id=assignment.small_area_id, state__in=("listed", "draft", "returned"))
                      .filter(Q(registrar=assignment.staff) | Q(registrar__isnull=True))
                      .exclude(household_no=999).values_list("pk", flat=True)[:10])
    for pk in households:
        started = time.perf_counter()
        response = client.get(f"/enumeration/households/{pk}/form/")
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, (pk, response.status_code)
        timings.append(elapsed)
warm = sorted(timings[10:])
print(json.dumps({"p50": statistics.median(warm), "p95": warm[int(len(warm) * 0.95) - 1], "n": len(warm)}))
"""


def household_page(context: BenchContext) -> Measured:
    ensure_seeded(context)
    result = json.loads(context.python(_PAGE % {"n": REQUESTS}).stdout.strip().splitlines()[-1])
    return Measured(
        f"p95 {result['p95']:.1f} ms",
        result["p95"] <= PAGE_TARGET_MS,
        f"p50 {result['p50']:.1f} ms over {result['n']} household form pages of different enumerators",
    )


BENCHMARKS.append(
    Benchmark(
        name="household_page", target=f"enumerator's household page p95 ≤ {PAGE_TARGET_MS:.0f} ms", run=household_page
    )
)
