"""A reader browses the latest stories, sections, tags and the archive, and reads articles."""

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from articles.models import Article, Section

from .factories import make_article, make_section, make_tag

pytestmark = pytest.mark.django_db


def test_home_shows_lead_story_and_latest(client):
    """The newest published story leads the home page; older ones follow."""
    older = make_article(title="Older story", published_at=timezone.now() - timedelta(days=2))
    newest = make_article(title="Newest story", published_at=timezone.now() - timedelta(hours=1))
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Newest story" in html and "Older story" in html
    assert html.index("Newest story") < html.index("Older story")
    assert 'class="card card-lead"' in html
    assert newest.get_absolute_url() in html and older.get_absolute_url() in html


def test_home_paginates(client, settings):
    """Stories beyond one page are on page 2, linked from page 1."""
    section = make_section()
    for i in range(settings.ARTICLES_PER_PAGE + 3):
        make_article(title=f"Paged story {i:02d}", section=section)
    first = client.get("/").content.decode()
    assert 'rel="next"' in first
    second = client.get("/?page=2")
    assert second.status_code == 200
    assert second.content.decode().count('class="card"') == 3


def test_bad_page_number_is_404_not_500(client):
    """A page number that is junk or out of range is a clean 404."""
    make_article()
    assert client.get("/?page=999").status_code == 404
    assert client.get("/?page=abc").status_code == 404


def test_article_page_shows_everything_a_reader_expects(client):
    """Headline, standfirst, byline, date, body, tags and section are on the article page."""
    tag = make_tag(name="Speedy")
    article = make_article(
        title="Leerdam wins",
        standfirst="A historic gold.",
        body="First paragraph with **bold**.",
        tags=[tag],
    )
    article.author.first_name, article.author.last_name = "Ada", "Writer"
    article.author.save()
    html = client.get(article.get_absolute_url()).content.decode()
    assert "<h1>Leerdam wins</h1>" in html
    assert "A historic gold." in html
    assert "Ada Writer" in html
    assert "<strong>bold</strong>" in html
    assert tag.get_absolute_url() in html
    assert article.section.get_absolute_url() in html
    assert f'datetime="{article.published_at.isoformat()}' in html or "<time" in html


@pytest.mark.parametrize("status", [Article.Status.DRAFT, Article.Status.SCHEDULED])
def test_unpublished_articles_are_404_to_the_public(client, status):
    """Drafts and scheduled stories cannot be read, listed or guessed."""
    article = make_article(
        title="Secret story", status=status, published_at=timezone.now() + timedelta(days=1)
    )
    assert client.get(article.get_absolute_url()).status_code == 404
    assert "Secret story" not in client.get("/").content.decode()
    assert "Secret story" not in client.get(article.section.get_absolute_url()).content.decode()


def test_draft_with_past_date_stays_hidden(client):
    """A draft stays hidden even when its publish time has passed."""
    article = make_article(status=Article.Status.DRAFT, published_at=timezone.now())
    assert client.get(article.get_absolute_url()).status_code == 404


def test_scheduled_story_appears_by_itself_when_its_time_comes(client):
    """No cron: a scheduled story is live as soon as its publish time passes."""
    article = make_article(
        title="Timed story",
        status=Article.Status.SCHEDULED,
        published_at=timezone.now() + timedelta(minutes=5),
    )
    assert client.get(article.get_absolute_url()).status_code == 404
    Article.objects.filter(pk=article.pk).update(published_at=timezone.now() - timedelta(seconds=1))
    assert client.get(article.get_absolute_url()).status_code == 200
    assert "Timed story" in client.get("/").content.decode()


def test_section_page_lists_only_its_stories(client):
    """A section page shows its own published stories and nothing else."""
    skating, football = make_section(name="Skating"), make_section(name="Football")
    make_article(title="On the ice", section=skating)
    make_article(title="On the pitch", section=football)
    html = client.get(skating.get_absolute_url()).content.decode()
    assert "<h1>Skating</h1>" in html
    assert "On the ice" in html and "On the pitch" not in html


def test_tag_page_lists_tagged_stories(client):
    """A tag page lists the stories with that tag."""
    tag = make_tag(name="Olympics")
    make_article(title="Tagged story", tags=[tag])
    make_article(title="Untagged story")
    html = client.get(tag.get_absolute_url()).content.decode()
    assert "Tagged story" in html and "Untagged story" not in html


def test_unknown_section_and_tag_are_404(client):
    """Made-up section and tag slugs are 404 pages, styled like the site."""
    response = client.get("/section/no-such-section/")
    assert response.status_code == 404
    assert "find that page" in response.content.decode()
    assert client.get("/tag/no-such-tag/").status_code == 404


