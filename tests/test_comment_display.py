"""What readers see of comments (issue 14): right-to-left text laid out right, their choice of
order, a story's comment feeds, permalinks, and their own waiting reply under the comment it
answers. "Public comment" is defined once."""

import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path

import feedparser
import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from articles.models import Article
from comments import cookies, display, services
from comments.models import Comment

from .factories import comment_form_data, make_article, make_comment, make_user

pytestmark = pytest.mark.django_db

ARABIC = "تعليق رائع عن السباق"
HEBREW = "מרוץ מדהים"


def section(response):
    html = response.content.decode()
    return html[html.index('<section id="comments"') :]


def threads(response):
    """The threads of a comments section, without the author's "You can still edit" list."""
    return section(response).split('class="comment-editable"')[0]


def author_of(*comments):
    """A browser whose signed cookie names these comments as its own."""
    client = Client()
    client.cookies[cookies.cookie_name(cookies.PENDING)] = signing.dumps(
        [c.pk for c in comments], salt=f"comments.{cookies.PENDING}", compress=True
    )
    return client


def dated(article, count, **fields):
    """`count` approved thread starts, one minute apart, oldest first."""
    start = timezone.now() - timedelta(hours=2)
    made = []
    for i in range(count):
        comment = make_comment(article=article, body=f"Thread {i}", **fields)
        Comment.objects.filter(pk=comment.pk).update(created_at=start + timedelta(minutes=i))
        comment.refresh_from_db()
        made.append(comment)
    return made


# --- Right-to-left text ------------------------------------------------------------------------


@pytest.mark.parametrize("text", [ARABIC, HEBREW])
def test_right_to_left_comments_and_names_get_dir_auto(client, text):
    """Every reader-written text (name, body; approved or waiting; the "Reply to" heading)
    lets the browser find its direction."""
    comment = make_comment(name=text, body=text)
    html = section(client.get(comment.article.get_absolute_url()))
    assert (
        f'<span class="comment-author" id="c{comment.pk}-author" dir="auto">{text}</span>' in html
    )
    assert f'<div class="comment-body" dir="auto"><p>{text}</p></div>' in html
    reply = client.get(f"{comment.article.get_absolute_url()}?replyto={comment.pk}")
    assert f'<span class="reply-name" dir="auto">{text}</span>' in section(reply)
    waiting = make_comment(article=comment.article, name=text, body=text + "!", status="pending")
    html = section(author_of(waiting).get(comment.article.get_absolute_url()))
    assert f'<div class="comment-body" dir="auto"><p>{text}!</p></div>' in html


# --- Order -------------------------------------------------------------------------------------


def test_oldest_first_by_default_newest_first_by_link(client, settings):
    article = make_article()
    dated(article, 3)
    url = article.get_absolute_url()
    html = section(client.get(url))
    assert html.index("Thread 0") < html.index("Thread 2")
    assert f'href="{url}?corder=newest#comments"' in html
    assert 'aria-current="true">Oldest first' in html
    html = section(client.get(f"{url}?corder=newest"))
    assert html.index("Thread 2") < html.index("Thread 0")
    assert 'aria-current="true">Newest first' in html
    assert f'href="{url}#comments"' in html  # back to the default: the plain address


def test_the_site_default_order_is_a_setting(client, settings):
    settings.COMMENTS = {**settings.COMMENTS, "ORDER": "newest"}
    article = make_article()
    dated(article, 2)
    html = section(client.get(article.get_absolute_url()))
    assert html.index("Thread 1") < html.index("Thread 0")
    assert f'href="{article.get_absolute_url()}?corder=oldest#comments"' in html


@pytest.mark.parametrize("junk", ["sideways", "", "NEWEST", "%00", "x" * 500])
def test_a_bad_order_is_the_default(client, junk):
    article = make_article()
    dated(article, 2)
    response = client.get(article.get_absolute_url(), {"corder": junk})
    assert response.status_code == 200
    html = section(response)
    assert html.index("Thread 0") < html.index("Thread 1")


