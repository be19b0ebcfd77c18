"""Evidence uploads: type by content, size limit, private storage, scoped and audited downloads."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse

from census.models import AuditAction, AuditEvent
from supervision.organisation.models import EvidenceFile
from supervision.organisation.services import evidence_store
from tests.conftest import Cast
from tests.organisation.conftest import Departments
from tests.organisation.factories import PNG, ooxml, upload

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["通知.pdf", "照片.jpg", "照片.JPEG", "截图.png", "报告.docx", "台账.xlsx"])
def test_every_allowed_type_is_stored_privately_under_a_random_name(cast: Cast, private_media: Path, name: str) -> None:
    evidence = evidence_store(upload=upload(name), actor=cast.district_office, district_id="511504")
    path = Path(evidence.file.path)
    assert path.is_file() and private_media in path.parents
    assert name not in str(path)  # the original name is a column, never a path
    assert evidence.original_name == name
    assert len(evidence.sha256) == 64 and evidence.size == path.stat().st_size
    assert AuditEvent.objects.filter(object_type="organisation.evidence_file", object_id=str(evidence.pk)).exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("程序.pdf", b"MZ\x90\x00\x03 a renamed executable", "not a PDF file"),
        ("照片.pdf", PNG, "not a PDF file"),
        ("表格.docx", ooxml("xl/workbook.xml"), "not a Word (docx) file"),
        ("压缩包.xlsx", b"PK\x03\x04 broken zip", "not a Excel (xlsx) file"),
        ("脚本.exe", b"MZ\x90\x00", "not an allowed type"),
        ("无扩展名", b"%PDF-1.4", "not an allowed type"),
        ("空.pdf", b"", "is empty"),
    ],
)
def test_a_file_whose_content_or_type_is_wrong_is_refused_and_nothing_is_kept(
    cast: Cast, private_media: Path, name: str, content: bytes, message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        evidence_store(upload=upload(name, content), actor=cast.district_office, district_id="511504")
    assert message in " ".join(caught.value.messages)
    assert not EvidenceFile.objects.exists()
    assert not any(private_media.rglob("*.*"))


def test_the_size_limit_is_configurable(cast: Cast, settings) -> None:  # type: ignore[no-untyped-def]
    settings.ORGANISATION_EVIDENCE_MAX_BYTES = 1024 * 1024
    big = b"%PDF-1.4\n" + b"0" * (1024 * 1024)
    with pytest.raises(ValidationError, match="at most 1 MB"):
        evidence_store(upload=upload("大文件.pdf", big), actor=cast.district_office, district_id="511504")
    settings.ORGANISATION_EVIDENCE_TYPES = ["pdf"]
    with pytest.raises(ValidationError, match="Allowed: PDF"):
        evidence_store(upload=upload("照片.png"), actor=cast.district_office, district_id="511504")


def test_the_refusal_is_in_chinese_for_chinese_readers(cast: Cast) -> None:
    from django.utils import translation

    with translation.override("zh-hans"), pytest.raises(ValidationError) as caught:
        evidence_store(upload=upload("程序.pdf", b"MZ"), actor=cast.district_office, district_id="511504")
    assert "不是" in caught.value.messages[0]


class TestDownload:
    @pytest.fixture
    def files(self, cast: Cast, depts: Departments) -> dict[str, EvidenceFile]:
        return {
            "township_a": evidence_store(
                upload=upload("甲镇.pdf"), actor=cast.township_office_a, district_id="511504", township_id="511504101"
            ),
            "jkj": evidence_store(
                upload=upload("经科局.pdf"), actor=depts.jkj_user, district_id="511504", department_id=depts.jkj.pk
            ),
        }

    def test_a_user_in_scope_gets_the_file_and_the_download_is_audited(
        self, cast: Cast, files: dict[str, EvidenceFile], login
    ) -> None:  # type: ignore[no-untyped-def]
        response = login(cast.township_office_a).get(
            reverse("supervision:evidence-download", args=[files["township_a"].pk])
        )
        assert response.status_code == 200
        assert b"".join(response.streaming_content).startswith(b"%PDF-")
        assert response["Content-Type"] == "application/pdf"
        assert "attachment" in response["Content-Disposition"]
        event = AuditEvent.objects.get(action=AuditAction.EXPORT, object_type="organisation.evidence_file")
        assert event.actor_username == "office_a" and event.object_id == str(files["township_a"].pk)

    @pytest.mark.parametrize(
        ("who", "which"),
        [("township_office_b", "township_a"), ("township_office_a", "jkj"), ("enumerator_a1", "jkj")],
    )
    def test_a_user_out_of_scope_gets_404_and_nothing_is_audited(
        self, cast: Cast, files: dict[str, EvidenceFile], login, who: str, which: str
    ) -> None:  # type: ignore[no-untyped-def]
        response = login(getattr(cast, who)).get(reverse("supervision:evidence-download", args=[files[which].pk]))
        assert response.status_code == 404
        assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()

    def test_another_department_gets_404_and_the_district_gets_the_file(
        self, cast: Cast, depts: Departments, files: dict[str, EvidenceFile], login, client_for
    ) -> None:  # type: ignore[no-untyped-def]
        url = reverse("supervision:evidence-download", args=[files["jkj"].pk])
        assert client_for(depts.fgj_user).get(url).status_code == 404
        assert client_for(depts.jkj_user).get(url).status_code == 200
        assert login(cast.district_office).get(url).status_code == 200

    def test_anonymous_visitors_are_sent_to_the_login_page(self, files: dict[str, EvidenceFile], client) -> None:  # type: ignore[no-untyped-def]
        response = client.get(reverse("supervision:evidence-download", args=[files["jkj"].pk]))
        assert response.status_code == 302 and reverse("login") in response["Location"]

    def test_the_files_are_not_under_the_web_root(self, files: dict[str, EvidenceFile], client) -> None:  # type: ignore[no-untyped-def]
        path = Path(files["jkj"].file.path)
        assert Path(settings.STATIC_ROOT) not in path.parents
        assert Path(settings.BASE_DIR / "static") not in path.parents
        with pytest.raises(ValueError, match="not accessible via a URL"):
            _ = files["jkj"].file.url
