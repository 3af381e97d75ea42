"""The register pages in a real browser (issue 12 parts 3 and 4): the DSR admin lead signs in
and works by keyboard alone through the board, a person's timeline, the rating form, the MAM
forms and gaps in service; every page and error state is scanned by axe-core (WCAG 2.0, 2.1 and
2.2, A and AA, no violation) and photographed under reports/screenshots/."""

import importlib.util
from collections.abc import Iterator
from datetime import date
from types import ModuleType
from typing import Any

import httpx
import pytest
from pagecheck import ROOT, assert_focus_is_visible, axe_clean, focused, screenshot, tab_to
from playwright.sync_api import Browser, Page, expect


def _factory() -> ModuleType:
    """tests/backend's referral builder, loaded by path (as conftest loads the e2e stack): the
    referrals it makes pass the questionnaire's real rules."""
    path = ROOT / "tests/backend/test_referrals_factory.py"
    spec = importlib.util.spec_from_file_location("referrals_factory", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def people(stack: Any) -> dict[str, str]:
    """Two people referred by a professional through the API: one amber, one red."""
    factory = _factory()
    headers = {"Authorization": f"Bearer {stack.token('referrer')}"}
    made = {}
    for rag, extra in (
        ("amber", {}),
        ("red", {"imminent": True, "criteria": ("red.deterioration_despite_mam",)}),
    ):
        body = factory.referral_body(rag=rag, full=True, mam_organised_by_admin=True, **extra)
        response = httpx.post(
            f"{stack.url}/api/v1/referrals", json=body, headers=headers, timeout=30
        )
        assert response.status_code == 201, response.text
        made[rag] = response.json()["dsp_id"]
    return made


@pytest.fixture
def admin(browser: Browser, stack: Any) -> Iterator[Page]:
    context = browser.new_context(base_url=stack.url, viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.set_default_timeout(30_000)
    yield opened
    context.close()
    assert not errors, errors


def check(page: Page, name: str) -> None:
    axe_clean(page, name)
    screenshot(page, f"admin-{name}")


def sign_in_by_keyboard(page: Page, token: str) -> None:
    page.goto("/admin/login")
    page.keyboard.press("Tab")
    assert focused(page) == "Skip to main content"
    assert_focus_is_visible(page)
    tab_to(page, "#token")
    page.keyboard.type(token)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_the_admin_lead_works_the_register_by_keyboard(
    admin: Page, stack: Any, people: dict[str, str]
) -> None:
    page = admin
    page.goto("/admin/login")
    check(page, "login")

    # A wrong token: the error summary takes the focus and links to the field.
    sign_in_by_keyboard(page, "dsp_not-a-real-token")
    expect(page.locator(".error-summary")).to_be_focused()
    expect(page).to_have_title("Error: Sign in - DSP register")
    check(page, "login-error")

    sign_in_by_keyboard(page, stack.token("dsr_admin"))
    expect(page.locator("h1")).to_have_text("The register")
    red_column = page.locator("section.board-column--red")
    expect(red_column).to_contain_text(people["red"])
    expect(page.locator("section.board-column--amber")).to_contain_text(people["amber"])
    expect(page.locator("section.board-column--amber")).to_contain_text("Due soon")
    check(page, "board")
    page.select_option("#due", "overdue")
    tab_to(page, "button[type=submit] >> text=Show")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("main")).to_contain_text("with something overdue")
    check(page, "board-overdue")
    page.goto("/admin")

    # To the amber person's timeline by keyboard.
    tab_to(page, f"a[href='/admin/people/{people['amber']}']", most=80)
    assert_focus_is_visible(page)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text(people["amber"])
    expect(page.locator("#timeline")).to_be_visible()
    check(page, "timeline")

    # The rating form, sent empty: both problems in the summary, each field marked.
    tab_to(page, "text=Change the rating")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    check(page, "rating")
    tab_to(page, "button[type=submit] >> text=Change the rating", most=60)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(".error-summary li")).to_have_count(2)
    check(page, "rating-error")
    tab_to(page, "#to")  # red, the first of the ratings an amber person may move to
    page.keyboard.press("Space")
    tab_to(page, "#reason")
    page.keyboard.type("Police called twice this week; agreed with the TCO")
    page.keyboard.press("Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(".notice")).to_contain_text("The rating was changed.")
    expect(page.locator("#ratings + .table-wrap")).to_contain_text("Police called twice")
    check(page, "timeline-changed")

    # A MAM: arranged, then its notes form with every section of the first template.
    page.goto(f"/admin/people/{people['red']}/mam")
    check(page, "mam-arrange")
    tab_to(page, "button[type=submit] >> text=Arrange the MAM", most=60)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(".error-summary li")).to_have_count(2)
    check(page, "mam-arrange-error")
    tab_to(page, "#scheduled_date")
    page.locator("#scheduled_date").fill(date.today().isoformat())
    page.locator("#scheduled_time").fill("00:01")
    tab_to(page, "#joining_link")
    page.keyboard.type("https://meet.example.nhs.uk/j/42")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text("MAM 1 notes")
    expect(page.locator("fieldset.fieldset--section")).to_have_count(13)
    check(page, "mam-notes")

    # A section both answered and not applicable, and an action with nothing else.
    tab_to(page, "#section_update", most=80)
    page.keyboard.type("Settled at home since the referral.")
    tab_to(page, "#section_update_na")
    page.keyboard.press("Space")
    tab_to(page, "#new_0_task", most=120)
    page.keyboard.type("Refer to the intensive support team")
    tab_to(page, "button[type=submit] >> text=Save the MAM notes", most=80)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    # Not applicable with an answer; the action's responsible person and due date.
    expect(page.locator(".error-summary li")).to_have_count(3)
    expect(page.locator("#section_update")).to_have_value("Settled at home since the referral.")
    check(page, "mam-notes-error")

    # Gaps in service: the list, the form, and the form sent empty.
    page.goto(f"/admin/gaps?dsp_id={people['red']}")
    expect(page.locator("#dsp_id")).to_have_value(people["red"])
    check(page, "gaps")
    tab_to(page, "button[type=submit] >> text=Record the gap", most=80)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(".error-summary")).to_be_focused()
    check(page, "gaps-error")

    page.goto("/admin/reports")
    check(page, "reports")

    # Signing out by keyboard; a page then asks to sign in.
    tab_to(page, "text=Sign out")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.goto(f"/admin/people/{people['red']}")
    expect(page.locator("h1")).to_have_text("Sign in")
    check(page, "signed-out")


