"""A reader subscribes to the site, a section or a tag in a feed reader (RSS 2.0 or Atom)."""

import calendar
import re
from datetime import timedelta

import feedparser
import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles.models import Article

from .factories import add_hero, make_article, make_comment, make_section, make_tag, make_user

pytestmark = pytest.mark.django_db

FEEDS = {"/feed/": "rss20", "/feed/atom/": "atom10"}


def parse(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    return response, feed


def timestamp(struct):
    return calendar.timegm(struct)


@pytest.fixture
def story():
    """A published story with every field a feed item carries."""
    author = make_user(first_name="Ada", last_name="Writer")
    tag = make_tag(name="Milano Cortina 2026")
    article = make_article(
        title="Leerdam wins Olympic gold",
        standfirst="A record in the last pair.",
        body="She skated **fast**.\n\n<script>alert(1)</script>",
        author=author,
        section=make_section(name="Speed skating"),
        tags=[tag],
        published_at=timezone.now() - timedelta(hours=3),
    )
    article.results_updated_at = timezone.now() - timedelta(minutes=5)
    article.save()
    return add_hero(article)


@pytest.mark.parametrize(("url", "version"), FEEDS.items())
def test_site_feed_items_carry_every_field(client, story, url, version):
    """Title, link, summary, sanitised content, author, dates, categories and the hero enclosure."""
    response, feed = parse(client, url)
    assert feed.version == version
    assert feed.feed.title == "Newsroom: latest stories"
    assert feed.feed.link == "http://testserver/"
    (entry,) = feed.entries
    assert entry.title == "Leerdam wins Olympic gold"
    assert entry.link == f"http://testserver{story.get_absolute_url()}"
    assert entry.id == entry.link
    assert entry.summary == "A record in the last pair."
    content = entry.content[0]
    assert content.type == "text/html"
    assert "<strong>fast</strong>" in content.value and "<script" not in content.value
    assert "alert(1)" not in response.content.decode()
    assert entry.author == "Ada Writer"
    assert timestamp(entry.published_parsed) == int(story.published_at.timestamp())
    if version == "atom10":
        assert timestamp(entry.updated_parsed) == int(story.last_modified.timestamp())
    assert {tag.term for tag in entry.tags} == {"Speed skating", "Milano Cortina 2026"}
    (enclosure,) = entry.enclosures
    rendition = next(r for r in story.hero_renditions if r["width"] == 1200)
    assert enclosure.href == f"http://testserver{default_storage.url(rendition['name'])}"
    assert enclosure.type == "image/webp"
    assert int(enclosure.length) == default_storage.size(rendition["name"])


@pytest.mark.parametrize("url", FEEDS)
def test_feeds_hold_only_published_stories_newest_first(client, url):
    """Drafts and future stories stay out; at most 30 items, newest first."""
    now, section, author = timezone.now(), make_section(), make_user()
    for i in range(32):
        make_article(
            title=f"Story {i:02d}",
            section=section,
            author=author,
            published_at=now - timedelta(hours=i + 1),
        )
    make_article(title="Draft story", status=Article.Status.DRAFT, published_at=None)
    make_article(
        title="Future story", status=Article.Status.SCHEDULED, published_at=now + timedelta(hours=1)
    )
    _response, feed = parse(client, url)
    titles = [entry.title for entry in feed.entries]
    assert titles == [f"Story {i:02d}" for i in range(30)]


def test_story_without_hero_has_no_enclosure(client):
    """No hero image, no enclosure, and the feed stays valid."""
    make_article(title="Plain story")
    _response, feed = parse(client, "/feed/")
    assert feed.entries[0].enclosures == []


@pytest.mark.parametrize("url", FEEDS)
def test_awkward_characters_keep_the_feed_valid(client, url):
    """Ampersands, angle brackets, quotes and stray control characters do not break the XML."""
    make_article(title='Kok & Leerdam <1–2> "again"\x0b', standfirst="Tab\x08 and bell\x07.")
    _response, feed = parse(client, url)
    assert feed.entries[0].title == 'Kok & Leerdam <1–2> "again"'
    assert feed.entries[0].summary == "Tab and bell."


def test_section_and_tag_feeds_hold_only_their_stories(client):
    """A section feed lists that section; a tag feed lists that tag; both in RSS and Atom."""
    skating, hockey = make_section(name="Skating", slug="skating"), make_section(slug="hockey")
    tag = make_tag(name="Records", slug="records")
    make_article(title="Skating story", section=skating)
    make_article(title="Hockey story", section=hockey, tags=[tag])
    for url, expected, feed_title in [
        ("/section/skating/feed/", "Skating story", "Newsroom: Skating"),
        ("/section/skating/feed/atom/", "Skating story", "Newsroom: Skating"),
        ("/tag/records/feed/", "Hockey story", "Newsroom: stories tagged Records"),
        ("/tag/records/feed/atom/", "Hockey story", "Newsroom: stories tagged Records"),
    ]:
        _response, feed = parse(client, url)
        assert [entry.title for entry in feed.entries] == [expected], url
        assert feed.feed.title == feed_title


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_feeds_and_sitemaps_only_answer_reads(client, method):
    """Writing methods on a feed or sitemap get 405, never a feed."""
    make_article()
    for url in ["/feed/", "/feed/atom/", "/sitemap.xml", "/sitemap-articles.xml"]:
        assert getattr(client, method)(url).status_code == 405, url
    assert client.head("/feed/").status_code == 200


def test_unknown_section_or_tag_feed_is_404(client):
    """A feed for a section or tag that does not exist is a clean 404."""
    assert client.get("/section/nope/feed/").status_code == 404
    assert client.get("/tag/nope/feed/atom/").status_code == 404


def test_pages_link_to_their_feeds(client):
    """Every page head links the site feeds; section and tag pages add their own."""
    section = make_section(slug="skating")
    tag = make_tag(slug="records")
    make_article(section=section, tags=[tag])
    alternates = re.compile(
        r'<link rel="alternate" type="application/(?:rss|atom)\+xml"[^>]*href="([^"]+)"'
    )
    assert alternates.findall(client.get("/").content.decode()) == ["/feed/", "/feed/atom/"]
    assert alternates.findall(client.get("/section/skating/").content.decode()) == [
        "/feed/",
        "/feed/atom/",
        "/section/skating/feed/",
        "/section/skating/feed/atom/",
    ]
    assert alternates.findall(client.get("/tag/records/").content.decode())[2:] == [
        "/tag/records/feed/",
        "/tag/records/feed/atom/",
    ]
    for url in ["/section/skating/feed/", "/tag/records/feed/atom/"]:
        assert client.get(url).status_code == 200


def test_feed_query_count_does_not_grow_with_items(client):
    """Thirty items cost as many queries as three."""
    author = make_user()
    for _ in range(3):
        make_article(author=author, tags=[make_tag()])
    with CaptureQueriesContext(connection) as few:
        client.get("/feed/")
    for i in range(27):
        make_article(author=make_user() if i % 9 == 0 else author, tags=[make_tag()])
    with CaptureQueriesContext(connection) as many:
        client.get("/feed/")
    assert len(many) == len(few)


def test_no_commenter_email_in_any_feed(client, story):
    """Comments, and above all their authors' emails, never reach a feed."""
    make_comment(article=story, email="secret.fan@example.org", body="Great race")
    section_slug, tag_slug = story.section.slug, story.tags.first().slug
    for url in [
        "/feed/",
        "/feed/atom/",
        f"/section/{section_slug}/feed/",
        f"/tag/{tag_slug}/feed/atom/",
    ]:
        body = client.get(url).content.decode()
        assert "secret.fan" not in body and "Great race" not in body, url
        assert "@" not in body, url
