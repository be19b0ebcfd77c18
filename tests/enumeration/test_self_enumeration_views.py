"""Self-enumeration pages: the respondent's pages (no login, one household per code, throttled) and the staff's
invitations, slips, verification and uptake."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from enumeration.models import Household, HouseholdState
from enumeration.self_enumeration import services
from enumeration.self_enumeration.models import Declaration, Invitation
from enumeration.services import household_list
from tests.conftest import Cast
from tests.enumeration.factories import family_form

pytestmark = pytest.mark.django_db
SHORT_PERSON = (
    "d1_name",
    "d2_relationship",
    "d3_id_number",
    "d4_sex",
    "d5_birth_year",
    "d5_birth_month",
    "d6_ethnicity",
    "d7_residence",
    "d8_hukou_place",
    "d9_away_duration",
    "d11_education",
    "d12_literate",
)


@pytest.fixture(autouse=True)
def _fresh_limits(settings: Any) -> None:
    """The throttles count in Redis, outside the test's transaction: each test starts with none counted."""
    import redis

    settings.SELF_ENUMERATION = {
        **settings.SELF_ENUMERATION,
        "ENDS": "",
        "MISSES_PER_ADDRESS": "3/h",
        "REQUESTS_PER_ADDRESS": "1000/m",
        "REQUESTS_PER_CODE": "1000/m",
    }
    client = redis.Redis.from_url(settings.REDIS_URL)
    keys = list(client.scan_iter(match="*rl:*", count=1000))
    if keys:
        client.delete(*keys)


def zh(text: str) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(text)


def respondent(address: str = "203.0.113.5") -> Client:
    return Client(REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE="zh-hans")


def invited(cast: Cast, head: str = "王伟") -> tuple[Household, str]:
    household = household_list(small_area=cast.area_a1, actor=cast.enumerator_a1, head_name=head, expected_persons=3)
    return household, services.invitation_issue(household=household, actor=cast.enumerator_a1).code


def post_household(client: Client, code: str) -> Any:
    data, _persons = family_form()
    return client.post(reverse("respondent:household", args=[code]), data)


def post_person(client: Client, code: str, person: dict[str, Any], **extra: str) -> Any:
    values = {k: ("" if person.get(k) is None else person[k]) for k in SHORT_PERSON}
    values["d6_ethnicity"] = "汉族"
    return client.post(reverse("respondent:person", args=[code, person["row_no"]]), {**values, **extra})


def test_a_code_opens_exactly_its_household(cast: Cast) -> None:
    mine, my_code = invited(cast, head="王伟")
    other, other_code = invited(cast, head="赵敏")
    client = respondent()
    assert post_household(client, my_code).status_code == 302
    _data, persons = family_form()
    assert post_person(client, my_code, persons[0]).status_code == 302
    page = client.get(reverse("respondent:home", args=[my_code])).content.decode()
    assert mine.key in page and other.key not in page and "王伟" in page
    other_page = client.get(reverse("respondent:home", args=[other_code])).content.decode()
    assert other.key in other_page and mine.key not in other_page and "王伟" not in other_page
    # The answers went to this household's invitation only.
    assert Invitation.objects.get(household=mine).draft["persons"][0]["d1_name"] == "王伟"
    assert Invitation.objects.get(household=other).draft == {}
    # The respondent's pages need no login and read only by the code.
    assert client.get(reverse("respondent:person", args=[other_code, 1])).status_code == 200
    assert "王伟" not in client.get(reverse("respondent:review", args=[other_code])).content.decode()


def test_a_wrong_code_is_refused_and_the_address_throttled_after_the_configured_misses(cast: Cast) -> None:
    _household, code = invited(cast)
    client = respondent("203.0.113.66")
    wrong = services.new_code()
    for _attempt in range(3):  # MISSES_PER_ADDRESS = 3/h
        response = client.get(reverse("respondent:home", args=[wrong]))
        assert response.status_code == 404
        assert zh("This code is not right") in response.content.decode()
    # Used up: even the right code is refused from this address for the period, with its own page.
    response = client.get(reverse("respondent:home", args=[code]))
    assert response.status_code == 429 and zh("Too many attempts") in response.content.decode()
    # Another address is not held up.
    assert respondent("203.0.113.67").get(reverse("respondent:home", args=[code])).status_code == 200
    # Malformed codes count as misses too and never reach the database lookup.
    other = respondent("203.0.113.68")
    assert other.get(reverse("respondent:home", args=["short"])).status_code == 404


def test_requests_per_code_are_throttled(cast: Cast, settings: Any) -> None:
    settings.SELF_ENUMERATION = {**settings.SELF_ENUMERATION, "REQUESTS_PER_CODE": "2/m"}
    _household, code = invited(cast)
    statuses = [
        respondent(f"203.0.113.{n}").get(reverse("respondent:home", args=[code])).status_code for n in (1, 2, 3)
    ]
    assert statuses == [200, 200, 429]