def test_replies_read_oldest_first_in_either_order(client):
    article = make_article()
    (top,) = dated(article, 1)
    first = make_comment(article=article, parent=top, body="First reply")
    second = make_comment(article=article, parent=top, body="Second reply")
    assert first.pk < second.pk
    html = section(client.get(f"{article.get_absolute_url()}?corder=newest"))
    assert html.index("First reply") < html.index("Second reply")


def test_pagination_and_reply_links_keep_the_order(client, settings):
    settings.COMMENTS = {**settings.COMMENTS, "THREADS_PER_PAGE": 2}
    article = make_article()
    threads = dated(article, 5)
    url = article.get_absolute_url()
    html = section(client.get(f"{url}?corder=newest"))
    assert "Thread 4" in html and "Thread 3" in html and "Thread 0" not in html
    assert f'href="{url}?corder=newest&amp;cpage=2#comments"' in html
    assert f'href="{url}?corder=newest&amp;replyto={threads[4].pk}#respond"' in html
    html = section(client.get(f"{url}?corder=newest&cpage=3"))
    assert "Thread 0" in html and "Thread 1" not in html
    assert f'href="{url}?corder=newest&amp;cpage=2#comments"' in html
    assert f'href="{url}?corder=newest&amp;cpage=3&amp;replyto={threads[0].pk}#respond"' in html


def test_each_order_is_kept_like_any_public_page(client, settings):
    """No cookie, the same tags, the canonical address the story's: only the URL differs."""
    settings.PAGE_CACHE_SECONDS = 600
    article = make_article()
    dated(article, 2)
    url = article.get_absolute_url()
    plain, newest = client.get(url), client.get(f"{url}?corder=newest")
    for response in (plain, newest):
        assert not response.cookies
        assert "public" in response["Cache-Control"]
        assert "csrfmiddlewaretoken" not in response.content.decode()
        assert f'<link rel="canonical" href="http://testserver{url}">' in response.content.decode()
    assert set(plain["xkey"].split()) == set(newest["xkey"].split())
    assert f"thread-{article.pk}" in newest["xkey"].split()


def test_a_newly_approved_comment_shows_in_either_order(client, settings, committed):
    settings.PAGE_CACHE_SECONDS = 600
    with committed():
        article = make_article()
        dated(article, 1)
    url = f"{article.get_absolute_url()}?corder=newest"
    assert "Fresh words" not in client.get(url).content.decode()
    with committed():
        waiting = make_comment(article=article, body="Fresh words", status="pending")
        services.approve(Comment.objects.filter(pk=waiting.pk), by=make_user())
    assert "Fresh words" in client.get(url).content.decode()


# --- The author's waiting reply, in place ------------------------------------------------------


def test_a_waiting_reply_shows_under_its_parent_to_its_author_only(client):
    article = make_article()
    parent, other = dated(article, 2)
    reply = make_comment(article=article, parent=parent, body="My reply waits", status="pending")
    html = threads(author_of(reply).get(article.get_absolute_url()))
    item = html.split(f'id="c{parent.pk}"')[1].split(f'id="c{other.pk}"')[0]
    assert '<ol class="comment-children">' in item
    assert f'<li class="comment comment-pending" id="c{reply.pk}">' in item
    assert "Your comment is awaiting moderation." in item
    assert html.count("My reply waits") == 1
    assert "awaiting moderation" not in html.split(f'id="c{other.pk}"')[1]
    assert f"replyto={reply.pk}" not in html  # nobody answers a waiting comment
    assert "My reply waits" not in client.get(article.get_absolute_url()).content.decode()
    assert "Your comments awaiting moderation" not in html  # no separate box


