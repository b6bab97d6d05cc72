"""A real Chromium, driven by Playwright, against a live server of the project.

Every test here is marked `browser` and skips, saying why, only when no Chromium is installed
(Playwright cannot download its own browser here: `apt-get install chromium`). Each page a test
opens records console errors (Chromium reports Content-Security-Policy violations there), script
errors and failed requests; the test fails if any page saw one.
"""

import shutil

import pytest
from django.core.management import call_command

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STEP_TIMEOUT_MS = 5_000  # one click, fill or load; a whole test stays within seconds
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture(scope="package")
def chromium():
    """One headless Chromium for the whole folder (one Playwright per thread at a time)."""
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (apt-get install chromium): no browser tests")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the ORM calls here are sync.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def demo(live_server, settings):
    """The demo content (`seed_demo`) behind a live server; forms may be sent at once."""
    # The comment form refuses a send within seconds of showing it (a bot's speed); the
    # journeys type instantly, so they skip that wait. Everything else is the real policy.
    settings.COMMENTS = {**settings.COMMENTS, "MIN_SECONDS_TO_TYPE": 0, "MIN_SECONDS_TO_CONFIRM": 0}
    call_command("seed_demo", verbosity=0)
    return live_server


class Problems(list):
    """What went wrong on the pages of one browser context, with where it happened."""

    def watch(self, page):
        page.on("console", lambda message: self.console(page, message))
        page.on("pageerror", lambda error: self.append(f"{page.url}: script error: {error}"))
        page.on("requestfailed", lambda request: self.failed(page, request))
        page.on("response", lambda response: self.response(page, response))

    def console(self, page, message):
        # A page answered with 404 on purpose logs "Failed to load resource" for itself;
        # `response()` judges every sub-resource, and each test checks its pages' statuses.
        if message.type == "error" and "Failed to load resource" not in message.text:
            self.append(f"{page.url}: console error: {message.text}")

    def failed(self, page, request):
        if request.failure == "net::ERR_ABORTED":
            return  # the test moved on before a late request (often the icon) finished
        self.append(f"{page.url}: request failed: {request.url} ({request.failure})")

    def response(self, page, response):
        if response.status >= 400 and response.request.resource_type != "document":
            self.append(f"{page.url}: {response.status} for {response.url}")


@pytest.fixture
def open_page(chromium, demo):
    """Opens a tab in a fresh browser context (its own cookies) on the live server.

    Keyword arguments go to `new_context` (viewport, java_script_enabled, ...). After the test,
    no page may have logged a console error, a CSP violation, a script error or a failed request.
    """
    contexts, problems = [], Problems()

    def open_page(**options):
        context = chromium.new_context(base_url=demo.url, **{"viewport": DESKTOP, **options})
        context.set_default_timeout(STEP_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        problems.watch(page)
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert problems == [], "\n".join(problems)
