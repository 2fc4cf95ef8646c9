"""On a phone (375 px wide) the family's pages start with their content, not with menus, and
nothing makes the page scroll sideways (WCAG 1.4.10, reflow)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Browser, Page

from tests.e2e.people import sign_in
from tests.e2e.test_plan_journey import seed

# The menus took ~330 px above the page's heading before they were made compact; 740 px is
# the whole screen of a small phone.
HEADING_WITHIN = 300


def test_a_phone_sees_the_page_first_and_nothing_scrolls_sideways(
    browser: Browser,
    live_server,  # type: ignore[no-untyped-def]
    shoot: Callable[[Page, str], Path],
) -> None:
    fid = seed(live_server.app)
    context = browser.new_context(
        base_url=live_server.url, locale="nl-NL", viewport={"width": 375, "height": 740}
    )
    page = context.new_page()
    try:
        sign_in(page, "marieke@example.org")
        for name in ("plan", "members", "audit", "dossier", "messages", "access"):
            page.goto(f"/families/{fid}/{name}")
            heading = page.locator("h1").first.bounding_box()
            assert heading is not None and heading["y"] < HEADING_WITHIN, (name, heading)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 375, (name, width)
            shoot(page, f"phone-{name}")
    finally:
        context.close()