def test_a_waiting_thread_start_goes_where_new_threads_go(client, settings):
    settings.COMMENTS = {**settings.COMMENTS, "THREADS_PER_PAGE": 2}
    article = make_article()
    dated(article, 3)
    mine = make_comment(article=article, body="My new thread", status="pending")
    author, url = author_of(mine), article.get_absolute_url()
    assert "My new thread" not in threads(author.get(url))
    assert "My new thread" in threads(author.get(f"{url}?cpage=2"))
    assert "My new thread" in threads(author.get(f"{url}?corder=newest"))
    assert display.location(mine) == f"{url}?cpage=2#c{mine.pk}"
    assert display.location(mine, "newest") == f"{url}?corder=newest#c{mine.pk}"


def test_posting_a_reply_lands_on_it_in_place(client):
    article = make_article()
    parent = make_comment(article=article)
    data = comment_form_data(
        article,
        parent=parent.pk,
        body="A reply with a link http://a.example http://b.example http://c.example",
    )
    response = client.post(reverse("comments:post", args=[article.slug]), data)
    assert response.status_code == 303
    reply = Comment.objects.get(parent=parent)
    assert reply.status == Comment.Status.PENDING
    assert response["Location"] == f"{article.get_absolute_url()}#c{reply.pk}"
    html = section(client.get(response["Location"]))
    assert re.search(
        rf'id="c{parent.pk}">.*<ol class="comment-children">\s*'
        rf'<li class="comment comment-pending" id="c{reply.pk}">',
        html,
        re.S,
    )


# --- Permalinks --------------------------------------------------------------------------------


def test_get_absolute_url_is_the_permalink_view():
    comment = make_comment()
    assert comment.get_absolute_url() == f"/comments/{comment.pk}/"


def test_the_permalink_redirects_to_the_page_and_anchor(client, settings):
    settings.COMMENTS = {**settings.COMMENTS, "THREADS_PER_PAGE": 2}
    article = make_article()
    threads = dated(article, 5)
    reply = make_comment(article=article, parent=threads[0], body="deep")
    url = article.get_absolute_url()
    cases = {
        (threads[0], ""): f"{url}#c{threads[0].pk}",
        (reply, ""): f"{url}#c{reply.pk}",
        (threads[4], ""): f"{url}?cpage=3#c{threads[4].pk}",
        (threads[4], "?corder=newest"): f"{url}?corder=newest#c{threads[4].pk}",
        (reply, "?corder=newest"): f"{url}?corder=newest&cpage=3#c{reply.pk}",
        (threads[2], "?corder=junk"): f"{url}?cpage=2#c{threads[2].pk}",
    }
    for (comment, asked), expected in cases.items():
        response = client.get(comment.get_absolute_url() + asked)
        assert response.status_code == 302
        assert response["Location"] == expected
        assert "public" not in response.get("Cache-Control", "")
        assert client.get(expected).status_code == 200


@pytest.mark.parametrize("status", ["pending", "rejected", "spam"])
def test_the_permalink_of_a_comment_nobody_may_see_is_404(client, status):
    comment = make_comment(status=status)
    assert client.get(comment.get_absolute_url()).status_code == 404
    assert client.get("/comments/999999/").status_code == 404


def test_its_author_follows_the_permalink_of_their_waiting_comment(client):
    comment = make_comment(status="pending")
    response = author_of(comment).get(comment.get_absolute_url())
    assert response.status_code == 302
    assert response["Location"] == f"{comment.article.get_absolute_url()}#c{comment.pk}"


def test_the_permalink_on_an_unpublished_story_is_404(client):
    comment = make_comment(article=make_article(status=Article.Status.DRAFT))
    assert client.get(comment.get_absolute_url()).status_code == 404
    comment = make_comment(article=make_article(published_at=timezone.now() + timedelta(days=1)))
    assert client.get(comment.get_absolute_url()).status_code == 404


# --- The story's comment feeds -----------------------------------------------------------------


@pytest.fixture
def commented():
    article = make_article(title="Gold & glory")
    top = make_comment(
        article=article,
        name="Sam",
        email="Sam.Secret@Example.org",
        body="<b>Great</b> race http://example.com",
    )
    make_comment(article=article, parent=top, name=ARABIC, body=ARABIC)
    make_comment(article=article, body="Held back words", status="pending")
    make_comment(article=article, body="Rejected words", status="rejected")
    return article


