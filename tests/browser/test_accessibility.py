"""Readers who use assistive technology or only a keyboard can use every public page."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from comments.models import Comment

from .steps import send_comment, visit

pytestmark = pytest.mark.browser

STORY = "/stories/leerdam-wins-olympic-1000m-gold/"
PAGES = {
    "home": ("/", 200),
    "article": (STORY, 200),
    "event": ("/results/events/milano-cortina-2026-speed-skating-women-1000m/", 200),
    "medal table": ("/results/milano-cortina-2026/", 200),
    "search": ("/search/?q=leerdam", 200),
    "404": ("/stories/no-such-story/", 404),
}
BLOCKING = {"serious", "critical"}


def axe_violations(page):
    """Run axe-core in the page (outside its CSP) and list serious and critical violations."""
    results = Axe().run(page).response
    assert results["passes"], "axe-core did not run any rule"
    return [
        f"{rule['id']} ({rule['impact']}): {rule['help']} at {[n['target'] for n in rule['nodes']]}"
        for rule in results["violations"]
        if rule["impact"] in BLOCKING
    ]


@pytest.mark.parametrize("name", PAGES)
def test_page_has_no_serious_accessibility_violations(open_page, name):
    """axe-core finds no serious or critical WCAG problem on the main public pages."""
    path, status = PAGES[name]
    page = visit(open_page(), path, status=status)
    assert axe_violations(page) == []


def test_comment_form_with_errors_is_accessible(open_page):
    """The re-shown comment form, with its error summary and field messages, passes axe-core."""
    page = visit(open_page(), STORY)
    assert send_comment(page) == 400
    expect(page.locator(".error-summary")).to_be_visible()
    assert axe_violations(page) == []


FOCUSED = "() => document.activeElement.id || document.activeElement.outerHTML.slice(0, 80)"
FOCUS_INDICATOR = """() => {
  const style = getComputedStyle(document.activeElement);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
  return outline || style.boxShadow !== "none";
}"""


def tab_to(page, element_id, *, limit=120):
    """Press Tab until the element has focus; every stop on the way shows where focus is."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        assert page.evaluate(FOCUS_INDICATOR), f"no visible focus on {focused}"
        if focused == element_id:
            return
    raise AssertionError(f"#{element_id} not reached after {limit} presses of Tab")


def test_keyboard_only_reader_posts_a_comment(open_page):
    """With only the keyboard, a reader reaches the comment form, fills it and sends it; every
    element that takes focus on the way shows a visible focus indicator."""
    page = visit(open_page(), STORY)
    tab_to(page, "id_body")
    page.keyboard.type("Typed without a mouse.")
    for field, text in [("id_name", "Kees"), ("id_email", "kees@example.org")]:
        tab_to(page, field, limit=1)
        page.keyboard.type(text)
    tab_to(page, "id_website", limit=1)
    tab_to(page, "id_remember", limit=1)
    tab_to(page, "id_notify_replies", limit=1)
    page.keyboard.press("Tab")
    expect(page.locator("#comment-form button[type=submit]")).to_be_focused()
    assert page.evaluate(FOCUS_INDICATOR)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    comment = Comment.objects.get(body="Typed without a mouse.")
    expect(page.locator(f"#c{comment.pk}")).to_contain_text("awaiting moderation")


def test_skip_link_is_first_and_moves_focus_to_the_content(open_page):
    """The first Tab shows "Skip to content"; following it puts focus on the main content."""
    page = visit(open_page(), STORY)
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
