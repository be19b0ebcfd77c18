"""The 2020 form code lists, in one place, with Chinese and English labels.

Each list is keyed by its item code (H5, D2, C24 …). Lists the domain reference marks as unverified
(``verified=False``) can be replaced per installation through ``settings.CENSUS_CODE_LISTS`` — e.g.
``{"D10": [(1, "工作就业", "Work"), …]}`` — without touching code. Models, forms, the API schema, the
validation rules and the summary tables all read the lists from here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.conf import settings
from django.utils.functional import Promise, lazy
from django.utils.translation import get_language


def _pick(zh: str, en: str) -> str:
    language = get_language() or settings.LANGUAGE_CODE
    return zh if language.lower().startswith("zh") else en


bilingual: Any = lazy(_pick, str)


@dataclass(frozen=True)
class CodeList:
    item: str
    title_zh: str
    title_en: str
    entries: tuple[tuple[int, str, str], ...]
    verified: bool = True
    notes: str = field(default="", compare=False)

    def __iter__(self) -> Iterator[tuple[int, str, str]]:
        return iter(self.entries)

    @property
    def codes(self) -> frozenset[int]:
        return frozenset(code for code, _, _ in self.entries)

    @property
    def title(self) -> Promise:
        return bilingual(self.title_zh, self.title_en)  # type: ignore[no-any-return]

    def choices(self) -> list[tuple[int, Promise]]:
        return [(code, bilingual(f"{code} {zh}", f"{code} {en}")) for code, zh, en in self.entries]

    def label(self, code: int | None) -> str:
        for value, zh, en in self.entries:
            if value == code:
                return str(bilingual(zh, en))
        return "" if code is None else str(code)

    def zh(self, code: int | None) -> str:
        return next((zh for value, zh, _ in self.entries if value == code), "")


def _list(
    item: str,
    title_zh: str,
    title_en: str,
    entries: list[tuple[int, str, str]],
    *,
    verified: bool = True,
    notes: str = "",
) -> CodeList:
    override = getattr(settings, "CENSUS_CODE_LISTS", {}).get(item)
    if override:
        entries = [tuple(entry) for entry in override]  # type: ignore[misc]
    return CodeList(item, title_zh, title_en, tuple(entries), verified=verified, notes=notes)


YES_NO = [(1, "是", "Yes"), (2, "否", "No")]
HAS_NOT = [(1, "有", "Yes"), (2, "无", "No")]


@cache
def code_lists() -> dict[str, CodeList]:
    lists = [
        # --- short form, household items (R601) ------------------------------------------------------
        _list(
            "H1", "户别", "Household type", [(1, "家庭户", "Family household"), (2, "集体户", "Collective household")]
        ),
        _list(
            "H5",
            "住所类型",
            "Type of residence",
            [
                (1, "普通住宅", "Ordinary dwelling"),
                (2, "集体住所", "Collective quarters"),
                (3, "工作地住所", "Workplace quarters"),
                (4, "其他住房", "Other housing"),
                (5, "无住房", "No housing"),
            ],
        ),
        # --- short form, person items ------------------------------------------------------------------
        _list(
            "D2",
            "与户主关系",
            "Relationship to the head",
            [
                (0, "户主", "Head"),
                (1, "配偶", "Spouse"),
                (2, "子女", "Child"),
                (3, "父母", "Parent"),
                (4, "岳父母或公婆", "Parent-in-law"),
                (5, "祖父母", "Grandparent"),
                (6, "媳婿", "Child-in-law"),
                (7, "孙子女", "Grandchild"),
                (8, "兄弟姐妹", "Sibling"),
                (9, "其他", "Other"),
            ],
        ),
        _list("D4", "性别", "Sex", [(1, "男", "Male"), (2, "女", "Female")]),
        _list(
            "D7",
            "普查时点居住地",
            "Residence at the reference moment",
            [
                (1, "本普查小区", "This small area"),
                (2, "本村(居)委会其他普查小区", "Another small area of this village"),
                (3, "本乡(镇、街道)其他村(居)委会", "Another village of this township"),
                (4, "本县(市、区)其他乡(镇、街道)", "Another township of this county"),
                (5, "其他县(市、区)", "Another county"),
            ],
            notes="Codes for HK/Macao/Taiwan and abroad are unverified and not offered; add them here if confirmed.",
        ),
        _list(
            "D8",
            "户口登记地",
            "Place of hukou registration",
            [
                (1, "本村(居)委会", "This village"),
                (2, "本乡(镇、街道)其他村(居)委会", "Another village of this township"),
                (3, "本县(市、区)其他乡(镇、街道)", "Another township of this county"),
                (4, "其他县(市、区)", "Another county"),
                (5, "户口待定", "Hukou pending"),
            ],
        ),
        _list(
            "D9",
            "离开户口登记地时间",
            "Time away from the hukou place",
            [
                (1, "没有离开户口登记地", "Never left"),
                (2, "不满半年", "Under half a year"),
                (3, "半年以上，不满一年", "Half a year to 1 year"),
                (4, "一年以上，不满二年", "1 to 2 years"),
                (5, "二年以上，不满三年", "2 to 3 years"),
                (6, "三年以上，不满四年", "3 to 4 years"),
                (7, "四年以上，不满五年", "4 to 5 years"),
                (8, "五年以上，不满十年", "5 to 10 years"),
                (9, "十年以上", "10 years or more"),
            ],
        ),
        _list(
            "D10",
            "离开户口登记地原因",
            "Reason for leaving the hukou place",
            [
                (1, "工作就业", "Work"),
                (2, "学习培训", "Study or training"),
                (3, "随同离开/投亲靠友", "Accompanying family / joining relatives"),
                (4, "拆迁/搬家", "Demolition or moving house"),
                (5, "寄挂户口", "Hukou registered elsewhere only"),
                (6, "婚姻嫁娶", "Marriage"),
                (7, "照料孙子女", "Caring for grandchildren"),
                (8, "为子女就学", "Children's schooling"),
                (9, "养老/康养", "Retirement or care"),
                (10, "其他", "Other"),
            ],
            verified=False,
            notes="Order verified in two local apps; the official numeric codes are not.",
        ),
        _list(
            "D11",
            "受教育程度",
            "Education",
            [
                (1, "未上过学", "Never attended school"),
                (2, "学前教育", "Pre-school"),
                (3, "小学", "Primary"),
                (4, "初中", "Junior secondary"),
                (5, "高中", "Senior secondary"),
                (6, "大学专科", "College (3-year)"),
                (7, "大学本科", "University (bachelor)"),
                (8, "硕士研究生", "Master's"),
                (9, "博士研究生", "Doctorate"),
            ],
        ),
        _list("D12", "是否识字", "Literate", YES_NO),
        # --- long form, household items ----------------------------------------------------------------
        _list(
            "H8",
            "住房所在建筑的总层数",
            "Storeys of the building",
            [
                (1, "平房", "Single storey"),
                (2, "多层(7层及以下)", "Multi-storey (≤7)"),
                (3, "高层(8–33层)", "High-rise (8–33)"),
                (4, "超高层(34层及以上)", "Super high-rise (≥34)"),
            ],
        ),
        _list(
            "H9",
            "承重类型",
            "Load-bearing structure",
            [
                (1, "钢及钢筋混凝土结构", "Steel / reinforced concrete"),
                (2, "混合结构", "Mixed"),
                (3, "砖木结构", "Brick and wood"),
                (4, "竹草土坯结构", "Bamboo, straw or adobe"),
                (5, "其他结构", "Other"),
            ],
        ),
        _list(
            "H10",
            "住房建成年代",
            "Year built",
            [
                (1, "1949年以前", "Before 1949"),
                (2, "1949–1959年", "1949–1959"),
                (3, "1960–1969年", "1960–1969"),
                (4, "1970–1979年", "1970–1979"),
                (5, "1980–1989年", "1980–1989"),
                (6, "1990–1999年", "1990–1999"),
                (7, "2000–2009年", "2000–2009"),
                (8, "2010–2014年", "2010–2014"),
                (9, "2015年以后", "2015 or later"),
            ],
        ),
        _list("H11", "住房所在建筑有无电梯", "Lift in the building", HAS_NOT, verified=False),
        _list(
            "H12",
            "主要炊事燃料",
            "Main cooking fuel",
            [
                (1, "燃气", "Gas"),
                (2, "电", "Electricity"),
                (3, "煤炭", "Coal"),
                (4, "柴草", "Firewood or straw"),
                (5, "其他", "Other"),
            ],
        ),
        _list("H13", "住房内有无管道自来水", "Piped water", HAS_NOT),
        _list(
            "H14",
            "住房内有无厨房",
            "Kitchen",
            [(1, "独立使用", "Own"), (2, "与其他户合用", "Shared"), (3, "无", "None")],
        ),
        _list(
            "H15",
            "住房内有无厕所",
            "Toilet",
            [
                (1, "水冲式卫生厕所", "Flush, sanitary"),
                (2, "水冲式非卫生厕所", "Flush, non-sanitary"),
                (3, "卫生旱厕", "Sanitary dry toilet"),
                (4, "普通旱厕", "Ordinary dry toilet"),
                (5, "无", "None"),
            ],
        ),
        _list(
            "H16",
            "住房内有无洗澡设施",
            "Bathing facilities",
            [
                (1, "统一供热水", "Central hot water"),
                (2, "家庭自装热水器", "Own water heater"),
                (3, "其他", "Other"),
                (4, "无", "None"),
            ],
        ),
        _list(
            "H17",
            "住房来源",
            "Tenure",
            [
                (1, "租赁廉租房/公租房", "Renting public housing"),
                (2, "租赁其他住房", "Renting other housing"),
                (3, "购买新建商品房", "Bought new commercial housing"),
                (4, "购买二手房", "Bought second-hand"),
                (5, "购买原公有住房", "Bought former public housing"),
                (6, "购买经济适用房/两限房", "Bought affordable housing"),
                (7, "自建住房", "Self-built"),
                (8, "继承或赠与", "Inherited or gift"),
                (9, "其他", "Other"),
            ],
        ),
        _list(
            "H18",
            "月租房费用",
            "Monthly rent",
            [
                (1, "200元以下", "Under 200 yuan"),
                (2, "200–499元", "200–499 yuan"),
                (3, "500–999元", "500–999 yuan"),
                (4, "1000–1999元", "1,000–1,999 yuan"),
                (5, "2000–2999元", "2,000–2,999 yuan"),
                (6, "3000–4999元", "3,000–4,999 yuan"),
                (7, "5000–9999元", "5,000–9,999 yuan"),
                (8, "10000元及以上", "10,000 yuan or more"),
            ],
            verified=False,
            notes="Rent bands are unverified (the local source has typos).",
        ),
        _list(
            "H19",
            "拥有全部家用汽车的总价",
            "Value of household cars",
            [
                (1, "没有汽车", "No car"),
                (2, "不满10万元", "Under 100,000 yuan"),
                (3, "10–20万元", "100,000–200,000"),
                (4, "20–30万元", "200,000–300,000"),
                (5, "30–50万元", "300,000–500,000"),
                (6, "50–100万元", "500,000–1,000,000"),
                (7, "100万元以上", "Over 1,000,000"),
            ],
            verified=False,
        ),
        # --- long form, person items -------------------------------------------------------------------
        _list(
            "C11",
            "户口登记地类型",
            "Type of hukou place",
            [
                (1, "乡", "Xiang"),
                (2, "镇的村委会", "Village of a town"),
                (3, "镇的居委会", "Residents' committee of a town"),
                (4, "街道", "Sub-district"),
            ],
            verified=False,
        ),
        _list("C12", "是否有农村土地承包经营权", "Rural land contract right", HAS_NOT),
        _list(
            "C13",
            "出生地",
            "Place of birth",
            [
                (1, "本县(市、区)", "This county"),
                (2, "本省其他县(市、区)", "Another county of this province"),
                (3, "省外", "Another province"),
            ],
        ),
        _list(
            "C14",
            "五年前常住地",
            "Usual residence five years ago",
            [(1, "本县(市、区)", "This county"), (2, "其他地区", "Elsewhere")],
        ),
        _list(
            "C16",
            "学业完成情况",
            "Schooling status",
            [
                (1, "在校", "Attending"),
                (2, "毕业", "Graduated"),
                (3, "肄业", "Left without diploma"),
                (4, "辍学", "Dropped out"),
                (5, "其他", "Other"),
            ],
        ),
        _list(
            "C18",
            "工作情况",
            "Work in the reference week",
            [
                (1, "工作一小时以上", "Worked at least one hour"),
                (2, "在职休假、学习培训、临时停工", "On leave, training or temporary lay-off"),
                (3, "未做任何工作", "Did not work"),
            ],
        ),
        _list(
            "C19",
            "工作单位类型",
            "Type of work unit",
            [
                (1, "法人单位", "Legal entity"),
                (2, "个体经营户", "Individual business"),
                (3, "经营农村家庭承包地", "Family farm"),
                (4, "自由职业/灵活就业", "Freelance / flexible"),
            ],
        ),
        _list(
            "C22",
            "未工作原因",
            "Reason for not working",
            [
                (1, "在校学习", "Studying"),
                (2, "离退休", "Retired"),
                (3, "料理家务", "Housework"),
                (4, "丧失工作能力", "Unable to work"),
                (5, "其他", "Other"),
            ],
        ),
        _list(
            "C23",
            "主要生活来源",
            "Main source of livelihood",
            [
                (1, "劳动收入", "Work income"),
                (2, "离退休金/养老金", "Pension"),
                (3, "最低生活保障", "Minimum living allowance"),
                (4, "失业保险金", "Unemployment insurance"),
                (5, "财产性收入", "Property income"),
                (6, "家庭其他成员供养", "Supported by family"),
                (7, "其他", "Other"),
            ],
        ),
        _list(
            "C24",
            "婚姻状况",
            "Marital status",
            [(1, "未婚", "Never married"), (2, "有配偶", "Married"), (3, "离婚", "Divorced"), (4, "丧偶", "Widowed")],
        ),
        _list(
            "C27",
            "过去一年的生育状况",
            "Births in the past year",
            [(1, "一年内未生育", "No birth"), (2, "一年内有生育", "Gave birth")],
        ),
        _list(
            "C28",
            "居住状况",
            "Living arrangement (older persons)",
            [
                (1, "与配偶和子女同住", "With spouse and children"),
                (2, "与配偶同住", "With spouse"),
                (3, "与子女同住", "With children"),
                (4, "独居(有保姆)", "Alone, with a carer"),
                (5, "独居(无保姆)", "Alone, no carer"),
                (6, "养老机构", "Care institution"),
                (7, "其他", "Other"),
            ],
            verified=False,
        ),
        _list(
            "C29",
            "身体健康状况",
            "Health",
            [
                (1, "健康", "Healthy"),
                (2, "基本健康", "Basically healthy"),
                (3, "不健康，但生活能自理", "Unhealthy but self-reliant"),
                (4, "生活不能自理", "Not self-reliant"),
            ],
        ),
        # --- 港澳台居民和外籍人员普查表 -----------------------------------------------------------------------
        _list(
            "F_IDENTITY",
            "身份或国籍",
            "Status or nationality",
            [
                (1, "香港特别行政区居民", "Hong Kong resident"),
                (2, "澳门特别行政区居民", "Macao resident"),
                (3, "台湾地区居民", "Taiwan resident"),
                (4, "外籍人员", "Foreign national"),
            ],
        ),
        _list(
            "F_STAY",
            "居住时间",
            "Length of stay",
            [
                (1, "三个月以下", "Under 3 months"),
                (2, "三个月至半年", "3–6 months"),
                (3, "半年至一年", "6–12 months"),
                (4, "一年至两年", "1–2 years"),
                (5, "两年至五年", "2–5 years"),
                (6, "五年以上", "5 years or more"),
            ],
        ),
        _list(
            "F_PURPOSE",
            "来内地(大陆)或来华目的",
            "Purpose of stay",
            [
                (1, "商务", "Business"),
                (2, "就业", "Employment"),
                (3, "学习", "Study"),
                (4, "定居", "Settlement"),
                (5, "探亲", "Family visit"),
                (6, "其他", "Other"),
            ],
        ),
        _list(
            "F_EMPLOYED",
            "就业情况",
            "Employment",
            [(1, "就业", "Employed"), (2, "未就业", "Not employed")],
            verified=False,
        ),
    ]
    return {code_list.item: code_list for code_list in lists}


def code_list(item: str) -> CodeList:
    return code_lists()[item]


def choices(item: str) -> list[tuple[int, Promise]]:
    return code_list(item).choices()


# GB 3304-91 民族 codes. 97 = 未识别民族, 98 = 外国血统中国籍人士.
ETHNIC_GROUPS: dict[str, str] = {
    "01": "汉族",
    "02": "蒙古族",
    "03": "回族",
    "04": "藏族",
    "05": "维吾尔族",
    "06": "苗族",
    "07": "彝族",
    "08": "壮族",
    "09": "布依族",
    "10": "朝鲜族",
    "11": "满族",
    "12": "侗族",
    "13": "瑶族",
    "14": "白族",
    "15": "土家族",
    "16": "哈尼族",
    "17": "哈萨克族",
    "18": "傣族",
    "19": "黎族",
    "20": "傈僳族",
    "21": "佤族",
    "22": "畲族",
    "23": "高山族",
    "24": "拉祜族",
    "25": "水族",
    "26": "东乡族",
    "27": "纳西族",
    "28": "景颇族",
    "29": "柯尔克孜族",
    "30": "土族",
    "31": "达斡尔族",
    "32": "仫佬族",
    "33": "羌族",
    "34": "布朗族",
    "35": "撒拉族",
    "36": "毛南族",
    "37": "仡佬族",
    "38": "锡伯族",
    "39": "阿昌族",
    "40": "普米族",
    "41": "塔吉克族",
    "42": "怒族",
    "43": "乌孜别克族",
    "44": "俄罗斯族",
    "45": "鄂温克族",
    "46": "德昂族",
    "47": "保安族",
    "48": "裕固族",
    "49": "京族",
    "50": "塔塔尔族",
    "51": "独龙族",
    "52": "鄂伦春族",
    "53": "赫哲族",
    "54": "门巴族",
    "55": "珞巴族",
    "56": "基诺族",
    "97": "其他未识别民族",
    "98": "外国血统中国籍人士",
}
# Older datasets use the former names; accept them when typed and store the code.
ETHNIC_GROUP_ALIASES: dict[str, str] = {"毛难族": "36", "崩龙族": "46"}


def ethnicity_choices() -> list[tuple[str, str]]:
    return [(code, f"{code} {name}") for code, name in ETHNIC_GROUPS.items()]
