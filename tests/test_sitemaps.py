"""A search engine crawls the sitemaps and robots.txt."""

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles.models import Article

from .factories import (
    make_article,
    make_athlete,
    make_comment,
    make_event,
    make_result,
    make_section,
    make_tag,
    make_user,
)

pytestmark = pytest.mark.django_db

NS = {
    "sm": "http://www.sitemaps.org/schemas/sitemap/0.9",
    "news": "http://www.google.com/schemas/sitemap-news/0.9",
}


def fetch(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    assert response["Content-Type"].startswith("application/xml")
    return ET.fromstring(response.content)  # noqa: S314 - our own response


def entries(client, url):
    """{location: lastmod or None} of one sitemap."""
    root = fetch(client, url)
    return {
        url.findtext("sm:loc", namespaces=NS): url.findtext("sm:lastmod", namespaces=NS)
        for url in root.findall("sm:url", NS)
    }


def moment(text):
    return datetime.fromisoformat(text)


def to_the_second(when):
    """A stored time as sitemaps write it (W3C datetime in whole seconds)."""
    return when.replace(microsecond=0)


def test_index_lists_every_sitemap(client):
    """The index names the stories, news, sections, tags, competitions, events and athletes."""
    root = fetch(client, "/sitemap.xml")
    locations = {node.text for node in root.findall("sm:sitemap/sm:loc", NS)}
    assert locations == {
        f"http://testserver/sitemap-{name}.xml"
        for name in ["articles", "news", "sections", "tags", "competitions", "events", "athletes"]
    }
    for location in locations:
        assert client.get(location.removeprefix("http://testserver")).status_code == 200


def test_article_sitemap_has_published_stories_with_lastmod(client):
    """Published stories only, each with its last change, results updates included."""
    now = timezone.now()
    author = make_user()
    plain = make_article(author=author)
    updated = make_article(author=author)
    Article.objects.filter(pk=updated.pk).update(results_updated_at=now + timedelta(hours=2))
    updated.refresh_from_db()
    draft = make_article(author=author, status=Article.Status.DRAFT, published_at=None)
    future = make_article(
        author=author, status=Article.Status.SCHEDULED, published_at=now + timedelta(days=1)
    )
    found = entries(client, "/sitemap-articles.xml")
    assert set(found) == {
        f"http://testserver{plain.get_absolute_url()}",
        f"http://testserver{updated.get_absolute_url()}",
    }
    assert draft.get_absolute_url() not in str(found) and future.slug not in str(found)
    for article in (plain, updated):
        lastmod = moment(found[f"http://testserver{article.get_absolute_url()}"])
        assert lastmod == to_the_second(article.last_modified)
    index = fetch(client, "/sitemap.xml")
    articles_lastmod = next(
        node.findtext("sm:lastmod", namespaces=NS)
        for node in index.findall("sm:sitemap", NS)
        if node.findtext("sm:loc", namespaces=NS).endswith("sitemap-articles.xml")
    )
    assert moment(articles_lastmod) == to_the_second(updated.results_updated_at)


def test_news_sitemap_has_only_the_last_two_days(client):
    """Google News entries: stories of the last 48 hours with name, language, date and title."""
    now = timezone.now()
    author = make_user()
    fresh = make_article(title="Fresh & new", author=author, published_at=now - timedelta(hours=5))
    make_article(title="Old", author=author, published_at=now - timedelta(days=3))
    make_article(author=author, status=Article.Status.DRAFT, published_at=now - timedelta(hours=1))
    root = fetch(client, "/sitemap-news.xml")
    (url,) = root.findall("sm:url", NS)
    assert url.findtext("sm:loc", namespaces=NS) == f"http://testserver{fresh.get_absolute_url()}"
    news = url.find("news:news", NS)
    assert news.findtext("news:publication/news:name", namespaces=NS) == "Newsroom"
    assert news.findtext("news:publication/news:language", namespaces=NS) == "en"
    assert news.findtext("news:title", namespaces=NS) == "Fresh & new"
    published = moment(news.findtext("news:publication_date", namespaces=NS))
    assert published == to_the_second(fresh.published_at)


def test_section_and_tag_sitemaps_date_their_latest_story(client):
    """Sections and tags carry the time of their newest published story; unused tags stay out."""
    now = timezone.now()
    section, tag, unused = make_section(), make_tag(), make_tag()
    make_article(section=section, tags=[tag], published_at=now - timedelta(hours=5))
    newest = make_article(section=section, tags=[tag], published_at=now - timedelta(hours=1))
    make_article(
        section=section,
        tags=[tag, unused],
        status=Article.Status.SCHEDULED,
        published_at=now + timedelta(hours=3),
    )
    sections = entries(client, "/sitemap-sections.xml")
    tags = entries(client, "/sitemap-tags.xml")
    expected = to_the_second(newest.published_at)
    assert moment(sections[f"http://testserver{section.get_absolute_url()}"]) == expected
    assert moment(tags[f"http://testserver{tag.get_absolute_url()}"]) == expected
    assert f"http://testserver{unused.get_absolute_url()}" not in tags


def test_results_pages_are_in_the_sitemaps(client):
    """Every competition, event and athlete page is listed, dated by its last results change."""
    changed = timezone.now() - timedelta(hours=1)
    event = make_event()
    event.mark_results_changed(at=changed)
    athlete = make_athlete()
    make_result(event=event, athlete=athlete, rank=1, time_ms=72310)
    idle = make_athlete()
    events = entries(client, "/sitemap-events.xml")
    athletes = entries(client, "/sitemap-athletes.xml")
    competitions = entries(client, "/sitemap-competitions.xml")
    expected = to_the_second(changed)
    assert moment(events[f"http://testserver{event.get_absolute_url()}"]) == expected
    assert moment(athletes[f"http://testserver{athlete.get_absolute_url()}"]) == expected
    assert athletes[f"http://testserver{idle.get_absolute_url()}"] is None
    competition_url = f"http://testserver{event.competition.get_absolute_url()}"
    assert moment(competitions[competition_url]) == expected
    for location in [*events, *athletes, *competitions]:
        assert client.get(location.removeprefix("http://testserver")).status_code == 200


def test_article_sitemap_query_count_does_not_grow(client):
    """Fifty stories cost as many queries as two."""
    author, section = make_user(), make_section()
    for _ in range(2):
        make_article(author=author, section=section)
    client.get("/sitemap.xml")  # warm caches shared by every page
    with CaptureQueriesContext(connection) as few:
        client.get("/sitemap-articles.xml")
        client.get("/sitemap.xml")
    for _ in range(48):
        make_article(author=author, section=section)
    with CaptureQueriesContext(connection) as many:
        client.get("/sitemap-articles.xml")
        client.get("/sitemap.xml")
    assert len(many) == len(few)


def test_unknown_sitemap_is_404(client):
    """A sitemap section that does not exist is a clean 404."""
    assert client.get("/sitemap-nope.xml").status_code == 404
    assert client.get("/sitemap-articles.xml?p=99").status_code == 404


def test_robots_txt_points_to_the_sitemap_and_keeps_admin_out(client):
    """robots.txt names the sitemap index and disallows /admin/."""
    text = client.get("/robots.txt").content.decode()
    assert "Sitemap: http://testserver/sitemap.xml" in text
    assert "Disallow: /admin/" in text


def test_no_commenter_email_in_any_sitemap(client):
    """Sitemaps carry page addresses and dates only, never a commenter's email."""
    article = make_article(published_at=timezone.now() - timedelta(hours=1))
    make_comment(article=article, email="hidden.reader@example.org")
    root = fetch(client, "/sitemap.xml")
    urls = ["/sitemap.xml"] + [
        node.text.removeprefix("http://testserver")
        for node in root.findall("sm:sitemap/sm:loc", NS)
    ]
    for url in urls:
        body = client.get(url).content.decode()
        assert "hidden.reader" not in body and "@" not in body, url
