"""The editors' desk: nothing an editor chose or typed is lost in the article admin (uploads kept
across form errors, autosave, two editors on one story) and every save keeps a revision."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from articles.models import Article
from newsroom import uploads

from .factories import image_bytes, make_article, make_section, make_user, media_files

pytestmark = pytest.mark.django_db

ADD = reverse("admin:articles_article_add")


@pytest.fixture
def editor(client):
    user = make_user("editor", groups=["Editors"])
    client.force_login(user)
    client.user = user
    return client


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


def test_another_users_or_a_forged_token_takes_nothing(editor):
    """A kept upload belongs to the editor who chose it: another editor's token, or a forged
    one, brings no file."""
    form = story_form(editor.user, hero_image=SimpleUploadedFile("a.png", image_bytes("PNG")))
    token = kept_token(editor.post(ADD, form))
    other = make_user("other", groups=["Editors"])
    client = Client()
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


def test_the_media_view_never_serves_a_stash(editor, settings):
    """Stashes have no extension: /media/ answers 404 for them."""
    form = story_form(editor.user, hero_image=SimpleUploadedFile("a.png", image_bytes("PNG")))
    editor.post(ADD, form)
    (stash,) = media_files(settings)
    assert Client().get(f"/media/{stash}").status_code == 404


def test_an_existing_hero_is_not_replaced_by_nothing(editor):
    """Changing a story with a hero, with an error, offers no kept file (nothing new chosen)."""
    article = make_article(author=editor.user)
    url = reverse("admin:articles_article_change", args=[article.pk])
    response = editor.post(url, story_form(editor.user, title=""))
    assert response.status_code == 200
    assert "Keeping" not in response.content.decode()


# Two editors on one story: a save over a newer save is refused, both versions shown.


def change_url(article):
    return reverse("admin:articles_article_change", args=[article.pk])


def change_form(article, **fields):
    """The change form of `article` as its page offers it (with the version it was opened at)."""
    data = story_form(
        article.author,
        title=article.title,
        slug=article.slug,
        standfirst=article.standfirst,
        body=article.body,
        status=article.status,
        section=article.section_id,
        published_at_0="",
        published_at_1="",
        desk_version=str(article.desk_version),
    )
    data.update(fields)
    return data


def test_a_save_over_a_newer_save_is_refused_with_both_versions(editor):
    """Maria saves while the editor types: the editor's save is refused, naming Maria, with
    her version shown and the editor's text kept in the form; saving again then replaces it."""
    article = make_article(author=editor.user, status=Article.Status.DRAFT, published_at=None)
    opened = change_form(article, body="The editor's own body.")
    maria = make_user("maria", groups=["Editors"], first_name="Maria", last_name="Jansen")
    client = Client()
    client.force_login(maria)
    assert (
        client.post(change_url(article), change_form(article, body="Maria's body.")).status_code
        == 302
    )
    refused = editor.post(change_url(article), opened)
    assert refused.status_code == 200
    page = refused.content.decode()
    assert "Maria Jansen saved this story at" in page
    assert "Maria&#x27;s body." in page  # theirs, shown
    assert "The editor&#x27;s own body." in page  # yours, kept in the form
    article.refresh_from_db()
    assert article.body == "Maria's body."
    token = re.search(r'name="desk_version" value="([^"]+)"', page).group(1)
    saved = editor.post(change_url(article), {**opened, "desk_version": token})
    assert saved.status_code == 302
    article.refresh_from_db()
    assert article.body == "The editor's own body."


def test_another_editor_on_the_page_is_named(editor):
    """Opening a story someone else has open names them (their username without a full name)."""
    article = make_article()
    client = Client()
    client.force_login(make_user("kees", groups=["Editors"]))
    client.get(change_url(article))
    page = editor.get(change_url(article)).content.decode()
    assert "Also editing this story now: kees." in page
    beat = editor.post(reverse("admin:articles_article_presence", args=[article.pk]))
    assert beat.json() == {"others": ["kees"]}


