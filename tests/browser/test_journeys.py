"""What readers, moderators and editors do, start to finish, in a real browser."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from articles.models import Article
from comments.models import Comment
from tests.factories import image_bytes

from .steps import fill_comment, send_comment, sign_in, visit

pytestmark = pytest.mark.browser

LEAD_STORY = "/stories/what-the-dutch-double-means/"
THREADED_STORY = "/stories/leerdam-wins-olympic-1000m-gold/"
READER = {"name": "Anouk de Vries", "email": "anouk@example.org"}


def post_pending_comment(page, path, body):
    """A reader posts a comment that waits for moderation, and sees it marked so."""
    visit(page, path)
    fill_comment(page, body=body, **READER)
    assert send_comment(page) == 200
    mine = page.locator(".comment-pending", has_text=body)
    expect(mine).to_contain_text("Your comment is awaiting moderation.")
    return Comment.objects.get(body=body)


def test_reader_reads_the_lead_story_and_comments(open_page):
    """Home → lead story → results; an empty form lists every missing field and keeps what
    was typed; the fixed comment waits for moderation, seen by its author and nobody else."""
    page = visit(open_page(), "/")
    page.locator(".card-lead .card-title a").click()
    page.wait_for_url(f"**{LEAD_STORY}")
    results = page.locator(".story-results table.results-table").first
    expect(results).to_be_visible()
    expect(results.locator("tbody tr").first).to_contain_text("Femke Kok")

    fill_comment(page, website="https://skating.example.org")
    assert send_comment(page) == 400
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    for message in ["Write your comment.", "Enter your name.", "Enter your email address."]:
        expect(summary).to_contain_text(message)
    for field in ["body", "name", "email"]:
        expect(page.locator(f"#div_id_{field} .invalid-feedback")).to_be_visible()
    expect(page.locator("#id_website")).to_have_value("https://skating.example.org")

    fill_comment(page, body="Two records in one evening!", name=READER["name"], email="anouk@")
    assert send_comment(page) == 400
    expect(summary).to_contain_text("Enter an email address like name@example.com.")
    expect(page.locator("#id_body")).to_have_value("Two records in one evening!")
    expect(page.locator("#id_name")).to_have_value(READER["name"])

    fill_comment(page, email=READER["email"])
    assert send_comment(page) == 200
    mine = page.locator(".comment-pending", has_text="Two records in one evening!")
    expect(mine).to_contain_text("Your comment is awaiting moderation.")
    expect(mine).to_contain_text(READER["name"])

    stranger = visit(open_page(), LEAD_STORY)
    expect(stranger.locator("#comments")).not_to_contain_text("Two records in one evening!")
    expect(stranger.locator("#comments-heading")).to_have_text("No comments yet")


def test_moderator_approves_a_reader_comment(open_page):
    """The admin shows the pending count; the bulk action `approve` publishes the comment for
    its author and for everyone; without the permission the email is masked."""
    reader = open_page()
    comment = post_pending_comment(reader, LEAD_STORY, "Kok deserved that record too.")
    stranger = visit(open_page(), LEAD_STORY)  # an anonymous visit before the approval

    moderator = open_page()
    sign_in(moderator, "mo", groups=["Moderators"])
    waiting = Comment.objects.pending().count()
    notice = moderator.locator(".pending-comments a")
    expect(notice).to_have_text(f"{waiting} comments waiting for moderation")
    notice.click()
    row = moderator.locator("#result_list tbody tr", has_text="Kok deserved that record too.")
    expect(row).to_contain_text("a•••@e•••.org")
    expect(moderator.locator("body")).not_to_contain_text(READER["email"])
    row.locator("input[name=_selected_action]").check()
    moderator.select_option("select[name=action]", "approve")
    moderator.click("button[name=index]")
    expect(moderator.locator(".messagelist")).to_contain_text("Approved 1 comment(s).")
    comment.refresh_from_db()
    assert comment.status == Comment.Status.APPROVED

    for page in (reader, stranger):
        page.reload()
        published = page.locator(f"#c{comment.pk}")
        expect(published).to_contain_text("Kok deserved that record too.")
        expect(published).not_to_contain_text("awaiting moderation")
        expect(page.locator("#comments-heading")).to_have_text("1 comment")


def assert_waiting_in_place(page, parent, reply):
    """The reader's waiting reply is shown under the comment it answers, marked, in the
    threads (no separate box), and the page the browser landed on is that comment's."""
    in_place = page.locator(f"#c{parent.pk} > .comment-children > #c{reply.pk}.comment-pending")
    expect(in_place).to_be_visible()
    expect(in_place.locator(".comment-awaiting")).to_have_text(
        "Your comment is awaiting moderation."
    )
    expect(in_place.locator(".comment-reply")).to_have_count(0)
    expect(page.locator(".comment-pending-heading")).to_have_count(0)
    assert page.url.endswith(f"#c{reply.pk}")


