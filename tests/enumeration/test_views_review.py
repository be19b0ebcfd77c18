"""Review pages: the queue with its filters and bulk actions, one form with its history and actions, and the
long-form sample; plus the set-based acceptance (验收) service the township's bulk action uses."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from census.api import ApplicationError
from census.models import AuditAction, AuditEvent
from enumeration.models import Household, HouseholdState, HouseholdTransition, LongFormSample, ReviewComment
from enumeration.services import household_approve, household_save, households_approve
from enumeration.services.review import households_accept
from tests.conftest import Cast
from tests.enumeration.factories import family_form
from tests.enumeration.test_services_registration import register

pytestmark = pytest.mark.django_db


def signed_in(cast: Cast, password: str, n: int, *, area: str = "a1") -> list[Household]:
    """``n`` signed households in small area A1 (enumerator A1) or A2 (enumerator A2)."""
    households = [register(cast, password) for _ in range(n)]
    if area == "a2":
        # Registered by enumerator A2 in small area A2: move them (the cast has one helper, for A1).
        Household.objects.filter(pk__in=[h.pk for h in households]).update(
            small_area=cast.area_a2, registrar=cast.enumerator_a2
        )
    return households


class TestQueue:
    def test_a_supervisor_sees_the_signed_forms_of_the_enumerators_they_oversee(
        self, cast: Cast, login, password: str
    ) -> None:  # type: ignore[no-untyped-def]
        mine = signed_in(cast, password, 2)
        response = login(cast.supervisor_a).get(reverse("enumeration:review-queue"))
        assert response.status_code == 200
        assert {h.pk for h in response.context["rows"]} == {h.pk for h in mine}
        assert response.context["approvable_count"] == 2
        assert login(cast.supervisor_b).get(reverse("enumeration:review-queue")).context["rows"] == []

    def test_filters_small_area_registrar_state_and_warnings(self, cast: Cast, login, password: str) -> None:  # type: ignore[no-untyped-def]
        a1 = signed_in(cast, password, 2)
        a2 = signed_in(cast, password, 1, area="a2")
        Household.objects.filter(pk=a1[0].pk).update(warning_notes={"ROOMS_HIGH": "祖宅"})
        household_approve(household=a1[1], actor=cast.supervisor_a)
        client = login(cast.supervisor_a)
        url = reverse("enumeration:review-queue")

        def pks(**params: str) -> set[int]:
            return {h.pk for h in client.get(url, params).context["rows"]}

        assert pks() == {a1[0].pk, a2[0].pk}  # signed: what waits for a supervisor
        assert pks(state="all") == {a1[0].pk, a1[1].pk, a2[0].pk}
        assert pks(state="approved") == {a1[1].pk}
        assert pks(small_area=str(cast.area_a2.pk)) == {a2[0].pk}
        assert pks(registrar=str(cast.enumerator_a1.pk)) == {a1[0].pk}
        assert pks(has_warnings="yes") == {a1[0].pk}
        assert pks(has_warnings="no") == {a2[0].pk}
        # A small area outside the supervisor's scope is ignored, not obeyed.
        assert pks(small_area=str(cast.area_b1.pk)) == {a1[0].pk, a2[0].pk}

    def test_the_queue_pages_with_a_constant_number_of_queries(
        self, cast: Cast, login, password: str, django_assert_max_num_queries
    ) -> None:  # type: ignore[no-untyped-def]
        signed_in(cast, password, 3)
        client = login(cast.supervisor_a)
        client.get(reverse("enumeration:review-queue"))
        with django_assert_max_num_queries(20):
            small = client.get(reverse("enumeration:review-queue"))
        signed_in(cast, password, 27)
        with django_assert_max_num_queries(20):
            large = client.get(reverse("enumeration:review-queue"))
        assert len(small.context["rows"]) == 3 and len(large.context["rows"]) == 25
        assert large.context["listing"].page.paginator.count == 30

    def test_only_reviewers_have_the_queue(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        url = reverse("enumeration:review-queue")
        assert login(cast.enumerator_a1).get(url).status_code == 403
        assert login(cast.auditor).get(url).status_code == 403
        assert login(cast.township_office_a).get(url).status_code == 200


class TestBulk:
    def test_approve_all_takes_every_page_of_the_filter_after_showing_the_count(
        self, cast: Cast, login, password: str
    ) -> None:  # type: ignore[no-untyped-def]
        a1 = signed_in(cast, password, 27)
        a2 = signed_in(cast, password, 2, area="a2")
        client = login(cast.supervisor_a)
        params = {"small_area": str(cast.area_a1.pk), "state": "signed"}
        queue = client.get(reverse("enumeration:review-queue"), params)
        assert len(queue.context["rows"]) == 25 and queue.context["approvable_count"] == 27
        confirm = client.get(reverse("enumeration:review-approve-all"), params)
        assert confirm.status_code == 200 and confirm.context["count"] == 27
        assert "27" in confirm.content.decode()
        assert Household.objects.filter(state=HouseholdState.APPROVED).count() == 0
        done = client.post(reverse("enumeration:review-approve-all"), params)
        assert done.status_code == 302
        assert set(Household.objects.filter(pk__in=[h.pk for h in a1]).values_list("state", flat=True)) == {"approved"}
        assert set(Household.objects.filter(pk__in=[h.pk for h in a2]).values_list("state", flat=True)) == {"signed"}
        assert HouseholdTransition.objects.filter(to_state="approved", reason="bulk").count() == 27

    def test_the_township_accepts_all_approved_forms_of_the_filter(self, cast: Cast, login, password: str) -> None:  # type: ignore[no-untyped-def]
        signed_in(cast, password, 3)
        households_approve(households=Household.objects.all(), actor=cast.supervisor_a)
        client = login(cast.township_office_a)
        assert client.get(reverse("enumeration:review-accept-all")).context["count"] == 3
        assert client.post(reverse("enumeration:review-accept-all"), {"state": "approved"}).status_code == 302
        assert set(Household.objects.values_list("state", flat=True)) == {"accepted"}
        assert login(cast.supervisor_a).post(reverse("enumeration:review-accept-all")).status_code == 403

    def test_bulk_actions_need_their_roles(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        assert login(cast.enumerator_a1).post(reverse("enumeration:review-approve-all")).status_code == 403
        assert login(cast.district_office).post(reverse("enumeration:review-approve-all")).status_code == 403


class TestDetail:
    def test_the_review_page_shows_the_read_back_notes_and_a_readable_diff(
        self, cast: Cast, login, password: str
    ) -> None:  # type: ignore[no-untyped-def]
        household = register(cast, password)
        data, persons = family_form()
        persons[2]["d1_name"] = "王晓明"
        persons[2]["d4_sex"] = 1
        household_save(
            household=household,
            actor=cast.enumerator_a1,
            expected_version=household.version,
            data=data,
            persons=persons,
            reason="户主更正孩子姓名",
        )
        response = login(cast.supervisor_a).get(reverse("enumeration:household-detail", args=[household.pk]))
        assert response.status_code == 200
        html = response.content.decode()
        assert "户主更正孩子姓名" in html
        changed = [c for version, changes in response.context["versions"] if version.kind == "changed" for c in changes]
        assert {"where": "第3人", "label": "D1 姓名", "before": "王小明", "after": "王晓明"} in changed
        # The new version is not confirmed yet: the respondent's confirmation is part of what changed.
        assert {"where": "申报人", "label": "申报人姓名", "before": "王伟", "after": "—"} in changed
        assert AuditEvent.objects.filter(action=AuditAction.VIEW_PERSONAL_DATA, object_id=str(household.pk)).exists()

    def test_offices_see_names_and_id_numbers_masked(self, cast: Cast, login, password: str) -> None:  # type: ignore[no-untyped-def]
        household = register(cast, password)
        html = (
            login(cast.township_office_a)
            .get(reverse("enumeration:household-detail", args=[household.pk]))
            .content.decode()
        )
        assert "李*" in html and "王**" in html and "李芳" not in html and "王小明" not in html
        number = household.persons.get(row_no=1).d3_id_number
        assert number not in html and f"{number[:4]}**********{number[-4:]}" in html
        assert not AuditEvent.objects.filter(action=AuditAction.VIEW_PERSONAL_DATA).exists()

    def test_objects_outside_the_scope_are_404(self, cast: Cast, login, password: str) -> None:  # type: ignore[no-untyped-def]
        household = register(cast, password)
        url = reverse("enumeration:household-detail", args=[household.pk])
        assert login(cast.supervisor_b).get(url).status_code == 404
        assert login(cast.township_office_b).get(url).status_code == 404
        assert login(cast.enumerator_a2).get(url).status_code == 404
        assert login(cast.department_user).get(url).status_code == 403

    def test_approve_and_return_with_per_item_comments(self, cast: Cast, login, password: str) -> None:  # type: ignore[no-untyped-def]
        household = register(cast, password)
        client = login(cast.supervisor_a)
        page = client.get(reverse("enumeration:household-detail", args=[household.pk]))
        # Grouped as the read-back is (issue 21, item 10): the household's items, then person by person.
        groups = [
            (str(group), dict(options))
            for group, options in page.context["return_form"].fields["item_1"].choices
            if isinstance(options, list)
        ]
        where = {value: (group, str(label)) for group, options in groups for value, label in options.items()}
        assert where["H6"] == ("按户填报项目", "H6 本户现住房建筑面积")
        assert where["D5@2"][0].startswith("第2人") and where["D5@2"][1] == "D5 出生年月"
        assert all(len(options) < 30 for _group, options in groups), [len(o) for _g, o in groups]
        response = client.post(
            reverse("enumeration:household-return", args=[household.pk]),
            {
                "item_1": "H6",
                "text_1": "请核实建筑面积",
                "item_2": "D5@2",
                "text_2": "请核实出生年月",
                "item_3": "",
                "text_3": "",
            },
        )
        assert response.status_code == 302
        assert Household.objects.get(pk=household.pk).state == HouseholdState.RETURNED
        assert set(ReviewComment.objects.values_list("item", "text")) == {
            ("H6", "请核实建筑面积"),
            ("D5@2", "请核实出生年月"),
        }

    def test_a_return_without_comments_changes_nothing_and_says_why_in_chinese(
        self, cast: Cast, login, password: str
    ) -> None:  # type: ignore[no-untyped-def]
        household = register(cast, password)
        client = login(cast.supervisor_a)
        url = reverse("enumeration:household-return", args=[household.pk])
        empty = client.post(url, {"item_1": "", "text_1": ""})
        assert empty.status_code == 400 and "请写明需要更正的项目及原因。" in empty.content.decode()
        half = client.post(url, {"item_1": "H6", "text_1": ""})
        assert half.status_code == 400 and "请写明需要更正的内容。" in half.content.decode()
        assert Household.objects.get(pk=household.pk).state == HouseholdState.SIGNED
        assert not ReviewComment.objects.exists()

    def test_the_supervisor_approves_the_township_accepts_the_district_locks_and_reopens(
        self, cast: Cast, login, password: str
    ) -> None:  # type: ignore[no-untyped-def]
        household = register(cast, password)
        detail = reverse("enumeration:household-detail", args=[household.pk])
        assert (
            login(cast.supervisor_b).post(reverse("enumeration:household-approve", args=[household.pk])).status_code
            == 404
        )
        assert (
            login(cast.supervisor_a).post(reverse("enumeration:household-approve", args=[household.pk])).status_code
            == 302
        )
        # Approving twice is refused with the service's message, and nothing changes.
        again = login(cast.supervisor_a).post(
            reverse("enumeration:household-approve", args=[household.pk]), follow=True
        )
        assert "现在不能进行该操作" in again.content.decode()
        assert (
            login(cast.township_office_a).post(reverse("enumeration:household-accept", args=[household.pk])).status_code
            == 302
        )
        assert (
            login(cast.district_office).post(reverse("enumeration:household-lock", args=[household.pk])).status_code
            == 302
        )
        assert Household.objects.get(pk=household.pk).state == HouseholdState.LOCKED
        reopen = reverse("enumeration:household-reopen", args=[household.pk])
        wrong = login(cast.district_office).post(reopen, {"reason": "抽查发现错误", "password": "nope"})
        assert wrong.status_code == 400 and "密码不正确" in wrong.content.decode()
        assert Household.objects.get(pk=household.pk).state == HouseholdState.LOCKED
        ok = login(cast.district_office).post(reopen, {"reason": "抽查发现错误", "password": password})
        assert ok["Location"] == detail
        assert Household.objects.get(pk=household.pk).state == HouseholdState.RETURNED

    def test_the_actions_offered_follow_the_role_and_the_state(self, cast: Cast, login, password: str) -> None:  # type: ignore[no-untyped-def]
        household = register(cast, password)
        url = reverse("enumeration:household-detail", args=[household.pk])
        supervisor = login(cast.supervisor_a).get(url).context["actions"]
        assert supervisor.approve and supervisor.give_back and not supervisor.accept
        office = login(cast.township_office_a).get(url).context["actions"]
        assert not office.approve and not office.accept
        registrar = login(cast.enumerator_a1).get(url).context["actions"]
        assert not registrar.approve and registrar.edit and registrar.summary


class TestLongFormSample:
    def test_the_district_draws_a_reproducible_sample_once_per_village(self, cast: Cast, login, password: str) -> None:  # type: ignore[no-untyped-def]
        signed_in(cast, password, 12)
        client = login(cast.district_office)
        page = client.get(reverse("enumeration:long-form-samples"))
        rows = {row.village.code: row for row in page.context["rows"]}
        assert rows[cast.village_a.code].frame_size == 12 and rows[cast.village_a.code].sample is None
        url = reverse("enumeration:long-form-sample-draw", args=[cast.village_a.code])
        before = timezone.now()
        assert client.post(url, {"seed": "20201101"}).status_code == 302
        sample = LongFormSample.objects.get(village=cast.village_a)
        assert (sample.seed, sample.interval, sample.frame_size) == (20201101, 10, 12)
        assert Household.objects.filter(in_long_form_sample=True).count() == sample.sample_size
        # The sampled forms now ask the long form: they count as changed (the next incremental check run).
        assert not Household.objects.filter(in_long_form_sample=True, updated_at__lt=before).exists()
        html = client.get(reverse("enumeration:long-form-samples")).content.decode()
        assert "20201101" in html
        again = client.post(url, {"seed": "1"}, follow=True)
        assert "不能重新抽取" in again.content.decode()
        assert LongFormSample.objects.get(village=cast.village_a).seed == 20201101
        detail = client.get(reverse("enumeration:long-form-sample", args=[cast.village_a.code]))
        assert len(detail.context["households"]) == sample.sample_size

    def test_only_the_district_office_draws(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        url = reverse("enumeration:long-form-sample-draw", args=[cast.village_a.code])
        assert login(cast.township_office_a).post(url).status_code == 403
        assert Client().post(url).status_code == 302
        assert not LongFormSample.objects.exists()


class TestAcceptService:
    def test_it_accepts_the_approved_forms_of_the_offices_own_township_only(self, cast: Cast, password: str) -> None:
        a = signed_in(cast, password, 3)
        households_approve(households=Household.objects.all(), actor=cast.supervisor_a)
        Household.objects.filter(pk=a[2].pk).update(state=HouseholdState.SIGNED)
        assert households_accept(households=Household.objects.all(), actor=cast.township_office_b).done == 0
        assert households_accept(households=Household.objects.all(), actor=cast.township_office_a).done == 2
        states = dict(Household.objects.values_list("pk", "state"))
        assert (states[a[0].pk], states[a[1].pk], states[a[2].pk]) == ("accepted", "accepted", "signed")
        assert HouseholdTransition.objects.filter(to_state="accepted", actor=cast.township_office_a).count() == 2

    def test_only_a_township_office_accepts(self, cast: Cast) -> None:
        with pytest.raises(ApplicationError) as excinfo:
            households_accept(households=Household.objects.all(), actor=cast.district_office)
        assert excinfo.value.code == "not_township_office"


def test_a_version_s_changes_name_every_field_and_value_in_words() -> None:
    """Issue 21, item 11: not "collection_mode: in_person", nor a rule code as a note's key."""
    from django.utils import translation

    from enumeration.models import HouseholdVersion
    from enumeration.views.review import readable_diff

    version = HouseholdVersion(
        diff=[
            {"section": "household", "row": None, "field": "collection_mode", "before": "phone", "after": "in_person"},
            {
                "section": "household",
                "row": None,
                "field": "warning_notes",
                "before": None,
                "after": {"CHILD_AGE_GAP@3": "已核实"},
            },
            {"section": "respondent", "row": None, "field": "refused", "before": None, "after": True},
        ]
    )
    with translation.override("zh-hans"):
        rows = readable_diff(version, unmasked=True)
    shown = " ".join(f"{row['label']} {row['before']} {row['after']}" for row in rows)
    for raw in ("collection_mode", "in_person", "warning_notes", "CHILD_AGE_GAP", "refused"):
        assert raw not in shown, f"{raw!r} in {shown}"
    assert rows[0]["label"] == "登记方式" and "入户" in rows[0]["after"] and "电话" in rows[0]["before"]
    assert "已核实" in rows[1]["after"] and "第3人" in rows[1]["after"]
