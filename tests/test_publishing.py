"""An editor publishes, schedules and unpublishes with explicit buttons, and the admin says
exactly what readers get: the live link, the scheduled time, or that nobody can see it."""

import re
from datetime import UTC, datetime, time, timedelta

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from articles.models import Article
from newsroom import caching
from newsroom.dates import shown

from .factories import make_article, make_section, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(client):
    user = make_user("edna", groups=["Editors"], first_name="Edna", last_name="Editor")
    client.force_login(user)
    return user


def local_parts(moment):
    local = timezone.localtime(moment)
    return {"published_at_0": f"{local:%Y-%m-%d}", "published_at_1": f"{local:%H:%M:%S}"}


def form(section, author, **overrides):
    data = {
        "title": "Fresh from the desk",
        "slug": "fresh-from-the-desk",
        "standfirst": "Written by an editor.",
        "body": "Some **news**.",
        "status": Article.Status.DRAFT,
        "published_at_0": "",
        "published_at_1": "",
        "unpublish_at_0": "",
        "unpublish_at_1": "",
        "section": section.pk,
        "author": author.pk,
        "hero_alt": "",
        "hero_caption": "",
        "hero_credit": "",
    }
    data.update(overrides)
    return data


def said(response):
    return " ".join(str(message) for message in get_messages(response.wsgi_request))


ADD = "admin:articles_article_add"


def test_a_scheduled_time_in_the_past_is_refused_not_published_at_once(client, editor):
    """Status "Scheduled" with a time that has passed used to publish at once without a word:
    now it is refused beside the time, nothing is saved, and readers see nothing."""
    past = timezone.now() - timedelta(hours=2)
    data = form(make_section(), editor, status=Article.Status.SCHEDULED, **local_parts(past))
    response = client.post(reverse(ADD), data)
    assert response.status_code == 200
    error = " ".join(response.context["adminform"].form.errors["published_at"])
    assert "has already passed" in error and "Publish now" in error
    assert not Article.objects.exists()


def test_the_schedule_button_refuses_a_past_time_too(client, editor):
    """Pressing Schedule with a time that has passed is refused the same way."""
    past = timezone.now() - timedelta(minutes=5)
    data = form(make_section(), editor, _schedule="Schedule", **local_parts(past))
    response = client.post(reverse(ADD), data)
    assert response.status_code == 200
    assert "has already passed" in str(response.context["adminform"].form.errors)
    assert not Article.objects.exists()


