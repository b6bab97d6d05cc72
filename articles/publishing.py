"""What the article admin's publishing buttons do, and what the admin tells the editor after a
save: the live link, the scheduled time, or that readers cannot see the story.

The buttons are plain submit buttons named `_publish`, `_schedule` and `_unpublish` (they work
without JavaScript); the status select does the same for whoever prefers it. Either way a
scheduled time that has already passed is refused: saving it would publish at once, silently.
"""

from django.contrib import messages
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from newsroom.dates import shown

from .models import Article

# The change form's buttons (their `name`) -> what the editor asked for.
INTENTS = {"_publish": "publish", "_schedule": "schedule", "_unpublish": "unpublish"}


def intent(data):
    """ "publish", "schedule", "unpublish" or None: the button a POST (`data`) was sent with."""
    return next((value for name, value in INTENTS.items() if name in data), None)


def settle(form, wanted):
    """Applies the button `wanted` (see intent()) to a bound article form's cleaned_data and
    adds an error beside the field that makes it impossible:

    - publish: published now (a story that was live before keeps its first publish time; a
      take-down time that has passed is cleared);
    - schedule: needs a publish time in the future;
    - unpublish: back to draft (its publish time is kept for a later "Publish now").

    A scheduled time or take-down time that is set or changed in this save must be in the
    future, whichever way the story was saved."""
    data, now = form.cleaned_data, timezone.now()
    at, take_down = data.get("published_at"), data.get("unpublish_at")
    if wanted == "publish":
        data["status"] = Article.Status.PUBLISHED
        if at is None or at > now:
            data["published_at"] = at = now
        if take_down and take_down <= now:
            data["unpublish_at"] = take_down = None
    elif wanted == "schedule":
        data["status"] = Article.Status.SCHEDULED
    elif wanted == "unpublish":
        data["status"] = Article.Status.DRAFT
    changed = set(form.changed_data) | ({"status"} if wanted else set())
    if data.get("status") == Article.Status.SCHEDULED and changed & {"status", "published_at"}:
        if at is None and "published_at" not in form.errors:
            form.add_error("published_at", "Choose when the scheduled story should go live.")
        elif at is not None and at <= now:
            form.add_error(
                "published_at",
                f"{shown(at)} has already passed: scheduled for then, the story would go live "
                "at once. Choose a later time, or use “Publish now”.",
            )
    leaving = take_down and take_down <= now and "unpublish_at" in changed | {"status"}
    if leaving and data.get("status") != Article.Status.DRAFT:
        form.add_error(
            "unpublish_at",
            f"{shown(take_down)} has already passed: the story would leave the site at "
            "once. Choose a later time, leave it empty, or use “Unpublish”.",
        )


def status_message(request, article):
    """(level, safe HTML) telling the editor what readers get of `article` now."""
    url = request.build_absolute_uri(article.get_absolute_url())
    preview = reverse("articles:preview", kwargs={"pk": article.pk})
    leaves = (
        format_html(" It leaves the site on {}.", shown(article.unpublish_at))
        if article.unpublish_at and not article.is_taken_down
        else ""
    )
    if article.is_published:
        return messages.SUCCESS, format_html(
            '“{}” is live at <a href="{}">{}</a>.{}', article.title, url, url, leaves
        )
    if article.is_taken_down:
        return messages.WARNING, format_html(
            "“{}” is unpublished: its take-down time ({}) has passed and readers cannot see it.",
            article.title,
            shown(article.unpublish_at),
        )
    if article.status == Article.Status.SCHEDULED:
        return messages.SUCCESS, format_html(
            "“{}” is scheduled: it goes live on {} at {}.{}",
            article.title,
            shown(article.published_at),
            url,
            leaves,
        )
    return messages.INFO, format_html(
        '“{}” is a draft: readers cannot see it. <a href="{}">Preview it</a>.',
        article.title,
        preview,
    )


def schedule(stories, at):
    """Schedule `stories` (Articles) to go live at `at` (an aware datetime, which the caller
    has checked is in the future). A story readers can see now is left as it is (scheduling it
    would take it off the site until then), and so is one whose take-down time would come
    first. Returns (scheduled, left): lists of Articles; the scheduled ones are saved
    (status, publish time, updated_at) but not versioned (the admin's action does that)."""
    now = timezone.now()
    scheduled, left = [], []
    for article in stories:
        if article.is_published or (article.unpublish_at and article.unpublish_at <= at):
            left.append(article)
            continue
        article.status, article.published_at, article.updated_at = (
            Article.Status.SCHEDULED,
            at,
            now,
        )
        scheduled.append(article)
    Article.objects.bulk_update(scheduled, ["status", "published_at", "updated_at"])
    return scheduled, left