def test_an_editor_who_leaves_is_no_longer_named(editor):
    """The leave the page sends as it goes (a beacon on pagehide) takes the editor off the
    list at once; the others' heartbeats no longer name them."""
    article = make_article()
    kees = Client()
    kees.force_login(make_user("kees", groups=["Editors"]))
    kees.get(change_url(article))
    presence = reverse("admin:articles_article_presence", args=[article.pk])
    assert editor.post(presence).json() == {"others": ["kees"]}
    assert kees.post(presence, {"leave": "1"}).json() == {"others": []}
    assert editor.post(presence).json() == {"others": []}


# Autosave: stored per story and editor, never touching the story, offered back.


def test_autosave_keeps_the_text_and_offers_it_back(editor):
    """Typing sends the text; the story is unchanged; reopening offers the text back."""
    article = make_article(author=editor.user)
    url = reverse("admin:articles_article_autosave", args=[article.pk])
    answer = editor.post(url, {"title": "Typed title", "body": "Typed body."})
    assert answer.status_code == 200 and answer.json()["saved_at"]
    article.refresh_from_db()
    assert article.body != "Typed body."
    page = editor.get(change_url(article)).content.decode()
    assert "Restore autosaved text from" in page
    restored = editor.get(change_url(article) + "?autosave=restore").content.decode()
    assert "Typed body.</textarea>" in restored
    assert "Restore autosaved text" not in restored
    editor.post(change_url(article), change_form(article, body="Saved body."))
    assert "Restore autosaved text" not in editor.get(change_url(article)).content.decode()


def test_autosave_needs_the_right_to_change_the_story(client):
    """A moderator (view only) cannot autosave into a story; a GET is refused."""
    article = make_article()
    client.force_login(make_user(groups=["Moderators"]))
    url = reverse("admin:articles_article_autosave", args=[article.pk])
    assert client.post(url, {"body": "x"}).status_code == 403
    assert client.get(url).status_code in (403, 405)


def test_autosave_of_a_new_story(editor):
    """The add page autosaves too, and offers the text back when the editor returns."""
    url = reverse("admin:articles_article_autosave", args=["add"])
    assert editor.post(url, {"title": "A new one", "body": "Draft words."}).status_code == 200
    assert "Restore autosaved text from" in editor.get(ADD).content.decode()
    assert "Draft words.</textarea>" in editor.get(ADD + "?autosave=restore").content.decode()


# Revisions.


def test_every_save_keeps_a_version_and_two_compare(editor):
    """Two saves, two versions; the comparison shows the words removed and added."""
    from articles import revisions

    editor.post(ADD, story_form(editor.user, body="The first words."))
    article = Article.objects.get()
    editor.post(change_url(article), change_form(article, body="The second words."))
    versions = list(revisions.versions_of(article))
    assert len(versions) == 2
    assert versions[0].revision.user == editor.user
    history = editor.get(reverse("admin:articles_article_history", args=[article.pk]))
    assert "Compare the chosen versions" in history.content.decode()
    compare = editor.get(
        reverse("admin:articles_article_compare", args=[article.pk]),
        {"older": versions[1].pk, "newer": versions[0].pk},
    )
    assert "<del>first</del><ins>second</ins>" in compare.content.decode()


def test_publish_and_unpublish_actions_keep_versions(editor):
    """The list's actions keep a version of each story they change."""
    from articles import revisions

    article = make_article(status=Article.Status.DRAFT, published_at=None)
    changelist = reverse("admin:articles_article_changelist")
    for action in ("publish", "unpublish"):
        editor.post(changelist, {"action": action, "_selected_action": [article.pk]})
    versions = list(revisions.versions_of(article))
    assert [v.field_dict["status"] for v in versions] == ["draft", "published"]
    assert "Publish" in versions[1].revision.get_comment()
    # The admin's log (the history page's "Admin log") has one entry per action too.
    from django.contrib.admin.models import LogEntry

    logged = LogEntry.objects.filter(object_id=str(article.pk)).order_by("pk")
    assert [entry.get_change_message()[:9] for entry in logged] == ["Publish s", "Unpublish"]


