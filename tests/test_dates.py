"""Dates and times read the same everywhere: one offset style on a page, W3C datetimes in the
sitemaps, the site's named formats for people (newsroom/dates.py)."""

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.template.defaultfilters import date as date_filter
from django.utils import timezone
from django.utils.formats import get_format
from hypothesis import given, settings
from hypothesis import strategies as st

from comments.models import Comment
from newsroom import dates

from .factories import make_article, make_comment, make_event, make_result

pytestmark = pytest.mark.django_db

WINTER = timezone.make_aware(datetime(2026, 2, 12, 19, 30, 5, 123456))  # +01:00 in Amsterdam
SUMMER = timezone.make_aware(datetime(2026, 7, 2, 9, 5, 0, 654321))  # +02:00
# A datetime with an offset: the time, then +hh:mm, +hhmm or Z.
OFFSET = re.compile(r"\d{2}:\d{2}:\d{2}(?:\.\d+)?([+-]\d{2}:?\d{2}|Z)\b")
W3C_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2})?$")
NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def xml(client, url):
    return ET.fromstring(client.get(url.removeprefix("http://testserver")).content)  # noqa: S314 - our own response


def test_an_article_page_writes_every_offset_one_way(client):
    """Story date, results update, comment dates, meta tags and JSON-LD: all `+01:00`."""
    event = make_event(starts_at=WINTER)
    make_result(event=event, rank=1, time_ms=72_310)
    article = make_article(title="Dates story", published_at=WINTER, events=[event])
    for moment in (WINTER, SUMMER):  # created_at is set on create: dated afterwards
        Comment.objects.filter(pk=make_comment(article=article).pk).update(created_at=moment)
    html = client.get(article.get_absolute_url()).content.decode()
    offsets = set(OFFSET.findall(html))
    assert "+01:00" in offsets and "+02:00" in offsets
    assert all(re.fullmatch(r"[+-]\d{2}:\d{2}", offset) for offset in offsets), offsets
    assert '<time datetime="2026-02-12T19:30:05+01:00">12 February 2026, 19:30</time>' in html
    assert '<time datetime="2026-07-02T09:05:00+02:00">2 July 2026, 09:05</time>' in html


def test_sitemaps_write_lastmod_as_w3c_datetimes(client):
    """The index, each section's sitemap and the news sitemap: whole seconds, `+01:00`."""
    make_article(title="Sitemap story", published_at=timezone.now())
    make_result(event=make_event(starts_at=WINTER), rank=1, time_ms=72_310)
    index = xml(client, "/sitemap.xml")
    stamps = [node.text for node in index.iterfind("sm:sitemap/sm:lastmod", NS)]
    for location in [node.text for node in index.iterfind("sm:sitemap/sm:loc", NS)]:
        sitemap = xml(client, location)
        stamps += [node.text for node in sitemap.iterfind("sm:url/sm:lastmod", NS)]
    news = client.get("/sitemap-news.xml").content.decode()
    stamps += re.findall(r"<news:publication_date>([^<]*)<", news)
    assert len(stamps) > 3
    assert all(W3C_DATETIME.match(stamp) for stamp in stamps), stamps


def test_the_named_formats_are_the_only_formats(settings):
    """A date for people is written in a named format; an unknown name is refused."""
    assert dates.shown(WINTER, "DATE_FORMAT") == "12 February 2026"
    assert dates.shown(WINTER, "SHORT_DATE_FORMAT") == "12 Feb 2026"
    assert dates.shown(SUMMER, "DATETIME_FORMAT") == "2 July 2026, 09:05"
    assert dates.shown(SUMMER, "SHORT_DATETIME_FORMAT") == "2 Jul 2026, 09:05"
    assert dates.shown(WINTER.date(), "YEAR_MONTH_FORMAT") == "February 2026"
    assert dates.machine_time(WINTER.date()) == "2026-02-12"
    with pytest.raises(ValueError, match="not one of the site's date formats"):
        dates.shown(WINTER, "j F Y")


