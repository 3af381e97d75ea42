"""How the pages hold up for people who see them differently: 320 px wide with text at 200%,
forced colours (high contrast), the focus style on every background, errors for an empty or
too-long message, and the privacy notice and accessibility statement. Every state is scanned
by axe-core and photographed."""

from collections.abc import Iterator
from typing import Any

import pytest
from pagecheck import (
    assert_focus_is_visible,
    axe_clean,
    focused,
    in_viewport,
    live_buttons,
    say,
    screenshot,
    tab_to,
)
from playwright.sync_api import Browser, Page, expect


@pytest.fixture
def narrow(browser: Browser, stack: Any) -> Iterator[Page]:
    """A phone-sized window, 320 CSS pixels wide, with the text made twice as big."""
    context = browser.new_context(base_url=stack.url, viewport={"width": 320, "height": 640})
    opened = context.new_page()
    opened.goto("/")
    opened.evaluate("() => { document.documentElement.style.fontSize = '200%'; }")
    yield opened
    context.close()


def test_reflow_at_320_px_with_text_at_200_percent(narrow: Page) -> None:
    page = narrow
    for message in ("hello", "what is the DSP?", "hello"):
        say(page, message)
    sizes = page.evaluate(
        """() => { const t = document.getElementById("transcript");
                   return {page: document.documentElement.scrollWidth, view: innerWidth,
                           shown: t.clientHeight, whole: t.scrollHeight}; }"""
    )
    assert sizes["page"] <= sizes["view"], f"the page scrolls sideways: {sizes}"
    # The whole transcript is in the page (read by scrolling the page), not in a box a few
    # lines high.
    assert sizes["whole"] <= sizes["shown"] + 1, sizes
    first = live_buttons(page).first
    assert in_viewport(page, first), "the new buttons are off the screen"
    send = page.locator("#send")
    send.scroll_into_view_if_needed()
    assert in_viewport(page, send), "Send runs off the page"
    axe_clean(page, "320 px wide, text at 200%")
    screenshot(page, "chat-320px-text-200")


def test_forced_colours_keep_every_edge(page: Page) -> None:
    page.emulate_media(forced_colors="active")
    page.goto("/")
    say(page, "hello")
    edges = page.evaluate(
        """() => [...document.querySelectorAll(
                "button:not([hidden]), .button, textarea, #transcript, .callout")]
            .map(e => [e.id || e.textContent.trim().slice(0, 30), getComputedStyle(e).borderTopStyle,
                       parseFloat(getComputedStyle(e).borderTopWidth)])"""
    )
    assert len(edges) > 8
    for name, style, width in edges:
        assert style == "solid" and width >= 1, f"{name!r} has no border in forced colours"
    axe_clean(page, "forced colours")
    screenshot(page, "chat-forced-colours")


def test_focus_shows_on_every_background(page: Page) -> None:
    """Tab through the whole page, header to footer, with a reply's buttons in the transcript:
    yellow with black wherever the focus goes."""
    page.goto("/")
    say(page, "hello")
    page.locator("h1").click()  # from the top: the skip link and the header's link come first
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    seen: set[str] = set()
    for _ in range(40):
        name = focused(page)
        if name in seen or page.evaluate("() => document.activeElement === document.body"):
            break
        seen.add(name)
        assert_focus_is_visible(page)
        page.keyboard.press("Tab")
    assert {"Skip to the message box", "message", "send", "transcript", "Privacy notice"} <= seen
    assert "What is the DSP?" in seen and "easy-read" in seen


def test_an_empty_or_too_long_message_is_an_error_that_says_so(page: Page) -> None:
    page.goto("/")
    tab_to(page, "#message")
    page.keyboard.press("Enter")
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(page.locator("#message-error")).to_have_text("Error: Enter a message")
    assert page.title().startswith("Error: ")
    axe_clean(page, "an empty message")
    screenshot(page, "chat-error-empty")

    # Too long: counted, never cut, not sent, and said why.
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.url.endswith("/chat") else None)
    page.locator("#message").fill("a" * 2001)
    expect(page.locator("#message-count")).to_have_text("You have 1 character too many")
    tab_to(page, "#message")
    page.keyboard.press("Enter")
    expect(page.locator("#message-error")).to_contain_text("That message is too long")
    assert len(page.locator("#message").input_value()) == 2001 and not sent
    axe_clean(page, "a message too long")
    screenshot(page, "chat-error-too-long")

    # The link in the summary takes the focus to the box; a message then clears the error.
    tab_to(page, "#error-summary-link")
    page.keyboard.press("Enter")
    assert focused(page) == "message"
    page.locator("#message").fill("")
    say(page, "hello")
    expect(summary).to_be_hidden()
    assert not page.title().startswith("Error: ")


def test_a_refusal_from_the_server_is_shown_beside_the_box(page: Page) -> None:
    """What only the server can tell (here, a character no keyboard types) comes back as the
    same error, with the message returned to the box."""
    page.goto("/")
    page.locator("#message").fill("hello \u0007")
    tab_to(page, "#message")
    with page.expect_response(lambda r: r.url.endswith("/chat")) as answer:
        page.keyboard.press("Enter")
    assert answer.value.status == 422
    expect(page.locator("#message-error")).to_contain_text("cannot be read")
    expect(page.locator("#transcript .from-you")).to_have_count(0)
    assert page.locator("#message").input_value() == "hello \u0007"
    axe_clean(page, "a message the server refused")


def test_buttons_whose_answer_did_not_get_through_stay_live(page: Page) -> None:
    """The network fails as a button is used: the note says so, and the question's buttons can
    still answer it."""
    page.goto("/")
    say(page, "hello")
    page.route("**/chat", lambda route: route.abort())
    page.keyboard.press("Enter")  # on the first button, where the focus went
    expect(page.locator("#transcript")).to_contain_text("could not be reached")
    expect(live_buttons(page)).to_have_count(page.locator("#transcript .choices button").count())
    assert focused(page) == "message"
    axe_clean(page, "the assistant not reached")


def test_a_confirmation_link_that_is_not_valid(page: Page) -> None:
    """The page a referrer sees from an old or mistyped link in the email."""
    response = page.goto("/referrals/confirm/" + "x" * 32)
    assert response is not None and response.status == 404
    expect(page.locator("h1")).to_have_text("Link not valid")
    axe_clean(page, "a confirmation link not valid")
    screenshot(page, "referral-link-not-valid")


@pytest.mark.parametrize(
    ("path", "heading"),
    [("/privacy", "Privacy notice"), ("/accessibility", "Accessibility statement")],
)
def test_the_privacy_notice_and_accessibility_statement(
    page: Page, path: str, heading: str
) -> None:
    page.goto("/")
    tab_to(page, f'footer a:text-is("{heading}")')
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{path}")
    expect(page.locator("h1")).to_have_text(heading)
    expect(page.locator("footer")).to_contain_text("@")  # the team's email, from the variant
    axe_clean(page, heading)
    screenshot(page, path.strip("/"))
