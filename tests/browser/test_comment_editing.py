"""A reader edits their own comment in a real browser, with JavaScript off and on."""

import pytest
from playwright.sync_api import expect

from comments.models import Comment

from .steps import fill_comment, send_comment, visit

pytestmark = pytest.mark.browser

STORY = "/stories/leerdam-wins-olympic-1000m-gold/"
READER = {"name": "Noor Bakker", "email": "noor@example.org"}


@pytest.mark.parametrize("script", [False, True], ids=["javascript-off", "javascript-on"])
def test_a_reader_edits_their_comment(open_page, script):
    """Post, follow "Edit your comment" from one's own page, fix a typo (a bad edit first: the
    text stays in the box), save: the comment shows the new text, marked edited. Another
    browser sees no edit link and is refused at the edit address."""
    page = visit(open_page(java_script_enabled=script), STORY)
    fill_comment(page, body="Leerdam skated a grate race.", **READER)
    assert send_comment(page) == 200
    comment = Comment.objects.get(body="Leerdam skated a grate race.")

    page.locator(".comment-editable a", has_text="Edit your comment").click()
    page.wait_for_url(f"**/comments/{comment.pk}/edit/")
    expect(page.locator("#id_body")).to_have_value("Leerdam skated a grate race.")
    page.fill("#id_body", "\u200b\u200b")
    with page.expect_navigation():
        page.click(".comment-edit button[type=submit]")
    expect(page.locator(".error-summary")).to_contain_text("visible letters")
    page.fill("#id_body", "Leerdam skated a great race.")
    with page.expect_navigation() as navigation:
        page.click(".comment-edit button[type=submit]")
    assert navigation.value.status == 200
    mine = page.locator(f"#c{comment.pk}")
    expect(mine).to_contain_text("Leerdam skated a great race.")
    expect(mine.locator(".comment-edited")).to_contain_text("edited")

    stranger = visit(open_page(java_script_enabled=script), STORY)
    expect(stranger.locator(".comment-editable")).to_have_count(0)
    visit(stranger, f"/comments/{comment.pk}/edit/", status=403)
    expect(stranger.locator("[role=alert]")).to_contain_text("browser that posted it")
    comment.refresh_from_db()
    assert comment.body == "Leerdam skated a great race." and comment.edited_at


def test_the_edit_pages_are_accessible_at_320_px(open_page):
    """The author's page with its edit link, the edit form and the form with its error pass
    axe-core, at the narrowest width, without sideways scrolling."""
    from .test_accessibility import axe_violations

    page = visit(open_page(viewport={"width": 320, "height": 640}), STORY)
    fill_comment(page, body="Words to fix later.", **READER)
    assert send_comment(page) == 200
    assert axe_violations(page) == []
    page.locator(".comment-editable a").first.click()
    page.wait_for_url("**/edit/")
    assert axe_violations(page) == []
    page.fill("#id_body", "")
    with page.expect_navigation():
        page.click(".comment-edit button[type=submit]")
    expect(page.locator(".error-summary")).to_be_visible()
    assert axe_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