def test_reply_with_javascript_moves_the_form_under_the_comment(open_page):
    """With JavaScript, "Reply" moves the form under the comment and the reply is threaded."""
    page = visit(open_page(), THREADED_STORY)
    parent = Comment.objects.public().filter(article__slug=THREADED_STORY.split("/")[2]).first()
    page.locator(f"#c{parent.pk} .comment-reply").first.click()
    expect(page.locator(f"#c{parent.pk} > #respond")).to_be_visible()
    expect(page.locator("#respond-heading")).to_have_text(f"Reply to {parent.name}")
    expect(page.locator("#id_parent")).to_have_value(str(parent.pk))
    expect(page.locator("#id_body")).to_be_focused()
    assert page.url.endswith(THREADED_STORY)  # no reload: the link was enhanced

    fill_comment(page, body="Agreed, what a race.", **READER)
    assert send_comment(page) == 200
    reply = Comment.objects.get(body="Agreed, what a race.")
    assert reply.parent == parent
    expect(page.locator(f"#c{reply.pk}")).to_contain_text("awaiting moderation")
    assert_waiting_in_place(page, parent, reply)


def test_cancel_reply_puts_the_form_back(open_page):
    """ "Cancel reply" returns the form to the end of the comments as a new comment."""
    page = visit(open_page(), THREADED_STORY)
    page.locator(".comment-reply").first.click()
    page.click(".cancel-reply a")
    expect(page.locator("#comments > #respond")).to_be_visible()
    expect(page.locator("#respond-heading")).to_have_text("Leave a comment")
    expect(page.locator("#id_parent")).to_have_value("")


def test_reply_without_javascript_uses_the_plain_link(open_page):
    """With JavaScript off, "Reply" loads the page with the form set to answer that comment."""
    page = visit(open_page(java_script_enabled=False), THREADED_STORY)
    parent = Comment.objects.public().filter(article__slug=THREADED_STORY.split("/")[2]).first()
    page.locator(f"#c{parent.pk} .comment-reply").first.click()
    page.wait_for_url(re.compile(rf"\?replyto={parent.pk}#respond$"))
    expect(page.locator("#respond-heading")).to_have_text(f"Reply to {parent.name}")
    expect(page.locator("#id_parent")).to_have_value(str(parent.pk))

    fill_comment(page, body="Replying the old-fashioned way.", **READER)
    assert send_comment(page) == 200
    reply = Comment.objects.get(body="Replying the old-fashioned way.")
    assert reply.parent == parent
    expect(page.locator(f"#c{reply.pk}")).to_contain_text("awaiting moderation")
    assert_waiting_in_place(page, parent, reply)