def test_revoked_and_expired_codes_are_refused_with_their_own_page(cast: Cast) -> None:
    household, code = invited(cast)
    invitation = Invitation.objects.get(household=household)
    services.invitation_revoke(invitation=invitation, actor=cast.enumerator_a1)
    response = respondent().get(reverse("respondent:home", args=[code]))
    assert response.status_code == 410 and zh("This code has been withdrawn") in response.content.decode()
    second, second_code = invited(cast)
    Invitation.objects.filter(household=second).update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    response = respondent().post(reverse("respondent:household", args=[second_code]), {"h1_kind": 1})
    assert response.status_code == 410 and zh("The self-enumeration period has ended") in response.content.decode()
    assert Invitation.objects.get(household=second).draft == {}


def test_the_entry_rules_of_the_enumerators_form_apply(cast: Cast) -> None:
    _household, code = invited(cast)
    client = respondent()
    _data, persons = family_form()
    bad = {**persons[0], "d3_id_number": "12345"}
    response = post_person(client, code, bad)
    assert response.status_code == 400
    assert zh("A citizen ID number has 17 digits and a final digit or X.") in response.content.decode()
    # A hard error across items (row 1 not the head) blocks the declaration.
    post_household(client, code)
    post_person(client, code, {**persons[0], "d2_relationship": 1})
    page = client.get(reverse("respondent:review", args=[code])).content.decode()
    assert 'id="respondent-errors"' in page and 'id="declare"' not in page


def test_fill_in_two_visits_declare_and_keep_the_confirmation_number(cast: Cast) -> None:
    household, code = invited(cast)
    _data, persons = family_form()
    first = respondent("203.0.113.20")
    post_household(first, code)
    post_person(first, code, persons[0], add_another="1")
    # Later, from another phone or network, with the same code: the answers so far are there.
    second = respondent("198.51.100.21")
    page = second.get(reverse("respondent:home", args=[code])).content.decode()
    assert "1. 王伟" in page
    for person in persons[1:]:
        assert post_person(second, code, person).status_code == 302
    response = second.post(
        reverse("respondent:review", args=[code]), {"name": "李芳", "relationship": "1", "confirm": "on"}
    )
    assert response.status_code == 302
    declaration = Declaration.objects.get(household=household)
    done = second.get(response["Location"]).content.decode()
    assert declaration.confirmation_no in done
    # Declared: the form no longer changes; the other pages lead to the confirmation.
    assert second.get(reverse("respondent:household", args=[code]))["Location"].endswith("/done/")
    household.refresh_from_db()
    assert household.state == HouseholdState.LISTED


def statements(client: Client, method: str, url: str, data: dict[str, Any] | None = None) -> list[str]:
    """The first word of each SQL statement a request sends (SELECT, UPDATE, SAVEPOINT …), with a FOR UPDATE
    read told apart."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url) if method == "GET" else client.post(url, data or {})
    assert response.status_code in (200, 302), response.content[:500]
    return [
        "SELECT FOR UPDATE" if q["sql"].startswith("SELECT") and "FOR UPDATE" in q["sql"] else q["sql"].split()[0]
        for q in queries.captured_queries
    ]


def test_respondent_pages_read_one_row_and_a_save_writes_one(cast: Cast) -> None:
    """Under load every statement is a round trip: a page reads the code's invitation (its household joined) and
    nothing else, whatever the number of persons; a save locks and updates that one row in a transaction of its
    own (the test's transaction makes its BEGIN and COMMIT a savepoint and its release); the declaration adds the
    confirmation number's uniqueness check and its row."""
    _household, code = invited(cast)
    client = respondent("203.0.113.30")
    _data, persons = family_form()
    saved = ["SELECT", "SAVEPOINT", "SELECT FOR UPDATE", "UPDATE", "RELEASE"]
    household_data, _persons = family_form()
    assert statements(client, "POST", reverse("respondent:household", args=[code]), household_data) == saved
    for person in persons:
        values = {k: ("" if person.get(k) is None else person[k]) for k in SHORT_PERSON}
        values["d6_ethnicity"] = "汉族"
        url = reverse("respondent:person", args=[code, person["row_no"]])
        assert statements(client, "GET", url) == ["SELECT"]
        assert statements(client, "POST", url, values) == saved
    for name in ("home", "household", "review"):
        assert statements(client, "GET", reverse(f"respondent:{name}", args=[code])) == ["SELECT"]
    declared = statements(
        client,
        "POST",
        reverse("respondent:review", args=[code]),
        {"name": "李芳", "relationship": "1", "confirm": "on"},
    )
    assert declared == ["SELECT", "SAVEPOINT", "SELECT FOR UPDATE", "SELECT", "INSERT", "UPDATE", "RELEASE"]
    # The confirmation page reads the declaration too.
    assert statements(client, "GET", reverse("respondent:done", args=[code])) == ["SELECT", "SELECT"]


def test_respondent_pages_carry_the_strict_content_security_policy(cast: Cast) -> None:
    _household, code = invited(cast)
    response = respondent().get(reverse("respondent:home", args=[code]))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]


