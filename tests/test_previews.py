"""Search engines and chat apps preview pages: canonical URLs, social cards, JSON-LD, breadcrumbs,
related stories and reading time."""

import json
import re
import shutil
from datetime import timedelta
from html import unescape

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles.models import Article

from .factories import (
    add_hero,
    make_article,
    make_athlete,
    make_comment,
    make_competition,
    make_event,
    make_nation,
    make_result,
    make_section,
    make_tag,
    make_user,
)

pytestmark = pytest.mark.django_db


def page(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200, url
    return response.content.decode()


def meta(html, key):
    """Content of every <meta property|name="key"> in the page."""
    pattern = rf'<meta (?:property|name)="{re.escape(key)}" content="([^"]*)">'
    return [unescape(value) for value in re.findall(pattern, html)]


def json_ld(html):
    """Every JSON-LD block, parsed, after checking nothing inside it could close the script."""
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    for block in blocks:
        assert "<" not in block and ">" not in block
    return {data.get("@type", "@graph"): data for data in map(json.loads, blocks)}


def canonical(html):
    (url,) = re.findall(r'<link rel="canonical" href="([^"]+)">', html)
    return url


@pytest.fixture
def story():
    author = make_user(first_name="Ada", last_name="Writer")
    article = make_article(
        title="Leerdam wins Olympic gold",
        standfirst="A record in the last pair & a first title.",
        author=author,
        section=make_section(name="Speed skating", slug="speed-skating"),
        published_at=timezone.now() - timedelta(hours=2),
    )
    return add_hero(article, alt="Leerdam crosses the line")


def test_article_canonical_url_ignores_query_strings(client, story):
    """The canonical URL is the article's own absolute URL, whatever junk the link carried."""
    html = page(client, story.get_absolute_url(), utm_source="chat", page="x")
    assert canonical(html) == f"http://testserver{story.get_absolute_url()}"
    assert "<title>Leerdam wins Olympic gold | Newsroom</title>" in html
    assert meta(html, "description") == ["A record in the last pair & a first title."]


def test_paginated_lists_are_canonical_per_page(client, settings):
    """Page 2 of a list is its own canonical page; page 1 has no ?page."""
    author = make_user()
    for _ in range(settings.ARTICLES_PER_PAGE + 1):
        make_article(author=author)
    assert canonical(page(client, "/", utm_source="x")) == "http://testserver/"
    assert canonical(page(client, "/", page=2)) == "http://testserver/?page=2"


def test_social_cards_use_the_hero_rendition(client, story):
    """Open Graph and Twitter tags describe the story with its 1200 px hero rendition."""
    html = page(client, story.get_absolute_url())
    rendition = next(r for r in story.hero_renditions if r["width"] == 1200)
    assert meta(html, "og:type") == ["article"]
    assert meta(html, "og:title") == ["Leerdam wins Olympic gold"]
    assert meta(html, "og:description") == ["A record in the last pair & a first title."]
    assert meta(html, "og:url") == [f"http://testserver{story.get_absolute_url()}"]
    assert meta(html, "og:site_name") == ["Newsroom"]
    assert meta(html, "og:image") == [f"http://testserver{default_storage.url(rendition['name'])}"]
    assert meta(html, "og:image:width") == ["1200"]
    assert meta(html, "og:image:height") == [str(rendition["height"])]
    assert meta(html, "og:image:alt") == ["Leerdam crosses the line"]
    assert meta(html, "twitter:card") == ["summary_large_image"]
    assert meta(html, "article:published_time") == [
        timezone.localtime(story.published_at).isoformat(timespec="seconds")
    ]


def test_story_without_hero_gets_a_small_card(client):
    """No hero image: a summary card and no og:image."""
    article = make_article()
    html = page(client, article.get_absolute_url())
    assert meta(html, "twitter:card") == ["summary"]
    assert meta(html, "og:image") == []


def test_news_article_json_ld_field_by_field(client, story):
    """NewsArticle: headline, image, dates, author and publisher, all correct."""
    data = json_ld(page(client, story.get_absolute_url()))["NewsArticle"]
    url = f"http://testserver{story.get_absolute_url()}"
    rendition = next(r for r in story.hero_renditions if r["width"] == 1200)
    assert data["@context"] == "https://schema.org"
    assert data["headline"] == "Leerdam wins Olympic gold"
    assert data["description"] == "A record in the last pair & a first title."
    assert data["url"] == url and data["mainEntityOfPage"]["@id"] == url
    assert data["image"] == [
        {
            "@type": "ImageObject",
            "url": f"http://testserver{default_storage.url(rendition['name'])}",
            "width": 1200,
            "height": rendition["height"],
        }
    ]
    assert data["datePublished"] == timezone.localtime(story.published_at).isoformat(
        timespec="seconds"
    )
    assert data["dateModified"] == timezone.localtime(story.last_modified).isoformat(
        timespec="seconds"
    )
    assert data["author"] == [{"@type": "Person", "name": "Ada Writer"}]
    assert data["publisher"] == {
        "@type": "Organization",
        "name": "Newsroom",
        "url": "http://testserver/",
    }
    assert data["articleSection"] == "Speed skating"


def test_editor_text_cannot_break_out_of_json_ld(client):
    """A headline full of </script>, <!-- and & stays data: escaped, and parses back intact."""
    title = "</script><script>alert(1)</script><!-- & -->"
    article = make_article(title=title, standfirst="</SCRIPT >x")
    html = page(client, article.get_absolute_url())
    data = json_ld(html)["NewsArticle"]
    assert data["headline"] == title and data["description"] == "</SCRIPT >x"
    assert "<script>alert(1)" not in html


def test_breadcrumbs_are_visible_and_structured(client, story):
    """Home › Section › Story as a labelled nav and as a BreadcrumbList."""
    html = page(client, story.get_absolute_url())
    nav = re.search(r'<nav class="breadcrumbs" aria-label="Breadcrumb">(.*?)</nav>', html, re.S)
    assert nav, "no breadcrumb navigation"
    links = re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', nav.group(1))
    assert links == [
        ("/", "Home"),
        ("/section/speed-skating/", "Speed skating"),
        (story.get_absolute_url(), "Leerdam wins Olympic gold"),
    ]
    assert 'aria-current="page">Leerdam wins Olympic gold' in nav.group(1)
    items = json_ld(html)["BreadcrumbList"]["itemListElement"]
    assert [(item["position"], item["name"], item["item"]) for item in items] == [
        (1, "Home", "http://testserver/"),
        (2, "Speed skating", "http://testserver/section/speed-skating/"),
        (3, "Leerdam wins Olympic gold", f"http://testserver{story.get_absolute_url()}"),
    ]


def test_section_and_tag_pages_have_breadcrumbs_and_cards(client):
    """List pages name themselves in breadcrumbs and social tags."""
    section = make_section(name="Ice hockey", slug="ice-hockey", description="Pucks and goals.")
    tag = make_tag(name="Records", slug="records")
    make_article(section=section, tags=[tag])
    html = page(client, "/section/ice-hockey/")
    assert meta(html, "og:title") == ["Ice hockey"]
    assert meta(html, "og:description") == ["Pucks and goals."]
    assert [i["name"] for i in json_ld(html)["BreadcrumbList"]["itemListElement"]] == [
        "Home",
        "Ice hockey",
    ]
    html = page(client, "/tag/records/")
    assert meta(html, "og:title") == ["Stories tagged Records"]
    assert canonical(html) == "http://testserver/tag/records/"


@pytest.mark.parametrize("url", ["/", "/archive/", "/search/?q=gold", "/results/"])
def test_every_page_has_one_canonical_and_one_card(client, url):
    """Other pages still carry exactly one canonical URL, title, description and card."""
    make_article(title="Gold story")
    html = page(client, url)
    assert canonical(html).startswith("http://testserver/")
    assert html.count("<title>") == 1 and len(meta(html, "description")) == 1
    assert len(meta(html, "og:title")) == 1 and len(meta(html, "twitter:card")) == 1


def test_event_page_has_sports_event_json_ld_with_results(client):
    """SportsEvent: name, sport, start, place, competition, competitors and results in order."""
    games = make_competition(name="Milano Cortina 2026", slug="mc-2026", place="Milan, Italy")
    event = make_event(
        name="Women's 1000 m",
        sport="Speed skating",
        competition=games,
        venue="Milano Speed Skating Stadium",
        results_official=True,
    )
    ned = make_nation("NED")
    leerdam = make_athlete(name="Jutta Leerdam", slug="jutta-leerdam", nation=ned)
    kok = make_athlete(name="Femke Kok", slug="femke-kok", nation=ned)
    fell = make_athlete(name="Ann Faller", slug="ann-faller", nation=make_nation("USA"))
    make_result(event=event, athlete=kok, rank=2, time_ms=72590)
    make_result(event=event, athlete=leerdam, rank=1, time_ms=72310, notes="OR")
    make_result(event=event, athlete=fell, status="DNF")
    data = json_ld(page(client, event.get_absolute_url()))["@graph"]
    assert data["@context"] == "https://schema.org"
    sports_event, standings = data["@graph"]
    url = f"http://testserver{event.get_absolute_url()}"
    assert sports_event["@type"] == "SportsEvent" and sports_event["url"] == url
    assert sports_event["name"] == "Speed skating: Women's 1000 m, Milano Cortina 2026"
    assert sports_event["sport"] == "Speed skating"
    assert sports_event["startDate"] == timezone.localtime(event.starts_at).isoformat(
        timespec="seconds"
    )
    assert sports_event["location"] == {
        "@type": "Place",
        "name": "Milano Speed Skating Stadium",
        "address": "Milan, Italy",
    }
    assert sports_event["superEvent"]["name"] == "Milano Cortina 2026"
    assert sports_event["superEvent"]["url"] == f"http://testserver{games.get_absolute_url()}"
    assert [c["name"] for c in sports_event["competitor"]] == [
        "Jutta Leerdam",
        "Femke Kok",
        "Ann Faller",
    ]
    assert sports_event["competitor"][0]["nationality"] == {
        "@type": "Country",
        "name": "Nation NED",
    }
    assert standings["@type"] == "ItemList" and standings["numberOfItems"] == 3
    assert [(i["position"], i["name"]) for i in standings["itemListElement"]] == [
        (1, "1. Jutta Leerdam (NED) 1:12.31 OR"),
        (2, "2. Femke Kok (NED) 1:12.59"),
        (3, "Ann Faller (USA) DNF"),
    ]
    assert standings["itemListElement"][0]["item"] == {
        "@id": f"http://testserver{leerdam.get_absolute_url()}"
    }


def test_results_pages_have_breadcrumbs(client):
    """Event, competition and athlete pages sit under Home › Results & medals."""
    event = make_event(name="Men's 500 m")
    athlete = make_athlete(name="Jenning de Boo")
    make_result(event=event, athlete=athlete, rank=1, time_ms=33690)
    results, games = "Results & medals", event.competition.name
    expected = {
        event.get_absolute_url(): ["Home", results, games, "Men's 500 m"],
        event.competition.get_absolute_url(): ["Home", results, games],
        athlete.get_absolute_url(): ["Home", results, "Jenning de Boo"],
    }
    for url, names in expected.items():
        items = json_ld(page(client, url))["BreadcrumbList"]["itemListElement"]
        assert [item["name"] for item in items] == names, url
        assert items[-1]["item"] == f"http://testserver{url}"


def test_related_stories_prefer_shared_events_then_tags_then_section(client):
    """Related: a shared event beats a shared tag, which beats the same section."""
    author, section, other = make_user(), make_section(), make_section()
    event, tag = make_event(), make_tag()
    now = timezone.now()

    def story(title, hours_ago=1, **fields):
        fields.setdefault("section", other)
        fields.setdefault("published_at", now - timedelta(hours=hours_ago))
        return make_article(title=title, author=author, **fields)

    article = story("Main story", section=section, events=[event], tags=[tag])
    story("Same section", hours_ago=0.1, section=section)
    story("Shared tag", hours_ago=0.2, tags=[tag])
    story("Shared event", hours_ago=5, events=[event])
    story("Unrelated", hours_ago=0.1)
    story("Draft with event", events=[event], status=Article.Status.DRAFT, published_at=None)
    html = page(client, article.get_absolute_url())
    aside = re.search(r'<aside class="related".*?</aside>', html, re.S).group(0)
    titles = re.findall(r'class="related-title" href="[^"]+">([^<]+)</a>', aside)
    assert titles == ["Shared event", "Shared tag", "Same section"]


def test_related_stories_are_at_most_four_and_absent_when_none(client):
    """At most four related stories; none at all means no empty box."""
    author, section = make_user(), make_section()
    lonely = make_article(author=author)
    assert 'class="related"' not in page(client, lonely.get_absolute_url())
    for _ in range(6):
        make_article(author=author, section=section)
    article = make_article(author=author, section=section)
    assert page(client, article.get_absolute_url()).count('class="related-title"') == 4


def test_reading_time_is_shown(client):
    """A story of about 660 words says it takes 3 minutes to read."""
    article = make_article(body="word " * 650)
    assert "3 min read" in page(client, article.get_absolute_url())


def test_article_page_query_count_does_not_grow_with_related(client):
    """Four related stories cost as many queries as one."""
    author, section = make_user(), make_section()
    article = make_article(author=author, section=section)
    make_article(author=author, section=section)
    page(client, article.get_absolute_url())  # warm caches shared by every page
    with CaptureQueriesContext(connection) as few:
        page(client, article.get_absolute_url())
    for _ in range(5):
        make_article(author=make_user(), section=section)
    with CaptureQueriesContext(connection) as many:
        page(client, article.get_absolute_url())
    assert len(many) == len(few)


def test_preview_of_a_draft_has_structured_data_without_a_publish_date(client):
    """An editor's preview of an undated draft still renders, with no datePublished."""
    article = make_article(status=Article.Status.DRAFT, published_at=None)
    client.force_login(make_user(is_superuser=True))
    html = page(client, f"/preview/{article.pk}/")
    data = json_ld(html)["NewsArticle"]
    assert "datePublished" not in data and data["headline"] == article.title
    assert meta(html, "robots") == ["noindex"]


def test_no_commenter_email_in_previews_or_structured_data(client, story):
    """Neither the head, the social cards nor the JSON-LD carry a commenter's email."""
    make_comment(article=story, email="private.fan@example.org", name="Fan")
    html = page(client, story.get_absolute_url())
    head = html[: html.index("</head>")]
    assert "private.fan" not in head
    for block in json_ld(html).values():
        assert "private.fan" not in json.dumps(block)
    assert "private.fan@example.org" not in html


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed")
@pytest.mark.django_db(transaction=True)
def test_structured_data_causes_no_csp_violation_in_chromium(live_server):
    """Chromium loads an article with JSON-LD and breadcrumbs without a CSP report or error."""
    playwright = pytest.importorskip("playwright.sync_api")
    article = make_article(title="</script> in a headline", tags=[make_tag()])
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM)
        try:
            tab = browser.new_page()
            errors = []
            tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            tab.add_init_script(
                "window.cspViolations = [];"
                "document.addEventListener('securitypolicyviolation',"
                " e => window.cspViolations.push(e.violatedDirective));"
            )
            tab.goto(live_server.url + article.get_absolute_url())
            tab.wait_for_load_state("load")
            assert tab.evaluate("window.cspViolations") == []
            assert errors == []
            assert tab.locator('nav[aria-label="Breadcrumb"] a').count() == 3
        finally:
            browser.close()
