"""Readers' live requests: the stream a GRIP proxy holds, and the fragment polled without it.

Both are short requests for Django; see newsroom/grip.py for how Pushpin keeps the stream open.
"""

import time
from urllib.parse import urlencode

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import reverse

from newsroom import grip

from . import live
from .models import Article, Event
from .models.live import live_tag
from .templatetags.live import live_context

MAX_STREAMED_EVENTS = 20  # events one results stream follows (Pushpin's default channel limit)
POLL_SECONDS = 5  # how long browsers and the front cache may keep the polled fragment


def _live_story(slug):
    return get_object_or_404(
        Article.objects.published().filter(live_started_at__isnull=False), slug=slug
    )


def _last_event_id(request):
    """The newest entry the reader has: the stream's Last-Event-ID on a reconnect, else the
    page's ?after=N (the newest entry it showed); 0 when neither is a whole number."""
    value = request.headers.get("Last-Event-ID") or request.GET.get("after") or "0"
    return int(value) if value.isascii() and value.isdigit() and len(value) < 12 else 0


def live_stream(request, slug):
    """Server-sent events for one live story, held open by Pushpin: first the entries after
    the reader's last one (oldest first), then whatever is published on ``live-<pk>`` (new
    entries, a reliable channel whose prev-id is the newest entry the reader now has) and
    ``live-<pk>-changes`` (edits, deletions, the end). Pushpin asks the next link, this view
    again with ``?after=`` that id, when an entry published does not follow on from it.
    Without a GRIP proxy in front nothing can be held: 204, and the page polls instead."""
    article = _live_story(slug)
    if not grip.through_proxy(request):
        response = HttpResponse(status=204)
    else:
        # The newest first, then the entries up to it: one committed in between is published
        # after this answer names its prev-id, so Pushpin delivers or fetches it.
        newest = live.newest_entry_id(article)
        after = _last_event_id(request)
        missed = live.entries_after(article, after, up_to=newest) if newest > after else []
        response = HttpResponse(
            "".join(map(live.entry_event, missed)), content_type="text/event-stream"
        )
        next_link = reverse("articles:live-stream", args=[article.slug]) + f"?after={newest}"
        channels = [(live_tag(article.pk), newest), live.changes_channel(article.pk)]
        grip.hold_stream(response, channels, next_link=next_link)
    response["Cache-Control"] = "no-store"
    return response


def live_entries(request, slug):
    """The entries as an HTML fragment, for pages whose stream cannot connect (static/js/live.js
    asks every 4 s, past the browser's own copy): public, kept by browsers and the front cache
    for POLL_SECONDS, and purged with the story's live tag."""
    article = _live_story(slug)
    html = render_to_string("articles/live/entries.html", live_context(article), request=request)
    response = HttpResponse(html)
    response["Cache-Control"] = f"public, max-age={POLL_SECONDS}, s-maxage={POLL_SECONDS}"
    return response


# A page may be older than its load: a browser serves its copy up to stale-while-revalidate
# seconds after it expired (newsroom/caching/middleware.py), and loading takes a moment.
PAGE_AGE_MARGIN_SECONDS = 35


def _since(request):
    """When the page asking was built, at the latest (a time.time() value), from ``?age=``
    (seconds since it loaded, by the browser's own timer: no clock needs to agree); 0 (since
    ever) when absent or not a whole number."""
    value = request.GET.get("age", "")
    if not (value.isascii() and value.isdigit() and len(value) < 9):
        return 0
    return time.time() - int(value) - PAGE_AGE_MARGIN_SECONDS


def _seen(request, events):
    """{event pk: the change number the reader has} from a next link's ``?seen=N,N`` (one per
    event, in `events` order), or None when the request is not a next link."""
    parts = request.GET.get("seen")
    if parts is None:
        return None
    numbers = [
        int(p) if p.isascii() and p.isdigit() and len(p) < 12 else -1 for p in parts.split(",")
    ]
    return {pk: numbers[i] if i < len(numbers) else -1 for i, pk in enumerate(events)}


def results_stream(request):
    """Server-sent events for the results of ``?events=PK,PK`` (up to MAX_STREAMED_EVENTS),
    held by Pushpin on ``results-<pk>``: an ``event: results`` after each committed change to
    one of them (articles/live.py), on which the page fetches itself again. First, one for each
    event changed since the page was built (see `_since`): what changed before the stream
    connected is not missed. Each channel is held in Pushpin's reliable mode, its prev-id the
    event's latest change number: a change published while Pushpin was subscribing does not
    follow on from it, and Pushpin asks the next link (this view with ``&seen=`` those
    numbers), which reports each event whose number moved since. Without a GRIP proxy, 204
    (the page polls)."""
    wanted = {
        int(part)
        for part in request.GET.get("events", "").split(",")[:MAX_STREAMED_EVENTS]
        if part.isascii() and part.isdigit() and len(part) < 12
    }
    events = sorted(Event.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    if not events:
        response = HttpResponse(status=404)
    elif not grip.through_proxy(request):
        response = HttpResponse(status=204)
    else:
        # The numbers first, then what changed: a change after this reading is published
        # with a prev-id that does not follow on, so Pushpin delivers it or asks again.
        numbers = live.results_sequence(events)
        seen = _seen(request, events)
        if seen is None:
            missed = live.results_changed_since(events, _since(request))
        else:
            missed = [pk for pk in events if seen[pk] != numbers[pk]]
        response = HttpResponse(
            "".join(map(live.results_event, missed)), content_type="text/event-stream"
        )
        next_link = (
            reverse("articles:live-results-stream")
            + "?"
            + urlencode(
                {
                    "events": ",".join(map(str, events)),
                    "seen": ",".join(str(numbers[pk]) for pk in events),
                }
            )
        )
        grip.hold_stream(
            response,
            [(live.results_channel(pk), numbers[pk]) for pk in events],
            next_link=next_link,
        )
    response["Cache-Control"] = "no-store"
    return response