@pytest.mark.parametrize("name", ["comments:feed", "comments:feed-atom"])
def test_the_comment_feed_is_valid_and_shows_only_public_comments(client, commented, name):
    response = client.get(reverse(name, args=[commented.slug]))
    assert response.status_code == 200
    ET.fromstring(response.content)  # noqa: S314 - well-formed XML (our own output)
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version in ("rss20", "atom10")
    assert len(parsed.entries) == 2
    text = response.content.decode()
    assert "Held back words" not in text and "Rejected words" not in text
    assert "secret" not in text.lower() and "example.org" not in text.lower()
    assert ARABIC in text
    links = {entry.link for entry in parsed.entries}
    assert all(re.fullmatch(r"http://testserver/comments/\d+/", link) for link in links)
    assert "Great" in parsed.entries[-1].summary and "<b>" not in parsed.entries[-1].summary


def test_the_story_page_links_its_comment_feeds(client, commented):
    html = client.get(commented.get_absolute_url()).content.decode()
    head = html[: html.index("</head>")]
    feed = reverse("comments:feed", args=[commented.slug])
    assert (
        '<link rel="alternate" type="application/rss+xml" '
        f'title="Comments on “Gold &amp; glory” (RSS)" href="{feed}">' in head
    )
    assert reverse("comments:feed-atom", args=[commented.slug]) in head
    assert f'class="comment-feed" href="{feed}"' in section(
        client.get(commented.get_absolute_url())
    )


def test_a_preview_does_not_link_the_comment_feed(client):
    article = make_article(status=Article.Status.DRAFT)
    editor = make_user(is_superuser=True, is_staff=True)
    client.force_login(editor)
    html = client.get(reverse("articles:preview", args=[article.pk])).content.decode()
    assert "/comments/feed/" not in html


def test_the_comment_feed_of_an_unpublished_story_is_404(client):
    draft = make_article(status=Article.Status.DRAFT)
    make_comment(article=draft)
    for name in ("comments:feed", "comments:feed-atom"):
        assert client.get(reverse(name, args=[draft.slug])).status_code == 404
        assert client.get(reverse(name, args=["no-such-story"])).status_code == 404
    assert client.post(reverse("comments:feed", args=[make_article().slug])).status_code == 405


def test_a_newly_approved_comment_shows_in_the_kept_feed(client, settings, committed):
    settings.PAGE_CACHE_SECONDS = 600
    with committed():
        article = make_article()
        make_comment(article=article, body="First words")
    url = reverse("comments:feed", args=[article.slug])
    first = client.get(url)
    assert f"thread-{article.pk}" in first["xkey"].split()
    assert article.cache_tag in first["xkey"].split()
    assert "public" in first["Cache-Control"] and not first.cookies
    with committed():
        waiting = make_comment(article=article, body="Later words", status="pending")
    assert "Later words" not in client.get(url).content.decode()
    with committed():
        services.approve(Comment.objects.filter(pk=waiting.pk), by=make_user())
    assert "Later words" in client.get(url).content.decode()


# --- One definition of a public comment --------------------------------------------------------


def test_nothing_filters_approved_comments_by_hand():
    """Threads, counts, feeds and permalinks all go through CommentQuerySet.public() (or
    public_q / Comment.status_is_public): no other code compares a status with "approved" to
    decide what is public."""
    root = Path(__file__).resolve().parent.parent
    approved = r"(Comment\.Status\.APPROVED|[\"']approved[\"'])"
    by_hand = [
        # a query on the status: .filter(status=...), .exclude(...), Q(parent__status=...)
        re.compile(rf"(filter|exclude|Q)\(.*status(__exact)?\s*=\s*{approved}"),
        # a comparison: comment.status == Comment.Status.APPROVED, {% if ... == "approved" %}
        re.compile(rf"status\s*(==|!=)\s*{approved}"),
        re.compile(rf"status\s+in\s*\(.*{approved}"),
    ]
    sources = [*root.glob("comments/**/*.py"), *root.glob("articles/**/*.py")]
    sources += [*root.glob("newsroom/**/*.py"), *root.glob("templates/**/*.html")]
    offenders = []
    for path in sources:
        relative = str(path.relative_to(root))
        if relative == "comments/models.py" or "/migrations/" in relative:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if any(pattern.search(line) for pattern in by_hand):
                offenders.append(f"{relative}:{number}: {line.strip()}")
    assert not offenders


