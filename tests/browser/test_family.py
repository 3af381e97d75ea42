"""A family member on the chat page, keyboard only: the typing status while waiting (Send
disabled, a second Enter sends nothing), focus and scrolling to the new buttons, earlier buttons
no longer live, the emergency answer, easy read, reading aloud with a local voice, a saved copy,
and Start again. Every state is scanned by axe-core."""

from pathlib import Path

from pagecheck import (
    assert_focus_is_visible,
    axe_clean,
    focused,
    in_viewport,
    live_buttons,
    reply_to,
    say,
    screenshot,
    tab_to,
    visible_in,
)
from playwright.sync_api import Page, Route, expect

# Speech synthesis as the page meets it on a device with one local and one online voice; what it
# is asked to say is recorded. (Headless Chromium has no voices of its own.)
VOICES = """
window.spoken = [];
window.SpeechSynthesisUtterance = class { constructor(text) { this.text = text; } };
speechSynthesis.getVoices = () => [
  {name: "Online English", lang: "en-GB", localService: false},
  {name: "Local English", lang: "en-GB", localService: true}];
speechSynthesis.speak = (u) => window.spoken.push([u.text, u.voice.name]);
"""


def assert_new_buttons_in_view(page: Page) -> None:
    first = live_buttons(page).first
    assert focused(page) == first.inner_text().strip()
    assert visible_in(page.locator("#transcript"), first), "the new buttons are scrolled away"
    assert in_viewport(page, first)


def test_a_family_conversation_keyboard_only(page: Page) -> None:
    page.add_init_script(VOICES)
    page.goto("/")
    axe_clean(page, "a new visitor")
    screenshot(page, "chat-new-visitor")

    page.keyboard.press("Tab")
    assert focused(page) == "Skip to the message box"
    assert_focus_is_visible(page)
    page.keyboard.press("Enter")
    assert focused(page) == "message"

    # While the assistant works: a status says so, Send is disabled, Enter again sends nothing.
    held: list[Route] = []
    page.route("**/chat", lambda route: held.append(route))
    page.keyboard.type("hello")
    page.keyboard.press("Enter")
    expect(page.locator("#status")).to_have_text("The assistant is typing")
    expect(page.locator("#send")).to_be_disabled()
    page.keyboard.type("hello")
    page.keyboard.press("Enter")
    axe_clean(page, "waiting for a reply")
    screenshot(page, "chat-waiting")
    for _ in range(50):  # the route's handler runs when Playwright next hears from the browser
        if held:
            break
        page.wait_for_timeout(100)
    assert len(held) == 1 and page.locator(".from-you").count() == 1
    with page.expect_response(lambda r: r.url.endswith("/chat")):
        held[0].continue_()
    page.unroute("**/chat")
    page.locator('#transcript[aria-busy="false"]').wait_for(state="attached")
    expect(page.locator("#status")).to_have_text("")
    expect(page.locator("#send")).to_be_enabled()
    assert_new_buttons_in_view(page)
    assert_focus_is_visible(page)
    page.locator("#message").fill("")  # the second "hello" was never sent

    # A question for families, by button: the greeting's buttons are then no longer live.
    tab_to(page, '#transcript button:text-is("What happens at a meeting?")')
    answer = reply_to(page)
    assert answer["messages"], "no answer to a family question"
    for old in page.locator(".choices--used button").all():
        expect(old).to_be_disabled()
    if answer["messages"][-1]["buttons"]:
        assert_new_buttons_in_view(page)
    else:
        assert focused(page) == "message"
    axe_clean(page, "a family answer")

    # Reading aloud uses the device's own voice, never an online one.
    tab_to(page, "#read-aloud")
    page.keyboard.press("Space")
    expect(page.locator("#read-aloud")).to_have_attribute("aria-pressed", "true")

    # The emergency answer stands out, and its numbers call.
    say(page, "my son says he wants to kill himself tonight")
    emergency = page.locator(".emergency-answer")
    expect(emergency).to_be_visible()
    for number in ("999", "111", "116123"):
        expect(emergency.locator(f'a[href="tel:{number}"]')).to_have_count(1)
    spoken = page.evaluate("() => window.spoken")
    assert spoken and {voice for _, voice in spoken} == {"Local English"}
    assert any("999" in text for text, _ in spoken)
    axe_clean(page, "the emergency answer")
    screenshot(page, "chat-emergency-answer")

    # Easy read: larger text and more space, for families.
    tab_to(page, "#easy-read")
    page.keyboard.press("Enter")
    expect(page.locator("body")).to_have_class("easy-read")
    size = page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)")
    assert size >= 24
    axe_clean(page, "easy read")
    screenshot(page, "chat-easy-read")

    # A copy of the conversation, as a text file.
    tab_to(page, "#save")
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    saved = Path(download.value.path()).read_text()
    assert "You: hello" in saved and "Assistant (emergency help): If someone is in danger" in saved

    # Start again: a new conversation, and the old one gone after a reload too.
    tab_to(page, "#restart")
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_response(lambda r: r.url.endswith("/chat/restart")):
        page.keyboard.press("Enter")
    expect(page.locator("#transcript .from-you")).to_have_count(0)
    expect(page.locator("#status")).to_contain_text("started again")
    assert focused(page) == "message"
    axe_clean(page, "started again")
    page.reload()
    page.locator("#transcript").wait_for()
    page.wait_for_load_state("networkidle")
    expect(page.locator("#transcript .from-you")).to_have_count(0)
