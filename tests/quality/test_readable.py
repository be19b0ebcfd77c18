"""Findings as the people who act on them read them (issue 21, items 5 and 13): a rule's name, never its code, on
every page (the code is the API's); the record as "household 029 · person 3", not "…029#3"; the evidence's keys
named; a list filter of names; no "to verify" tab for an enumerator, who verifies nothing; and an age-gap warning
worded for the case it is about."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.utils import translation

from enumeration.rules.catalogue import CATALOGUE, RULES
from supervision.quality.models import Finding
from tests.conftest import Cast
from tests.quality.factories import run, sign_family, tamper

pytestmark = pytest.mark.django_db

# A rule's code as it is written in the catalogue: capitals and underscores (ID_BIRTH_MISMATCH).
CODE = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def finding(cast: Cast) -> Finding:
    """Enumerator A1's signed household whose third person's D5 no longer matches the ID number."""
    household = sign_family(cast.area_a1, cast.enumerator_a1)
    tamper("UPDATE enumeration_person SET d5_birth_month = 8 WHERE household_id = %s AND row_no = 3", [household.pk])
    run()
    return Finding.objects.get(rule="ID_BIRTH_MISMATCH")


def visible_text(html: str) -> str:
    """The page's text without tags, scripts and attribute values (codes may stand in a form's values)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_every_rule_has_a_name_in_chinese_and_in_english() -> None:
    for rule in RULES:
        with translation.override("zh-hans"):
            chinese = str(rule.name)
        with translation.override("en"):
            english = str(rule.name)
        assert CJK.search(chinese), f"{rule.code} has no Chinese name"
        assert english != rule.code and not CJK.search(english), f"{rule.code} has no English name"


@pytest.mark.parametrize("who", ["enumerator_a1", "supervisor_a", "township_office_a"])
def test_the_finding_pages_name_the_rule_and_the_record_and_show_no_code(
    cast: Cast, finding: Finding, login: Any, who: str
) -> None:
    client = login(getattr(cast, who))
    pages = [f"/supervision/quality/findings/{finding.pk}/"]
    if who == "township_office_a":
        pages.append("/supervision/quality/findings/")
    else:
        pages.append("/supervision/quality/mine/?show=all")
    if who == "enumerator_a1":
        pages += ["/supervision/quality/mine/", "/enumeration/my-areas/"]  # with the start page's summary
    household_no = f"{finding.household.household_no:03d}"
    for url in pages:
        text = visible_text(client.get(url).content.decode())
        assert not CODE.findall(text), f"{url} shows rule codes {CODE.findall(text)}"
        assert finding.record_key not in text, f"{url} shows the raw record key"
        assert household_no in text, f"{url} does not name household {household_no}"
        if "findings/" in url and url != "/supervision/quality/findings/":
            assert str(CATALOGUE["ID_BIRTH_MISMATCH"].name) in text


def test_the_detail_page_names_the_evidence(cast: Cast, finding: Finding, login: Any) -> None:
    """ID_BIRTH_MISMATCH's evidence is {"birth": …, "id_birth": …}: the page shows what each is, not the key."""
    html = login(cast.enumerator_a1).get(f"/supervision/quality/findings/{finding.pk}/").content.decode()
    evidence = re.search(r'<table class="quality-evidence">(.*?)</table>', html, re.S)
    assert evidence is not None
    headers = re.findall(r'<th scope="row">([^<]*)</th>', evidence.group(1))
    assert len(headers) == 2
    assert not {"birth", "id_birth"} & set(headers), headers


def test_the_findings_filter_lists_the_rules_by_name(cast: Cast, login: Any) -> None:
    html = login(cast.township_office_a).get("/supervision/quality/findings/").content.decode()
    select = re.search(r'<select name="rule"[^>]*>(.*?)</select>', html, re.S)
    assert select is not None
    options = re.findall(r'<option value="([A-Z_0-9]+)"[^>]*>([^<]*)</option>', select.group(1))
    assert len(options) == len(RULES)
    assert all(label.strip() != value and not CODE.search(label) for value, label in options), options[:3]


def test_the_findings_list_does_not_call_the_date_found_the_figure_found(cast: Cast, login: Any) -> None:
    """ "Found" is two things: the balance check's figure (实为) and the date a finding was found (not 实为)."""
    with translation.override("zh-hans"):
        html = login(cast.township_office_a).get("/supervision/quality/findings/").content.decode()
    assert "实为" not in html


def test_an_enumerator_has_no_list_of_findings_to_verify(cast: Cast, finding: Finding, login: Any) -> None:
    enumerator = login(cast.enumerator_a1).get("/supervision/quality/mine/").content.decode()
    assert "show=verify" not in enumerator
    supervisor = login(cast.supervisor_a).get("/supervision/quality/mine/").content.decode()
    assert "show=verify" in supervisor


@pytest.mark.parametrize(
    ("code", "gap", "present", "absent"),
    [
        # A child seven years older than the head (the nightly check's evidence: gap -7).
        ("CHILD_AGE_GAP", -7, ["子女", "大7岁"], ["-7", "不到15岁"]),
        ("CHILD_AGE_GAP", 0, ["子女", "同岁"], ["0岁", "不到15岁"]),
        ("CHILD_AGE_GAP", 12, ["子女", "小12岁", "不到15岁"], []),
        # A parent four years younger than the head.
        ("PARENT_AGE_GAP", -4, ["父母", "小4岁"], ["-4", "不到15岁"]),
        ("GRANDPARENT_AGE_GAP", -2, ["祖父母", "小2岁"], ["-2", "不到30岁"]),
        ("GRANDCHILD_AGE_GAP", -3, ["孙子女", "大3岁"], ["-3", "不到30岁"]),
    ],
)
def test_an_age_gap_warning_is_worded_for_its_case(code: str, gap: int, present: list[str], absent: list[str]) -> None:
    from supervision.quality.presentation import finding_message

    rule = CATALOGUE[code]
    with translation.override("zh-hans"):
        shown = {rule.render(gap=gap), rule.render_zh(gap=gap), finding_message(code, {"gap": gap})}
    assert len(shown) == 1, shown  # entry (the form), the ledger's Chinese, and the findings pages agree
    (message,) = shown
    for text in present:
        assert text in message, message
    for text in absent:
        assert text not in message, message
    with translation.override("en"):
        english = rule.render(gap=gap)
    assert "-" not in english and not CJK.search(english), english


def test_a_check_run_s_page_is_in_words(cast: Cast, finding: Finding, login: Any) -> None:
    """Issue 21, item 11: the counts named ("新发现问题 1", not "new: 1"), each district part named by what it checks
    (not "全区规则" five times), and the timings, under their own heading, named by rule."""
    from supervision.quality.models import CheckRun

    run_ = CheckRun.objects.order_by("-pk").first()
    assert run_ is not None and run_.stats.get("counts")
    with translation.override("zh-hans"):
        html = login(cast.township_office_a).get(f"/supervision/quality/runs/{run_.pk}/").content.decode()
    text = visible_text(html)
    assert not re.search(r"\b(new|reopened|corrected|closed): ", text), "raw counts"
    assert not CODE.findall(text), CODE.findall(text)
    parts = re.findall(r"<tr><td>([^<]*)</td>", re.search(r'id="run-parts">(.*?)</table>', html, re.S).group(1))  # type: ignore[union-attr]
    assert len(parts) == len(set(parts)), f"parts named alike: {parts}"
    # The table under the timings' heading holds the timings, not the parts.
    timings = re.search(r'<details id="run-timings">(.*?)</details>', html, re.S)
    assert timings is not None and "quality-timings" in timings.group(1)
