"""What an editor sees at the desk: the publishing buttons and what they say, a past schedule
refused, the body previewed beside the box while typing."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from articles.models import Article

from .steps import sign_in, visit

pytestmark = pytest.mark.browser


def write_story(page, title):
    visit(page, "/admin/articles/article/add/")
    page.fill("#id_title", title)
    page.fill("#id_standfirst", "A late attack wins it.")
    page.fill("#id_body", "Irene Schouten waited, then **went**.")
    page.select_option("#id_section", label="Speed skating")


def test_schedule_in_the_past_is_refused_then_publish_now_links_the_story(open_page):
    """Schedule with a time that has passed is refused beside the time; Publish now puts the
    story live and the message links to it; the link opens the public page."""
    editor = open_page()
    sign_in(editor, "edna", groups=["Editors"], first_name="Edna", last_name="Editor")
    write_story(editor, "Schouten takes the mass start")
    yesterday = timezone.localtime() - timedelta(days=1)
    editor.fill("#id_published_at_0", yesterday.strftime("%d/%m/%Y"))
    editor.fill("#id_published_at_1", "07:30:00")
    editor.click("input[name=_schedule]")
    expect(editor.locator(".field-published_at .errorlist")).to_contain_text("has already passed")
    assert not Article.objects.filter(title="Schouten takes the mass start").exists()

    editor.click("input[name=_publish]")
    message = editor.locator(".messagelist .success", has_text="is live at")
    expect(message).to_be_visible()
    article = Article.objects.get(title="Schouten takes the mass start")
    assert article.is_published
    with editor.expect_navigation():
        message.locator("a").click()
    expect(editor.locator("h1")).to_have_text("Schouten takes the mass start")
    assert editor.url.endswith(article.get_absolute_url())


def test_schedule_says_when_and_unpublish_takes_it_back(open_page):
    """Schedule for tomorrow says when it goes live; the change form then offers Unpublish,
    which makes it a draft again."""
    editor = open_page()
    sign_in(editor, "edna", groups=["Editors"])
    write_story(editor, "Tomorrow's story")
    tomorrow = timezone.localtime() + timedelta(days=1)
    editor.fill("#id_published_at_0", tomorrow.strftime("%d/%m/%Y"))
    editor.fill("#id_published_at_1", "07:30:00")
    editor.click("input[name=_schedule]")
    expect(editor.locator(".messagelist")).to_contain_text("is scheduled: it goes live on")
    article = Article.objects.get(title="Tomorrow's story")
    assert article.status == Article.Status.SCHEDULED
    visit(editor, f"/admin/articles/article/{article.pk}/change/")
    editor.click("input[name=_unpublish]")
    expect(editor.locator(".messagelist")).to_contain_text("is a draft: readers cannot see it")
    article.refresh_from_db()
    assert article.status == Article.Status.DRAFT


def test_the_body_is_previewed_beside_the_box_while_typing(open_page):
    """Typing Markdown into the body shows it rendered by the server beside the box; what
    the sanitiser removes is not shown."""
    editor = open_page()
    sign_in(editor, "edna", groups=["Editors"])
    visit(editor, "/admin/articles/article/add/")
    preview = editor.locator(".body-preview-output")
    editor.fill("#id_body", "A **bold** move.\n\n![Skater](https://cdn.example/skater.jpg)")
    expect(preview.locator("strong")).to_have_text("bold")
    expect(preview.locator("img")).to_have_count(0)
    expect(editor.locator(".body-preview-removed")).to_have_text(
        "Readers will not see: a picture from elsewhere (https://cdn.example/skater.jpg)."
    )
    box, panel = editor.locator("#id_body").bounding_box(), preview.bounding_box()
    assert panel["x"] > box["x"] + box["width"] - 1, "the preview sits beside the box at 1280 px"
