"""Safe microdata: the public-use file after disclosure control (k-anonymity on the documented
quasi-identifiers), private export files, and their expiry."""

from __future__ import annotations

import csv
import datetime
import io
import os
import stat
import zipfile
from collections import Counter
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from census.jobs import job_run
from census.models import AuditEvent, Job, JobStatus
from supervision.progress import public_use
from supervision.progress.services import export_start, exports_expire
from tests.progress.conftest import Registration

pytestmark = pytest.mark.django_db


def test_local_suppression_worked_by_hand() -> None:
    """QIs: township, urban, sex, age group, household size, ethnic group. Five Han persons share a class; three
    minority persons lose their ethnic group and still number three, so they and two persons of a household of
    three lose their household size and make a class of five; a lone 90-year-old loses everything and is left
    out."""
    a = ["101", 1, 1, 40, 2, 1]
    rows = [list(a) for _ in range(5)]
    rows += [["101", 1, 1, 40, 2, 2] for _ in range(3)]
    rows += [["101", 1, 1, 40, 3, 2] for _ in range(2)]
    rows += [["102", 2, 2, 85, 7, 1]]
    kept, report = public_use.anonymise(rows, k=5)
    assert (report.rows_in, report.rows_out, report.dropped, report.k_reached) == (11, 10, 1, 5)
    assert report.suppressed == {
        "township": 1,
        "urban": 1,
        "sex": 0,
        "age_group": 1,
        "household_size": 6,
        "ethnic_group": 6,
    }
    assert Counter(tuple(row) for row in kept) == {tuple(a): 5, ("101", 1, 1, 40, None, None): 5}
    # 15 of 66 quasi-identifier cells.
    assert report.cells_suppressed_share == round(100 * 15 / 66, 3)


def read(job: Job, name: str = "public-use.csv") -> list[dict[str, str]]:
    archive = zipfile.ZipFile(io.BytesIO(job.file.read()))
    return list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8-sig"))))


@pytest.fixture
def media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.PRIVATE_MEDIA_ROOT = settings.MEDIA_ROOT = tmp_path
    return tmp_path


def public(user: Any) -> Job:
    job = export_start(user=user, kind="progress_microdata", params={"forms": "public"})
    job_run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    return job


def test_the_public_file_is_k_anonymous_and_says_what_it_cost(registration: Registration, media, settings) -> None:  # type: ignore[no-untyped-def]
    """The registration fixture: 14 accepted households of a man born 1980 and a woman born 1985, a girl born
    2012 in every third, over two townships. k is counted here again from the file itself."""
    settings.CENSUS_PUBLIC_USE_K = 3
    job = public(registration.cast.district_office)
    rows = read(job)
    assert tuple(rows[0]) == public_use.HEADER
    # Nothing below the township, no birth month, no keys.
    for column in ("small_area", "village", "person_key", "household_key", "d5_month", "d8_county", "f_nationality"):
        assert column not in rows[0]
    classes = Counter(tuple(row[name] for name in public_use.QUASI_IDENTIFIERS) for row in rows)
    assert min(classes.values()) >= 3
    assert job.result["k_reached"] == min(classes.values()) and job.result["k_target"] == 3
    assert job.result["rows_out"] == len(rows) == job.result["rows_in"] - job.result["rows_dropped"]
    assert "k = " in job.message
    # Booleans as 0/1; the codebook names every variable in zh and en, with the values of its code list.
    assert {row["resident"] for row in rows} <= {"0", "1"}
    job.file.seek(0)
    codebook = read(job, "codebook.csv")
    assert {row["variable"] for row in codebook} == set(public_use.HEADER)
    sex = {row["value"]: (row["label_zh"], row["label_en"]) for row in codebook if row["variable"] == "sex"}
    assert sex["1"] == ("男", "Male") and sex["2"] == ("女", "Female")
    # Ages are five-year groups: 40 (born 1980), 35 (1985), 5 (2012), or suppressed.
    assert {row["age_group"] for row in rows} <= {"40", "35", "5", ""}
    # Private file, and the export is in the audit log with its disclosure-control figures.
    assert stat.S_IMODE(os.stat(job.file.path).st_mode) == 0o600
    event = AuditEvent.objects.get(object_type="microdata_public", object_id=str(job.pk))
    assert event.detail["k_reached"] == job.result["k_reached"]


def lone_persons(cast: Any, area: str, registrar: str, sex: int, how_many: int) -> None:
    """``how_many`` one-person households of the small area, each a Han person of ``sex`` born May 1980 (aged
    40 at the reference moment), on accepted census forms."""
    from enumeration.models import HouseholdState
    from tests.progress.factories import HouseholdFactory, PersonFactory

    for _ in range(how_many):
        household = HouseholdFactory(
            small_area=getattr(cast, area), registrar=getattr(cast, registrar), state=HouseholdState.ACCEPTED
        )
        PersonFactory(household=household, row_no=1, d4_sex=sex, d5_birth_year=1980, d5_birth_month=5)


def quasi_identifiers(rows: list[dict[str, str]]) -> Counter[tuple[str, ...]]:
    return Counter(tuple(row[name] for name in public_use.QUASI_IDENTIFIERS) for row in rows)


