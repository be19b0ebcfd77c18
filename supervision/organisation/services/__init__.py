"""Writes of the organisation part: every change goes through one of these functions (and the audit log)."""

from supervision.organisation.services.common import evidence_kind_of, evidence_store
from supervision.organisation.services.directory import (
    DirectoryImportReport,
    DirectoryProblem,
    directory_figure_report,
    directory_import,
    directory_remove,
    directory_review,
)
from supervision.organisation.services.readiness import (
    readiness_deadline_set,
    readiness_ensure_units,
    readiness_item_update,
    readiness_member_add,
    readiness_member_remove,
)
from supervision.organisation.services.rectification import (
    rectification_item_close,
    rectification_item_create,
    rectification_recheck_record,
    rectification_task_add_evidence,
    rectification_task_answer,
    rectification_task_create,
    rectification_task_return,
)
from supervision.organisation.services.subsidies import (
    SettlementReport,
    subsidy_flag_overdue,
    subsidy_households_by_staff,
    subsidy_payment_record,
    subsidy_rates_for,
    subsidy_rates_update,
    subsidy_reduce,
    subsidy_settle,
    subsidy_sheet_export_start,
)
from supervision.organisation.services.trainings import (
    self_inspection_record,
    study_session_record,
    training_record,
)

__all__ = [
    "DirectoryImportReport",
    "DirectoryProblem",
    "SettlementReport",
    "directory_figure_report",
    "directory_import",
    "directory_remove",
    "directory_review",
    "evidence_kind_of",
    "evidence_store",
    "readiness_deadline_set",
    "readiness_ensure_units",
    "readiness_item_update",
    "readiness_member_add",
    "readiness_member_remove",
    "rectification_item_close",
    "rectification_item_create",
    "rectification_recheck_record",
    "rectification_task_add_evidence",
    "rectification_task_answer",
    "rectification_task_create",
    "rectification_task_return",
    "self_inspection_record",
    "study_session_record",
    "subsidy_flag_overdue",
    "subsidy_households_by_staff",
    "subsidy_payment_record",
    "subsidy_rates_for",
    "subsidy_rates_update",
    "subsidy_reduce",
    "subsidy_settle",
    "subsidy_sheet_export_start",
    "training_record",
]
