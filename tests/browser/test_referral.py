"""A professional's whole referral through the page, keyboard only: answers typed, or chosen with
the focused buttons, several at once where the question allows it (ticked with Space); a reload
in the middle brings the conversation back with only its last buttons live; the referral is
received, then confirmed from the email's link in the same browser. Every state is scanned."""

import re
from typing import Any

import yaml
from pagecheck import (
    ROOT,
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
from playwright.sync_api import Page, expect

# The answers of a persona of the e2e suite: a school nurse referring an autistic boy of 12.
PERSONA = ROOT / "tests/e2e/personas/llr_school_nurse_mandatory_amber.yml"
# Said without the diagnosis, so that question is asked, with its several choices.
OPENING = "Hi, I'm a school nurse and I'd like to refer a 12 year old boy in Leicester to the DSR"
REFERENCE = re.compile(r"REF-[A-Z0-9]{4}-[A-Z0-9]{4}")
MOST_MESSAGES = 30


def tick(page: Page, titles: list[str]) -> dict[str, Any]:
    """Ticks the named choices with Space and sends them, keyboard only."""
    for title in titles:
        tab_to(page, f'#transcript .choices:not(.choices--used) input[data-title="{title}"]')
        page.keyboard.press("Space")
    tab_to(page, '#transcript .choices:not(.choices--used) button:text-is("Send my choices")')
    return reply_to(page)


def choose(page: Page, title: str) -> dict[str, Any]:
    tab_to(page, f'#transcript .choices:not(.choices--used) button:text-is("{title}")')
    return reply_to(page)


def answer(page: Page, asking: str, given: str) -> dict[str, Any]:
    """As a person would: a button where one says what they mean, else typed."""
    if asking == "diagnosis":
        expect(page.locator("#transcript fieldset.choices").last).to_be_visible()
        return tick(page, ["Learning disability", "Autism"])
    if asking == "concerns":
        first = live_buttons(page).first.get_attribute("data-title")
        assert first
        return tick(page, [first])
    titles = [b.inner_text().strip() for b in live_buttons(page).all()]
    for title in titles:
        if given.lower().startswith(title.lower()):
            return choose(page, title)
    return say(page, given)


def test_a_professional_referral_keyboard_only_with_a_reload(page: Page, stack: Any) -> None:
    answers: dict[str, str] = yaml.safe_load(PERSONA.read_text())["answers"]
    page.goto("/")
    reply = say(page, OPENING)
    assert reply["asking"] == "diagnosis"
    axe_clean(page, "a question with several answers")
    screenshot(page, "chat-several-answers")
    sent, reloaded = 1, False
    while reply.get("asking") is not None and sent < MOST_MESSAGES:
        asking = reply["asking"]
        if asking == "current_situation" and not reloaded:
            # A reload mid-referral: the same conversation, the same question, nothing live but
            # the buttons still waiting for an answer.
            shown = page.locator("#transcript .message").all_inner_texts()
            page.reload()
            expect(page.locator("#transcript .message")).to_have_count(len(shown))
            assert page.locator("#transcript .message").all_inner_texts() == shown
            expect(page.locator("#transcript .from-you")).to_have_count(sent)
            assert live_buttons(page).count() == 0  # this question is answered in words
            for old in page.locator("#transcript .choices button").all():
                expect(old).to_be_disabled()
            axe_clean(page, "after a reload mid-referral")
            screenshot(page, "chat-after-reload")
            reloaded = True
        given = "yes, send it" if asking == "$summary" else answers[asking]
        reply = answer(page, asking, str(given))
        assert reply["messages"], f"no reply after answering {asking}"
        sent += 1
        buttons = [b for m in reply["messages"] for b in m["buttons"]]
        # Focus on the first new choice, in view however long the question, or back in the
        # message box.
        expected = live_buttons(page).first if buttons else page.locator("#message")
        assert expected.evaluate("e => e === document.activeElement"), focused(page)
        if buttons:
            assert visible_in(page.locator("#transcript"), expected), f"{asking}: out of view"
            assert in_viewport(page, expected), f"{asking}: the buttons are off the screen"
        if asking == "$summary":
            break
    assert reloaded
    text = " ".join(m["text"] for m in reply["messages"])
    reference = REFERENCE.search(text)
    assert reference, text
    expect(page.locator("#transcript")).to_contain_text(reference[0])
    axe_clean(page, "the referral received")
    screenshot(page, "chat-referral-received")

    # The referrer confirms from the email, in the same browser.
    body = stack.mailbox.about(reference[0]).get_content()
    link = re.search(r"https?://\S+/referrals/confirm/[A-Za-z0-9_-]+", body)
    assert link, body
    page.goto(link[0])
    axe_clean(page, "the confirmation page")
    screenshot(page, "referral-confirm")
    tab_to(page, 'button:text-is("Confirm the referral")')
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Thank you")
    axe_clean(page, "the referral confirmed")
    screenshot(page, "referral-confirmed")
