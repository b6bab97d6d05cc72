"""An editor adds a correction or update to a published story: shown on the page with its
time, raising dateModified, in the JSON-LD as a CorrectionComment and in the feeds; once
added, editors can neither change nor delete it."""

import json
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from articles.models import Article, Correction
from newsroom.dates import machine_time

from .factories import make_article, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(client):
    user = make_user("edna", groups=["Editors"], first_name="Edna", last_name="Editor")
    client.force_login(user)
    return user


def change_form(article, **extra):
    local = timezone.localtime(article.published_at)
    data = {
        "title": article.title,
        "slug": article.slug,
        "standfirst": article.standfirst,
        "body": article.body,
        "status": article.status,
        "published_at_0": f"{local:%Y-%m-%d}",
        "published_at_1": f"{local:%H:%M:%S}",
        "section": article.section_id,
        "author": article.author_id,
        "corrections-TOTAL_FORMS": "0",
        "corrections-INITIAL_FORMS": "0",
    }
    data.update(extra)
    return data


def add_note(client, article, kind, text, *, existing=0):
    data = change_form(
        article,
        **{
            "corrections-TOTAL_FORMS": str(existing + 1),
            "corrections-INITIAL_FORMS": str(existing),
            f"corrections-{existing}-kind": kind,
            f"corrections-{existing}-text": text,
        },
    )
    for n, note in enumerate(article.corrections.all()):
        data[f"corrections-{n}-id"] = note.pk
        data[f"corrections-{n}-article"] = article.pk
    return client.post(reverse("admin:articles_article_change", args=[article.pk]), data)


def json_ld(html):
    return json.loads(re.search(r'application/ld\+json">(.*?)</script>', html, re.S)[1])


def test_a_correction_shows_everywhere_readers_look(client, editor):
    """Added in the admin, a correction is on the page with its time, in the JSON-LD as a
    CorrectionComment, raises dateModified, and is in the RSS and Atom items' content."""
    article = make_article(author=editor, title="Leerdam wins")
    article.refresh_from_db()
    before = article.last_modified
    response = add_note(client, article, "correction", "An earlier version gave 1:12.13.")
    assert response.status_code == 302, response.context["adminform"].form.errors
    note = Correction.objects.get()
    assert note.created_by == editor
    html = Client().get(article.get_absolute_url()).content.decode()
    assert "Corrections and updates" in html
    assert "An earlier version gave 1:12.13." in html
    assert f'<time datetime="{machine_time(note.created_at)}">' in html
    data = json_ld(html)
    assert data["correction"] == [
        {
            "@type": "CorrectionComment",
            "text": "An earlier version gave 1:12.13.",
            "datePublished": machine_time(note.created_at),
        }
    ]
    article.refresh_from_db()
    assert article.last_modified > before
    assert data["dateModified"] >= machine_time(note.created_at)
    for feed in ("/feed/", "/feed/atom/"):
        assert "An earlier version gave 1:12.13." in Client().get(feed).content.decode()


def test_notes_are_append_only_for_editors(client, editor):
    """An existing note cannot be changed or deleted through the admin by an editor; a second
    one is added beside it."""
    article = make_article(author=editor)
    Correction.objects.create(article=article, text="First note.")
    data = change_form(
        article,
        **{
            "corrections-TOTAL_FORMS": "1",
            "corrections-INITIAL_FORMS": "1",
            "corrections-0-id": Correction.objects.get().pk,
            "corrections-0-article": article.pk,
            "corrections-0-kind": "update",
            "corrections-0-text": "Edited away.",
            "corrections-0-DELETE": "on",
        },
    )
    client.post(reverse("admin:articles_article_change", args=[article.pk]), data)
    assert list(Correction.objects.values_list("text", "kind")) == [("First note.", "correction")]
    assert add_note(client, article, "update", "Second note.", existing=1).status_code == 302
    assert list(Correction.objects.values_list("text", flat=True)) == [
        "First note.",
        "Second note.",
    ]
    page = client.get(reverse("admin:articles_article_change", args=[article.pk])).content.decode()
    assert 'name="corrections-0-text"' not in page  # shown, not editable
    assert 'name="corrections-0-DELETE"' not in page


def test_notes_are_added_to_published_stories_only(client, editor):
    """A draft offers no correction form: there is nothing public to correct yet."""
    draft = make_article(author=editor, status=Article.Status.DRAFT, published_at=None)
    page = client.get(reverse("admin:articles_article_change", args=[draft.pk])).content.decode()
    assert "corrections-TOTAL_FORMS" in page  # the inline is there, with no room to add
    assert 'name="corrections-0-text"' not in page
    published = make_article(author=editor)
    page = client.get(reverse("admin:articles_article_change", args=[published.pk]))
    assert "Add another Correction or update" in page.content.decode()


def test_a_note_purges_the_kept_story(committed, settings):
    """A note added to a kept story shows at once (its tags are purged)."""
    settings.PAGE_CACHE_SECONDS = 600
    with committed():
        article = make_article(published_at=timezone.now() - timedelta(days=1))
    reader = Client()
    assert "Updated transfer" not in reader.get(article.get_absolute_url()).content.decode()
    with committed():
        Correction.objects.create(article=article, kind="update", text="Updated transfer.")
    assert "Updated transfer." in reader.get(article.get_absolute_url()).content.decode()
