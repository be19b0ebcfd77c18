"""Sample data of the organisation part for the demo district (``manage.py seed_organisation``).

Readiness checklists for every township, village and department (most done, a few overdue), the district's
subsidy rates and what the 两员 are owed from the seeded work (most paid, some in arrears, one reduced),
inspection feedback items with tasks in every state, a directory of about 200 enterprises and projects with
valid credit codes (some failed their review, some removed), and trainings, study sessions and
self-inspections of the departments with one missed quarter. Deterministic for a given seed.
"""

from __future__ import annotations

import datetime
import io
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import tablib
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from stdnum.cn import uscc

from census.models import AuditAction, Department, District, Role, StaffMember, Township
from census.services import audit_record
from census.spreadsheets import dataset_export
from supervision.organisation import services
from supervision.organisation.criteria import criteria_for
from supervision.organisation.models import (
    DirectoryKind,
    DirectoryUnit,
    EvidenceFile,
    FigureIndicator,
    MemberBody,
    ReadinessComponent,
    ReadinessItem,
    ReadinessMember,
    ReadinessStatus,
    RemovalReason,
    StudyForm,
    SubsidyDue,
    SubsidyPhase,
    UnitKind,
    UnitReadiness,
    default_item_deadline,
)
from supervision.organisation.selectors import Quarter, first_training_quarter, quarters_between

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红梅建国志军德福"


def minimal_pdf(text: str) -> bytes:
    """A small, valid one-page PDF showing an ASCII line: what a demo evidence file opens to."""
    safe = text.encode("ascii", "replace").decode().replace("(", "[").replace(")", "]")
    stream = f"BT /F1 14 Tf 60 760 Td ({safe}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def credit_code(rng: random.Random, region: str, used: set[str]) -> str:
    """A valid 统一社会信用代码: 9 (市场监管) + 1 (企业) + region + 9-character organisation code + check."""
    while True:
        body = "91" + region + "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
        code = body + uscc.calc_check_digit(body)
        if code not in used:
            used.add(code)
            return code


@dataclass
class DemoReport:
    checklists: int = 0
    overdue: int = 0
    dues: int = 0
    payments: int = 0
    arrears: int = 0
    items: int = 0
    tasks: int = 0
    units: int = 0
    removed: int = 0
    trainings: int = 0
    missed: list[str] = field(default_factory=list)