def test_monthly_archive(client):
    """The archive lists months with stories; a month page shows that month's stories."""
    when = timezone.now().replace(year=2026, month=2, day=10)
    make_article(title="February story", published_at=when)
    index = client.get(reverse("articles:archive")).content.decode()
    assert "February 2026" in index
    month = client.get(reverse("articles:archive-month", kwargs={"year": 2026, "month": 2}))
    assert month.status_code == 200
    assert "February story" in month.content.decode()
    empty = client.get(reverse("articles:archive-month", kwargs={"year": 2001, "month": 1}))
    assert empty.status_code == 404


def test_markdown_body_is_sanitised(client):
    """Scripts, event handlers and javascript: links in a body never reach the page."""
    article = make_article(
        body=(
            "Hello <script>alert(1)</script>\n\n"
            '<img src="x" onerror="alert(2)">\n\n'
            "[click](javascript:alert(3))\n\n"
            '<a href="https://example.com" onclick="alert(4)">ok</a>'
        )
    )
    html = client.get(article.get_absolute_url()).content.decode()
    body = html.split('class="story-body"')[1].split("</div>")[0]
    assert "<script" not in body
    assert "onerror" not in body and "onclick" not in body
    assert "javascript:" not in body
    assert 'href="https://example.com"' in body


def test_editing_an_article_refreshes_its_cached_body(client):
    """The cached body HTML follows edits at once."""
    article = make_article(body="Old text")
    assert "Old text" in client.get(article.get_absolute_url()).content.decode()
    article.body = "New text"
    article.save()
    html = client.get(article.get_absolute_url()).content.decode()
    assert "New text" in html and "Old text" not in html


def test_pages_are_html5_with_lang_and_viewport(client):
    """Every page declares its language and a mobile viewport."""
    make_article()
    html = client.get("/").content.decode()
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="en">' in html
    assert 'name="viewport"' in html


def test_pages_load_no_asset_from_another_host(client):
    """Scripts, styles, icons and images all come from this site: no CDN."""
    make_article()
    html = client.get("/").content.decode()
    assets = re.findall(r'<(?:script|img)[^>]*\ssrc="([^"]+)"', html)
    assets += re.findall(r'<link(?![^>]*rel="(?:canonical|alternate)")[^>]*href="([^"]+)"', html)
    assert assets
    assert all(url.startswith("/") and not url.startswith("//") for url in assets), assets


# --- Finding the feeds, the search box and the results pages ---------------------------------


def test_every_page_shows_a_link_to_the_rss_feed(client):
    """The footer of every page links to the RSS feed (and Atom) by name, not only in <head>."""
    article = make_article(title="Feed story")
    for url in ["/", article.get_absolute_url(), reverse("articles:results")]:
        html = client.get(url).content.decode()
        assert '<a href="/feed/">RSS feed</a>' in html, url
        assert '<a href="/feed/atom/">Atom feed</a>' in html, url


def test_section_and_tag_pages_link_to_their_own_feeds(client):
    """A section's and a tag's page name their own RSS feeds, where a reader can see them."""
    section, tag = make_section(name="Speed skating"), make_tag(name="Olympics")
    make_article(title="Tagged story", section=section, tags=[tag])
    html = client.get(section.get_absolute_url()).content.decode()
    feed = reverse("articles:section-feed", kwargs={"slug": section.slug})
    assert f'<a href="{feed}">RSS feed of Speed skating</a>' in html
    html = client.get(tag.get_absolute_url()).content.decode()
    feed = reverse("articles:tag-feed", kwargs={"slug": tag.slug})
    assert f'<a href="{feed}">RSS feed of stories tagged Olympics</a>' in html


def test_header_search_box_says_what_it_searches(client):
    """The header's search box has a placeholder as well as its (visually hidden) label."""
    html = client.get("/").content.decode()
    field = re.search(r'<input id="header-q"[^>]*>', html).group(0)
    assert 'placeholder="Search stories, athletes…"' in field
    assert '<label for="header-q"' in html


def test_story_section_and_results_pages_have_distinct_names(client):
    """In the demo the story section is "Race reports" and the results pages are "Results &
    medals", in the navigation and on the results pages themselves."""
    call_command("seed_demo", verbosity=0)
    html = client.get("/").content.decode()
    nav = html.split('<nav class="site-nav"', 1)[1].split("</nav>", 1)[0]
    names = [name.strip() for name in re.findall(r"<a [^>]*>([^<]*)</a>", nav)]
    assert "Race reports" in names and "Results &amp; medals" in names
    assert "Results" not in names
    results = client.get(reverse("articles:results")).content.decode()
    assert "<h1>Results &amp; medals</h1>" in results


@pytest.mark.parametrize("name", ["Results", " results ", "RESULTS & MEDALS", "Medals"])
def test_editor_cannot_name_a_section_like_the_results_pages(admin_client, name):
    """A section a reader would take for the results pages is refused with a reason."""
    response = admin_client.post(
        reverse("admin:articles_section_add"), {"name": name, "slug": "", "position": 0}
    )
    assert response.status_code == 200
    assert "Readers would take a section called" in response.content.decode()
    assert not Section.objects.filter(name__iexact=name.strip()).exists()
