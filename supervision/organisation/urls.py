"""Pages of this part of supervision; included under the ``supervision`` namespace."""

from django.urls import URLPattern, URLResolver, path

from supervision.organisation.views import (
    awareness,
    calendar,
    department_tasks,
    directory,
    evidence,
    readiness,
    rectification,
    responsibility,
    subsidies,
    trainings,
)

urlpatterns: list[URLPattern | URLResolver] = [
    # 四落实
    path("readiness/", readiness.readiness_list, name="readiness"),
    path("readiness/checklists/", readiness.readiness_ensure, name="readiness-ensure"),
    path("readiness/deadlines/", readiness.readiness_deadlines, name="readiness-deadlines"),
    # 部门分工协作 and the assessment (双倍计分)
    path("department-tasks/", department_tasks.department_task_list, name="department-tasks"),
    path("department-tasks/<int:pk>/", department_tasks.department_task_detail, name="department-task"),
    path(
        "department-tasks/<int:pk>/answer/",
        department_tasks.department_task_answer_view,
        name="department-task-answer",
    ),
    path(
        "department-tasks/<int:pk>/review/",
        department_tasks.department_task_review_view,
        name="department-task-review",
    ),
    path("assessment/", department_tasks.assessment, name="assessment"),
    # the census calendar
    path("calendar/", calendar.calendar, name="calendar"),
    # 落实到人头
    path("responsibility/", responsibility.responsibility, name="responsibility"),
    path("readiness/<int:pk>/", readiness.readiness_detail, name="readiness-detail"),
    path("readiness/<int:pk>/members/", readiness.readiness_member_add, name="readiness-member-add"),
    path("readiness/items/<int:pk>/", readiness.readiness_item_update, name="readiness-item-update"),
    path(
        "readiness/items/<int:pk>/responsible/",
        readiness.readiness_item_responsible,
        name="readiness-item-responsible",
    ),
    path("readiness/members/<int:pk>/remove/", readiness.readiness_member_remove, name="readiness-member-remove"),
    # 知晓率
    path("awareness/", awareness.awareness, name="awareness"),
    # 两员补贴
    path("subsidies/", subsidies.subsidy_list, name="subsidies"),
    path("subsidies/rates/", subsidies.subsidy_rates, name="subsidy-rates"),
    path("subsidies/settle/", subsidies.subsidy_settle, name="subsidy-settle"),
    path("subsidies/sheet/", subsidies.subsidy_export, name="subsidy-export"),
    path("subsidies/<int:pk>/", subsidies.subsidy_detail, name="subsidy-detail"),
    path("subsidies/<int:pk>/pay/", subsidies.subsidy_pay, name="subsidy-pay"),
    path("subsidies/<int:pk>/reduce/", subsidies.subsidy_reduce, name="subsidy-reduce"),
    # 督察整改
    path("rectification/", rectification.rectification_list, name="rectification"),
    path("rectification/new/", rectification.rectification_item_create, name="rectification-item-create"),
    path("rectification/<int:pk>/", rectification.rectification_item, name="rectification-item"),
    path("rectification/<int:pk>/tasks/", rectification.rectification_task_create, name="rectification-task-create"),
    path("rectification/<int:pk>/close/", rectification.rectification_item_close, name="rectification-item-close"),
    path("rectification/<int:pk>/recheck/", rectification.rectification_recheck, name="rectification-recheck"),
    path("rectification/tasks/<int:pk>/", rectification.rectification_task, name="rectification-task"),
    path(
        "rectification/tasks/<int:pk>/answer/",
        rectification.rectification_task_answer,
        name="rectification-task-answer",
    ),
    path(
        "rectification/tasks/<int:pk>/responsible/",
        rectification.rectification_task_responsible,
        name="rectification-task-responsible",
    ),
    path(
        "rectification/tasks/<int:pk>/evidence/",
        rectification.rectification_task_evidence,
        name="rectification-task-evidence",
    ),
    path(
        "rectification/tasks/<int:pk>/return/",
        rectification.rectification_task_return,
        name="rectification-task-return",
    ),
    # 在库企业和项目
    path("directory/", directory.directory_list, name="directory"),
    path("directory/import/", directory.directory_import, name="directory-import"),
    path("directory/template.xlsx", directory.directory_template, name="directory-template"),
    path("directory/<int:pk>/", directory.directory_unit, name="directory-unit"),
    path("directory/<int:pk>/review/", directory.directory_review, name="directory-review"),
    path("directory/<int:pk>/remove/", directory.directory_remove, name="directory-remove"),
    path("directory/<int:pk>/figures/", directory.directory_figure, name="directory-figure"),
    # 培训、学习、自查自纠
    path("trainings/", trainings.training_list, name="trainings"),
    path("trainings/study-sessions/", trainings.study_session_list, name="study-sessions"),
    path("trainings/self-inspections/", trainings.self_inspection_list, name="self-inspections"),
    # 佐证材料
    path("evidence/<int:pk>/", evidence.evidence_download, name="evidence-download"),
]
