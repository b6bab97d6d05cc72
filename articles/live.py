"""Live coverage: the rules for starting and ending it, posting entries, and telling readers.

An editor starts a story's live coverage on the live desk (articles/live_admin.py), posts entries
(`LiveEntry`) and ends it; the story then stays as a normal story that says when coverage ended.
Every saved or deleted entry, once committed, purges the story's live tag (``live-<story pk>``,
declared by `LiveEntry.objects.for_story`) and is published to readers holding the story's
stream (newsroom/grip.py). A new entry goes on the reliable channel ``live-<pk>`` as
``event: entry`` with its HTML; its id is the SSE id (a reconnect with ``Last-Event-ID``
replays the ones after it) and Pushpin's id, with the story's entry before it as prev-id: a
stream that did not get that one (an entry published while Pushpin was subscribing it) fetches
what it missed from the stream's next link instead. Edits (``event: entry`` without an id),
deletions (``event: remove``) and the coverage's start and end (``event: status``) go on
``live-<pk>-changes``, which is not sequenced.

Live results: after any change to an event commits and its tags are purged (a result row saved
or imported, the event switched to official), ``event: results`` is published on
``results-<event pk>``; event pages and stories covering it fetch themselves again
(static/js/live_results.js). That channel is reliable too: each change takes the event's next
number (`results_sequence`, a counter in the shared cache) as its Pushpin id, the number before
it as prev-id; a stream subscribed with another number (a change published while Pushpin was
subscribing it) asks its next link, which reports the events whose number moved.
"""

import re
import time
from functools import partial

from django.core.cache import cache
from django.db import transaction
from django.db.models import Max
from django.db.models.signals import post_delete, post_save
from django.template.loader import render_to_string
from django.utils import timezone

from newsroom import grip
from newsroom.caching import announce, content_changed
from newsroom.template_library import machine_time

from . import images
from .models import LiveEntry
from .models.live import live_tag


def changes_channel(article_pk):
    """The channel of a story's edits, deletions and start/end: ``changes_channel(12)`` ->
    "live-12-changes" (new entries go on ``live_tag(pk)``, "live-12")."""
    return f"{live_tag(article_pk)}-changes"


REPLAY_LIMIT = 50  # entries replayed to a reconnecting reader at most (the page has the rest)


def start_coverage(article):
    """Mark `article` live now (again, if coverage had ended). Saves it: its page and listings
    are purged by the story's own receivers (articles/caching.py)."""
    article.live_started_at = article.live_started_at or timezone.now()
    article.live_ended_at = None
    article.save(update_fields=["live_started_at", "live_ended_at", "updated_at"])
    grip.publish_on_commit(
        changes_channel(article.pk), grip.sse_event({"live": True}, event="status")
    )


def end_coverage(article):
    """End `article`'s live coverage now; it stays published as a normal story."""
    if article.live_started_at is None:
        return
    article.live_ended_at = timezone.now()
    article.save(update_fields=["live_ended_at", "updated_at"])
    # Open pages show the ended status as a reload would (templates/articles/live/status.html).
    status = render_to_string("articles/live/status.html", {"article": article}).strip()
    grip.publish_on_commit(
        changes_channel(article.pk), grip.sse_event({"live": False, "html": status}, event="status")
    )


def render_entry(entry):
    """The HTML of one entry as readers see it (templates/articles/live/entry.html)."""
    return render_to_string("articles/live/entry.html", {"entry": entry})


def entry_event(entry, *, new=True):
    """The server-sent event for a new (or replayed) or edited entry: ``event: entry``, JSON
    data with its id, whether it is a key event, and its HTML. A new entry's id is the event
    id; an edit carries none (a reader's Last-Event-ID stays at the newest entry it has)."""
    data = {"id": entry.pk, "key": entry.key_event, "html": render_entry(entry)}
    return grip.sse_event(data, event="entry", event_id=entry.pk if new else None)


def newest_entry_id(article):
    """The pk of `article`'s newest entry (0 when it has none): the id a reader has when it
    has every entry."""
    return LiveEntry.objects.filter(article=article).aggregate(newest=Max("pk"))["newest"] or 0


def entries_after(article, last_id, up_to=None):
    """Entries of `article` posted after the entry numbered `last_id` (and up to the one
    numbered `up_to`, when given), oldest first (at most REPLAY_LIMIT, the newest ones)."""
    newer = LiveEntry.objects.for_story(article).filter(pk__gt=last_id)
    if up_to is not None:
        newer = newer.filter(pk__lte=up_to)
    return list(reversed(newer[:REPLAY_LIMIT]))


