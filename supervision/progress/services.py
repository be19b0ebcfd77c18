"""Writes of the progress part: refreshing the aggregates, starting exports.

The aggregates are recomputed set-based in SQL, never row by row: ``progress_refresh`` takes the small areas
to recompute (or all of them) and replaces their ``SmallAreaProgress`` and ``DailyProgress`` rows in one
transaction. ``progress_refresh_changed`` finds the small areas whose households changed since the newest
change the aggregates have seen (``Household.updated_at`` is indexed), with an overlap that catches
transactions which committed late. Refreshes serialise on an advisory lock, so a beat run and a run
triggered by a save never interleave their deletes and inserts.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Collection
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from census.api import ApplicationError
from census.jobs import job_start
from census.models import AuditAction, Job, Role, SmallArea, StaffMember
from census.services import audit_record
from enumeration.identity import REFERENCE_MONTH, REFERENCE_YEAR
from enumeration.models import SIGNED_STATES, Household, HouseholdState, Person
from supervision.progress.models import AgeSexProgress, DailyProgress, SmallAreaProgress, TownshipAgeSexProgress
from supervision.progress.summaries import population
from supervision.progress.tables import TABLES

logger = logging.getLogger(__name__)

# pg_advisory_xact_lock key: "prog".
REFRESH_LOCK = 0x70726F67
# How far before the newest change already seen the incremental refresh looks again. A transaction that
# saved a household earlier than this and committed later is picked up by the nightly full refresh.
REFRESH_OVERLAP = datetime.timedelta(minutes=10)

_STATE_COLUMNS = {
    "hh_listed": HouseholdState.LISTED,
    "hh_draft": HouseholdState.DRAFT,
    "hh_signed": HouseholdState.SIGNED,
    "hh_returned": HouseholdState.RETURNED,
    "hh_approved": HouseholdState.APPROVED,
    "hh_accepted": HouseholdState.ACCEPTED,
    "hh_locked": HouseholdState.LOCKED,
}
_ACCEPTED = (HouseholdState.ACCEPTED.value, HouseholdState.LOCKED.value)
POPULATION_FIELDS = ("residents", "hukou_population", "separated", "within_city", "floating", "away_long")


def population_conditions(status: str, district: str) -> dict[str, str]:
    """What each population column of ``SmallAreaProgress`` counts, as SQL over a person's status and the code of
    the district they were registered in (市辖区内 or 流动 depends on it)."""
    return {
        "residents": f"{status} IN {population.in_sql(population.RESIDENT)}",
        "hukou_population": f"{status} IN {population.in_sql(population.HUKOU)}",
        "separated": f"{status} IN {population.in_sql(population.SEPARATED)}",
        "within_city": population.within_city_sql(status, district),
        "floating": population.floating_sql(status, district),
        "away_long": f"{status} IN {population.in_sql(population.AWAY_LONG)}",
    }


def _refresh_sql(where_area: str, where_household: str, where_person: str) -> tuple[str, str, str, str, str, str]:
    household = Household._meta.db_table
    person = Person._meta.db_table
    progress = SmallAreaProgress._meta.db_table
    daily = DailyProgress._meta.db_table
    ages = AgeSexProgress._meta.db_table
    small_area = SmallArea._meta.db_table
    state_counts = ",\n".join(
        f"count(*) FILTER (WHERE h.state = '{state.value}') AS {column}" for column, state in _STATE_COLUMNS.items()
    )
    state_names = ", ".join(_STATE_COLUMNS)
    # 常住人口 and the concepts beside it, from accepted census forms (``summaries.population`` decides).
    # (Each person judged against the district of their township.)
    district = "left(p.township_id, 6)"
    population_counts = ",\n".join(
        f"count(*) FILTER (WHERE h.state IN %(accepted)s AND h.form_kind = 'census' AND {condition}) AS {name}"
        for name, condition in population_conditions("x.status", district).items()
    )
    population_names = ", ".join(POPULATION_FIELDS)
    status = population.status_sql(
        "p.d7_residence", "p.d8_hukou_place", "p.d9_away_duration", "p.d8_hukou_county", district=district
    )
    upsert = f"""
        WITH hh AS (
            SELECT h.small_area_id,
                   count(*) AS households,
                   {state_counts},
                   coalesce(sum(h.expected_persons), 0) AS persons_expected,
                   count(*) FILTER (WHERE h.aware_of_census IS NOT NULL) AS aware_answered,
                   count(*) FILTER (WHERE h.aware_of_census) AS aware,
                   max(h.updated_at) AS last_change_at
            FROM {household} h
            WHERE {where_household}
            GROUP BY h.small_area_id
        ),
        pp AS (
            SELECT p.small_area_id,
                   count(*) FILTER (WHERE h.state <> 'listed') AS persons_registered,
                   count(*) FILTER (WHERE h.state IN %(accepted)s) AS persons_accepted,
                   {population_counts}
            FROM {person} p JOIN {household} h ON h.id = p.household_id
            CROSS JOIN LATERAL (
                SELECT {status} AS status
            ) x
            WHERE {where_person}
            GROUP BY p.small_area_id
        )
        INSERT INTO {progress} AS t (
            small_area_id, township_id, village_id, households, {state_names},
            persons_expected, persons_registered, persons_accepted, {population_names}, aware_answered, aware,
            last_change_at, refreshed_at
        )
        SELECT sa.id, sa.township_id, sa.village_id, coalesce(hh.households, 0),
               {", ".join(f"coalesce(hh.{column}, 0)" for column in _STATE_COLUMNS)},
               coalesce(hh.persons_expected, 0), coalesce(pp.persons_registered, 0),
               coalesce(pp.persons_accepted, 0),
               {", ".join(f"coalesce(pp.{name}, 0)" for name in POPULATION_FIELDS)},
               coalesce(hh.aware_answered, 0), coalesce(hh.aware, 0),
               hh.last_change_at, %(now)s
        FROM {small_area} sa
        LEFT JOIN hh ON hh.small_area_id = sa.id
        LEFT JOIN pp ON pp.small_area_id = sa.id
        WHERE {where_area}
        ON CONFLICT (small_area_id) DO UPDATE SET
            township_id = EXCLUDED.township_id, village_id = EXCLUDED.village_id,
            households = EXCLUDED.households,
            {", ".join(f"{column} = EXCLUDED.{column}" for column in _STATE_COLUMNS)},
            persons_expected = EXCLUDED.persons_expected, persons_registered = EXCLUDED.persons_registered,
            persons_accepted = EXCLUDED.persons_accepted,
            {", ".join(f"{name} = EXCLUDED.{name}" for name in POPULATION_FIELDS)},
            aware_answered = EXCLUDED.aware_answered,
            aware = EXCLUDED.aware, last_change_at = EXCLUDED.last_change_at,
            refreshed_at = EXCLUDED.refreshed_at
    """
    delete_daily = f"DELETE FROM {daily} d WHERE {where_area.replace('sa.id', 'd.small_area_id')}"
    # A form counts as started on the day of started_at and as signed on the day of its current signature,
    # if it is still signed (a returned form is back with its registrar and is not counted as signed).
    insert_daily = f"""
        INSERT INTO {daily} (small_area_id, township_id, village_id, day, started, signed)
        SELECT h.small_area_id, h.township_id, h.village_id, x.day, sum(x.started), sum(x.signed)
        FROM {household} h
        CROSS JOIN LATERAL (VALUES
            ((h.started_at AT TIME ZONE %(tz)s)::date, 1, 0),
            (CASE WHEN h.state IN %(signed)s THEN (h.signed_at AT TIME ZONE %(tz)s)::date END, 0, 1)
        ) AS x(day, started, signed)
        WHERE x.day IS NOT NULL AND {where_household}
        GROUP BY h.small_area_id, h.township_id, h.village_id, x.day
    """
    # The pyramid: residents of accepted census forms by five-year group and sex (age at the reference moment).
    delete_ages = f"DELETE FROM {ages} a WHERE {where_area.replace('sa.id', 'a.small_area_id')}"
    insert_ages = f"""
        INSERT INTO {ages} (small_area_id, township_id, village_id, age_group, male, female)
        SELECT p.small_area_id, p.township_id, p.village_id, least(x.age / 5, 20),
               count(*) FILTER (WHERE p.d4_sex = 1), count(*) FILTER (WHERE p.d4_sex = 2)
        FROM {person} p JOIN {household} h ON h.id = p.household_id
        CROSS JOIN LATERAL (
            SELECT {REFERENCE_YEAR} - p.d5_birth_year
                   - CASE WHEN p.d5_birth_month >= {REFERENCE_MONTH} THEN 1 ELSE 0 END AS age,
                   {status} AS status
        ) x
        WHERE {where_person} AND h.state IN %(accepted)s AND h.form_kind = 'census'
          AND x.status IN {population.in_sql(population.RESIDENT)} AND x.age >= 0
        GROUP BY p.small_area_id, p.township_id, p.village_id, least(x.age / 5, 20)
    """
    # The townships' sums of the pyramid, again for every township with a refreshed small area.
    townships = f"(SELECT DISTINCT sa.township_id FROM {small_area} sa WHERE {where_area})"
    rollup = TownshipAgeSexProgress._meta.db_table
    township_ages = f"""
        DELETE FROM {rollup} WHERE township_id IN {townships};
        INSERT INTO {rollup} (township_id, age_group, male, female)
        SELECT a.township_id, a.age_group, sum(a.male), sum(a.female) FROM {ages} a
        WHERE a.township_id IN {townships} GROUP BY a.township_id, a.age_group
    """
    return upsert, delete_daily, insert_daily, delete_ages, insert_ages, township_ages


@transaction.atomic
def progress_refresh(*, small_area_ids: Collection[int] | None = None) -> int:
    """Recompute the aggregates of the given small areas (``None``: every small area). Returns how many
    small areas were refreshed. Idempotent: running it twice gives the same rows."""
    if small_area_ids is not None:
        ids = sorted({int(pk) for pk in small_area_ids})
        if not ids:
            return 0
        upsert, delete_daily, insert_daily, delete_ages, insert_ages, township_ages = _refresh_sql(
            "sa.id = ANY(%(ids)s)", "h.small_area_id = ANY(%(ids)s)", "p.small_area_id = ANY(%(ids)s)"
        )
    else:
        ids = []
        upsert, delete_daily, insert_daily, delete_ages, insert_ages, township_ages = _refresh_sql(
            "TRUE", "TRUE", "TRUE"
        )
    params: dict[str, Any] = {
        "ids": ids,
        "now": timezone.now(),
        "accepted": _ACCEPTED,
        "signed": tuple(state.value for state in SIGNED_STATES),
        "tz": settings.TIME_ZONE,
    }
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [REFRESH_LOCK])
        # These statements are planned as expensive; compiling them with JIT costs more than it saves.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(upsert, params)
        refreshed = cursor.rowcount
        cursor.execute(delete_daily, params)
        cursor.execute(insert_daily, params)
        cursor.execute(delete_ages, params)
        cursor.execute(insert_ages, params)
        cursor.execute(township_ages, params)
    logger.info("progress aggregates refreshed for %s small areas", refreshed if ids else f"all {refreshed}")
    return refreshed


def progress_tables_vacuum() -> None:
    """VACUUM ANALYZE the aggregate tables after a full refresh, which rewrote every row of them: the dashboards
    read these tables on every request, and with autovacuum off or behind (a server tuned by hand, a busy
    night) each refresh leaves a full set of dead rows for them to step over — four refreshes made the 6 M
    district's township page twice as slow. Outside any transaction (VACUUM cannot run in one)."""
    tables = [
        model._meta.db_table for model in (SmallAreaProgress, DailyProgress, AgeSexProgress, TownshipAgeSexProgress)
    ]
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'VACUUM (ANALYZE) "{table}"')


