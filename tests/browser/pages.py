"""What every page of the walks is held to, measured in Chromium (issue 21):

* ``axe_serious`` — axe-core (vendored from the npm registry into static/vendor/axe-core, loaded from the site's
  own origin, so the pages' Content-Security-Policy admits it) finds no critical or serious violation;
* ``overflow_x`` — the page is not wider than the screen (no horizontal scroll on a 360-px phone);
* ``small_targets`` — the controls a thumb uses are at least 44 × 44 CSS px (WCAG 2.5.5, the platforms' guides).

``check_page`` asserts all three and returns nothing; the walks call it on each page they reach.
"""

from __future__ import annotations

from playwright.sync_api import Locator, Page

AXE = "/static/vendor/axe-core/axe.min.js"
# The smallest target a thumb hits reliably.
TAP = 44

# Every control a person taps: links, buttons, form fields, the summary of a <details>, and a checkbox's label
# (the label is the target when it wraps the box). Hidden inputs, links inside running text (a sentence's link is
# exempt in WCAG 2.5.5, "inline") and controls outside the page's flow are not counted.
_TARGETS = """
(minimum) => {
  // A link inside running text (WCAG 2.5.8's "inline" exception): displayed inline, in a paragraph, list item,
  // definition or cell whose text goes well beyond the link's own.
  const inline = (el) => {
    if (el.tagName !== 'A' || getComputedStyle(el).display !== 'inline' || el.closest('nav, header')) return false;
    const block = el.parentElement && el.parentElement.closest('p, li, dd, td');
    if (!block) return false;
    const length = (node) => (node.innerText || '').replace(/\\s+/g, '').length;
    return length(block) > length(el) + 8;
  };
  const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary, label.check';
  const out = [];
  for (const el of document.querySelectorAll(selector)) {
    if (el.closest('.sr-only, [hidden], template')) continue;
    // Visually hidden for screen readers (a table's header row on a phone, where the rows are cards).
    let clipped = false;
    for (let a = el; a; a = a.parentElement) { if (getComputedStyle(a).clip !== 'auto') { clipped = true; break; } }
    if (clipped) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') continue;
    if ((el.type === 'checkbox' || el.type === 'radio') && el.closest('label')) continue;  // the label is the target
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    if (inline(el)) continue;
    if (box.width < minimum - 0.5 || box.height < minimum - 0.5) {
      const name = (el.innerText || el.value || el.name || el.getAttribute('aria-label') || '').trim().slice(0, 30);
      out.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''} "${name}" ${Math.round(box.width)}×${Math.round(box.height)}`);
    }
  }
  return out;
}
"""


def axe_serious(page: Page, *, exclude: list[str] | None = None) -> list[str]:
    """The critical and serious axe-core violations of the page as it is now, one line each."""
    page.wait_for_load_state("load")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(url=AXE)
    violations = page.evaluate(
        """async (exclude) => {
            const context = exclude.length ? {include: [document], exclude: exclude.map((s) => [s])} : document;
            const result = await axe.run(context, {resultTypes: ['violations']});
            return result.violations
              .filter((v) => v.impact === 'critical' || v.impact === 'serious')
              .map((v) => `${v.impact} ${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
        }""",
        exclude or [],
    )
    return list(violations)


def overflow_x(page: Page) -> int:
    """How many CSS px the page is wider than the screen (0: no horizontal scroll)."""
    return int(page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth"))


def small_targets(page: Page) -> list[str]:
    """The controls smaller than 44 × 44 px on the page."""
    return list(page.evaluate(_TARGETS, TAP))


def follow(page: Page, link: Locator) -> None:
    """Click a link and return once the page it leads to has loaded.

    A bare click returns before the browser has left the old page, and axe injected in between finds a
    document with no <head> yet (CI saw it once: "Cannot read properties of null (reading 'appendChild')").
    """
    with page.expect_navigation(wait_until="load"):
        link.click()


def check_page(page: Page, *, phone: bool, where: str = "") -> None:
    """axe-core on every page; on a phone also no horizontal scroll and 44 × 44 px targets."""
    where = where or page.url
    problems = axe_serious(page)
    assert not problems, f"{where}: axe-core finds {problems}"
    if phone:
        extra = overflow_x(page)
        assert extra <= 0, f"{where}: {extra}px wider than the 360-px screen"
        small = small_targets(page)
        assert not small, f"{where}: controls smaller than {TAP}×{TAP}px: {small}"