def test_schedule_says_when_the_story_goes_live(client, editor):
    """Schedule with a future time saves a scheduled story readers cannot see yet, and the
    message gives the time in the site's format."""
    later = (timezone.now() + timedelta(days=1)).replace(second=0, microsecond=0)
    data = form(make_section(), editor, _schedule="Schedule", **local_parts(later))
    response = client.post(reverse(ADD), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    article = Article.objects.get()
    assert article.status == Article.Status.SCHEDULED and article.published_at == later
    assert f"goes live on {shown(later)}" in said(response)
    assert Client().get(article.get_absolute_url()).status_code == 404


def test_publish_now_puts_the_story_live_and_links_to_it(client, editor):
    """Publish now on a draft makes it live at once; the message links to the public page."""
    response = client.post(reverse(ADD), form(make_section(), editor, _publish="Publish now"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    article = Article.objects.get()
    assert article.is_published
    assert f'is live at <a href="http://testserver{article.get_absolute_url()}">' in said(response)
    assert Client().get(article.get_absolute_url()).status_code == 200


def test_publish_now_replaces_a_future_time_with_now(client, editor):
    """A story scheduled for tomorrow, published now, goes live now, not tomorrow."""
    article = make_article(
        author=editor,
        status=Article.Status.SCHEDULED,
        published_at=timezone.now() + timedelta(days=1),
    )
    data = form(
        article.section,
        editor,
        title=article.title,
        slug=article.slug,
        status=article.status,
        _publish="Publish now",
        **local_parts(article.published_at),
    )
    response = client.post(reverse("admin:articles_article_change", args=[article.pk]), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    article.refresh_from_db()
    assert article.is_published and article.published_at <= timezone.now()


def test_unpublish_takes_the_story_off_the_site(client, editor):
    """Unpublish turns a live story back into a draft: its page is gone, the message says so,
    and its first publish time is kept."""
    article = make_article(author=editor)
    first_published = article.published_at
    data = form(
        article.section,
        editor,
        title=article.title,
        slug=article.slug,
        status=article.status,
        _unpublish="Unpublish",
        **local_parts(first_published),
    )
    response = client.post(reverse("admin:articles_article_change", args=[article.pk]), data)
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.status == Article.Status.DRAFT
    assert article.published_at.replace(microsecond=0) == first_published.replace(microsecond=0)
    assert "is a draft: readers cannot see it" in said(response)
    assert Client().get(article.get_absolute_url()).status_code == 404


def test_a_story_whose_scheduled_time_came_can_still_be_edited(client, editor):
    """A scheduled story that has gone live is saved again without a complaint about its
    (unchanged) time."""
    article = make_article(
        author=editor,
        status=Article.Status.SCHEDULED,
        published_at=timezone.now() - timedelta(hours=1),
    )
    data = form(
        article.section,
        editor,
        title="A corrected headline",
        slug=article.slug,
        status=article.status,
        **local_parts(article.published_at),
    )
    response = client.post(reverse("admin:articles_article_change", args=[article.pk]), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert "is live at" in said(response)


def test_the_change_form_offers_the_buttons_that_apply(client, editor):
    """A draft offers Publish now and Schedule; a live story offers Unpublish instead."""
    draft = make_article(author=editor, status=Article.Status.DRAFT, published_at=None)
    live = make_article(author=editor)
    page = client.get(reverse("admin:articles_article_change", args=[draft.pk])).content.decode()
    assert 'name="_publish"' in page and 'name="_schedule"' in page
    assert 'name="_unpublish"' not in page
    page = client.get(reverse("admin:articles_article_change", args=[live.pk])).content.decode()
    assert 'name="_unpublish"' in page and 'name="_publish"' not in page
    # Save stays the first button: Enter in a text box saves, it never publishes.
    buttons = re.findall(r'<input type="submit"[^>]*name="(_\w+)"', page)
    assert buttons[0] == "_save"


def test_a_take_down_time_removes_the_story_by_itself(client, editor):
    """A story whose take-down time has come leaves the site, the listings and the feed
    without anyone acting; the admin list calls it Unpublished."""
    article = make_article(title="Here today", unpublish_at=timezone.now() + timedelta(hours=1))
    assert Client().get(article.get_absolute_url()).status_code == 200
    Article.objects.filter(pk=article.pk).update(unpublish_at=timezone.now())
    assert Client().get(article.get_absolute_url()).status_code == 404
    assert "Here today" not in Client().get("/").content.decode()
    assert "Here today" not in Client().get("/feed/").content.decode()
    article.refresh_from_db()
    assert article.public_status == "Unpublished"
    listing = client.get(reverse("admin:articles_article_changelist")).content.decode()
    assert "Unpublished" in listing


def test_kept_pages_expire_when_a_take_down_time_comes(committed, settings):
    """Kept pages are kept no longer than until the next take-down time (no cron needed)."""
    settings.PAGE_CACHE_SECONDS = 600
    with committed():
        make_article(unpublish_at=timezone.now() + timedelta(seconds=90))
    assert 80 <= caching.keep_seconds(600) <= 90


def test_a_take_down_time_in_the_past_or_before_publishing_is_refused(client, editor):
    """A take-down time that has passed, or one before the publish time, is explained."""
    section = make_section()
    past = timezone.now() - timedelta(hours=1)
    take_down = {f"unpublish_at_{i}": v for i, v in enumerate(local_parts(past).values())}
    response = client.post(reverse(ADD), form(section, editor, _publish="Publish", **take_down))
    assert response.status_code == 302  # publishing again clears a passed take-down time
    assert Article.objects.get().unpublish_at is None
    data = form(section, editor, slug="other", status=Article.Status.PUBLISHED, **take_down)
    response = client.post(reverse(ADD), data)
    assert "has already passed" in str(response.context["adminform"].form.errors["unpublish_at"])
    later = timezone.now() + timedelta(days=2)
    soon = {f"unpublish_at_{i}": v for i, v in enumerate(local_parts(later).values())}
    data = form(section, editor, slug="other", _schedule="Schedule", **soon)
    data.update(local_parts(later + timedelta(days=1)))
    response = client.post(reverse(ADD), data)
    assert "must come after" in str(response.context["adminform"].form.errors["unpublish_at"])


def test_pinning_a_lead_unpins_the_other_and_leads_the_home_page(client, editor):
    """The pinned story leads the home page even when newer ones exist; pinning another
    unpins the first (at most one lead)."""
    older = make_article(title="The pinned one", published_at=timezone.now() - timedelta(days=3))
    newer = make_article(title="The newest one", published_at=timezone.now() - timedelta(minutes=1))
    for story in (older, newer):
        data = form(
            story.section,
            editor,
            title=story.title,
            slug=story.slug,
            status=story.status,
            is_lead="on",
            **local_parts(story.published_at),
        )
        response = client.post(reverse("admin:articles_article_change", args=[story.pk]), data)
        assert response.status_code == 302, response.context["adminform"].form.errors
        home = Client().get("/").content.decode()
        assert home.count("card-lead") == 1
        lead = home.index(story.title)
        other = newer if story is older else older
        assert lead < home.index(other.title), f"{story.title} should lead the home page"
    assert list(Article.objects.filter(is_lead=True)) == [newer]


def test_the_publish_action_keeps_a_first_publish_time(client, editor):
    """The list's Publish action puts a draft live now and an unpublished story back at its
    first publish time; the message links to each story."""
    was_live = make_article(
        status=Article.Status.DRAFT, published_at=timezone.now() - timedelta(days=2)
    )
    changelist = reverse("admin:articles_article_changelist")
    response = client.post(changelist, {"action": "publish", "_selected_action": [was_live.pk]})
    first = was_live.published_at
    was_live.refresh_from_db()
    assert was_live.is_published and was_live.published_at == first
    assert f'<a href="{was_live.get_absolute_url()}">' in said(response)


def test_what_the_sanitiser_drops_from_the_body_is_said_on_save(client, editor):
    """A Markdown image in the body used to vanish from the page without a word: a picture of
    the site's own uploads is shown now, and the save warns about anything still dropped (a
    picture from another host, a script link), naming it; a body that loses nothing gets no
    warning."""
    body = (
        "Before.\n\n![Skater](/media/heroes/skater.jpg)\n\n"
        "![Elsewhere](https://cdn.example/skater.jpg)\n\n[Bad](javascript:alert(1))"
    )
    data = form(make_section(), editor, body=body, _publish="Publish now")
    response = client.post(reverse(ADD), data)
    assert response.status_code == 302
    warning = said(response)
    assert "Readers will not see everything in the body" in warning
    assert "a picture from elsewhere (https://cdn.example/skater.jpg)" in warning
    assert "/media/heroes/skater.jpg" not in warning
    story = Article.objects.get(body=body)
    assert '<img alt="Skater" src="/media/heroes/skater.jpg">' in story.body_html
    assert "the link to javascript:alert(1)" in warning
    client.get(reverse("admin:index"))  # the messages above are shown, then gone
    data = form(make_section(), editor, slug="clean", body="Just **news**.", _publish="Publish")
    assert "Readers will not see" not in said(client.post(reverse(ADD), data))


def test_aligned_table_columns_keep_their_alignment(client):
    """Markdown's column alignment used to be a style the sanitiser dropped: it is kept as
    the align attribute, and nothing is reported removed."""
    from articles.markdown import removed_by_sanitiser, render_markdown

    table = "| Rank | Time |\n|:-:|--:|\n| 1 | 1:12.31 |"
    assert '<td align="right">1:12.31</td>' in render_markdown(table)
    assert removed_by_sanitiser(table) == []


def schedule_action(client, stories, **when):
    changelist = reverse("admin:articles_article_changelist")
    data = {"action": "schedule", "_selected_action": [story.pk for story in stories], **when}
    return client.post(changelist, data)


def when(moment):
    local = timezone.localtime(moment)
    return {"go_live_at_0": f"{local:%Y-%m-%d}", "go_live_at_1": f"{local:%H:%M:%S}"}


def test_the_schedule_action_asks_when_then_schedules_the_stories(client, editor):
    """The list's Schedule action first asks for a time (the stories named), then schedules
    every draft selected; each gets a version, and a story readers see is left as it is."""
    from articles import revisions

    drafts = [make_article(status=Article.Status.DRAFT, published_at=None) for _ in range(2)]
    live = make_article()
    asked = schedule_action(client, [*drafts, live])
    assert asked.status_code == 200
    page = asked.content.decode()
    assert "Go live at" in page and all(story.title in page for story in drafts)
    at = (timezone.now() + timedelta(days=1)).replace(microsecond=0, second=0)
    done = schedule_action(client, [*drafts, live], **when(at))
    assert done.status_code == 302
    for story in drafts:
        story.refresh_from_db()
        assert story.status == Article.Status.SCHEDULED and story.published_at == at
        assert story.public_status == "Scheduled"
        assert revisions.versions_of(story).exists()
    live.refresh_from_db()
    assert live.is_published
    message = said(done)
    assert "Scheduled 2 stories to go live on" in message and "Left as they are" in message


def test_the_schedule_action_refuses_a_time_that_has_passed(client, editor):
    draft = make_article(status=Article.Status.DRAFT, published_at=None)
    refused = schedule_action(client, [draft], **when(timezone.now() - timedelta(hours=1)))
    assert refused.status_code == 400
    assert "has already passed" in refused.content.decode()
    empty = schedule_action(client, [draft], go_live_at_0="", go_live_at_1="")
    assert empty.status_code == 400
    draft.refresh_from_db()
    assert draft.status == Article.Status.DRAFT and draft.published_at is None


def test_moderators_have_no_schedule_action(client):
    client.force_login(make_user("mo", groups=["Moderators"]))
    draft = make_article(status=Article.Status.DRAFT, published_at=None)
    at = timezone.now() + timedelta(days=1)
    schedule_action(client, [draft], **when(at))
    draft.refresh_from_db()
    assert draft.status == Article.Status.DRAFT


def next_time_that_happens_twice():
    """The next local 02:30 that the site's clocks show twice (the autumn change), a naive
    datetime, found from the time zone's own rules (no date that goes stale)."""
    zone = timezone.get_current_timezone()
    day = timezone.localdate() + timedelta(days=1)
    while True:
        moment = datetime.combine(day, time(2, 30))
        first = moment.replace(tzinfo=zone, fold=0)
        second = moment.replace(tzinfo=zone, fold=1)
        if first.utcoffset() > second.utcoffset():  # a fold (a gap has them the other way)
            return moment
        day += timedelta(days=1)


def test_the_schedule_action_asks_which_of_a_time_that_happens_twice(client, editor):
    """Scheduling from the list at 02:30 the night the clocks go back asks which of the two,
    as the story form does; each answer schedules that moment."""
    moment = next_time_that_happens_twice()
    typed = {"go_live_at_0": f"{moment:%Y-%m-%d}", "go_live_at_1": "02:30"}
    draft = make_article(status=Article.Status.DRAFT, published_at=None)
    asked = schedule_action(client, [draft], **typed)
    assert asked.status_code == 400
    page = asked.content.decode()
    assert "happens twice" in page and '<option value="first">' in page
    draft.refresh_from_db()
    assert draft.status == Article.Status.DRAFT
    zone = timezone.get_current_timezone()
    for which, fold in [("first", 0), ("second", 1)]:
        story = make_article(status=Article.Status.DRAFT, published_at=None)
        done = schedule_action(client, [story], **typed, go_live_at_2=which)
        assert done.status_code == 302
        story.refresh_from_db()
        # (an ambiguous local time never equals a time in another zone: compare in UTC)
        assert story.published_at == moment.replace(tzinfo=zone, fold=fold).astimezone(UTC)