def test_restore_is_a_new_version_and_keeps_the_publish_time(
    editor, django_capture_on_commit_callbacks
):
    """Restoring brings back the old words as a new version, leaves status and publish time,
    and purges the story's pages as any save does."""
    from articles import revisions
    from newsroom.caching import tag_for

    article = make_article(author=editor.user)
    editor.post(change_url(article), change_form(article, body="Old words."))
    article.refresh_from_db()
    editor.post(change_url(article), change_form(article, body="New words."))
    article.refresh_from_db()
    published_at = article.published_at
    old = list(revisions.versions_of(article))[-1]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = editor.post(reverse("admin:articles_article_restore", args=[article.pk, old.pk]))
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.body == "Old words."
    assert article.published_at == published_at
    assert article.status == Article.Status.PUBLISHED
    assert len(revisions.versions_of(article)) == 3
    assert callbacks, "no purge was announced after the restore"
    assert tag_for(article)
    assert (
        editor.get(reverse("admin:articles_article_restore", args=[article.pk, old.pk])).status_code
        == 405
    )


def test_comparing_without_two_versions_says_so(editor):
    """A comparison asked for without two versions of this story goes back to the history."""
    article = make_article()
    url = reverse("admin:articles_article_compare", args=[article.pk])
    for query in ({}, {"older": "x", "newer": "1"}, {"older": 999, "newer": 998}):
        response = editor.get(url, query, follow=True)
        assert response.status_code == 200
        assert "Choose two versions of this story to compare." in response.content.decode()


def test_restoring_a_version_whose_section_is_gone_keeps_the_current_one(editor):
    """A version naming a section deleted since restores its words; the section stays."""
    from articles import revisions

    old_section = make_section()
    article = make_article(section=old_section, body="Old words.")
    revisions.record([article], user=editor.user, comment="First")
    current = article.section = make_section()
    article.body = "New words."
    article.save()
    old_section.delete()
    version = revisions.versions_of(article).get()
    revisions.restore(article, version, user=editor.user)
    article.refresh_from_db()
    assert article.body == "Old words." and article.section == current


def test_live_coverage_while_the_story_is_open_is_no_edit_conflict(editor, committed):
    """Coverage started and entries posted (both move the story's updated_at) while an editor
    has the story open: their save goes through, nothing refused, their words kept."""
    from articles import live

    from .factories import make_live_entry

    article = make_article(author=editor.user)
    opened = change_form(article, body="Mine.")
    with committed():
        live.start_coverage(article)
        make_live_entry(article=article)
        Article.objects.filter(pk=article.pk).update(updated_at=timezone.now())
    saved = editor.post(change_url(article), opened)
    assert saved.status_code == 302
    article.refresh_from_db()
    assert article.body == "Mine." and article.live_started_at is not None


def test_a_publishing_action_while_the_story_is_open_is_a_conflict(editor):
    """An action (Unpublish) taken while an editor has the story open moves its desk version:
    their save is refused rather than silently putting the old status back."""
    article = make_article(author=editor.user)
    opened = change_form(article, body="Mine.")
    changelist = reverse("admin:articles_article_changelist")
    editor.post(changelist, {"action": "unpublish", "_selected_action": [article.pk]})
    page = editor.post(change_url(article), opened).content.decode()
    assert "saved this story at" in page
    article.refresh_from_db()
    assert article.status == Article.Status.DRAFT and article.body != "Mine."


@pytest.mark.parametrize("story_id", ["abc", "4%00", "99999999", "-1"])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "{}/autosave/"),
        ("post", "{}/presence/"),
        ("post", "{}/history/1/restore/"),
        ("get", "{}/history/compare/?older=1&newer=2"),
        ("get", "{}/history/"),
    ],
)
def test_a_story_id_that_names_no_story_is_404_on_every_desk_page(editor, method, path, story_id):
    """The desk's own pages answer an id that is no story's, a number or not, with a 404."""
    response = getattr(editor, method)(f"/admin/articles/article/{path.format(story_id)}")
    assert response.status_code == 404
