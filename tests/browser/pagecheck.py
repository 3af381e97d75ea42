"""What the browser tests do and check on a page: keyboard moves, a message sent and its reply
awaited, axe-core scans, screenshots, where things sit on the screen, the focus style."""

from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "var" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "reports" / "screenshots"
WCAG = ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]
YELLOW, BLACK = "rgb(255, 221, 0)", "rgb(11, 12, 12)"


def axe_clean(page: Page, state: str) -> None:
    """axe-core over the page as it is now, with the WCAG 2.0, 2.1 and 2.2 A and AA rules: no
    violation. Evaluated through the DevTools protocol, so the page's CSP (no inline script)
    stays as it is served."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text())
    violations: list[dict[str, Any]] = page.evaluate(
        """async (tags) => (await axe.run(document, {runOnly: {type: "tag", values: tags}}))
            .violations.map(v => ({id: v.id, help: v.help,
                                   nodes: v.nodes.map(n => n.target.join(" "))}))""",
        WCAG,
    )
    assert violations == [], f"axe-core, {state}: {violations}"


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def focused(page: Page) -> str:
    """What has the focus: its id, or its text."""
    return str(
        page.evaluate(
            "() => document.activeElement.id || document.activeElement.textContent.trim()"
        )
    )


def tab_to(page: Page, target: str, most: int = 40) -> None:
    """Presses Tab until `target` (a Playwright selector) has the focus, as a keyboard user."""
    element = page.locator(target).first
    for _ in range(most):
        if element.evaluate("e => e === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {target} (focus on {focused(page)!r})")


def reply_to(page: Page, press: str = "Enter") -> dict[str, Any]:
    """Presses a key that sends (Enter in the message box, or on a focused button) and waits for
    the reply to be shown; returns /chat's answer."""
    with page.expect_response(lambda r: r.url.endswith("/chat")) as answer:
        page.keyboard.press(press)
    page.locator('#transcript[aria-busy="false"]').wait_for(state="attached")
    body: dict[str, Any] = answer.value.json()
    return body


def say(page: Page, text: str) -> dict[str, Any]:
    """Types a message in the box and sends it with Enter, keyboard only."""
    tab_to(page, "#message")
    page.keyboard.type(text)
    return reply_to(page)


def visible_in(outer: Locator, inner: Locator) -> bool:
    """Whether `inner` lies wholly inside what `outer` shows (its scrolled box)."""
    box, within = outer.bounding_box(), inner.bounding_box()
    assert box and within
    return (
        within["y"] >= box["y"] - 1
        and within["y"] + within["height"] <= box["y"] + box["height"] + 1
        and within["x"] >= box["x"] - 1
        and within["x"] + within["width"] <= box["x"] + box["width"] + 1
    )


def in_viewport(page: Page, element: Locator) -> bool:
    return bool(
        element.evaluate(
            """e => { const r = e.getBoundingClientRect();
                      return r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight + 1
                             && r.right <= document.documentElement.clientWidth + 1; }"""
        )
    )


def live_buttons(page: Page) -> Locator:
    return page.locator("#transcript .choices:not(.choices--used) :is(button, input):enabled")


def assert_focus_is_visible(page: Page) -> None:
    """GOV.UK's focus style on what has the focus: yellow, with a black edge or outline, so it
    shows on any background."""
    style = page.evaluate(
        """() => { const s = getComputedStyle(document.activeElement);
                   return [s.backgroundColor, s.outlineColor, s.outlineStyle, s.boxShadow,
                           s.borderColor].join(" | "); }"""
    )
    assert YELLOW in style and BLACK in style, f"{focused(page)!r}: {style}"
