"""The rule catalogue: every quality rule of the system, once.

Each rule has a stable code, a severity — ``hard`` (强制性: blocks signing), ``warning`` (核实性: needs a
written note) or ``nightly`` (found by the nightly run only: cross-record, aggregate, process and anomaly
rules) —, a message in Chinese and English, who must act, and the form items it reads. Rules on one
household are implemented in Python in ``enumeration.rules.entry`` (run at entry and on signing) and again
as set-based SQL in ``supervision.quality`` (run nightly); a test proves the two agree on generated data.

Groups follow the domain reference §4.1: A identity, B household structure, C relationships, D migration,
E education, F long form, G aggregates; plus process, duplicates, coverage, roster and anomaly rules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from django.utils.functional import Promise

from enumeration.codes import bilingual


class Severity(StrEnum):
    HARD = "hard"
    WARNING = "warning"
    NIGHTLY = "nightly"


class Actor(StrEnum):
    REGISTRAR = "registrar"  # the enumerator who registered and signed the form
    SUPERVISOR = "supervisor"
    TOWNSHIP_OFFICE = "township_office"
    DISTRICT_OFFICE = "district_office"


class Scope(StrEnum):
    PERSON = "person"  # one person row
    HOUSEHOLD = "household"  # one household form
    CROSS = "cross"  # several records (duplicates, roster)
    AREA = "area"  # an aggregate over a small area / village / township
    STAFF = "staff"  # an aggregate over one enumerator's work


@dataclass(frozen=True)
class Wording:
    """Another wording of a rule's message for the cases ``applies`` picks out: "a child less than 15 years younger
    than the head (gap -7)" is nonsense for a child seven years *older* than the head. ``derive`` adds the values
    the wording names (the gap the other way round, say) to the evidence."""

    applies: Callable[[Mapping[str, Any]], bool]
    message_zh: str
    message_en: str
    derive: Callable[[Mapping[str, Any]], Mapping[str, Any]] = lambda values: {}


@dataclass(frozen=True)
class Rule:
    code: str
    group: str
    severity: Severity
    scope: Scope
    message_zh: str
    message_en: str
    acts: Actor = Actor.REGISTRAR
    items: tuple[str, ...] = ()
    wordings: tuple[Wording, ...] = ()
    # What a person calls the rule (the findings' lists and filters, the check runs): the code is for the API.
    name_zh: str = ""
    name_en: str = ""

    @property
    def name(self) -> Promise:
        return bilingual(self.name_zh or self.code, self.name_en or self.code)  # type: ignore[no-any-return]

    @property
    def message(self) -> Promise:
        return bilingual(self.message_zh, self.message_en)  # type: ignore[no-any-return]

    def worded(self, values: Mapping[str, Any]) -> tuple[str, str, dict[str, Any]]:
        """The Chinese and English message for these evidence values, and the values with what the wording adds."""
        for wording in self.wordings:
            try:
                applies = wording.applies(values)
            except (KeyError, TypeError, ValueError):  # evidence without the value the wording tests
                applies = False
            if applies:
                return wording.message_zh, wording.message_en, {**values, **wording.derive(values)}
        return self.message_zh, self.message_en, dict(values)

    def message_for(self, values: Mapping[str, Any]) -> tuple[Promise, dict[str, Any]]:
        """The message (in the reader's language, still to be formatted) and the values to format it with."""
        zh, en, values = self.worded(values)
        return bilingual(zh, en), values

    def render(self, **values: Any) -> str:
        message, values = self.message_for(values)
        return str(message).format(**values) if values else str(message)

    def render_zh(self, **values: Any) -> str:
        zh, _en, values = self.worded(values)
        return zh.format(**values) if values else zh

    def render_en(self, **values: Any) -> str:
        _zh, en, values = self.worded(values)
        return en.format(**values) if values else en

    @property
    def blocks_signing(self) -> bool:
        return self.severity is Severity.HARD


def _age_gap_wordings(relative_zh: str, relative_en: str, *, elder: bool) -> tuple[Wording, ...]:
    """The age-gap rules' evidence ``gap`` is how much older (a parent) or younger (a child) the relative is than
    the head; zero and below are not "too small a gap" but the wrong way round, and say so."""
    other_zh, other_en = ("小", "younger") if elder else ("大", "older")

    def reversed_gap(values: Mapping[str, Any]) -> Mapping[str, Any]:
        return {"years": -int(values["gap"])}

    return (
        Wording(
            lambda values: int(values["gap"]) == 0,
            f"{relative_zh}与户主同岁，请核实D2与户主关系和D5出生年月。",
            f"The {relative_en} is the same age as the head: check D2 (relationship) and D5 (birth month).",
        ),
        Wording(
            lambda values: int(values["gap"]) < 0,
            f"{relative_zh}反而比户主{other_zh}{{years}}岁，请核实D2与户主关系和D5出生年月。",
            f"The {relative_en} is {{years}} years {other_en} than the head: check D2 (relationship) and D5 (birth "
            "month).",
            reversed_gap,
        ),
    )


H, W, N = Severity.HARD, Severity.WARNING, Severity.NIGHTLY
P, HH, X, AR, ST = Scope.PERSON, Scope.HOUSEHOLD, Scope.CROSS, Scope.AREA, Scope.STAFF

_RULES: tuple[Rule, ...] = (
    # --- completeness and codes (every item the form asks must be answered with a valid code) ----------
    Rule("ITEM_MISSING", "form", H, P, "{item} 未填写。", "{item} is not filled in.", items=("*",)),
    Rule(
        "ITEM_NOT_ASKED",
        "form",
        H,
        P,
        "{item} 按跳转规则不应填写。",
        "{item} must be left empty (skip rule).",
        items=("*",),
    ),
    Rule(
        "CODE_INVALID",
        "form",
        H,
        P,
        "{item} 的代码 {value} 不在代码表中。",
        "{item}: code {value} is not in the code list.",
        items=("*",),
    ),
    # --- A identity ----------------------------------------------------------------------------------
    Rule(
        "ID_FORMAT",
        "A",
        H,
        P,
        "公民身份号码应为17位数字加1位数字或X。",
        "The ID number must be 17 digits followed by a digit or X.",
        items=("D3",),
    ),
    Rule(
        "ID_CHECKSUM", "A", H, P, "公民身份号码校验码错误。", "The ID number's check character is wrong.", items=("D3",)
    ),
    Rule(
        "ID_BIRTH_DATE_INVALID",
        "A",
        H,
        P,
        "公民身份号码中的出生日期无效或晚于2020年10月31日。",
        "The birth date in the ID number is invalid or later than 2020-10-31.",
        items=("D3",),
    ),
    Rule(
        "ID_BIRTH_MISMATCH",
        "A",
        H,
        P,
        "公民身份号码的出生年月（{id_birth}）与D5出生年月（{birth}）不一致。",
        "The ID number's birth month ({id_birth}) differs from D5 ({birth}).",
        items=("D3", "D5"),
    ),
    Rule(
        "ID_SEX_MISMATCH",
        "A",
        H,
        P,
        "公民身份号码第17位表示的性别与D4性别不一致。",
        "The sex given by the ID number's 17th digit differs from D4.",
        items=("D3", "D4"),
    ),
    Rule(
        "ID_DUPLICATE_IN_HOUSEHOLD",
        "A",
        H,
        P,
        "同一户内公民身份号码重复（与第{other_row}行相同）。",
        "The same ID number appears twice in the household (also row {other_row}).",
        items=("D3",),
    ),
    Rule(
        "ID_ADDRESS_UNKNOWN",
        "A",
        W,
        P,
        "公民身份号码前6位地址码 {code} 不在行政区划代码历史表中。",
        "The ID number's address code {code} is not in the GB/T 2260 history.",
        items=("D3",),
    ),
    Rule(
        "ID_MISSING",
        "A",
        W,
        P,
        "未填写公民身份号码（新生儿未落户、户口待定以外的人应有号码）。",
        "No ID number (only unregistered newborns and persons with pending hukou lack one).",
        items=("D3",),
    ),
    Rule(
        "BIRTH_AFTER_REFERENCE",
        "A",
        H,
        P,
        "出生年月晚于普查标准时点（2020年11月1日）。",
        "Born after the reference moment (2020-11-01).",
        items=("D5",),
    ),
    # --- B household structure --------------------------------------------------------------------------
    Rule(
        "HEAD_NOT_FIRST",
        "B",
        H,
        HH,
        "家庭户的第一个人必须是户主。",
        "The first person of a family household must be the head.",
        items=("D2",),
    ),
    Rule(
        "HEAD_NOT_UNIQUE",
        "B",
        H,
        HH,
        "家庭户必须有且只有一个户主（现有{count}个）。",
        "A family household has exactly one head (found {count}).",
        items=("D2",),
    ),
    Rule(
        "PERSON_COUNT_MISMATCH",
        "B",
        H,
        HH,
        "H2应登记人数（{declared}）与登记的人数（{rows}）不一致。",
        "H2 ({declared}) differs from the number of person rows ({rows}).",
        items=("H2",),
    ),
    Rule(
        "PRESENT_COUNT_MISMATCH",
        "B",
        W,
        HH,
        "H2a普查时点住本户人数（{declared}）与D7为本普查小区的人数（{rows}）不一致。",
        "H2a ({declared}) differs from the persons whose D7 is this small area ({rows}).",
        items=("H2", "D7"),
    ),
    Rule(
        "BIRTHS_MISMATCH",
        "B",
        W,
        HH,
        "H3出生人口（男{h3_male}、女{h3_female}）与本户2019年11月以后出生的人（男{male}、女{female}）不一致。",
        "H3 births (male {h3_male}, female {h3_female}) differ from members born since 2019-11 "
        "(male {male}, female {female}).",
        items=("H3", "D5"),
    ),
    Rule(
        "DEATHS_MISMATCH",
        "B",
        H,
        HH,
        "H4死亡人口（男{h4_male}、女{h4_female}）与死亡人口调查表（男{male}、女{female}）不一致。",
        "H4 deaths (male {h4_male}, female {h4_female}) differ from the death register (male {male}, female {female}).",
        items=("H4",),
    ),
    Rule(
        "DEATH_BEFORE_BIRTH",
        "B",
        H,
        HH,
        "死亡人口调查表第{row}行的死亡时间早于出生时间。",
        "Death register row {row}: death before birth.",
        items=("H4",),
    ),
    Rule(
        "ALL_DEAD_HOUSEHOLD",
        "B",
        H,
        HH,
        "户编号999（全户死亡户）只填H4和死亡人口调查表，不能有人员。",
        "Household 999 (all members died) has only H4 and death records, no persons.",
        items=("H4",),
    ),
    Rule(
        "HOUSING_NOT_ASKED",
        "B",
        H,
        HH,
        "住所类型为{h5}时不填H6、H7。",
        "With H5 = {h5}, H6 and H7 stay empty.",
        items=("H5", "H6", "H7"),
    ),
    Rule(
        "HOUSING_MISSING",
        "B",
        H,
        HH,
        "住所类型为普通住宅时，H6建筑面积须大于0、H7间数至少为1。",
        "For an ordinary dwelling H6 must be above 0 and H7 at least 1.",
        items=("H5", "H6", "H7"),
    ),
    Rule(
        "FLOOR_AREA_PER_PERSON_HIGH",
        "B",
        W,
        HH,
        "人均建筑面积 {per_person} 平方米超过200平方米。",
        "Floor area per person {per_person} m² exceeds 200 m².",
        items=("H6",),
    ),
    Rule(
        "FLOOR_AREA_LOW",
        "B",
        W,
        HH,
        "住房建筑面积 {area} 平方米小于5平方米。",
        "Floor area {area} m² is below 5 m².",
        items=("H6",),
    ),
    Rule("ROOMS_HIGH", "B", W, HH, "住房间数 {rooms} 超过15间。", "{rooms} rooms is more than 15.", items=("H7",)),
    # --- C relationships --------------------------------------------------------------------------------
    Rule(
        "SPOUSE_MULTIPLE",
        "C",
        H,
        HH,
        "一户中不能有多个配偶（现有{count}个）。",
        "A household cannot have several spouses (found {count}).",
        items=("D2",),
    ),
    Rule(
        "SPOUSE_UNDER_15",
        "C",
        H,
        P,
        "配偶年龄（{age}岁）不满15周岁。",
        "A spouse aged {age} is under 15.",
        items=("D2", "D5"),
    ),
    Rule(
        "SPOUSE_UNDER_MARRIAGE_AGE",
        "C",
        W,
        P,
        "户主或配偶年龄（{age}岁）低于法定婚龄（男22岁、女20岁）。",
        "Head or spouse aged {age} is below the legal marriage age (men 22, women 20).",
        items=("D2", "D4", "D5"),
    ),
    Rule(
        "SPOUSE_SAME_SEX",
        "C",
        W,
        P,
        "配偶与户主性别相同。",
        "The spouse has the same sex as the head.",
        items=("D2", "D4"),
    ),
    Rule(
        "CHILD_AGE_GAP",
        "C",
        W,
        P,
        "子女只比户主小{gap}岁，不到15岁。",
        "The child is only {gap} years younger than the head, less than 15.",
        items=("D2", "D5"),
        wordings=_age_gap_wordings("子女", "child", elder=False),
    ),
    Rule(
        "PARENT_AGE_GAP",
        "C",
        W,
        P,
        "父母只比户主大{gap}岁，不到15岁。",
        "The parent is only {gap} years older than the head, less than 15.",
        items=("D2", "D5"),
        wordings=_age_gap_wordings("父母", "parent", elder=True),
    ),
    Rule(
        "GRANDPARENT_AGE_GAP",
        "C",
        W,
        P,
        "祖父母只比户主大{gap}岁，不到30岁。",
        "The grandparent is only {gap} years older than the head, less than 30.",
        items=("D2", "D5"),
        wordings=_age_gap_wordings("祖父母", "grandparent", elder=True),
    ),
    Rule(
        "GRANDCHILD_AGE_GAP",
        "C",
        W,
        P,
        "孙子女只比户主小{gap}岁，不到30岁。",
        "The grandchild is only {gap} years younger than the head, less than 30.",
        items=("D2", "D5"),
        wordings=_age_gap_wordings("孙子女", "grandchild", elder=False),
    ),
    Rule(
        "CHILD_IN_LAW_WITHOUT_CHILD",
        "C",
        W,
        P,
        "户内有媳婿但没有子女。",
        "A child-in-law but no child in the household.",
        items=("D2",),
    ),
    # --- D migration --------------------------------------------------------------------------------------
    Rule(
        "AWAY_LONGER_THAN_AGE",
        "D",
        H,
        P,
        "离开户口登记地时间超过年龄（{age}岁）。",
        "Time away from the hukou place exceeds the age ({age}).",
        items=("D9", "D5"),
    ),
    Rule(
        "AWAY_BUT_LIVES_AT_HUKOU",
        "D",
        W,
        P,
        "住本普查小区且户口在本村(居)委会，但D9为离开户口登记地。",
        "Lives here with hukou in this village, yet D9 says away from the hukou place.",
        items=("D7", "D8", "D9"),
    ),
    Rule(
        "AWAY_REASON_AGE",
        "D",
        W,
        P,
        "离开户口登记地原因“{reason}”与年龄（{age}岁）不符。",
        "Reason for leaving “{reason}” does not fit the age ({age}).",
        items=("D10", "D5"),
    ),
    # --- E education ------------------------------------------------------------------------------------
    Rule(
        "EDUCATION_AGE",
        "E",
        W,
        P,
        "受教育程度“{education}”与年龄（{age}岁）不符。",
        "Education “{education}” does not fit the age ({age}).",
        items=("D11", "D5"),
    ),
    Rule(
        "EDUCATED_ILLITERATE",
        "E",
        W,
        P,
        "受教育程度为初中及以上，但填报不识字。",
        "Junior secondary or more, yet not literate.",
        items=("D11", "D12"),
    ),
    # --- F long form ------------------------------------------------------------------------------------
    Rule(
        "MARRIED_UNDER_15",
        "F",
        H,
        P,
        "不满15周岁（{age}岁）的婚姻状况只能是未婚。",
        "Under 15 ({age}), the marital status can only be never married.",
        items=("C24",),
    ),
    Rule(
        "FIRST_MARRIAGE_DATE",
        "F",
        H,
        P,
        "初婚年月应在出生15年以后、2020年10月以前。",
        "First marriage must be at least 15 years after birth and no later than 2020-10.",
        items=("C25", "C5"),
    ),
    Rule(
        "CHILDREN_ALIVE_EXCEEDS_BORN",
        "F",
        H,
        P,
        "存活子女数多于生育子女数。",
        "More children alive than ever born.",
        items=("C26",),
    ),
    Rule(
        "FERTILITY_NOT_WOMAN",
        "F",
        H,
        P,
        "生育情况只对女性填报。",
        "Fertility items are for women only.",
        items=("C26", "C27"),
    ),
    Rule(
        "BIRTH_LAST_YEAR_NO_INFANT",
        "F",
        W,
        P,
        "填报一年内有生育，但户内没有一岁以下婴儿且H3为0。",
        "A birth in the past year is reported, yet there is no infant and H3 is 0.",
        items=("C27", "H3"),
    ),
    Rule(
        "RETIRED_YOUNG", "F", W, P, "未工作原因为离退休，但年龄只有{age}岁。", "Retired at age {age}.", items=("C22",)
    ),
    Rule("STUDENT_OLD", "F", W, P, "未工作原因为在校学习，但年龄为{age}岁。", "Studying at age {age}.", items=("C22",)),
    Rule(
        "HOURS_RANGE",
        "F",
        H,
        P,
        "工作时间应在1至98小时之间。",
        "Hours worked must lie between 1 and 98.",
        items=("C18",),
    ),
    Rule(
        "RENT_NOT_ASKED",
        "F",
        H,
        HH,
        "只有租赁住房（H17为1或2）才填月租房费用。",
        "Monthly rent only for rented housing (H17 1 or 2).",
        items=("H17", "H18"),
    ),
    # --- process (谁登记、谁签字) ------------------------------------------------------------------------
    Rule(
        "SIGNED_BY_OTHER",
        "process",
        N,
        HH,
        "表由 {signer} 签字，而不是登记人 {registrar}。",
        "The form was signed by {signer}, not by its registrar {registrar}.",
        acts=Actor.SUPERVISOR,
        items=(),
    ),
    Rule(
        "CONTENT_CHANGED_AFTER_SIGNING",
        "process",
        N,
        HH,
        "签字后表的内容被改动，与签名不符。",
        "The form was changed after it was signed and no longer matches its signature.",
        acts=Actor.SUPERVISOR,
    ),
    Rule(
        "SIGNATURE_CHAIN_BROKEN",
        "process",
        N,
        HH,
        "普查小区签名链在第{seq}个签名处断开：{detail}。",
        "The small area's signature chain breaks at signature {seq}: {detail}.",
        acts=Actor.DISTRICT_OFFICE,
    ),
    Rule(
        "SIGNATURE_IMAGE_CHANGED",
        "process",
        N,
        HH,
        "申报人签名图像与签字时的SHA-256不符：图像在签字后被替换或删除。",
        "The respondent's signature image no longer matches the SHA-256 that was signed: it was replaced or removed.",
        acts=Actor.DISTRICT_OFFICE,
    ),
    Rule(
        "STATE_TRAIL_BROKEN",
        "process",
        N,
        HH,
        "表的状态（{state}）与经签名的状态变更记录不符：{detail}。",
        "The form's state ({state}) does not follow from its sealed trail of state changes: {detail}.",
        acts=Actor.DISTRICT_OFFICE,
    ),
    Rule(
        "REGISTRAR_CHANGED",
        "process",
        N,
        HH,
        "登记人被改为 {registrar}，状态变更记录中开始登记的是 {recorded}。",
        "The registrar was changed to {registrar}; the trail records {recorded} as the one who started the form.",
        acts=Actor.DISTRICT_OFFICE,
    ),
    Rule(
        "SELF_REPORTED_AND_DOOR",
        "process",
        N,
        HH,
        "本户已自主填报并申报（确认号 {confirmation}），又由普查员入户登记：疑似重复登记，请与住户核实后处理。",
        "The household declared its own form (confirmation {confirmation}) and was also registered at the door: "
        "a possible double registration to resolve with the household.",
        acts=Actor.SUPERVISOR,
    ),
    # --- duplicates -------------------------------------------------------------------------------------
    Rule(
        "ID_DUPLICATE_DISTRICT",
        "duplicates",
        N,
        X,
        "公民身份号码与其他户（{other}）的人重复，疑似重复登记。",
        "The ID number also appears in another household ({other}): possible double count.",
        items=("D3",),
    ),
    # The city-level check (supervision.quality.services.city_duplicates_check): one finding in each district.
    Rule(
        "ID_DUPLICATE_CITY",
        "duplicates",
        N,
        X,
        "公民身份号码也登记在本市其他区县（{other}），疑似跨区县重复登记，请与该户核实。",
        "The ID number is also registered in another district of the city ({other}): a possible double count "
        "across districts, to check with the household.",
        items=("D3",),
    ),
    Rule(
        "NEAR_DUPLICATE_PERSON",
        "duplicates",
        N,
        X,
        "与其他户（{other}）的人姓名、出生年月和地址码相同，疑似重复登记。",
        "Same name, birth month and address code as a person in another household ({other}).",
        items=("D1", "D5"),
    ),
    # --- coverage ---------------------------------------------------------------------------------------
    Rule(
        "COVERAGE_HOUSEHOLDS",
        "coverage",
        N,
        AR,
        "已登记户数（{registered}）与摸底户数（{listed}）相差{gap}。",
        "Registered households ({registered}) differ from listed ({listed}) by {gap}.",
        acts=Actor.SUPERVISOR,
    ),
    Rule(
        "COVERAGE_PERSONS",
        "coverage",
        N,
        AR,
        "已登记人数（{registered}）与摸底人数（{listed}）相差{gap}。",
        "Registered persons ({registered}) differ from listed ({listed}) by {gap}.",
        acts=Actor.SUPERVISOR,
    ),
    # --- roster (户籍) ----------------------------------------------------------------------------------
    Rule(
        "ROSTER_NOT_REGISTERED",
        "roster",
        N,
        X,
        "户籍人口 {name}（{key}）在全区未登记，疑似漏登。",
        "Roster person {name} ({key}) is registered nowhere in the district: possible omission.",
        acts=Actor.REGISTRAR,
    ),
    # --- enumerator anomalies ---------------------------------------------------------------------------
    Rule(
        "SPEED_IMPLAUSIBLE",
        "anomaly",
        N,
        ST,
        "{date} 一小时内签字 {count} 户，速度不合常理。",
        "{count} households signed within one hour on {date}: implausibly fast.",
        acts=Actor.SUPERVISOR,
    ),
    Rule(
        "COPY_PASTE_HOUSEHOLDS",
        "anomaly",
        N,
        ST,
        "与同一普查员登记的另一户（{other}）人员信息几乎相同，疑似复制。",
        "Nearly identical to another household of the same enumerator ({other}): possible copy.",
        acts=Actor.SUPERVISOR,
    ),
    Rule(
        "AGE_HEAPING",
        "anomaly",
        N,
        ST,
        "普查员登记人口的年龄堆积指数（Whipple）为{index}，超出正常范围。",
        "The Whipple index of this enumerator's persons is {index}: age heaping.",
        acts=Actor.SUPERVISOR,
    ),
    Rule(
        "SEX_RATIO_BY_AGE",
        "anomaly",
        N,
        ST,
        "普查员登记人口{group}的性别比为{ratio}，超出正常范围。",
        "Sex ratio {ratio} in age group {group} of this enumerator's persons is out of range.",
        acts=Actor.SUPERVISOR,
    ),
    # --- G aggregates -----------------------------------------------------------------------------------
    Rule(
        "AREA_SEX_RATIO",
        "G",
        N,
        AR,
        "{area} 性别比为{ratio}，超出范围。",
        "Sex ratio of {area} is {ratio}: out of range.",
        acts=Actor.TOWNSHIP_OFFICE,
    ),
    Rule(
        "AREA_HOUSEHOLD_SIZE",
        "G",
        N,
        AR,
        "{area} 平均家庭户规模为{size}，超出1.5–4。",
        "Average family-household size of {area} is {size}: outside 1.5–4.",
        acts=Actor.TOWNSHIP_OFFICE,
    ),
    Rule(
        "AREA_INFANTS_VS_BIRTHS",
        "G",
        N,
        AR,
        "{area} 0岁人口（{infants}）与H3出生人口（{births}）不一致。",
        "Infants ({infants}) and H3 births ({births}) of {area} disagree.",
        acts=Actor.TOWNSHIP_OFFICE,
    ),
    Rule(
        "AREA_MONTH_HEAPING",
        "G",
        N,
        AR,
        "{area} 1月出生的人占{share}，月份堆积。",
        "{share} of {area} were born in January: month heaping.",
        acts=Actor.TOWNSHIP_OFFICE,
    ),
    Rule(
        "AREA_HUKOU_PENDING_SHARE",
        "G",
        N,
        AR,
        "{area} 户口待定人口占{share}，偏高。",
        "{share} of {area} have pending hukou: too many.",
        acts=Actor.TOWNSHIP_OFFICE,
    ),
    Rule(
        "AREA_ROSTER_GAP",
        "G",
        N,
        AR,
        "{area} 登记人数与户籍人数差率{rate}‰，超过4‰。",
        "Registered and roster persons of {area} differ by {rate}‰, above 4‰.",
        acts=Actor.TOWNSHIP_OFFICE,
    ),
)

# What a person calls each rule, in Chinese and English: the lists and filters show the name, never the code.
NAMES: dict[str, tuple[str, str]] = {
    "ITEM_MISSING": ("项目漏填", "Item not filled in"),
    "ITEM_NOT_ASKED": ("不应填的项目已填", "Item filled in that the skip rule leaves empty"),
    "CODE_INVALID": ("代码不在代码表中", "Code not in the code list"),
    "ID_FORMAT": ("身份证号格式错误", "ID number badly formed"),
    "ID_CHECKSUM": ("身份证号校验码错误", "ID number check character wrong"),
    "ID_BIRTH_DATE_INVALID": ("身份证号出生日期无效", "ID number's birth date invalid"),
    "ID_BIRTH_MISMATCH": ("身份证号与出生年月不符", "ID number and birth month disagree"),
    "ID_SEX_MISMATCH": ("身份证号与性别不符", "ID number and sex disagree"),
    "ID_DUPLICATE_IN_HOUSEHOLD": ("户内身份证号重复", "Same ID number twice in a household"),
    "ID_ADDRESS_UNKNOWN": ("身份证号地址码不存在", "ID number's address code unknown"),
    "ID_MISSING": ("未填身份证号", "ID number missing"),
    "BIRTH_AFTER_REFERENCE": ("出生晚于普查时点", "Born after the reference moment"),
    "HEAD_NOT_FIRST": ("户主不在第一行", "Head not on the first row"),
    "HEAD_NOT_UNIQUE": ("户主不是一个", "Not exactly one head"),
    "PERSON_COUNT_MISMATCH": ("H2人数与登记人数不符", "H2 and the persons registered disagree"),
    "PRESENT_COUNT_MISMATCH": ("H2a人数与现住人数不符", "H2a and the persons present disagree"),
    "BIRTHS_MISMATCH": ("H3出生人口与户内婴儿不符", "H3 births and the infants disagree"),
    "DEATHS_MISMATCH": ("H4死亡人口与死亡调查表不符", "H4 deaths and the death register disagree"),
    "DEATH_BEFORE_BIRTH": ("死亡早于出生", "Death before birth"),
    "ALL_DEAD_HOUSEHOLD": ("全户死亡户登记了人员", "All-dead household with persons"),
    "HOUSING_NOT_ASKED": ("不应填的住房项目已填", "Housing items filled in that stay empty"),
    "HOUSING_MISSING": ("住房面积或间数漏填", "Floor area or rooms missing"),
    "FLOOR_AREA_PER_PERSON_HIGH": ("人均住房面积过大", "Floor area per person too large"),
    "FLOOR_AREA_LOW": ("住房面积过小", "Floor area too small"),
    "ROOMS_HIGH": ("住房间数过多", "Too many rooms"),
    "SPOUSE_MULTIPLE": ("配偶多于一个", "More than one spouse"),
    "SPOUSE_UNDER_15": ("配偶不满15岁", "Spouse under 15"),
    "SPOUSE_UNDER_MARRIAGE_AGE": ("未到法定婚龄", "Below the legal marriage age"),
    "SPOUSE_SAME_SEX": ("配偶与户主同性别", "Spouse of the head's sex"),
    "CHILD_AGE_GAP": ("子女与户主年龄差过小", "Child too close in age to the head"),
    "PARENT_AGE_GAP": ("父母与户主年龄差过小", "Parent too close in age to the head"),
    "GRANDPARENT_AGE_GAP": ("祖父母与户主年龄差过小", "Grandparent too close in age to the head"),
    "GRANDCHILD_AGE_GAP": ("孙子女与户主年龄差过小", "Grandchild too close in age to the head"),
    "CHILD_IN_LAW_WITHOUT_CHILD": ("有媳婿而无子女", "Child-in-law without a child"),
    "AWAY_LONGER_THAN_AGE": ("离开户口地时间超过年龄", "Away longer than the age"),
    "AWAY_BUT_LIVES_AT_HUKOU": ("住户口所在地却填离开", "Away yet living at the hukou place"),
    "AWAY_REASON_AGE": ("离开户口地原因与年龄不符", "Reason for leaving unfit for the age"),
    "EDUCATION_AGE": ("受教育程度与年龄不符", "Education unfit for the age"),
    "EDUCATED_ILLITERATE": ("初中以上却不识字", "Educated yet not literate"),
    "MARRIED_UNDER_15": ("不满15岁却非未婚", "Married under 15"),
    "FIRST_MARRIAGE_DATE": ("初婚年月不合理", "First marriage date implausible"),
    "CHILDREN_ALIVE_EXCEEDS_BORN": ("存活子女多于生育子女", "More children alive than born"),
    "FERTILITY_NOT_WOMAN": ("男性填了生育情况", "Fertility filled in for a man"),
    "BIRTH_LAST_YEAR_NO_INFANT": ("一年内生育却无婴儿", "Birth last year but no infant"),
    "RETIRED_YOUNG": ("离退休年龄过小", "Retired too young"),
    "STUDENT_OLD": ("在校学习年龄过大", "Studying too old"),
    "HOURS_RANGE": ("工作时间超出范围", "Hours worked out of range"),
    "RENT_NOT_ASKED": ("非租房填了月租", "Rent for housing not rented"),
    "SIGNED_BY_OTHER": ("非登记人签字", "Signed by someone other than the registrar"),
    "CONTENT_CHANGED_AFTER_SIGNING": ("签字后内容被改动", "Changed after signing"),
    "SIGNATURE_CHAIN_BROKEN": ("签名链断开", "Signature chain broken"),
    "ID_DUPLICATE_DISTRICT": ("全区身份证号重复", "ID number in two households of the district"),
    "NEAR_DUPLICATE_PERSON": ("疑似重复登记", "Possible double count"),
    "ID_DUPLICATE_CITY": ("跨区县身份证号重复", "ID number registered in two districts"),
    "COVERAGE_HOUSEHOLDS": ("登记户数与摸底户数不符", "Households registered and listed disagree"),
    "COVERAGE_PERSONS": ("登记人数与摸底人数不符", "Persons registered and listed disagree"),
    "ROSTER_NOT_REGISTERED": ("户籍人口疑似漏登", "Roster person possibly missed"),
    "SPEED_IMPLAUSIBLE": ("签字速度过快", "Signing implausibly fast"),
    "COPY_PASTE_HOUSEHOLDS": ("两户内容几乎相同", "Two households nearly identical"),
    "AGE_HEAPING": ("年龄堆积", "Age heaping"),
    "SEX_RATIO_BY_AGE": ("分年龄性别比异常", "Sex ratio by age out of range"),
    "AREA_SEX_RATIO": ("性别比异常", "Sex ratio out of range"),
    "AREA_HOUSEHOLD_SIZE": ("平均户规模异常", "Average household size out of range"),
    "AREA_INFANTS_VS_BIRTHS": ("0岁人口与出生人口不符", "Infants and births disagree"),
    "AREA_MONTH_HEAPING": ("出生月份堆积", "Birth month heaping"),
    "AREA_HUKOU_PENDING_SHARE": ("户口待定人口偏多", "Too many with pending hukou"),
    "AREA_ROSTER_GAP": ("登记人数与户籍人数差距过大", "Registered and roster persons too far apart"),
    # Rules other branches add, named here so that they read as a name from the first merge on.
    "SIGNATURE_IMAGE_CHANGED": ("申报人签名图像被替换", "Respondent's signature image replaced"),
    "STATE_TRAIL_BROKEN": ("状态与变更记录不符", "State does not follow its trail"),
    "REGISTRAR_CHANGED": ("登记人被更改", "Registrar changed"),
    "SELF_REPORTED_AND_DOOR": ("自主填报又入户登记", "Self-reported and registered at the door"),
}

RULES: tuple[Rule, ...] = tuple(
    replace(rule, name_zh=NAMES[rule.code][0], name_en=NAMES[rule.code][1]) if rule.code in NAMES else rule
    for rule in _RULES
)
CATALOGUE: dict[str, Rule] = {rule.code: rule for rule in RULES}
ENTRY_RULES: tuple[Rule, ...] = tuple(rule for rule in RULES if rule.severity is not Severity.NIGHTLY)


def rule(code: str) -> Rule:
    return CATALOGUE[code]
