"""Shared by the organisation browser tests (tests/browser/test_organisation_*.py): the demo district with the
organisation sample data, and small helpers."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from django.core.management import call_command
from playwright.sync_api import Page

from supervision.organisation.demo import minimal_pdf

DEMO_PASSWORD = "census-demo-2020"


def seed_demo(settings: Any, tmp_path: Path) -> None:
    """What `make demo` loads, small: the synthetic district and then seed_organisation."""
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    settings.MEDIA_ROOT = tmp_path
    call_command("seed_district", persons=600, seed=5, stdout=io.StringIO())
    call_command("seed_organisation", if_empty=True, stdout=io.StringIO())


def pdf_file(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "mimeType": "application/pdf",
        "buffer": minimal_pdf(name.encode("ascii", "replace").decode()),
    }


def fits(page: Page, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"the page is {scroll}px wide on a {width}-px screen"


def charts_drawn(page: Page) -> list[str | None]:
    page.wait_for_selector("[data-chart][data-rendered]")
    return page.eval_on_selector_all("[data-chart]", "els => els.map(e => e.getAttribute('data-rendered'))")
