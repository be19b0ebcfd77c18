"""The census credential (普查员证 / 普查指导员证) and the sheet that hands over a new account.

Each person gets one A4 page: at the top the credential to wear — title, a box for the photo, name, role,
township, credential number and a QR code — and below a dashed line, to be cut off and kept apart, the login name
and, for an account whose owner has not chosen a password yet, a one-time password they must change at the first
login. The QR code holds the address of the public check page (``credential_check``), which says to anyone who
scans it only whether the credential is valid now, the name masked, the role and the township: a household can
check who is at the door.

Issuing a one-time password hashes it with the site's password hasher (Argon2, a tenth of a second each), so a
township's sheets are made by a job. The PDF holds those passwords, so its job belongs to whoever printed it
alone (no audience), and the passwords stop working at the first login.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from census.jobs import JobOutput, ProgressReporter, job_handler, job_start
from census.models import (
    FIELD_ROLES,
    AuditAction,
    AuditEvent,
    Job,
    Role,
    StaffMember,
    StaffStatus,
    district_of,
)
from census.services import audit_event
from census.staffing.services import (
    StaffPermissionError,
    credential_number,
    new_credential_key,
    staff_may_manage,
)

CREDENTIALS_JOB = "staff_credentials"
# Letters and digits nobody mixes up on paper (no 0/O, 1/l/I): 10 of 31 symbols, about 50 bits.
ONE_TIME_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
ONE_TIME_LENGTH = 10
ROLE_TITLES: dict[str, str] = {Role.ENUMERATOR: "普查员证", Role.SUPERVISOR: "普查指导员证"}
ROLE_NAMES: dict[str, str] = {Role.ENUMERATOR: "普查员", Role.SUPERVISOR: "普查指导员"}


def one_time_password() -> str:
    return "".join(secrets.choice(ONE_TIME_ALPHABET) for _ in range(ONE_TIME_LENGTH))


@dataclass(frozen=True)
class Credential:
    """What one page of the sheet prints."""

    member: StaffMember
    check_url: str
    one_time_password: str | None


@transaction.atomic
def staff_credentials_issue(
    *,
    members: Sequence[StaffMember],
    actor: StaffMember | None,
    base_url: str,
    progress: ProgressReporter | None = None,
) -> list[Credential]:
    """Credentials for active enumerators and supervisors, with a new one-time password for every account whose
    owner has not chosen a password yet (a sheet printed again replaces the earlier sheet's password). Every
    issue is in the audit log — without the password."""
    credentials: list[Credential] = []
    changed: list[StaffMember] = []
    events: list[AuditEvent] = []
    for member in members:
        if not staff_may_manage(actor, member):
            raise StaffPermissionError(_("Your role may not manage this account."), code="not_managed")
        if member.role not in FIELD_ROLES or member.status != StaffStatus.ACTIVE:
            if progress is not None:
                progress.advance()
            continue
        password = None
        if member.must_change_password:
            password = one_time_password()
            member.password = make_password(password)
        if not member.credential_no:
            member.credential_no = credential_number(member)
        if not member.credential_key:
            member.credential_key = new_credential_key()
        changed.append(member)
        events.append(
            audit_event(
                actor=actor,
                action=AuditAction.PERMISSION_CHANGE,
                object_type="staff",
                object_id=member.pk,
                detail={
                    "change": "credential_printed",
                    "username": member.username,
                    "credential_no": member.credential_no,
                    "one_time_password": password is not None,
                },
            )
        )
        path = reverse("frame:credential-check", args=[member.credential_key])
        credentials.append(Credential(member, base_url.rstrip("/") + path, password))
        if progress is not None:
            progress.advance()
    StaffMember.objects.bulk_update(changed, fields=["password", "credential_no", "credential_key"])
    AuditEvent.objects.bulk_create(events)
    return credentials


def staff_credential_reissue(*, member: StaffMember, actor: StaffMember | None) -> StaffMember:
    """A lost credential: a new QR key, so that the old card's code says "not valid" from now on."""
    if not staff_may_manage(actor, member):
        raise StaffPermissionError(_("Your role may not manage this account."), code="not_managed")
    member.credential_key = new_credential_key()
    member.save(update_fields=["credential_key"])
    audit_event(
        actor=actor,
        action=AuditAction.PERMISSION_CHANGE,
        object_type="staff",
        object_id=member.pk,
        detail={"change": "credential_revoked", "username": member.username, "credential_no": member.credential_no},
    ).save(force_insert=True)
    return member


# --- the PDF --------------------------------------------------------------------------------------------------


def _issuer_lines(issuer: str, width: int = 14) -> list[str]:
    """The issuing office's name in lines that fit the card (two at most)."""
    return [issuer[i : i + width] for i in range(0, min(len(issuer), 2 * width), width)]


def credentials_pdf(credentials: Sequence[Credential], *, issuer: str) -> bytes:
    """One A4 page per credential (see the module's docstring)."""
    from reportlab.graphics import renderPDF
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    # Adobe's Simplified Chinese font, which every PDF reader has: no font file to ship or embed.
    song = "STSong-Light"
    if song not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(song))
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    pdf.setTitle("第七次全国人口普查 普查员证")
    pdf.setAuthor(issuer)
    width, height = A4
    card_w, card_h = 90 * mm, 125 * mm
    left, top = (width - card_w) / 2, height - 20 * mm
    for credential in credentials:
        member = credential.member
        bottom = top - card_h
        pdf.setLineWidth(1.2)
        pdf.setStrokeColorRGB(0.75, 0.1, 0.1)
        pdf.roundRect(left, bottom, card_w, card_h, 4 * mm)
        pdf.setFillColorRGB(0.75, 0.1, 0.1)
        pdf.setFont(song, 11)
        pdf.drawCentredString(left + card_w / 2, top - 11 * mm, "第七次全国人口普查")
        pdf.setFont(song, 20)
        pdf.drawCentredString(left + card_w / 2, top - 21 * mm, ROLE_TITLES.get(member.role, ""))
        pdf.setFillColorRGB(0, 0, 0)
        # The photo: a box the office glues a photo into (2-inch, 35 × 49 mm scaled to the card).
        photo_w, photo_h = 25 * mm, 32 * mm
        photo_x, photo_y = left + 8 * mm, top - 28 * mm - photo_h
        pdf.setStrokeColorRGB(0.5, 0.5, 0.5)
        pdf.setDash(2, 2)
        pdf.rect(photo_x, photo_y, photo_w, photo_h)
        pdf.setDash()
        pdf.setFont(song, 9)
        pdf.drawCentredString(photo_x + photo_w / 2, photo_y + photo_h / 2, "照片")
        lines = [
            ("姓　　名", member.get_full_name()),
            ("身　　份", ROLE_NAMES.get(member.role, "")),
            ("乡镇街道", member.township.name if member.township else ""),
            ("证件编号", member.credential_no),
        ]
        y = top - 33 * mm
        for label, value in lines:
            pdf.setFont(song, 8)
            pdf.drawString(photo_x + photo_w + 5 * mm, y, label)
            pdf.setFont(song, 11)
            pdf.drawString(photo_x + photo_w + 5 * mm, y - 5 * mm, value)
            y -= 12 * mm
        qr = QrCodeWidget(credential.check_url, barLevel="M")
        x0, y0, x1, y1 = qr.getBounds()
        size = 32 * mm
        drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
        drawing.add(qr)
        renderPDF.draw(drawing, pdf, left + 8 * mm, bottom + 12 * mm)
        pdf.setFont(song, 8)
        pdf.drawString(left + 44 * mm, bottom + 34 * mm, "扫码核验证件是否有效")
        pdf.drawString(left + 44 * mm, bottom + 28 * mm, "发证机关：")
        pdf.setFont(song, 7)
        for index, part in enumerate(_issuer_lines(issuer)):
            pdf.drawString(left + 44 * mm, bottom + (24 - 4 * index) * mm, part)
        pdf.setFont(song, 8)
        pdf.drawString(left + 44 * mm, bottom + 13 * mm, f"发证日期：{timezone.localdate():%Y-%m-%d}")
        pdf.setFont(song, 7)
        pdf.drawCentredString(left + card_w / 2, bottom + 5 * mm, "依据《全国人口普查条例》第二十一条 入户时出示")

        # The slip to cut off: it must not be worn with the credential.
        cut = bottom - 12 * mm
        pdf.setDash(4, 3)
        pdf.setStrokeColorRGB(0.4, 0.4, 0.4)
        pdf.line(15 * mm, cut, width - 15 * mm, cut)
        pdf.setDash()
        pdf.setFont(song, 8)
        pdf.drawString(15 * mm, cut + 2 * mm, "沿此线剪下　账号交接单请本人妥善保管，勿与证件一同佩戴")
        pdf.setFont(song, 14)
        pdf.drawString(25 * mm, cut - 15 * mm, f"账号交接单：{member.get_full_name()}")
        pdf.setFont(song, 11)
        pdf.drawString(25 * mm, cut - 27 * mm, "登录名：")
        pdf.setFont("Courier-Bold", 14)
        pdf.drawString(50 * mm, cut - 27 * mm, member.username)
        pdf.setFont(song, 11)
        if credential.one_time_password is not None:
            pdf.drawString(25 * mm, cut - 37 * mm, "一次性密码：")
            pdf.setFont("Courier-Bold", 14)
            pdf.drawString(50 * mm, cut - 37 * mm, credential.one_time_password)
            pdf.setFont(song, 10)
            pdf.drawString(
                25 * mm, cut - 49 * mm, "首次登录后系统要求设置新密码（至少10位）；本密码仅能使用一次，请勿告知他人。"
            )
        else:
            pdf.drawString(25 * mm, cut - 37 * mm, "密码：本人已设置（忘记密码请联系乡镇普查办重置）")
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


