"""Every public page runs a small fixed number of queries, however many stories, comments and
results it shows: each page is measured at a small and a large size and must cost the same."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from comments.models import Comment

from .factories import (
    make_article,
    make_athlete,
    make_comment,
    make_competition,
    make_event,
    make_result,
    make_section,
    make_tag,
)

# The most queries any one public page may run, whatever its size, with nothing kept (the
# article's related stories take four: three small candidate reads and the scoring; its
# bylines and its corrections one each; the navigation one).
BUDGET = 16


@pytest.fixture(params=["fragments built", "fragments kept"])
def fragments(request, settings, client):
    """Measure with nothing kept, then with the shared fragments kept (the whole-page store
    stepping aside, as it does for a reader with a personal cookie)."""
    if request.param == "fragments kept":
        settings.PAGE_CACHE_SECONDS = 600
        client.cookies["comment_author"] = "unreadable"  # personal: the page is built for it
    return request.param


@pytest.fixture
def site(django_capture_on_commit_callbacks):
    """A section, a tag, a competition with an event, an athlete and a covering story."""
    section, tag = make_section(), make_tag(name="Speed skating", slug="speed-skating")
    competition = make_competition()
    event = make_event(competition=competition)
    athlete = make_athlete()
    make_result(event=event, athlete=athlete, rank=1, time_ms=72_310)
    with django_capture_on_commit_callbacks(execute=True):
        story = make_article(
            title="Skating gold on the oval", section=section, tags=[tag], events=[event]
        )
    return {
        "section": section,
        "tag": tag,
        "competition": competition,
        "event": event,
        "athlete": athlete,
        "story": story,
        "stories": [story],
    }


def grow(site, capture, *, stories, comments, results):
    """Add stories (in the section and tag, covering the event), threaded comments and results."""
    with capture(execute=True):
        for _ in range(stories):
            site["stories"].append(
                make_article(
                    title="More skating on the oval",
                    section=site["section"],
                    tags=[site["tag"]],
                    events=[site["event"]],
                )
            )
    story = site["story"]
    for _ in range(comments):
        top = make_comment(article=story)
        reply = make_comment(article=story, parent=top)
        make_comment(article=story, parent=reply)
        make_comment(article=story, status=Comment.Status.PENDING)
    start = site["event"].results.count() + 1
    for rank in range(start, start + results):
        make_result(event=site["event"], rank=rank, time_ms=72_310 + rank * 100)
        make_result(
            event=make_event(competition=site["competition"]),
            athlete=site["athlete"],
            rank=rank,
            time_ms=70_000 + rank,
        )


def pages(site):
    return {
        "home": reverse("articles:home"),
        "section": site["section"].get_absolute_url(),
        "tag": site["tag"].get_absolute_url(),
        "article": site["story"].get_absolute_url(),
        "event": site["event"].get_absolute_url(),
        "medal table": site["competition"].get_absolute_url(),
        "athlete": site["athlete"].get_absolute_url(),
        "search": reverse("search") + "?q=skating",
        "results index": reverse("articles:results"),
    }


def queries_per_page(client, urls):
    counts = {}
    for name, url in urls.items():
        client.get(url)  # fill the navigation and article-body caches, as a running site has
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, name
        counts[name] = len(queries)
    return counts


@pytest.mark.django_db
def test_every_page_costs_the_same_at_two_sizes(
    client, site, django_capture_on_commit_callbacks, fragments
):
    """Home, section, tag, article, event, medal table, athlete and search pages run the same
    number of queries with 1 story, comment and result as with many of each."""
    grow(site, django_capture_on_commit_callbacks, stories=1, comments=1, results=1)
    small = queries_per_page(client, pages(site))

    grow(site, django_capture_on_commit_callbacks, stories=14, comments=12, results=29)
    large = queries_per_page(client, pages(site))

    assert large == small
    assert max(large.values()) <= BUDGET, large


@pytest.mark.django_db
def test_article_page_runs_within_its_budget(
    client, site, django_capture_on_commit_callbacks, django_assert_max_num_queries, fragments
):
    """An article with 30 results and 200 comments in threads stays within the page budget."""
    grow(site, django_capture_on_commit_callbacks, stories=3, comments=50, results=29)
    url = site["story"].get_absolute_url()
    client.get(url)
    with django_assert_max_num_queries(BUDGET):
        response = client.get(url)
    assert response.status_code == 200
    assert response.content.count(b'class="comment-card"') == 150


@pytest.mark.django_db
def test_a_reader_with_pending_comments_costs_one_query_more(client, site):
    """The author's own pending comments come in one extra query, however many there are."""
    from comments import cookies

    story = site["story"]
    url = story.get_absolute_url()
    client.get(url)
    with CaptureQueriesContext(connection) as anonymous:
        client.get(url)

    def with_pending(count):
        ids = [make_comment(article=story, status=Comment.Status.PENDING).pk for _ in range(count)]
        client.cookies[cookies.cookie_name(cookies.PENDING)] = cookies.signing.dumps(
            ids, salt=f"comments.{cookies.PENDING}", compress=True
        )
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.content.count(b"awaiting moderation") >= 1
        return len(queries)

    # (The public page reads when the next story goes live, to cap how long caches keep it.)
    assert with_pending(1) == with_pending(15) <= len(anonymous) + 1


@pytest.mark.django_db
def test_a_kept_article_page_reads_only_the_story(
    client, site, django_capture_on_commit_callbacks, django_assert_num_queries, settings
):
    """Once its fragments are kept (story, results, related, threads, blank form), an article
    page built for a reader with a cookie runs one query, the story itself, however big."""
    settings.PAGE_CACHE_SECONDS = 600
    client.cookies["comment_author"] = "unreadable"  # personal: the page is built for it
    grow(site, django_capture_on_commit_callbacks, stories=3, comments=50, results=29)
    url = site["story"].get_absolute_url()
    client.get(url)
    with django_assert_num_queries(1):
        response = client.get(url)
    assert response.content.count(b'class="comment-card"') == 150
    assert b"<table" in response.content and b'id="comment-form"' in response.content


@pytest.mark.django_db
def test_with_kept_fragments_a_page_only_looks_up_what_its_address_names(
    client, site, django_capture_on_commit_callbacks, settings
):
    """Listings, results pages and articles are built from kept fragments for a reader with a
    cookie: at most the section, tag, story, event, competition or athlete the URL names is
    read (the results index counts its competitions to page them; search keeps its count)."""
    settings.PAGE_CACHE_SECONDS = 600
    client.cookies["comment_author"] = "unreadable"  # personal: the page is built for it
    grow(site, django_capture_on_commit_callbacks, stories=14, comments=12, results=29)
    counts = queries_per_page(client, pages(site))
    assert counts == {
        "home": 0,
        "search": 0,
        "section": 1,
        "tag": 1,
        "article": 1,
        "event": 1,
        "medal table": 1,
        "athlete": 1,
        "results index": 1,
    }
