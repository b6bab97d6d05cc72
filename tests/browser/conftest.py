"""A real Chromium, driven by Playwright, against a live server of the project.

Every test here is marked `browser` and skips, saying why, only when no Chromium is installed
(Playwright cannot download its own browser here: `apt-get install chromium`). Each page a test
opens records console errors (Chromium reports Content-Security-Policy violations there), script
errors and failed requests; the test fails if any page saw one.
"""

import shutil
import threading
import time
from functools import partial

import pytest
from django.core.management import call_command
from django.db import connection

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
    InFlight.watch(live_server)
    return live_server


class Answered:
    """A response body that calls `done` when the server closes it (PEP 3333)."""

    def __init__(self, body, done):
        self.body, self.done = body, done

    def __iter__(self):
        return iter(self.body)

    def close(self):
        try:
            if hasattr(self.body, "close"):
                self.body.close()
        finally:
            self.done()


class InFlight:
    """Counts the requests the live server is answering, so that a test's end can wait for the
    last ones a closing page sends (a desk page's leave beacon on pagehide, a heartbeat)
    before the database is emptied under them (SQLite's shared in-memory database then says
    "table is locked", and the next test inherits the rows).

    On SQLite it also answers one request at a time: the live server's threads share the
    test's one in-memory connection, and a page's own requests at once (the admin's jsi18n
    beside the desk's heartbeat and autosave) made it answer "table is locked", a 503."""

    def __init__(self, app):
        self.app, self.count, self.lock = app, 0, threading.Lock()
        self.one_at_a_time = threading.Lock() if connection.vendor == "sqlite" else None

    @classmethod
    def watch(cls, live_server):
        httpd = live_server.thread.httpd
        if not isinstance(httpd.get_app(), cls):
            httpd.set_app(cls(httpd.get_app()))
        return httpd.get_app()

    def __call__(self, environ, start_response):
        # Released when done; never waits for ever, should a request be left unclosed.
        held = self.one_at_a_time is not None and self.one_at_a_time.acquire(timeout=30)
        with self.lock:
            self.count += 1
        done = partial(self.done, held)
        try:
            body = self.app(environ, start_response)
        except BaseException:
            done()
            raise
        return Answered(body, done)  # done once the server has sent it (or dropped it)

    def done(self, held):
        with self.lock:
            self.count -= 1
        if held:
            self.one_at_a_time.release()

    def settle(self, quiet=0.3, at_most=10.0):
        """Return once no request has been in flight for `quiet` seconds (or after `at_most`)."""
        deadline, quiet_since = time.monotonic() + at_most, None
        while time.monotonic() < deadline:
            if self.count:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= quiet:
                return
            time.sleep(0.05)


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
    # A closing page may still send requests (a desk page's leave beacon): let them finish.
    InFlight.watch(demo).settle()
    assert problems == [], "\n".join(problems)
