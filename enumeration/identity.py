"""公民身份号码 (GB 11643-1999) and ages at the reference moment.

The check character comes from python-stdnum (ISO 7064 MOD 11-2). stdnum's ``is_valid`` is deliberately
not used as a verdict: it also demands that the address code existed in the birth year, which rejects real
numbers — a number is issued at first registration, often years after birth, so 宜宾县's 511521 (in use
1996–2018) on someone born in 1980 is normal. The address code is checked separately, against the whole
history of codes, and only as a warning.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from functools import cache

from stdnum import numdb
from stdnum.cn import ric

_WELL_FORMED = re.compile(r"[0-9]{17}[0-9X]")
REFERENCE_YEAR = 2020
REFERENCE_MONTH = 11  # 普查标准时点 2020-11-01 00:00
REFERENCE_MOMENT = datetime.datetime(2020, 11, 1, 0, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))


def age_at_reference(birth_year: int, birth_month: int) -> int:
    """Completed years at 2020-11-01 from year and month of birth (the form asks for no day).

    Born in November or December of a year means the birthday has not yet come on 11-01, so
    "3 or older" = born 2017-10 or earlier, "15 or older" = born 2005-10 or earlier, as on the form.
    """
    return REFERENCE_YEAR - birth_year - (1 if birth_month >= REFERENCE_MONTH else 0)


def born_after_reference(birth_year: int, birth_month: int) -> bool:
    return (birth_year, birth_month) >= (REFERENCE_YEAR, REFERENCE_MONTH)


def check_character(first17: str) -> str:
    """The MOD 11-2 check character for the first 17 digits."""
    return ric.calc_check_digit(first17 + "0")


def normalise(number: str) -> str:
    return ric.compact(number or "")


def upgrade_15_to_18(number: str) -> str:
    """A legacy 15-digit number (GB 11643-1989) as its 18-digit form: insert "19", append the check."""
    number = normalise(number)
    if re.fullmatch(r"[0-9]{15}", number) is None:
        raise ValueError("not a 15-digit ID number")
    first17 = number[:6] + "19" + number[6:]
    return first17 + check_character(first17)


@dataclass(frozen=True)
class IdNumberFacts:
    """What an 18-character number says, or why it cannot be read."""

    number: str
    well_formed: bool  # 17 digits + digit or X
    checksum_ok: bool
    birth_date: datetime.date | None
    sex: int | None  # 1 male (odd sequence), 2 female (even)
    address_code: str
    address_known: bool  # the code appears anywhere in the GB/T 2260 history

    @property
    def birth_year(self) -> int | None:
        return self.birth_date.year if self.birth_date else None

    @property
    def birth_month(self) -> int | None:
        return self.birth_date.month if self.birth_date else None


@cache
def _address_known(code: str) -> bool:
    results = numdb.get("cn/loc").info(code)
    return any("county" in props for _, props in results)


def address_code_known(code: str) -> bool:
    """Is this 6-digit code in the GB/T 2260 history (any year)?"""
    return re.fullmatch(r"[0-9]{6}", code) is not None and _address_known(code)


def read_id_number(number: str) -> IdNumberFacts:
    number = normalise(number)
    # ASCII digits only: str.isdigit would also accept Arabic-Indic or superscript digits.
    well_formed = _WELL_FORMED.fullmatch(number) is not None
    if not well_formed:
        return IdNumberFacts(number, False, False, None, None, number[:6], False)
    checksum_ok = number[17] == check_character(number[:17])
    try:
        birth: datetime.date | None = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        birth = None
    sex = 1 if int(number[16]) % 2 == 1 else 2
    return IdNumberFacts(number, True, checksum_ok, birth, sex, number[:6], address_code_known(number[:6]))


def make_id_number(address_code: str, birth: datetime.date, sequence: int) -> str:
    """Compose a valid number: 6-digit address, YYYYMMDD, 3-digit sequence (odd = male), check character."""
    first17 = f"{address_code}{birth:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)


def mask_id_number(number: str) -> str:
    """5115**********003X — the first four and last four characters stay readable."""
    if not number:
        return ""
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_name(name: str) -> str:
    """张** — the family name stays, the given name is hidden."""
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)