# --- as a background job ---------------------------------------------------------------------------------------


def staff_credentials_start(*, actor: StaffMember, members: Sequence[StaffMember], base_url: str) -> Job:
    """Print the credentials (and hand-over sheets) of the given people in a job."""
    for member in members:
        if not staff_may_manage(actor, member):
            raise StaffPermissionError(_("Your role may not manage this account."), code="not_managed")
    townships = {m.township_id or "" for m in members}
    return job_start(
        kind=CREDENTIALS_JOB,
        title=_("Credentials of %(n)d people") % {"n": len(members)},
        user=actor,
        params={"staff": [m.pk for m in members], "base_url": base_url, "language": translation.get_language() or ""},
        township_id=townships.pop() if len(townships) == 1 else "",
    )


@job_handler(CREDENTIALS_JOB, audience=(), starters=(Role.TOWNSHIP_OFFICE, Role.DISTRICT_OFFICE))
def run_staff_credentials(job: Job, progress: ProgressReporter) -> JobOutput:
    actor = StaffMember.objects.get(pk=job.created_by_id)
    # The people again through the printer's scope: the worker trusts no id it was given.
    members = list(
        StaffMember.objects.visible_to(actor)
        .filter(pk__in=job.params.get("staff", []))
        .select_related("township")
        .order_by("township_id", "username")
    )
    progress.total(len(members))
    issuer = district_of(actor).office_name
    credentials = staff_credentials_issue(
        members=members, actor=actor, base_url=job.params.get("base_url", ""), progress=progress
    )
    with translation.override(job.params.get("language") or settings.LANGUAGE_CODE):
        message = _("%(n)d credential(s), %(p)d with a one-time password.") % {
            "n": len(credentials),
            "p": sum(1 for c in credentials if c.one_time_password is not None),
        }
    return JobOutput(
        content=credentials_pdf(credentials, issuer=issuer),
        file_name="credentials.pdf",
        result={"credentials": len(credentials)},
        message=message,
    )
