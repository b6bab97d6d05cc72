"""A hostile editor or reader types markup into every field they control: every page, feed,
CSV export and admin screen shows it as text and never runs it."""

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone

from articles.models import Article, Result
from comments.models import Comment

from .factories import (
    add_hero,
    make_article,
    make_athlete,
    make_comment,
    make_competition,
    make_event,
    make_nation,
    make_section,
    make_tag,
    make_user,
)

pytestmark = pytest.mark.django_db

# Each payload carries a marker ({m}) so we can tell it reached the page as text.
PAYLOADS = [
    "<script>alert('{m}')</script>",
    "\"><img src=x onerror=alert('{m}')>",
    "'><svg/onload=alert('{m}')>",
    '<a href="javascript:alert(1)">{m}</a>',
    '<iframe src="data:text/html,<script>alert(1)</script>">{m}</iframe>',
    "</title></textarea></script><script>alert('{m}')</script>",
    "<svg><script>alert('{m}')</script></svg>",
    "<!--<img src=\"--><img src=x onerror=alert('{m}')//\">",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert('{m}')>",
    "\u202e<b onmouseover=alert('{m}')>\u200b\u2028",
    "javascript:alert('{m}')",
    "<style>*{{background:url(//evil.example/{m})}}</style>",
    "{{{{ request.META }}}}{{% debug %}}{m}",
    "\uff1cscript\uff1ealert('{m}')\uff1c/script\uff1e",
    '<base href="//evil.example/{m}/">',
    '<meta http-equiv=refresh content="0;url=//evil.example/{m}">',
    "<form action=//evil.example><button formaction=javascript:alert(1)>{m}</button></form>",
    '<div style="background:url(javascript:alert(1))">{m}</div>',
    "]]><script>alert('{m}')</script><![CDATA[",
]
MARKDOWN_PAYLOADS = [
    "[{m}](javascript:alert(1))",
    "[{m}](jav&#x09;ascript:alert(1))",
    "[{m}](JaVaScRiPt:alert(1))",
    "![{m}](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "[{m}](vbscript:msgbox(1))",
    "<a href='data:text/html,<script>alert(1)</script>'>{m}</a>",
    '[{m}](https://ok.example "title\\" onmouseover=\\"alert(1)")',
]


def payloads(field, max_length, source=PAYLOADS):
    """As many marked payloads as fit in the field, each marked with the field's name."""
    text = ""
    for number, payload in enumerate(source):
        piece = payload.format(m=f"xss{field}{number}") + " "
        if len(text) + len(piece) <= max_length:
            text += piece
    return text.strip()


