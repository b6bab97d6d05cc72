"""An editor writes, previews, schedules and publishes stories in the admin."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from articles.models import Article
from newsroom.admin_base import LocalDateTimeField

from .factories import image_bytes, make_article, make_event, make_section, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(client):
    user = make_user("edna", groups=["Editors"], first_name="Edna", last_name="Editor")
    client.force_login(user)
    return user


def article_form(section, **overrides):
    data = {
        "title": "Fresh from the admin",
        "slug": "fresh-from-the-admin",
        "standfirst": "Written by an editor.",
        "body": "Some **news**.",
        "status": Article.Status.PUBLISHED,
        "published_at_0": "",
        "published_at_1": "",
        "section": section.pk,
        "hero_alt": "",
        "hero_caption": "",
        "hero_credit": "",
    }
    data.update(overrides)
    return data


def test_editor_publishes_a_story_that_readers_then_see(client, editor):
    """An editor's published story is live on the home page with the editor as author."""
    section = make_section()
    add_page = client.get(reverse("admin:articles_article_add"))
    assert add_page.status_code == 200
    assert add_page.context["adminform"].form.initial["author"] == editor.pk
    response = client.post(
        reverse("admin:articles_article_add"), article_form(section, author=editor.pk)
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    article = Article.objects.get(slug="fresh-from-the-admin")
    assert article.author == editor
    assert article.published_at is not None
    client.logout()
    assert "Fresh from the admin" in client.get("/").content.decode()


def test_editor_uploads_a_hero_image_and_gets_renditions(client, editor):
    """A hero upload is stored with WebP renditions, shown with srcset and sizes."""
    section = make_section()
    data = article_form(section, author=editor.pk, hero_alt="A skater")
    data["hero_image"] = SimpleUploadedFile("hero.jpg", image_bytes("JPEG", size=(1000, 500)))
    response = client.post(reverse("admin:articles_article_add"), data)
    assert response.status_code == 302
    article = Article.objects.get(slug="fresh-from-the-admin")
    assert [r["width"] for r in article.hero_renditions] == [480, 800, 1000]
    html = client.get(article.get_absolute_url()).content.decode()
    assert "srcset=" in html and "480w" in html and "sizes=" in html
    assert 'alt="A skater"' in html and 'width="1000"' in html and 'height="500"' in html


def test_hero_image_needs_alt_text(client, editor):
    """An image without alt text is refused next to the alt field."""
    data = article_form(make_section(), author=editor.pk)
    data["hero_image"] = SimpleUploadedFile("hero.jpg", image_bytes("JPEG"))
    response = client.post(reverse("admin:articles_article_add"), data)
    assert response.status_code == 200
    assert "hero_alt" in response.context["adminform"].form.errors


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("hero.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "JPEG, PNG or WebP"),
        ("hero.jpg", image_bytes("PNG"), "content is PNG"),
        ("hero.jpg", image_bytes("JPEG")[:300], "damaged or truncated"),
    ],
)
def test_admin_names_the_reason_an_upload_is_refused(client, editor, name, content, message):
    """The editor sees why the file was refused, not a generic 'corrupted image'."""
    data = article_form(make_section(), author=editor.pk, hero_alt="x")
    data["hero_image"] = SimpleUploadedFile(name, content)
    response = client.post(reverse("admin:articles_article_add"), data)
    assert response.status_code == 200
    assert message in " ".join(response.context["adminform"].form.errors["hero_image"])


def test_bad_upload_is_refused_with_a_clear_message(client, editor):
    """An SVG upload gets a message in the admin, and nothing is saved."""
    data = article_form(make_section(), author=editor.pk, hero_alt="x")
    data["hero_image"] = SimpleUploadedFile(
        "hero.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", content_type="image/svg+xml"
    )
    response = client.post(reverse("admin:articles_article_add"), data)
    assert response.status_code == 200
    assert "hero_image" in response.context["adminform"].form.errors
    assert not Article.objects.filter(slug="fresh-from-the-admin").exists()


def test_scheduled_story_needs_a_time(client, editor):
    """Scheduling without a publish time is explained, not saved."""
    data = article_form(make_section(), author=editor.pk, status=Article.Status.SCHEDULED)
    response = client.post(reverse("admin:articles_article_add"), data)
    assert response.status_code == 200
    assert "published_at" in response.context["adminform"].form.errors


# The night the clocks go back in the site's zone (Europe/Amsterdam): 02:00-03:00 happens twice.
TWICE = {"published_at_0": "2026-10-25", "published_at_1": "02:30:00"}


