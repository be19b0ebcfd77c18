"""Registration services: listing, drafts, respondent confirmation, signing, changes after signing, review."""

from __future__ import annotations

import base64
import datetime
import struct
import threading
import zlib
from typing import Any
from unittest.mock import patch

import pytest
from django.core.exceptions import ValidationError

from census.api import ApplicationError, ConflictError
from census.models import AuditEvent
from enumeration.identity import make_id_number
from enumeration.models import (
    Household,
    HouseholdState,
    HouseholdTransition,
    HouseholdVersion,
    Person,
    ReviewComment,
    Signature,
)
from enumeration.services import (
    ConfirmationInput,
    form_values,
    form_values_of,
    household_accept,
    household_approve,
    household_list,
    household_lock,
    household_reopen,
    household_return,
    household_save,
    household_sign,
    household_submit,
    households_approve,
    respondent_confirm,
)
from enumeration.verification import verify_small_area
from tests.conftest import Cast
from tests.enumeration.factories import HouseholdFactory, family_form

pytestmark = pytest.mark.django_db


def png_data_url() -> str:
    """A real 40×20 PNG with a stroke, as signature_pad produces."""
    width, height = 40, 20
    raw = b"".join(b"\x00" + bytes(255 if x == y else 0 for x in range(width)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
    return "data:image/png;base64," + base64.b64encode(png).decode()


def register(cast: Cast, password: str, *, sign: bool = True) -> Household:
    """List, fill, confirm and (optionally) sign a clean household in small area A1."""
    household = household_list(small_area=cast.area_a1, actor=cast.enumerator_a1, head_name="王伟", expected_persons=3)
    data, persons = family_form()
    household = household_save(
        household=household, actor=cast.enumerator_a1, expected_version=household.version, data=data, persons=persons
    )
    respondent_confirm(
        household=household, actor=cast.enumerator_a1, name="王伟", relationship=0, signature_image=png_data_url()
    )
    if sign:
        household = household_sign(household=household, signer=cast.enumerator_a1, password=password)
    return household


class TestListing:
    def test_households_are_numbered_max_plus_one_and_999_is_the_all_dead_household(self, cast: Cast) -> None:
        first = household_list(small_area=cast.area_a1, actor=cast.enumerator_a1, head_name="甲")
        second = household_list(small_area=cast.area_a1, actor=cast.enumerator_a1, head_name="乙")
        dead = household_list(small_area=cast.area_a1, actor=cast.enumerator_a1, all_members_died=True)
        later = household_list(small_area=cast.area_a1, actor=cast.enumerator_a1, head_name="丙")
        assert [first.household_no, second.household_no, dead.household_no, later.household_no] == [1, 2, 999, 3]
        with pytest.raises(ValidationError):
            household_list(small_area=cast.area_a1, actor=cast.enumerator_a1, all_members_died=True)


class TestDrafts:
    def test_a_half_typed_draft_saves_and_the_first_save_makes_the_registrar(self, cast: Cast) -> None:
        household = household_list(small_area=cast.area_a1, actor=cast.enumerator_a1)
        saved = household_save(
            household=household,
            actor=cast.enumerator_a1,
            expected_version=1,
            data={"h1_kind": 1},
            persons=[{"row_no": 1, "d1_name": "王"}],
        )
        assert saved.state == HouseholdState.DRAFT and saved.registrar == cast.enumerator_a1 and saved.version == 2
        assert saved.persons.get().d4_sex is None

    def test_a_stale_version_is_refused_not_merged(self, cast: Cast) -> None:
        household = household_list(small_area=cast.area_a1, actor=cast.enumerator_a1)
        household_save(
            household=household, actor=cast.enumerator_a1, expected_version=1, data={"h1_kind": 1}, persons=[]
        )
        with pytest.raises(ConflictError) as excinfo:
            household_save(
                household=household, actor=cast.enumerator_a1, expected_version=1, data={"h1_kind": 2}, persons=[]
            )
        assert excinfo.value.code == "stale_version"
        assert Household.objects.get(pk=household.pk).h1_kind == 1

    def test_only_the_registrar_changes_the_form(self, cast: Cast) -> None:
        household = household_list(small_area=cast.area_a1, actor=cast.enumerator_a1)
        household_save(household=household, actor=cast.enumerator_a1, expected_version=1, data={}, persons=[])
        with pytest.raises(ApplicationError):
            household_save(household=household, actor=cast.supervisor_a, expected_version=2, data={}, persons=[])

    def test_an_enumerator_of_another_small_area_cannot_start_it(self, cast: Cast) -> None:
        household = household_list(small_area=cast.area_a1, actor=cast.enumerator_a1)
        with pytest.raises(ApplicationError):
            household_save(household=household, actor=cast.enumerator_a2, expected_version=1, data={}, persons=[])

    def test_bad_values_are_refused_and_nothing_is_half_saved(self, cast: Cast) -> None:
        household = household_list(small_area=cast.area_a1, actor=cast.enumerator_a1)
        with pytest.raises(ValidationError):
            household_save(
                household=household,
                actor=cast.enumerator_a1,
                expected_version=1,
                data={"h1_kind": 1},
                persons=[{"row_no": 1, "d1_name": "王"}, {"row_no": 2, "d4_sex": 7}],
            )
        household.refresh_from_db()
        assert household.version == 1 and household.state == HouseholdState.LISTED and not household.persons.exists()


class TestSigning:
    def test_the_registrar_signs_with_the_password_and_the_ledger_verifies(self, cast: Cast, password: str) -> None:
        household = register(cast, password)
        assert household.state == HouseholdState.SIGNED and household.current_signature.seq == 1
        assert verify_small_area(cast.area_a1) == []
        assert HouseholdVersion.objects.get(household=household).kind == "signed"

    def test_a_wrong_password_does_not_sign(self, cast: Cast) -> None:
        household = register(cast, "", sign=False)
        with pytest.raises(ApplicationError) as excinfo:
            household_sign(household=household, signer=cast.enumerator_a1, password="not-it")
        assert excinfo.value.code == "bad_password"

    def test_repeated_wrong_passwords_pause_signing(self, cast: Cast, password: str) -> None:
        household = register(cast, password, sign=False)
        for _ in range(5):
            with pytest.raises(ApplicationError) as excinfo:
                household_sign(household=household, signer=cast.enumerator_a1, password="guess")
            assert excinfo.value.code == "bad_password"
        with pytest.raises(ApplicationError) as excinfo:
            household_sign(household=household, signer=cast.enumerator_a1, password=password)
        assert excinfo.value.code == "signing_locked"

    def test_someone_else_cannot_sign(self, cast: Cast, password: str) -> None:
        household = register(cast, password, sign=False)
        with pytest.raises(ApplicationError) as excinfo:
            household_sign(household=household, signer=cast.supervisor_a, password=password)
        assert excinfo.value.code == "not_registrar"

    def test_a_hard_error_blocks_signing(self, cast: Cast, password: str) -> None:
        household = register(cast, password, sign=False)
        data, persons = family_form()
        persons[0]["d4_sex"] = 2  # the ID number says male
        household = household_save(
            household=household,
            actor=cast.enumerator_a1,
            expected_version=household.version,
            data=data,
            persons=persons,
        )
        respondent_confirm(
            household=household, actor=cast.enumerator_a1, name="王伟", relationship=0, signature_image=png_data_url()
        )
        with pytest.raises(ApplicationError) as excinfo:
            household_sign(household=household, signer=cast.enumerator_a1, password=password)
        assert excinfo.value.code == "hard_errors"
        assert {i["code"] for i in excinfo.value.extra["issues"]} >= {"ID_SEX_MISMATCH"}
        assert Household.objects.get(pk=household.pk).state == HouseholdState.DRAFT

    def test_a_warning_needs_a_note(self, cast: Cast, password: str) -> None:
        household = register(cast, password, sign=False)
        data, persons = family_form()
        data["h7_rooms"] = 16
        household = household_save(
            household=household,
            actor=cast.enumerator_a1,
            expected_version=household.version,
            data=data,
            persons=persons,
        )
        respondent_confirm(
            household=household, actor=cast.enumerator_a1, name="王伟", relationship=0, signature_image=png_data_url()
        )
        with pytest.raises(ApplicationError) as excinfo:
            household_sign(household=household, signer=cast.enumerator_a1, password=password)
        assert excinfo.value.code == "warnings_need_notes"
        data["warning_notes"] = {"ROOMS_HIGH": "祖传老宅，共16间"}
        household = household_save(
            household=household,
            actor=cast.enumerator_a1,
            expected_version=household.version,
            data=data,
            persons=persons,
        )
        respondent_confirm(
            household=household, actor=cast.enumerator_a1, name="王伟", relationship=0, signature_image=png_data_url()
        )
        assert (
            household_sign(household=household, signer=cast.enumerator_a1, password=password).state
            == HouseholdState.SIGNED
        )

    def test_the_respondent_must_confirm_the_version_that_is_signed(self, cast: Cast, password: str) -> None:
        household = register(cast, password, sign=False)
        data, persons = family_form()
        household = household_save(
            household=household,
            actor=cast.enumerator_a1,
            expected_version=household.version,
            data=data,
            persons=persons,
        )
        with pytest.raises(ApplicationError) as excinfo:
            household_sign(household=household, signer=cast.enumerator_a1, password=password)
        assert excinfo.value.code == "respondent_not_confirmed"

    def test_a_refusal_with_its_reason_replaces_the_drawn_signature(self, cast: Cast, password: str) -> None:
        household = register(cast, password, sign=False)
        with pytest.raises(ValidationError):
            respondent_confirm(household=household, actor=cast.enumerator_a1, name="王伟", relationship=0, refused=True)
        respondent_confirm(
            household=household,
            actor=cast.enumerator_a1,
            name="王伟",
            relationship=0,
            refused=True,
            refusal_reason="户主拒绝签字，口头确认",
        )
        assert (
            household_sign(household=household, signer=cast.enumerator_a1, password=password).state
            == HouseholdState.SIGNED
        )

    def test_a_fake_signature_image_is_refused(self, cast: Cast, password: str) -> None:
        household = register(cast, password, sign=False)
        with pytest.raises(ValidationError):
            respondent_confirm(
                household=household,
                actor=cast.enumerator_a1,
                name="王伟",
                relationship=0,
                signature_image="data:image/png;base64," + base64.b64encode(b"<script>").decode(),
            )


class TestChangeAfterSigning:
    def test_it_needs_a_reason_voids_the_signature_and_keeps_a_diff(self, cast: Cast, password: str) -> None:
        household = register(cast, password)
        data, persons = family_form()
        persons[2]["d1_name"] = "王晓明"
        with pytest.raises(ValidationError):
            household_save(
                household=household,
                actor=cast.enumerator_a1,
                expected_version=household.version,
                data=data,
                persons=persons,
            )
        changed = household_save(
            household=household,
            actor=cast.enumerator_a1,
            expected_version=household.version,
            data=data,
            persons=persons,
            reason="户主更正孩子姓名",
        )
        assert changed.state == HouseholdState.DRAFT and changed.current_signature is None
        version = HouseholdVersion.objects.get(household=household, kind="changed")
        assert version.reason == "户主更正孩子姓名"
        assert {
            "section": "persons",
            "row": 3,
            "field": "d1_name",
            "before": "王小明",
            "after": "王晓明",
        } in version.diff
        respondent_confirm(
            household=changed, actor=cast.enumerator_a1, name="王伟", relationship=0, signature_image=png_data_url()
        )
        resigned = household_sign(household=changed, signer=cast.enumerator_a1, password=password)
        assert resigned.current_signature.seq == 2
        assert verify_small_area(cast.area_a1) == []


class TestReview:
    def test_return_fix_resign_approve_accept_lock_reopen(self, cast: Cast, password: str) -> None:
        household = register(cast, password)
        with pytest.raises(ApplicationError):
            household_approve(household=household, actor=cast.supervisor_b)  # not this registrar's supervisor
        with pytest.raises(ValidationError):
            household_return(household=household, actor=cast.supervisor_a, comments=[])
        household = household_return(household=household, actor=cast.supervisor_a, comments=[("H6", "请核实建筑面积")])
        assert household.state == HouseholdState.RETURNED
        assert ReviewComment.objects.get(household=household).item == "H6"
        data, persons = family_form()
        data["h6_floor_area"] = 88
        household = household_save(
            household=household,
            actor=cast.enumerator_a1,
            expected_version=household.version,
            data=data,
            persons=persons,
        )
        respondent_confirm(
            household=household, actor=cast.enumerator_a1, name="王伟", relationship=0, signature_image=png_data_url()
        )
        household = household_sign(household=household, signer=cast.enumerator_a1, password=password)
        assert ReviewComment.objects.get(household=household).resolved_at is not None
        household = household_approve(household=household, actor=cast.supervisor_a)
        with pytest.raises(ApplicationError):
            household_accept(household=household, actor=cast.township_office_b)
        household = household_accept(household=household, actor=cast.township_office_a)
        household = household_lock(household=household, actor=cast.district_office)
        with pytest.raises(ConflictError):
            household_approve(household=household, actor=cast.supervisor_a)
        with pytest.raises(ApplicationError):
            household_reopen(household=household, actor=cast.district_office, reason="抽查发现错误", password="wrong")
        household = household_reopen(
            household=household, actor=cast.district_office, reason="抽查发现错误", password=password
        )
        assert household.state == HouseholdState.RETURNED
        trail = list(
            HouseholdTransition.objects.filter(household=household)
            .order_by("at", "id")
            .values_list("to_state", flat=True)
        )
        assert trail == ["draft", "signed", "returned", "signed", "approved", "accepted", "locked", "returned"]

    def test_invalid_transitions_are_refused(self, cast: Cast, password: str) -> None:
        household = register(cast, password, sign=False)
        with pytest.raises(ConflictError):
            household_approve(household=household, actor=cast.supervisor_a)
        with pytest.raises(ConflictError):
            household_lock(household=household, actor=cast.district_office)

    def test_bulk_approve_takes_the_whole_filter(self, cast: Cast, password: str) -> None:
        signed = [register(cast, password) for _ in range(3)]
        approved = households_approve(
            households=Household.objects.visible_to(cast.supervisor_a), actor=cast.supervisor_a
        )
        assert approved.done == 3
        assert set(Household.objects.filter(pk__in=[h.pk for h in signed]).values_list("state", flat=True)) == {
            "approved"
        }
        assert (
            households_approve(households=Household.objects.visible_to(cast.supervisor_b), actor=cast.supervisor_b).done
            == 0
        )


def test_a_signature_chain_grows_per_small_area(cast: Cast, password: str) -> None:
    for _ in range(3):
        register(cast, password)
    assert list(Signature.objects.filter(small_area=cast.area_a1).order_by("seq").values_list("seq", flat=True)) == [
        1,
        2,
        3,
    ]
    assert verify_small_area(cast.area_a1) == []


THREADS, ROUNDS = 6, 3


class TestSubmit:
    """household_submit: the four steps in one, with the same rows in the end."""

    def submit(self, cast: Cast, password: str, **overrides):  # type: ignore[no-untyped-def]
        data, persons = family_form()
        arguments = {
            "small_area_id": cast.area_a1.pk,
            "actor": cast.enumerator_a1,
            "head_name": "王伟",
            "aware_of_census": True,
            "data": data,
            "persons": persons,
            "deaths": [],
            "respondent": ConfirmationInput(name="王伟", relationship=0, signature_image=png_data_url()),
            "password": password,
        }
        return household_submit(**{**arguments, **overrides})

    def test_it_leaves_the_rows_the_four_steps_leave(self, cast: Cast, password: str) -> None:
        stepwise = register(cast, password)
        submitted = self.submit(cast, password)
        assert submitted.household_no == stepwise.household_no + 1
        for household in (stepwise, submitted):
            household.refresh_from_db()
        fields = ("state", "version", "registrar_id", "listed_by_id", "expected_persons", "head_name_listed")
        assert [getattr(submitted, f) for f in fields] == [getattr(stepwise, f) for f in fields]
        assert submitted.state == HouseholdState.SIGNED and submitted.current_signature.seq == 2
        assert list(HouseholdTransition.objects.filter(household=submitted).values_list("from_state", "to_state")) == [
            ("listed", "draft"),
            ("draft", "signed"),
        ]
        signed_versions = HouseholdVersion.objects.filter(kind="signed")
        stepwise_content = signed_versions.get(household=stepwise).content
        submitted_content = signed_versions.get(household=submitted).content
        assert submitted_content["persons"] == stepwise_content["persons"]
        assert submitted_content["respondent"] == stepwise_content["respondent"]
        assert AuditEvent.objects.filter(object_type="household", object_id=str(submitted.pk)).exists()
        assert verify_small_area(cast.area_a1) == []

    def test_its_rows_are_written_in_one_statement_and_the_progress_refresh_follows_the_commit(
        self, cast: Cast, password: str, django_capture_on_commit_callbacks: Any
    ) -> None:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        refreshed: list[int] = []
        with (
            CaptureQueriesContext(connection) as queries,
            django_capture_on_commit_callbacks(execute=True),
            patch("supervision.progress.tasks.schedule_refresh", refreshed.append),
        ):
            household = self.submit(cast, password)

        def text(sql: str) -> str:  # a prepared statement's execution by the statement's text
            if not sql.startswith("EXECUTE "):
                return sql
            with connection.cursor() as cursor:
                cursor.execute("SELECT statement FROM pg_prepared_statements WHERE name = %s", [sql.split()[1]])
                return str(cursor.fetchone()[0])

        writes = [sql for sql in (text(q["sql"]) for q in queries.captured_queries) if "INSERT INTO" in sql]
        assert len(writes) == 1 and writes[0].count("INSERT INTO") == 7
        assert refreshed == [cast.area_a1.pk]
        assert not household._state.adding and household.current_signature.pk == household.current_signature_id
        assert Person.objects.filter(household=household).count() == household.expected_persons

    def test_a_wrong_password_or_a_hard_error_leaves_nothing(self, cast: Cast, password: str) -> None:
        with pytest.raises(ApplicationError) as wrong:
            self.submit(cast, "not-the-password")
        assert wrong.value.code == "bad_password"
        _data, persons = family_form()
        persons[1]["d2_relationship"] = 0  # a second head
        with pytest.raises(ApplicationError) as hard:
            self.submit(cast, password, persons=persons)
        assert hard.value.code == "hard_errors"
        assert not Household.objects.exists() and not Signature.objects.exists()

    def test_only_field_staff_assigned_to_the_small_area_submit(self, cast: Cast, password: str) -> None:
        with pytest.raises(ApplicationError) as refused:
            self.submit(cast, password, actor=cast.enumerator_b1)
        assert refused.value.code == "not_registrar"
        assert not Household.objects.exists()

    @pytest.mark.django_db(transaction=True)
    def test_submissions_racing_for_one_small_area_each_get_the_next_number_and_link(
        self, cast: Cast, password: str
    ) -> None:
        """What a submission reads of its area (the highest 户编号, the chain's last link) must be read after the
        area's lock is granted: read with the lock, a submission that waited would see the area as it was
        before the one it waited for, and take its number again."""
        from django.db import connection

        start, failures = threading.Barrier(THREADS), []

        def enumerate_households() -> None:
            try:
                start.wait(timeout=30)
                for _round in range(ROUNDS):
                    self.submit(cast, password)
            except Exception as exc:  # reported below; a thread's exception would otherwise vanish
                failures.append(exc)
            finally:
                connection.close()

        workers = [threading.Thread(target=enumerate_households) for _ in range(THREADS)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=120)
        assert failures == []
        total = THREADS * ROUNDS
        numbers = sorted(Household.objects.filter(small_area=cast.area_a1).values_list("household_no", flat=True))
        assert numbers == list(range(1, total + 1))
        seqs = sorted(Signature.objects.filter(small_area=cast.area_a1).values_list("seq", flat=True))
        assert seqs == list(range(1, total + 1))
        assert verify_small_area(cast.area_a1) == []

    def test_a_full_small_area_takes_no_more_submissions(self, cast: Cast, password: str) -> None:
        HouseholdFactory(small_area=cast.area_a1, household_no=998)
        with pytest.raises(ValidationError) as full:
            self.submit(cast, password)
        assert "998" in str(full.value) and Household.objects.count() == 1

    def test_the_form_from_loaded_rows_is_the_form_the_database_gives(self, cast: Cast, password: str) -> None:
        data, _persons = family_form()
        data["warning_notes"] = {"SOME_WARNING@1": "说明"}
        household = Household.objects.get(pk=self.submit(cast, password, data=data).pk)
        rows = list(household.persons.order_by("row_no"))
        assert form_values_of(household, rows, list(household.deaths.order_by("row_no"))) == form_values(household)

    def test_what_is_signed_is_what_verification_reads_back(self, cast: Cast, password: str) -> None:
        """The content is hashed from the values as written; odd inputs must come back from the database the same."""
        data, persons = family_form()
        head = persons[0]
        sequence = next(
            s for s in range(1, 999, 2) if make_id_number("511521", datetime.date(1980, 5, 12), s)[-1] == "X"
        )
        head["d3_id_number"] = make_id_number("511521", datetime.date(1980, 5, 12), sequence)
        head["d1_name"] = "  王伟 "
        data["warning_notes"] = {"SOME_WARNING@1": "说明"}
        household = self.submit(cast, password, data=data, persons=persons)
        assert verify_small_area(cast.area_a1) == []
        stored = Person.objects.get(household=household, row_no=1)
        signed = HouseholdVersion.objects.get(household=household, kind="signed").content
        assert signed["persons"][0]["d3_id_number"] == stored.d3_id_number
        assert signed["persons"][0]["d1_name"] == stored.d1_name