def test_a_class_of_four_is_suppressed_and_a_class_of_five_is_not(cast, media) -> None:  # type: ignore[no-untyped-def]
    """Worked by hand, k = 5. In township 511504101 (a rural village: urban 2), five men and four women, each
    alone in a household, Han, aged 40. The men's class (511504101, 2, 1, 40, 1, 1) has five records and is
    written as it is. The women's has four: round by round it loses its ethnic group, household size,
    urban/rural, age group and township, and is still four — (–, –, 2, –, –, –) — so the four are left out:
    5 cells suppressed for each of the four women, none for the men."""
    lone_persons(cast, "area_a1", "enumerator_a1", sex=1, how_many=5)
    lone_persons(cast, "area_a1", "enumerator_a1", sex=2, how_many=4)
    job = public(cast.district_office)
    rows = read(job)
    assert quasi_identifiers(rows) == {("511504101", "2", "1", "40", "1", "1"): 5}
    assert (job.result["rows_in"], job.result["rows_out"], job.result["rows_dropped"]) == (9, 5, 4)
    assert job.result["k_reached"] == 5
    assert job.result["cells_suppressed"] == {
        "township": 4,
        "urban": 4,
        "sex": 0,
        "age_group": 4,
        "household_size": 4,
        "ethnic_group": 4,
    }
    assert job.result["cells_suppressed_percent"] == round(100 * 20 / (9 * 6), 3)


def test_small_classes_of_two_townships_meet_in_the_last_round(cast, media) -> None:  # type: ignore[no-untyped-def]
    """As above, with three more such women in township 511504102: there their class of three loses the same
    four values, still three; in the last round both classes lose their township and are one class of seven
    women, (–, –, 2, –, –, –), which is written — first in the file, before the townships' own rows."""
    lone_persons(cast, "area_a1", "enumerator_a1", sex=1, how_many=5)
    lone_persons(cast, "area_a1", "enumerator_a1", sex=2, how_many=4)
    lone_persons(cast, "area_b1", "enumerator_b1", sex=2, how_many=3)
    job = public(cast.district_office)
    rows = read(job)
    assert quasi_identifiers(rows) == {("511504101", "2", "1", "40", "1", "1"): 5, ("", "", "2", "", "", ""): 7}
    assert [row["township"] for row in rows] == [""] * 7 + ["511504101"] * 5
    assert (job.result["rows_in"], job.result["rows_out"], job.result["k_reached"]) == (12, 12, 5)
    assert job.result["cells_suppressed"] == {
        "township": 7,
        "urban": 7,
        "sex": 0,
        "age_group": 7,
        "household_size": 7,
        "ethnic_group": 7,
    }


def test_foreigners_are_not_in_the_public_file(registration: Registration, media) -> None:  # type: ignore[no-untyped-def]
    from enumeration.models import FormKind, HouseholdState
    from tests.progress.factories import HouseholdFactory, PersonFactory

    foreign = HouseholdFactory(
        small_area=registration.cast.area_a1, state=HouseholdState.ACCEPTED, form_kind=FormKind.FOREIGN
    )
    PersonFactory(household=foreign, row_no=1, f_identity=4, f_nationality="USA")
    job = public(registration.cast.district_office)
    # Every person of the accepted census forms goes in (before suppression), the foreigner does not.
    from enumeration.models import Person

    census = Person.objects.filter(
        household__state__in=(HouseholdState.ACCEPTED, HouseholdState.LOCKED), household__form_kind=FormKind.CENSUS
    ).count()
    assert job.result["rows_in"] == census


def test_expired_export_files_are_deleted_and_the_page_lists_expiry(registration: Registration, media, client) -> None:  # type: ignore[no-untyped-def]
    user = registration.cast.district_office
    restricted = export_start(user=user, kind="progress_microdata", params={"forms": "accepted"})
    job_run(restricted.pk)
    public_job = public(user)
    summary = export_start(user=user, kind="progress_summary", params={"format": "csv"})
    job_run(summary.pk)
    restricted.refresh_from_db()
    summary.refresh_from_db()
    assert stat.S_IMODE(os.stat(restricted.file.path).st_mode) == 0o600
    client.force_login(user)
    page = client.get(reverse("supervision:exports")).content.decode()
    made = timezone.localdate().isoformat()
    week = (timezone.localdate() + datetime.timedelta(days=7)).isoformat()
    month = (timezone.localdate() + datetime.timedelta(days=30)).isoformat()
    assert f'data-expires="{week}"' in page and f'data-expires="{month}"' in page, made
    # Eight days on: the restricted file (7 days) is gone, the others (30 days) stay.
    paths = {job.pk: job.file.path for job in (restricted, public_job, summary)}
    assert exports_expire(now=timezone.now() + datetime.timedelta(days=8)) == 1
    assert not os.path.exists(paths[restricted.pk]) and os.path.exists(paths[public_job.pk])
    restricted.refresh_from_db()
    assert not restricted.file
    assert AuditEvent.objects.filter(object_id=str(restricted.pk), detail__has_key="file_deleted").count() == 1
    # Thirty-one days on: the rest; a second run finds nothing more to delete.
    assert exports_expire(now=timezone.now() + datetime.timedelta(days=31)) == 2
    assert exports_expire(now=timezone.now() + datetime.timedelta(days=31)) == 0
    assert not any(os.path.exists(path) for path in paths.values())


