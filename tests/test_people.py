"""Readers see people's display names, never a login name: on bylines (several authors, in
order, each linked to an author page), in structured data and feeds, and on staff replies."""

import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from articles.models import Article, Author, Byline
from comments import services

from .factories import make_article, make_comment, make_user

pytestmark = pytest.mark.django_db


def byline(html):
    return re.sub(r"<[^>]+>", "", re.search(r'<span class="byline">(.*?)</span>', html, re.S)[1])


def test_a_login_name_never_shows_on_a_byline(client):
    """An account with neither a profile nor a name used to show "By editor"."""
    article = make_article(author=make_user("editor"))
    html = Client().get(article.get_absolute_url()).content.decode()
    assert byline(html) == "Newsroom staff"
    assert "editor" not in byline(html)
    ld = json.loads(re.search(r'application/ld\+json">(.*?)</script>', html, re.S)[1])
    assert ld["author"] == [{"@type": "Person", "name": "Newsroom staff"}]


def test_a_staff_reply_never_shows_a_login_name():
    """A moderator's reply used to be signed "moderator · Staff": now by their display name."""
    moderator = make_user("moderator", groups=["Moderators"])
    parent = make_comment()
    reply = services.staff_reply(parent=parent, body="Thanks!", by=moderator)
    assert reply.name == "Newsroom staff"
    Author.objects.create(user=moderator, name="Mo Jansen")
    moderator.refresh_from_db()
    assert services.staff_reply(parent=parent, body="Again", by=moderator).name == "Mo Jansen"


def test_several_authors_in_order_each_linked_to_their_page():
    """A story names its authors in the byline's order, each linked to their author page,
    in the page, the JSON-LD and the feed."""
    article = make_article(title="A joint report")
    first = Author.objects.create(user=make_user(), name="Anna de Boer")
    second = Author.objects.create(user=make_user(), name="Jan Smit")
    third = Author.objects.create(user=make_user(), name="Kim Bakker")
    for position, author in enumerate([second, first, third]):
        Byline.objects.create(article=article, author=author, position=position)
    html = Client().get(article.get_absolute_url()).content.decode()
    assert byline(html) == "Jan Smit, Anna de Boer and Kim Bakker"
    assert f'<a href="/authors/{second.slug}/" rel="author">Jan Smit</a>' in html
    ld = json.loads(re.search(r'application/ld\+json">(.*?)</script>', html, re.S)[1])
    assert [person["name"] for person in ld["author"]] == ["Jan Smit", "Anna de Boer", "Kim Bakker"]
    assert ld["author"][0]["url"] == f"http://testserver/authors/{second.slug}/"
    feed = Client().get("/feed/").content.decode()
    assert "Jan Smit, Anna de Boer and Kim Bakker" in feed


def test_the_author_page_lists_their_published_stories(client):
    """/authors/<slug>/ has a readable slug and lists their published stories only, credited
    by byline or written by them with no byline."""
    user = make_user()
    author = Author.objects.create(user=user, name="Søren Kragh")
    assert author.slug == "soren-kragh"
    credited = make_article(title="Credited story")
    Byline.objects.create(article=credited, author=author)
    written = make_article(title="Written story", author=user)
    make_article(title="Their draft", author=user, status=Article.Status.DRAFT)
    make_article(title="Somebody else's")
    html = Client().get("/authors/soren-kragh/").content.decode()
    assert "Credited story" in html and "Written story" in html
    assert "Their draft" not in html and "Somebody else" not in html
    assert "<h1>Søren Kragh</h1>" in html
    assert written.credits[0] == author
    assert Client().get("/authors/nobody/").status_code == 404


def test_renaming_an_author_purges_their_pages(committed, settings):
    """A renamed author shows at once on their stories and their page (cache tags)."""
    settings.PAGE_CACHE_SECONDS = 600
    with committed():
        author = Author.objects.create(user=make_user(), name="Old Name")
        article = make_article()
        Byline.objects.create(article=article, author=author)
    reader = Client()
    for url in (article.get_absolute_url(), author.get_absolute_url(), "/feed/"):
        assert "Old Name" in reader.get(url).content.decode()
    with committed():
        author.name = "New Name"
        author.save()
    for url in (article.get_absolute_url(), author.get_absolute_url(), "/feed/"):
        page = reader.get(url).content.decode()
        assert "New Name" in page and "Old Name" not in page, url


def test_a_new_story_is_credited_to_its_writer_with_an_author_page(client):
    """Saved in the admin with nobody on the byline, a story credits the editor who wrote it,
    under their display name, linked to their new author page."""
    editor = make_user("edna", groups=["Editors"], first_name="Edna", last_name="Editor")
    client.force_login(editor)
    story = make_article(author=editor, status=Article.Status.DRAFT)
    data = {
        "title": story.title,
        "slug": story.slug,
        "standfirst": story.standfirst,
        "body": story.body,
        "status": "draft",
        "section": story.section_id,
        "author": editor.pk,
        "bylines-TOTAL_FORMS": "0",
        "bylines-INITIAL_FORMS": "0",
    }
    response = client.post(reverse("admin:articles_article_change", args=[story.pk]), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert [byline.author.name for byline in story.bylines.all()] == ["Edna Editor"]
    assert story.bylines.get().author.get_absolute_url() == "/authors/edna-editor/"


def test_each_person_edits_their_own_author_profile_only(client):
    """An editor changes their own display name; someone else's is read-only (403 on POST);
    a superuser may change anyone's."""
    editor = make_user(groups=["Editors"])
    mine = Author.objects.create(user=editor, name="Me")
    theirs = Author.objects.create(user=make_user(), name="Them")
    client.force_login(editor)
    url = reverse("admin:articles_author_change", args=[mine.pk])
    response = client.post(url, {"name": "Me Myself", "slug": "me-myself", "bio": ""})
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.name == "Me Myself"
    url = reverse("admin:articles_author_change", args=[theirs.pk])
    assert client.post(url, {"name": "Hacked", "slug": "hacked", "bio": ""}).status_code == 403
    theirs.refresh_from_db()
    assert theirs.name == "Them"
    client.force_login(make_user(is_superuser=True))
    client.post(url, {"user": theirs.user_id, "name": "Renamed", "slug": "them", "bio": ""})
    theirs.refresh_from_db()
    assert theirs.name == "Renamed"
