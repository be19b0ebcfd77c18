"""The invitation slip (自主填报邀请单): the census's markings, the household's number, the code, a QR code that
opens the respondent's form, the deadline and a short explanation. As a page to print (QR codes as inline SVG) and as
a PDF (reportlab, which the credentials already use, with Adobe's Simplified Chinese CID font).

A code is known only when it is issued (the database keeps its hash), so slips are made from the codes in hand."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils import timezone

from census import privacy
from enumeration.models import Household
from enumeration.self_enumeration.services import code_display

EXPLANATION = (
    "第七次全国人口普查首次开通住户自主填报。请用手机扫描二维码（或在浏览器中打开下面的网址并输入填报码），"
    "按提示填写本户情况。填写的内容随时保存，可以分几次填完；提交申报后，普查员会上门或电话与您核对并签字确认。"
    "填报码只属于您家，请勿告诉他人。普查资料依法保密（《全国人口普查条例》第三十三条）。"
)
TITLE = "第七次全国人口普查 住户自主填报邀请单"


@dataclass(frozen=True)
class Slip:
    household: Household
    code: str
    url: str
    start_url: str
    enumerator: str

    @property
    def code_display(self) -> str:
        return code_display(self.code)

    @property
    def head(self) -> str:
        return privacy.mask_name(self.household.head_name_listed) if self.household.head_name_listed else ""

    @property
    def key(self) -> str:
        return self.household.key


def _qr_drawing(url: str, size: float):  # type: ignore[no-untyped-def]
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing

    qr = QrCodeWidget(url, barLevel="M")
    x0, y0, x1, y1 = qr.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(qr)
    return drawing


def qr_svg(url: str, size: int = 160) -> str:
    """The QR code as an inline ``<svg>`` element (no XML prologue, no style attribute: the page's CSP)."""
    from reportlab.graphics import renderSVG

    text = renderSVG.drawToString(_qr_drawing(url, size))
    start = text.find("<svg")
    svg = text[start:] if start >= 0 else text
    # reportlab paints through style attributes, which the content policy refuses: the fill as an attribute.
    svg = re.sub(r'\sstyle="[^"]*?fill: ([^;"]+);[^"]*"', r' fill="\1"', svg)
    svg = re.sub(r'\sstyle="[^"]*"', "", svg)
    # Several slips share a page: no ids (reportlab names its clip path and group the same in each).
    svg = re.sub(r"<clipPath.*?</clipPath>", "", svg, flags=re.S)
    svg = re.sub(r'\s(id|clip-path)="[^"]*"', "", svg)
    svg = re.sub(r"<title>.*?</title>\s*<desc>.*?</desc>", "", svg, flags=re.S)
    return svg.replace("<svg", '<svg role="img" aria-label="QR"', 1)


def slips_pdf(slips: Sequence[Slip], *, issuer: str, expires_at: str) -> bytes:
    """Two slips to an A4 page, to cut apart."""
    from reportlab.graphics import renderPDF
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    song = "STSong-Light"
    if song not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(song))
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    pdf.setTitle(TITLE)
    pdf.setAuthor(issuer)
    width, height = A4
    slip_h = height / 2
    for index, slip in enumerate(slips):
        if index and index % 2 == 0:
            pdf.showPage()
        top = height - (index % 2) * slip_h - 12 * mm
        left = 18 * mm
        pdf.setFillColorRGB(0.75, 0.1, 0.1)
        pdf.setFont(song, 16)
        pdf.drawString(left, top - 6 * mm, TITLE)
        pdf.setFillColorRGB(0, 0, 0)
        pdf.setFont(song, 11)
        pdf.drawString(left, top - 16 * mm, f"住户编号：{slip.key}　户主：{slip.head}")
        pdf.drawString(left, top - 24 * mm, f"填报截止：{expires_at}　普查员：{slip.enumerator}")
        pdf.drawString(left, top - 34 * mm, "填报码：")
        pdf.setFont("Courier-Bold", 15)
        pdf.drawString(left + 18 * mm, top - 34 * mm, slip.code_display)
        pdf.setFont(song, 9)
        pdf.drawString(left, top - 42 * mm, f"网址：{slip.start_url}")
        renderPDF.draw(_qr_drawing(slip.url, 42 * mm), pdf, width - left - 42 * mm, top - 50 * mm)
        text = pdf.beginText(left, top - 54 * mm)
        text.setFont(song, 9)
        line = 46
        for start in range(0, len(EXPLANATION), line):
            text.textLine(EXPLANATION[start : start + line])
        pdf.drawText(text)
        pdf.setFont(song, 8)
        pdf.drawString(left, top - 84 * mm, f"{issuer}　印制于 {timezone.localdate():%Y-%m-%d}")
        if index % 2 == 0:
            pdf.setDash(4, 3)
            pdf.setStrokeColorRGB(0.4, 0.4, 0.4)
            pdf.line(12 * mm, slip_h, width - 12 * mm, slip_h)
            pdf.setDash()
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