def test_a_commissioner_sees_counts_and_is_kept_from_people(
    admin: Page, stack: Any, people: dict[str, str]
) -> None:
    page = admin
    sign_in_by_keyboard(page, stack.token("commissioner"))
    expect(page.locator("h1")).to_have_text("Reports")
    assert people["amber"] not in page.content()
    check(page, "commissioner-reports")
    response = page.goto(f"/admin/people/{people['amber']}")
    assert response is not None and response.status == 403
    check(page, "commissioner-refused")


@pytest.fixture
def narrow(browser: Browser, stack: Any) -> Iterator[Page]:
    """A phone-sized window, 320 CSS pixels wide; each page's text is then made twice as big."""
    context = browser.new_context(base_url=stack.url, viewport={"width": 320, "height": 640})
    opened = context.new_page()
    yield opened
    context.close()


def test_the_pages_reflow_at_320_px_with_text_at_200_percent(
    narrow: Page, stack: Any, people: dict[str, str]
) -> None:
    """WCAG 1.4.4 and 1.4.10: nothing scrolls sideways but a data table, inside its own box."""
    page = narrow
    sign_in_by_keyboard(page, stack.token("tco"))
    for url, name in (
        ("/admin", "board"),
        (f"/admin/people/{people['amber']}", "timeline"),
        (f"/admin/people/{people['amber']}/rating", "rating"),
        ("/admin/gaps", "gaps"),
    ):
        page.goto(url)
        page.evaluate("() => { document.documentElement.style.fontSize = '200%'; }")
        sizes = page.evaluate(
            "() => ({page: document.documentElement.scrollWidth, view: innerWidth})"
        )
        assert sizes["page"] <= sizes["view"], f"{url} scrolls sideways: {sizes}"
        check(page, f"{name}-320px-text-200")