def progress_refresh_changed() -> int:
    """Refresh the small areas whose households changed since the aggregates were last refreshed, and any
    small area that has no aggregate row yet. A first run refreshes everything.

    The other small areas had no change to count: their figures are as current as the refreshed ones, so their
    ``refreshed_at`` moves to the moment this run looked (the dashboards' "figures as of" is the oldest
    ``refreshed_at``, and otherwise stood still at the last full refresh while the numbers changed). The moment
    is taken before looking, so a change made while the run works is never claimed as counted."""
    if not SmallAreaProgress.objects.exists():
        return progress_refresh()
    looked_at = timezone.now()
    newest = SmallAreaProgress.objects.aggregate(newest=Max("last_change_at"))["newest"]
    changed = Household.objects.all()
    if newest is not None:
        changed = changed.filter(updated_at__gt=newest - REFRESH_OVERLAP)
    ids = set(changed.values_list("small_area_id", flat=True).distinct())
    ids |= set(SmallArea.objects.filter(progress__isnull=True).values_list("id", flat=True))
    refreshed = progress_refresh(small_area_ids=ids)
    SmallAreaProgress.objects.exclude(small_area_id__in=ids).filter(refreshed_at__lt=looked_at).update(
        refreshed_at=looked_at
    )
    return refreshed