def test_an_authors_page_with_waiting_comments_costs_the_same_queries_for_more_comments():
    """Merging the reader's waiting comments in place is a fixed number of queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for threads in (2, 20):
        article = make_article()
        parents = dated(article, threads)
        for parent in parents:
            make_comment(article=article, parent=parent)
        mine = [
            make_comment(article=article, parent=parent, status="pending") for parent in parents
        ]
        author = author_of(*mine[-cookies.PENDING_KEEP :])
        with CaptureQueriesContext(connection) as queries:
            html = author.get(article.get_absolute_url()).content.decode()
        assert html.count("Your comment is awaiting moderation.") == min(threads, 20)
        counts.append(len(queries))
    assert counts[0] == counts[1]


@pytest.mark.parametrize("name", ["comments:feed", "comments:feed-atom"])
def test_the_comment_feed_stays_well_formed_whatever_was_stored(client, name):
    """An old or imported comment holding characters XML forbids does not break the feed."""
    article = make_article()
    make_comment(article=article, name="Bell\x07 Ringer", body="Back\x08space and \x0bmore")
    response = client.get(reverse(name, args=[article.slug]))
    ET.fromstring(response.content)  # noqa: S314 - our own output
    assert not feedparser.parse(response.content).bozo
    assert "Bell Ringer" in response.content.decode()


@pytest.mark.parametrize("name", ["comments:feed", "comments:feed-atom"])
def test_the_comment_feed_of_a_story_without_comments_is_valid_and_empty(client, name):
    article = make_article()
    make_comment(article=article, status="pending")
    response = client.get(reverse(name, args=[article.slug]))
    assert response.status_code == 200
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo and parsed.entries == []
    assert client.head(reverse(name, args=[article.slug])).status_code == 200


def test_posting_from_a_chosen_order_lands_in_that_order(client, settings):
    """A reply's form (no JavaScript) carries the order; the post lands on the comment in it."""
    settings.COMMENTS = {**settings.COMMENTS, "THREADS_PER_PAGE": 2}
    article = make_article()
    threads = dated(article, 3)
    url = article.get_absolute_url()
    html = section(client.get(f"{url}?corder=newest&replyto={threads[0].pk}"))
    action = f"{reverse('comments:post', args=[article.slug])}?corder=newest#respond"
    assert f'action="{action}"' in html
    data = comment_form_data(article, parent=threads[0].pk, body="In newest order")
    response = client.post(action.split("#")[0], data)
    reply = Comment.objects.get(body="In newest order")
    assert response["Location"] == f"{url}?corder=newest&cpage=2#c{reply.pk}"
    assert "In newest order" in section(client.get(response["Location"]))


def test_the_shared_blank_form_is_for_every_order_whoever_asks_first(client):
    """The blank form is rendered once per process and shared by every page: built first for a
    reader of the newest-first page, it still posts to the plain address (comments.js adds the
    reader's order), so a reader of the default order never lands in another one."""
    from comments.forms import _blank_form

    _blank_form.clear()
    article = make_article()
    url = article.get_absolute_url()
    plain = f'action="{reverse("comments:post", args=[article.slug])}#respond"'
    assert plain in section(client.get(f"{url}?corder=newest"))
    assert plain in section(client.get(url))
    assert "corder" not in section(client.get(url)).split("<form", 1)[1].split(">", 1)[0]


# --- Cards stored with their comments ------------------------------------------------------------