class DemoBuilder:
    def __init__(self, *, district: District, seed: int, today: datetime.date, log: Callable[[str], None]) -> None:
        self.district = district
        self.rng = random.Random(seed)
        self.today = today
        self.log = log
        self.report = DemoReport()
        staff = StaffMember.objects.filter(district=district, role=Role.DISTRICT_OFFICE, is_active=True)
        self.actor = staff.filter(username="district").first() or staff.order_by("pk").first()
        if self.actor is None:
            raise ValueError("the district has no district-office account to record the sample data")
        self.approver = staff.exclude(pk=self.actor.pk).order_by("pk").first()
        self.departments = {d.code: d for d in Department.objects.filter(district=district)}

    def person(self) -> str:
        return self.rng.choice(SURNAMES) + "".join(self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2))))

    def evidence(
        self, title: str, name: str, *, township_id: str | None = None, department_id: int | None = None
    ) -> EvidenceFile:
        upload = SimpleUploadedFile(name, minimal_pdf(title), content_type="application/pdf")
        return services.evidence_store(
            upload=upload,
            actor=self.actor,
            district_id=self.district.code,
            township_id=township_id,
            department_id=department_id,
            description=name[:200],
        )

    def build(self) -> DemoReport:
        with transaction.atomic():
            self.readiness()
            self.subsidies()
            self.rectification()
            self.directory()
            self.trainings()
            self.department_tasks()
            audit_record(
                actor=self.actor,
                action=AuditAction.IMPORT,
                object_type="organisation.demo",
                object_id=self.district.code,
                detail={"checklists": self.report.checklists, "units": self.report.units},
            )
        return self.report

    # --- 四落实 -----------------------------------------------------------------------------------------

    def readiness(self) -> None:
        services.readiness_ensure_units(district_id=self.district.code, actor=self.actor)
        units = list(
            UnitReadiness.objects.filter(district=self.district).select_related("township", "village", "department")
        )
        self.report.checklists = len(units)
        townships = sorted({u.township_id for u in units if u.township_id})
        documents: dict[str, EvidenceFile] = {}
        for code in townships:
            documents[code] = self.evidence(
                f"Census readiness evidence, township {code}", f"{code}-四落实佐证材料.pdf", township_id=code
            )
        for code, department in self.departments.items():
            documents[code] = self.evidence(
                f"Census readiness evidence, department {code}",
                f"{code}-四落实佐证材料.pdf",
                department_id=department.pk,
            )
        # A few units stay behind: the last township, some villages, two departments.
        behind_townships = set(townships[-1:]) if len(townships) > 2 else set()
        villages = [u for u in units if u.unit_kind == UnitKind.VILLAGE]
        behind_villages = {u.pk for u in self.rng.sample(villages, k=min(len(villages), max(2, len(villages) // 12)))}
        behind_departments = {"xcb", "czj"}
        items = list(ReadinessItem.objects.filter(readiness__in=units).select_related("readiness"))
        by_unit: dict[int, list[ReadinessItem]] = {}
        for item in items:
            by_unit.setdefault(item.readiness_id, []).append(item)
        members: list[ReadinessMember] = []
        for unit in units:
            behind = (
                (unit.unit_kind == UnitKind.TOWNSHIP and unit.township_id in behind_townships)
                or unit.pk in behind_villages
                or (
                    unit.unit_kind == UnitKind.DEPARTMENT
                    and unit.department
                    and unit.department.code in behind_departments
                )
            )
            members += self._members(unit)
            document = documents[unit.township_id or (unit.department.code if unit.department else "")]
            done_dates = []
            for index, item in enumerate(
                sorted(by_unit[unit.pk], key=lambda i: list(ReadinessComponent.values).index(i.component))
            ):
                if behind and index >= 2:
                    item.status = ReadinessStatus.IN_PROGRESS if index == 2 else ReadinessStatus.NOT_STARTED
                    item.note = "经费待区财政拨付" if item.component == ReadinessComponent.FUNDS else ""
                    continue
                # Most on time; every fifteenth item a little late (against its own deadline).
                deadline = default_item_deadline(unit.unit_kind, item.component)
                late = self.rng.random() < 1 / 15
                day = (
                    deadline + datetime.timedelta(days=self.rng.randint(3, 20))
                    if late
                    else deadline - datetime.timedelta(days=self.rng.randint(3, 45))
                )
                item.status = ReadinessStatus.DONE
                item.completed_on = day
                item.evidence = document
                item.updated_by = self.actor
                done_dates.append(day)
            unit.ready_on = max(done_dates) if len(done_dates) == len(ReadinessComponent) else None
            if behind:
                self.report.overdue += 1
        ReadinessItem.objects.bulk_update(items, ["status", "completed_on", "evidence", "note", "updated_by"])
        UnitReadiness.objects.bulk_update(units, ["ready_on"])
        ReadinessMember.objects.bulk_create(members)
        self.log(f"readiness: {len(units)} checklists, {self.report.overdue} behind")

    # --- departments' census tasks (S18) -------------------------------------------------------------------

    DEPARTMENT_TASKS: tuple[tuple[str, str, str, str, datetime.date, str], ...] = (
        (
            "xcb",
            "publicity",
            "宣传月：大国点名，没你不行",
            "宣传方案、活动照片",
            datetime.date(2020, 10, 31),
            "delivered",
        ),
        ("gaj", "hukou", "户口整顿并移交户籍底册", "户籍底册及移交清单", datetime.date(2020, 10, 10), "delivered"),
        ("gaj", "hukou", "比对复查：户籍人口漏登比对", "比对结果清单", datetime.date(2020, 12, 10), "answered"),
        ("wjj", "births", "出生医学证明与住院分娩记录比对", "漏登婴幼儿名单", datetime.date(2020, 12, 10), "open"),
        ("mzj", "civil_affairs", "民政服务对象名单比对", "比对清单", datetime.date(2020, 12, 10), "open"),
        ("czj", "funds", "区级普查经费拨付", "拨款文件", datetime.date(2020, 7, 31), "open"),
    )

    def department_tasks(self) -> None:
        """A task per department the speech names, in each state: delivered, answered awaiting review, open."""
        from supervision.organisation.models import DepartmentTask, DepartmentTaskStatus

        made = 0
        for code, kind, title, deliverable, deadline, state in self.DEPARTMENT_TASKS:
            department = self.departments.get(code)
            if department is None:
                continue
            answered = state in ("answered", "delivered")
            task = DepartmentTask.objects.create(
                district=self.district,
                department=department,
                kind=kind,
                title=title,
                deliverable=deliverable,
                deadline=deadline,
                created_by=self.actor,
                status={"delivered": DepartmentTaskStatus.DELIVERED, "answered": DepartmentTaskStatus.ANSWERED}.get(
                    state, DepartmentTaskStatus.OPEN
                ),
                answer="已完成，佐证材料附后。" if answered else "",
                answered_on=deadline - datetime.timedelta(days=3) if answered else None,
                delivered_on=deadline - datetime.timedelta(days=1) if state == "delivered" else None,
            )
            if answered:
                task.evidence.add(self.evidence(title, f"{code}-{made}-任务佐证.pdf", department_id=department.pk))
            made += 1
        self.log(f"department tasks: {made}")

    def _members(self, unit: UnitReadiness) -> list[ReadinessMember]:
        if unit.unit_kind == UnitKind.VILLAGE:
            posts = [
                (MemberBody.LEADING_GROUP, "组长", "村党支部书记"),
                (MemberBody.LEADING_GROUP, "成员", "村委会主任"),
                (MemberBody.OFFICE, "主任", "村委会文书"),
            ]
        elif unit.unit_kind == UnitKind.TOWNSHIP:
            posts = [
                (MemberBody.LEADING_GROUP, "组长", "镇长"),
                (MemberBody.LEADING_GROUP, "副组长", "副镇长"),
                (MemberBody.LEADING_GROUP, "成员", "统计站站长"),
                (MemberBody.LEADING_GROUP, "成员", "派出所所长"),
                (MemberBody.OFFICE, "主任", "统计站站长"),
                (MemberBody.OFFICE, "工作人员", "统计员"),
                (MemberBody.OFFICE, "工作人员", "综治办干部"),
            ]
        else:
            posts = [
                (MemberBody.LEADING_GROUP, "组长", "局长"),
                (MemberBody.LEADING_GROUP, "副组长", "副局长"),
                (MemberBody.OFFICE, "主任", "办公室主任"),
                (MemberBody.OFFICE, "工作人员", "统计员"),
            ]
        names: set[str] = set()
        out = []
        for body, post, title in posts:
            name = self.person()
            while name in names:
                name = self.person()
            names.add(name)
            out.append(
                ReadinessMember(
                    readiness=unit,
                    body=body,
                    name=name,
                    post=post,
                    job_title=title,
                    phone=f"138{self.rng.randint(10000000, 99999999)}",
                )
            )
        return out

    # --- 两员补贴 ---------------------------------------------------------------------------------------

    def subsidies(self) -> None:
        services.subsidy_rates_for(district_id=self.district.code)
        phases = [
            (SubsidyPhase.LISTING, datetime.date(2020, 10, 31)),
            (SubsidyPhase.SHORT_FORM, datetime.date(2020, 12, 31)),
            (SubsidyPhase.LONG_FORM, datetime.date(2020, 12, 31)),
            (SubsidyPhase.SUPERVISION, datetime.date(2020, 12, 31)),
        ]
        for phase, due_on in phases:
            services.subsidy_settle(district_id=self.district.code, phase=phase, due_on=due_on, actor=self.actor)
        dues = list(
            SubsidyDue.objects.filter(district=self.district).select_related("township", "staff").order_by("pk")
        )
        self.report.dues = len(dues)
        townships = sorted({d.township_id for d in dues})
        # One township is slow to pay half its people's short form; a few people elsewhere are paid in part.
        slow = townships[-1] if townships else ""
        offices = {
            s.township_id: s for s in StaffMember.objects.filter(district=self.district, role=Role.TOWNSHIP_OFFICE)
        }
        reduced = False
        for number, due in enumerate(dues):
            payer = offices.get(due.township_id, self.actor)
            if (
                not reduced
                and self.approver is not None
                and due.phase == SubsidyPhase.SHORT_FORM
                and due.households > 5
            ):
                services.subsidy_reduce(
                    due=due,
                    reduction_amount=(due.rate * 3).quantize(Decimal("0.01")),
                    reason="3户登记表经乡镇复查退回重登，由其他普查员完成，相应补贴核减（乡镇普查办2020-12-20会议纪要）",
                    approver=self.approver,
                    actor=payer,
                )
                due.refresh_from_db()
                reduced = True
            if due.township_id == slow and due.phase == SubsidyPhase.SHORT_FORM and number % 2:
                self.report.arrears += 1
                continue
            amount = due.outstanding
            paid_on = due.due_on + datetime.timedelta(days=self.rng.randint(5, 25))
            if number % 23 == 3:
                amount = (amount / 2).quantize(Decimal("0.01"))
                self.report.arrears += 1
            if amount <= 0:
                continue
            services.subsidy_payment_record(
                due=due,
                amount=amount,
                paid_on=paid_on,
                reference=f"{due.township_id[-3:]}-{paid_on:%Y%m}-{number + 1:04d}",
                actor=payer,
            )
            self.report.payments += 1
        services.subsidy_flag_overdue(on=self.today)
        self.log(f"subsidies: {len(dues)} dues, {self.report.payments} payments, {self.report.arrears} in arrears")

    # --- 督察整改 ---------------------------------------------------------------------------------------

    def rectification(self) -> None:
        d = self.departments
        today = self.today
        items: list[dict[str, Any]] = [
            {
                "number": "督察反馈1",
                "title": "防范和惩治统计造假、弄虚作假责任落实不到位",
                "feedback": (
                    "部分部门对统计造假、弄虚作假问题认识不足，未建立防范和惩治统计造假责任制，"
                    "责任未压实到具体岗位和人员。"
                ),
                "lead": "tjj",
                "tasks": [
                    ("jkj", "制定本部门防范和惩治统计造假、弄虚作假责任清单并印发", "责任清单印发文件", "answered"),
                    ("fgj", "制定本部门防范和惩治统计造假、弄虚作假责任清单并印发", "责任清单印发文件", "answered"),
                    ("zjj", "制定本部门防范和惩治统计造假、弄虚作假责任清单并印发", "责任清单印发文件", "answered"),
                ],
                "close": (datetime.date(2021, 3, 31), datetime.date(2021, 9, 30)),
                "held_until": today - datetime.timedelta(days=20),
            },
            {
                "number": "督察反馈2",
                "title": "在库投资项目入库资料不全",
                "feedback": (
                    "抽查固定资产投资项目40个，其中7个项目缺少立项、用地或施工许可等佐证资料，"
                    "存在“先入库、后补资料”现象。"
                ),
                "lead": "fgj",
                "tasks": [
                    (
                        "fgj",
                        "对全部在库项目逐一核查入库资料，不符合条件的坚决退库",
                        "项目核查台账、退库审批表",
                        "answered",
                    ),
                    ("zjj", "对房地产开发项目核实施工许可和施工面积", "核查台账及施工许可证复印件", "overdue"),
                ],
            },
            {
                "number": "督察反馈3",
                "title": "统计法治学习宣传不深入",
                "feedback": "部分部门中心组未将统计法律法规纳入学习内容，领导干部对统计法“十不准”掌握不够。",
                "lead": "xcb",
                "tasks": [
                    (
                        "jkj",
                        "党组理论学习中心组专题学习《统计法》和《统计违纪违法责任人处分处理建议办法》",
                        "学习记录、签到表",
                        "answered",
                    ),
                    (
                        "fgj",
                        "党组理论学习中心组专题学习《统计法》和《统计违纪违法责任人处分处理建议办法》",
                        "学习记录、签到表",
                        "answered",
                    ),
                ],
                "close": (datetime.date(2021, 6, 30), today + datetime.timedelta(days=120)),
            },
            {
                "number": "督察反馈4",
                "title": "规上企业统计人员业务培训不到位",
                "feedback": "部分规上企业统计人员对统计指标解释掌握不准，原始记录和统计台账不规范。",
                "lead": "jkj",
                "tasks": [
                    (
                        "jkj",
                        "每季度组织规上工业、限上贸易和规上服务业企业统计人员培训",
                        "培训通知、签到表、课件",
                        "open",
                    ),
                    ("zjj", "组织建筑业和房地产开发企业统计人员培训", "培训通知、签到表", "returned"),
                ],
            },
            {
                "number": "督察反馈5",
                "title": "违背统计法精神的文件未全面清理",
                "feedback": "个别部门仍有以统计数据排名、考核下级的文件，未按要求清理。",
                "lead": "tjj",
                "tasks": [
                    (
                        "jkj",
                        "自查自纠本部门2015年以来印发的文件，废止违背统计法精神的规定",
                        "自查自纠报告、文件废止通知",
                        "answered",
                    ),
                    (
                        "fgj",
                        "自查自纠本部门2015年以来印发的文件，废止违背统计法精神的规定",
                        "自查自纠报告、文件废止通知",
                        "open",
                    ),
                    (
                        "zjj",
                        "自查自纠本部门2015年以来印发的文件，废止违背统计法精神的规定",
                        "自查自纠报告、文件废止通知",
                        "answered",
                    ),
                ],
            },
        ]
        for spec in items:
            item = services.rectification_item_create(
                district_id=self.district.code,
                number=spec["number"],
                title=spec["title"],
                feedback=spec["feedback"],
                source="省第二统计督察组督察反馈意见（2020年12月）",
                lead_department=d.get(spec["lead"]),
                received_on=datetime.date(2020, 12, 18),
                actor=self.actor,
            )
            self.report.items += 1
            for code, measure, required, state in spec["tasks"]:
                department = d.get(code)
                if department is None:
                    continue
                deadline = datetime.date(2021, 3, 31) if state != "open" else today + datetime.timedelta(days=45)
                task = services.rectification_task_create(
                    item=item,
                    measure=measure,
                    department=department,
                    responsible_person=self.person(),
                    responsible_post="分管副局长",
                    deadline=deadline,
                    evidence_required=required,
                    actor=self.actor,
                )
                self.report.tasks += 1
                department_user = (
                    StaffMember.objects.filter(department=department, role=Role.DEPARTMENT).first() or self.actor
                )
                if state in ("answered", "returned"):
                    upload = SimpleUploadedFile(
                        f"{item.number}-{code}-整改佐证.pdf",
                        minimal_pdf(f"Rectification evidence {item.number} {code}"),
                    )
                    services.rectification_task_answer(
                        task=task,
                        answer=f"已完成：{measure}。相关材料已上传。",
                        answered_on=datetime.date(2021, 3, self.rng.randint(10, 28)),
                        upload=upload,
                        actor=department_user,
                    )
                if state == "returned":
                    services.rectification_task_return(
                        task=task, reason="签到表与培训通知人数不一致，请补充完整材料", actor=self.actor
                    )
            if "close" in spec:
                closed_on, recheck_on = spec["close"]
                services.rectification_item_close(
                    item=item, closed_on=closed_on, recheck_on=recheck_on, actor=self.actor
                )
                held_until = spec.get("held_until")
                if held_until is not None:
                    # Routine re-checks held until the last one set a date that has now come round again.
                    check = recheck_on
                    while check + datetime.timedelta(days=180) < held_until:
                        services.rectification_recheck_record(
                            item=item,
                            checked_on=check,
                            held=True,
                            note="抽查各部门责任清单执行情况，未发现问题反弹。",
                            next_recheck_on=check + datetime.timedelta(days=180),
                            actor=self.actor,
                        )
                        check += datetime.timedelta(days=180)
        self.log(f"rectification: {self.report.items} items, {self.report.tasks} tasks")

    # --- 在库企业和项目 ---------------------------------------------------------------------------------

    def directory(self) -> None:
        rng = self.rng
        townships = list(Township.objects.filter(district=self.district).order_by("code"))
        kinds = [
            (DirectoryKind.INDUSTRY, 60, ["酒业", "食品", "机械制造", "化工", "建材", "纺织", "电子", "竹木制品"]),
            (DirectoryKind.TRADE, 40, ["商贸", "超市", "酒店", "餐饮管理", "汽车销售", "医药连锁"]),
            (DirectoryKind.SERVICES, 35, ["物流", "信息技术", "物业服务", "人力资源", "文化传媒"]),
            (DirectoryKind.CONSTRUCTION, 20, ["建筑工程", "路桥工程", "市政工程", "安装工程"]),
            (DirectoryKind.REAL_ESTATE, 15, ["房地产开发", "置业"]),
            (DirectoryKind.INVESTMENT_PROJECT, 30, ["产业园建设", "道路改造", "污水处理厂", "学校迁建", "安置房建设"]),
        ]
        places = ["叙州", "柏溪", "南岸", "高场", "观音", "横江", "安边", "泥溪", "商州", "金坪", "凤仪", "龙池"]
        used: set[str] = set()
        names: set[str] = set()
        dataset = tablib.Dataset(headers=["credit_code", "name", "kind", "township", "address"])
        for kind, count, trades in kinds:
            for _ in range(count):
                name = ""
                while not name or name in names:
                    place = rng.choice(places)
                    trade = rng.choice(trades)
                    name = (
                        f"宜宾{place}{trade}项目"
                        if kind == DirectoryKind.INVESTMENT_PROJECT
                        else f"宜宾市{place}{trade}有限公司"
                    )
                    if name in names:
                        name = name.replace("宜宾", f"宜宾{rng.choice('鑫恒泰和兴盛隆源达')}", 1)
                names.add(name)
                region = (
                    self.district.code
                    if rng.random() < 0.8
                    else rng.choice(self.district.previous_codes or [self.district.code])
                )
                township = rng.choice(townships).code if townships else ""
                dataset.append(
                    [
                        credit_code(rng, region, used),
                        name,
                        kind.value,
                        township,
                        f"{rng.choice(places)}路{rng.randint(1, 300)}号",
                    ]
                )
        upload = io.BytesIO(dataset_export(dataset, "xlsx"))
        report = services.directory_import(upload=upload, actor=self.actor)
        if not report.ok:
            raise ValueError(f"the sample directory did not import: {report.problems[:3]}")
        units = list(DirectoryUnit.objects.filter(district=self.district).select_related("department").order_by("pk"))
        self.report.units = len(units)
        removal_reasons = [
            RemovalReason.BELOW_THRESHOLD,
            RemovalReason.CLOSED,
            RemovalReason.MOVED_OUT,
            RemovalReason.NOT_STARTED,
            RemovalReason.NO_DOCUMENTS,
            RemovalReason.DUPLICATE,
        ]
        for number, unit in enumerate(units):
            department_user = (
                StaffMember.objects.filter(department=unit.department, role=Role.DEPARTMENT).first() or self.actor
            )
            codes = [code for code, _label in criteria_for(unit.kind)]
            reviewed_on = datetime.date(2021, 4, 1) + datetime.timedelta(days=rng.randint(0, 80))
            if number % 16 == 5:
                # Failed the review and taken out of the directory with the reason and its document.
                failing = rng.choice(codes[1:])
                services.directory_review(
                    unit=unit,
                    reviewed_on=reviewed_on,
                    results={c: c != failing for c in codes},
                    note="经实地核查，不符合入库标准",
                    actor=department_user,
                )
                reason = removal_reasons[number % len(removal_reasons)]
                services.directory_remove(
                    unit=unit,
                    reason=reason,
                    note="经部门核查并报区统计局同意退库",
                    removed_on=reviewed_on + datetime.timedelta(days=rng.randint(5, 30)),
                    upload=SimpleUploadedFile(
                        f"{unit.credit_code}-退库审批表.pdf", minimal_pdf(f"Removal {unit.credit_code}")
                    ),
                    actor=department_user,
                )
                self.report.removed += 1
            elif number % 16 == 9:
                failing = rng.choice(codes)
                services.directory_review(
                    unit=unit,
                    reviewed_on=reviewed_on,
                    results={c: c != failing for c in codes},
                    note="年营业收入下降，待核实后退库",
                    actor=department_user,
                )
            elif number % 3 == 0:
                services.directory_review(
                    unit=unit, reviewed_on=reviewed_on, results=dict.fromkeys(codes, True), actor=department_user
                )
            if number % 5 == 0 and number % 16 != 5:  # removed units report nothing
                indicator = {
                    DirectoryKind.INDUSTRY: FigureIndicator.INDUSTRIAL_OUTPUT,
                    DirectoryKind.TRADE: FigureIndicator.SALES,
                    DirectoryKind.SERVICES: FigureIndicator.OPERATING_REVENUE,
                    DirectoryKind.CONSTRUCTION: FigureIndicator.CONSTRUCTION_OUTPUT,
                    DirectoryKind.REAL_ESTATE: FigureIndicator.FLOOR_SPACE_SOLD,
                    DirectoryKind.INVESTMENT_PROJECT: FigureIndicator.INVESTMENT_COMPLETED,
                }[DirectoryKind(unit.kind)]
                for month in (10, 11, 12):
                    services.directory_figure_report(
                        unit=unit,
                        period=datetime.date(2020, month, 1),
                        indicator=indicator,
                        value=Decimal(rng.randint(300, 9000)),
                        upload=SimpleUploadedFile(
                            f"{unit.credit_code}-2020{month}-财务报表.pdf",
                            minimal_pdf(f"Accounts {unit.credit_code} 2020-{month}"),
                        ),
                        actor=department_user,
                    )
                    services.directory_figure_report(
                        unit=unit,
                        period=datetime.date(2020, month, 1),
                        indicator=FigureIndicator.EMPLOYEES,
                        value=Decimal(rng.randint(20, 400)),
                        upload=SimpleUploadedFile(
                            f"{unit.credit_code}-2020{month}-工资表.pdf",
                            minimal_pdf(f"Payroll {unit.credit_code} 2020-{month}"),
                        ),
                        actor=department_user,
                    )
        self.log(f"directory: {len(units)} units, {self.report.removed} removed")

    # --- 培训、学习、自查自纠 ------------------------------------------------------------------------------

    def trainings(self) -> None:
        rng = self.rng
        required = settings.ORGANISATION_TRAINING_DEPARTMENTS
        last = Quarter.of(self.today).previous()
        quarters = quarters_between(first_training_quarter(), last)
        # 发改局 missed one quarter early on; 住建局 missed a recent one.
        skip = {("fgj", Quarter(2021, 2))}
        if len(quarters) > 4:
            skip.add(("zjj", quarters[-2]))
        topics = {
            "industry_trade_services": [
                "规上工业统计报表制度",
                "限上贸易企业统计指标解释",
                "规上服务业联网直报",
                "统计台账规范",
            ],
            "investment": ["固定资产投资统计制度方法", "项目入库审核要求", "投资项目佐证资料规范"],
            "construction_real_estate": ["建筑业统计报表制度", "房地产开发统计指标解释", "施工面积与销售面积统计"],
        }
        audiences = {
            "industry_trade_services": "规上工业、限上贸易和规上服务业企业统计人员",
            "investment": "在库项目业主单位统计人员",
            "construction_real_estate": "资质内建筑业和房地产开发企业统计人员",
        }
        for code, subject in required.items():
            department = self.departments.get(code)
            if department is None:
                continue
            user = StaffMember.objects.filter(department=department, role=Role.DEPARTMENT).first() or self.actor
            for quarter in quarters:
                if (code, quarter) in skip:
                    self.report.missed.append(f"{code} {quarter}")
                    continue
                day = quarter.first_day + datetime.timedelta(days=rng.randint(15, 80))
                services.training_record(
                    department=department,
                    held_on=day,
                    subject=subject,
                    topic=rng.choice(topics[subject]),
                    trainer=f"区统计局{self.person()}",
                    trainees=rng.randint(25, 120),
                    audience=audiences[subject],
                    upload=SimpleUploadedFile(
                        f"{code}-{quarter.year}Q{quarter.quarter}-签到表.pdf",
                        minimal_pdf(f"Training sign-in {code} {quarter}"),
                    )
                    if rng.random() < 0.3
                    else None,
                    actor=user,
                )
                self.report.trainings += 1
        documents = [
            "《中华人民共和国统计法》",
            "《关于深化统计管理体制改革提高统计数据真实性的意见》",
            "《防范和惩治统计造假、弄虚作假督察工作规定》",
            "《统计违纪违法责任人处分处理建议办法》",
            "《第七次全国人口普查方案》",
        ]
        forms = [
            StudyForm.CENTRAL_GROUP,
            StudyForm.PARTY_GROUP,
            StudyForm.DIRECTOR_OFFICE,
            StudyForm.BUREAU_AFFAIRS,
            StudyForm.ALL_STAFF,
        ]
        for code, department in sorted(self.departments.items()):
            user = StaffMember.objects.filter(department=department, role=Role.DEPARTMENT).first() or self.actor
            for _ in range(rng.randint(2, 5)):
                expected = rng.randint(12, 60)
                services.study_session_record(
                    department=department,
                    held_on=datetime.date(2020, 7, 1) + datetime.timedelta(days=rng.randint(0, 420)),
                    form=rng.choice(forms),
                    topic=f"学习{rng.choice(documents)}",
                    chaired_by=f"{self.person()}（局长）",
                    attendance=max(1, expected - rng.randint(0, 5)),
                    expected=expected,
                    actor=user,
                )
            found = rng.randint(0, 4)
            services.self_inspection_record(
                department=department,
                carried_out_on=datetime.date(2021, 1, 1) + datetime.timedelta(days=rng.randint(0, 60)),
                documents_reviewed=rng.randint(20, 80),
                problems_found=found,
                problems_corrected=found if code not in ("fgj",) else max(0, found - 1),
                findings="清理2015年以来本部门印发的规范性文件和工作方案，对涉及以统计数据排名考核的条款予以废止或修改。"
                if found
                else "未发现违背统计法精神的文件。",
                actor=user,
            )
        self.log(f"trainings: {self.report.trainings}, missed quarters {', '.join(self.report.missed) or 'none'}")


def build_demo(*, district: District, seed: int = 2020, log: Callable[[str], None] = print) -> DemoReport:
    return DemoBuilder(district=district, seed=seed, today=timezone.localdate(), log=log).build()