# --- exports ---------------------------------------------------------------------------------------------


class ExportForbidden(ApplicationError):
    status_code = 403


EXPORT_SUMMARY = "progress_summary"
EXPORT_MICRODATA = "progress_microdata"
EXPORT_TABLE = "progress_table"
SUMMARY_FORMATS = ("xlsx", "csv", "pdf")
MICRODATA_FORMS = ("accepted", "signed", "public")
# The public-use file's formats (``public_use.FORMATS``), as the exports page names them.
PUBLIC_FORMATS = {"csv": "CSV", "stata": "Stata .dta", "spss": "SPSS .sav", "parquet": "Parquet"}


def exports_district_data(user: StaffMember) -> bool:
    """Summaries and microdata are the district office's (the superuser's too)."""
    return bool(user.is_active and (user.is_superuser or user.role == Role.DISTRICT_OFFICE))


def exports_summary(user: StaffMember) -> bool:
    """The summary tables are also a city office's: its districts' tables together, counts only (never microdata,
    never a form's key)."""
    return exports_district_data(user) or bool(user.is_active and user.role == Role.CITY_OFFICE and user.city_id)


@transaction.atomic
def export_start(*, user: StaffMember, kind: str, params: dict[str, Any]) -> Job:
    """Start an export as a background job and write who asked for what to the audit log.

    Summaries are for the district office and a city office (its districts together), microdata for the district
    office; a dashboard table may be exported by anyone who may see the dashboard (the job reads it again through
    ``visible_to`` of the person who started it).
    """
    if kind == EXPORT_SUMMARY and not exports_summary(user):
        raise ExportForbidden(_("Only the district or city census office may export summary tables."))
    if kind == EXPORT_MICRODATA and not exports_district_data(user):
        raise ExportForbidden(_("Only the district census office may export microdata."))
    if kind == EXPORT_SUMMARY:
        if params.get("format") not in SUMMARY_FORMATS:
            raise ApplicationError(_("Choose xlsx, CSV or PDF."), code="format")
        title = _("Summary tables (%(format)s)") % {"format": params["format"].upper()}
    elif kind == EXPORT_MICRODATA:
        if params.get("forms") not in MICRODATA_FORMS:
            raise ApplicationError(_("Choose which forms to export."), code="forms")
        if params.setdefault("format", "csv") not in PUBLIC_FORMATS:
            raise ApplicationError(_("Choose CSV, Stata, SPSS or Parquet."), code="format")
        if params["forms"] != "public":
            # The restricted file is CSV only; a format chosen for the public-use file does not apply.
            params = {"forms": params["forms"]}
            title = _("Microdata (CSV, pseudonymous, restricted)")
        elif params["format"] == "csv":
            title = _("Public-use microdata (CSV, disclosure-controlled)")
        else:
            title = _("Public-use microdata (%(format)s, disclosure-controlled)") % {
                "format": PUBLIC_FORMATS[params["format"]]
            }
    elif kind == EXPORT_TABLE:
        spec = TABLES.get(str(params.get("table", "")))
        if spec is None:
            raise ApplicationError(_("Unknown table."), code="table")
        title = _("Dashboard table: %(table)s") % {"table": spec.title}
    else:
        raise ApplicationError(_("Unknown export."), code="kind")
    # Microdata stays with whoever asked for it: its kind has no audience (supervision/progress/jobs.py).
    job = job_start(kind=kind, title=str(title), user=user, params=params)
    audit_record(
        actor=user,
        action=AuditAction.EXPORT,
        object_type=kind,
        object_id=job.pk,
        detail={"requested": params},
    )
    return job