class Inspector(HTMLParser):
    """Finds anything in a page that would run or load attacker content."""

    URL_ATTRIBUTES = {"href", "src", "action", "formaction", "srcset", "poster", "data"}
    DANGEROUS_TAGS = {"iframe", "object", "embed", "base", "frame", "frameset", "applet", "math"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems, self.text, self._script = [], [], None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…>")
            if name == "style":
                self.problems.append(f"<{tag} style=…>")
            if name in self.URL_ATTRIBUTES and value:
                scheme = re.sub(r"[\x00-\x20]", "", value).lower()
                if scheme.startswith(("javascript:", "vbscript:", "data:", "//evil")):
                    self.problems.append(f"<{tag} {name}={value!r}>")
        if tag in self.DANGEROUS_TAGS:
            self.problems.append(f"<{tag}>")
        if tag == "meta" and attributes.get("http-equiv", "").lower() == "refresh":
            self.problems.append("<meta refresh>")
        if tag == "style" and "nonce" not in attributes:
            self.problems.append("<style> without the server's nonce")
        if tag == "script":
            if attributes.get("src"):
                if not attributes["src"].startswith("/"):
                    self.problems.append(f"<script src={attributes['src']!r}>")
            elif attributes.get("type") in {"application/ld+json", "application/json"}:
                self._script = []
            else:
                self.problems.append("inline <script>")

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            content = "".join(self._script)
            try:
                json.loads(content)
            except ValueError:
                self.problems.append(f"data script that is not JSON: {content[:80]!r}")
            self._script = None

    def handle_data(self, data):
        if self._script is not None:
            self._script.append(data)
        self.text.append(data)


def inspect_html(html):
    inspector = Inspector()
    inspector.feed(html)
    inspector.close()
    return inspector.problems, "".join(inspector.text)


def inspect_feed(xml):
    """An item's description, summary and content are HTML to a feed reader: check them like
    a page. Titles and categories are plain text by the RSS and Atom specs."""
    root = ET.fromstring(xml)  # noqa: S314 (our own response)
    problems, text = [], []
    for item in [*root.iter("item"), *root.iter("{http://www.w3.org/2005/Atom}entry")]:
        for element in item:
            name = element.tag.rsplit("}", 1)[-1]
            if name in {"title", "description", "encoded", "summary", "content"}:
                found, shown = inspect_html(element.text or "")
                if name != "title":
                    problems += [f"{name}: {p}" for p in found]
                text.append(shown if name != "title" else element.text or "")
    return problems, " ".join(text)


@pytest.fixture
def hostile_world():
    """Every text field an editor or a reader controls, filled with payloads."""
    author = make_user(
        first_name=payloads("first", 150), last_name=payloads("last", 150), is_staff=True
    )
    section = make_section(name=payloads("section", 80), description=payloads("secdesc", 2000))
    tags = [make_tag(name=payloads(f"tag{n}", 80)) for n in range(3)]
    nation = make_nation(code="XSS", name=payloads("nation", 100))
    competition = make_competition(name=payloads("competition", 200), place=payloads("place", 200))
    event = make_event(
        competition=competition,
        name=payloads("event", 150),
        sport=payloads("sport", 80),
        venue=payloads("venue", 200),
        record_holder=payloads("holder", 150),
    )
    athletes = [make_athlete(nation=nation, name=payloads(f"athlete{n}", 150)) for n in range(3)]
    for rank, athlete in enumerate(athletes, start=1):
        Result.objects.create(
            event=event, athlete=athlete, rank=rank, time_ms=70_000 + rank, notes="<b>WR</b>"
        )
    # Markdown links first: the sanitiser drops everything after an unclosed <style>.
    body = payloads("bodymd", 10_000, MARKDOWN_PAYLOADS) + "\n\n" + payloads("body", 10_000)
    article = make_article(
        title=payloads("title", 200),
        standfirst=payloads("standfirst", 600),
        body=body,
        section=section,
        author=author,
        tags=tags,
        events=[event],
        hero_caption=payloads("caption", 300),
        hero_credit=payloads("credit", 120),
        published_at=timezone.now() - timezone.timedelta(hours=1),
    )
    add_hero(article, size=(480, 270))
    Article.objects.filter(pk=article.pk).update(hero_alt=payloads("alt", 250))
    article.refresh_from_db()
    comment = make_comment(
        article=article,
        name=payloads("reader", 80),
        website="javascript:alert(1)//",
        body=payloads("comment", 5000),
    )
    make_comment(
        article=article,
        parent=comment,
        name=payloads("replier", 80),
        website="https://ok.example/<script>",
        body=payloads("reply", 5000),
    )
    return {"article": article, "event": event, "athlete": athletes[0], "tag": tags[0]}


def public_pages(world):
    article, event = world["article"], world["event"]
    return [
        "/",
        article.get_absolute_url(),
        article.section.get_absolute_url(),
        world["tag"].get_absolute_url(),
        reverse("articles:archive"),
        reverse(
            "articles:archive-month",
            # The archive's months are the site's (local) months, not UTC's.
            args=[
                timezone.localtime(article.published_at).year,
                f"{timezone.localtime(article.published_at).month:02d}",
            ],
        ),
        "/search/?q=xsstitle",
        "/results/",
        event.get_absolute_url(),
        event.competition.get_absolute_url(),
        world["athlete"].get_absolute_url(),
    ]


def test_hostile_text_is_inert_on_every_public_page(client, hostile_world):
    """No page runs or loads anything from the payloads, and each field's text still shows."""
    seen = ""
    for url in public_pages(hostile_world):
        response = client.get(url)
        assert response.status_code == 200, url
        problems, text = inspect_html(response.content.decode())
        assert problems == [], (url, problems)
        seen += text
    for field in ["title", "standfirst", "section", "tag0", "caption", "credit", "event",
                  "competition", "athlete0", "reader", "comment", "body", "bodymd"]:  # fmt: skip
        assert re.search(f"xss{field}\\d", seen), field  # shown, as text
    assert "<script>alert('xsstitle0')</script>" in seen  # and shown exactly as typed


def test_markdown_links_only_keep_safe_schemes(client, hostile_world):
    """In the article body, javascript:, vbscript: and data: links lose their target."""
    html = client.get(hostile_world["article"].get_absolute_url()).content.decode()
    body = html.split('class="story-body"', 1)[1].split("</div>", 1)[0]
    assert "xssbodymd" in body
    assert inspect_html(body)[0] == []
    links = re.findall(r'(?:href|src)="([^"]*)"', body)
    assert links and all(link.startswith("https://ok.example") for link in links)


@pytest.mark.parametrize("name", ["feed", "feed-atom"])
def test_hostile_text_is_inert_in_feeds(client, hostile_world, name):
    """RSS and Atom items escape everything readers render as HTML."""
    world = hostile_world
    urls = [
        reverse(f"articles:{name}"),
        reverse(f"articles:section-{name}", args=[world["article"].section.slug]),
        reverse(f"articles:tag-{name}", args=[world["tag"].slug]),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        problems, text = inspect_feed(response.content)
        assert problems == [], (url, problems)
        assert "xsstitle0" in text and "xssstandfirst0" in text, url


def test_sitemap_stays_well_formed(client, hostile_world):
    """Sitemaps parse as XML whatever the names hold."""
    response = client.get("/sitemap.xml")
    ET.fromstring(response.content)  # noqa: S314 (our own response)
    for location in re.findall(rb"<loc>([^<]+)</loc>", response.content):
        part = client.get(location.decode().replace("http://testserver", ""))
        ET.fromstring(part.content)  # noqa: S314


def test_results_csv_cannot_run_formulas(client, hostile_world):
    """Names that look like spreadsheet formulas are exported so Excel will not run them."""
    event = hostile_world["event"]
    athlete = event.results.first().athlete
    athlete.name = '=HYPERLINK("http://evil.example","click")'
    athlete.save()
    response = client.get(reverse("articles:event-csv", args=[event.slug]))
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    cells = [cell for row in rows[1:] for cell in row]
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells if cell)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_search_query_is_reflected_as_text(client, payload):
    """Whatever a reader searches for is shown back as text only."""
    make_article(title="Gold for the Netherlands")
    response = client.get("/search/", {"q": payload.format(m="xssquery")})
    assert response.status_code == 200
    problems, _text = inspect_html(response.content.decode())
    assert problems == []


def test_hostile_text_is_inert_in_the_admin(client, hostile_world):
    """Editors' and moderators' screens show the payloads as text too."""
    client.force_login(make_user(is_superuser=True))
    article, event = hostile_world["article"], hostile_world["event"]
    comment = Comment.objects.filter(article=article).first()
    urls = [
        reverse("admin:articles_article_changelist"),
        reverse("admin:articles_article_change", args=[article.pk]),
        reverse("admin:articles_event_change", args=[event.pk]),
        reverse("admin:articles_event_changelist"),
        reverse("admin:articles_tag_changelist"),
        reverse("admin:articles_section_changelist"),
        reverse("admin:articles_athlete_changelist"),
        reverse("admin:comments_comment_changelist"),
        reverse("admin:comments_comment_change", args=[comment.pk]),
        reverse("articles:preview", args=[article.pk]),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        problems, _text = inspect_html(response.content.decode())
        assert problems == [], (url, problems)


def test_the_inspector_catches_live_markup():
    """The checks above can fail: raw payloads are reported."""
    problems, _ = inspect_html(
        '<p>ok</p><a href=" java\tscript:x">' + "".join(p.format(m="x") for p in PAYLOADS)
    )
    for expected in ["inline <script>", "<img onerror=…>", "<svg onload=…>", "<iframe>",
                     "<base>", "<meta refresh>", "<div style=…>", "<math>"]:  # fmt: skip
        assert expected in problems, expected
    assert any(p.startswith("<a href=' java") for p in problems)
