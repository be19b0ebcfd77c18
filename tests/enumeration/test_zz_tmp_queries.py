import time
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from tests.enumeration.test_api import api_as, four_person_form, png_data_url
import pytest
pytestmark = pytest.mark.django_db

def test_q(cast, password):
    client = api_as(cast.enumerator_a1)
    for i in range(3):
        data, persons = four_person_form()
        body = {"small_area": cast.area_a1.pk, "head_name": "王伟", "household": data, "persons": persons,
                "respondent": {"name": "王伟", "relationship": 0, "signature_image": png_data_url()}, "password": password}
        with CaptureQueriesContext(connection) as ctx:
            t = time.perf_counter()
            r = client.post(reverse("api-household-submit"), body, format="json", HTTP_IDEMPOTENCY_KEY=f"s-{i}")
            el = time.perf_counter() - t
        assert r.status_code == 201, r.content
    for q in ctx.captured_queries:
        print(q["time"], q["sql"][:230])
    print(len(ctx.captured_queries), el)
