"""An editor's preview shows the story exactly as readers will get it, under a banner that
states its real status; "View on site" opens the public page of a published story."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from articles.models import Article
from newsroom.dates import shown

from .factories import make_article, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(client):
    user = make_user("edna", groups=["Editors"], first_name="Edna", last_name="Editor")
    client.force_login(user)
    return user


def preview(client, article):
    response = client.get(reverse("articles:preview", kwargs={"pk": article.pk}))
    assert response.status_code == 200
    return response.content.decode()


def banner(html):
    return re.sub(r"\s+", " ", re.search(r'class="[^"]*preview-banner.*?</div>', html, re.S)[0])


def test_view_on_site_of_a_published_story_opens_its_public_page(client, editor):
    """A published story's "View on site" is its public URL, not the preview."""
    article = make_article(author=editor)
    page = client.get(reverse("admin:articles_article_change", args=[article.pk]))
    html = page.content.decode()
    assert re.search(
        rf'href="{re.escape(article.get_absolute_url())}"[^>]*class="viewsitelink"', html
    )
    assert reverse("articles:preview", kwargs={"pk": article.pk}) not in html


def test_the_preview_of_a_published_story_says_it_is_live(client, editor):
    """The banner of a published story's preview gives its live address and never says
    readers cannot see it."""
    article = make_article(author=editor)
    text = banner(preview(client, article))
    assert "published" in text and f"http://testserver{article.get_absolute_url()}" in text
    assert "cannot see" not in text


def test_the_preview_of_a_scheduled_story_gives_its_time(client, editor):
    """A scheduled story's banner says when it goes live, in the site's format."""
    at = timezone.now() + timedelta(days=2)
    article = make_article(author=editor, status=Article.Status.SCHEDULED, published_at=at)
    text = banner(preview(client, article))
    assert "scheduled" in text and shown(at) in text and "cannot see it yet" in text


def test_the_preview_of_a_taken_down_story_says_so(client, editor):
    """A story whose take-down time has passed is previewed as unpublished."""
    article = make_article(author=editor, unpublish_at=timezone.now() - timedelta(minutes=1))
    text = banner(preview(client, article))
    assert "unpublished" in text and "Readers cannot see it" in text


def test_a_drafts_preview_has_a_date_and_says_comments_will_be_open(client, editor):
    """A draft without a publish time used to show "By … · · 1 min read" and "Comments are
    closed": now it shows the date it would get and that comments will be open."""
    draft = make_article(author=editor, status=Article.Status.DRAFT, published_at=None)
    html = preview(client, draft)
    meta = re.sub(r"\s+", " ", re.search(r'<p class="meta">(.*?)</p>', html, re.S)[1])
    assert "· ·" not in meta
    assert re.search(r'<time datetime="[^"]+">[^<]+</time>', meta)
    assert "Comments are closed" not in html
    assert "Comments will be open" in html
    assert "draft" in banner(html) and "Readers cannot see it yet" in banner(html)


def test_a_drafts_preview_says_comments_are_closed_when_they_will_be(client, editor):
    """A draft with comments switched off says they are closed."""
    draft = make_article(author=editor, status=Article.Status.DRAFT, comments_closed=True)
    assert "Comments are closed" in preview(client, draft)


def test_the_preview_of_a_published_story_has_its_real_comment_section(client, editor):
    """A published story's preview shows the comment form readers get."""
    article = make_article(author=editor)
    html = preview(client, article)
    assert 'name="body"' in html and "Comments will be open" not in html


PREVIEW_BODY = "admin:articles_article_preview_body"


def test_the_live_preview_renders_the_body_with_the_sites_sanitiser(client, editor):
    """The body preview endpoint answers the Markdown as the page will show it: formatted,
    with whatever the sanitiser removes removed (and named), never kept by a cache."""
    body = "Some **news**.\n\n<script>alert(1)</script>\n\n| a |\n|:-:|\n| 1 |"
    response = client.post(reverse(PREVIEW_BODY), {"body": body})
    assert response.status_code == 200
    html = response.json()["html"]
    assert "<strong>news</strong>" in html and '<td align="center">1</td>' in html
    assert "<script" not in html
    assert response.json()["removed"] == ["a script"]
    assert "no-store" in response["Cache-Control"]


def test_the_live_preview_is_for_editors_only_and_only_by_post(client, editor):
    """GET is 405; a moderator gets 403; a visitor is sent to the login page; a POST without
    the CSRF token is refused."""
    url = reverse(PREVIEW_BODY)
    assert client.get(url).status_code == 405
    client.force_login(make_user(groups=["Moderators"]))
    assert client.post(url, {"body": "x"}).status_code == 403
    client.logout()
    assert client.post(url, {"body": "x"}).status_code == 302
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(editor)
    assert strict.post(url, {"body": "x"}).status_code == 403


def test_the_change_form_names_the_preview_endpoint(client, editor):
    """The body box carries the preview's address for body_preview.js, which the page loads."""
    html = client.get(reverse("admin:articles_article_add")).content.decode()
    assert f'data-preview-url="{reverse(PREVIEW_BODY)}"' in html
    assert "js/body_preview.js" in html
