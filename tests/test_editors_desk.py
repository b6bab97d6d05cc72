"""The editors' desk: nothing an editor chose or typed is lost in the article admin (uploads kept
across form errors, autosave, two editors on one story) and every save keeps a revision."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from articles.models import Article
from newsroom import uploads

from .factories import image_bytes, make_article, make_section, make_user

pytestmark = pytest.mark.django_db

ADD = reverse("admin:articles_article_add")


@pytest.fixture
def editor(client):
    user = make_user("editor", groups=["Editors"])
    client.force_login(user)
    client.user = user
    return client


def media_files(settings):
    root = settings.MEDIA_ROOT
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def story_form(user, **fields):
    return {
        "title": "Gold on the last lap",
        "slug": "",
        "standfirst": "A finish nobody will forget.",
        "body": "Typed for an hour.",
        "status": Article.Status.DRAFT,
        "section": make_section().pk,
        "author": user.pk,
        "hero_alt": "",
        "hero_caption": "",
        "hero_credit": "",
        **fields,
    }


def kept_token(response):
    match = re.search(r'name="hero_image__kept" value="([^"]+)"', response.content.decode())
    assert match, "no kept upload offered"
    return match.group(1)


def test_a_hero_chosen_before_an_error_is_kept_and_saved_with_the_story(
    editor, settings, django_capture_on_commit_callbacks
):
    """Forgetting the alt text keeps the chosen picture; fixing it saves the story with it, and
    no stashed copy is left in MEDIA_ROOT."""
    photo = SimpleUploadedFile("skater.jpg", image_bytes("JPEG"), "image/jpeg")
    form = story_form(editor.user, hero_image=photo)
    first = editor.post(ADD, form)
    assert first.status_code == 200
    assert first.context["adminform"].form.errors["hero_alt"]
    assert "Keeping <strong>skater.jpg</strong>; choose another to replace it." in (
        first.content.decode()
    )
    form.pop("hero_image")
    form.update(hero_alt="A skater crossing the line", hero_image__kept=kept_token(first))
    with django_capture_on_commit_callbacks(execute=True):
        second = editor.post(ADD, form)
    assert second.status_code == 302
    article = Article.objects.get()
    assert article.hero_renditions and article.hero_image.name.endswith(".jpg")
    stored = {article.hero_image.name, *(r["name"] for r in article.hero_renditions)}
    assert set(media_files(settings)) == stored  # the stash is gone once the save committed


def test_a_kept_hero_survives_a_second_error_too(editor):
    """The same kept picture is offered again after another error, not stashed twice."""
    form = story_form(editor.user, hero_image=SimpleUploadedFile("a.png", image_bytes("PNG")))
    token = kept_token(editor.post(ADD, form))
    form.pop("hero_image")
    again = editor.post(ADD, {**form, "hero_image__kept": token, "title": ""})
    assert "Keeping <strong>a.png</strong>" in again.content.decode()


def test_a_refused_upload_is_not_kept(editor, settings):
    """A file its own field refuses is an error beside it and never stashed."""
    svg = SimpleUploadedFile("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"/>')
    response = editor.post(ADD, story_form(editor.user, hero_image=svg))
    assert response.context["adminform"].form.errors["hero_image"]
    assert "Keeping" not in response.content.decode()
    assert media_files(settings) == []


def test_another_users_or_a_forged_token_takes_nothing(editor, client):
    """A kept upload belongs to the editor who chose it: another editor's token, or a forged
    one, brings no file."""
    form = story_form(editor.user, hero_image=SimpleUploadedFile("a.png", image_bytes("PNG")))
    token = kept_token(editor.post(ADD, form))
    other = make_user("other", groups=["Editors"])
    client.force_login(other)
    form.pop("hero_image")
    for forged in (token, token[:-2] + "xx"):
        response = client.post(
            ADD, {**form, "author": other.pk, "hero_alt": "Alt", "hero_image__kept": forged}
        )
        assert response.status_code == 302
        assert not Article.objects.get().hero_image
        Article.objects.all().delete()


def test_stashes_never_used_are_swept(editor, settings):
    """A kept upload whose form is never sent again is deleted once older than the limit."""
    form = story_form(editor.user, hero_image=SimpleUploadedFile("a.png", image_bytes("PNG")))
    editor.post(ADD, form)
    assert [name for name in media_files(settings) if name.startswith("kept/")]
    settings.KEPT_UPLOAD_MAX_AGE = -1
    uploads.sweep()
    assert media_files(settings) == []


def test_the_media_view_never_serves_a_stash(editor, client, settings):
    """Stashes have no extension: /media/ answers 404 for them."""
    form = story_form(editor.user, hero_image=SimpleUploadedFile("a.png", image_bytes("PNG")))
    editor.post(ADD, form)
    (stash,) = media_files(settings)
    assert client.get(f"/media/{stash}").status_code == 404


def test_an_existing_hero_is_not_replaced_by_nothing(editor):
    """Changing a story with a hero, with an error, offers no kept file (nothing new chosen)."""
    article = make_article(author=editor.user)
    url = reverse("admin:articles_article_change", args=[article.pk])
    response = editor.post(url, story_form(editor.user, title=""))
    assert response.status_code == 200
    assert "Keeping" not in response.content.decode()
