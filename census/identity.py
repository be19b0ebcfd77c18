"""A staff member's 公民身份号码 (GB 11643-1999), checked as the household forms check a person's.

The census package may not import from enumeration, so the check is written here again, as small as it can
be, on the same library: python-stdnum's ``cn.ric`` computes the check character (ISO 7064 MOD 11-2) and reads
the date of birth. As in ``enumeration.identity``, stdnum's own ``validate`` is not the verdict: it also
demands that the address code existed in the birth year, which refuses real numbers issued years after birth
under a code that has since changed. A test keeps this check and ``enumeration.identity.read_id_number`` in
agreement.
"""

from __future__ import annotations

import datetime
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from stdnum.cn import ric

_WELL_FORMED = re.compile(r"[0-9]{17}[0-9X]")
# Staff are chosen in 2020 (选聘): nobody born after the census year's start is on the staff list.
LATEST_BIRTH = datetime.date(2020, 1, 1)


def id_number_clean(value: str) -> str:
    """The number in its compact form (no spaces, capital X), or a ``ValidationError`` saying what is wrong."""
    number = ric.compact(value or "")
    # ASCII digits only: str.isdigit would also accept Arabic-Indic or superscript digits.
    if _WELL_FORMED.fullmatch(number) is None:
        raise ValidationError(_("An ID number has 17 digits and a final digit or X."), code="id_format")
    try:
        born = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        born = None
    if born is None or born >= LATEST_BIRTH:
        raise ValidationError(_("The date of birth in the ID number (digits 7–14) is not possible."), code="id_birth")
    if ric.calc_check_digit(number) != number[17]:
        raise ValidationError(_("The ID number's check character is wrong: check every digit."), code="id_checksum")
    return number


# A mainland mobile number (11 digits, 1 then 3–9), or a fixed line with its area code (0831-1234567).
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_FIXED = re.compile(r"0[0-9]{2,3}-?[0-9]{7,8}")


def phone_clean(value: str) -> str:
    """A phone number without spaces, or a ``ValidationError``; the empty string stays empty."""
    number = re.sub(r"[\s()]", "", value or "")
    if number.startswith("+86"):
        number = number[3:]
    if not number:
        return ""
    if _MOBILE.fullmatch(number) is None and _FIXED.fullmatch(number) is None:
        raise ValidationError(
            _("A phone number is an 11-digit mobile number or a fixed line with its area code."), code="phone_format"
        )
    return number
