from enumeration.models.acceptance import AcceptanceOverride
from enumeration.models.api import IdempotencyRecord
from enumeration.models.devices import PhoneDevice
from enumeration.models.households import (
    ALL_DEAD_HOUSEHOLD_NO,
    EDITABLE_STATES,
    SIGNED_STATES,
    CollectionMode,
    DeathRecord,
    DwellingUnit,
    FormKind,
    Household,
    HouseholdState,
    Person,
)
from enumeration.models.ledger import (
    HouseholdTransition,
    HouseholdVersion,
    LongFormSample,
    RespondentConfirmation,
    ReviewComment,
    Signature,
    VersionReason,
)

__all__ = [
    "ALL_DEAD_HOUSEHOLD_NO",
    "EDITABLE_STATES",
    "SIGNED_STATES",
    "AcceptanceOverride",
    "CollectionMode",
    "DeathRecord",
    "DwellingUnit",
    "FormKind",
    "Household",
    "HouseholdState",
    "HouseholdTransition",
    "HouseholdVersion",
    "IdempotencyRecord",
    "LongFormSample",
    "Person",
    "PhoneDevice",
    "RespondentConfirmation",
    "ReviewComment",
    "Signature",
    "VersionReason",
]
