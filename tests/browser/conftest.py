"""Browser tests: Debian's Chromium (/usr/bin/chromium, never a browser Playwright downloads)
driven by Playwright for Python, against the real stack started as the e2e tests start it (spare
ports, a mailbox of its own). `make test-browser` installs Chromium and axe-core first."""

import importlib.util
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from pagecheck import AXE, CHROMIUM, ROOT
from playwright.sync_api import Browser, Page, sync_playwright


def _e2e() -> ModuleType:
    """tests/e2e/conftest.py, loaded by path: a `tests` package installed by textstat shadows
    `tests.e2e`, and starting the stack is written once, there."""
    spec = importlib.util.spec_from_file_location("e2e_stack", ROOT / "tests/e2e/conftest.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


E2E = _e2e()


@pytest.fixture(scope="session")
def mailbox() -> Iterator[Any]:
    with E2E.Mailbox() as running:
        yield running


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, mailbox: Any) -> Iterator[Any]:
    """The stack as `make run` starts it, for the default variant (LLR)."""
    yield from E2E.run_stack(tmp_path_factory.mktemp("browser_var"), "llr", mailbox)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    for needed, how in ((CHROMIUM, "apt-get install chromium"), (AXE, "make test-browser")):
        if not needed.exists():
            pytest.fail(f"{needed} is missing: {how} installs it")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, stack: Any) -> Iterator[Page]:
    """A new visitor: a fresh browser context (no cookie yet) on a laptop-sized window. Any
    script error on the page, or anything the Content-Security-Policy blocked, fails the test."""
    context = browser.new_context(base_url=stack.url, viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.on(
        "console",
        lambda message: (
            errors.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    opened.set_default_timeout(30_000)
    yield opened
    context.close()
    assert not errors, errors
