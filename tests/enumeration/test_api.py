"""The household API: scoping, create/update/confirm/sign/transition, 409 on stale versions, idempotency,
and every hard rule refused — no client gets a form that breaks one into the signed state."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any
from unittest.mock import patch

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from enumeration.idempotency import request_fingerprint
from enumeration.identity import mask_name
from enumeration.models import Household, HouseholdState, IdempotencyRecord, Signature
from enumeration.rules.catalogue import ENTRY_RULES, Severity
from enumeration.verification import verify_small_area
from tests.conftest import Cast
from tests.enumeration.factories import HouseholdFactory, family_form, four_person_form, person
from tests.enumeration.test_services_registration import png_data_url

pytestmark = pytest.mark.django_db

Form = tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]


def api_as(user) -> APIClient:  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_authenticate(user)
    return client


def listed(cast: Cast, client: APIClient, **extra: Any) -> dict[str, Any]:
    response = client.post(
        reverse("api-household-list"), {"small_area": cast.area_a1.pk, "head_name": "王伟", **extra}, format="json"
    )
    assert response.status_code == 201, response.json()
    return response.json()


def save(
    client: APIClient,
    household: dict[str, Any],
    data: dict[str, Any],
    persons: list[dict[str, Any]],
    deaths: list[dict[str, Any]] | None = None,
    **extra: Any,
):  # type: ignore[no-untyped-def]
    return client.put(
        reverse("api-household-detail", args=[household["id"]]),
        {"version": household["version"], "household": data, "persons": persons, "deaths": deaths or [], **extra},
        format="json",
    )


def confirm(client: APIClient, household_id: int):  # type: ignore[no-untyped-def]
    return client.post(
        reverse("api-household-confirm", args=[household_id]),
        {"name": "王伟", "relationship": 0, "signature_image": png_data_url()},
        format="json",
    )


def sign(client: APIClient, household_id: int, password: str, **headers: str):  # type: ignore[no-untyped-def]
    return client.post(
        reverse("api-household-sign", args=[household_id]), {"password": password}, format="json", **headers
    )


class TestScope:
    def test_an_enumerator_lists_only_their_households_and_gets_404_for_others(self, cast: Cast) -> None:
        mine = listed(cast, api_as(cast.enumerator_a1))
        other = (
            api_as(cast.enumerator_a2)
            .post(reverse("api-household-list"), {"small_area": cast.area_a2.pk}, format="json")
            .json()
        )
        rows = api_as(cast.enumerator_a1).get(reverse("api-household-list")).json()["results"]
        assert [r["id"] for r in rows] == [mine["id"]]
        assert api_as(cast.enumerator_a1).get(reverse("api-household-detail", args=[other["id"]])).status_code == 404
        assert (
            api_as(cast.enumerator_a1)
            .put(reverse("api-household-detail", args=[other["id"]]), {}, format="json")
            .status_code
            == 404
        )

    def test_an_enumerator_cannot_list_in_someone_elses_small_area(self, cast: Cast) -> None:
        response = api_as(cast.enumerator_a1).post(
            reverse("api-household-list"), {"small_area": cast.area_b1.pk}, format="json"
        )
        assert response.status_code == 404

    def test_a_submission_to_a_small_area_out_of_sight_is_404_and_to_one_in_sight_but_not_assigned_400(
        self, cast: Cast, password: str
    ) -> None:
        """The submission checks the area while locking it; whether a refusal reads "not yours" (400) or "not
        there" (404) depends on whether the caller can see the area at all."""
        data, persons = four_person_form()
        body = {
            "household": data,
            "persons": persons,
            "respondent": {"name": "王伟", "relationship": 0, "signature_image": png_data_url()},
            "password": password,
        }
        submit = reverse("api-household-submit")
        elsewhere = api_as(cast.enumerator_a1).post(submit, {**body, "small_area": cast.area_b1.pk}, format="json")
        missing = api_as(cast.enumerator_a1).post(submit, {**body, "small_area": 10**9}, format="json")
        # The supervisor sees the area (through enumerator_a1) but is not assigned to it: not its registrar.
        seen = api_as(cast.supervisor_a).post(submit, {**body, "small_area": cast.area_a1.pk}, format="json")
        assert (elsewhere.status_code, missing.status_code) == (404, 404)
        assert seen.status_code == 400 and seen.json()["code"] == "not_registrar"
        assert not Household.objects.exists()

    def test_the_list_filters_by_area_and_registrar_without_looking_them_up(
        self, cast: Cast, django_assert_num_queries
    ) -> None:  # type: ignore[no-untyped-def]
        """A filter compares the row's column; naming an area out of sight finds nothing, a malformed id is a
        400 with a message, and the filters cost no query of their own."""
        supervisor = api_as(cast.supervisor_a)
        a1 = [listed(cast, api_as(cast.enumerator_a1))["id"] for _ in range(3)]
        a2 = api_as(cast.enumerator_a2).post(
            reverse("api-household-list"), {"small_area": cast.area_a2.pk}, format="json"
        )
        url = reverse("api-household-list")
        # The request's savepoint and its release (only inside the test's transaction), the supervisor's small
        # areas, the page with its count (census.api.CountedPagination) and the audit event of the names shown.
        with django_assert_num_queries(5):
            rows = supervisor.get(url, {"small_area": cast.area_a1.pk, "registrar": ""}).json()["results"]
        assert [r["id"] for r in rows] == a1
        assert [r["id"] for r in supervisor.get(url, {"village": cast.area_a2.village_id}).json()["results"]] == [
            *a1,
            a2.json()["id"],
        ]
        assert supervisor.get(url, {"small_area": cast.area_b1.pk}).json()["results"] == []
        assert supervisor.get(url, {"township": cast.area_b1.township_id}).json()["results"] == []
        malformed = supervisor.get(url, {"small_area": "one"})
        assert malformed.status_code == 400 and "small_area" in malformed.json()

    def test_pages_carry_their_count_and_a_page_past_the_end_is_404(self, cast: Cast) -> None:
        for number in range(1, 53):
            HouseholdFactory(small_area=cast.area_a1, household_no=number, registrar=cast.enumerator_a1)
        client, url = api_as(cast.enumerator_a1), reverse("api-household-list")
        first = client.get(url).json()
        assert first["count"] == 52 and len(first["results"]) == 50 and first["previous"] is None
        second = client.get(first["next"]).json()
        assert second["count"] == 52 and second["next"] is None and "census_total" not in second["results"][0]
        assert [r["household_no"] for r in [*first["results"], *second["results"]]] == list(range(1, 53))
        assert client.get(url, {"page": "last"}).json()["results"] == second["results"]
        past = client.get(url, {"page": 3})
        assert past.status_code == 404 and past.json()["detail"]
        assert client.get(url, {"page": "0"}).status_code == 404
        assert client.get(url, {"small_area": cast.area_a2.pk}).json() == {
            "count": 0,
            "next": None,
            "previous": None,
            "results": [],
        }

    def test_a_township_office_sees_its_township_masked(self, cast: Cast, password: str) -> None:
        household = listed(cast, api_as(cast.enumerator_a1))
        data, persons = family_form()
        assert save(api_as(cast.enumerator_a1), household, data, persons).status_code == 200
        office = api_as(cast.township_office_a)
        detail = office.get(reverse("api-household-detail", args=[household["id"]])).json()
        assert detail["persons"][0]["d1_name"] == "王*"
        assert "*" in detail["persons"][0]["d3_id_number"]
        assert (
            api_as(cast.township_office_b).get(reverse("api-household-detail", args=[household["id"]])).status_code
            == 404
        )

    def test_a_list_row_is_the_households_summary_masked_for_offices(self, cast: Cast) -> None:
        """List rows are read as column values; they say what the summary of the household itself says."""
        from enumeration.api import household_summary

        created = listed(cast, api_as(cast.enumerator_a1))
        household = Household.objects.select_related("small_area").get(pk=created["id"])
        url = reverse("api-household-list")
        own = api_as(cast.enumerator_a1).get(url).json()["results"]
        office = api_as(cast.township_office_a).get(url, {"small_area": cast.area_a1.pk}).json()["results"]
        expected = json.loads(json.dumps(household_summary(household, True), cls=DjangoJSONEncoder))
        assert own == [expected] == [created]
        assert own[0]["key"] == f"{cast.area_a1.code}{household.household_no:03d}"
        assert office == [{**expected, "head_name_listed": mask_name(household.head_name_listed)}]
        assert office[0]["head_name_listed"] != household.head_name_listed

    @pytest.mark.django_db(transaction=True)
    def test_reads_run_outside_a_transaction_and_writes_inside_one(self, cast: Cast) -> None:
        """census.api.ReadsOutsideTransaction: no BEGIN/COMMIT round trips around a read."""
        from django.db import connection

        from census.permissions import staff_of

        seen: list[tuple[str, bool]] = []

        def staff_noting_the_transaction(request: Any) -> Any:
            seen.append((request.method, connection.in_atomic_block))
            return staff_of(request)

        client = api_as(cast.enumerator_a1)
        with patch("enumeration.api.staff_of", side_effect=staff_noting_the_transaction):
            created = listed(cast, client)
            assert client.get(reverse("api-household-list")).status_code == 200
            assert client.get(reverse("api-household-detail", args=[created["id"]])).status_code == 200
        assert seen[0] == ("POST", True) and len(seen) > 2 and set(seen[1:]) == {("GET", False)}
        assert Household.objects.filter(pk=created["id"]).exists()

    def test_departments_cannot_read_households(self, cast: Cast) -> None:
        assert api_as(cast.department_user).get(reverse("api-household-list")).status_code == 403


