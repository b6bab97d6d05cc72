"""Changing a published story's slug keeps every address it had answering with a 301 to the
current one, without chains, and the admin says so."""

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from articles.models import Article, OldLink

from .factories import make_article, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(client):
    client.force_login(make_user("edna", groups=["Editors"]))
    return client


def rename(client, article, slug):
    local = timezone.localtime(article.published_at) if article.published_at else None
    data = {
        "title": article.title,
        "slug": slug,
        "standfirst": article.standfirst,
        "body": article.body,
        "status": article.status,
        "published_at_0": f"{local:%Y-%m-%d}" if local else "",
        "published_at_1": f"{local:%H:%M:%S}" if local else "",
        "unpublish_at_0": "",
        "unpublish_at_1": "",
        "section": article.section_id,
        "author": article.author_id,
        "hero_alt": "",
        "hero_caption": "",
        "hero_credit": "",
    }
    response = client.post(reverse("admin:articles_article_change", args=[article.pk]), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    article.refresh_from_db()
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


def test_a_renamed_story_answers_its_old_address_with_a_301(editor):
    """The old address used to be a 404: now it is a permanent redirect to the new one, and
    the admin message says the old address keeps working."""
    article = make_article(slug="leerdam-wins")
    said = rename(editor, article, "leerdam-wins-gold")
    assert "/stories/leerdam-wins/ keeps working" in said
    response = Client().get("/stories/leerdam-wins/")
    assert response.status_code == 301
    assert response["Location"] == "/stories/leerdam-wins-gold/"
    assert Client().get("/stories/leerdam-wins-gold/").status_code == 200


def test_every_earlier_address_goes_straight_to_the_current_one(editor):
    """A -> B -> C: both A and B answer with one 301 to C (no chain); going back to a slug
    it had serves the story there again."""
    article = make_article(slug="a-story")
    rename(editor, article, "b-story")
    rename(editor, article, "c-story")
    for old in ("/stories/a-story/", "/stories/b-story/"):
        response = Client().get(old)
        assert (response.status_code, response["Location"]) == (301, "/stories/c-story/")
    rename(editor, article, "a-story")
    assert Client().get("/stories/a-story/").status_code == 200
    assert Client().get("/stories/c-story/")["Location"] == "/stories/a-story/"
    assert not OldLink.objects.filter(path="/stories/a-story/").exists()


def test_renaming_a_draft_keeps_no_redirect(editor):
    """A draft was never public: its old slug is simply free again."""
    draft = make_article(slug="draft-one", status=Article.Status.DRAFT)
    said = rename(editor, draft, "draft-two")
    assert "keeps working" not in said
    assert not OldLink.objects.exists()
    assert Client().get("/stories/draft-one/").status_code == 404


def test_an_unpublished_story_is_not_revealed_by_its_old_address(editor):
    """Once the story is taken back to draft its old address is a 404 again, not a redirect
    to a page nobody may see."""
    article = make_article(slug="first-name")
    rename(editor, article, "second-name")
    Article.objects.filter(pk=article.pk).update(status=Article.Status.DRAFT)
    assert Client().get("/stories/first-name/").status_code == 404


def test_a_slug_changed_back_loops_nowhere_and_no_browser_keeps_the_redirect(editor):
    """A -> B -> A -> B: each address either shows the story or sends straight to it, never to
    itself; the 301 tells browsers to keep nothing and names the story's tag, so the front
    cache drops the A -> B redirect when the story moves back to A."""
    from newsroom.caching import frontcache, tag_for

    article = make_article(slug="a-story")
    rename(editor, article, "b-story")
    rename(editor, article, "a-story")
    moved = Client().get("/stories/b-story/")
    assert (moved.status_code, moved["Location"]) == (301, "/stories/a-story/")
    assert "max-age=0" in moved["Cache-Control"] and "s-maxage=" in moved["Cache-Control"]
    assert tag_for(article) in moved[frontcache.purger().tag_header]
    assert Client().get("/stories/a-story/").status_code == 200
    rename(editor, article, "b-story")
    assert Client().get("/stories/b-story/").status_code == 200
    assert Client().get("/stories/a-story/")["Location"] == "/stories/b-story/"
    assert set(OldLink.objects.values_list("path", flat=True)) == {"/stories/a-story/"}


def test_an_old_link_at_the_storys_own_address_never_redirects_to_itself(editor):
    """A draft taken back to an address it once had (no redirect kept for drafts) releases
    it; and a stale link pointing at its own address is never answered with a 301."""
    article = make_article(slug="first-name")
    rename(editor, article, "second-name")
    Article.objects.filter(pk=article.pk).update(status=Article.Status.DRAFT)
    article.refresh_from_db()
    rename(editor, article, "first-name")
    assert not OldLink.objects.filter(path="/stories/first-name/").exists()
    OldLink.objects.create(path="/stories/first-name/", article=article)  # stale, by hand
    Article.objects.filter(pk=article.pk).update(status=Article.Status.PUBLISHED)
    from articles import redirects

    assert redirects.redirect_for("/stories/first-name/") is None
    assert Client().get("/stories/first-name/").status_code == 200
