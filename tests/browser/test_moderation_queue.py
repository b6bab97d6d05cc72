"""A moderator clears the comment queue with the keyboard at 1280 px, and with a thumb at
375 px: the keys move and decide, the focus is visible, nothing scrolls sideways."""

import pytest
from playwright.sync_api import expect

from comments.models import Comment
from tests.factories import make_comment

from .steps import sign_in, visit
from .test_accessibility import axe_violations

pytestmark = pytest.mark.browser

QUEUE = "/admin/comments/comment/"
LONG_TITLE = "Leerdam wins the thousand metres in a track record " * 3


@pytest.fixture
def waiting(demo):
    """Three held comments on a story with a long title, newest first in the queue."""
    Comment.objects.filter(status="pending").update(status="approved")
    article = Comment.objects.first().article
    article.title = LONG_TITLE.strip()
    article.save()
    return [
        make_comment(article=article, status="pending", body=f"Held comment number {n}")
        for n in (3, 2, 1)
    ][::-1]


def current_row(page):
    return page.locator("#result_list tbody tr.cq-current")


def test_keyboard_moves_decides_and_undoes(open_page, waiting):
    """j/k move a visible focus between comments; a approves the one in focus, the list comes
    back with the focus on the next; s marks spam; z undoes it."""
    page = open_page()
    sign_in(page, "mo", groups=["Moderators"])
    visit(page, QUEUE)
    page.keyboard.press("j")
    expect(current_row(page)).to_contain_text("Held comment number 1")
    page.keyboard.press("j")
    expect(current_row(page)).to_contain_text("Held comment number 2")
    page.keyboard.press("k")
    expect(current_row(page)).to_contain_text("Held comment number 1")
    outline = current_row(page).evaluate("row => getComputedStyle(row).outlineStyle")
    assert outline == "solid"  # the focus is visible
    with page.expect_navigation():
        page.keyboard.press("a")
    expect(page.locator(".messagelist")).to_contain_text("Approved “Held comment number 1”")
    expect(current_row(page)).to_contain_text("Held comment number 2")
    assert page.evaluate("() => document.activeElement.classList.contains('cq-current')")
    with page.expect_navigation():
        page.keyboard.press("s")
    assert Comment.objects.get(body="Held comment number 2").status == "spam"
    with page.expect_navigation():
        page.keyboard.press("z")
    expect(page.locator(".messagelist")).to_contain_text("no longer spam")
    statuses = dict(
        Comment.objects.filter(pk__in=[c.pk for c in waiting]).values_list("body", "status")
    )
    assert statuses == {
        "Held comment number 1": "approved",
        "Held comment number 2": "pending",
        "Held comment number 3": "pending",
    }


def test_keys_do_nothing_while_typing_and_can_be_switched_off(open_page, waiting):
    """Typing "a" in the search box approves nothing; with the switch off, keys do nothing."""
    page = open_page()
    sign_in(page, "mo", groups=["Moderators"])
    visit(page, QUEUE)
    page.fill("#searchbar", "")
    page.locator("#searchbar").press("a")
    page.uncheck("#cq-keys-on")
    page.locator("body").press("j")
    page.keyboard.press("a")
    page.wait_for_timeout(200)
    assert Comment.objects.filter(status="pending").count() == 3


def test_queue_at_1280_px_keeps_its_columns_readable_and_passes_axe(open_page, waiting):
    """At 1280 px the long title stays on at most two lines, every column is inside the
    window, and axe-core finds no serious or critical problem."""
    page = open_page()
    sign_in(page, "mo", groups=["Moderators"])
    visit(page, QUEUE)
    title = page.locator("#result_list tbody td.field-article_title .cq-story").first
    line = title.evaluate("span => parseFloat(getComputedStyle(span).lineHeight) || 16")
    assert title.bounding_box()["height"] <= 2 * line + 1  # two lines at most
    width = page.evaluate("() => window.innerWidth")
    for column in ("created", "moderated", "row_actions"):
        box = page.locator(f"#result_list thead th.column-{column}").bounding_box()
        assert box["x"] + box["width"] <= width, column
    assert page.evaluate("() => document.scrollingElement.scrollWidth <= window.innerWidth")
    # Nor is any column cut off by the list's own box (beside the filters), the row buttons
    # included: the table fits without scrolling sideways.
    fits = "table => table.parentElement.scrollWidth <= table.parentElement.clientWidth"
    assert page.locator("#result_list").evaluate(fits)
    assert axe_violations(page) == []


def test_queue_at_375_px_has_no_sideways_scroll_and_reachable_actions(open_page, waiting):
    """On a phone each comment is a card: the page does not scroll sideways, every row's
    actions are inside the screen and big enough to tap, and a tap decides."""
    page = open_page(viewport={"width": 375, "height": 740})
    sign_in(page, "mo", groups=["Moderators"])
    visit(page, QUEUE)
    assert page.evaluate("() => document.scrollingElement.scrollWidth <= window.innerWidth")
    buttons = page.locator("#result_list .cq-action")
    assert buttons.count() >= 12
    for index in range(buttons.count()):
        box = buttons.nth(index).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 375
        assert box["height"] >= 24
    assert axe_violations(page) == []
    with page.expect_navigation():
        page.locator("#result_list tbody tr").first.get_by_role("button", name="Spam").click()
    assert Comment.objects.get(body="Held comment number 1").status == "spam"


def test_an_email_link_asks_then_acts_and_passes_axe(open_page, waiting):
    """The confirmation page of an email link, without signing in: it shows the comment, passes
    axe, and its button approves; the same link then says it was used."""
    from comments import email_links

    comment = waiting[0]
    path = email_links.link(comment, "approve").split("://", 1)[-1]
    path = path[path.index("/comments/") :]
    page = open_page()
    visit(page, path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Approve this comment?")
    assert axe_violations(page) == []
    with page.expect_navigation():
        page.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status")).to_contain_text("approved: it is now public")
    comment.refresh_from_db()
    assert comment.status == "approved"
    visit(page, path, status=409)
    expect(page.get_by_role("heading", level=1)).to_have_text("This link was already used")