def test_editor_writes_schedules_and_publishes_a_story(open_page, tmp_path):
    """An editor uploads a hero, attaches an event, previews the draft, schedules it (still
    hidden), publishes it; it leads the home page with its renditions and joins the event."""
    hero = tmp_path / "mass-start.jpg"
    hero.write_bytes(image_bytes(size=(1700, 900), color=(200, 40, 60)))
    editor = open_page()
    sign_in(editor, "edna", groups=["Editors"])
    visit(editor, "/admin/articles/article/add/")
    editor.fill("#id_title", "Schouten takes the mass start")
    editor.fill("#id_standfirst", "A late attack on the last lap wins it.")
    editor.fill("#id_body", "Irene Schouten waited, then **went**.")
    editor.select_option("#id_section", label="Speed skating")
    editor.set_input_files("#id_hero_image", hero)
    editor.fill("#id_hero_alt", "A skater crossing the line with arms raised.")
    editor.click(".field-events .select2-selection")
    editor.keyboard.type("1000")
    editor.locator(".select2-results__option", has_text="Women's 1000 m").click()
    editor.click("input[name=_continue]")
    expect(editor.locator(".messagelist .success").first).to_be_visible()
    article = Article.objects.get(slug="schouten-takes-the-mass-start")
    assert article.status == Article.Status.DRAFT and article.hero_renditions

    with editor.expect_navigation():
        editor.click("a.viewsitelink")
    expect(editor.locator(".notice-warning")).to_contain_text("draft")
    expect(editor.locator(".story-hero img")).to_have_attribute("srcset", re.compile("480w"))
    editor.go_back()

    tomorrow = timezone.localtime() + timedelta(days=1)
    editor.select_option("#id_status", "scheduled")
    editor.fill("#id_published_at_0", tomorrow.strftime("%d/%m/%Y"))
    editor.fill("#id_published_at_1", "07:30:00")
    editor.click("input[name=_continue]")
    expect(editor.locator(".messagelist .success").first).to_be_visible()
    article.refresh_from_db()
    assert article.status == Article.Status.SCHEDULED
    reader = visit(open_page(), "/")
    expect(reader.locator("main")).not_to_contain_text("Schouten takes the mass start")
    visit(reader, article.get_absolute_url(), status=404)

    visit(editor, "/admin/articles/article/")
    editor.check(f"input[name=_selected_action][value='{article.pk}']")
    editor.select_option("select[name=action]", "publish")
    editor.click("button[name=index]")
    expect(editor.locator(".messagelist")).to_contain_text(
        "Published 1 story now: Schouten takes the mass start."
    )

    visit(reader, "/")
    lead = reader.locator(".card-lead")
    expect(lead).to_contain_text("Schouten takes the mass start")
    picture = lead.locator("img.hero")
    for width in ["480w", "800w", "1200w", "1600w"]:
        expect(picture).to_have_attribute("srcset", re.compile(width))
    assert picture.evaluate("img => img.complete && img.naturalWidth > 0")
    visit(reader, "/results/events/milano-cortina-2026-speed-skating-women-1000m/")
    expect(reader.locator(".story-links")).to_contain_text("Schouten takes the mass start")


def test_home_page_names_its_icon_and_describes_itself(open_page):
    """The icon the page names and /favicon.ico both load (no 404 in any console), and the
    description link previews show is real text, not "None"."""
    page = visit(open_page(), "/")
    icon = page.locator("link[rel=icon]").get_attribute("href")
    for path in [icon, "/favicon.ico"]:
        assert page.request.get(path).status == 200, path
    description = page.locator("meta[property='og:description']").get_attribute("content")
    assert description == "Sports news, results and medal tables."


def test_with_javascript_the_kept_form_gets_its_token_when_typing_begins(open_page):
    """The page is the same for everyone; the script asks for the reader's token on focus,
    and the comment goes through on the first press."""
    page = visit(open_page(), THREADED_STORY)
    token = page.locator("#comment-form [name=token]")
    expect(token).to_have_value("")
    page.click("#comment-form [name=body]")
    expect(token).not_to_have_value("")
    fill_comment(page, body="Posted in one go, script on.", **READER)
    with page.expect_navigation() as navigation:
        page.click("#comment-form button[type=submit]")
    assert navigation.value.status == 200
    assert Comment.objects.filter(body="Posted in one go, script on.").exists()


def test_without_javascript_the_first_press_asks_to_confirm(open_page):
    """No script, no token: the comment comes back, as typed, to be confirmed."""
    page = visit(open_page(java_script_enabled=False), THREADED_STORY)
    fill_comment(page, body="Confirm me, script off.", **READER)
    with page.expect_navigation():
        page.click("#comment-form button[type=submit]")
    expect(page.locator(".error-summary")).to_contain_text("again to send it")
    expect(page.locator("#comment-form [name=body]")).to_have_value("Confirm me, script off.")
    assert not Comment.objects.filter(body="Confirm me, script off.").exists()
    with page.expect_navigation():
        page.click("#comment-form button[type=submit]")
    assert Comment.objects.filter(body="Confirm me, script off.").exists()
