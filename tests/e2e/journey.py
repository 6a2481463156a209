"""What a page journey needs: a window of a given size, a screenshot of every state, a
quiet server log, and the checks that a person's eye makes on any page.

A journey test uses each of a page's controls once, the way a person does, and asserts
what they then see. It runs at every size in `conftest.VIEWPORTS`, and saves each state
it reaches as `test-artifacts/journeys/<page>-<size>-<nn>-<state>.png` to be looked at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from .conftest import ARTIFACTS, VIEWPORTS, close_page, new_page
from .test_browser import exceptions, save_screenshot, wait_until_idle


@dataclass
class Journey:
    """One person's visit in one window: its page, and the states it has been through."""

    page: Page
    name: str  # "<page>-<size>", the screenshots' prefix
    size: str  # a key of VIEWPORTS
    log: Path  # the log of the server it talks to
    log_start: int = 0  # the log's length when the journey began
    states: list[str] = field(default_factory=list)

    @property
    def width(self) -> int:
        return VIEWPORTS[self.size]["width"]

    @property
    def height(self) -> int:
        return VIEWPORTS[self.size]["height"]

    def shot(self, state: str) -> None:
        """Save the whole page as it is now, and check what any state must get right."""
        self.states.append(state)
        folder = ARTIFACTS / "journeys"
        folder.mkdir(parents=True, exist_ok=True)
        save_screenshot(self.page, folder / f"{self.name}-{len(self.states):02d}-{state}.png")
        expect(exceptions(self.page), f"an exception box in state {state!r}").to_have_count(0)
        assert_every_image_has_alt_text(self.page)

    def new_log_lines(self) -> list[str]:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return text[self.log_start:].splitlines()


def open_journey(browser, page_name: str, size: str, log: Path) -> Journey:
    page = new_page(browser, VIEWPORTS[size])
    start = log.stat().st_size if log.exists() else 0
    return Journey(page, f"{page_name}-{size}", size, log, start)


def end_journey(journey: Journey) -> None:
    """Close the window, then check that the server printed nothing meanwhile.

    Once it has started, the app has nothing to say in its user's terminal: any line
    is a warning (Streamlit's carry no level name) or a library's chatter.
    """
    close_page(journey.page)
    printed = [line for line in journey.new_log_lines() if line.strip()]
    assert not printed, "the server's log (a user's terminal) showed:\n" + "\n".join(printed)


def assert_every_image_has_alt_text(page: Page) -> None:
    """Images the app shows carry a text for screen readers."""
    missing = page.evaluate(
        """() => [...document.querySelectorAll('[data-testid="stMain"] img')]
            .filter(img => !img.hasAttribute('alt') || img.getAttribute('alt').trim() === '')
            .map(img => (img.getAttribute('src') || '').slice(0, 60))"""
    )
    assert not missing, f"images without alt text: {missing}"


def assert_wholly_in_window(page: Page, element: Locator, what: str) -> None:
    """Nothing of `element` is cut off: inside the window's width, and not clipped by the
    column it sits in (scrolled into view first, as a person scrolls to it)."""
    element.scroll_into_view_if_needed()
    box = element.bounding_box()
    assert box is not None, f"{what} is not on the page"
    width = page.viewport_size["width"]
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"{what} runs off the window: {box}"
    clipped = element.evaluate(
        """el => { const r = el.getBoundingClientRect();
            for (let p = el.parentElement; p; p = p.parentElement) {
                const s = getComputedStyle(p);
                if (s.overflowX === 'visible' && s.overflowY === 'visible') continue;
                const q = p.getBoundingClientRect();
                if (r.left < q.left - 1 || r.right > q.right + 1) return p.className || p.tagName;
            }
            return null; }"""
    )
    assert clipped is None, f"{what} is clipped by its container ({clipped})"


def assert_text_not_truncated(page: Page, locator: Locator, what: str) -> None:
    """A label shown whole, not cut to "Star…" by a narrow column."""
    overflowing = locator.evaluate(
        """el => { const all = [el, ...el.querySelectorAll('*')];
            return all.some(e => e.scrollWidth > e.clientWidth + 1 &&
                                 getComputedStyle(e).textOverflow === 'ellipsis'); }"""
    )
    assert not overflowing, f"{what} is cut short: {locator.inner_text()!r}"


def image_heights(page: Page, container: Locator) -> list[float]:
    return [img.bounding_box()["height"] for img in container.locator("img").all()]


def choose_option(page: Page, select: Locator, option: str) -> None:
    """Pick `option` in an st.selectbox: click it open, click the option."""
    field = select.locator("input")
    field.scroll_into_view_if_needed()
    field.click()
    listbox = page.get_by_role("listbox")
    if not listbox.count():  # a click that landed while the page was settling
        field.press("ArrowDown")
    listbox.get_by_role("option", name=option, exact=True).click()
    wait_until_idle(page)
    expect(field).to_have_value(option)
