"""What readers see of comments in a real browser (issue 14): right-to-left comments laid out
right to left, the order link, the comment feed link, the permalink, a stranger never seeing
someone's waiting reply."""

import pytest
from playwright.sync_api import expect

from comments.models import Comment

from .steps import fill_comment, send_comment, visit
from .test_journeys import READER, THREADED_STORY

pytestmark = pytest.mark.browser

ARABIC = "سباق رائع حقا"


def story_slug():
    return THREADED_STORY.split("/")[2]


def test_a_right_to_left_comment_is_laid_out_right_to_left(open_page):
    parent = Comment.objects.public().filter(article__slug=story_slug()).first()
    comment = Comment.objects.create(
        article=parent.article, name=ARABIC, email="r@example.org", body=ARABIC, status="approved"
    )
    page = visit(open_page(), THREADED_STORY)
    for selector in (f"#c{comment.pk} .comment-body", f"#c{comment.pk}-author"):
        direction = page.locator(selector).evaluate("el => getComputedStyle(el).direction")
        assert direction == "rtl", selector
    english = page.locator(f"#c{parent.pk} > .comment-card > .comment-body")
    assert english.evaluate("el => getComputedStyle(el).direction") == "ltr"
    page.locator(f"#c{comment.pk} .comment-reply").click()
    name = page.locator("#respond-heading .reply-name")
    expect(name).to_have_text(ARABIC)
    assert name.evaluate("el => getComputedStyle(el).direction") == "rtl"


@pytest.mark.parametrize("java_script_enabled", [True, False])
def test_the_reader_switches_to_newest_first_and_follows_a_permalink(
    open_page, java_script_enabled
):
    page = visit(open_page(java_script_enabled=java_script_enabled), THREADED_STORY)
    starts = Comment.objects.public().filter(article__slug=story_slug(), parent=None)
    oldest, newest = starts.order_by("created_at").first(), starts.order_by("created_at").last()
    if oldest == newest:
        pytest.skip("the demo story has one thread")
    first = page.locator("#comments .comment-list > li").first
    expect(first).to_have_id(f"c{oldest.pk}")
    page.click(".comment-order a:has-text('Newest first')")
    page.wait_for_url(f"**{THREADED_STORY}?corder=newest#comments")
    expect(page.locator("#comments .comment-list > li").first).to_have_id(f"c{newest.pk}")
    expect(page.locator(".comment-order a[aria-current]")).to_have_text("Newest first")
    page.goto(oldest.get_absolute_url() + "?corder=newest")
    assert page.url.endswith(f"?corder=newest#c{oldest.pk}")
    expect(page.locator(f"#c{oldest.pk}")).to_be_visible()


def test_a_stranger_never_sees_someone_elses_waiting_reply(open_page):
    reader = visit(open_page(), THREADED_STORY)
    parent = Comment.objects.public().filter(article__slug=story_slug()).first()
    reader.locator(f"#c{parent.pk} .comment-reply").first.click()
    fill_comment(reader, body="Only I see this reply for now.", **READER)
    assert send_comment(reader) == 200
    reply = Comment.objects.get(body="Only I see this reply for now.")
    expect(reader.locator(f"#c{parent.pk} #c{reply.pk}")).to_contain_text("awaiting moderation")
    stranger = visit(open_page(), THREADED_STORY)
    expect(stranger.locator(f"#c{reply.pk}")).to_have_count(0)
    expect(stranger.locator("#comments")).not_to_contain_text("Only I see this reply")
    feed = stranger.locator("head link[rel=alternate][type='application/rss+xml']")
    expect(feed.last).to_have_attribute("href", f"{THREADED_STORY}comments/feed/")
    visit(stranger, reply.get_absolute_url(), status=404)


def test_a_reply_posted_while_reading_newest_first_lands_there(open_page):
    page = visit(open_page(), f"{THREADED_STORY}?corder=newest")
    parent = Comment.objects.public().filter(article__slug=story_slug(), parent=None).first()
    page.locator(f"#c{parent.pk} .comment-reply").first.click()
    fill_comment(page, body="Posted while reading newest first.", **READER)
    assert send_comment(page) == 200
    reply = Comment.objects.get(body="Posted while reading newest first.")
    assert "corder=newest" in page.url and page.url.endswith(f"#c{reply.pk}")
    expect(page.locator(f"#c{parent.pk} #c{reply.pk}")).to_contain_text("awaiting moderation")
    expect(page.locator(".comment-order a[aria-current]")).to_have_text("Newest first")
