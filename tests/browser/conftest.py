"""Browser tests: the fixtures (``browser``, ``phone``, ``desktop``) come from tests/browser/fixtures.py, loaded
for the whole suite by tests/conftest.py; the helpers are re-exported here for ``from tests.browser.conftest
import log_in, screenshot``."""

from tests.browser.fixtures import DESKTOP, PHONE, SCREENSHOTS, log_in, screenshot

__all__ = ["DESKTOP", "PHONE", "SCREENSHOTS", "log_in", "screenshot"]
