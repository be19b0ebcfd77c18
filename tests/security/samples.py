"""Objects the permission matrix asks for, inside and outside each user's scope.

The ``cast`` (tests/conftest.py) gives the frame and one user per role in a two-township district;
``world`` (tests/security/conftest.py) adds a second district, buildings, jobs and audit events. When a URL
takes an object of a model that none of these create (a household, a finding …), add a maker here: a
function that receives the world and creates a few rows of that model in township A, township B and the
other district, so that every role has one it may see and one it may not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Appended to by each part, e.g. ``SAMPLE_MAKERS.append(make_households)``.
SAMPLE_MAKERS: list[Callable[[Any], None]] = []


def make_households(world: Any) -> None:
    """A signed household in each small area (townships A and B and the other district), with its chain."""
    from census.models import SmallArea
    from enumeration.services import household_list

    for area in SmallArea.objects.select_related("village").all():
        staff = area.assignments.select_related("staff").first()
        if staff is not None:
            household_list(small_area=area, actor=staff.staff, head_name="王伟", expected_persons=3)


SAMPLE_MAKERS.append(make_households)


def make_invitations(world: Any) -> None:
    """A self-enumeration invitation for the first listed household of each small area (issue 24)."""
    from enumeration.models import Household
    from enumeration.self_enumeration.services import invitation_issue

    for area_id in sorted(set(Household.objects.values_list("small_area_id", flat=True))):
        household = Household.objects.filter(small_area_id=area_id).order_by("household_no").first()
        staff = household.small_area.assignments.select_related("staff").first() if household else None
        if household is not None and staff is not None:
            invitation_issue(household=household, actor=staff.staff)


SAMPLE_MAKERS.append(make_invitations)


def make_organisation(world: Any) -> None:
    """Readiness, subsidies, rectification, directory units and evidence files (supervision.organisation)."""
    from tests.organisation.samples import make_organisation as make

    make(world)


SAMPLE_MAKERS.append(make_organisation)


def make_quality(world: Any) -> None:
    """Findings and check runs (supervision.quality)."""
    from tests.quality.samples import make_quality as make

    make(world)


SAMPLE_MAKERS.append(make_quality)


def make_jobs(world: Any) -> None:
    """A job of every kind, made by the service that starts it, by the offices of townships A and B and of both
    districts, plus the nightly check runs (started by nobody), so that each role has jobs of others it must see
    and jobs it must not."""
    from census.jobs import job_start
    from census.models import Township
    from supervision.organisation.services import subsidy_sheet_export_start
    from supervision.progress.services import EXPORT_MICRODATA, EXPORT_SUMMARY, EXPORT_TABLE, export_start
    from supervision.quality.services import ROSTER_JOB_KIND, check_run_start, check_runs_start_nightly

    cast = world.cast
    for office in (cast.township_office_a, cast.township_office_b):
        subsidy_sheet_export_start(township=office.township, actor=office)
        export_start(user=office, kind=EXPORT_TABLE, params={"table": "enumerators", "township": office.township_id})
        check_run_start(user=office)
    for office in (cast.district_office, world.other_office):
        township = Township.objects.filter(district_id=office.district_id).order_by("code").first()
        assert township is not None
        subsidy_sheet_export_start(township=township, actor=office)
        export_start(user=office, kind=EXPORT_TABLE, params={"table": "townships"})
        export_start(user=office, kind=EXPORT_SUMMARY, params={"format": "xlsx"})
        export_start(user=office, kind=EXPORT_MICRODATA, params={"forms": "accepted"})
        check_run_start(user=office)
        # As roster_import_start makes it, without storing an uploaded file.
        job_start(kind=ROSTER_JOB_KIND, title="roster.csv", user=office, params={"district": office.district_id or ""})
        # As review_lock_all starts it.
        job_start(kind="bulk_lock", title="bulk lock", user=office, params={"filters": {}, "q": ""})
    check_runs_start_nightly()


SAMPLE_MAKERS.append(make_jobs)


def make_staffing_jobs(world: Any) -> None:
    """A staff import and a credentials print started by the offices of townships A and B and of both districts
    (as their services make them, without storing an uploaded file)."""
    from census.jobs import job_start
    from census.staffing.credentials import CREDENTIALS_JOB
    from census.staffing.imports import STAFF_IMPORT_JOB

    cast = world.cast
    for office in (cast.township_office_a, cast.township_office_b, cast.district_office, world.other_office):
        job_start(kind=STAFF_IMPORT_JOB, title="staff.xlsx", user=office, params={"format": "xlsx"})
        job_start(kind=CREDENTIALS_JOB, title="credentials", user=office, params={"staff": []})


SAMPLE_MAKERS.append(make_staffing_jobs)


def make_rechecks(world: Any) -> None:
    """A re-check draw in each district, one re-checked small area per small area of the world, each with a checker
    from another small area of its township where there is one (as ``recheck_draw`` assigns them)."""
    from census.models import Role, SmallArea, SmallAreaAssignment
    from supervision.completeness.models import RecheckArea, RecheckDraw

    draws: dict[str, RecheckDraw] = {}
    for area in SmallArea.objects.select_related("township").order_by("code"):
        district = area.township.district_id
        if district not in draws:
            office = (
                world.cast.district_office if district == world.cast.district_office.district_id else world.other_office
            )
            draws[district] = RecheckDraw.objects.create(district_id=district, seed=23, drawn_by=office)
        checker = (
            SmallAreaAssignment.objects.filter(
                small_area__township=area.township, staff__role=Role.ENUMERATOR, staff__is_active=True
            )
            .exclude(small_area=area)
            .order_by("staff_id")
            .values_list("staff_id", flat=True)
            .first()
        )
        RecheckArea.objects.create(
            draw=draws[district],
            small_area=area,
            checker_id=checker,
            # No household drawn: the re-check passes at once, so that the world's forms can still be accepted
            # and locked by the tests that do so (a drawn, unfinished re-check blocks acceptance).
            household_ids=[],
        )


SAMPLE_MAKERS.append(make_rechecks)


def make_phone_devices(world: Any) -> None:
    """A phone that keeps work for every enumerator and supervisor (townships A and B and the other district), as
    the offline pages register it (issue 19)."""
    from census.models import FIELD_ROLES, StaffMember
    from enumeration.services.devices import phone_device_register

    for member in StaffMember.objects.filter(role__in=FIELD_ROLES):
        phone_device_register(staff=member, key=None, session_key="", label="Android phone", ip_address=None)


SAMPLE_MAKERS.append(make_phone_devices)
