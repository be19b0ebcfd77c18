"""Request bodies shared by the load scenario and the fault tests (no locust import: it monkey-patches)."""

from __future__ import annotations

import datetime
import random
from typing import Any

from enumeration.identity import make_id_number

SIGNATURE = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAACgAAAAUCAAAAADaLSBnAAAAFUlEQVR4nGP4z0AsGFU5qnJUJRAAALREE+2QKLzLAAAAAElFTkSuQmCC"


def person(
    row: int,
    name: str,
    relationship: int,
    sex: int,
    year: int,
    month: int,
    education: int | None,
    literate: int | None,
    rng: random.Random,
) -> dict[str, Any]:
    # Sequence 600–997: above what the synthetic district hands out, so no number collides with it.
    sequence = rng.randrange(300, 499) * 2 + (1 if sex == 1 else 0)
    return {
        "row_no": row,
        "d1_name": name,
        "d2_relationship": relationship,
        "d4_sex": sex,
        "d5_birth_year": year,
        "d5_birth_month": month,
        "d3_id_number": make_id_number("511521", datetime.date(year, month, rng.randint(1, 28)), sequence),
        "d6_ethnicity": "01",
        "d7_residence": 1,
        "d8_hukou_place": 1,
        "d9_away_duration": 1,
        "d11_education": education,
        "d12_literate": literate,
    }


def four_person_household(small_area: int, rng: random.Random) -> dict[str, Any]:
    head_year = rng.randint(1965, 1990)
    return {
        "small_area": small_area,
        "head_name": "王伟",
        "household": {
            "h1_kind": 1,
            "h2_present": 4,
            "h2_away": 0,
            "h3_births_male": 0,
            "h3_births_female": 0,
            "h4_deaths_male": 0,
            "h4_deaths_female": 0,
            "h5_residence_type": 1,
            "h6_floor_area": rng.randint(60, 160),
            "h7_rooms": rng.randint(2, 6),
        },
        "persons": [
            person(1, "王伟", 0, 1, head_year, rng.randint(1, 10), 4, 1, rng),
            person(2, "李芳", 1, 2, head_year + 1, rng.randint(1, 10), 5, 1, rng),
            person(3, "王小明", 2, 1, 2008, rng.randint(1, 10), 3, None, rng),
            person(4, "王小红", 2, 2, 2014, rng.randint(1, 10), 3, None, rng),
        ],
        "respondent": {"name": "王伟", "relationship": 0, "signature_image": SIGNATURE},
    }


# The respondent's form (self-enumeration): what its pages post, as a person types it.


def household_items() -> dict[str, Any]:
    return {
        "h1_kind": 1,
        "h2_present": 3,
        "h2_away": 0,
        "h3_births_male": 0,
        "h3_births_female": 0,
        "h4_deaths_male": 0,
        "h4_deaths_female": 0,
        "h5_residence_type": 1,
        "h6_floor_area": 96,
        "h7_rooms": 4,
    }


def family(rng: random.Random) -> list[dict[str, str]]:
    """A three-person family (head, spouse, child), each person as the respondent's form posts them."""
    head_year = rng.randint(1965, 1990)
    people = [
        person(1, "王伟", 0, 1, head_year, rng.randint(1, 12), 4, 1, rng),
        person(2, "李芳", 1, 2, head_year + 1, rng.randint(1, 12), 5, 1, rng),
        person(3, "王小明", 2, 1, 2010, rng.randint(1, 12), 3, None, rng),
    ]
    out = []
    for one in people:
        values = {k: "" if v is None else str(v) for k, v in one.items() if k != "row_no"}
        values["d6_ethnicity"] = "汉族"  # what a person types (or picks from the page's list)
        out.append(values)
    return out