def read_statistical(job: Job, file_format: str, folder: Any) -> tuple[dict[str, list[Any]], dict[str, str], Any]:
    """The data file of a public-use export in ``file_format``, read back by the statisticians' own readers:
    its columns, variable labels (zh) and value labels (zh) as ``{variable: {code: label}}``."""
    import json
    import math

    import pyarrow.parquet as pq
    import pyreadstat

    name = {"stata": "public-use.dta", "spss": "public-use.sav", "parquet": "public-use.parquet"}[file_format]
    zipfile.ZipFile(job.file.path).extract(name, folder)
    path = str(folder / name)
    if file_format == "parquet":
        table = pq.read_table(path)
        labels = {field.name: field.metadata[b"label_zh"].decode() for field in table.schema}
        values = {
            field.name: {int(code): label for code, label in json.loads(field.metadata[b"value_labels_zh"]).items()}
            for field in table.schema
            if b"value_labels_zh" in field.metadata
        }
        return table.to_pydict(), labels, values
    reader = pyreadstat.read_dta if file_format == "stata" else pyreadstat.read_sav
    frame, meta = reader(path)
    # Missing numbers come back as NaN, missing text as "": both None here, as in the Parquet file.
    columns = {
        name: [
            None if value == "" or (isinstance(value, float) and math.isnan(value)) else value
            for value in frame[name].tolist()
        ]
        for name in frame.columns
    }
    return columns, meta.column_names_to_labels, meta.variable_value_labels


@pytest.mark.parametrize("file_format", ["stata", "spss", "parquet"])
def test_stata_spss_and_parquet_read_back_with_their_labels(  # type: ignore[no-untyped-def]
    registration: Registration, media, settings, tmp_path, file_format: str
) -> None:
    """With k = 1 nothing is suppressed, so the file holds every person of an accepted census form as the
    database does: counted again here from the persons themselves."""
    from enumeration.models import FormKind, HouseholdState, Person

    settings.CENSUS_PUBLIC_USE_K = 1
    job = export_start(
        user=registration.cast.district_office,
        kind="progress_microdata",
        params={"forms": "public", "format": file_format},
    )
    job_run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    columns, labels, values = read_statistical(job, file_format, tmp_path)
    assert list(columns) == list(public_use.HEADER)
    persons = Person.objects.filter(
        household__state__in=(HouseholdState.ACCEPTED, HouseholdState.LOCKED), household__form_kind=FormKind.CENSUS
    )
    assert len(columns["sex"]) == persons.count() == job.result["rows_out"]
    assert Counter(int(sex) for sex in columns["sex"]) == Counter(persons.values_list("d4_sex", flat=True))
    assert Counter(columns["township"]) == Counter(persons.values_list("township_id", flat=True))
    # The girls born in 2012 have no D12 answer: missing in the file, not 0.
    literate = Counter(None if value is None else int(value) for value in columns["literate"])
    assert literate == Counter(persons.values_list("d12_literate", flat=True))
    # Born 1980 → 40, 1985 → 35, 2012 → aged 8 → group 5 (reference moment November 2020, born in May).
    assert {int(age) for age in columns["age_group"]} == {40, 35, 5}
    # Variable labels and the code lists' Chinese value labels.
    assert labels["sex"] == "性别" and labels["education"] == "受教育程度"
    assert values["sex"] == {1: "男", 2: "女"}
    assert values["literate"] == {1: "是", 2: "否"}
    assert values["urban"] == {1: "城镇", 2: "乡村"}
    assert values["marital"][1] == "未婚"


def test_the_exports_page_offers_the_formats_and_refuses_others(registration: Registration, client) -> None:  # type: ignore[no-untyped-def]
    from django.utils import translation

    user = registration.cast.district_office
    client.force_login(user)
    page = client.get(reverse("supervision:exports")).content.decode()
    for value in ("csv", "stata", "spss", "parquet"):
        assert f'<option value="{value}">' in page
    start = reverse("supervision:export-start")
    client.post(start, {"kind": "progress_microdata", "forms": "public", "format": "stata"})
    client.post(start, {"kind": "progress_microdata", "forms": "accepted", "format": "stata"})
    jobs = list(Job.objects.order_by("pk"))
    assert [job.params for job in jobs] == [{"forms": "public", "format": "stata"}, {"forms": "accepted"}]
    with translation.override("zh-hans"):
        assert jobs[0].title == translation.gettext("Public-use microdata (%(format)s, disclosure-controlled)") % {
            "format": "Stata .dta"
        }
        response = client.post(start, {"kind": "progress_microdata", "forms": "public", "format": "xls"}, follow=True)
        assert translation.gettext("Choose CSV, Stata, SPSS or Parquet.") in response.content.decode()
    assert Job.objects.count() == 2