class TestWrites:
    def test_the_whole_flow_through_the_api(self, cast: Cast, password: str) -> None:
        client = api_as(cast.enumerator_a1)
        household = listed(cast, client)
        data, persons = family_form()
        saved = save(client, household, data, persons)
        assert saved.status_code == 200 and saved.json()["issues"] == []
        assert confirm(client, household["id"]).status_code == 201
        signed = sign(client, household["id"], password)
        assert signed.status_code == 200 and signed.json()["state"] == "signed"
        supervisor = api_as(cast.supervisor_a)
        returned = supervisor.post(
            reverse("api-household-transition", args=[household["id"]]),
            {"action": "return", "comments": [{"item": "H6", "text": "面积偏大，请核实"}]},
            format="json",
        )
        assert returned.status_code == 200 and returned.json()["state"] == "returned"
        approve_too_early = supervisor.post(
            reverse("api-household-transition", args=[household["id"]]), {"action": "approve"}, format="json"
        )
        assert approve_too_early.status_code == 409
        detail = client.get(reverse("api-household-detail", args=[household["id"]])).json()
        data["h6_floor_area"] = 90
        assert save(client, detail, data, persons).status_code == 200
        assert confirm(client, household["id"]).status_code == 201
        assert sign(client, household["id"], password).json()["state"] == "signed"
        assert (
            supervisor.post(
                reverse("api-household-transition", args=[household["id"]]), {"action": "approve"}, format="json"
            ).json()["state"]
            == "approved"
        )
        versions = client.get(reverse("api-household-versions", args=[household["id"]])).json()
        assert [v["kind"] for v in versions] == ["signed", "signed"]
        assert any(change["field"] == "h6_floor_area" for change in versions[1]["diff"])
        assert verify_small_area(cast.area_a1) == []

    def test_a_stale_version_is_409_and_nothing_changes(self, cast: Cast) -> None:
        client = api_as(cast.enumerator_a1)
        household = listed(cast, client)
        data, persons = family_form()
        assert save(client, household, data, persons).status_code == 200
        stale = save(client, household, {**data, "h7_rooms": 9}, persons)
        assert stale.status_code == 409 and stale.json()["code"] == "stale_version"
        assert Household.objects.get(pk=household["id"]).h7_rooms == 4

    def test_unknown_fields_and_wrong_types_are_refused(self, cast: Cast) -> None:
        client = api_as(cast.enumerator_a1)
        household = listed(cast, client)
        data, persons = family_form()
        assert save(client, household, {**data, "h99": 1}, persons).status_code == 400
        persons[0]["d4_sex"] = "male"
        response = save(client, household, data, persons)
        assert response.status_code == 400 and "persons" in response.json()
        assert Household.objects.get(pk=household["id"]).version == 1

    def test_a_self_reported_form_is_refused_with_the_invitation_path_in_chinese_and_english(
        self, cast: Cast, password: str
    ) -> None:
        """Issue 24: self-reported forms arrive only through an invitation (/self/<code>/), declared by the household
        and verified and signed by its enumerator; the device API says so, in the client's language."""
        client = api_as(cast.enumerator_a1)
        household = listed(cast, client)
        data, persons = family_form()
        submitted, people = four_person_form()
        submit = {
            "small_area": cast.area_a1.pk,
            "head_name": "王伟",
            "household": submitted,
            "persons": people,
            "respondent": {"name": "王伟", "relationship": 0, "signature_image": png_data_url()},
            "password": password,
        }
        requests = {
            "save": lambda: save(client, household, {**data, "collection_mode": "self"}, persons),
            "submit, in the household": lambda: client.post(
                reverse("api-household-submit"),
                {**submit, "household": {**submitted, "collection_mode": "self"}},
                format="json",
            ),
            "submit": lambda: client.post(
                reverse("api-household-submit"), {**submit, "collection_mode": "self"}, format="json"
            ),
            "listing": lambda: client.post(
                reverse("api-household-list"),
                {"small_area": cast.area_a1.pk, "head_name": "李强", "collection_mode": "self"},
                format="json",
            ),
        }
        for name, request in requests.items():
            client.credentials(HTTP_ACCEPT_LANGUAGE="zh-hans")
            chinese = request()
            assert chinese.status_code == 400, (name, chinese.content)
            assert chinese.json().get("code") == "self_report_by_invitation", (name, chinese.json())
            client.credentials(HTTP_ACCEPT_LANGUAGE="en")
            english = request()
            assert english.json()["code"] == "self_report_by_invitation", name
            detail = english.json()["detail"]
            assert detail.startswith("A self-reported form is not sent through the device API"), name
            assert "invitation" in detail and "/self/<code>/" in detail, name
            # The same sentence in the catalogue's Chinese (its translation: locale/pending/resume.json until merged).
            with translation.override("zh-hans"):
                assert chinese.json()["detail"] == translation.gettext(detail), name
            assert "/self/<" in chinese.json()["detail"], name
        client.credentials()
        # Nothing was saved, submitted or listed.
        assert Household.objects.get(pk=household["id"]).version == 1
        assert Household.objects.filter(small_area=cast.area_a1).count() == 1
        # Door to door, said or not, is what a device sends.
        said = save(client, household, {**data, "collection_mode": "in_person"}, persons)
        assert said.status_code == 200, said.content
        assert Household.objects.get(pk=household["id"]).collection_mode == "in_person"
        other = save(client, {**household, "version": 2}, {**data, "collection_mode": "phone"}, persons)
        assert other.status_code == 400 and "household" in other.json()

    def test_a_retried_create_with_the_same_key_creates_one_household(self, cast: Cast) -> None:
        client = api_as(cast.enumerator_a1)
        body = {"small_area": cast.area_a1.pk, "head_name": "王伟"}
        first = client.post(reverse("api-household-list"), body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
        second = client.post(reverse("api-household-list"), body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
        assert first.status_code == second.status_code == 201
        assert first.json() == second.json() and second["Idempotent-Replayed"] == "true"
        assert Household.objects.filter(small_area=cast.area_a1).count() == 1
        other = client.post(
            reverse("api-household-list"), {**body, "head_name": "李"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
        )
        assert other.status_code == 422

    def test_a_key_whose_first_request_is_still_running_gets_409_and_creates_nothing(self, cast: Cast) -> None:
        # What a retry sees while the first request holds the key: its record without an answer yet.
        IdempotencyRecord.objects.create(
            user=cast.enumerator_a1, key="k-2", method="POST", path="/api/households/", request_hash="0" * 64
        )
        body = {"small_area": cast.area_a1.pk, "head_name": "王伟"}
        client = api_as(cast.enumerator_a1)
        retry = client.post(reverse("api-household-list"), body, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
        assert retry.status_code == 422 and not Household.objects.exists()
        assert retry.json()["code"] == "idempotency_key_reused"  # its body differs from the one that holds the key
        IdempotencyRecord.objects.filter(key="k-2").update(
            request_hash=request_fingerprint(method="POST", path="/api/households/", data=body)
        )
        retry = client.post(reverse("api-household-list"), body, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
        assert retry.status_code == 409 and retry.json()["code"] == "in_progress"
        # The same key of another user is that user's own.
        other = api_as(cast.enumerator_a2).post(
            reverse("api-household-list"),
            {"small_area": cast.area_a2.pk, "head_name": "李"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="k-2",
        )
        assert other.status_code == 201

    def test_a_retried_sign_signs_once(self, cast: Cast, password: str) -> None:
        client = api_as(cast.enumerator_a1)
        household = listed(cast, client)
        data, persons = family_form()
        save(client, household, data, persons)
        confirm(client, household["id"])
        first = sign(client, household["id"], password, HTTP_IDEMPOTENCY_KEY="sign-1")
        second = sign(client, household["id"], password, HTTP_IDEMPOTENCY_KEY="sign-1")
        assert first.status_code == second.status_code == 200
        assert Signature.objects.filter(household_id=household["id"]).count() == 1

    def test_a_four_person_household_is_submitted_in_one_request(self, cast: Cast, password: str) -> None:
        data, persons = four_person_form()
        body = {
            "small_area": cast.area_a1.pk,
            "head_name": "王伟",
            "household": data,
            "persons": persons,
            "respondent": {"name": "王伟", "relationship": 0, "signature_image": png_data_url()},
            "password": password,
        }
        response = api_as(cast.enumerator_a1).post(
            reverse("api-household-submit"), body, format="json", HTTP_IDEMPOTENCY_KEY="s-1"
        )
        assert response.status_code == 201 and response.json()["state"] == "signed"
        again = api_as(cast.enumerator_a1).post(
            reverse("api-household-submit"), body, format="json", HTTP_IDEMPOTENCY_KEY="s-1"
        )
        assert again.json()["id"] == response.json()["id"]
        assert Household.objects.filter(small_area=cast.area_a1).count() == 1
        assert verify_small_area(cast.area_a1) == []

    def test_a_submission_that_breaks_a_hard_rule_leaves_nothing_behind(self, cast: Cast, password: str) -> None:
        data, persons = four_person_form()
        persons[3]["d2_relationship"] = 0
        body = {
            "small_area": cast.area_a1.pk,
            "household": data,
            "persons": persons,
            "respondent": {"name": "王伟", "relationship": 0, "signature_image": png_data_url()},
            "password": password,
        }
        response = api_as(cast.enumerator_a1).post(reverse("api-household-submit"), body, format="json")
        assert response.status_code == 400 and response.json()["code"] == "hard_errors"
        assert not Household.objects.exists()


# --- every hard rule is refused on the way to "signed" ----------------------------------------------------


def _long_form(data: dict[str, Any], persons: list[dict[str, Any]]) -> None:
    data.update(
        {
            "h8_storeys": 2,
            "h9_structure": 1,
            "h10_year_built": 7,
            "h11_lift": 2,
            "h12_cooking_fuel": 1,
            "h13_piped_water": 1,
            "h14_kitchen": 1,
            "h15_toilet": 1,
            "h16_bathing": 2,
            "h17_tenure": 7,
            "h19_car_value": 1,
        }
    )
    for p in persons:
        p.update({"c12_land_right": 2, "c13_birthplace": 1, "c14_residence_5y": 1, "c23_livelihood": 1})
    persons[0].update(
        {
            "c16_school_status": 2,
            "c18_work": 1,
            "c18_hours": 44,
            "c19_unit_type": 1,
            "c20_industry": "酒厂",
            "c21_occupation": "酿酒工",
            "c24_marital": 2,
            "c25_first_marriage_year": 2005,
            "c25_first_marriage_month": 6,
        }
    )
    persons[1].update(
        {
            "c16_school_status": 2,
            "c18_work": 3,
            "c22_not_working_reason": 3,
            "c24_marital": 2,
            "c25_first_marriage_year": 2005,
            "c25_first_marriage_month": 6,
            "c26_born_male": 1,
            "c26_born_female": 0,
            "c26_alive_male": 1,
            "c26_alive_female": 0,
            "c27_birth_last_year": 1,
        }
    )
    persons[2].update({"c16_school_status": 1, "c23_livelihood": 6})


Breaker = Callable[[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]], None]
LONG = "long form"
ALL_DEAD = "household 999"

BREAKERS: dict[str, tuple[str, Breaker]] = {
    "ITEM_MISSING": ("", lambda h, p, d: p[0].update(d6_ethnicity="")),
    "ITEM_NOT_ASKED": ("", lambda h, p, d: p[2].update(d12_literate=1)),
    "CODE_INVALID": ("", lambda h, p, d: p[0].update(d7_residence_county="123456", d7_residence=5)),
    "ID_FORMAT": ("", lambda h, p, d: p[0].update(d3_id_number="5115211980051200")),
    "ID_CHECKSUM": (
        "",
        lambda h, p, d: p[0].update(
            d3_id_number=p[0]["d3_id_number"][:17] + ("0" if p[0]["d3_id_number"][17] != "0" else "1")
        ),
    ),
    "ID_BIRTH_DATE_INVALID": (
        "",
        lambda h, p, d: p[0].update(
            d3_id_number=_with_check(p[0]["d3_id_number"][:12] + "32" + p[0]["d3_id_number"][14:17])
        ),
    ),
    "ID_BIRTH_MISMATCH": ("", lambda h, p, d: p[0].update(d5_birth_month=6)),
    "ID_SEX_MISMATCH": ("", lambda h, p, d: p[2].update(d3_id_number=_with_check(p[2]["d3_id_number"][:14] + "998"))),
    "ID_DUPLICATE_IN_HOUSEHOLD": ("", lambda h, p, d: p[1].update(d3_id_number=p[0]["d3_id_number"])),
    "BIRTH_AFTER_REFERENCE": (
        "",
        lambda h, p, d: p[2].update(d5_birth_year=2020, d5_birth_month=12, d3_id_number="", d11_education=None),
    ),
    "HEAD_NOT_FIRST": ("", lambda h, p, d: (p[0].update(row_no=2), p[1].update(row_no=1))),
    "HEAD_NOT_UNIQUE": ("", lambda h, p, d: p[2].update(d2_relationship=0)),
    "PERSON_COUNT_MISMATCH": ("", lambda h, p, d: h.update(h2_present=2)),
    "DEATHS_MISMATCH": ("", lambda h, p, d: h.update(h4_deaths_male=1)),
    "DEATH_BEFORE_BIRTH": (
        "",
        lambda h, p, d: (
            h.update(h4_deaths_male=1),
            d.append(
                {
                    "row_no": 1,
                    "name": "王某",
                    "sex": 1,
                    "birth_year": 2020,
                    "birth_month": 10,
                    "death_year": 2019,
                    "death_month": 12,
                    "ethnicity": "01",
                }
            ),
        ),
    ),
    "ALL_DEAD_HOUSEHOLD": (ALL_DEAD, lambda h, p, d: h.update(h1_kind=1)),
    "HOUSING_NOT_ASKED": ("", lambda h, p, d: h.update(h5_residence_type=2)),
    "HOUSING_MISSING": ("", lambda h, p, d: h.update(h7_rooms=None)),
    "SPOUSE_MULTIPLE": (
        "",
        lambda h, p, d: (
            p.append(person(4, "赵敏", 1, 2, 1983, 2, education=4, literate=1, sequence=66)) or h.update(h2_present=4)
        ),
    ),
    "SPOUSE_UNDER_15": ("", lambda h, p, d: (p[1].update(d2_relationship=2), p[2].update(d2_relationship=1))),
    "AWAY_LONGER_THAN_AGE": (
        "",
        lambda h, p, d: p[2].update(d5_birth_year=2014, d3_id_number="", d9_away_duration=9, d10_away_reason=3),
    ),
    "MARRIED_UNDER_15": (LONG, lambda h, p, d: p[2].update(c24_marital=2)),
    "FIRST_MARRIAGE_DATE": (LONG, lambda h, p, d: p[0].update(c25_first_marriage_year=1990)),
    "CHILDREN_ALIVE_EXCEEDS_BORN": (LONG, lambda h, p, d: p[1].update(c26_alive_male=2)),
    "FERTILITY_NOT_WOMAN": (LONG, lambda h, p, d: p[0].update(c27_birth_last_year=1)),
    "HOURS_RANGE": (LONG, lambda h, p, d: p[0].update(c18_hours=99)),
    "RENT_NOT_ASKED": (LONG, lambda h, p, d: h.update(h18_rent=2)),
}


def _with_check(first17: str) -> str:
    from enumeration.identity import check_character

    return first17 + check_character(first17)


def test_every_hard_rule_has_a_breaker_here() -> None:
    hard = {rule.code for rule in ENTRY_RULES if rule.severity is Severity.HARD}
    assert hard == set(BREAKERS)


@pytest.mark.parametrize("code", sorted(BREAKERS))
def test_a_form_breaking_a_hard_rule_never_gets_signed(cast: Cast, password: str, code: str) -> None:
    kind, breaker = BREAKERS[code]
    client = api_as(cast.enumerator_a1)
    household = listed(cast, client, all_members_died=(kind == ALL_DEAD))
    if kind == LONG:
        Household.objects.filter(pk=household["id"]).update(in_long_form_sample=True)
    data, persons = family_form()
    deaths: list[dict[str, Any]] = []
    if kind == LONG:
        _long_form(data, persons)
    if kind == ALL_DEAD:
        data, persons = {"h4_deaths_male": 1, "h4_deaths_female": 0}, []
        deaths = [
            {
                "row_no": 1,
                "name": "张某",
                "sex": 1,
                "birth_year": 1940,
                "birth_month": 3,
                "death_year": 2020,
                "death_month": 4,
                "ethnicity": "01",
                "education": 3,
                "marital": 4,
            }
        ]
    clean = (copy.deepcopy(data), copy.deepcopy(persons), copy.deepcopy(deaths))
    breaker(data, persons, deaths)
    assert (data, persons, deaths) != clean, "the breaker changed nothing"
    saved = save(client, household, data, persons, deaths)
    if saved.status_code == 400:
        refused_at = "save"  # refused by the API's field checks or the database constraints
    else:
        assert saved.status_code == 200, saved.json()
        assert code in {issue["code"] for issue in saved.json()["issues"]}
        confirm(client, household["id"])
        signed = sign(client, household["id"], password)
        assert signed.status_code == 400, signed.json()
        assert signed.json()["code"] == "hard_errors"
        assert code in {issue["code"] for issue in signed.json()["issues"]}
        refused_at = "sign"
    assert refused_at in ("save", "sign")
    assert Household.objects.get(pk=household["id"]).state in (HouseholdState.LISTED, HouseholdState.DRAFT)
    assert not Signature.objects.filter(household_id=household["id"]).exists()