def export_expires_at(job: Job) -> datetime.datetime | None:
    """When an export's file is deleted: ``CENSUS_EXPORT_RETENTION_DAYS`` after it was made, the restricted
    microdata file (every export of microdata but the public-use file) after
    ``CENSUS_RESTRICTED_RETENTION_DAYS``."""
    if job.finished_at is None:
        return None
    restricted = job.kind == EXPORT_MICRODATA and job.params.get("forms") != "public"
    days = settings.CENSUS_RESTRICTED_RETENTION_DAYS if restricted else settings.CENSUS_EXPORT_RETENTION_DAYS
    return job.finished_at + datetime.timedelta(days=days)


def exports_expire(*, now: datetime.datetime | None = None) -> int:
    """Delete the files of exports past their expiry and record each deletion in the audit log. Idempotent:
    a job whose file is gone is not looked at again. Returns how many files were deleted."""
    now = now or timezone.now()
    deleted = 0
    candidates = Job.objects.filter(kind__in=(EXPORT_SUMMARY, EXPORT_MICRODATA, EXPORT_TABLE)).exclude(file="")
    for job in candidates.filter(finished_at__isnull=False).iterator():
        expires = export_expires_at(job)
        if expires is None or expires > now:
            continue
        with transaction.atomic():
            name = job.file.name
            job.file.delete(save=False)
            job.save(update_fields=["file"])
            audit_record(
                actor=None,
                action=AuditAction.RECORD_CHANGE,
                object_type=job.kind,
                object_id=job.pk,
                detail={"file_deleted": name, "expired_at": expires.isoformat()},
            )
        deleted += 1
    if deleted:
        logger.info("deleted %s expired export files", deleted)
    return deleted