# --- staff pages ----------------------------------------------------------------------------------------------


def test_enumerator_issues_and_gets_a_slip_with_the_code_and_a_qr_code(cast: Cast, login: Any) -> None:
    household = household_list(small_area=cast.area_a1, actor=cast.enumerator_a1, head_name="王伟", expected_persons=3)
    client = login(cast.enumerator_a1)
    response = client.post(reverse("self_enumeration:issue", args=[household.pk]))
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    page = response.content.decode()
    code = re.search(r'data-code="([A-Z0-9]{20})"', page)
    assert code is not None
    assert Invitation.objects.get(household=household).code_hash == services.code_hash(code.group(1))
    assert "<svg" in page and "第七次全国人口普查" in page and "style=" not in page.split('class="slips"')[1]
    pdf = client.post(reverse("self_enumeration:slips-pdf"), {"code": [code.group(1)]})
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    # A code that is not one of the user's open invitations makes no slip.
    assert client.post(reverse("self_enumeration:slips-pdf"), {"code": [services.new_code()]}).status_code == 404


def test_others_may_not_invite_or_see_the_area(cast: Cast, login: Any) -> None:
    household = household_list(small_area=cast.area_a1, actor=cast.enumerator_a1, head_name="王伟", expected_persons=3)
    other = login(cast.enumerator_b1)
    assert other.post(reverse("self_enumeration:issue", args=[household.pk])).status_code == 404
    assert other.get(reverse("self_enumeration:area", args=[cast.area_a1.pk])).status_code == 404
    assert not Invitation.objects.exists()


def test_area_page_lists_statuses_in_a_fixed_number_of_queries(
    cast: Cast, login: Any, django_assert_max_num_queries: Any
) -> None:
    for _n in range(3):
        invited(cast)
    household_list(small_area=cast.area_a1, actor=cast.enumerator_a1, head_name="张三", expected_persons=1)
    client = login(cast.enumerator_a1)
    client.get(reverse("self_enumeration:area", args=[cast.area_a1.pk]))
    with django_assert_max_num_queries(12):
        page = client.get(reverse("self_enumeration:area", args=[cast.area_a1.pk])).content.decode()
    assert page.count('data-status="invited"') == 3 and page.count('data-status="not_invited"') == 1


def test_verify_correct_sign_and_uptake(cast: Cast, login: Any, password: str) -> None:
    household, code = invited(cast)
    client = respondent()
    _data, persons = family_form()
    post_household(client, code)
    for person in persons:
        post_person(client, code, person)
    client.post(reverse("respondent:review", args=[code]), {"name": "李芳", "relationship": "1", "confirm": "on"})
    enumerator = login(cast.enumerator_a1)
    area = enumerator.get(reverse("self_enumeration:area", args=[cast.area_a1.pk])).content.decode()
    assert 'id="to-verify"' in area
    enumerator.post(reverse("self_enumeration:take-up", args=[household.pk]))
    household.refresh_from_db()
    assert household.state == HouseholdState.DRAFT
    page = enumerator.get(reverse("self_enumeration:verification", args=[household.pk])).content.decode()
    assert 'id="no-changes"' in page
    # A correction (as the form's autosave makes it) shows against the declaration.
    from enumeration.services import household_save

    data, persons = family_form()
    household = household_save(
        household=household,
        actor=cast.enumerator_a1,
        expected_version=household.version,
        data={**data, "h7_rooms": 5},
        persons=persons,
    )
    page = enumerator.get(reverse("self_enumeration:verification", args=[household.pk])).content.decode()
    assert 'data-change="household"' in page
    response = enumerator.post(
        reverse("self_enumeration:sign", args=[household.pk]), {"password": password, "version": household.version}
    )
    assert response.status_code == 302
    household.refresh_from_db()
    assert household.state == HouseholdState.SIGNED
    # The supervisor sees the diff.
    supervisor_page = (
        login(cast.supervisor_a).get(reverse("self_enumeration:verification", args=[household.pk])).content.decode()
    )
    assert 'data-change="household"' in supervisor_page
    uptake = login(cast.township_office_a).get(reverse("self_enumeration:uptake")).content.decode()
    row = re.search(r'data-area="511504101201001">(.*?)</tr>', uptake, re.S)
    assert row is not None
    cells = re.findall(r"<td>(\d+)</td>", row.group(1))
    # listed, invited, started, declared, verified, duplicates
    assert cells == ["1", "1", "1", "1", "1", "0"]
