"""Writes of household registration. Import from here: ``from enumeration.services import household_sign``."""

from enumeration.services.acceptance import household_override
from enumeration.services.listing import (
    building_create,
    dwelling_unit_create,
    household_list,
    household_listing_update,
    next_household_no,
)
from enumeration.services.registration import (
    ConfirmationInput,
    form_values,
    form_values_of,
    household_issues,
    household_save,
    household_sign,
    household_submit,
    respondent_confirm,
)
from enumeration.services.review import (
    BulkOutcome,
    household_accept,
    household_approve,
    household_lock,
    household_long_form_open,
    household_reopen,
    household_return,
    households_accept,
    households_approve,
    households_lock,
)
from enumeration.services.sampling import long_form_sample_draw

__all__ = [
    "BulkOutcome",
    "ConfirmationInput",
    "building_create",
    "dwelling_unit_create",
    "form_values",
    "form_values_of",
    "household_accept",
    "household_approve",
    "household_issues",
    "household_list",
    "household_listing_update",
    "household_lock",
    "household_long_form_open",
    "household_override",
    "household_reopen",
    "household_return",
    "household_save",
    "household_sign",
    "household_submit",
    "households_accept",
    "households_approve",
    "households_lock",
    "long_form_sample_draw",
    "next_household_no",
    "respondent_confirm",
]