def count_cards_rendered(monkeypatch):
    """A list that gets one entry for each comment card rendered from here on."""
    from comments import rendering

    rendered, render = [], rendering.comment_card

    def counting(comment, body_html):
        rendered.append(comment.pk)
        return render(comment, body_html)

    monkeypatch.setattr(rendering, "comment_card", counting)
    return rendered


def test_a_page_with_nothing_kept_shows_the_cards_stored_when_written(client, monkeypatch):
    """A comment's card (header and body) is stored when it is written; a page built with
    every cache empty shows it as stored and renders none."""
    article = make_article()
    top = make_comment(article=article, name="Ada Lovelace", website="https://ada.example")
    reply = make_comment(article=article, parent=top, body="See https://example.com/x")
    for comment in (top, reply):
        comment.refresh_from_db()
        zone = timezone.get_current_timezone_name()
        assert comment.card_rendered_with == rendering_version(comment, zone)
        assert f'id="c{comment.pk}-author"' in comment.card_html
    assert "Ada Lovelace" in top.card_html and 'href="https://ada.example"' in top.card_html
    assert 'href="https://example.com/x"' in reply.card_html
    rendered = count_cards_rendered(monkeypatch)
    html = threads(client.get(article.get_absolute_url()))
    assert top.card_html in html and reply.card_html in html
    assert rendered == []


def rendering_version(comment, zone):
    from comments import rendering

    return rendering.card_version(comment, zone)


def test_a_stale_card_is_rendered_again_when_read_and_stored(client, monkeypatch):
    """A card made by an older release, or left behind by a change that saved nothing (a
    queryset update), is rendered again for the page and stored; the next page renders none."""
    article = make_article()
    old = make_comment(article=article, body="Old markup")
    renamed = make_comment(article=article, body="Renamed")
    Comment.objects.filter(pk=old.pk).update(card_html="<p>old</p>", card_rendered_with="0" * 16)
    Comment.objects.filter(pk=renamed.pk).update(name="Grace Hopper")
    rendered = count_cards_rendered(monkeypatch)
    html = threads(client.get(article.get_absolute_url()))
    assert "<p>old</p>" not in html and "Old markup" in html
    assert "Grace Hopper" in html
    assert sorted(rendered) == sorted([old.pk, renamed.pk])
    renamed.refresh_from_db()
    assert "Grace Hopper" in renamed.card_html
    del rendered[:]
    display.render_threads(article, is_open=True, number=1, order="oldest")
    assert rendered == []


def test_a_card_for_another_time_zone_is_rendered_for_it_and_not_stored(db):
    """Times in a card are in the reader's zone: another zone than the site's gets cards
    rendered for it, and the stored ones (the site's zone) stay as they are."""
    from newsroom import dates

    article = make_article()
    (comment,) = dated(article, 1)
    display.render_threads(article, is_open=True, number=1, order="oldest")  # the new date
    comment.refresh_from_db()
    stored = (comment.card_html, comment.card_rendered_with)
    with timezone.override("America/New_York"):
        html = display.render_threads(article, is_open=True, number=1, order="oldest")
        new_york = dates.shown(comment.created_at)
    assert new_york in html
    assert dates.shown(comment.created_at) not in html  # the site's zone: another hour
    comment.refresh_from_db()
    assert (comment.card_html, comment.card_rendered_with) == stored
    assert dates.shown(comment.created_at) in comment.card_html


def test_a_change_saved_to_a_comment_renders_its_card_again(db):
    """A save that changes what the card shows (the admin's edit of a name, a body) stores
    the new card with it."""
    comment = make_comment(name="Kim", body="First words")
    comment.name, comment.body = "Kim Verbeek", "Second words"
    comment.save(update_fields=["name", "body"])
    comment.refresh_from_db()
    assert "Kim Verbeek" in comment.card_html and "Second words" in comment.card_html
    assert "First words" not in comment.card_html
    assert comment.card_rendered_with == rendering_version(
        comment, timezone.get_current_timezone_name()
    )
