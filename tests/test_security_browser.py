"""An editor and a moderator work in the admin in a real browser under the site's
Content-Security-Policy: every widget works and the browser reports no violation."""

import shutil

import pytest

from articles.models import Article

from .factories import make_article, make_comment, make_event, make_section, make_tag, make_user

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt install chromium)"),
]
PASSWORD = "correct horse battery staple"
WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__csp.push(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}`);
});
"""


def watch(page):
    """Collect console errors and warnings, script errors and failed requests on the page."""
    page.problems = []
    page.on("console", lambda m: m.type in {"error", "warning"} and page.problems.append(m.text))
    page.on("pageerror", lambda error: page.problems.append(str(error)))
    page.on(
        "response",
        lambda r: r.status >= 400 and page.problems.append(f"{r.status} {r.url}"),
    )
    return page


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the ORM calls are still sync.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking", "--headless"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page_for(browser, live_server):
    """A signed-in browser tab that records console errors and CSP violations."""
    pages = []

    def open_as(user):
        context = browser.new_context(base_url=live_server.url)
        context.add_init_script(WATCH_CSP)
        page = watch(context.new_page())
        page.set_default_timeout(10_000)
        page.goto("/admin/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_url("**/admin/")
        pages.append(page)
        return page

    yield open_as
    for page in pages:
        page.context.close()


def assert_clean(page):
    violations = page.evaluate("window.__csp")
    assert violations == [], violations
    assert page.problems == [], page.problems


def test_article_form_widgets_work_under_the_csp(page_for):
    """Slug prepopulation, tag and event autocomplete, date shortcuts and the collapsed
    fieldset all work on the add-article form, with no CSP violation or console error."""
    make_section(name="Speed skating")
    make_tag(name="Milano Cortina 2026")
    make_event(name="Women's 1000 m")
    page = page_for(make_user("edna", groups=["Editors"]))
    page.goto("/admin/articles/article/add/")

    page.fill("#id_title", "Leerdam wins gold")
    page.press("#id_title", "Tab")
    assert page.input_value("#id_slug") == "leerdam-wins-gold"  # prepopulate.js

    choices = [("tags", "Milano", "Milano Cortina 2026"), ("events", "1000", "1000 m")]
    for field, typed, shown in choices:
        page.click(f".field-{field} .select2-selection")  # autocomplete.js with select2
        page.keyboard.type(typed)
        page.wait_for_selector(f".select2-results__option:has-text('{shown}')")
        page.keyboard.press("Enter")
        assert shown in page.inner_text(f".field-{field}")

    page.click(".field-published_at .datetimeshortcuts a:has-text('Today')")  # calendar.js
    assert page.input_value("#id_published_at_0") != ""

    advanced = page.locator("details:has(summary:has-text('Advanced'))")
    advanced.locator("summary").click()
    assert advanced.evaluate("element => element.open")
    assert_clean(page)


def test_filter_horizontal_works_under_the_csp(page_for):
    """The two-box permission picker on a group (SelectFilter2.js) builds and moves options."""
    page = page_for(make_user("root", is_superuser=True))
    page.goto("/admin/auth/group/add/")
    page.fill("#id_permissions_input", "comment")  # the picker's own filter box
    page.select_option("#id_permissions_from", index=0)
    page.click("#id_permissions_add")
    assert page.locator("#id_permissions_to option").count() == 1
    assert_clean(page)


def test_editor_saves_a_story_and_uses_the_changelist(page_for):
    """Saving the form and running a changelist action work under the policy."""
    section = make_section(name="Speed skating")
    page = page_for(make_user("edna", groups=["Editors"]))
    page.goto("/admin/articles/article/add/")
    page.fill("#id_title", "Saved in a browser")
    page.fill("#id_standfirst", "A standfirst.")
    page.fill("#id_body", "Some **news**.")
    page.select_option("#id_section", str(section.pk))
    page.click("input[name=_save]")
    page.wait_for_url("**/admin/articles/article/")
    article = Article.objects.get(slug="saved-in-a-browser")
    page.check(f"input[name=_selected_action][value='{article.pk}']")
    page.select_option("select[name=action]", "publish")
    page.click("button[name=index]")
    page.wait_for_selector(".messagelist")
    article.refresh_from_db()
    assert article.status == Article.Status.PUBLISHED
    assert_clean(page)


def test_moderator_pages_work_under_the_csp(page_for):
    """The moderator's comment queue, a comment and the read-only story list (whose page
    carries the admin's one nonced <style>) show no violation."""
    comment = make_comment(status="pending")
    page = page_for(make_user("mo", groups=["Moderators"]))
    for url in [
        "/admin/comments/comment/",
        f"/admin/comments/comment/{comment.pk}/change/",
        "/admin/articles/article/",
        f"/admin/articles/article/{comment.article.pk}/change/",
    ]:
        response = page.goto(url)
        assert response.status == 200, url
    assert_clean(page)


def test_reader_pages_have_no_console_errors(browser, live_server):
    """The front page and a story load with no console error and no CSP violation."""
    article = make_article()
    make_comment(article=article)
    context = browser.new_context(base_url=live_server.url)
    context.add_init_script(WATCH_CSP)
    page = watch(context.new_page())
    for url in ["/", article.get_absolute_url(), "/search/?q=story", "/results/"]:
        page.goto(url)
        page.wait_for_load_state("load")
    assert_clean(page)
    context.close()
