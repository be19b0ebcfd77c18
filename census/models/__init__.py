from census.models.areas import (
    Building,
    District,
    SmallArea,
    Township,
    TownshipKind,
    UrbanRuralCode,
    Village,
    VillageKind,
)
from census.models.audit import AuditAction, AuditChainRun, AuditChainRunKind, AuditEvent, AuditLink
from census.models.jobs import Job, JobStatus
from census.models.staff import (
    FIELD_ROLES,
    Department,
    Role,
    SmallAreaAssignment,
    StaffMember,
    StaffStatus,
    SupervisorAssignment,
)

__all__ = [
    "FIELD_ROLES",
    "AuditAction",
    "AuditChainRun",
    "AuditChainRunKind",
    "AuditEvent",
    "AuditLink",
    "Building",
    "Department",
    "District",
    "Job",
    "JobStatus",
    "Role",
    "SmallArea",
    "SmallAreaAssignment",
    "StaffMember",
    "StaffStatus",
    "SupervisorAssignment",
    "Township",
    "TownshipKind",
    "UrbanRuralCode",
    "Village",
    "VillageKind",
]
