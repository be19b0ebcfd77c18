"""The household form pages: the phone form, autosave (409 on a stale version, nothing half-saved), the
read-back with notes on warnings, the respondent's confirmation and the registrar's signature."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from census.models import AuditAction, AuditEvent
from enumeration.models import Household, HouseholdState, HouseholdVersion, RespondentConfirmation
from enumeration.services import household_list, household_return, household_save, respondent_confirm
from tests.conftest import Cast
from tests.enumeration.factories import family_form
from tests.enumeration.test_services_registration import png_data_url, register

pytestmark = pytest.mark.django_db


def autosave(client: Client, target: Household, version: int, **payload: Any):  # type: ignore[no-untyped-def]
    return client.post(
        reverse("enumeration:household-autosave", args=[target.pk]),
        data=json.dumps({"version": version, **payload}),
        content_type="application/json",
    )


def listed(cast: Cast, **extra: Any) -> Household:
    return household_list(
        small_area=cast.area_a1, actor=cast.enumerator_a1, head_name="王伟", expected_persons=3, **extra
    )


def drafted(cast: Cast, *, rooms: int = 4) -> Household:
    """A complete draft of the clean family household, not yet confirmed or signed."""
    household = listed(cast)
    data, persons = family_form()
    data["h7_rooms"] = rooms
    return household_save(
        household=household, actor=cast.enumerator_a1, expected_version=household.version, data=data, persons=persons
    )


class TestFormPage:
    def test_the_registrar_gets_the_phone_form_with_item_codes_and_the_form_as_json(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        household = drafted(cast)
        response = login(cast.enumerator_a1).get(reverse("enumeration:household-form", args=[household.pk]))
        assert response.status_code == 200
        html = response.content.decode()
        assert "D5 出生年月" in html and "H1 户别" in html and "D12 是否识字" in html
        assert 'inputmode="numeric"' in html
        assert 'id="household-form-data"' in html and "enumeration-form.js" in html
        data = response.context["data"]
        assert data["version"] == household.version
        assert [p["d1_name"] for p in data["persons"]] == ["王伟", "李芳", "王小明"]
        # Long-form items are not offered to a household outside the sample.
        assert "C24 婚姻状况" not in html

    def test_a_sampled_household_gets_the_long_form_items(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        household = drafted(cast)
        Household.objects.filter(pk=household.pk).update(in_long_form_sample=True)
        html = login(cast.enumerator_a1).get(reverse("enumeration:household-form", args=[household.pk])).content
        assert "C24 婚姻状况" in html.decode() and "H19 拥有全部家用汽车的总价" in html.decode()

    def test_viewing_the_form_is_audited_as_a_view_of_personal_data(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        household = drafted(cast)
        login(cast.enumerator_a1).get(reverse("enumeration:household-form", args=[household.pk]))
        event = AuditEvent.objects.get(action=AuditAction.VIEW_PERSONAL_DATA, object_id=str(household.pk))
        assert event.actor_username == cast.enumerator_a1.username

    def test_another_enumerator_gets_404_and_a_supervisor_is_sent_to_the_review_page(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        household = drafted(cast)
        url = reverse("enumeration:household-form", args=[household.pk])
        assert login(cast.enumerator_a2).get(url).status_code == 404
        response = login(cast.supervisor_a).get(url)
        assert response.status_code == 302
        assert response["Location"] == reverse("enumeration:household-detail", args=[household.pk])

    def test_offices_may_not_open_the_form(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        household = drafted(cast)
        url = reverse("enumeration:household-form", args=[household.pk])
        assert login(cast.township_office_a).get(url).status_code == 403
        assert Client().get(url).status_code == 302


class TestAutosave:
    def test_a_save_returns_the_new_version_and_the_rules_issues(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        household = listed(cast)
        data, persons = family_form()
        data["h7_rooms"] = 16
        response = autosave(login(cast.enumerator_a1), household, 1, household=data, persons=persons)
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["ok"] and body["version"] == 2 and body["state"] == HouseholdState.DRAFT
        assert [(i["code"], i["severity"]) for i in body["issues"]] == [("ROOMS_HIGH", "warning")]
        assert body["issues"][0]["location"] == "H7 本户现住房间数"
        household.refresh_from_db()
        assert household.h7_rooms == 16 and household.persons.count() == 3

    def test_a_stale_version_is_409_and_overwrites_nothing(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        household = drafted(cast)
        client = login(cast.enumerator_a1)
        data, persons = family_form()
        data["h6_floor_area"] = 50
        response = autosave(client, household, household.version - 1, household=data, persons=persons)
        assert response.status_code == 409
        assert response.json()["code"] == "stale_version"
        assert response.json()["current_version"] == household.version
        household.refresh_from_db()
        assert household.h6_floor_area == 96

    def test_an_unreadable_item_refuses_the_whole_save_with_a_chinese_message(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        household = drafted(cast)
        data, persons = family_form()
        data["h6_floor_area"] = 70
        persons[1]["d4_sex"] = 7
        response = autosave(login(cast.enumerator_a1), household, household.version, household=data, persons=persons)
        assert response.status_code == 400
        errors = response.json()["errors"]
        assert errors[0]["key"] == "persons[1].d4_sex"
        assert errors[0]["label"] == "第2人 · D4 性别"
        assert "选择一个有效的选项" in errors[0]["messages"][0]
        household.refresh_from_db()
        assert household.h6_floor_area == 96 and household.version == 2

    def test_a_constraint_the_model_enforces_is_refused_and_nothing_is_half_saved(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        household = drafted(cast)
        data, persons = family_form()
        data["h5_residence_type"] = 2  # H6/H7 must then be empty
        persons.append({"d1_name": "新人"})
        response = autosave(login(cast.enumerator_a1), household, household.version, household=data, persons=persons)
        assert response.status_code == 400
        household.refresh_from_db()
        assert household.h5_residence_type == 1 and household.persons.count() == 3

    def test_leaving_the_persons_out_keeps_them(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        household = drafted(cast)
        response = autosave(login(cast.enumerator_a1), household, household.version, household={"h7_rooms": 5})
        assert response.status_code == 200
        household.refresh_from_db()
        assert household.h7_rooms == 5 and household.persons.count() == 3

    def test_an_ethnic_group_typed_by_name_is_stored_as_its_code(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        household = listed(cast)
        response = autosave(
            login(cast.enumerator_a1), household, 1, household={"h1_kind": 1}, persons=[{"d6_ethnicity": "彝族"}]
        )
        assert response.status_code == 200
        assert household.persons.get().d6_ethnicity == "07"
        bad = autosave(login(cast.enumerator_a1), household, 2, household={}, persons=[{"d6_ethnicity": "火星族"}])
        assert bad.status_code == 400 and "火星族" in bad.json()["errors"][0]["messages"][0]

    def test_the_place_in_the_form_is_saved_with_it_and_given_back_to_the_page(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        """Issue 21, item 9: the draft reopens where the enumerator was (the page's script reads ``position``)."""
        household = drafted(cast)
        client = login(cast.enumerator_a1)
        data, persons = family_form()
        response = autosave(client, household, household.version, household=data, persons=persons, position="persons-3")
        assert response.status_code == 200, response.content
        household.refresh_from_db()
        assert household.form_position == "persons-3"
        page = client.get(reverse("enumeration:household-form", args=[household.pk]))
        assert page.context["data"]["position"] == "persons-3"
        # A save without a place (the device API, an old phone's outbox) leaves the place as it was.
        assert autosave(client, household, household.version, household=data, persons=persons).status_code == 200
        household.refresh_from_db()
        assert household.form_position == "persons-3"
        # Only a step, or a person's row 1–200, is a place; nothing is saved with anything else.
        for bad in ("persons-0", "persons-201", "summary", "<b>", ["deaths"], 3):
            refused = autosave(client, household, household.version, household=data, persons=persons, position=bad)
            assert refused.status_code == 400, (bad, refused.content)
        household.refresh_from_db()
        assert household.form_position == "persons-3" and household.version == 4  # the two saves above only

    def test_only_the_registrar_saves(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        household = drafted(cast)
        assert autosave(login(cast.supervisor_a), household, household.version, household={}).status_code == 403
        assert autosave(login(cast.enumerator_b1), household, household.version, household={}).status_code == 404

    def test_damaged_requests_are_refused(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        household = drafted(cast)
        client = login(cast.enumerator_a1)
        url = reverse("enumeration:household-autosave", args=[household.pk])
        assert client.post(url, data="{not json", content_type="application/json").status_code == 400
        assert autosave(client, household, "2", household={}).status_code == 400  # type: ignore[arg-type]
        assert autosave(client, household, household.version, household={"x_field": 1}).status_code == 400
        assert client.get(url).status_code == 405

    def test_changing_a_signed_form_needs_a_reason_and_keeps_a_version_with_the_diff(
        self, cast: Cast, login, password: str
    ) -> None:  # type: ignore[no-untyped-def]
        household = register(cast, password)
        client = login(cast.enumerator_a1)
        data, persons = family_form()
        persons[2]["d1_name"] = "王晓明"
        refused = autosave(client, household, household.version, household=data, persons=persons)
        assert refused.status_code == 400
        assert Household.objects.get(pk=household.pk).state == HouseholdState.SIGNED
        saved = autosave(client, household, household.version, household=data, persons=persons, reason="户主更正姓名")
        assert saved.status_code == 200 and saved.json()["state"] == HouseholdState.DRAFT
        version = HouseholdVersion.objects.get(household=household, kind="changed")
        assert version.reason == "户主更正姓名"


class TestSummary:
    def test_the_read_back_says_everything_in_words_with_warnings_to_note(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        household = drafted(cast, rooms=16)
        response = login(cast.enumerator_a1).get(reverse("enumeration:household-summary", args=[household.pk]))
        assert response.status_code == 200
        html = response.content.decode()
        for text in ("H5 住所类型", "1 普通住宅", "96 平方米", "D2 与户主关系", "1980年05月", "汉族", "1 男", "初中"):
            assert text in html, text
        assert "住房间数 16 超过15间。" in html
        assert 'name="note__ROOMS_HIGH"' in html
        assert response.context["ready_to_sign"] is False

    def test_notes_are_saved_against_the_warning(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        household = drafted(cast, rooms=16)
        client = login(cast.enumerator_a1)
        url = reverse("enumeration:household-notes", args=[household.pk])
        response = client.post(url, {"version": household.version, "note__ROOMS_HIGH": "祖宅，确有16间"})
        assert response.status_code == 302
        household.refresh_from_db()
        assert household.warning_notes == {"ROOMS_HIGH": "祖宅，确有16间"}
        assert household.persons.count() == 3
        stale = client.post(url, {"version": household.version - 1, "note__ROOMS_HIGH": "改"})
        assert stale.status_code == 400
        assert "表在此页打开后已被修改" in stale.content.decode()

    def test_the_respondent_signs_on_the_screen_or_refuses_with_a_reason(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        household = drafted(cast)
        client = login(cast.enumerator_a1)
        url = reverse("enumeration:household-confirm", args=[household.pk])
        empty = client.post(url, {"version": household.version, "name": "王伟", "relationship": 0})
        assert empty.status_code == 400 and "申报人还没有在签名框内签字" in empty.content.decode()
        no_reason = client.post(url, {"version": household.version, "name": "王伟", "relationship": 0, "refused": "on"})
        assert no_reason.status_code == 400 and "记录申报人拒绝签字的原因" in no_reason.content.decode()
        assert not RespondentConfirmation.objects.exists()
        signed = client.post(
            url, {"version": household.version, "name": "王伟", "relationship": 0, "signature_image": png_data_url()}
        )
        assert signed.status_code == 302
        confirmation = RespondentConfirmation.objects.get()
        assert confirmation.household_version == household.version and len(confirmation.signature_sha256) == 64

    def test_a_fake_signature_image_is_refused(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        household = drafted(cast)
        response = login(cast.enumerator_a1).post(
            reverse("enumeration:household-confirm", args=[household.pk]),
            {
                "version": household.version,
                "name": "王伟",
                "relationship": 0,
                "signature_image": "data:image/png;base64,AAAA",
            },
        )
        assert response.status_code == 400 and not RespondentConfirmation.objects.exists()

    def test_signing_with_a_wrong_password_or_errors_signs_nothing(self, cast: Cast, login, password: str) -> None:  # type: ignore[no-untyped-def]
        household = drafted(cast)
        client = login(cast.enumerator_a1)
        url = reverse("enumeration:household-sign", args=[household.pk])
        unconfirmed = client.post(url, {"version": household.version, "password": password})
        assert unconfirmed.status_code == 400 and "申报人尚未确认" in unconfirmed.content.decode()
        respondent_confirm(
            household=household, actor=cast.enumerator_a1, name="王伟", relationship=0, signature_image=png_data_url()
        )
        wrong = client.post(url, {"version": household.version, "password": "not-my-password"})
        assert wrong.status_code == 400 and "密码不正确" in wrong.content.decode()
        assert Household.objects.get(pk=household.pk).state == HouseholdState.DRAFT

    def test_a_hard_error_blocks_signing_and_is_listed(self, cast: Cast, login, password: str) -> None:  # type: ignore[no-untyped-def]
        household = listed(cast)
        data, persons = family_form()
        persons[0]["d4_sex"] = 2  # the ID number says male
        household = household_save(
            household=household, actor=cast.enumerator_a1, expected_version=1, data=data, persons=persons
        )
        respondent_confirm(
            household=household, actor=cast.enumerator_a1, name="王伟", relationship=0, signature_image=png_data_url()
        )
        response = login(cast.enumerator_a1).post(
            reverse("enumeration:household-sign", args=[household.pk]),
            {"version": household.version, "password": password},
        )
        assert response.status_code == 400
        html = response.content.decode()
        assert "第1人 · D4 性别：公民身份号码第17位表示的性别与D4性别不一致。" in html
        assert Household.objects.get(pk=household.pk).state == HouseholdState.DRAFT

    def test_a_confirmed_clean_form_is_signed_and_the_enumerator_goes_back_to_the_listing(
        self, cast: Cast, login, password: str
    ) -> None:  # type: ignore[no-untyped-def]
        household = register(cast, password, sign=False)
        response = login(cast.enumerator_a1).post(
            reverse("enumeration:household-sign", args=[household.pk]),
            {"version": household.version, "password": password},
        )
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("enumeration:area-listing", args=[cast.area_a1.pk]))
        assert Household.objects.get(pk=household.pk).state == HouseholdState.SIGNED

    def test_a_returned_form_shows_the_supervisors_comments(self, cast: Cast, login, password: str) -> None:  # type: ignore[no-untyped-def]
        household = register(cast, password)
        household_return(household=household, actor=cast.supervisor_a, comments=[("D5@2", "请核实出生年月")])
        client = login(cast.enumerator_a1)
        html = client.get(reverse("enumeration:household-summary", args=[household.pk])).content.decode()
        assert "第2人 · D5 出生年月" in html and "请核实出生年月" in html
        form = client.get(reverse("enumeration:household-form", args=[household.pk]))
        assert form.context["data"]["comments"] == [{"item": "D5@2", "text": "请核实出生年月"}]


def test_a_sampled_household_is_opened_for_the_long_form_by_its_registrar(cast: Cast, login, password: str) -> None:  # type: ignore[no-untyped-def]
    household = register(cast, password)
    Household.objects.filter(pk=household.pk).update(in_long_form_sample=True)
    url = reverse("enumeration:household-long-form", args=[household.pk])
    assert login(cast.enumerator_a2).post(url).status_code == 404
    response = login(cast.enumerator_a1).post(url)
    assert response["Location"] == reverse("enumeration:household-form", args=[household.pk])
    assert Household.objects.get(pk=household.pk).state == HouseholdState.RETURNED


class TestExpiredLogin:
    """Issue 19: a script's request whose login ended is answered 401 in JSON, never with the login page (which
    reached the form as a 200 it took for "saved")."""

    def test_autosave_without_a_login_is_a_json_401_not_the_login_page(self, cast: Cast) -> None:
        household = listed(cast)
        response = Client().post(
            reverse("enumeration:household-autosave", args=[household.pk]),
            data=json.dumps({"version": household.version, "household": {"h2_present": 4}}),
            content_type="application/json",
            HTTP_ACCEPT="application/json",
        )
        assert response.status_code == 401
        assert response["Content-Type"] == "application/json"
        body = response.json()
        assert body["ok"] is False and body["code"] == "not_authenticated"
        assert body["login_url"] == reverse("login")
        household.refresh_from_db()
        assert household.h2_present is None

    def test_a_page_opened_without_a_login_still_goes_to_the_login_page(self, cast: Cast) -> None:
        household = listed(cast)
        url = reverse("enumeration:household-form", args=[household.pk])
        response = Client().get(url, HTTP_ACCEPT="text/html,application/xhtml+xml,application/json;q=0.9")
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('login')}?next={url}"

    def test_the_outbox_page_frames_the_phones_list(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        response = login(cast.enumerator_a1).get(reverse("enumeration:outbox"))
        assert response.status_code == 200
        html = response.content.decode()
        assert "data-outbox-list" in html and "js/offline.js" in html and "js/outbox.js" in html


class TestOutboxRetries:
    """The phone's outbox sends each version of a household once under its own Idempotency-Key: a retry whose
    first answer was lost gets that answer again, not a 409 for the version the first request moved on."""

    def test_a_retry_with_the_same_key_is_answered_with_the_first_answer_and_saves_once(
        self, cast: Cast, login
    ) -> None:  # type: ignore[no-untyped-def]
        household = listed(cast)
        client = login(cast.enumerator_a1)
        body = json.dumps({"version": household.version, "household": {"h1_kind": 1, "h2_present": 2}, "persons": []})
        url = reverse("enumeration:household-autosave", args=[household.pk])
        first = client.post(url, data=body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="rec-1-1")
        again = client.post(url, data=body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="rec-1-1")
        assert first.status_code == again.status_code == 200
        assert again["Idempotent-Replayed"] == "true"
        assert again.json()["version"] == first.json()["version"] == household.version + 1
        household.refresh_from_db()
        assert household.version == first.json()["version"]  # saved once: one version more, not two
        # The same key with another body is a client's mistake, not a replay.
        other = json.dumps({"version": household.version, "household": {"h2_present": 3}, "persons": []})
        reused = client.post(url, data=other, content_type="application/json", HTTP_IDEMPOTENCY_KEY="rec-1-1")
        assert reused.status_code == 422
        # Without the key, the stale version is what it always was: a 409.
        stale = client.post(url, data=body, content_type="application/json")
        assert stale.status_code == 409


class TestServiceWorker:
    def test_the_service_worker_is_served_from_the_root_for_the_enumerators_pages(self) -> None:
        response = Client().get("/sw.js")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/javascript")
        assert response["Service-Worker-Allowed"] == "/"
        text = response.content.decode()
        assert "vendor/workbox/workbox-sw.js" in text and "googleapis" not in text
        # A page kept for the phone is at most a day old (CENSUS_OFFLINE_DAYS is 3 by default).
        assert "var PAGE_MAX_AGE = 86400;" in text

    def test_the_manifest_starts_on_my_small_areas(self) -> None:
        response = Client().get("/manifest.webmanifest")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/manifest+json"
        assert response.json()["start_url"] == reverse("enumeration:my-areas")