def test_a_time_that_happens_twice_asks_which_then_schedules_the_one_chosen(client, editor):
    """Scheduling at 02:30 the night the clocks go back asks "first (CEST, +02:00)" or
    "second (CET, +01:00)"; each choice is saved as that moment and shown again as chosen."""
    section = make_section()
    # Published at a past time (a future one would need a date that changes every year).
    data = article_form(section, author=editor.pk, status=Article.Status.PUBLISHED, **TWICE)
    response = client.post(reverse("admin:articles_article_add"), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "happens twice" in str(response.context["adminform"].form.errors["published_at"])
    assert '<option value="first">first (CEST, +02:00)</option>' in html
    assert '<option value="second">second (CET, +01:00)</option>' in html
    assert "Fresh from the admin" in html  # what the editor typed is kept
    for which, utc_hour in [("first", 0), ("second", 1)]:
        slug = f"twice-{which}"
        data = {**data, "slug": slug, "published_at_2": which}
        response = client.post(reverse("admin:articles_article_add"), data)
        assert response.status_code == 302, response.context["adminform"].form.errors
        article = Article.objects.get(slug=slug)
        assert article.published_at == datetime(2026, 10, 25, utc_hour, 30, tzinfo=UTC)
        edit = client.get(reverse("admin:articles_article_change", args=[article.pk]))
        assert f'<option value="{which}" selected>' in edit.content.decode()


def test_a_time_the_clocks_skip_is_refused_with_the_way_out(client, editor):
    """02:30 the night the clocks go forward does not exist: the error says so and offers
    03:30, the same moment after the change; nothing is saved."""
    data = article_form(
        make_section(),
        author=editor.pk,
        status=Article.Status.SCHEDULED,
        published_at_0="2026-03-29",
        published_at_1="02:30",
    )
    response = client.post(reverse("admin:articles_article_add"), data)
    assert response.status_code == 200
    error = str(response.context["adminform"].form.errors["published_at"])
    assert "does not exist" in error and "03:30" in error
    assert not Article.objects.filter(slug=data["slug"]).exists()


def test_an_ordinary_time_needs_no_choice(client, editor):
    """Any other time is saved as typed in the site's zone, with no "which" question."""
    data = article_form(
        make_section(),
        author=editor.pk,
        status=Article.Status.PUBLISHED,
        published_at_0="2026-10-26",
        published_at_1="02:30",
    )
    response = client.post(reverse("admin:articles_article_add"), data)
    assert response.status_code == 302
    article = Article.objects.get(slug=data["slug"])
    assert article.published_at == datetime(2026, 10, 26, 1, 30, tzinfo=UTC)
    edit = client.get(reverse("admin:articles_article_change", args=[article.pk]))
    assert "Which one:" not in edit.content.decode()


def test_an_event_start_that_happens_twice_asks_which_too(client, editor):
    """Every date and time an editor types (here an event's start) gets the same choice."""
    event = make_event()
    response = client.get(reverse("admin:articles_event_change", args=[event.pk]))
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert isinstance(form.fields["starts_at"], LocalDateTimeField)


def test_editor_previews_a_draft_that_readers_cannot_see(client, editor):
    """Preview shows the draft with a notice; the public URL stays 404."""
    draft = make_article(title="Draft story", status=Article.Status.DRAFT)
    preview = client.get(reverse("articles:preview", kwargs={"pk": draft.pk}))
    assert preview.status_code == 200
    assert "Draft story" in preview.content.decode()
    assert "Readers cannot see it yet" in preview.content.decode()
    assert "no-store" in preview["Cache-Control"]
    client.logout()
    assert client.get(draft.get_absolute_url()).status_code == 404
    assert client.get(reverse("articles:preview", kwargs={"pk": draft.pk})).status_code in (
        302,
        403,
    )


def test_publish_and_unpublish_actions(client, editor):
    """Bulk actions publish drafts now and take stories back to draft."""
    draft = make_article(status=Article.Status.DRAFT, published_at=None)
    changelist = reverse("admin:articles_article_changelist")
    client.post(changelist, {"action": "publish", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.is_published
    client.post(changelist, {"action": "unpublish", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.status == Article.Status.DRAFT
    assert client.get(draft.get_absolute_url()).status_code == 404


def test_view_on_site_points_to_preview_for_unpublished(client, editor):
    """'View on site' opens the preview for a story readers cannot see yet."""
    future = make_article(
        status=Article.Status.SCHEDULED, published_at=timezone.now() + timedelta(days=1)
    )
    page = client.get(reverse("admin:articles_article_change", args=[future.pk])).content.decode()
    assert reverse("articles:preview", kwargs={"pk": future.pk}) in page


def test_article_changelist_has_filters_search_and_columns(client, editor):
    """The list shows title, status, section, author and publish time, with search."""
    make_article(title="Findable headline")
    page = client.get(reverse("admin:articles_article_changelist") + "?q=Findable")
    html = page.content.decode()
    assert "Findable headline" in html
    for column in ("status", "section", "author", "published at"):
        assert column in html.lower()


@pytest.mark.parametrize(
    ("group", "url_name", "allowed"),
    [
        ("Editors", "admin:articles_article_add", True),
        ("Editors", "admin:comments_comment_changelist", False),
        ("Moderators", "admin:articles_article_add", False),
        ("Moderators", "admin:comments_comment_changelist", True),
    ],
)
def test_groups_have_exactly_their_permissions(client, group, url_name, allowed):
    """Editors edit articles but not comments; moderators the other way round."""
    client.force_login(make_user(groups=[group]))
    response = client.get(reverse(url_name))
    assert (response.status_code == 200) is allowed
    if not allowed:
        assert response.status_code == 403


def test_moderator_cannot_change_an_article(client):
    """A moderator may look at an article but not save changes to it."""
    article = make_article(title="Untouchable")
    client.force_login(make_user(groups=["Moderators"]))
    url = reverse("admin:articles_article_change", args=[article.pk])
    client.post(url, {"title": "Changed by a moderator"})
    article.refresh_from_db()
    assert article.title == "Untouchable"


def test_groups_migration_is_safe_to_run_again(db):
    """Re-syncing the groups changes nothing and duplicates nothing."""
    from django.apps import apps
    from django.contrib.auth.models import Group

    from newsroom.roles import sync_groups

    def snapshot():
        return {
            group.name: set(group.permissions.values_list("codename", flat=True))
            for group in Group.objects.all()
        }

    before = snapshot()
    sync_groups(apps)
    after = snapshot()
    assert before == after
    assert "view_commenter_email" not in after["Moderators"]
    assert "change_comment" not in after["Editors"]