def _entry_saved(sender, instance, created, using, raw=False, **kwargs):
    if raw:
        return
    story = instance.article_id
    announce(live_tag(story), using=using)
    if not created:
        grip.publish_on_commit(
            changes_channel(story), entry_event(instance, new=False), using=using
        )
        return
    before = LiveEntry.objects.using(using).filter(article_id=story, pk__lt=instance.pk)
    prev_id = before.aggregate(prev=Max("pk"))["prev"] or 0
    grip.publish_on_commit(
        live_tag(story), entry_event(instance), using=using, event_id=instance.pk, prev_id=prev_id
    )


def _entry_deleted(sender, instance, using, **kwargs):
    announce(live_tag(instance.article_id), using=using)
    files = images.hero_files(instance, **LiveEntry.PICTURE_FILES)
    if files:  # the picture goes once the deletion commits
        transaction.on_commit(partial(images.delete_files, files), using=using)
    grip.publish_on_commit(
        changes_channel(instance.article_id),
        grip.sse_event({"id": instance.pk}, event="remove"),
        using=using,
    )


def json_ld_fields(article, url):
    """What makes a live story's JSON-LD a schema.org LiveBlogPosting: its type, coverage
    times and its entries as `liveBlogUpdate` BlogPostings ({} for a story never live)."""
    if article.live_started_at is None:
        return {}
    entries = list(LiveEntry.objects.for_story(article)[:REPLAY_LIMIT])
    data = {
        "@type": "LiveBlogPosting",
        "coverageStartTime": machine_time(article.live_started_at),
        "liveBlogUpdate": [
            {
                "@type": "BlogPosting",
                "@id": f"{url}#entry-{entry.pk}",
                "url": f"{url}#entry-{entry.pk}",
                "headline": entry.headline,
                "articleBody": entry.body,
                "datePublished": machine_time(entry.created_at),
                "dateModified": machine_time(entry.updated_at),
                **({"image": entry.picture_data["src"]} if entry.picture_data else {}),
            }
            for entry in entries
        ],
    }
    if article.live_ended_at:
        data["coverageEndTime"] = machine_time(article.live_ended_at)
    changed = [article.last_modified, article.live_ended_at, *(e.updated_at for e in entries)]
    data["dateModified"] = machine_time(max(filter(None, changed)))
    return data


def results_channel(event_pk):
    """The channel of one event's live results: ``results_channel(7)`` -> "results-7"."""
    return f"results-{event_pk}"


EVENT_TAG = re.compile(r"^event-(\d+)$")


RESULTS_CHANGED_KEY = "results-changed:{}"
RESULTS_CHANGED_SECONDS = 24 * 3600
RESULTS_SEQUENCE_KEY = "results-seq:{}"


def results_sequence(event_pks):
    """{event pk: the number of its latest results change} (0 for one not changed lately, or
    when the cache cannot say): what a results stream holds as each channel's prev-id."""
    keys = {RESULTS_SEQUENCE_KEY.format(pk): pk for pk in event_pks}
    found = cache.get_many(list(keys))
    return {pk: int(found.get(key) or 0) for key, pk in keys.items()}


def _next_results_number(event_pk):
    """The next number of an event's results changes (1, 2, ...), or None when the cache
    cannot count (the change is then published unsequenced: streams get it if subscribed)."""
    key = RESULTS_SEQUENCE_KEY.format(event_pk)
    try:
        cache.add(key, 0, RESULTS_CHANGED_SECONDS)
        return cache.incr(key)
    except ValueError:
        return None


def results_event(event_pk):
    """The server-sent event telling a page that an event's results changed."""
    return grip.sse_event({"event": event_pk}, event="results")


def results_changed_since(event_pks, since):
    """Which of `event_pks` changed at or after `since` (a time.time() value), by the moments
    `_content_changed` recorded in the cache: what a page built at `since` has not shown."""
    keys = {RESULTS_CHANGED_KEY.format(pk): pk for pk in event_pks}
    found = cache.get_many(list(keys))
    return sorted(keys[key] for key, moment in found.items() if moment >= since)


def _content_changed(sender, tags, **kwargs):
    """After a change to an event (a result entered or imported, the results made official)
    has committed and its tags were purged: note when (for pages whose stream connects later,
    see `results_changed_since`) and tell the pages following its results. They fetch
    themselves again, already rebuilt from the new rows."""
    for tag in tags:
        found = EVENT_TAG.match(tag)
        if found:
            pk = int(found.group(1))
            cache.set(RESULTS_CHANGED_KEY.format(pk), time.time(), RESULTS_CHANGED_SECONDS)
            number = _next_results_number(pk)
            ids = {"event_id": number, "prev_id": number - 1} if number else {}
            grip.publish(results_channel(pk), results_event(pk), **ids)


def connect():
    content_changed.connect(_content_changed, dispatch_uid="live.results.changed")
    post_save.connect(_entry_saved, sender=LiveEntry, dispatch_uid="live.entry.saved")
    post_delete.connect(_entry_deleted, sender=LiveEntry, dispatch_uid="live.entry.deleted")