RSS_DATE = re.compile(r"<(pubDate|lastBuildDate)>([^<]*)</\1>")
ATOM_DATE = re.compile(r"<(published|updated)>([^<]*)</\1>")


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_feeds_write_dates_in_the_sites_zone_and_whole_seconds(client, kind):
    """Stories', sections' and comments' feeds, with items and without: every date in the
    offset the pages write for that moment (+01:00 in winter, +02:00 in summer), no fractions
    of a second (what a fresh item's auto-set time would bring)."""
    winter = make_article(title="Winter story", published_at=WINTER)
    summer = make_article(title="Summer story", published_at=SUMMER, section=winter.section)
    for moment in (WINTER, SUMMER):
        Comment.objects.filter(pk=make_comment(article=summer).pk).update(created_at=moment)
    empty = make_article(title="Nobody commented", published_at=WINTER)
    suffix = "atom/" if kind == "atom" else ""
    urls = [
        f"/feed/{suffix}",
        f"{winter.section.get_absolute_url()}feed/{suffix}",
        f"{summer.get_absolute_url()}comments/feed/{suffix}",
        f"{empty.get_absolute_url()}comments/feed/{suffix}",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        found = (RSS_DATE if kind == "rss" else ATOM_DATE).findall(response.content.decode())
        assert found, url
        for _element, text in found:
            if kind == "rss":
                assert re.fullmatch(r"\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0[12]00", text)
            else:
                assert W3C_DATETIME.match(text), (url, text)
                assert text.endswith(("+01:00", "+02:00")), (url, text)
    rss_or_atom = client.get(f"/feed/{suffix}").content.decode()
    if kind == "rss":
        assert "Thu, 12 Feb 2026 19:30:05 +0100" in rss_or_atom
        assert "Thu, 02 Jul 2026 09:05:00 +0200" in rss_or_atom
    else:
        assert "2026-02-12T19:30:05+01:00" in rss_or_atom
        assert "2026-07-02T09:05:00+02:00" in rss_or_atom


# Dates written for machines outside newsroom/dates.py, each with why it is not for people.
MACHINE_DATES = {
    "comments/admin.py": "the export's file name",
}
DATE_FILTER = re.compile(r"""\|(date|time):["']([^"']*)["']""")


def test_every_date_for_people_is_written_in_one_of_the_named_formats():
    """Templates name a format (`|date:"DATE_FORMAT"`, `{% time %}`), never spell one out, and
    Python code writes dates through newsroom.dates, never strftime."""
    root = Path(__file__).resolve().parent.parent
    spelled = []
    for template in sorted((root / "templates").rglob("*.html")):
        for _filter, argument in DATE_FILTER.findall(template.read_text()):
            if argument not in dates.FORMAT_NAMES:
                spelled.append(f"{template.relative_to(root)}: {argument}")
    for package in ("articles", "comments", "newsroom"):
        for module in sorted((root / package).rglob("*.py")):
            name = str(module.relative_to(root))
            if "migrations" in name or name in MACHINE_DATES or name == "newsroom/dates.py":
                continue
            if ".strftime(" in module.read_text():
                spelled.append(f"{name}: strftime")
    assert spelled == []


@settings(max_examples=200, deadline=None)
@given(
    moment=st.datetimes(
        min_value=datetime(1850, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.sampled_from([UTC, ZoneInfo("Europe/Amsterdam"), ZoneInfo("Asia/Tokyo")]),
    )
    | st.datetimes(),
    name=st.sampled_from(dates.FORMAT_NAMES),
)
def test_the_time_element_is_what_django_would_write(moment, name):
    """time_element skips format_html's lazy-string checks for speed (it runs once per comment):
    its output is byte for byte what format_html and Django's |date would write, historic
    offsets (Amsterdam's +00:19:32) and naive datetimes included."""
    from django.utils.html import format_html

    expected = format_html(
        '<time datetime="{}">{}</time>', dates.machine_time(moment), dates.shown(moment, name)
    )
    assert dates.time_element(moment, name) == expected
    local = timezone.localtime(moment) if timezone.is_aware(moment) else moment
    assert dates.shown(moment, name) == date_filter(local, get_format(name))
