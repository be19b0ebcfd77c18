"""Reads of the organisation part, always through ``visible_to(user)``.

Other parts (the district dashboards) call :func:`readiness_overdue`, :func:`readiness_summary_by_township`,
:func:`awareness_rates`, :func:`subsidy_overdue`, :func:`rectification_recheck_due` and
:func:`training_missed_quarters`.
"""

from supervision.organisation.selectors.awareness import LEVELS, AwarenessReport, AwarenessRow, awareness_rates
from supervision.organisation.selectors.directory import (
    KindCounts,
    directory_figures,
    directory_summary,
    directory_unit_list,
)
from supervision.organisation.selectors.readiness import (
    ReadinessTotals,
    TownshipReadiness,
    readiness_by_township,
    readiness_deadlines,
    readiness_list,
    readiness_overdue,
    readiness_summary_by_township,
    readiness_totals,
)
from supervision.organisation.selectors.rectification import (
    DepartmentTasks,
    rectification_counts,
    rectification_item_list,
    rectification_recheck_due,
    rectification_summary_by_department,
    rectification_task_list,
    rectification_tasks_overdue,
)
from supervision.organisation.selectors.subsidies import (
    SheetRow,
    TownshipSubsidies,
    subsidy_due_list,
    subsidy_overdue,
    subsidy_sheet_rows,
    subsidy_summary_by_township,
)
from supervision.organisation.selectors.trainings import (
    DepartmentQuarters,
    MissedQuarter,
    Quarter,
    QuarterCell,
    first_training_quarter,
    quarters_between,
    self_inspection_list,
    study_session_list,
    training_counts,
    training_departments,
    training_list,
    training_missed_quarters,
    training_quarter_matrix,
)

__all__ = [
    "LEVELS",
    "AwarenessReport",
    "AwarenessRow",
    "DepartmentQuarters",
    "DepartmentTasks",
    "KindCounts",
    "MissedQuarter",
    "Quarter",
    "QuarterCell",
    "ReadinessTotals",
    "SheetRow",
    "TownshipReadiness",
    "TownshipSubsidies",
    "awareness_rates",
    "directory_figures",
    "directory_summary",
    "directory_unit_list",
    "first_training_quarter",
    "quarters_between",
    "readiness_by_township",
    "readiness_deadlines",
    "readiness_list",
    "readiness_overdue",
    "readiness_summary_by_township",
    "readiness_totals",
    "rectification_counts",
    "rectification_item_list",
    "rectification_recheck_due",
    "rectification_summary_by_department",
    "rectification_task_list",
    "rectification_tasks_overdue",
    "self_inspection_list",
    "study_session_list",
    "subsidy_due_list",
    "subsidy_overdue",
    "subsidy_sheet_rows",
    "subsidy_summary_by_township",
    "training_counts",
    "training_departments",
    "training_list",
    "training_missed_quarters",
    "training_quarter_matrix",
]
